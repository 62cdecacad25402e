"""The palm detector and the 21-point hand landmark model on ONNX Runtime.

Both are mediapipe's "lite" models, converted by `livefake setup`. The palm detector looks at
a square region (192x192 RGB in [0, 1]) and scores 2016 SSD anchors; boxes above the score
threshold are merged by weighted non-max suppression, as for faces. A palm gives a hand
region: a rotated square turned so the wrist is at the bottom, widened 2.6x and moved towards
the fingers, as mediapipe does. The landmark model fits 21 points in that region (224x224 RGB
in [0, 1]); the next frame's region comes from those points.

Landmark order (mediapipe's): 0 wrist; 1-4 thumb; 5-8 index; 9-12 middle; 13-16 ring;
17-20 little finger, each from the knuckle to the tip.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from livefake.face.detect import anchor_centres, weighted_suppression
from livefake.face.landmarks import FaceRegion, to_frame, warp_region
from livefake.runtime.session import create_session

PALM_INPUT = 192
HAND_INPUT = 224
PALM_ANCHOR_LAYERS = ((8, 2), (16, 6))  # (stride, anchors per cell) of the palm model
PALM_SCORE_CLIP = 80.0
PALM_REGION_SCALE = 2.6  # hand region side / palm box side
PALM_REGION_SHIFT = 0.5  # the region's centre moves this share of the palm box towards the fingers
HAND_REGION_SCALE = 2.0  # hand region side / side of the box around the palm and finger roots
HAND_REGION_SHIFT = 0.1
HAND_ROOT_POINTS = (0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18)  # what mediapipe frames the next region on
WRIST, INDEX_ROOT, MIDDLE_ROOT, RING_ROOT = 0, 5, 9, 13
PALM_WRIST, PALM_MIDDLE_ROOT = 0, 2  # palm detector keypoints


@dataclass(frozen=True)
class Palm:
    """A detected palm in frame pixels: box (x0, y0, x1, y1), score, 7 keypoints (wrist first)."""

    box: np.ndarray
    score: float
    keypoints: np.ndarray


@dataclass(frozen=True)
class HandFit:
    """What the landmark model found in a hand region, in frame pixels."""

    landmarks: np.ndarray  # (21, 2) float32
    score: float  # hand presence, 0..1
    region: FaceRegion


def palm_anchors() -> np.ndarray:
    """(2016, 2) anchor centres in [0, 1], in the model's output order."""
    return anchor_centres(PALM_INPUT, PALM_ANCHOR_LAYERS)


def upright_angle(wrist: np.ndarray, knuckle: np.ndarray) -> float:
    """The region angle that puts ``knuckle`` straight above ``wrist`` in the crop."""
    direction = np.asarray(knuckle, np.float64) - np.asarray(wrist, np.float64)
    return float(np.arctan2(direction[0], -direction[1]))


def shifted_square(centre: np.ndarray, side: float, angle: float, scale: float, shift: float) -> FaceRegion:
    """A square of ``side * scale`` moved ``shift * side`` towards the crop's top (the fingers)."""
    up = np.array([np.sin(angle), -np.cos(angle)])
    return FaceRegion(np.asarray(centre, np.float64) + shift * side * up, side * scale, angle)


def region_from_palm(palm: Palm) -> FaceRegion:
    angle = upright_angle(palm.keypoints[PALM_WRIST], palm.keypoints[PALM_MIDDLE_ROOT])
    centre = (palm.box[:2] + palm.box[2:]) / 2
    side = float(max(palm.box[2] - palm.box[0], palm.box[3] - palm.box[1]))
    return shifted_square(centre, side, angle, PALM_REGION_SCALE, PALM_REGION_SHIFT)


