"""The virtual camera sink: frames become a webcam that call applications can pick.

Through pyvirtualcam: v4l2loopback on Linux, OBS Virtual Camera or Unity Capture on Windows,
OBS's camera extension on macOS. The pixel format is negotiated (BGR when the backend takes
it, else RGB or I420, converted here with OpenCV), the size is the stream's (even for I420),
and frames are paced to the camera rate without ever waiting longer than one frame period.

A missing or failing device is a ``DeviceError`` with the fix; whether the other sinks run on
is the pipeline's decision (``Pipeline(optional_sinks=...)``), not this sink's.
"""

from __future__ import annotations

import logging
import platform
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from livefake.config import OutputConfig
from livefake.errors import DeviceError
from livefake.pipeline.frame import Frame
from livefake.pipeline.pacer import FramePacer
from livefake.pipeline.stage import Sink, StreamInfo

log = logging.getLogger(__name__)

LINUX_FIX = "sudo modprobe v4l2loopback exclusive_caps=1 card_label=livefake"
OTHER_FIX = "install OBS Studio (obsproject.com) and start its virtual camera once"
Converter = Callable[[np.ndarray], np.ndarray]


def virtual_camera_fix() -> str:
    """The one command or step that makes a virtual camera device available on this system."""
    if platform.system() == "Linux":
        return f"load the loopback module: {LINUX_FIX} (package v4l2loopback-dkms)"
    if platform.system() == "Windows":
        return f"{OTHER_FIX}, or install Unity Capture"
    return OTHER_FIX


def _converters() -> list[tuple[str, Converter]]:
    """Pixel formats in order of preference, with the conversion from BGR each needs."""
    return [
        ("BGR", lambda image: image),
        ("RGB", lambda image: cv2.cvtColor(image, cv2.COLOR_BGR2RGB)),
        ("I420", lambda image: cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420)),
    ]


class VirtualCameraSink(Sink):
    """Sends frames to a virtual camera device; see the module docstring."""

    name = "vcam"

    def __init__(self, device: str | None = None, backend: str | None = None, pace: bool = True) -> None:
        self.device = device
        self.backend = backend
        self.pace = pace
        self.pixel_format: str | None = None
        self.size: tuple[int, int] | None = None
        self._camera: Any = None
        self._convert: Converter | None = None
        self._pacer: FramePacer | None = None

    @classmethod
    def from_spec(cls, spec: str, output: OutputConfig) -> VirtualCameraSink:
        return cls(device=output.vcam_device, backend=output.vcam_backend)

    def open(self, info: StreamInfo) -> None:
        import pyvirtualcam

        fps = info.fps if info.fps > 0 else 30.0
        reasons = []
        for name, convert in _converters():
            width, height = (info.width, info.height) if name != "I420" else _even(info.width, info.height)
            try:
                fmt = pyvirtualcam.PixelFormat[name]
                self._camera = pyvirtualcam.Camera(
                    width, height, fps, fmt=fmt, device=self.device, backend=self.backend
                )
            except (RuntimeError, ValueError, KeyError) as error:
                reasons.append(f"{name}: {error}".replace("\n", "; "))
                continue
            self.pixel_format, self.size, self._convert = name, (width, height), convert
            self._pacer = FramePacer(fps) if self.pace else None
            log.info("virtual camera %s: %dx%d %s at %.1f fps", self._camera.device, width, height, name, fps)
            return
        raise DeviceError(f"no virtual camera device ({_summary(reasons)}): {virtual_camera_fix()}")

    def write(self, frame: Frame) -> None:
        if self._camera is None or self._convert is None or self.size is None:
            return
        image = frame.image
        if (image.shape[1], image.shape[0]) != self.size:
            image = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
        pixels = self._convert(np.ascontiguousarray(image))
        if self._pacer is not None:
            self._pacer.wait()
        try:
            self._camera.send(pixels)
        except (RuntimeError, OSError) as error:
            raise DeviceError(f"virtual camera {self._camera.device} failed: {error}") from error

    def close(self) -> None:
        camera, self._camera = self._camera, None
        if camera is not None:
            camera.close()


def _even(width: int, height: int) -> tuple[int, int]:
    return width - width % 2, height - height % 2


def _summary(reasons: list[str]) -> str:
    """One line from the per-format failures; identical reasons (no device at all) appear once."""
    causes = {reason.split(": ", 1)[1].split(". ")[0] for reason in reasons}
    return next(iter(causes)) if len(causes) == 1 else "; ".join(reasons)
