"""Still images: one picture (repeated when live) or a folder of pictures."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import cv2
import numpy as np

from livefake.errors import InputError
from livefake.pipeline.pacer import catch_up_pacer
from livefake.pipeline.stage import Captured, Source, StreamInfo

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def read_image(path: Path) -> np.ndarray:
    """Read an image as uint8 BGR, or raise an InputError naming the file."""
    if not path.exists():
        raise InputError(f"image {path} does not exist")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise InputError(f"{path} is not a readable image")
    return image


class _PacedSource(Source):
    """Shared pacing: ``realtime`` sources hand out frames at ``fps``."""

    def __init__(self, fps: float, realtime: bool) -> None:
        self.fps = fps
        self.realtime = realtime
        self._pacer = catch_up_pacer(fps, max_sleep_s=1.0)
        self._emitted = 0

    def _pace(self) -> float:
        """Wait for the next frame's time (when ``realtime``); returns its presentation time,
        frame count / fps, offline as well as live, so repeated images never share a time."""
        if self.realtime:
            if self._emitted == 0:
                self._t_start = time.monotonic()
            delay = self._t_start + self._emitted / self.fps - time.monotonic()
            if delay > 0:
                time.sleep(min(delay, 1.0))
        pts = self._emitted / self.fps
        self._emitted += 1
        return pts


class ImageSource(_PacedSource):
    """One image: once offline, repeated at ``fps`` when live (or when ``loop`` is set)."""

    name = "image"

    def __init__(self, path: str | Path, fps: float = 30.0, realtime: bool = True, loop: bool = False) -> None:
        super().__init__(fps, realtime)
        self.path = Path(path)
        self.repeat = realtime or loop
        self._image: np.ndarray | None = None
        self._done = False

    def open(self) -> StreamInfo:
        self._image = read_image(self.path)
        height, width = self._image.shape[:2]
        frame_count = None if self.repeat else 1
        return StreamInfo(width=width, height=height, fps=self.fps, path=str(self.path), frame_count=frame_count)

    def read(self) -> Captured | None:
        if self._done or self._image is None:
            return None
        self._done = not self.repeat
        pts = self._pace()
        return Captured(self._image.copy(), pts)


class FolderSource(_PacedSource):
    """Every image in a folder, in name order, resized to the first image's size."""

    name = "folder"

    def __init__(self, folder: str | Path, fps: float = 30.0, realtime: bool = True, loop: bool = False) -> None:
        super().__init__(fps, realtime)
        self.folder = Path(folder)
        self.loop = loop
        self.files: list[Path] = []
        self.skipped: list[Path] = []
        self._position = 0
        self._size: tuple[int, int] = (0, 0)

    def open(self) -> StreamInfo:
        if not self.folder.is_dir():
            raise InputError(f"folder {self.folder} does not exist")
        self.files = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.files:
            raise InputError(f"folder {self.folder} holds no images ({', '.join(IMAGE_SUFFIXES)})")
        first = read_image(self.files[0])
        self._size = (first.shape[1], first.shape[0])
        frame_count = None if self.loop else len(self.files)
        return StreamInfo(width=self._size[0], height=self._size[1], fps=self.fps, frame_count=frame_count)

    def read(self) -> Captured | None:
        while True:
            if self._position >= len(self.files):
                if not self.loop or len(self.skipped) == len(self.files):
                    return None
                self._position = 0
            path = self.files[self._position]
            self._position += 1
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                log.warning("skipping %s: not a readable image", path)
                self.skipped.append(path)
                continue
            if (image.shape[1], image.shape[0]) != self._size:
                image = cv2.resize(image, self._size, interpolation=cv2.INTER_AREA)
            return Captured(image, self._pace())
