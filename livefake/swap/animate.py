"""Single-photo animation: the target photo itself, moved by the live face.

The live face's motion relative to a neutral reference (the first frame with a face, or the
next one after ``set_reference()``) is split into a head motion (a similarity: scale, roll,
shift) and an expression (what is left, in the reference's own frame). Both are carried over to
the target's landmarks through the similarity that maps the reference face onto the target
face, so a big live face moves a small photo face in proportion. The photo is then warped
piecewise-affinely: the 468 landmarks, a ring around the face that follows the head part of
the way (hair, ears), and an outer ring that stays put (the background).

The output frame is the target photo fitted into the live frame's size (scaled to fit,
centred, black bars), so sinks opened for the source's size take it unchanged. Frames with
no face show the photo at rest. ``frame.faces`` is replaced by the animated target face.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from livefake.config import SwapConfig, TrackConfig
from livefake.face import mesh
from livefake.face.align import face_box
from livefake.pipeline.frame import Face, Frame
from livefake.pipeline.stage import Stage
from livefake.swap.photo import TargetFace, load_target_face, mouth_openness
from livefake.swap.triangles import TriangleWarper, delaunay_triangles
from livefake.types import Image, Landmarks

RING_POINTS = 24
FOLLOW_RING_SCALE = 1.3  # the following ring's distance from the face centre / the face oval's
ANCHOR_RING_SCALE = 1.9  # the fixed ring's
FOLLOW_WEIGHT = 0.8  # how much of the head motion the following ring takes
MAX_SHIFT = 0.5  # of the target face width
SCALE_RANGE = (0.75, 1.33)
MAX_ROLL_DEG = 35.0
MOUTH_SHADE = 0.25  # open-mouth interior brightness, relative to the lips
MOUTH_SHADE_RAMP = 0.08  # openness above the photo's own over which the shading fades in


@dataclass(frozen=True)
class Similarity:
    """``p -> a * p + t`` on points as complex numbers: ``a`` holds scale and roll."""

    a: complex
    t: complex

    @classmethod
    def fit(cls, source: np.ndarray, destination: np.ndarray) -> Similarity:
        """Least-squares similarity taking ``source`` points (N, 2) onto ``destination``."""
        x = source[:, 0].astype(np.float64) + 1j * source[:, 1]
        y = destination[:, 0].astype(np.float64) + 1j * destination[:, 1]
        xc, yc = x - x.mean(), y - y.mean()
        a = complex(np.sum(np.conj(xc) * yc) / max(float(np.sum(np.abs(xc) ** 2)), 1e-12))
        return cls(a, complex(y.mean() - a * x.mean()))

    def apply(self, points: Landmarks) -> Landmarks:
        z = self.a * (points[:, 0].astype(np.float64) + 1j * points[:, 1]) + self.t
        return np.stack([z.real, z.imag], axis=1)

    def rotate_scale(self, vectors: np.ndarray) -> np.ndarray:
        z = self.a * (vectors[:, 0].astype(np.float64) + 1j * vectors[:, 1])
        return np.stack([z.real, z.imag], axis=1)

    def inverse(self) -> Similarity:
        return Similarity(1 / self.a, -self.t / self.a)


def limit_motion(motion: Similarity, centre: np.ndarray, face_width: float) -> Similarity:
    """``motion`` with its scale, roll and the shift of ``centre`` kept within plausible limits."""
    scale = float(np.clip(abs(motion.a), *SCALE_RANGE))
    roll = float(np.clip(np.angle(motion.a), -np.deg2rad(MAX_ROLL_DEG), np.deg2rad(MAX_ROLL_DEG)))
    a = complex(scale * np.exp(1j * roll))
    c = complex(centre[0], centre[1])
    shift = motion.a * c + motion.t - c  # where the centre went
    limit = MAX_SHIFT * face_width
    if abs(shift) > limit:
        shift *= limit / abs(shift)
    return Similarity(a, c + shift - a * c)


@dataclass(frozen=True)
class DrivenFace:
    """Target landmarks moved by the live face, and the head motion (in target pixels) behind them."""

    landmarks: np.ndarray  # (468, 2) float64, frame pixels
    head: Similarity


def ring(landmarks: Landmarks, scale: float, count: int = RING_POINTS) -> Landmarks:
    """``count`` points of the face oval, pushed out from its centre by ``scale``."""
    oval = landmarks[list(mesh.FACE_OVAL)].astype(np.float64)
    centre = oval.mean(axis=0)
    picks = np.linspace(0, len(oval), count, endpoint=False).astype(int)
    return centre + (oval[picks] - centre) * scale


class PortraitAnimator:
    """The target photo fitted into ``frame_size``, warped to follow driving landmarks."""

    def __init__(self, target: TargetFace, frame_size: tuple[int, int]) -> None:
        width, height = frame_size
        photo_h, photo_w = target.image.shape[:2]
        scale = min(width / photo_w, height / photo_h)
        offset = np.array([(width - photo_w * scale) / 2, (height - photo_h * scale) / 2])
        fit = np.array([[scale, 0, offset[0]], [0, scale, offset[1]]], dtype=np.float64)
        self.canvas = cv2.warpAffine(target.image, fit, (width, height), flags=cv2.INTER_AREA)
        self.rest = (target.landmarks * scale + offset).astype(np.float64)
        self.face_width = float(np.ptp(self.rest[:, 0]))
        self.centre = self.rest[list(mesh.FACE_OVAL)].mean(axis=0)
        self.follow_ring = ring(self.rest, FOLLOW_RING_SCALE)
        limits = np.array([width - 1, height - 1], dtype=np.float64)
        self.anchor_ring = np.clip(ring(self.rest, ANCHOR_RING_SCALE), 0, limits)
        points = np.concatenate([self.rest, self.follow_ring, self.anchor_ring]).astype(np.float32)
        self.warper = TriangleWarper(points, delaunay_triangles(points))
        low, high = np.floor(self.anchor_ring.min(axis=0)), np.ceil(self.anchor_ring.max(axis=0)) + 1
        self.region = (int(low[0]), int(low[1]), int(min(high[0], width)), int(min(high[1], height)))
        self.rest_openness = mouth_openness(self.rest[list(mesh.LIPS_INNER)])

    def drive(self, reference: Landmarks, live: Landmarks) -> DrivenFace:
        """The target face moved as ``live`` moved since ``reference`` (both (468, 2) frame pixels)."""
        rigid = list(mesh.RIGID)
        motion = Similarity.fit(reference[rigid], live[rigid])
        expression = motion.inverse().apply(live) - reference  # in the reference's own frame
        reference_centre = reference[list(mesh.FACE_OVAL)].mean(axis=0)
        limited = limit_motion(motion, reference_centre, float(np.ptp(reference[:, 0])))
        shift = limited.apply(reference_centre[None])[0] - reference_centre
        to_target = Similarity.fit(reference[rigid], self.rest[rigid])
        target_shift = to_target.rotate_scale(shift[None])[0]
        centre = complex(self.centre[0], self.centre[1])
        head = Similarity(limited.a, centre * (1 - limited.a) + complex(target_shift[0], target_shift[1]))
        return DrivenFace(head.apply(self.rest + to_target.rotate_scale(expression)), head)

    def render(self, driven: DrivenFace | None) -> Image:
        """The photo with its face moved to ``driven`` (None: at rest), as a new frame-sized image."""
        output = self.canvas.copy()
        if driven is None:
            return output
        follow = self.follow_ring + FOLLOW_WEIGHT * (driven.head.apply(self.follow_ring) - self.follow_ring)
        points = np.concatenate([driven.landmarks, follow, self.anchor_ring]).astype(np.float32)
        x0, y0, x1, y1 = self.region
        self.warper.warp(self.canvas, points, (x0, y0), output[y0:y1, x0:x1])
        self._shade_mouth(output, driven.landmarks[list(mesh.LIPS_INNER)])
        return output

    def _shade_mouth(self, output: np.ndarray, inner_lips: np.ndarray) -> None:
        """Darken the inside of an opened mouth: the photo has no teeth or tongue to show."""
        strength = (mouth_openness(inner_lips) - self.rest_openness) / MOUTH_SHADE_RAMP
        strength = float(np.clip(strength, 0.0, 1.0))
        if strength <= 0.0:
            return
        x0, y0 = np.floor(inner_lips.min(axis=0)).astype(int)
        x1, y1 = np.ceil(inner_lips.max(axis=0)).astype(int) + 1
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, output.shape[1]), min(y1, output.shape[0])
        if x1 - x0 < 2 or y1 - y0 < 2:
            return
        mask = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
        cv2.fillPoly(mask, [np.round((inner_lips - (x0, y0)) * 16).astype(np.int32)], 255, cv2.LINE_AA, 4)
        alpha = mask.astype(np.float32)[..., None] * np.float32(strength * (1 - MOUTH_SHADE) / 255)
        patch = output[y0:y1, x0:x1]
        patch[:] = (patch * (1 - alpha)).astype(np.uint8)


class AnimateStage(Stage):
    """Live stage: each frame becomes the target photo, animated by the largest live face."""

    name = "swap"

    def __init__(self, config: SwapConfig, track: TrackConfig, target: TargetFace | None = None) -> None:
        self.config = config
        self.track = track
        self._target = target
        self._animator: PortraitAnimator | None = None
        self._reference: np.ndarray | None = None
        self._new_reference = threading.Event()

    def open(self) -> None:
        if self._target is None:
            self._target = load_target_face(self.config.face, self.track.models_dir)

    def set_reference(self) -> None:
        """Take the next frame's face as the neutral pose (safe from any thread)."""
        self._new_reference.set()

    def process(self, frame: Frame) -> Frame | None:
        animator = self._animator_for(frame.width, frame.height)
        live = largest_face_landmarks(frame.faces)
        driven = None
        if live is not None:
            if self._reference is None or self._new_reference.is_set():
                self._new_reference.clear()
                self._reference = live
            driven = animator.drive(self._reference, live)
        frame.image = animator.render(driven)
        frame.faces = [_face_at(driven.landmarks if driven is not None else animator.rest)]
        frame.swapped = []
        return frame

    def _animator_for(self, width: int, height: int) -> PortraitAnimator:
        if self._target is None:
            raise RuntimeError("AnimateStage.process called before open")
        canvas = None if self._animator is None else self._animator.canvas
        if canvas is None or canvas.shape[:2] != (height, width):
            self._animator = PortraitAnimator(self._target, (width, height))
        assert self._animator is not None
        return self._animator


def largest_face_landmarks(faces: list[Face]) -> Landmarks | None:
    """The landmarks (float64) of the face with the largest landmark box, None without any."""
    usable = [face.landmarks for face in faces if face.landmarks is not None]
    if not usable:
        return None
    largest = max(usable, key=lambda points: float(np.ptp(points[:, 0]) * np.ptp(points[:, 1])))
    return largest.astype(np.float64)


def _face_at(landmarks: np.ndarray) -> Face:
    points = landmarks.astype(np.float32)
    return Face(box=face_box(points), score=1.0, landmarks=points)
