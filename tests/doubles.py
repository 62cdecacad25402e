"""Small sources, stages and sinks that tests drive pipelines with (import as `doubles`)."""

from __future__ import annotations

import threading
import time

import numpy as np

from livefake.pipeline import Captured, Frame, Sink, Source, Stage, StreamInfo


class CountingSource(Source):
    name = "counting"

    def __init__(self, count: int, fps: float | None = None, size: tuple[int, int] = (32, 24)) -> None:
        self.count, self.fps, self.size = count, fps, size
        self.sent = 0
        self.closed = 0
        self._start = 0.0

    def open(self) -> StreamInfo:
        self._start = time.monotonic()
        return StreamInfo(self.size[0], self.size[1], self.fps or 30.0)

    def read(self) -> Captured | None:
        if self.sent >= self.count:
            return None
        if self.fps:
            time.sleep(max(0.0, self._start + self.sent / self.fps - time.monotonic()))
        image = np.full((self.size[1], self.size[0], 3), self.sent % 256, np.uint8)
        self.sent += 1
        return Captured(image, None)

    def close(self) -> None:
        self.closed += 1


class SleepStage(Stage):
    def __init__(self, name: str, seconds: float = 0.0) -> None:
        self.name, self.seconds = name, seconds
        self.opened = self.closed = 0

    def open(self) -> None:
        self.opened += 1

    def process(self, frame: Frame) -> Frame:
        if self.seconds:
            time.sleep(self.seconds)
        return frame

    def close(self) -> None:
        self.closed += 1


class BlockedStage(Stage):
    """Blocks inside process until released: a stage stuck on a device."""

    name = "stuck"

    def __init__(self) -> None:
        self.release = threading.Event()

    def process(self, frame: Frame) -> Frame:
        self.release.wait(30)
        return frame


class FailingStage(Stage):
    name = "exploding"

    def __init__(self, after: int) -> None:
        self.after = after
        self.seen = 0

    def process(self, frame: Frame) -> Frame:
        self.seen += 1
        if self.seen > self.after:
            raise ValueError("boom")
        return frame


class RecordingSink(Sink):
    name = "recording"

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.indices: list[int] = []
        self.closed = self.aborted = 0

    def open(self, info: StreamInfo) -> None:
        self.info = info

    def write(self, frame: Frame) -> None:
        if self.delay:
            time.sleep(self.delay)
        self.indices.append(frame.index)

    def close(self) -> None:
        self.closed += 1

    def abort(self) -> None:
        self.aborted += 1
