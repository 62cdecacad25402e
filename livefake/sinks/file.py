"""Recording to a file through PyAV: H.264 video, the input's audio copied on conversion.

The file is written under a temporary name beside the target and renamed when finished, so
a failed or interrupted run leaves nothing half-written. A write that fails (a full disk)
removes the temporary file and raises one ``InputError`` naming the target.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from livefake.config import OutputConfig
from livefake.errors import InputError, write_failure_reason
from livefake.pipeline.frame import Frame
from livefake.pipeline.stage import Sink, StreamInfo
from livefake.sinks.audio_copy import AudioCopier

log = logging.getLogger(__name__)

# what this sink writes (reading accepts more: see livefake.sources.image)
WRITTEN_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
WRITTEN_VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov", ".avi", ".ts")


def check_writable(path: Path) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"cannot write {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise InputError(f"cannot write {path}: no permission to write in {folder}")
    if path.is_dir():
        raise InputError(f"cannot write {path}: it is a folder")


def partial_path(path: Path) -> Path:
    """A new empty file beside ``path`` for the output in progress, created with the usual
    permissions (0666 less the umask, as the final file would get)."""
    for _ in range(100):
        partial = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.partial{path.suffix}")
        try:
            os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return partial
    raise InputError(f"cannot write {path}: no free temporary name beside it")


class FileSink(Sink):
    """H.264 in MP4/MKV/MOV (or one image file for a single-image conversion)."""

    name = "file"

    def __init__(self, path: str | Path, copy_audio: bool = True, crf: int = 20, preset: str = "veryfast") -> None:
        self.path = Path(path).expanduser()
        self.copy_audio = copy_audio
        self.crf = crf
        self.preset = preset
        self.frames = 0
        self._partial: Path | None = None
        self._container: av.container.OutputContainer | None = None
        self._stream: av.VideoStream | None = None
        self._audio: AudioCopier | None = None
        self._fps = 30.0
        self._last_pts = -1
        self._t0_ns: int | None = None

    @classmethod
    def from_spec(cls, spec: str, output: OutputConfig) -> FileSink:
        return cls(spec)

    @property
    def is_image(self) -> bool:
        return self.path.suffix.lower() in WRITTEN_IMAGE_SUFFIXES

    def open(self, info: StreamInfo) -> None:
        suffix = self.path.suffix.lower()
        if suffix not in WRITTEN_IMAGE_SUFFIXES + WRITTEN_VIDEO_SUFFIXES:
            raise InputError(
                f"cannot write {self.path}: unknown file type '{suffix}'; use one of "
                f"{', '.join(WRITTEN_VIDEO_SUFFIXES + WRITTEN_IMAGE_SUFFIXES)}"
            )
        check_writable(self.path)
        self._partial = partial_path(self.path)
        self._fps = info.fps or 30.0
        try:
            self._open_container(info)
        except BaseException as error:  # an interrupt too: the partial file must not stay behind
            self.abort()
            if isinstance(error, OSError | av.FFmpegError):
                raise InputError(f"cannot write {self.path}: {write_failure_reason(error)}") from error
            raise

    def _open_container(self, info: StreamInfo) -> None:
        if self.is_image:
            return
        container = av.open(str(self._partial), mode="w")
        stream = container.add_stream("libx264", rate=Fraction(self._fps).limit_denominator(1001))
        stream.width, stream.height = info.width - info.width % 2, info.height - info.height % 2
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(self.crf), "preset": self.preset}
        self._container, self._stream = container, stream
        if self.copy_audio and info.has_audio and info.path:
            self._audio = AudioCopier(Path(info.path), container)

    def write(self, frame: Frame) -> None:
        with self._failing_write_removes_partial():
            self._write(frame)

    @contextmanager
    def _failing_write_removes_partial(self) -> Iterator[None]:
        try:
            yield
        except (OSError, av.FFmpegError) as error:
            self.abort()
            raise InputError(f"cannot write {self.path}: {write_failure_reason(error)}") from error

    def _write(self, frame: Frame) -> None:
        self.frames += 1
        if self.is_image:
            self._write_image(frame)
            return
        assert self._container is not None and self._stream is not None, "open() first"
        pts = self._pts(frame)
        if pts <= self._last_pts:
            return
        self._last_pts = pts
        image = frame.image[: self._stream.height, : self._stream.width]
        yuv = np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420), dtype=np.uint8)
        video_frame = av.VideoFrame.from_numpy_buffer(yuv, format="yuv420p")
        video_frame.pts = pts
        self._container.mux(self._stream.encode(video_frame))
        if self._audio is not None:
            self._audio.copy_until(pts / self._fps)

    def _pts(self, frame: Frame) -> int:
        """Frames keep their source time; camera frames are timed from the first capture."""
        if frame.pts is not None:
            return round(frame.pts * self._fps)
        if self._t0_ns is None:
            self._t0_ns = frame.t_capture_ns
        return round((frame.t_capture_ns - self._t0_ns) / 1e9 * self._fps)

    def _write_image(self, frame: Frame) -> None:
        assert self._partial is not None
        ok, data = cv2.imencode(self.path.suffix.lower(), frame.image)
        if not ok:
            raise InputError(f"cannot encode {self.path}")
        self._partial.write_bytes(data.tobytes())

    def close(self) -> None:
        """Finish the file (encoder flush, audio, trailer) and rename it into place."""
        with self._failing_write_removes_partial():
            self._finish()

    def _finish(self) -> None:
        if self._container is not None and self._stream is not None:
            self._container.mux(self._stream.encode())
            if self._audio is not None:
                self._audio.copy_until(None)
                self._audio.close()
                self._audio = None
            self._container.close()
            self._container = None
        if self._partial is not None:
            if self.frames:
                self._partial.replace(self.path)
            else:
                self._partial.unlink(missing_ok=True)
            self._partial = None

    def abort(self) -> None:
        """Drop the output in progress: nothing is renamed into place, the partial file goes."""
        try:
            if self._audio is not None:
                self._audio.close()
            if self._container is not None:
                self._container.close()
        except (OSError, av.FFmpegError) as error:  # closing a file being thrown away may fail too
            log.debug("closing the discarded %s: %s", self._partial, error)
        finally:
            self._audio = None
            self._container = None
            self._remove_partial()

    def _remove_partial(self) -> None:
        if self._partial is not None:
            self._partial.unlink(missing_ok=True)
            self._partial = None
