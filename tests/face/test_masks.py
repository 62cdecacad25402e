"""Hull masks per face type and region masks, checked on pixels."""

from __future__ import annotations

import numpy as np
import pytest

from livefake.face import mesh
from livefake.face.align import FACE_TYPES, alignment_matrix, transform_points
from livefake.face.masks import hull_mask, region_mask

SHAPE = (480, 480)


@pytest.fixture(scope="module")
def landmarks() -> np.ndarray:
    """A frontal mean face, 20 px per cm, centred, slightly rolled."""
    angle = np.radians(8.0)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return mesh.MEAN_FACE @ rotation.T * 20.0 + [240.0, 250.0]


def _value(mask: np.ndarray, point: np.ndarray) -> float:
    return float(mask[int(round(point[1])), int(round(point[0]))])


def test_masks_are_float_in_unit_range(landmarks: np.ndarray) -> None:
    for face_type in FACE_TYPES:
        mask = hull_mask(landmarks, SHAPE, face_type)
        assert mask.dtype == np.float32 and mask.shape == SHAPE
        assert mask.min() == 0.0 and mask.max() == 1.0


def test_face_types_grow_in_order_and_cover_the_right_parts(landmarks: np.ndarray) -> None:
    masks = {face_type: hull_mask(landmarks, SHAPE, face_type) for face_type in FACE_TYPES}
    areas = [masks[face_type].sum() for face_type in FACE_TYPES]
    assert areas == sorted(areas)
    for face_type in FACE_TYPES:
        for index in (mesh.RIGHT_EYE_OUTER, mesh.LEFT_EYE_OUTER, mesh.NOSE_TIP, mesh.MOUTH_LEFT):
            assert _value(masks[face_type], landmarks[index]) == 1.0, (face_type, index)
    chin = landmarks[mesh.CHIN]
    just_inside_chin = chin + (landmarks[mesh.NOSE_TIP] - chin) * 0.05
    assert _value(masks["half"], just_inside_chin) == 0.0
    assert _value(masks["full"], just_inside_chin) == 1.0
    forehead = landmarks[mesh.FOREHEAD]
    up = (forehead - landmarks[mesh.CHIN]) / np.linalg.norm(forehead - landmarks[mesh.CHIN])
    above_mesh = forehead + up * 2.0 * 20  # 2 cm above the top of the mesh
    assert _value(masks["full"], above_mesh) == 0.0
    assert _value(masks["whole"], above_mesh) == 1.0 and _value(masks["head"], above_mesh) == 1.0
    beside_cheek = landmarks[454] + (landmarks[454] - landmarks[234]) * 0.08
    assert _value(masks["whole"], beside_cheek) == 0.0 and _value(masks["head"], beside_cheek) == 1.0
    assert masks["mid"][masks["half"] == 1.0].min() > 0.3  # half lies inside mid (edges anti-aliased)


def test_mask_drawn_in_crop_space_matches_frame_mask(landmarks: np.ndarray) -> None:
    matrix = alignment_matrix(landmarks, "whole", 256)
    crop_mask = hull_mask(transform_points(landmarks, matrix), (256, 256), "full")
    scale = np.sqrt(abs(np.linalg.det(matrix[:, :2])))
    frame_area = hull_mask(landmarks, SHAPE, "full").sum()
    assert abs(crop_mask.sum() / scale**2 - frame_area) / frame_area < 0.01


def test_region_masks(landmarks: np.ndarray) -> None:
    eyes = region_mask(landmarks, SHAPE, "eyes")
    mouth = region_mask(landmarks, SHAPE, "mouth")
    inner = region_mask(landmarks, SHAPE, "inner_mouth")
    eye_centre = landmarks[[mesh.RIGHT_EYE_OUTER, mesh.RIGHT_EYE_INNER]].mean(axis=0)
    assert _value(eyes, eye_centre) == 1.0 and _value(eyes, landmarks[mesh.NOSE_TIP]) == 0.0
    mouth_centre = landmarks[[13, 14]].mean(axis=0)
    assert _value(mouth, mouth_centre) == 1.0 and _value(mouth, landmarks[0]) > 0.0  # lip included
    assert inner.sum() < mouth.sum() and (inner <= mouth + 1e-6).all()
    assert eyes.sum() > 0 and eyes[:, :240].sum() > 0 and eyes[:, 240:].sum() > 0  # both eyes
