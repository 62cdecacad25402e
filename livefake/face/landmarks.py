"""The 468-point face landmark model and the iris model on ONNX Runtime.

A face region is a rotated square: centre, side and the angle of the eye line. It comes from
a detection (box centre, eye keypoints) or from the previous frame's landmarks. The region
is warped to the model's 192x192 RGB input in [0, 1] and the points are mapped back.

Frame coordinates follow OpenCV: a pixel's centre is at integer (x, y).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from livefake.face.detect import Detection, as_bgr
from livefake.runtime.session import create_session
from livefake.types import Image, Landmarks, Matrix

LANDMARK_INPUT = 192
IRIS_INPUT = 64
REGION_SCALE = 1.5  # side of the region / size of the face box (mediapipe's margin)
EYE_REGION_SCALE = 2.3
EYE_LINE = (33, 263)  # outer eye corners: subject's right, subject's left
EYE_CORNERS = ((33, 133), (362, 263))  # per eye, left to right in an upright unmirrored face
PRESENCE_LOGIT_CLIP = 80.0


@dataclass(frozen=True)
class FaceRegion:
    """A rotated square in frame pixels: ``angle`` (radians) turns the crop's x axis onto the eye line."""

    centre: np.ndarray  # (2,) float
    size: float
    angle: float

    @classmethod
    def from_detection(cls, detection: Detection) -> FaceRegion:
        box = detection.box
        centre = (box[:2] + box[2:]) / 2
        size = float(max(box[2] - box[0], box[3] - box[1])) * REGION_SCALE
        return cls(centre.astype(np.float64), size, eye_line_angle(detection.keypoints[0], detection.keypoints[1]))

    @classmethod
    def from_landmarks(cls, landmarks: Landmarks) -> FaceRegion:
        """The region that holds ``landmarks`` (468, 2), squared and widened as mediapipe does."""
        angle = eye_line_angle(landmarks[EYE_LINE[0]], landmarks[EYE_LINE[1]])
        c, s = np.cos(angle), np.sin(angle)
        upright = landmarks.astype(np.float64) @ np.array([[c, -s], [s, c]])  # rotate by -angle
        low, high = upright.min(axis=0), upright.max(axis=0)
        centre_upright = (low + high) / 2
        centre = centre_upright @ np.array([[c, s], [-s, c]])
        return cls(centre, float((high - low).max()) * REGION_SCALE, angle)


@dataclass(frozen=True)
class FaceFit:
    """What the landmark model found in a region, in frame pixels."""

    landmarks: np.ndarray  # (468, 2) float32
    score: float  # face presence, 0..1
    iris: np.ndarray | None  # (10, 2) float32: eye around points 33/133 first, then 362/263
    depth: np.ndarray  # (468,) float32, relative depth in frame pixel units
    region: FaceRegion


def eye_line_angle(start: np.ndarray, end: np.ndarray) -> float:
    return float(np.arctan2(end[1] - start[1], end[0] - start[0]))


def crop_matrix(region: FaceRegion, out_size: int, flip: bool = False) -> Matrix:
    """The 2x3 affine mapping frame pixels to crop pixels (optionally mirrored left-right)."""
    k = out_size / region.size
    c, s = np.cos(region.angle) * k, np.sin(region.angle) * k
    half = (out_size - 1) / 2
    x, y = region.centre
    matrix = np.array([[c, s, half - c * x - s * y], [-s, c, half + s * x - c * y]])
    if flip:
        matrix[0] = -matrix[0]
        matrix[0, 2] += out_size - 1
    return matrix


