"""Facesets of two generated identities (Hopper = src/A, Collins = dst/B), made without the tracker."""

from __future__ import annotations

from pathlib import Path

import pytest

from livefake.models.synthetic_faceset import write_synthetic_faceset

TINY_WIDTHS = {"encoder_dims": 8, "inter_dims": 32, "decoder_dims": 8}


@pytest.fixture(scope="session")
def facesets(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(src, dst) facesets: 24 'whole' 64 px crops each of Hopper and Collins."""
    root = tmp_path_factory.mktemp("facesets")
    src, dst = root / "hopper", root / "collins"
    write_synthetic_faceset("hopper", src, count=24, resolution=64)
    write_synthetic_faceset("collins", dst, count=24, resolution=64, seed=1)
    return src, dst


@pytest.fixture(scope="session")
def faceset_128(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 'whole' 128 px crops of Hopper (a faceset extracted larger than the model)."""
    folder = tmp_path_factory.mktemp("facesets128") / "hopper-128"
    write_synthetic_faceset("hopper", folder, count=12, resolution=128)
    return folder
