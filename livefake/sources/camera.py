"""Cameras through OpenCV: MJPG asked for, size and rate negotiated, reconnect with backoff."""

from __future__ import annotations

import logging
import time

import cv2
import numpy as np

from livefake.errors import DeviceError
from livefake.pipeline.stage import NO_FRAME, Captured, Source, StreamInfo

log = logging.getLogger(__name__)

BACKOFF_S = (0.25, 0.5, 1.0, 2.0, 4.0)


class CameraSource(Source):
    """A webcam by index (``0``) or device path (``/dev/video2``)."""

    name = "camera"

    def __init__(
        self, device: int | str, size: tuple[int, int] | None = None, fps: float | None = None
    ) -> None:
        self.device = device
        self.size = size
        self.fps = fps
        self._capture: cv2.VideoCapture | None = None
        self._failures = 0
        self._next_retry = 0.0
        self.granted: StreamInfo | None = None

    def open(self) -> StreamInfo:
        capture = self._connect()
        if capture is None:
            raise DeviceError(
                f"camera {self.device} could not be opened; run `livefake doctor` to list cameras, "
                "or give a video file with --source"
            )
        self._capture = capture
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = float(capture.get(cv2.CAP_PROP_FPS)) or self.fps or 30.0
        self.granted = StreamInfo(width=width, height=height, fps=fps, is_live=True)
        asked = f"{self.size[0]}x{self.size[1]}" if self.size else "default size"
        log.info("camera %s: asked %s @ %s fps, granted %dx%d @ %.1f fps",
                 self.device, asked, self.fps or "default", width, height, fps)
        return self.granted

    def _connect(self) -> cv2.VideoCapture | None:
        capture = cv2.VideoCapture(self.device)
        if not capture.isOpened():
            capture.release()
            return None
        capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*"MJPG"))
        if self.size:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.size[0])
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.size[1])
        if self.fps:
            capture.set(cv2.CAP_PROP_FPS, self.fps)
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        return capture

    def read(self) -> Captured | None:
        if self._capture is not None:
            ok, image = self._capture.read()
            if ok and image is not None:
                self._failures = 0
                return Captured(_as_bgr(image))
            log.warning("camera %s stopped delivering frames; reconnecting", self.device)
            self._capture.release()
            self._capture = None
            self._next_retry = time.monotonic()
        return self._reconnect()

    def _reconnect(self) -> Captured:
        """One reconnection attempt per call, with growing pauses (each under a second)."""
        wait = self._next_retry - time.monotonic()
        if wait > 0:
            time.sleep(min(wait, 0.5))
            return NO_FRAME
        self._capture = self._connect()
        if self._capture is None:
            backoff = BACKOFF_S[min(self._failures, len(BACKOFF_S) - 1)]
            self._failures += 1
            self._next_retry = time.monotonic() + backoff
        else:
            log.info("camera %s is back", self.device)
        return NO_FRAME

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


def _as_bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return image
