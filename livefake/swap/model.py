"""The model-backed swap stage: every tracked face aligned, swapped in one batch, handed to merge.

    stage = ModelSwapStage(SwapConfig(model="lite128.onnx", provider="auto"))

For each frame, the faces with landmarks (less those lying inside a bigger one) are cut out
at the model's face type and resolution, run through the model as one batch, and appended
to ``frame.swapped`` as BGR uint8 crops with float masks, the frame->crop matrix and its
inverse, and the live crop that was cut (merge compares against it instead of cutting it
again). Frames without faces pass through untouched.
"""

from __future__ import annotations

import cv2
import numpy as np

from livefake.config import SwapConfig
from livefake.errors import InputError
from livefake.face.align import alignment_matrix, invert_matrix
from livefake.pipeline.frame import Frame, SwappedFace
from livefake.pipeline.stage import Stage
from livefake.runtime.adapters import load_swap_model
from livefake.runtime.session import SessionOptions
from livefake.runtime.swap_model import NoAnswer, SwapModel
from livefake.swap.photo import faces_to_swap


class ModelSwapStage(Stage):
    """Live stage running a swap model (livefake ONNX, TensorRT-cached ONNX or DFM) on all faces."""

    name = "swap"

    def __init__(self, config: SwapConfig, model: SwapModel | None = None, max_faces: int = 4) -> None:
        if model is None and config.model is None:
            raise InputError("the model swap stage needs a model file: pass --model FILE")
        self.config = config
        self.max_faces = max_faces
        self._model = model
        self._crops: np.ndarray | None = None

    @property
    def model(self) -> SwapModel:
        if self._model is None:
            raise RuntimeError("ModelSwapStage used before open")
        return self._model

    def open(self) -> None:
        if self._model is None:
            assert self.config.model is not None
            options = SessionOptions(provider=self.config.provider, threads=self.config.threads)
            self._model = load_swap_model(self.config.model, options, dfm_face_type=self.config.dfm_face_type)
        size = self._model.resolution
        self._crops = np.empty((self.max_faces, size, size, 3), np.uint8)
        self._model.warm_up(batch=1)

    def process(self, frame: Frame) -> Frame | None:
        return self.swap_chosen(frame, faces_to_swap(frame.faces))

    def swap_chosen(self, frame: Frame, chosen: list[tuple[int, np.ndarray]]) -> Frame:
        """Swap the ``chosen`` (face index, landmarks) only, adding to ``frame.swapped`` (livefake.swap.select)."""
        chosen = chosen[: self.max_faces]
        if not chosen:
            return frame
        model = self.model
        assert self._crops is not None
        size = model.resolution
        matrices = [alignment_matrix(landmarks, model.face_type, size) for _, landmarks in chosen]  # type: ignore[arg-type]
        crops = self._crops[: len(chosen)]
        for crop, matrix in zip(crops, matrices, strict=True):
            cv2.warpAffine(
                frame.image, matrix, (size, size), dst=crop, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
            )
        try:
            faces, masks = model.swap_crops(crops)
        except NoAnswer:  # a served model that did not answer in time: counted by the model
            return frame
        for (face_index, _), face, mask, matrix, crop in zip(chosen, faces, masks, matrices, crops, strict=True):
            frame.swapped.append(
                SwappedFace(face_index, face, mask, matrix, crop=crop.copy(), crop_to_frame=invert_matrix(matrix))
            )
        return frame

    def close(self) -> None:
        self._crops = None
