"""Data that flows through the live path."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from livefake.types import Image, Mask


@dataclass
class Face:
    """One face found in a frame. Coordinates are frame pixels (x, y)."""

    box: np.ndarray  # (4,) float32: x0, y0, x1, y1
    score: float
    landmarks: np.ndarray | None = None  # (468, 2) float32, None when only detected
    keypoints: np.ndarray | None = None  # (6, 2) float32 detector keypoints
    iris: np.ndarray | None = None  # (10, 2) float32: 5 points per eye, left first
    track_id: int = -1
    pose: tuple[float, float, float] | None = None  # yaw, pitch, roll in degrees


@dataclass
class SwappedFace:
    """A swap result for one face, ready for the merge stage.

    ``image`` and ``mask`` live in crop space; ``matrix`` is the 2x3 affine that maps
    frame coordinates to crop coordinates (paste-back uses its inverse).
    """

    face_index: int
    image: Image
    mask: Mask | None
    matrix: np.ndarray  # (2, 3) float32/float64


@dataclass
class StageStamp:
    """When a stage took a frame from its ring, started, and finished it (monotonic ns)."""

    t_queued_ns: int
    t_start_ns: int
    t_end_ns: int

    @property
    def wait_ms(self) -> float:
        return (self.t_start_ns - self.t_queued_ns) / 1e6

    @property
    def process_ms(self) -> float:
        return (self.t_end_ns - self.t_start_ns) / 1e6


@dataclass
class Frame:
    """A captured image and everything the stages learned about it."""

    index: int
    t_capture_ns: int
    image: Image
    faces: list[Face] = field(default_factory=list)
    swapped: list[SwappedFace] = field(default_factory=list)
    stamps: dict[str, StageStamp] = field(default_factory=dict)
    pts: float | None = None  # presentation time in seconds from the source, when known

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])
