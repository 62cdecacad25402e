"""One-Euro filtering of landmark sets (Casiez, Roussel and Vogel, CHI 2012).

A low-pass filter whose cutoff rises with speed: at rest it removes jitter, in motion it
follows without lag. Speed is measured for the face as a whole and in inter-ocular distances
(IOD) per second, so one setting works for any face size: the per-point velocities are fitted
with an affine motion field, which averages the noise of 468 points away while keeping
translation, rotation and scaling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from livefake.types import Landmarks

DERIVATIVE_CUTOFF = 2.0  # Hz, the cutoff used for the speed estimate
INITIAL_SPEED = 1.0  # IOD/s assumed for a new track: it follows at once, then settles if the face is still


def smoothing_factor(cutoff: float, elapsed: float) -> float:
    """The exponential smoothing weight of a first-order low-pass at ``cutoff`` Hz."""
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / max(elapsed, 1e-6))


def affine_speed(points: Landmarks, velocity: np.ndarray) -> float:
    """RMS magnitude of the affine motion field that best explains ``velocity`` at ``points``."""
    centred = points - points.mean(axis=0)
    design = np.concatenate([centred, np.ones((len(points), 1))], axis=1)
    coefficients, *_ = np.linalg.lstsq(design, velocity, rcond=None)
    fitted = design @ coefficients
    return float(np.sqrt((fitted**2).sum(axis=1).mean()))


@dataclass
class OneEuroFilter:
    """Filters one landmark set over time. ``min_cutoff`` in Hz, ``beta`` in Hz per (IOD/s)."""

    min_cutoff: float = 1.0
    beta: float = 0.05
    value: np.ndarray | None = field(default=None, repr=False)
    speed: float = INITIAL_SPEED
    time: float | None = None

    def reset(self) -> None:
        self.value, self.speed, self.time = None, INITIAL_SPEED, None

    def __call__(self, points: np.ndarray, time: float, scale: float) -> np.ndarray:
        """The filtered ``points`` (N, 2) at ``time`` seconds; ``scale`` is the face's IOD in pixels."""
        points = points.astype(np.float64)
        if self.value is None or self.time is None or time <= self.time:
            self.value, self.time, self.speed = points, time, INITIAL_SPEED
            return points.astype(np.float32)
        elapsed = time - self.time
        velocity = (points - self.value) / elapsed
        raw_speed = affine_speed(self.value, velocity) / max(scale, 1e-6)
        self.speed += smoothing_factor(DERIVATIVE_CUTOFF, elapsed) * (raw_speed - self.speed)
        cutoff = self.min_cutoff + self.beta * self.speed
        self.value = self.value + smoothing_factor(cutoff, elapsed) * (points - self.value)
        self.time = time
        return self.value.astype(np.float32)
