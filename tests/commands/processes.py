"""Helpers for tests that run the real `livefake` CLI as a process: start it, wait until its work
is visibly under way, send it a real signal, and read what it left on stderr and on disk."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        """The non-empty stderr lines."""
        return [line for line in self.stderr.splitlines() if line.strip()]


def start_cli(args: Sequence[str], cwd: Path | None = None, umask: int = -1) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "livefake.cli", *args], cwd=cwd, env=env, umask=umask,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def run_cli(args: Sequence[str], cwd: Path | None = None, timeout: float = 120, umask: int = -1) -> Finished:
    process = start_cli(args, cwd, umask)
    stdout, stderr = process.communicate(timeout=timeout)
    return Finished(process.returncode, stdout, stderr)


def wait_until(condition: Callable[[], bool], process: subprocess.Popen[str], timeout: float = 60) -> None:
    """Poll ``condition`` until true; fail with the process's stderr if it ends or time runs out."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            _, stderr = process.communicate()
            raise AssertionError(f"livefake ended ({process.returncode}) before the work was under way:\n{stderr}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("the work never got under way")
        time.sleep(0.02)


def signal_and_wait(process: subprocess.Popen[str], signum: int, timeout: float = 60) -> Finished:
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=timeout)
    return Finished(process.returncode, stdout, stderr)


def partial_files(folder: Path) -> list[Path]:
    """Hidden temporary files and folders livefake writes beside its outputs."""
    return sorted(path for path in folder.rglob(".*") if path.name not in (".", ".."))


def has_partial(folder: Path, min_bytes: int = 0) -> Callable[[], bool]:
    """True once a partial file holds more than ``min_bytes``: the work is writing its output."""
    return lambda: any(path.is_file() and path.stat().st_size > min_bytes for path in partial_files(folder))
