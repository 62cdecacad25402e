"""The contracts of the live path: Source, Stage and Sink."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from livefake.pipeline.frame import Frame

if TYPE_CHECKING:
    from livefake.config import LiveConfig


@dataclass(frozen=True)
class StreamInfo:
    """What a source delivers: frame size, nominal rate, and the file it came from, if any."""

    width: int
    height: int
    fps: float
    path: str | None = None  # a media file whose audio an offline sink may copy
    has_audio: bool = False
    frame_count: int | None = None  # frames the source will deliver, when known (a file played once)
    is_live: bool = False  # a camera or network feed: frames come at their own pace and never end


@dataclass(frozen=True)
class Captured:
    """One image from a source: uint8 BGR, and its presentation time in seconds when known."""

    image: np.ndarray
    pts: float | None = None


NO_FRAME = Captured(np.zeros((0, 0, 3), np.uint8))  # a source that is waiting (e.g. reconnecting)


class Source(ABC):
    """Produces images. ``open`` is called once before the first ``read``, ``close`` exactly once."""

    name = "source"

    @abstractmethod
    def open(self) -> StreamInfo:
        """Open the device or file and report what was granted."""

    @abstractmethod
    def read(self) -> Captured | None:
        """Return the next image, ``NO_FRAME`` when none came in time, or None at the end.

        A live source paces itself (a camera blocks for the next frame, a file played live
        sleeps to its frame rate); it must return within about a second so stop can be seen.
        """

    def close(self) -> None:
        """Release the device or file."""


class Stage(ABC):
    """One step of the live path, run on its own thread.

    ``open`` is called once on the stage's thread before the first frame, ``close`` exactly
    once after the last. ``process`` returns the frame to pass on, or None to pass nothing.
    """

    name = "stage"

    def open(self) -> None:
        """Load models and allocate buffers."""

    def configure(self, settings: LiveConfig) -> None:
        """Take a new settings snapshot. Called on the stage's own thread before ``process``
        whenever the snapshot changed from the one the stage was built with. Must be quick:
        heavy objects (photos, models) are loaded before the snapshot is published."""

    @abstractmethod
    def process(self, frame: Frame) -> Frame | None:
        """Work on one frame."""

    def close(self) -> None:
        """Release what ``open`` took."""


class Sink(ABC):
    """Takes finished frames out of the process: a file, a window, a virtual camera, a stream."""

    name = "sink"

    @abstractmethod
    def open(self, info: StreamInfo) -> None:
        """Prepare for frames of ``info``'s size and rate. Raise a LivefakeError if impossible."""

    @abstractmethod
    def write(self, frame: Frame) -> None:
        """Deliver one frame. Must not block for longer than about one frame period."""

    def close(self) -> None:
        """Flush, finish and release. Called exactly once when the stream ended or was stopped."""

    def abort(self) -> None:
        """Called instead of ``close`` when the pipeline failed: drop any partial output."""
        self.close()