def region_from_landmarks(landmarks: np.ndarray) -> FaceRegion:
    """The region for the next frame: around the palm and finger roots, turned upright."""
    knuckle = ((landmarks[INDEX_ROOT] + landmarks[RING_ROOT]) / 2 + landmarks[MIDDLE_ROOT]) / 2
    angle = upright_angle(landmarks[WRIST], knuckle)
    c, s = np.cos(angle), np.sin(angle)
    points = landmarks[list(HAND_ROOT_POINTS)].astype(np.float64)
    upright = points @ np.array([[c, -s], [s, c]])
    low, high = upright.min(axis=0), upright.max(axis=0)
    centre = ((low + high) / 2) @ np.array([[c, s], [-s, c]])
    return shifted_square(centre, float((high - low).max()), angle, HAND_REGION_SCALE, HAND_REGION_SHIFT)


def rgb_unit_batch(crops: list[np.ndarray]) -> np.ndarray:
    """BGR uint8 crops as one float RGB batch in [0, 1]."""
    batch = np.stack(crops)[..., ::-1].astype(np.float32)
    batch *= np.float32(1 / 255)
    return batch


class PalmDetector:
    """Finds palms in square regions of a frame (any size; each is scaled to 192x192)."""

    def __init__(self, path: Path, min_score: float = 0.5, threads: int = 1, max_palms: int = 4) -> None:
        self.session = create_session(path, threads)
        self.input_name = self.session.get_inputs()[0].name
        self.anchors = palm_anchors()
        self.min_score = min_score
        self.max_palms = max_palms

    def detect(self, image_bgr: np.ndarray, region: FaceRegion) -> list[Palm]:
        """Palms inside ``region`` (a square in frame pixels), best score first."""
        crop, matrix = warp_region(image_bgr, region, PALM_INPUT)
        regressors, logits = self.session.run(None, {self.input_name: rgb_unit_batch([crop])})
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits[0, :, 0], -PALM_SCORE_CLIP, PALM_SCORE_CLIP)))
        keep = scores >= self.min_score
        if not keep.any():
            return []
        raw, anchors = regressors[0][keep], self.anchors[keep] * PALM_INPUT
        centre, half = raw[:, 0:2] + anchors, raw[:, 2:4] / 2
        boxes = np.concatenate([centre - half, centre + half], axis=1)
        keypoints = raw[:, 4:18].reshape(-1, 7, 2) + anchors[:, None, :]
        merged = weighted_suppression(boxes, keypoints, scores[keep], self.max_palms)
        return [self.to_frame_palm(box, points, score, matrix) for box, points, score in merged]

    @staticmethod
    def to_frame_palm(box: np.ndarray, points: np.ndarray, score: float, matrix: np.ndarray) -> Palm:
        """A palm in crop pixels mapped to the frame (the crop is an upright, uniformly scaled square)."""
        corners = to_frame(box.reshape(2, 2) - 0.5, matrix)
        centre, scale = corners.mean(axis=0), 1.0 / float(np.hypot(*matrix[0, :2]))
        half = (box[2:] - box[:2]) * scale / 2
        frame_box = np.concatenate([centre - half, centre + half]).astype(np.float32)
        return Palm(frame_box, score, to_frame(points - 0.5, matrix).astype(np.float32))


class HandLandmarkModel:
    """Fits 21 hand landmarks in hand regions (rotated squares from palms or earlier landmarks)."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        self.session = create_session(path, threads)
        self.input_name = self.session.get_inputs()[0].name

    def fit_many(self, image_bgr: np.ndarray, regions: list[FaceRegion]) -> list[HandFit]:
        """Landmarks for several regions in one model call."""
        if not regions:
            return []
        crops = [warp_region(image_bgr, region, HAND_INPUT) for region in regions]
        points, presence, _, _ = self.session.run(None, {self.input_name: rgb_unit_batch([c for c, _ in crops])})
        fits = []
        for raw, score, (_, matrix), region in zip(points, presence[:, 0], crops, regions, strict=True):
            landmarks = to_frame(raw.reshape(21, 3)[:, :2] - 0.5, matrix).astype(np.float32)
            fits.append(HandFit(landmarks, float(score), region))
        return fits
