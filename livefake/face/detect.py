"""BlazeFace short-range face detection on ONNX Runtime.

The frame is letterboxed to 128x128 (aspect kept, zero border), the model scores 896 SSD
anchors, and the boxes above the score threshold are merged by weighted non-max suppression
(overlapping boxes are averaged, weighted by score), as mediapipe does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from livefake.runtime.session import create_session
from livefake.types import Box, Image

INPUT_SIZE = 128
ANCHOR_LAYERS = ((8, 2), (16, 6))  # (stride, anchors per cell) of the short-range model
SUPPRESSION_IOU = 0.3
SCORE_CLIP = 80.0  # mediapipe clips at 100; exp(100) overflows float32
TILE_ASPECT = 1.2  # frames wider (or taller) than this are also searched in square tiles
KEYPOINT_NAMES = ("right_eye", "left_eye", "nose_tip", "mouth", "right_ear", "left_ear")


@dataclass(frozen=True)
class Detection:
    """A detected face in frame pixels: box (x0, y0, x1, y1), score, 6 keypoints (KEYPOINT_NAMES).

    "right eye" is the subject's right eye: the one on the left of an unmirrored frontal image.
    """

    box: np.ndarray
    score: float
    keypoints: np.ndarray


def as_bgr(image: Image) -> Image:
    """A uint8 BGR view of any grey (HxW, HxWx1), BGR or BGRA image."""
    if image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1):
        return cv2.cvtColor(image.reshape(image.shape[:2]), cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


def blazeface_anchors() -> np.ndarray:
    """(896, 2) anchor centres in [0, 1], in the model's output order (layer, row, column, anchor)."""
    return anchor_centres(INPUT_SIZE, ANCHOR_LAYERS)


def anchor_centres(input_size: int, layers: tuple[tuple[int, int], ...]) -> np.ndarray:
    """Anchor centres in [0, 1] of a single-shot detector with square ``input_size`` input and
    ``layers`` of (stride, anchors per cell), in output order (layer, row, column, anchor)."""
    centres = []
    for stride, per_cell in layers:
        cells = input_size // stride
        grid = (np.arange(cells, dtype=np.float32) + 0.5) / cells
        ys, xs = np.meshgrid(grid, grid, indexing="ij")
        layer = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(layer, per_cell, axis=0))
    return np.concatenate(centres)


def letterbox(image_bgr: Image) -> tuple[np.ndarray, float, float, float]:
    """The 1x128x128x3 RGB float input in [-1, 1], and the scale and offsets used."""
    height, width = image_bgr.shape[:2]
    scale = INPUT_SIZE / max(width, height)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image_bgr, (new_w, new_h), interpolation=interpolation)
    canvas = np.zeros((INPUT_SIZE, INPUT_SIZE, 3), np.uint8)
    x0, y0 = (INPUT_SIZE - new_w) // 2, (INPUT_SIZE - new_h) // 2
    canvas[y0 : y0 + new_h, x0 : x0 + new_w] = resized
    scale_x, scale_y = new_w / width, new_h / height
    rgb = cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB).astype(np.float32)
    tensor = (rgb * (2.0 / 255.0) - 1.0)[None]
    return tensor, (scale_x + scale_y) / 2, float(x0), float(y0)


