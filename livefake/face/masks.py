"""Face masks drawn from the 468 landmarks, in whatever space the landmarks are given in.

Pass frame landmarks with the frame's shape, or crop landmarks (``transform_points`` with the
alignment matrix) with the crop's shape: drawing in crop space is what keeps merge cheap.
Masks are float32 in [0, 1], anti-aliased at the edge, with sub-pixel vertex positions.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

from livefake.face import mesh
from livefake.face.align import FaceType, frame_to_canonical, invert_matrix, transform_points
from livefake.types import Landmarks, Mask

Region = Literal["eyes", "mouth", "inner_mouth"]

_SUBPIXEL_BITS = 4
_BROW_TOP_Y = -5.2  # canonical y (cm, y down) just above the eyebrows
_EYE_LINE_Y = -2.7
_BELOW_LIPS_Y = 6.5
# How far the forehead is raised above the mesh top (cm), and how much wider the head is.
_FOREHEAD_RAISE = {"whole": 3.5, "head": 7.5}
_HEAD_WIDEN = 1.25


def hull_mask(landmarks: Landmarks, shape: tuple[int, int], face_type: FaceType = "full") -> Mask:
    """The face region of ``face_type`` as a filled convex hull, (H, W) float32 in [0, 1].

    ``half`` covers brows to lower lip, cheek to cheek; ``mid`` the face below the brow line;
    ``full`` the whole mesh (chin to mid-forehead); ``whole`` raises the forehead to the
    hairline; ``head`` also widens it to take in hair and ears.
    """
    outline = _outline(np.asarray(landmarks, dtype=np.float64)[:, :2], face_type)
    hull = cv2.convexHull(outline.astype(np.float32)).reshape(-1, 2)
    return _fill([hull], shape)


def region_mask(landmarks: Landmarks, shape: tuple[int, int], region: Region) -> Mask:
    """Eyes (both), the mouth with lips, or the inside of the mouth only: (H, W) float32 in [0, 1]."""
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    contours = {
        "eyes": (mesh.RIGHT_EYE, mesh.LEFT_EYE),
        "mouth": (mesh.LIPS_OUTER,),
        "inner_mouth": (mesh.LIPS_INNER,),
    }[region]
    return _fill([points[list(contour)] for contour in contours], shape)


def _outline(points: np.ndarray, face_type: FaceType) -> np.ndarray:
    oval = points[list(mesh.FACE_OVAL)]
    if face_type == "full":
        return oval
    to_canonical = frame_to_canonical(points)
    canonical = transform_points(oval, to_canonical)
    brows = points[list(mesh.RIGHT_EYEBROW + mesh.LEFT_EYEBROW)]
    if face_type == "half":
        cheeks = oval[(canonical[:, 1] >= _BROW_TOP_Y) & (canonical[:, 1] <= _BELOW_LIPS_Y)]
        return np.vstack([cheeks, brows, points[list(mesh.LIPS_OUTER)]])
    if face_type == "mid":
        return np.vstack([oval[canonical[:, 1] >= _BROW_TOP_Y], brows])
    return transform_points(_raise_forehead(canonical, face_type), invert_matrix(to_canonical))


def _raise_forehead(canonical_oval: np.ndarray, face_type: FaceType) -> np.ndarray:
    """Lift the oval above the eye line, most at the top, in canonical units; widen for ``head``."""
    raised = canonical_oval.copy()
    top = raised[:, 1].min()
    height_above_eyes = np.clip((_EYE_LINE_Y - raised[:, 1]) / (_EYE_LINE_Y - top), 0.0, 1.0)
    raised[:, 1] -= _FOREHEAD_RAISE[face_type] * np.sqrt(height_above_eyes)
    if face_type == "head":
        raised[:, 0] *= _HEAD_WIDEN
    return raised


def _fill(polygons: list[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    canvas = np.zeros(shape[:2], dtype=np.uint8)
    fixed = [np.round(p * (1 << _SUBPIXEL_BITS)).astype(np.int32).reshape(-1, 1, 2) for p in polygons]
    cv2.fillPoly(canvas, fixed, 255, lineType=cv2.LINE_AA, shift=_SUBPIXEL_BITS)
    return canvas.astype(np.float32) * np.float32(1.0 / 255.0)
