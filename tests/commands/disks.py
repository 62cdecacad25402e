"""A small real filesystem that runs out of space: a tmpfs mounted for one test (root only)."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PAGE = b"\0" * 4096


@contextmanager
def small_disk(folder: Path, size: str = "4m") -> Iterator[Path]:
    """``folder`` with a tmpfs of ``size`` mounted on it; skips the test where mounting is not allowed."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0777", "tmpfs", str(folder)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill ({mounted.stderr.strip() or 'mount failed'}); needs root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill_leaving(folder: Path, free_bytes: int) -> Path:
    """Fill the filesystem of ``folder`` until only about ``free_bytes`` are left; returns the filler."""
    reserve = folder / "reserve.bin"
    reserve.write_bytes(b"\0" * free_bytes)
    filler = folder / "filler.bin"
    handle = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        while _wrote_page(handle):
            pass
    finally:
        os.close(handle)
    reserve.unlink()
    return filler


def _wrote_page(handle: int) -> bool:
    try:
        os.write(handle, PAGE)
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise
        return False
    return True
