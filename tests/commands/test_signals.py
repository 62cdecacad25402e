"""Ctrl-C, SIGTERM and SIGHUP sent to a real `livefake` process while it works: an offline
command keeps nothing half-written and exits 128 + the signal with one line; a live recording
is finalised and kept. Also: `convert` refuses to overwrite its own input."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import av
import pytest

from livefake.sources.synthetic import ClipSpec, write_clip
from tests.commands.checkpoints import write_checkpoint
from tests.commands.processes import (
    EXIT_CODES,
    Finished,
    has_partial,
    partial_files,
    run_cli,
    signal_and_wait,
    start_cli,
    wait_until,
)

# SIGTERM runs in the fast suite; Ctrl-C and SIGHUP take the same handler (livefake.cli) and run with -m slow
SIGNAL_PARAMS = [
    pytest.param(signal.SIGINT, id="SIGINT", marks=pytest.mark.slow),
    pytest.param(signal.SIGTERM, id="SIGTERM"),
    pytest.param(signal.SIGHUP, id="SIGHUP", marks=pytest.mark.slow),
]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 s of 480x360 with sound: about two seconds of work for `convert`."""
    path = tmp_path_factory.mktemp("signal-clip") / "talk.mp4"
    write_clip(ClipSpec(photo="hopper", size=(480, 360), seconds=4.0), path, audio=True)
    return path


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_checkpoint(tmp_path_factory.mktemp("signal-run") / "run")


def assert_stopped_by(result: Finished, signum: int, command: str) -> None:
    name = signal.Signals(signum).name
    assert result.returncode == EXIT_CODES[signum], result.stderr
    assert "Traceback" not in result.stderr
    stops = [line for line in result.lines if "stopped by" in line or "error" in line]
    assert stops == [f"livefake: {command} stopped by {name}"], result.stderr
    assert result.lines[-1] == stops[0]
    assert not any(line.startswith("livefake: wrote") for line in result.lines), result.stderr


@pytest.mark.parametrize("signum", SIGNAL_PARAMS)
def test_signal_during_convert_keeps_nothing(tmp_path: Path, clip: Path, face_models: object, signum: int) -> None:
    out = tmp_path / "swapped.mp4"
    process = start_cli(["convert", str(clip), str(out), "--face", "collins"])
    wait_until(has_partial(tmp_path, min_bytes=1000), process)  # frames are being encoded
    result = signal_and_wait(process, signum)
    assert_stopped_by(result, signum, "convert")
    assert list(tmp_path.iterdir()) == [], "an output or a partial file was left"


@pytest.mark.parametrize("signum", SIGNAL_PARAMS)
def test_signal_during_extract_leaves_no_faceset(tmp_path: Path, clip: Path, face_models: object, signum: int) -> None:
    out = tmp_path / "faces"
    process = start_cli(["extract", str(clip), "--out", str(out), "--resolution", "64"])
    wait_until(lambda: len(list(out.glob("*.jpg"))) >= 3, process)  # crops are being written
    result = signal_and_wait(process, signum)
    assert_stopped_by(result, signum, "extract")
    assert not out.exists(), f"left {sorted(p.name for p in out.iterdir())}"


def test_signal_during_extract_into_an_existing_faceset_keeps_it_as_it_was(
    tmp_path: Path, clip: Path, face_models: object
) -> None:
    out = tmp_path / "faces"
    assert run_cli(["extract", str(clip), "--out", str(out), "--resolution", "64", "--every", "40"]).returncode == 0
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    process = start_cli(["extract", str(clip), "--out", str(out), "--resolution", "64"])
    wait_until(lambda: len(list(out.glob("*.jpg"))) >= len(before) + 2, process)
    result = signal_and_wait(process, signal.SIGTERM)
    assert_stopped_by(result, signal.SIGTERM, "extract")
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before




@pytest.mark.parametrize("signum", SIGNAL_PARAMS)
def test_signal_during_export_keeps_nothing(tmp_path: Path, checkpoint: Path, signum: int) -> None:
    out_dir = tmp_path / "models"
    out_dir.mkdir()
    process = start_cli(["export", str(checkpoint), "--out", str(out_dir / "swap.onnx")])
    wait_until(has_partial(out_dir), process)  # the export's work folder beside --out
    result = signal_and_wait(process, signum)
    assert_stopped_by(result, signum, "export")
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("signum", SIGNAL_PARAMS[1:])
def test_signal_during_a_live_recording_finalises_it(
    tmp_path: Path, clip: Path, face_models: object, signum: int
) -> None:
    recording = tmp_path / "rec.mp4"
    process = start_cli(["live", "--source", str(clip), "--loop", "--sink", str(recording), "--face", "collins"])
    wait_until(has_partial(tmp_path, min_bytes=0), process)
    wait_until(lambda: any(p.stat().st_size > 2000 for p in partial_files(tmp_path)), process)
    result = signal_and_wait(process, signum)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "frames out" in result.lines[-1]
    assert partial_files(tmp_path) == []
    with av.open(str(recording)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames >= 5, "the recording was not finalised"


@pytest.mark.parametrize("how", ["same path", "another path", "a symlink", "a hard link"])
def test_convert_refuses_to_overwrite_its_input(tmp_path: Path, clip: Path, how: str) -> None:
    source = tmp_path / "in.mp4"
    source.write_bytes(clip.read_bytes())
    (tmp_path / "sub").mkdir()
    target = {
        "same path": source,
        "another path": tmp_path / "sub" / ".." / "in.mp4",
        "a symlink": tmp_path / "link.mp4",
        "a hard link": tmp_path / "hard.mp4",
    }[how]
    if how == "a symlink":
        target.symlink_to(source)
    if how == "a hard link":
        os.link(source, target)
    before = source.read_bytes()
    result = run_cli(["convert", str(source), str(target)])
    assert result.returncode == 2 and len(result.lines) == 1, result.stderr
    assert result.lines[0].startswith("livefake: error:") and "is the input" in result.lines[0]
    assert source.read_bytes() == before and partial_files(tmp_path) == []


def test_a_second_signal_during_the_clean_up_changes_nothing(tmp_path: Path, clip: Path, face_models: object) -> None:
    """An impatient second Ctrl-C must not cut the removal of the partial file short."""
    process = start_cli(["convert", str(clip), str(tmp_path / "swapped.mp4"), "--face", "collins"])
    wait_until(has_partial(tmp_path, min_bytes=1000), process)
    process.send_signal(signal.SIGTERM)
    # Python runs pending handlers lowest signal number first: give SIGTERM's its turn before SIGINT
    # arrives, so the second signal lands in the clean-up and not beside the first.
    time.sleep(0.2)
    result = signal_and_wait(process, signal.SIGINT)  # no-op if it has already exited
    assert_stopped_by(result, signal.SIGTERM, "convert")
    assert list(tmp_path.iterdir()) == []
