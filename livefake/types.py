"""Names for the arrays that flow through livefake, used in signatures to say what each one holds.

They are all ``numpy.ndarray`` at run time; the name carries the layout and range.
"""

from __future__ import annotations

from typing import Literal, TypeAlias, get_args

import numpy as np

Image: TypeAlias = np.ndarray  # uint8 BGR, H x W x 3 (a frame, a photo or a face crop)
Mask: TypeAlias = np.ndarray  # float32 in [0, 1], H x W
Landmarks: TypeAlias = np.ndarray  # float32 N x 2 points (x, y) in image pixels
Matrix: TypeAlias = np.ndarray  # float 2 x 3 affine or 3 x 3 homography, mapping (x, y) pixels
Box: TypeAlias = np.ndarray  # float32 (4,): x0, y0, x1, y1 in image pixels
PixelBox: TypeAlias = tuple[int, int, int, int]  # x0, y0, x1, y1 whole pixels, x1 and y1 exclusive

FaceType = Literal["half", "mid", "full", "whole", "head"]  # crop windows, defined in livefake.face.align
FACE_TYPES: tuple[str, ...] = get_args(FaceType)
