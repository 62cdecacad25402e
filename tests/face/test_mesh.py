"""The canonical face model and index sets are complete and consistent."""

from __future__ import annotations

import numpy as np

from livefake.face import mesh


def test_canonical_model_is_mirror_symmetric_with_the_known_pairs() -> None:
    model = mesh.CANONICAL_3D
    assert model.shape == (468, 3)
    pairs = [(33, 263), (133, 362), (61, 291), (234, 454), (127, 356), (159, 386), (205, 425)]
    for right, left in pairs:
        np.testing.assert_allclose(model[left], model[right] * [-1, 1, 1])
    assert model[mesh.NOSE_TIP, 2] == model[:, 2].max()  # the nose tip is nearest the camera


def test_mean_face_is_upright_in_image_orientation() -> None:
    face = mesh.MEAN_FACE
    heights = face[[mesh.FOREHEAD, mesh.RIGHT_EYE_OUTER, mesh.MOUTH_RIGHT, mesh.CHIN], 1]
    assert list(heights) == sorted(heights)
    assert face[mesh.RIGHT_EYE_OUTER, 0] < 0 < face[mesh.LEFT_EYE_OUTER, 0]  # subject's right = image left


def test_contours_are_closed_index_sets_within_the_mesh() -> None:
    contours = [mesh.FACE_OVAL, mesh.RIGHT_EYE, mesh.LEFT_EYE, mesh.LIPS_OUTER, mesh.LIPS_INNER,
                mesh.RIGHT_EYEBROW, mesh.LEFT_EYEBROW, mesh.NOSE, mesh.RIGID]
    for contour in contours:
        assert len(set(contour)) == len(contour)
        assert all(0 <= index < mesh.LANDMARK_COUNT for index in contour)
    assert len(mesh.FACE_OVAL) == 36 and len(mesh.LIPS_OUTER) == 20
