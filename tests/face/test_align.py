"""Alignment: face-type crops, the round trip through the crop, head pose."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from livefake.face import mesh
from livefake.face.align import (
    FACE_TYPES,
    alignment_matrix,
    face_box,
    head_pose,
    invert_matrix,
    transform_points,
    warp_to_crop,
)


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Camera-axes rotation with the image-facing signs head_pose reports."""
    y, p, r = np.radians([-yaw, -pitch, roll])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rz @ ry @ rx


def project_face(
    yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0, size: tuple[int, int] = (1280, 720),
    distance: float = 60.0, shift: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """The canonical face posed and projected by a pinhole camera: (468, 2) frame pixels."""
    width, height = size
    model = mesh.CANONICAL_3D * np.array([1.0, -1.0, -1.0]) @ _rotation(yaw, pitch, roll).T
    focal = max(width, height)
    model = model + [shift[0] * distance / focal, shift[1] * distance / focal, distance]  # a 3-D move
    projected = model[:, :2] / model[:, 2:] * focal
    return projected + [width / 2, height / 2]


def _blob_centres(image: np.ndarray, expected: np.ndarray, radius: int) -> np.ndarray:
    """Intensity centroids of bright blobs near the expected positions."""
    centres = []
    for x, y in expected:
        x0, y0 = int(round(x)) - radius, int(round(y)) - radius
        window = image[y0 : y0 + 2 * radius + 1, x0 : x0 + 2 * radius + 1].astype(np.float64)
        ys, xs = np.mgrid[0 : window.shape[0], 0 : window.shape[1]]
        total = window.sum()
        centres.append([x0 + (xs * window).sum() / total, y0 + (ys * window).sum() / total])
    return np.array(centres)


@pytest.mark.parametrize("face_type", FACE_TYPES)
def test_align_then_inverse_align_round_trip_under_half_a_pixel(face_type: str) -> None:
    """Gaussian dots at landmarks, cut into the crop: found where the matrix says, and back."""
    landmarks = project_face(yaw=15, pitch=-8, roll=20, shift=(60.0, -30.0))
    matrix = alignment_matrix(landmarks, face_type, 256)
    frame = np.zeros((720, 1280), np.float32)
    picks = [mesh.RIGHT_EYE_OUTER, mesh.LEFT_EYE_INNER, mesh.NOSE_TIP, mesh.MOUTH_LEFT]
    ys, xs = np.mgrid[0:720, 0:1280]
    for x, y in landmarks[picks]:
        frame += np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * 4.0**2))
    crop = warp_to_crop(frame, matrix, 256, border=cv2.BORDER_CONSTANT)
    expected = transform_points(landmarks[picks], matrix)
    sigma_in_crop = 4.0 * np.sqrt(abs(np.linalg.det(matrix[:, :2])))
    found = _blob_centres(crop, expected, int(4 * sigma_in_crop))
    assert np.abs(found - expected).max() < 0.5
    back = transform_points(found, invert_matrix(matrix))
    assert np.linalg.norm(back - landmarks[picks], axis=1).max() < 0.5
    np.testing.assert_allclose(transform_points(expected, invert_matrix(matrix)), landmarks[picks], atol=1e-9)


def test_face_types_frame_the_expected_parts() -> None:
    landmarks = project_face(roll=-10)
    inside = {}
    for face_type in FACE_TYPES:
        crop_points = transform_points(landmarks, alignment_matrix(landmarks, face_type, 128))
        inside[face_type] = np.all((crop_points >= 0) & (crop_points < 128), axis=1)
    eyes_mouth = [mesh.RIGHT_EYE_OUTER, mesh.LEFT_EYE_OUTER, mesh.MOUTH_RIGHT, mesh.MOUTH_LEFT]
    for face_type in FACE_TYPES:
        assert inside[face_type][eyes_mouth].all(), face_type
    assert not inside["half"][mesh.CHIN] and not inside["half"][list(mesh.FACE_OVAL)].all()
    brows = list(mesh.RIGHT_EYEBROW + mesh.LEFT_EYEBROW)
    assert inside["full"][mesh.CHIN] and inside["full"][brows].all()
    assert inside["full"][list(mesh.FACE_OVAL)].sum() >= 28  # all but the top of the forehead
    assert inside["whole"].all() and inside["head"].all()
    crops = [transform_points(landmarks, alignment_matrix(landmarks, t, 128)) for t in FACE_TYPES]
    sizes = [np.ptp(points[:, 0]) for points in crops]
    assert sizes == sorted(sizes, reverse=True)  # each type is wider than the one before


def test_crop_is_upright_whatever_the_roll() -> None:
    for roll in (-30.0, 0.0, 25.0):
        landmarks = project_face(roll=roll)
        crop_points = transform_points(landmarks, alignment_matrix(landmarks, "full", 256))
        eye_line = crop_points[mesh.LEFT_EYE_OUTER] - crop_points[mesh.RIGHT_EYE_OUTER]
        assert abs(np.degrees(np.arctan2(eye_line[1], eye_line[0]))) < 0.5


@pytest.mark.parametrize("pose", [(0, 0, 0), (25, 0, 0), (-20, 10, 0), (0, -15, 12), (30, 12, -20)])
def test_head_pose_recovers_projected_rotation(pose: tuple[float, float, float]) -> None:
    landmarks = project_face(*pose, shift=(40.0, 25.0))
    np.testing.assert_allclose(head_pose(landmarks, (1280, 720)), pose, atol=1.5)


def test_head_pose_accepts_three_column_landmarks() -> None:
    landmarks = np.c_[project_face(yaw=10), np.zeros(468)]
    assert abs(head_pose(landmarks, (1280, 720))[0] - 10) < 1.5


def test_face_box_bounds_the_landmarks() -> None:
    landmarks = project_face()
    box = face_box(landmarks)
    assert box.dtype == np.float32 and box.shape == (4,)
    assert np.allclose(box, [*landmarks.min(axis=0), *landmarks.max(axis=0)], atol=1e-3)
