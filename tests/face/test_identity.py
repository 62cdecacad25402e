"""Identity distance with dlib's face recognition model (the `identity` extra)."""

from __future__ import annotations

import sys
import time

import cv2
import numpy as np
import pytest

from livefake.errors import ModelError
from livefake.face.identity import (
    SAME_PERSON_THRESHOLD,
    IdentityModel,
    box_from_landmarks,
    embedding_distance,
    identity_distance,
)
from livefake.sources.assets import load_photo


def test_missing_dlib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dlib", None)  # makes `import dlib` raise ImportError
    with pytest.raises(ModelError, match=r"livefake\[identity\]"):
        IdentityModel()


def test_embedding_distance_is_euclidean() -> None:
    assert embedding_distance(np.zeros(128), np.full(128, 0.5)) == pytest.approx(np.sqrt(128) * 0.5)


@pytest.fixture(scope="module")
def identity_model() -> IdentityModel:
    pytest.importorskip("dlib", reason="dlib not installed: pip install 'livefake[identity]'")
    return IdentityModel()


def test_same_person_is_close_and_different_people_are_not(identity_model: IdentityModel) -> None:
    hopper, collins = load_photo("hopper"), load_photo("collins")
    mirrored = cv2.flip(hopper, 1)
    smaller = cv2.resize(collins, None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA)
    assert identity_model.distance(hopper, mirrored) < SAME_PERSON_THRESHOLD / 2
    assert identity_model.distance(collins, smaller) < SAME_PERSON_THRESHOLD / 2
    assert identity_model.distance(hopper, collins) > SAME_PERSON_THRESHOLD


def test_embeddings_are_cached_per_image_and_box(identity_model: IdentityModel) -> None:
    hopper = load_photo("hopper")
    box = identity_model.detect(hopper)
    first = identity_model.embed(hopper, box)
    start = time.perf_counter()
    again = identity_model.embed(hopper.copy(), box)
    assert again is first and time.perf_counter() - start < 0.05
    assert first.shape == (128,) and first.dtype == np.float32
    shifted = identity_model.embed(hopper, box + 4)
    assert shifted is not first and embedding_distance(shifted, first) < 0.1


def test_identity_distance_without_a_model_argument(identity_model: IdentityModel) -> None:
    hopper = load_photo("hopper")
    assert identity_distance(hopper, hopper) == pytest.approx(0.0, abs=1e-6)


def test_no_face_for_dlib_is_an_input_error(identity_model: IdentityModel) -> None:
    from livefake.errors import InputError

    with pytest.raises(InputError, match="no face"):
        identity_model.detect(np.full((200, 200, 3), 128, np.uint8))


def test_box_from_landmarks_matches_dlibs_detector(
    identity_model: IdentityModel, face_models: object
) -> None:
    from livefake.face.track import find_faces

    for name in ("hopper", "collins"):
        photo = load_photo(name)
        mesh_box = box_from_landmarks(find_faces(photo)[0].landmarks)
        hog_box = identity_model.detect(photo)
        side = float(hog_box[2] - hog_box[0])
        assert np.abs(mesh_box - hog_box).max() < 0.15 * side
        from_mesh, from_hog = identity_model.embed(photo, mesh_box), identity_model.embed(photo, hog_box)
        assert embedding_distance(from_mesh, from_hog) < 0.15  # box jitter moves embeddings ~0.1
