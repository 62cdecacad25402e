"""One output branch: a sink with its own ring and thread (GStreamer's ``tee`` + ``queue``).

A paced virtual camera or a slow network client blocks only its own branch: live, its ring
drops the oldest frame (counted per sink); offline it blocks, so nothing is lost.
"""

from __future__ import annotations

from dataclasses import dataclass

from livefake.pipeline.frame import Frame
from livefake.pipeline.ring import DropPolicy, Ring
from livefake.pipeline.stage import Sink

Queued = tuple[int, Frame]  # (time put into the ring in monotonic ns, frame)


@dataclass
class SinkBranch:
    """A sink, the ring feeding it, and when it joined (the first settings version it gets)."""

    name: str
    sink: Sink
    ring: Ring[Queued]
    spec: str | None = None  # its entry in ``output.sinks``, when it came from the settings
    optional: bool = False  # may fail without stopping the run while another sink runs
    since_version: int = 0

    @classmethod
    def make(
        cls, name: str, sink: Sink, policy: DropPolicy, capacity: int, spec: str | None = None,
        optional: bool = False,
    ) -> SinkBranch:
        """A branch whose ring holds ``capacity`` frames under ``policy`` (the stages' own)."""
        ring: Ring[Queued] = Ring(capacity, policy, name=f"to-sink:{name}")
        return cls(name, sink, ring, spec, optional)

    def wants(self, frame: Frame) -> bool:
        return frame.settings_version >= self.since_version and not self.ring.closed


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name-2``, ``name-3``... whichever is not in ``taken``."""
    if name not in taken:
        return name
    count = 2
    while f"{name}-{count}" in taken:
        count += 1
    return f"{name}-{count}"
