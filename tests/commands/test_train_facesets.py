"""`livefake train` and faceset sizes and face types, through the CLI."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from train_helpers import TINY_FLAGS

from livefake.cli import main
from livefake.faceset.format import read_faceset, write_faceset
from livefake.models.checkpoint import load_checkpoint
from livefake.models.synthetic_faceset import write_synthetic_faceset


@pytest.fixture(scope="module")
def facesets_128(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("train-128")
    src, dst = root / "hopper-128", root / "collins-128"
    write_synthetic_faceset("hopper", src, count=10, resolution=128)
    write_synthetic_faceset("collins", dst, count=10, resolution=128, seed=1)
    return src, dst


def _train(src: Path, dst: Path, out: Path, *extra: str) -> int:
    return main([
        "train", "--src", str(src), "--dst", str(dst), "--out", str(out), "--resolution", "64", "--batch", "2",
        "--max-steps", "2", "--preview-every", "0", "--threads", "1", "--workers", "0", "--no-progress",
        *TINY_FLAGS, *extra,
    ])  # fmt: skip


def test_a_128_px_faceset_trains_a_64_px_model(facesets_128: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert _train(*facesets_128, out) == 0
    loaded = load_checkpoint(out)
    assert loaded.step == 2 and loaded.config.resolution == 64 and loaded.config.face_type == "whole"
    assert json.loads((out / "run.json").read_text())["training"]["face_type"] == "whole"


def test_wrong_face_types_are_refused_with_one_line(
    facesets_128: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, dst = facesets_128
    assert _train(src, dst, tmp_path / "full", "--face-type", "full") == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "holds 'whole' faces but the model is 'full': train with --face-type whole" in lines[0]
    other = tmp_path / "collins-full"
    shutil.copytree(dst, other)
    write_faceset(other, replace(read_faceset(other), face_type="full"))
    assert _train(src, other, tmp_path / "mixed") == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "hold different face types: re-extract one of them" in lines[0]
    assert not (tmp_path / "full").exists() and not (tmp_path / "mixed").exists()
