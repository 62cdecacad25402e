"""Hands in front of a face, carved out of the face's merge mask.

A hand is drawn from its 21 landmarks in the swap's crop space: the palm as a filled polygon
(wrist and knuckles), each finger as a thick segment chain from its knuckle to just past its
tip, and the forearm as a wide segment back from the wrist. Widths come from the hand's own
size (wrist to middle knuckle), so the same drawing fits a hand near the camera and one far
away. The drawing is feathered outwards, so the face fades out just outside the hand's edge,
and smoothed per face track: where a hand was last frame, a decaying share of it is kept
(a hand missed for one frame does not flash the swapped face over it). Because it works on
the merge mask, the photo swap, trained models and DFM models are all carved the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from livefake.face.align import transform_points
from livefake.merge.mask import feather_mask
from livefake.pipeline.frame import Hand

FINGERS = ((1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (17, 18, 19, 20))
PALM_OUTLINE = (0, 1, 2, 5, 9, 13, 17)
WRIST, INDEX_ROOT, MIDDLE_ROOT, LITTLE_ROOT = 0, 5, 9, 17
FINGER_WIDTH = 0.36  # finger thickness / palm length (wrist to middle knuckle)
PALM_MARGIN = 0.5  # thickness of the line drawn around the palm polygon / palm length (the hand's sides)
TIP_REACH = 0.35  # fingers are drawn this many finger widths past the tip landmark
FOREARM_LENGTH = 1.5  # forearm drawn back from the wrist, in palm lengths
FOREARM_WIDTH = 1.3  # forearm thickness / palm width (index knuckle to little knuckle)
FEATHER = 0.15  # feather width outside the hand / palm length
RELEASE = 0.6  # share of last frame's hand mask kept where the hand has gone
FADED = 0.02  # a remembered mask below this everywhere is forgotten
SUBPIXEL_BITS = 2


def palm_length(points: np.ndarray) -> float:
    return float(np.linalg.norm(points[MIDDLE_ROOT] - points[WRIST]))


def fixed(points: np.ndarray) -> np.ndarray:
    """Points as OpenCV's fixed-point drawing coordinates."""
    return np.round(points * (1 << SUBPIXEL_BITS)).astype(np.int32)


def draw_hand(canvas: np.ndarray, points: np.ndarray) -> None:
    """Draw one hand (21 points, canvas pixels) into ``canvas`` (uint8) at 255."""
    length = max(palm_length(points), 1.0)
    width = max(int(round(FINGER_WIDTH * length)), 1)
    palm = fixed(points[list(PALM_OUTLINE)])
    cv2.fillPoly(canvas, [cv2.convexHull(palm)], 255, cv2.LINE_8, SUBPIXEL_BITS)
    margin = max(int(round(PALM_MARGIN * length)), 1)
    cv2.polylines(canvas, [palm], True, 255, margin, cv2.LINE_8, SUBPIXEL_BITS)
    for finger in FINGERS:
        chain = points[list(finger)]
        tip_direction = chain[-1] - chain[-2]
        reach = tip_direction / max(float(np.linalg.norm(tip_direction)), 1e-6) * TIP_REACH * width
        chain = np.vstack([chain, chain[-1] + reach])
        cv2.polylines(canvas, [fixed(chain)], False, 255, width, cv2.LINE_8, SUBPIXEL_BITS)
    back = (points[WRIST] - points[MIDDLE_ROOT]) / length
    elbow = points[WRIST] + back * FOREARM_LENGTH * length
    forearm = max(int(round(FOREARM_WIDTH * float(np.linalg.norm(points[INDEX_ROOT] - points[LITTLE_ROOT])))), 1)
    cv2.polylines(canvas, [fixed(np.stack([points[WRIST], elbow]))], False, 255, forearm, cv2.LINE_8, SUBPIXEL_BITS)


def hand_mask(hands: Sequence[Hand], matrix: np.ndarray, shape: tuple[int, int]) -> np.ndarray | None:
    """The feathered hands (float32 [0, 1]) in a crop of ``shape`` that ``matrix`` maps the frame to;
    None when no hand reaches the crop."""
    height, width = shape
    canvas = np.zeros((height, width), np.uint8)
    feather = 0.0
    for hand in hands:
        points = transform_points(hand.landmarks, matrix)
        length = palm_length(points)
        reach = length * (FOREARM_LENGTH + 1.0)
        low, high = points.min(axis=0) - reach, points.max(axis=0) + reach
        if high[0] < 0 or high[1] < 0 or low[0] >= width or low[1] >= height:
            continue
        draw_hand(canvas, points)
        feather = max(feather, FEATHER * length)
    if feather == 0.0:
        return None
    drawn = canvas.astype(np.float32) * np.float32(1 / 255)
    return np.clip(np.maximum(drawn, feather_mask(drawn, -feather, feather)), 0.0, 1.0)


class HandOcclusion:
    """Carves hands out of face masks, with each face track's hand mask smoothed over time."""

    def __init__(self) -> None:
        self.remembered: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # track -> (mask, frame->crop matrix)

    def reset(self) -> None:
        self.remembered = {}

    def carve(self, mask: np.ndarray, track_id: int, hands: Sequence[Hand], matrix: np.ndarray) -> np.ndarray:
        """``mask`` (crop space) with the hands in front of the face taken out."""
        shape = (int(mask.shape[0]), int(mask.shape[1]))
        current = hand_mask(hands, matrix, shape) if hands else None
        fading = self.fade(track_id, matrix, shape)
        parts = [part for part in (current, fading) if part is not None]
        if not parts:
            return mask
        combined = parts[0] if len(parts) == 1 else np.maximum(parts[0], parts[1])
        self.remembered[track_id] = (combined, np.asarray(matrix, np.float64))
        return mask * (1.0 - combined)

    def fade(self, track_id: int, matrix: np.ndarray, shape: tuple[int, int]) -> np.ndarray | None:
        """Last frame's hand mask of this track, moved into this crop and decayed; None once faded."""
        remembered = self.remembered.pop(track_id, None)
        if remembered is None:
            return None
        previous, previous_matrix = remembered
        # previous crop -> frame -> this crop
        to_frame = cv2.invertAffineTransform(previous_matrix)
        between = np.asarray(matrix, np.float64) @ np.vstack([to_frame, [0.0, 0.0, 1.0]])
        size = (shape[1], shape[0])
        moved = cv2.warpAffine(previous, between, size, flags=cv2.INTER_LINEAR, borderValue=0) * np.float32(RELEASE)
        return moved if float(moved.max()) >= FADED else None
