"""Face alignment: a similarity transform from frame pixels to a square crop of one face type.

The 468 landmarks are fitted (least squares, rotation + uniform scale + shift) to MediaPipe's
canonical face seen from the front (``mesh.MEAN_FACE``, centimetres, y down), using the rigid
points MediaPipe itself uses for Procrustes. Each face type is then a square window in those
canonical units, so any crop resolution gives the same framing:

- ``half``  eyes to mouth, tight (cheeks and chin cut)
- ``mid``   a little wider: brows to just above the chin tip
- ``full``  the whole face with chin and brows (DeepFaceLab ``f``)
- ``whole`` the full face plus the forehead up to the hairline (DeepFaceLab ``wf``)
- ``head``  the whole head with hair and ears
"""

from __future__ import annotations

import cv2
import numpy as np

from livefake.errors import InputError
from livefake.face import mesh
from livefake.types import FACE_TYPES, Box, FaceType, Image, Landmarks, Matrix

# (centre x, centre y, side) of each face type's square window in canonical units (cm, y down).
# Landmarks for reference: eyes y=-2.7, brow tops y=-5.1, mesh top (mid-forehead) y=-8.3,
# mouth corners y=4.3, lower lip y=5.4, chin y=9.4, cheek edges x=+-7.7.
FACE_WINDOWS: dict[str, tuple[float, float, float]] = {
    "half": (0.0, 0.5, 11.5),
    "mid": (0.0, 1.0, 14.0),
    "full": (0.0, 1.5, 18.0),
    "whole": (0.0, -1.0, 24.0),
    "head": (0.0, -2.5, 29.0),
}


def _planar(landmarks: np.ndarray) -> np.ndarray:
    points = np.asarray(landmarks, dtype=np.float64)
    if points.ndim != 2 or points.shape[0] < mesh.LANDMARK_COUNT or points.shape[1] not in (2, 3):
        raise InputError(f"landmarks must be (468, 2) or (468, 3), got {points.shape}")
    return points[:, :2]


def similarity_fit(source: Landmarks, target: Landmarks) -> Matrix:
    """Least-squares similarity (no reflection) taking ``source`` points (N,2) onto ``target``: (2,3)."""
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    s = (source - source_mean) @ np.array([1.0, 1j])
    t = (target - target_mean) @ np.array([1.0, 1j])
    a = np.sum(np.conj(s) * t) / np.sum(np.abs(s) ** 2)  # scale * exp(i * angle)
    linear = np.array([[a.real, -a.imag], [a.imag, a.real]])
    shift = target_mean - linear @ source_mean
    return np.hstack([linear, shift[:, None]])


def frame_to_canonical(landmarks: Landmarks) -> Matrix:
    """The (2,3) similarity taking frame pixels onto the canonical frontal face (cm, y down)."""
    points = _planar(landmarks)
    rigid = list(mesh.RIGID)
    return similarity_fit(points[rigid], mesh.MEAN_FACE[rigid])


def alignment_matrix(landmarks: Landmarks, face_type: FaceType, size: int) -> Matrix:
    """The (2,3) similarity mapping frame pixels to a ``size`` x ``size`` crop of ``face_type``."""
    if face_type not in FACE_WINDOWS:
        raise InputError(f"face type {face_type!r} is not one of {', '.join(FACE_TYPES)}")
    centre_x, centre_y, side = FACE_WINDOWS[face_type]
    scale = size / side
    canonical_to_crop = np.array(
        [
            [scale, 0.0, (side / 2 - centre_x) * scale - 0.5],
            [0.0, scale, (side / 2 - centre_y) * scale - 0.5],
            [0.0, 0.0, 1.0],
        ]
    )
    to_canonical = np.vstack([frame_to_canonical(landmarks), [0.0, 0.0, 1.0]])
    return (canonical_to_crop @ to_canonical)[:2]


def warp_to_crop(
    image: Image, matrix: Matrix, size: int | tuple[int, int], border: int = cv2.BORDER_REPLICATE
) -> np.ndarray:
    """Cut the aligned crop out of ``image`` (bilinear); ``size`` is a side or (width, height)."""
    dsize = (size, size) if isinstance(size, int) else size
    return cv2.warpAffine(
        image, np.asarray(matrix, dtype=np.float64), dsize, flags=cv2.INTER_LINEAR, borderMode=border
    )


def invert_matrix(matrix: Matrix) -> Matrix:
    """The inverse of a (2,3) affine transform, e.g. crop -> frame for paste-back."""
    return cv2.invertAffineTransform(np.asarray(matrix, dtype=np.float64))


def transform_points(points: Landmarks, matrix: Matrix) -> Landmarks:
    """Apply a (2,3) affine transform to points (N,2) or (N,3) (x, y used); returns (N,2) float64."""
    xy = np.asarray(points, dtype=np.float64)[:, :2]
    m = np.asarray(matrix, dtype=np.float64)
    return xy @ m[:, :2].T + m[:, 2]


def face_box(landmarks: Landmarks) -> Box:
    """Tight box around the landmarks: (4,) float32 x0, y0, x1, y1."""
    xy = np.asarray(landmarks)[:, :2]
    return np.concatenate([xy.min(axis=0), xy.max(axis=0)]).astype(np.float32)


def head_pose(landmarks: Landmarks, image_size: tuple[int, int]) -> tuple[float, float, float]:
    """Yaw, pitch and roll in degrees from the landmarks, solving PnP against the canonical model.

    ``image_size`` is (width, height); the camera is a pinhole with focal length = the larger side.
    Signs as seen in the image: yaw > 0 turns the nose to the image's right, pitch > 0 tilts the
    face up, roll > 0 rotates the face clockwise.
    """
    width, height = image_size
    rigid = list(mesh.RIGID)
    model = mesh.CANONICAL_3D[rigid] * np.array([1.0, -1.0, -1.0])  # to camera axes: y down, z away
    image_points = _planar(landmarks)[rigid]
    focal = float(max(width, height))
    camera = np.array([[focal, 0.0, width / 2], [0.0, focal, height / 2], [0.0, 0.0, 1.0]])
    ok, rotation_vector, _ = cv2.solvePnP(model, image_points, camera, None, flags=cv2.SOLVEPNP_SQPNP)
    if not ok:
        raise InputError("head pose: solvePnP found no solution for these landmarks")
    rotation, _ = cv2.Rodrigues(rotation_vector)
    return _euler_degrees(rotation)


def _euler_degrees(rotation: np.ndarray) -> tuple[float, float, float]:
    """Decompose R = Rz(roll) Ry(y) Rx(x) (camera axes) into image-facing yaw, pitch, roll."""
    about_x = np.arctan2(rotation[2, 1], rotation[2, 2])
    about_y = np.arcsin(np.clip(-rotation[2, 0], -1.0, 1.0))
    about_z = np.arctan2(rotation[1, 0], rotation[0, 0])
    yaw, pitch, roll = np.degrees([-about_y, -about_x, about_z])
    return float(yaw), float(pitch), float(roll)
