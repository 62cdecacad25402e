"""Paste a face crop back into the frame, touching only the box the mask covers."""

from __future__ import annotations

import cv2
import numpy as np

from livefake.face.align import invert_matrix, transform_points
from livefake.types import Image, Mask, Matrix, PixelBox

_VISIBLE = 1.0 / 512.0  # mask values below this leave the frame pixel as it was


def scaled_matrix(
    matrix: Matrix, size: tuple[int, int], scale: float, offset_px: tuple[float, float]
) -> Matrix:
    """A frame->crop matrix whose paste-back draws the face ``scale`` times larger about the
    crop centre and moved by ``offset_px`` crop pixels (x, y)."""
    width, height = size
    centre_x, centre_y = (width - 1) / 2.0, (height - 1) / 2.0
    shift_x, shift_y = offset_px
    # crop' = (crop - centre - shift) / scale + centre: where a drawn pixel comes from in the crop
    adjust = np.array(
        [
            [1.0 / scale, 0.0, centre_x - (centre_x + shift_x) / scale],
            [0.0, 1.0 / scale, centre_y - (centre_y + shift_y) / scale],
            [0.0, 0.0, 1.0],
        ]
    )
    return (adjust @ np.vstack([np.asarray(matrix, dtype=np.float64), [0.0, 0.0, 1.0]]))[:2]


def paste_box(
    crop_mask: np.ndarray, crop_to_frame: np.ndarray, frame_shape: tuple[int, ...]
) -> PixelBox | None:
    """The frame box (x0, y0, x1, y1, exclusive) that the visible part of the mask lands in."""
    x, y, w, h = cv2.boundingRect((crop_mask > _VISIBLE).astype(np.uint8))
    if w == 0 or h == 0:
        return None
    corners = np.array([[x - 1, y - 1], [x + w, y - 1], [x - 1, y + h], [x + w, y + h]], dtype=np.float64)
    frame_corners = transform_points(corners, crop_to_frame)
    x0, y0 = np.floor(frame_corners.min(axis=0)).astype(int)
    x1, y1 = np.ceil(frame_corners.max(axis=0)).astype(int) + 1
    height, width = frame_shape[:2]
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    if x1 <= x0 or y1 <= y0:
        return None
    return int(x0), int(y0), int(x1), int(y1)


def paste_back(
    frame_bgr: Image,
    face_crop_bgr: Image,
    crop_mask: Mask,
    matrix_frame_to_crop: Matrix,
    seamless: bool = False,
    crop_to_frame: np.ndarray | None = None,
) -> PixelBox | None:
    """Blend ``face_crop_bgr`` into ``frame_bgr`` in place through ``crop_mask`` (float [0, 1]).

    Only the box the visible mask covers is read and written; it is returned (None when the
    mask is empty or off-frame). ``seamless`` adds Poisson blending (``cv2.seamlessClone``)
    inside the mask before the feathered blend; it costs several milliseconds per face.
    ``crop_to_frame``, the inverse of ``matrix_frame_to_crop``, is computed when not given.
    """
    if crop_to_frame is None:
        crop_to_frame = invert_matrix(matrix_frame_to_crop)
    box = paste_box(crop_mask, crop_to_frame, frame_bgr.shape)
    if box is None:
        return None
    x0, y0, x1, y1 = box
    to_box = np.array(crop_to_frame, dtype=np.float64)
    to_box[:, 2] -= (x0, y0)
    size = (x1 - x0, y1 - y0)
    face = cv2.warpAffine(
        face_crop_bgr, to_box, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    alpha = cv2.warpAffine(crop_mask.astype(np.float32), to_box, size, flags=cv2.INTER_LINEAR, borderValue=0)
    region = frame_bgr[y0:y1, x0:x1]
    if seamless:
        face = _seamless(face, region, alpha)
    alpha[alpha < _VISIBLE] = 0.0
    region[...] = cv2.blendLinear(face, region, alpha, 1.0 - alpha)
    return box


def _seamless(face: np.ndarray, region: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Poisson-blend the face into the region inside alpha > 0.5; the rest of ``face`` is kept."""
    inside = (alpha > 0.5).astype(np.uint8) * 255
    inside[[0, -1], :] = 0
    inside[:, [0, -1]] = 0
    x, y, w, h = cv2.boundingRect(inside)
    if w < 3 or h < 3:
        return face
    centre = (x + w // 2, y + h // 2)
    return cv2.seamlessClone(face, region, inside, centre, cv2.NORMAL_CLONE)
