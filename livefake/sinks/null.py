"""A sink that discards frames: for benchmarks and dry runs."""

from __future__ import annotations

from livefake.config import OutputConfig
from livefake.pipeline.frame import Frame
from livefake.pipeline.stage import Sink, StreamInfo


class NullSink(Sink):
    name = "null"

    def __init__(self) -> None:
        self.frames = 0

    @classmethod
    def from_spec(cls, spec: str, output: OutputConfig) -> NullSink:
        return cls()

    def open(self, info: StreamInfo) -> None:
        self.frames = 0

    def write(self, frame: Frame) -> None:
        self.frames += 1
