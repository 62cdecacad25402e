"""`livefake extract` and `livefake faceset sort|filter|view` through the real command line."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from livefake.cli import main
from livefake.faceset.format import read_faceset
from livefake.faceset.tools import REJECTED_FOLDER
from livefake.sources.assets import bundled_photo
from livefake.sources.image import read_image
from livefake.sources.synthetic import ClipSpec, write_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "collins.mp4"
    write_clip(ClipSpec(photo="collins", size=(480, 270), seconds=2.0), path, audio=False)
    return path


def test_extract_then_sort_filter_view(face_models, clip: Path, tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO)
    broken = tmp_path / "broken.mov"
    broken.write_bytes(b"not a movie" * 10)
    out = tmp_path / "faceset"
    arguments = [str(clip), str(broken), "--out", str(out), "--resolution", "64", "--every", "5"]
    assert main(["extract", *arguments]) == 0
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1 and "broken.mov is not a readable video" in warnings[0]
    assert "1 unreadable input(s) skipped: " in caplog.text
    faceset = read_faceset(out)
    assert len(faceset.faces) == 12 and faceset.resolution == 64
    assert read_image(out / faceset.faces[0].file).shape == (64, 64, 3)

    assert main(["faceset", "sort", str(out), "--by", "blur"]) == 0
    blurs = [face.blur for face in read_faceset(out).faces]
    assert blurs == sorted(blurs, reverse=True)
    assert main(["faceset", "sort", str(out), "--by", "similarity"]) == 0

    before = {face.file for face in read_faceset(out).faces}
    assert main(["faceset", "filter", str(out), "--min-blur", str(sorted(blurs)[3]), "--max-yaw", "60"]) == 0
    kept = {face.file for face in read_faceset(out).faces}
    rejected = {face.file for face in read_faceset(out / REJECTED_FOLDER).faces}
    assert len(rejected) == 3 and kept | rejected == before and not kept & rejected
    assert "moved 3" in caplog.text

    sheet = tmp_path / "sheet.png"
    assert main(["faceset", "view", str(out), "--out", str(sheet), "--columns", "4", "--limit", "8"]) == 0
    assert read_image(sheet).shape[:2] == (2 * (128 + 18), 4 * 128)
    assert main(["faceset", "view", str(out)]) == 0
    assert (out / "contact_sheet.png").is_file()


def test_extract_errors_are_one_line_with_a_non_zero_exit(face_models, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"junk")
    assert main(["extract", str(broken), "--out", str(tmp_path / "a")]) == 2
    assert "none of the inputs could be read" in capsys.readouterr().err
    photo = str(bundled_photo("hopper"))
    assert main(["extract", photo, "--out", str(tmp_path / "b"), "--resolution", "64"]) == 0
    assert main(["extract", photo, "--out", str(tmp_path / "b"), "--resolution", "96"]) == 2
    assert "use the same --face-type/--resolution" in capsys.readouterr().err


def test_faceset_commands_on_a_folder_that_is_not_a_faceset(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["faceset", "view", str(tmp_path)]) == 2
    assert "is not a faceset" in capsys.readouterr().err
