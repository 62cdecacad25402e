"""Handing freed heap memory back to the operating system.

glibc's allocator keeps memory freed by a thread in that thread's arena. A live run starts a
thread per sink, and a recording's encoder frees tens of megabytes when it closes: without a
trim, starting and stopping recordings (and loading new swap targets) grows the process's
resident memory though nothing leaks. ``release_freed_memory`` is called after such changes,
never on a stage thread.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys


@functools.lru_cache(maxsize=1)
def _malloc_trim() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name or "libc.so.6").malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return None


def release_freed_memory() -> None:
    """Return the heap memory freed so far to the operating system, where the C library can."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