def decode_boxes(raw: np.ndarray, anchors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (N, 4: x0, y0, x1, y1) and keypoints (N, 6, 2) in 128-px input coordinates."""
    centre = raw[:, 0:2] + anchors * INPUT_SIZE
    half = raw[:, 2:4] / 2
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    keypoints = raw[:, 4:16].reshape(-1, 6, 2) + anchors[:, None, :] * INPUT_SIZE
    return boxes, keypoints


def box_overlap(box: Box, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one box with many."""
    top_left = np.maximum(box[:2], boxes[:, :2])
    bottom_right = np.minimum(box[2:], boxes[:, 2:])
    intersection = np.prod(np.clip(bottom_right - top_left, 0, None), axis=1)
    area = np.prod(box[2:] - box[:2])
    areas = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    return intersection / np.maximum(area + areas - intersection, 1e-9)


def weighted_suppression(
    boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, limit: int
) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Merge overlapping candidates into their score-weighted mean, best first."""
    order = np.argsort(-scores)
    boxes, keypoints, scores = boxes[order], keypoints[order], scores[order]
    merged: list[tuple[np.ndarray, np.ndarray, float]] = []
    remaining = np.ones(len(scores), dtype=bool)
    while remaining.any() and len(merged) < limit:
        first = int(np.argmax(remaining))
        overlap = box_overlap(boxes[first], boxes) > SUPPRESSION_IOU
        group = remaining & overlap
        group[first] = True
        weights = scores[group][:, None]
        box = (boxes[group] * weights).sum(0) / weights.sum()
        points = (keypoints[group] * weights[:, :, None]).sum(0) / weights.sum()
        merged.append((box, points, float(scores[first])))
        remaining &= ~group
    return merged


class FaceDetector:
    """Finds faces in a frame of any size. Works best for faces wider than ~1/10 of the frame."""

    def __init__(self, path: Path, min_score: float = 0.5, threads: int = 2, max_faces: int = 16) -> None:
        self.session = create_session(path, threads)
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [output.name for output in self.session.get_outputs()]
        self.anchors = blazeface_anchors()
        self.min_score = min_score
        self.max_faces = max_faces

    def detect(self, image_bgr: Image, window: int | None = None) -> list[Detection]:
        """Faces in ``image_bgr`` (uint8 BGR or grey), best score first.

        All of ``detection_windows`` are searched, or only the one numbered ``window`` (modulo
        their count): a tracker can spread one full search over several frames.
        """
        image = as_bgr(image_bgr)
        height, width = image.shape[:2]
        if height < 2 or width < 2:
            return []
        x0, y0, x1, y1 = (0, 0, width, height)
        if window is not None:
            frame_windows = detection_windows(width, height)
            x0, y0, x1, y1 = frame_windows[window % len(frame_windows)]
        small, factor = shrink_to_input(image[y0:y1, x0:x1])
        windows = detection_windows(small.shape[1], small.shape[0]) if window is None else [(0, 0, *small.shape[1::-1])]
        boxes, keypoints, scores = self.search(small, windows)
        if len(scores) == 0:
            return []
        origin = np.array([x0, y0], np.float32)
        boxes = (boxes.reshape(-1, 2, 2) + 0.5) / factor - 0.5 + origin
        keypoints = (keypoints + 0.5) / factor - 0.5 + origin
        merged = weighted_suppression(boxes.reshape(-1, 4), keypoints, scores, self.max_faces)
        return [Detection(box.astype(np.float32), score, points.astype(np.float32)) for box, points, score in merged]

    def search(self, small: np.ndarray, windows: list[tuple[int, int, int, int]]) -> tuple[np.ndarray, ...]:
        """Candidates from all ``windows`` of ``small`` in one model call, in ``small``'s pixels."""
        inputs = [letterbox(small[y0:y1, x0:x1]) for x0, y0, x1, y1 in windows]
        batch = np.concatenate([tensor for tensor, *_ in inputs])
        outputs = dict(zip(self.output_names, self.session.run(None, {self.input_name: batch}), strict=True))
        found = [
            self.candidates(outputs["regressors"][i], outputs["classificators"][i, :, 0], window, inputs[i][1:])
            for i, window in enumerate(windows)
        ]
        return tuple(np.concatenate([f[k] for f in found]) for k in range(3))

    def candidates(
        self,
        regressors: np.ndarray,
        logits: np.ndarray,
        window: tuple[int, int, int, int],
        placement: tuple[float, float, float],
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Boxes (N, 4), keypoints (N, 6, 2) and scores (N,) above threshold in one window, frame pixels."""
        scale, dx, dy = placement
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -SCORE_CLIP, SCORE_CLIP)))
        keep = scores >= self.min_score
        boxes, keypoints = decode_boxes(regressors[keep], self.anchors[keep])
        # model coordinates are continuous (pixel centres at +0.5); frame pixels have centres at integers
        offset = np.array([dx, dy], np.float32)
        origin = np.array(window[:2], np.float32) - 0.5
        boxes = ((boxes.reshape(-1, 2, 2) - offset) / scale + origin).reshape(-1, 4)
        keypoints = (keypoints - offset) / scale + origin
        return boxes, keypoints, scores[keep]


def shrink_to_input(image: Image) -> tuple[np.ndarray, np.ndarray]:
    """The frame scaled so its short side is the model's input size, and the (x, y) scale used.

    Shrinking averages areas: first by a whole factor (OpenCV's fast path), then the rest linearly.
    """
    height, width = image.shape[:2]
    factor = INPUT_SIZE / min(width, height)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    whole = int(1 / factor)
    if whole >= 2:
        image = cv2.resize(image, (max(1, width // whole), max(1, height // whole)), interpolation=cv2.INTER_AREA)
    small = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
    return small, np.array([size[0] / width, size[1] / height], np.float32)


def window_count(width: int, height: int) -> int:
    return len(detection_windows(width, height))


def detection_windows(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """The whole frame, then square tiles along the long side of a wide or tall frame.

    The short-range model needs a face at least ~1/8 of its input; square tiles let it find
    faces of that size relative to the frame's short side instead of its long side.
    """
    windows = [(0, 0, width, height)]
    short, long = min(width, height), max(width, height)
    if long < short * TILE_ASPECT:
        return windows
    count = int(np.ceil(long / short))
    for start in np.linspace(0, long - short, count).round().astype(int):
        windows.append((start, 0, start + short, height) if width > height else (0, start, width, start + short))
    return windows
