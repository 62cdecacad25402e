"""Shared by the `livefake train` CLI tests: tiny facesets, the command line, waiting on a run."""

from __future__ import annotations

import csv
import subprocess
import sys
import time
from pathlib import Path

from livefake.models.synthetic_faceset import write_synthetic_faceset

TINY_FLAGS = ["--encoder-dims", "8", "--inter-dims", "32", "--decoder-dims", "8"]


def write_facesets(root: Path, count: int = 12) -> tuple[Path, Path]:
    src, dst = root / "hopper", root / "collins"
    write_synthetic_faceset("hopper", src, count=count, resolution=64)
    write_synthetic_faceset("collins", dst, count=count, resolution=64, seed=1)
    return src, dst


def train_command(src: Path, dst: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "livefake.cli", "train", "--src", str(src), "--dst", str(dst), "--out", str(out),
        "--resolution", "64", "--batch", "2", "--preview-every", "0", "--threads", "1", "--no-progress",
        *TINY_FLAGS, *extra,
    ]  # fmt: skip


def logged_steps(out: Path) -> list[int]:
    path = out / "losses.csv"
    if not path.exists():
        return []
    with path.open(newline="") as stream:
        return [int(float(row["step"])) for row in csv.DictReader(stream) if row.get("step")]


def logged_losses(out: Path, key: str = "total") -> dict[int, float]:
    with (out / "losses.csv").open(newline="") as stream:
        return {int(float(row["step"])): float(row[key]) for row in csv.DictReader(stream)}


def wait_for_steps(process: subprocess.Popen[str], out: Path, steps: int, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while len(logged_steps(out)) < steps:
        if process.poll() is not None:
            raise AssertionError(f"training ended early ({process.returncode}): {process.communicate()[1]}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"no {steps} steps logged in {timeout_s} s")
        time.sleep(0.05)
