"""Facesets for training: bad data refused clearly, batches deterministic and well-formed."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from livefake.errors import InputError
from livefake.faceset.format import read_faceset, write_faceset
from livefake.models.augment import AugmentConfig
from livefake.models.dataset import MIN_FACES, check_same_face_type, load_face_samples, make_batch


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
    with pytest.raises(InputError, match=r"64 px, smaller than the 128 px model: train with --resolution 64"):
        load_face_samples(src, "whole", 128)


def test_larger_crops_are_resized_as_they_load(faceset_128: Path) -> None:
    """A 128-px faceset feeds a 64-px model: crops area-resized, landmark masks drawn at 64 px."""
    full = load_face_samples(faceset_128, "whole", 128)
    small = load_face_samples(faceset_128, "whole", 64)
    assert small.images.shape == (len(full), 64, 64, 3) and small.hulls.shape == (len(full), 64, 64)
    expected = cv2.resize(full.images[0], (64, 64), interpolation=cv2.INTER_AREA)
    assert np.array_equal(small.images[0], expected)
    hull_small = small.hulls[0].astype(np.float32) / 255
    hull_full = cv2.resize(full.hulls[0], (64, 64), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    assert abs(hull_small.mean() - hull_full.mean()) < 0.02  # the same face area at both sizes


def test_shards_split_the_faces_between_ranks(facesets: tuple[Path, Path]) -> None:
    whole = load_face_samples(facesets[0], "whole", 64)
    shards = [load_face_samples(facesets[0], "whole", 64, rank=rank, world=3) for rank in range(3)]
    assert [len(shard) for shard in shards] == [8, 8, 8]
    assert np.array_equal(shards[1].images[0], whole.images[1]) and np.array_equal(shards[2].images[1], whole.images[5])


def test_facesets_of_two_face_types_are_refused(facesets: tuple[Path, Path], tmp_path: Path) -> None:
    src, dst = facesets
    other = tmp_path / "full"
    shutil.copytree(dst, other)
    write_faceset(other, replace(read_faceset(other), face_type="full"))
    assert check_same_face_type(src, dst) == "whole"
    with pytest.raises(InputError, match=r"hold different face types: re-extract one of them.*--face-type whole"):
        check_same_face_type(src, other)


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
