"""Crops for calibration and checks: read from a faceset, split into calibration and held-out parts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from livefake.errors import InputError
from livefake.faceset.format import read_face_image, read_faceset

MIN_CROPS = 8


@dataclass(frozen=True)
class CropSplit:
    """NCHW float32 RGB [0, 1] crops: ``calibration`` feeds the quantizer, ``held_out`` judges it."""

    calibration: np.ndarray
    held_out: np.ndarray


def bgr_to_nchw(crops: list[np.ndarray] | np.ndarray) -> np.ndarray:
    """uint8 BGR crops (N, R, R, 3) -> float32 RGB (N, 3, R, R) in [0, 1], the contract's input."""
    return cv2.dnn.blobFromImages(list(crops), scalefactor=1.0 / 255.0, swapRB=True).astype(np.float32)


def faceset_crops(folder: str | Path, resolution: int, face_type: str, limit: int = 160) -> np.ndarray:
    """Up to ``limit`` crops of a faceset, evenly spread, resized to ``resolution`` (NCHW float32 RGB)."""
    faceset = read_faceset(folder)
    if faceset.face_type != face_type:
        raise InputError(
            f"faceset {folder} is aligned as {faceset.face_type!r} but the model wants {face_type!r}: "
            f"extract it again with --face-type {face_type}"
        )
    if len(faceset.faces) < MIN_CROPS:
        raise InputError(f"faceset {folder} has {len(faceset.faces)} faces; calibration needs at least {MIN_CROPS}")
    picks = np.linspace(0, len(faceset.faces) - 1, min(limit, len(faceset.faces))).round().astype(int)
    images = [read_face_image(folder, faceset.faces[index]) for index in picks]
    if faceset.resolution != resolution:
        images = [cv2.resize(image, (resolution, resolution), interpolation=cv2.INTER_AREA) for image in images]
    return bgr_to_nchw(images)


def split_crops(crops: np.ndarray, held_out_every: int = 4) -> CropSplit:
    """Every ``held_out_every``-th crop is held out for the checks; the rest calibrate."""
    held = np.zeros(len(crops), bool)
    held[held_out_every - 1 :: held_out_every] = True
    return CropSplit(calibration=crops[~held], held_out=crops[held])
