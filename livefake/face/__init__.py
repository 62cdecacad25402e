"""Faces: detection, 468-point landmarks, tracking with smoothing, alignment and masks.

Models come from `livefake setup` (``livefake.face.assets``); everything runs on ONNX Runtime.
Import the submodules you need (``livefake.face.track``, ``livefake.face.detect``, ...).
"""
