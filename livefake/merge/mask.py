"""The merge mask: the swap's own mask times the landmark hull, eroded and feathered.

Sizes are given in pixels at a 256-pixel face and scaled with the face's size in the crop, so
the same settings look the same for a small face far away and a large one close up.
"""

from __future__ import annotations

import cv2
import numpy as np

from livefake.face.align import FaceType, face_box
from livefake.face.masks import hull_mask
from livefake.types import Landmarks, Mask

REFERENCE_FACE_PX = 256.0
_PX_PER_REDUCTION = 4.0  # feather pixels per step of resolution reduction
_MAX_REDUCTION = 4


def face_size_px(crop_landmarks: Landmarks) -> float:
    """The face's size where its landmarks live: the larger side of their box."""
    x0, y0, x1, y1 = face_box(crop_landmarks)
    return float(max(x1 - x0, y1 - y0))


def compose_mask(
    crop_landmarks: Landmarks,
    shape: tuple[int, int],
    swap_mask: np.ndarray | None,
    face_type: FaceType,
) -> np.ndarray:
    """The landmark hull in crop space, times the swap's mask when it gives one: float32 [0, 1]."""
    hull = hull_mask(crop_landmarks, shape, face_type)
    if swap_mask is None:
        return hull
    if swap_mask.shape[:2] != hull.shape:
        swap_mask = cv2.resize(swap_mask, (hull.shape[1], hull.shape[0]), interpolation=cv2.INTER_LINEAR)
    return hull * np.clip(swap_mask.reshape(hull.shape), 0.0, 1.0).astype(np.float32)


def feather_mask(mask: Mask, erode_px: float, blur_px: float) -> Mask:
    """Erode (negative: dilate) by ``erode_px``, then feather edges over about ``blur_px`` pixels.

    The feather is centred half a feather inside the eroded edge, so it spills little outside.
    Wide feathers are computed at a reduced resolution (the result is smooth anyway) and
    scaled back up, which keeps this well under a millisecond.
    """
    height, width = mask.shape[:2]
    factor = int(np.clip(blur_px // _PX_PER_REDUCTION, 1, _MAX_REDUCTION))
    work = mask
    if factor > 1:
        work = cv2.resize(mask, (width // factor, height // factor), interpolation=cv2.INTER_AREA)
    shrink = (erode_px + blur_px / 2.0) / factor
    radius = int(round(abs(shrink)))
    if radius > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        work = (cv2.erode if shrink > 0 else cv2.dilate)(work, kernel)
    if blur_px >= 1.0:
        sigma = blur_px / 2.5 / factor  # the 10%-90% rise of a Gaussian edge is ~2.56 sigma
        ksize = 2 * int(np.ceil(3.0 * sigma)) + 1
        work = cv2.GaussianBlur(work, (ksize, ksize), sigma)
    if factor > 1:
        work = cv2.resize(work, (width, height), interpolation=cv2.INTER_LINEAR)
    return work


def merge_mask(
    crop_landmarks: Landmarks,
    shape: tuple[int, int],
    swap_mask: np.ndarray | None,
    face_type: FaceType,
    erode: float,
    blur: float,
) -> np.ndarray:
    """``compose_mask`` then ``feather_mask`` with ``erode``/``blur`` given at a 256-px face."""
    unit = face_size_px(crop_landmarks) / REFERENCE_FACE_PX
    mask = compose_mask(crop_landmarks, shape, swap_mask, face_type)
    return feather_mask(mask, erode * unit, blur * unit)
