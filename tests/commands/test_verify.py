"""`livefake verify`: text and JSON reports, errors, and a file made by `livefake convert`."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

from livefake.cli import main
from livefake.merge.watermark import embed, file_source_id, make_payload
from livefake.sources.assets import bundled_photo
from livefake.sources.synthetic import ClipSpec, render_frames


@pytest.fixture()
def images(tmp_path: Path) -> tuple[Path, Path]:
    image = next(iter(render_frames(ClipSpec(photo="hopper", size=(640, 480), seconds=0.1))))[0]
    plain, marked = tmp_path / "plain.png", tmp_path / "marked.jpg"
    cv2.imwrite(str(plain), image)
    payload = make_payload(file_source_id(bundled_photo("collins")))
    cv2.imwrite(str(marked), embed(image, payload), [cv2.IMWRITE_JPEG_QUALITY, 70])
    return plain, marked


def test_json_lists_every_file(images: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    plain, marked = images
    assert main(["verify", "--json", str(marked), str(plain)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["path"] for row in rows] == [str(marked), str(plain)]
    assert (
        rows[0]["found"]
        and rows[0]["frames"] == 1
        and rows[0]["marked_frames"] == 1
        and rows[0]["share"] == 1.0
    )
    assert rows[0]["payload"] == make_payload(file_source_id(bundled_photo("collins"))).hex()
    assert not rows[1]["found"] and rows[1]["marked_frames"] == 0 and rows[1]["payload"] is None


def test_text_report_and_source_check(images: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    plain, marked = images
    assert main(["verify", str(marked), str(plain), "--source", str(bundled_photo("collins"))]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "livefake watermark in 1/1 frame" in lines[0] and "matches --source" in lines[0]
    assert "no livefake watermark" in lines[1]
    assert main(["verify", str(marked), "--source", str(bundled_photo("hopper"))]) == 0
    assert "does NOT match" in capsys.readouterr().out


def test_missing_file_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(tmp_path / "gone.mp4")]) != 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().count("\n") == 0 and "gone.mp4 does not exist" in captured.err


def test_convert_output_is_marked_and_its_input_is_not(
    clip_small: Path, face_models: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "swapped.mp4"
    face = bundled_photo("hopper")
    assert main(["convert", str(clip_small), str(output), "--face", str(face)]) == 0
    capsys.readouterr()
    assert main(["verify", "--json", str(output), str(clip_small)]) == 0
    swapped, original = json.loads(capsys.readouterr().out)
    assert swapped["found"] and swapped["share"] >= 0.99
    assert swapped["payload"] == make_payload(file_source_id(face)).hex()
    assert not original["found"] and original["marked_frames"] == 0
