"""Frame pacing: hand frames out at the pace of their media time, on a clock that starts with the first.

Used by the paced sources (still images, video files, the benchmark's generated frames) and by
the virtual camera, which must not send faster than the frame rate it announced.
"""

from __future__ import annotations

import math
import time


class FramePacer:
    """Releases a frame of media time ``t`` at ``start + t``; ``start`` is the first call's clock.

    One call sleeps at most ``max_sleep_s``. A caller late by more than ``resync_s`` restarts the
    clock from now instead of bursting to catch up (``math.inf``: always catch up). Both default
    to one frame period: a steady stream that never waits long and never bursts.
    """

    def __init__(self, fps: float = 30.0, resync_s: float | None = None, max_sleep_s: float | None = None) -> None:
        self.fps = fps
        self.resync_s = 1.0 / fps if resync_s is None else resync_s
        self.max_sleep_s = 1.0 / fps if max_sleep_s is None else max_sleep_s
        self._start: float | None = None
        self._count = 0

    def wait_until(self, media_time: float) -> None:
        """Sleep until the frame at ``media_time`` (seconds since the first frame) is due."""
        now = time.monotonic()
        if self._start is None:
            self._start = now - media_time
        delay = self._start + media_time - now
        if delay > 0:
            time.sleep(min(delay, self.max_sleep_s))
        elif delay < -self.resync_s:
            self._start -= delay

    def wait(self) -> None:
        """Sleep until the next frame of a steady ``fps`` stream is due."""
        self.wait_until(self._count / self.fps)
        self._count += 1


def catch_up_pacer(fps: float, max_sleep_s: float = math.inf) -> FramePacer:
    """A pacer that never drops its clock: a late caller gets frames back to back until on time."""
    return FramePacer(fps, resync_s=math.inf, max_sleep_s=max_sleep_s)
