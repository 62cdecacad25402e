"""Faceset entries are file names inside the faceset: `..`, absolute paths and links that lead
out of it are refused when read and when moved (`livefake faceset ...` through the real CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from livefake.faceset.format import Faceset, FacesetFace, write_faceset
from tests.commands.processes import run_cli


def make_faceset(folder: Path, count: int = 3) -> None:
    """A small faceset of flat grey crops (no face models needed)."""
    folder.mkdir()
    faces = []
    for index in range(count):
        name = f"{index:06d}.jpg"
        cv2.imwrite(str(folder / name), np.full((64, 64, 3), 60 + 40 * index, np.uint8))
        landmarks = [[32.0, 32.0]] * 468
        faces.append(FacesetFace(file=name, source="s.mp4", frame=index, landmarks=landmarks,
                                 matrix=[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], blur=float(index)))
    write_faceset(folder, Faceset(face_type="whole", resolution=64, faces=faces))


def rename_entry(folder: Path, position: int, name: str) -> None:
    index = json.loads((folder / "faceset.json").read_text())
    index["faces"][position]["file"] = name
    (folder / "faceset.json").write_text(json.dumps(index))


@pytest.fixture
def setting(tmp_path: Path) -> tuple[Path, Path]:
    """A faceset and, beside it, a file of the user's that must never be read or moved."""
    outside = tmp_path / "holiday.jpg"
    cv2.imwrite(str(outside), np.zeros((64, 64, 3), np.uint8))
    make_faceset(tmp_path / "faces")
    return tmp_path / "faces", outside


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


READ = ["sort", "--by", "brightness"]  # reads every crop
MOVE = ["filter", "--min-blur", "1e9"]  # moves every crop to _rejected/


@pytest.mark.parametrize(
    "how, action",
    [("dot-dot", READ), ("dot-dot", MOVE), ("absolute", ["view"]), ("absolute", MOVE), ("symlink", READ),
     ("symlink", MOVE)],
    ids=["dot-dot-read", "dot-dot-move", "absolute-read", "absolute-move", "symlink-read", "symlink-move"],
)
def test_entries_leading_out_of_the_faceset_are_refused(
    setting: tuple[Path, Path], how: str, action: list[str]
) -> None:
    faces, outside = setting
    if how == "dot-dot":
        rename_entry(faces, 1, "../holiday.jpg")
    elif how == "absolute":
        rename_entry(faces, 1, str(outside))
    else:
        (faces / "000001.jpg").unlink()
        (faces / "000001.jpg").symlink_to(outside)
    before, outside_before = files(faces), outside.read_bytes()
    result = run_cli(["faceset", action[0], str(faces), *action[1:]])
    assert result.returncode == 2, result.stderr
    assert len(result.lines) == 1 and result.lines[0].startswith("livefake: error:"), result.stderr
    assert "outside the faceset" in result.lines[0] or "not a file name inside the faceset" in result.lines[0]
    assert outside.read_bytes() == outside_before, "a file outside the faceset was changed"
    assert files(faces) == before, "the faceset was changed"
    assert not (faces / "_rejected").exists()


def test_a_faceset_of_plain_names_still_filters(setting: tuple[Path, Path]) -> None:
    faces, outside = setting
    result = run_cli(["faceset", "filter", str(faces), "--min-blur", "1.5"])
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (faces / "_rejected").glob("*.jpg")) == ["000000.jpg", "000001.jpg"]
    assert outside.is_file()
