"""Preview JPEGs for the control panel, made off the live path.

The pipeline's frame listener (on the sink thread) only keeps a reference to the newest frame:
no copy, no encoding. A thread of the panel's own wakes at most ``fps`` times a second, and
only while someone watches, shrinks that frame to ``max_width`` and encodes it as JPEG. The
"after" view is the output frame; the "before" view is ``Frame.original``, the capture as it
came from the source. Each JPEG carries the frame's index and its capture time on the wall
clock, so the page can measure how old a picture is when it is shown.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from livefake.pipeline.frame import Frame

View = Literal["after", "before"]
VIEWS: tuple[View, ...] = ("after", "before")
WATCH_HOLD_S = 2.0  # a view is encoded for this long after someone last asked for it


@dataclass(frozen=True)
class PreviewJpeg:
    """One encoded preview picture."""

    sequence: int  # counts up per view
    index: int  # the frame's capture index
    capture_wall_ms: float  # capture time on the wall clock (time.time() in ms)
    data: bytes


@dataclass
class _Latest:
    frame: Frame | None = None
    received: int = 0  # frames seen by the listener


class PreviewEncoder:
    """Keeps the newest output frame and encodes it for whoever watches, at a bounded rate."""

    def __init__(self, max_width: int = 480, fps: float = 10.0, quality: int = 70) -> None:
        self.max_width = max_width
        self.period_s = 1.0 / fps
        self.quality = quality
        self._latest = _Latest()
        self._jpegs: dict[View, PreviewJpeg | None] = dict.fromkeys(VIEWS)
        self._watched_until: dict[View, float] = dict.fromkeys(VIEWS, 0.0)
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._arrived = threading.Event()
        self._thread: threading.Thread | None = None
        self.encode_ms: list[float] = []  # recent encode times, for the panel's own cost figures

    # -- the live path's side: one reference per frame ----------------------------------------

    def on_frame(self, frame: Frame) -> None:
        """Frame listener: remember the newest frame (called on the sink thread; no work here)."""
        self._latest.frame = frame
        self._latest.received += 1
        self._arrived.set()

    # -- the panel's side ----------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="livefake-panel-preview", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._arrived.set()
        with self._changed:
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=1.0)

    def watch(self, view: View) -> None:
        """Ask for ``view`` to be encoded for the next ``WATCH_HOLD_S`` seconds."""
        self._watched_until[view] = time.monotonic() + WATCH_HOLD_S

    def latest(self, view: View) -> PreviewJpeg | None:
        return self._jpegs[view]

    def wait_newer(self, view: View, sequence: int, timeout: float) -> PreviewJpeg | None:
        """The first picture of ``view`` newer than ``sequence``, or None after ``timeout`` seconds."""
        self.watch(view)
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._stop.is_set():
                jpeg = self._jpegs[view]
                if jpeg is not None and jpeg.sequence > sequence:
                    return jpeg
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._changed.wait(remaining):
                    return None
        return None

    def _run(self) -> None:
        """Encode a frame as soon as it arrives, but no sooner than one period after the last."""
        next_time = 0.0
        while not self._stop.is_set():
            if not self._arrived.wait(0.25):
                continue
            wait = next_time - time.monotonic()
            if wait > 0 and self._stop.wait(wait):
                return
            self._arrived.clear()
            frame, now = self._latest.frame, time.monotonic()
            watched = [view for view in VIEWS if self._watched_until[view] > now]
            if frame is None or not watched:
                continue
            next_time = now + self.period_s
            for view in watched:
                self._publish(view, frame)

    def _publish(self, view: View, frame: Frame) -> None:
        image = frame.original if view == "before" and frame.original is not None else frame.image
        started = time.perf_counter()
        data = self.encode(image)
        self.encode_ms = [*self.encode_ms[-99:], (time.perf_counter() - started) * 1e3]
        age_ms = (time.monotonic_ns() - frame.t_capture_ns) / 1e6
        previous = self._jpegs[view]
        jpeg = PreviewJpeg((previous.sequence + 1) if previous else 1, frame.index, time.time() * 1e3 - age_ms, data)
        with self._changed:
            self._jpegs[view] = jpeg
            self._changed.notify_all()

    def encode(self, image: np.ndarray) -> bytes:
        """``image`` shrunk to at most ``max_width`` wide, as JPEG bytes."""
        height, width = image.shape[:2]
        if width > self.max_width:
            size = (self.max_width, max(1, round(height * self.max_width / width)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            raise RuntimeError("JPEG encoding of a preview frame failed")
        return encoded.tobytes()
