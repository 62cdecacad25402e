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
class Hand:
    """One hand found in a frame, in frame pixels.

    ``landmarks`` are mediapipe's 21 points: 0 wrist; 1-4 thumb; 5-8 index; 9-12 middle;
    13-16 ring; 17-20 little finger, each from the knuckle to the tip.
    """

    landmarks: np.ndarray  # (21, 2) float32
    score: float
    track_id: int = -1


@dataclass
class SwappedFace:
    """A swap result for one face, ready for the merge stage.

    ``image`` and ``mask`` live in crop space; ``matrix`` is the 2x3 affine that maps
    frame coordinates to crop coordinates (paste-back uses its inverse). ``crop`` is the live
    frame's pixels the swap stage cut for this face (same size as ``image``) and
    ``crop_to_frame`` the inverse matrix: merge compares against them instead of cutting the
    crop again. Both are None when the swap stage did not keep them.
    """

    face_index: int
    image: Image
    mask: Mask | None
    matrix: np.ndarray  # (2, 3) float32/float64
    crop: Image | None = None
    crop_to_frame: np.ndarray | None = None  # (2, 3) float64


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
    hands: list[Hand] = field(default_factory=list)  # set by the hand stage (occlusion), near faces only
    stamps: dict[str, StageStamp] = field(default_factory=dict)
    pts: float | None = None  # presentation time in seconds from the source, when known
    original: Image | None = None  # the captured image, never modified (read-only): the "before" view
    settings_version: int = 0  # the settings snapshot every stage processed this frame with

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def seconds(self) -> float:
        """The frame's time for filters and cadences: its pts, else the capture clock, in seconds."""
        return self.pts if self.pts is not None else self.t_capture_ns / 1e9

    @property
    def width(self) -> int:
        return int(self.image.shape[1])
