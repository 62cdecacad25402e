"""A disk that fills up under `convert`, `extract` and `faceset sort|filter|view` (a small tmpfs):
one line, a non-zero exit, nothing under the final name, no partial file, a faceset that opens."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest

from livefake.faceset.format import read_faceset
from livefake.sources.synthetic import ClipSpec, render_frames, write_clip
from tests.commands.disks import fill_leaving, small_disk
from tests.commands.processes import Finished, partial_files, run_cli


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("disk-clip") / "talk.mp4"
    write_clip(ClipSpec(photo="hopper", size=(480, 360), seconds=2.0), path, audio=True)
    return path


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with small_disk(tmp_path / "disk") as folder:
        yield folder


def assert_disk_full_error(result: Finished) -> None:
    assert result.returncode != 0, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.lines) == 1, result.stderr
    assert result.lines[0].startswith("livefake: error:") and "disk is full" in result.lines[0], result.stderr


def test_convert_to_a_full_disk(disk: Path, clip: Path) -> None:
    fill_leaving(disk, 48 << 10)
    result = run_cli(["convert", str(clip), str(disk / "out.mp4")])
    assert_disk_full_error(result)
    assert "out.mp4" in result.lines[0]
    assert sorted(path.name for path in disk.iterdir()) == ["filler.bin"]


def test_convert_an_image_to_a_full_disk(disk: Path, tmp_path: Path) -> None:
    image = next(iter(render_frames(ClipSpec(photo="hopper", size=(640, 480), seconds=0.1))))[0]
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), image)
    fill_leaving(disk, 8 << 10)
    result = run_cli(["convert", str(photo), str(disk / "out.png")])
    assert_disk_full_error(result)
    assert sorted(path.name for path in disk.iterdir()) == ["filler.bin"]


def test_extract_to_a_full_disk_leaves_no_faceset(disk: Path, clip: Path, face_models: object) -> None:
    fill_leaving(disk, 64 << 10)
    result = run_cli(["extract", str(clip), "--out", str(disk / "faces"), "--resolution", "64"])
    assert_disk_full_error(result)
    assert sorted(path.name for path in disk.iterdir()) == ["filler.bin"]


@pytest.fixture(scope="module")
def faceset(tmp_path_factory: pytest.TempPathFactory, clip: Path, face_models: object) -> Path:
    faces = tmp_path_factory.mktemp("disk-faceset") / "faces"
    result = run_cli(["extract", str(clip), "--out", str(faces), "--resolution", "64", "--every", "3"])
    assert result.returncode == 0, result.stderr
    return faces


@pytest.fixture
def faceset_on_disk(disk: Path, faceset: Path) -> Path:
    return Path(shutil.copytree(faceset, disk / "faces"))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.mark.parametrize(
    "action", [["sort", "--by", "blur"], ["filter", "--min-blur", "1e9"], ["view"]], ids=["sort", "filter", "view"]
)
def test_faceset_writes_to_a_full_disk_change_nothing(faceset_on_disk: Path, action: list[str]) -> None:
    before = snapshot(faceset_on_disk)
    index_size = (faceset_on_disk / "faceset.json").stat().st_size
    fill_leaving(faceset_on_disk.parent, index_size // 4)
    result = run_cli(["faceset", action[0], str(faceset_on_disk), *action[1:]])
    assert_disk_full_error(result)
    assert snapshot(faceset_on_disk) == before and partial_files(faceset_on_disk) == []
    assert not (faceset_on_disk / "_rejected").exists()
    faceset = read_faceset(faceset_on_disk)  # still opens, every crop it lists is there
    assert faceset.faces and all((faceset_on_disk / face.file).is_file() for face in faceset.faces)
    assert json.loads((faceset_on_disk / "faceset.json").read_text())["faces"]
