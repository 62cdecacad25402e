"""`livefake train` through the real CLI: signals save like Ctrl-C; a full disk keeps the last checkpoint."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from train_helpers import logged_steps, train_command, wait_for_steps, write_facesets

from livefake.models.checkpoint import load_checkpoint


@pytest.fixture(scope="module")
def facesets(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_facesets(tmp_path_factory.mktemp("train-signals"))


@pytest.mark.parametrize(
    ("number", "code"),
    [(signal.SIGTERM, 143), pytest.param(signal.SIGHUP, 129, marks=pytest.mark.slow),
     pytest.param(signal.SIGINT, 130, marks=pytest.mark.slow)],
)  # Ctrl-C takes the same path as SIGTERM (one handler for all three); slow only to keep the suite short
def test_a_stop_signal_saves_the_step_reached(
    facesets: tuple[Path, Path], tmp_path: Path, number: signal.Signals, code: int
) -> None:
    out = tmp_path / "run"
    command = train_command(*facesets, out, "--max-steps", "100000", "--save-every", "100000")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_steps(process, out, 3)
    process.send_signal(number)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    lines = [line for line in stderr.splitlines() if "stopped by" in line or "error" in line or "Traceback" in line]
    step = logged_steps(out)[-1]
    assert lines == [f"livefake: stopped by {number.name} at step {step}: saved {out / 'checkpoint.safetensors'}"]
    assert load_checkpoint(out).step == step  # nothing trained is lost (--save-every was never reached)


def _mount_tmpfs(folder: Path, size: str) -> str:
    folder.mkdir()
    if shutil.which("mount") is None:
        return "no mount command"
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True, text=True
    )
    return "" if result.returncode == 0 else f"cannot mount a tmpfs here: {result.stderr.strip()}"


def test_a_full_disk_stops_with_one_line_and_keeps_the_last_checkpoint(
    facesets: tuple[Path, Path], tmp_path: Path
) -> None:
    disk = tmp_path / "disk"
    reason = _mount_tmpfs(disk, "4m")
    if reason:
        pytest.skip(reason)
    try:
        out = disk / "run"
        process = subprocess.Popen(
            train_command(*facesets, out, "--max-steps", "100000", "--save-every", "2"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        wait_for_steps(process, out, 3)  # a checkpoint exists (step 2)
        free = os.statvfs(disk)
        with (disk / "filler").open("wb") as filler:  # leave room for losses.csv, not for a checkpoint
            filler.write(b"\0" * max(0, free.f_bavail * free.f_frsize - 64 * 1024))
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 2, stderr
        errors = [line for line in stderr.splitlines() if "error" in line or "Traceback" in line]
        assert len(errors) == 1 and "No space left on device" in errors[0], stderr
        assert f"cannot write the checkpoint in {out}" in errors[0] and "last good checkpoint is kept" in errors[0]
        kept = load_checkpoint(out)
        assert kept.step >= 2 and kept.step % 2 == 0
        assert not list(out.glob(".checkpoint-*.tmp"))
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
