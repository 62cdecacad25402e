"""What the CLI says and leaves behind when things are only half right: a batch with a bad file,
outputs too small for the provenance marks, a conversion that swapped no face, an extraction
that found none, and the permissions of what it writes."""

from __future__ import annotations

import stat
from pathlib import Path

import cv2
import numpy as np
import pytest

from livefake.merge.watermark import embed, file_source_id, make_payload
from livefake.sources.assets import bundled_photo
from livefake.sources.synthetic import ClipSpec, render_frames, write_clip
from tests.commands.processes import run_cli


@pytest.fixture(scope="module")
def portrait(tmp_path_factory: pytest.TempPathFactory) -> Path:
    image = next(iter(render_frames(ClipSpec(photo="hopper", size=(320, 240), seconds=0.1))))[0]
    path = tmp_path_factory.mktemp("portrait") / "portrait.png"
    cv2.imwrite(str(path), image)
    return path


@pytest.fixture(scope="module")
def wall(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("wall") / "wall.png"
    cv2.imwrite(str(path), np.full((240, 320, 3), 140, np.uint8))
    return path


def test_verify_reports_every_file_of_a_batch_with_a_bad_one(tmp_path: Path, portrait: Path) -> None:
    marked = tmp_path / "marked.png"
    cv2.imwrite(str(marked), embed(cv2.imread(str(portrait)), make_payload(file_source_id(bundled_photo("hopper")))))
    broken = tmp_path / "broken.mp4"
    broken.write_text("not a video")
    result = run_cli(["verify", str(marked), str(broken), str(tmp_path / "gone.png"), str(portrait)])
    assert result.returncode == 1 and "Traceback" not in result.stderr
    out = result.stdout.splitlines()
    assert len(out) == 2 and out[0].startswith(f"{marked}: livefake watermark") and "no livefake" in out[1]
    assert len(result.lines) == 2 and "broken.mp4" in result.lines[0] and "gone.png" in result.lines[1]


def test_an_output_too_small_for_the_marks_says_so_once(tmp_path: Path, face_models: object) -> None:
    clip = tmp_path / "tiny.mp4"
    write_clip(ClipSpec(photo="hopper", size=(96, 48), seconds=0.5), clip, audio=False)
    result = run_cli(["convert", str(clip), str(tmp_path / "out.mp4"), "--face", "collins"])
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.lines if "too small for the provenance marks" in line]
    assert len(warnings) == 1, result.stderr
    assert "label does not fit" in warnings[0] and "watermark cannot be read" in warnings[0]


def test_a_convert_that_swapped_no_face_says_how_many_frames_had_one(
    tmp_path: Path, wall: Path, face_models: object
) -> None:
    out = tmp_path / "out.png"
    result = run_cli(["convert", str(wall), str(out), "--face", "hopper"])
    assert result.returncode == 0 and out.is_file(), result.stderr
    assert any("no face was swapped: 0 of 1 frames had a tracked face" in line for line in result.lines)
    swapped = run_cli(["convert", str(wall), str(tmp_path / "plain.png")])  # no swap asked: nothing to say
    assert not any("no face was swapped" in line for line in swapped.lines)


def test_a_failed_extract_leaves_no_folder(tmp_path: Path, wall: Path, face_models: object) -> None:
    out = tmp_path / "new" / "faces"
    result = run_cli(["extract", str(wall), "--out", str(out)])
    assert result.returncode == 2 and len(result.lines) == 1 and "no face found" in result.lines[0], result.stderr
    assert not (tmp_path / "new").exists(), "the folders it made are left"


def test_outputs_respect_the_umask(tmp_path: Path, portrait: Path, face_models: object) -> None:
    converted = tmp_path / "out.jpg"
    assert run_cli(["convert", str(portrait), str(converted), "--face", "collins"], umask=0o027).returncode == 0
    faces = tmp_path / "faces"
    assert run_cli(["extract", str(portrait), "--out", str(faces)], umask=0o022).returncode == 0
    assert stat.S_IMODE(converted.stat().st_mode) == 0o640
    assert stat.S_IMODE((faces / "faceset.json").stat().st_mode) == 0o644
    assert {stat.S_IMODE(p.stat().st_mode) for p in faces.glob("*.jpg")} == {0o644}
