"""`livefake train --nproc 2` (DDP, gloo on the CPU) through the real CLI: a rank killed, the run resumed."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
from train_helpers import logged_losses, logged_steps, train_command, wait_for_steps, write_facesets

from livefake.models.checkpoint import load_checkpoint

DDP = ["--nproc", "2", "--workers", "0", "--seed", "3"]  # train_command gives --batch 2 unless told


@pytest.fixture(scope="module")
def facesets(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_facesets(tmp_path_factory.mktemp("train-ddp"))


def _rank_pid(launcher: int, rank: int) -> int:
    for child in Path(f"/proc/{launcher}/task/{launcher}/children").read_text().split():
        environment = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
        if f"RANK={rank}".encode() in environment:
            return int(child)
    raise AssertionError(f"no rank {rank} under launcher {launcher}")


def start_ddp_run(facesets: tuple[Path, Path], out: Path, save_every: int, steps: int) -> subprocess.Popen[str]:
    """A two-process run with no step limit, returned once it has logged ``steps`` steps."""
    process = subprocess.Popen(
        train_command(*facesets, out, *DDP, "--max-steps", "100000", "--save-every", str(save_every)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_for_steps(process, out, steps)
    return process


@pytest.mark.slow  # two processes through a SIGKILL and a resume; the launcher test below stays in the fast suite
def test_a_killed_rank_stops_all_and_the_run_resumes_exactly(facesets: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "run"
    process = start_ddp_run(facesets, out, save_every=4, steps=5)
    subprocess.run(["kill", "-KILL", str(_rank_pid(process.pid, 1))], check=True)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGKILL, stderr
    errors = [line for line in stderr.splitlines() if "error" in line or "Traceback" in line]
    assert errors == ["livefake: error: rank 1 of 2 was killed by SIGKILL; stopped every rank"], stderr
    uninterrupted = logged_losses(out)  # what the run logged before the kill, past its last checkpoint too
    saved = load_checkpoint(out).step
    assert saved == 4 and max(uninterrupted) > saved
    resumed = subprocess.run(train_command(*facesets, out, *DDP, "--max-steps", "8"), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert logged_steps(out) == list(range(1, 9))
    again = logged_losses(out)
    for step in range(saved + 1, max(uninterrupted) + 1):  # steps trained twice: before the kill and after resuming
        assert again[step] == pytest.approx(uninterrupted[step], rel=1e-6), (step, uninterrupted, again)


def test_sigterm_to_the_launcher_stops_every_rank_after_the_same_step_and_saves(
    facesets: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    process = start_ddp_run(facesets, out, save_every=100000, steps=3)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr
    step = logged_steps(out)[-1]
    lines = [line for line in stderr.splitlines() if "stopped" in line or "error" in line or "Traceback" in line]
    assert lines == [f"livefake: stopped by SIGTERM at step {step}: saved {out / 'checkpoint.safetensors'}"]
    assert load_checkpoint(out).step == step


@pytest.mark.slow
def test_two_processes_follow_one_with_the_same_global_batch(facesets: tuple[Path, Path], tmp_path: Path) -> None:
    """Must-show 1 in short (perf/train_ddp.py runs 200 steps): final losses within 5%."""
    steps = ["--max-steps", "120", "--lr", "3e-3", "--seed", "3"]
    one = subprocess.run(train_command(*facesets, tmp_path / "one", "--batch", "8", *steps), capture_output=True)
    two = subprocess.run(train_command(*facesets, tmp_path / "two", *DDP, "--batch", "4", *steps), capture_output=True)
    assert one.returncode == two.returncode == 0, (one.stderr, two.stderr)
    ends = []
    for name in ("one", "two"):
        src, dst = logged_losses(tmp_path / name, "src_recon"), logged_losses(tmp_path / name, "dst_recon")
        ends.append(sum(src[step] + dst[step] for step in range(91, 121)) / 30)
    assert ends[1] == pytest.approx(ends[0], rel=0.05), ends
