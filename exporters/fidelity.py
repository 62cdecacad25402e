"""How close an exported model stays to its fp32 reference: PSNR on held-out crops, broken-output checks."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from livefake.config import Provider
from livefake.runtime.contract import INPUT_NAME, OUTPUT_FACE, OUTPUT_MASK
from livefake.runtime.session import ModelSession, SessionOptions


@dataclass(frozen=True)
class Fidelity:
    """A model's outputs against the reference's on the same crops (values in [0, 1])."""

    face_psnr: float  # dB
    mask_psnr: float  # dB
    composite_psnr: float  # dB: face blended over the input crop by the mask, what merge shows
    max_abs: float  # largest absolute difference over face and mask
    finite: bool  # no NaN or inf anywhere
    face_range: float  # max - min of the face output: ~0 means a flat (black/grey) face
    crops: int

    @property
    def psnr(self) -> float:
        """The figure the bars are checked against: the composite, the pixels a viewer sees."""
        return self.composite_psnr

    def summary(self) -> str:
        return (
            f"PSNR composite {self.composite_psnr:.1f} dB "
            f"(face {self.face_psnr:.1f} dB, mask {self.mask_psnr:.1f} dB), "
            f"max abs diff {self.max_abs:.3g} on {self.crops} held-out crops"
        )


def psnr(reference: np.ndarray, test: np.ndarray, peak: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB; inf when identical."""
    error = float(np.mean((reference.astype(np.float64) - test.astype(np.float64)) ** 2))
    return math.inf if error == 0.0 else 10.0 * math.log10(peak * peak / error)


def composite(face: np.ndarray, mask: np.ndarray, crops: np.ndarray) -> np.ndarray:
    """The swapped face blended over the input crop by its mask (NCHW, [0, 1])."""
    return face * mask + crops * (1.0 - mask)


def run_model(path: str | Path, crops: np.ndarray, provider: Provider = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """Face and mask (float32) of a contract model on NCHW float32 crops."""
    session = ModelSession(path, SessionOptions(provider=provider, warm_up_runs=0))
    feed = crops.astype(session.input_dtype(), copy=False)
    face, mask = session.run({INPUT_NAME: feed}, [OUTPUT_FACE, OUTPUT_MASK])
    return face.astype(np.float32), mask.astype(np.float32)


def measure_fidelity(
    reference: str | Path, test: str | Path, crops: np.ndarray, provider: Provider = "cpu"
) -> Fidelity:
    """Run both models on ``crops`` and compare the test model's outputs with the reference's.

    fp16 must be judged on the provider that will run it: ONNX Runtime's CPU provider computes
    most fp16 nodes in fp32 (it inserts casts), so an fp16 overflow shows only on a GPU.
    """
    want_face, want_mask = run_model(reference, crops, provider)
    face, mask = run_model(test, crops, provider)
    finite = bool(np.isfinite(face).all() and np.isfinite(mask).all())
    return Fidelity(
        face_psnr=psnr(want_face, face) if finite else -math.inf,
        mask_psnr=psnr(want_mask, mask) if finite else -math.inf,
        composite_psnr=psnr(composite(want_face, want_mask, crops), composite(face, mask, crops))
        if finite
        else -math.inf,
        max_abs=max(float(np.max(np.abs(want_face - face))), float(np.max(np.abs(want_mask - mask)))),
        finite=finite,
        face_range=float(np.ptp(face)) if finite else 0.0,
        crops=len(crops),
    )
