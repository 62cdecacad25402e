"""Video files through PyAV: paced at the file's rate for live use, or as fast as possible offline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from livefake.errors import InputError
from livefake.pipeline.pacer import FramePacer
from livefake.pipeline.stage import Captured, Source, StreamInfo


def open_container(path: Path) -> av.container.InputContainer:
    """Open a media file for reading, turning every failure into one clear InputError."""
    if not path.exists():
        raise InputError(f"input file {path} does not exist")
    if path.is_dir():
        raise InputError(f"input {path} is a folder, not a video file")
    try:
        return av.open(str(path), mode="r")
    except (av.error.FFmpegError, UnicodeDecodeError) as error:
        raise InputError(f"{path} is not a readable video: {error}") from None


class VideoFileSource(Source):
    """Decodes a video file. ``realtime`` paces frames at the file's rate; ``loop`` replays it."""

    name = "video"

    def __init__(self, path: str | Path, realtime: bool = True, loop: bool = False) -> None:
        self.path = Path(path)
        self.realtime = realtime
        self.loop = loop
        self._container: av.container.InputContainer | None = None
        self._frames: Iterator[av.VideoFrame] | None = None
        self._fps = 30.0
        self._expected = 0
        self._decoded = 0
        self._pacer = FramePacer(resync_s=0.5, max_sleep_s=1.0)
        self._emitted = 0  # frames returned over all loops: the pacing clock
        self._loop_offset = 0.0  # seconds of media played in earlier loops: pts never go back
        self._last_pts = 0.0

    def open(self) -> StreamInfo:
        container = open_container(self.path)
        if not container.streams.video:
            container.close()
            raise InputError(f"{self.path} has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate
        self._fps = float(rate) if rate else 30.0
        self._expected = int(stream.frames or 0)
        width, height = stream.codec_context.width, stream.codec_context.height
        if not width or not height:
            container.close()
            raise InputError(f"{self.path}: the video stream has no frame size; the file may be damaged")
        self._container = container
        self._frames = container.decode(stream)
        return StreamInfo(
            width=width, height=height, fps=self._fps, path=str(self.path),
            has_audio=bool(container.streams.audio), frame_count=self.frame_count,
        )

    @property
    def frame_count(self) -> int | None:
        """Frames the file declares (known after ``open``; None when it does not say)."""
        return None if self.loop else (self._expected or None)

    def read(self) -> Captured | None:
        frame = self._next_frame()
        if frame is None:
            return None
        media_time = float(frame.time) if frame.time is not None else self._decoded / self._fps
        pts = self._last_pts = self._loop_offset + media_time
        image = frame.to_ndarray(format="bgr24")
        self._decoded += 1
        if self.realtime:
            self._pacer.wait_until(self._emitted / self._fps)  # a late reader restarts the clock (no burst)
        self._emitted += 1
        return Captured(np.ascontiguousarray(image), pts)

    def _next_frame(self) -> av.VideoFrame | None:
        assert self._frames is not None, "open() first"
        try:
            return next(self._frames)
        except StopIteration:
            self._check_complete()
            if not self.loop or self._decoded == 0:
                return None
            return self._restart()
        except av.error.FFmpegError as error:
            raise InputError(f"{self.path} is damaged after frame {self._decoded}: {error}") from None

    def _check_complete(self) -> None:
        """A file that declares more frames than it holds was cut short."""
        if self._expected and self._decoded < self._expected * 0.98 and self._emitted == self._decoded:
            raise InputError(
                f"{self.path} is truncated: it declares {self._expected} frames but only "
                f"{self._decoded} could be decoded"
            )

    def _restart(self) -> av.VideoFrame | None:
        assert self._container is not None
        self._decoded = 0
        self._loop_offset = self._last_pts + 1.0 / self._fps
        self._container.seek(0)
        self._frames = self._container.decode(self._container.streams.video[0])
        try:
            return next(self._frames)
        except StopIteration:
            return None

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None
