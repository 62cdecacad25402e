"""Facesets for training: bad data refused clearly, batches deterministic and well-formed."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from livefake.errors import InputError
from livefake.faceset.format import read_faceset, write_faceset
from livefake.models.augment import AugmentConfig
from livefake.models.dataset import MIN_FACES, load_face_samples, make_batch


def test_too_few_faces_stops_with_a_clear_message(facesets: tuple[Path, Path], tmp_path: Path) -> None:
    src, _ = facesets
    small = tmp_path / "small"
    shutil.copytree(src, small)
    faceset = read_faceset(small)
    write_faceset(small, replace(faceset, faces=faceset.faces[: MIN_FACES - 2]))
    with pytest.raises(InputError, match=rf"{small} has 8 usable faces.*at least 10"):
        load_face_samples(small, "whole", 64)


def test_unreadable_crops_do_not_count_as_usable(facesets: tuple[Path, Path], tmp_path: Path) -> None:
    src, _ = facesets
    broken = tmp_path / "broken"
    shutil.copytree(src, broken)
    for face in read_faceset(broken).faces[:16]:
        (broken / face.file).write_bytes(b"not a jpeg")
    with pytest.raises(InputError, match="16 unusable"):
        load_face_samples(broken, "whole", 64)


def test_other_face_type_or_resolution_is_refused(facesets: tuple[Path, Path]) -> None:
    src, _ = facesets
    with pytest.raises(InputError, match="'whole' faces but the model is 'full'"):
        load_face_samples(src, "full", 64)
    with pytest.raises(InputError, match="64 px but the model is 128 px"):
        load_face_samples(src, "whole", 128)


def test_batches_are_deterministic_and_well_formed(facesets: tuple[Path, Path]) -> None:
    samples = load_face_samples(facesets[0], "whole", 64)
    first = make_batch(samples, np.random.default_rng([3, 7]), 4, AugmentConfig())
    again = make_batch(samples, np.random.default_rng([3, 7]), 4, AugmentConfig())
    other = make_batch(samples, np.random.default_rng([3, 8]), 4, AugmentConfig())
    assert np.array_equal(first.inputs, again.inputs) and np.array_equal(first.targets, again.targets)
    assert not np.array_equal(first.inputs, other.inputs)
    assert first.inputs.shape == first.targets.shape == (4, 3, 64, 64)
    assert first.masks.shape == first.regions.shape == (4, 1, 64, 64)
    for array in (first.inputs, first.targets, first.masks, first.regions):
        assert array.dtype == np.float32 and 0.0 <= array.min() and array.max() <= 1.0
    assert not np.allclose(first.inputs, first.targets)  # the grid warp touches the input only
    face_share = float(first.masks.mean())
    eye_mouth_share = float(first.regions.mean())
    assert 0.2 < face_share < 0.7 and 0.005 < eye_mouth_share < face_share / 3
    assert float((first.regions * (1 - first.masks)).sum()) < 0.02 * float(first.regions.sum())  # inside the face
