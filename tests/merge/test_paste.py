"""Paste-back touches only the face's box and puts the face where the matrix says."""

from __future__ import annotations

import numpy as np
import pytest

from livefake.face import mesh
from livefake.face.align import alignment_matrix, face_box, transform_points
from livefake.face.masks import hull_mask
from livefake.merge.mask import feather_mask
from livefake.merge.paste import paste_back, scaled_matrix


@pytest.fixture()
def scene() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    frame = rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    landmarks = mesh.MEAN_FACE * 14.0 + [700.0, 380.0]
    matrix = alignment_matrix(landmarks, "full", 256)
    return frame, landmarks, matrix, transform_points(landmarks, matrix)


@pytest.mark.parametrize("seamless", [False, True])
def test_only_the_face_box_changes(scene, seamless: bool) -> None:  # type: ignore[no-untyped-def]
    frame, landmarks, matrix, crop_landmarks = scene
    mask = feather_mask(hull_mask(crop_landmarks, (256, 256)), 0.0, 10.0)
    face = np.full((256, 256, 3), (20, 200, 90), np.uint8)
    before = frame.copy()
    box = paste_back(frame, face, mask, matrix, seamless=seamless)
    assert box is not None
    x0, y0, x1, y1 = face_box(landmarks)
    margin = 0.1 * max(x1 - x0, y1 - y0)
    outside = np.ones(frame.shape[:2], bool)
    outside[int(y0 - margin) : int(y1 + margin) + 1, int(x0 - margin) : int(x1 + margin) + 1] = False
    assert np.array_equal(frame[outside], before[outside])
    bx0, by0, bx1, by1 = box
    changed = np.any(frame != before, axis=2)
    assert not changed[:by0].any() and not changed[by1:].any()
    assert not changed[:, :bx0].any() and not changed[:, bx1:].any()
    nose_x, nose_y = np.round(landmarks[mesh.NOSE_TIP]).astype(int)
    if seamless:  # Poisson blending keeps the face's (flat) gradients, its colour follows the border
        assert frame[nose_y - 10 : nose_y + 10, nose_x - 10 : nose_x + 10].std(axis=(0, 1)).max() < 3.0
    else:
        assert np.abs(frame[nose_y, nose_x].astype(int) - (20, 200, 90)).max() <= 1


def test_paste_lands_the_crop_where_the_matrix_says(scene) -> None:  # type: ignore[no-untyped-def]
    frame, landmarks, matrix, crop_landmarks = scene
    frame[:] = 0
    face = np.zeros((256, 256, 3), np.uint8)
    cx, cy = np.round(crop_landmarks[mesh.RIGHT_EYE_OUTER]).astype(int)
    face[cy - 2 : cy + 3, cx - 2 : cx + 3] = 255
    paste_back(frame, face, np.ones((256, 256), np.float32), matrix)
    ys, xs = np.nonzero(frame[..., 0])
    weights = frame[ys, xs, 0].astype(float)
    centre = np.array([(xs * weights).sum(), (ys * weights).sum()]) / weights.sum()
    crop_to_frame = np.linalg.inv(np.vstack([matrix, [0, 0, 1]]))[:2]
    expected = transform_points(np.array([[cx, cy]], float), crop_to_frame)
    assert np.linalg.norm(centre - expected[0]) < 0.5


def test_empty_or_offscreen_mask_changes_nothing(scene) -> None:  # type: ignore[no-untyped-def]
    frame, _, matrix, _ = scene
    before = frame.copy()
    black = np.zeros((256, 256, 3), np.uint8)
    assert paste_back(frame, black, np.zeros((256, 256), np.float32), matrix) is None
    far = matrix.copy()
    far[:, 2] += 5000.0
    assert paste_back(frame, np.zeros((256, 256, 3), np.uint8), np.ones((256, 256), np.float32), far) is None
    assert np.array_equal(frame, before)


def test_scaled_matrix_grows_the_pasted_face_about_its_centre(scene) -> None:  # type: ignore[no-untyped-def]
    _, landmarks, matrix, _ = scene
    bigger = scaled_matrix(matrix, (256, 256), 1.2, (0.0, 0.0))
    inverse = np.linalg.inv(np.vstack([bigger, [0, 0, 1]]))[:2]
    original = np.linalg.inv(np.vstack([matrix, [0, 0, 1]]))[:2]
    corners = np.array([[0.0, 0.0], [255.0, 255.0]])
    spread = np.ptp(transform_points(corners, inverse), axis=0)
    spread /= np.ptp(transform_points(corners, original), axis=0)
    np.testing.assert_allclose(spread, 1.2, rtol=1e-6)
    centre = np.array([[127.5, 127.5]])
    moved = transform_points(centre, inverse) - transform_points(centre, original)
    np.testing.assert_allclose(moved, 0.0, atol=1e-6)