def warp_region(image: Image, region: FaceRegion, out_size: int, flip: bool = False) -> tuple:
    """The region warped to out_size x out_size, and the frame->crop matrix used.

    Regions much larger than the crop are first shrunk with area averaging (only the region's
    bounding box is touched), so big faces in 1080p/4K frames do not alias.
    """
    matrix = crop_matrix(region, out_size, flip)
    factor = int(region.size / out_size)
    source, to_source = image, np.eye(3)
    if factor >= 2:
        bounds = region_bounds(region, image.shape[1], image.shape[0])
        if bounds is not None:
            x0, y0, x1, y1 = bounds
            width, height = max(1, (x1 - x0) // factor), max(1, (y1 - y0) // factor)
            source = cv2.resize(image[y0:y1, x0:x1], (width, height), interpolation=cv2.INTER_AREA)
            sx, sy = (x1 - x0) / width, (y1 - y0) / height
            to_source = np.array([[sx, 0, x0 + 0.5 * sx - 0.5], [0, sy, y0 + 0.5 * sy - 0.5], [0, 0, 1]])
    warp = matrix @ to_source
    crop = cv2.warpAffine(source, warp, (out_size, out_size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return crop, matrix


def region_bounds(region: FaceRegion, width: int, height: int) -> tuple[int, int, int, int] | None:
    """The integer bounding box of the rotated region, clipped to the frame; None if empty."""
    half = region.size / 2 * (abs(np.cos(region.angle)) + abs(np.sin(region.angle)))
    x0, y0 = np.floor(region.centre - half).astype(int)
    x1, y1 = np.ceil(region.centre + half).astype(int) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    return (x0, y0, x1, y1) if x1 - x0 >= 2 and y1 - y0 >= 2 else None


def to_frame(points: Landmarks, matrix: Matrix) -> Landmarks:
    """Map crop pixels (N, 2) back to frame pixels through the inverse of ``matrix``."""
    inverse = cv2.invertAffineTransform(matrix)
    return points @ inverse[:, :2].T + inverse[:, 2]


def rgb_unit_tensor(crop_bgr: Image) -> np.ndarray:
    rgb = cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2RGB)
    return (rgb.astype(np.float32) * np.float32(1 / 255))[None]


class LandmarkModel:
    """Fits 468 landmarks (and, with ``iris_path``, 5 iris points per eye) in a face region."""

    def __init__(self, path: Path, iris_path: Path | None = None, threads: int = 2) -> None:
        self.session = create_session(path, threads)
        self.input_name = self.session.get_inputs()[0].name
        self.iris_session = create_session(iris_path, threads) if iris_path is not None else None

    def fit(self, image_bgr: Image, roi: FaceRegion) -> FaceFit:
        """Landmarks of the face in ``roi`` (a rotated square from a detection or earlier landmarks)."""
        return self.fit_many(image_bgr, [roi])[0]

    def fit_many(self, image_bgr: Image, rois: list[FaceRegion]) -> list[FaceFit]:
        """Landmarks for several regions in one model call."""
        if not rois:
            return []
        image = as_bgr(image_bgr)
        crops = [warp_region(image, roi, LANDMARK_INPUT) for roi in rois]
        batch = np.concatenate([rgb_unit_tensor(crop) for crop, _ in crops])
        raw, logits = self.session.run(None, {self.input_name: batch})
        points = raw.reshape(len(rois), 468, 3)
        clipped = np.clip(logits.reshape(len(rois)), -PRESENCE_LOGIT_CLIP, PRESENCE_LOGIT_CLIP)
        scores = 1.0 / (1.0 + np.exp(-clipped.astype(np.float64)))
        landmarks = [
            to_frame(p[:, :2] - 0.5, matrix).astype(np.float32) for p, (_, matrix) in zip(points, crops, strict=True)
        ]
        irises = self.fit_iris(image, landmarks) if self.iris_session is not None else [None] * len(rois)
        return [
            FaceFit(marks, float(score), iris, (p[:, 2] * (roi.size / LANDMARK_INPUT)).astype(np.float32), roi)
            for marks, score, iris, p, roi in zip(landmarks, scores, irises, points, rois, strict=True)
        ]

    def fit_iris(self, image: Image, faces: list[np.ndarray]) -> list[np.ndarray | None]:
        """Five iris points per eye (centre first), eye around 33/133 then eye around 362/263."""
        assert self.iris_session is not None
        crops = []
        for landmarks in faces:
            for index, (start, end) in enumerate(EYE_CORNERS):
                a, b = landmarks[start].astype(np.float64), landmarks[end].astype(np.float64)
                size = max(float(np.hypot(*(b - a))) * EYE_REGION_SCALE, 2.0)
                region = FaceRegion((a + b) / 2, size, eye_line_angle(a, b))
                crops.append(warp_region(image, region, IRIS_INPUT, flip=index == 1))  # model knows one eye
        name = self.iris_session.get_inputs()[0].name
        batch = np.concatenate([rgb_unit_tensor(crop) for crop, _ in crops])
        _, iris = self.iris_session.run(None, {name: batch})
        points = [to_frame(p.reshape(5, 3)[:, :2] - 0.5, matrix) for p, (_, matrix) in zip(iris, crops, strict=True)]
        return [np.concatenate(points[2 * i : 2 * i + 2]).astype(np.float32) for i in range(len(faces))]
