"""The faceset index: round trip, atomic write, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from livefake.errors import InputError
from livefake.faceset.format import FACESET_INDEX, Faceset, FacesetFace, read_face_image, read_faceset, write_faceset


def _face(index: int) -> FacesetFace:
    landmarks = np.random.default_rng(index).uniform(0, 64, size=(468, 2))
    return FacesetFace(
        file=f"{index:06d}.jpg",
        source="clip.mp4",
        frame=index,
        landmarks=landmarks.tolist(),
        matrix=[[0.5, 0.0, -10.0], [0.0, 0.5, -20.0]],
        yaw=1.5,
        pitch=-2.0,
        roll=3.0,
        blur=120.0,
        score=0.98,
    )


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    faceset = Faceset(face_type="whole", resolution=64, faces=[_face(0), _face(1)])
    write_faceset(tmp_path, faceset)
    loaded = read_faceset(tmp_path)
    assert loaded == faceset
    assert loaded.faces[1].landmarks_array().shape == (468, 2)
    assert loaded.faces[0].matrix_array().shape == (2, 3)
    assert [p.name for p in tmp_path.iterdir()] == [FACESET_INDEX]  # no temporary file left


def test_missing_index_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=str(tmp_path)):
        read_faceset(tmp_path)


def test_invalid_index_is_refused(tmp_path: Path) -> None:
    index = tmp_path / FACESET_INDEX
    index.write_text('{"face_type": "whole", "resolution": 64, "faces": [{"file": "a"}]}')
    with pytest.raises(InputError, match="invalid"):
        read_faceset(tmp_path)
    (tmp_path / FACESET_INDEX).write_text("not json")
    with pytest.raises(InputError, match=FACESET_INDEX):
        read_faceset(tmp_path)


def test_unreadable_crop_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="000000.jpg"):
        read_face_image(tmp_path, _face(0))
