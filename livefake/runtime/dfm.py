"""Adapter for DeepFaceLab / DeepFaceLive DFM models (ONNX files with their own layout).

A DFM model takes ``in_face:0``, float32 ``[N, R, R, 3]`` (NHWC, BGR, values in [0, 1]), and
returns ``out_celeb_face:0`` ``[N, R, R, 3]`` and ``out_celeb_face_mask:0`` ``[N, R, R, 1]``
(and usually ``out_face_mask:0``, the mask of the input face, which livefake does not use).
Some DFM models have a second input ``morph_value:0`` (float32 ``[1]``), the amount of the
celebrity face to blend in. DFM files carry no face type, so the caller says which one
(DeepFaceLab's SAEHD "whole face", livefake's ``whole``, is the usual choice).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from livefake.errors import ModelError
from livefake.runtime.contract import ModelContract, TensorSpec, check_face_type
from livefake.runtime.session import ModelSession
from livefake.runtime.swap_model import SwapModel

DFM_INPUT = "in_face:0"
DFM_MORPH = "morph_value:0"
DFM_FACE = "out_celeb_face:0"
DFM_MASK = "out_celeb_face_mask:0"


def is_dfm(inputs: Sequence[TensorSpec]) -> bool:
    """True when a model's first input is DeepFaceLab's ``in_face``."""
    return bool(inputs) and inputs[0].name.split(":")[0] == DFM_INPUT.split(":")[0]


class DfmSwapModel(SwapModel):
    """Runs a DFM model on BGR uint8 crops; its resolution comes from the input shape."""

    def __init__(self, session: ModelSession, face_type: str = "whole", morph: float = 0.75) -> None:
        self.session = session
        self.morph = np.array([morph], np.float32)
        self.contract = _dfm_contract(session, face_type)
        self._fixed_batch = session.inputs[0].shape[0] == 1
        self._has_morph = any(spec.name == DFM_MORPH for spec in session.inputs)

    def swap_crops(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        batch = crops.astype(np.float32) * np.float32(1.0 / 255.0)
        if self._fixed_batch and len(batch) > 1:
            parts = [self._run(batch[index : index + 1]) for index in range(len(batch))]
            face = np.concatenate([part[0] for part in parts])
            mask = np.concatenate([part[1] for part in parts])
        else:
            face, mask = self._run(batch)
        faces = np.clip(face * 255.0 + 0.5, 0.0, 255.0).astype(np.uint8)
        return faces, np.clip(mask[..., 0], 0.0, 1.0).astype(np.float32, copy=False)

    def _run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        feeds = {self.contract.input_name: batch}
        if self._has_morph:
            feeds[DFM_MORPH] = self.morph
        face, mask = self.session.run(feeds, [DFM_FACE, DFM_MASK])
        return face, mask


def _dfm_contract(session: ModelSession, face_type: str) -> ModelContract:
    path = session.path
    spec = session.inputs[0]
    shape = spec.shape
    if len(shape) != 4 or shape[3] != 3 or not isinstance(shape[1], int) or shape[1] != shape[2]:
        raise ModelError(f"{path}: DFM input {spec.name} has shape {list(shape)}, expected [N, R, R, 3] (NHWC)")
    names = {output.name for output in session.outputs}
    missing = [name for name in (DFM_FACE, DFM_MASK) if name not in names]
    if missing:
        raise ModelError(f"{path}: DFM model lacks output {', '.join(missing)} (has {', '.join(sorted(names))})")
    extra = [other.name for other in session.inputs[1:] if other.name != DFM_MORPH]
    if extra:
        raise ModelError(f"{path}: DFM model has unexpected input {', '.join(extra)}")
    check_face_type(path, face_type)
    return ModelContract(
        path=path,
        resolution=int(shape[1]),
        face_type=face_type,
        architecture="dfm",
        identity=session.metadata.get("identity", "celeb"),
        steps=0,
        input_name=spec.name,
        output_face=DFM_FACE,
        output_mask=DFM_MASK,
    )
