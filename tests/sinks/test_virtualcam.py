"""The virtual camera sink, through pyvirtualcam's backend registry with a recording backend."""

from __future__ import annotations

import glob
import logging
import sys
import time
from typing import Any

import cv2
import numpy as np
import pytest
import pyvirtualcam
from doubles import RecordingSink
from pyvirtualcam.util import decode_fourcc

from livefake.config import OutputConfig
from livefake.errors import DeviceError
from livefake.pipeline.frame import Frame
from livefake.pipeline.pipeline import Pipeline
from livefake.pipeline.stage import Captured, Sink, Source, StreamInfo
from livefake.sinks.virtualcam import LINUX_FIX, VirtualCameraSink


class RecordingBackend:
    """A userspace pyvirtualcam backend that keeps every frame it is sent."""

    accepted: tuple[str, ...] = ("24BG", "raw ", "I420")
    instances: list[RecordingBackend] = []

    def __init__(self, *, width: int, height: int, fps: float, fourcc: int, **_: Any) -> None:
        if decode_fourcc(fourcc) not in self.accepted:
            raise RuntimeError(f"pixel format {decode_fourcc(fourcc)} not supported")
        self.width, self.height, self.fps, self.fourcc = width, height, fps, decode_fourcc(fourcc)
        self.frames: list[np.ndarray] = []
        self.closed = 0
        type(self).instances.append(self)

    def send(self, frame: np.ndarray) -> None:
        self.frames.append(frame.copy())

    def close(self) -> None:
        self.closed += 1

    def device(self) -> str:
        return "recorder"

    def native_fourcc(self) -> int | None:
        return None


class RgbOnlyBackend(RecordingBackend):
    accepted = ("raw ",)
    instances: list[RecordingBackend] = []


class I420OnlyBackend(RecordingBackend):
    accepted = ("I420",)
    instances: list[RecordingBackend] = []


class NoDeviceBackend(RecordingBackend):
    def __init__(self, **_: Any) -> None:
        raise RuntimeError("No v4l2 loopback device found at /dev/video[0-99]")


for backend_name, backend in [
    ("livefake-recorder", RecordingBackend),
    ("livefake-rgb-only", RgbOnlyBackend),
    ("livefake-i420-only", I420OnlyBackend),
    ("livefake-no-device", NoDeviceBackend),
]:
    pyvirtualcam.register_backend(backend_name, backend)


class NumberedSource(Source):
    """Frames whose index is drawn as their gray level, at 100 fps."""

    def __init__(self, frames: int, size: tuple[int, int] = (160, 120)) -> None:
        self.frames, self.size, self.sent = frames, size, 0

    def open(self) -> StreamInfo:
        return StreamInfo(self.size[0], self.size[1], 100.0)

    def read(self) -> Captured | None:
        if self.sent == self.frames:
            return None
        time.sleep(0.005)
        image = np.zeros((self.size[1], self.size[0], 3), np.uint8)
        image[:, :, 0] = self.sent  # blue = index
        image[:, :, 2] = 255 - self.sent
        self.sent += 1
        return Captured(image)


def run(source: Source, sinks: list[Sink], optional: tuple[str, ...] = ()) -> None:
    pipe = Pipeline(source, [], sinks, capacity=64, optional_sinks=optional)
    pipe.start()
    assert pipe.join(timeout=20)


def test_recording_backend_gets_every_frame_in_order_as_bgr() -> None:
    RecordingBackend.instances.clear()
    sink = VirtualCameraSink(backend="livefake-recorder")
    run(NumberedSource(60), [sink])
    (camera,) = RecordingBackend.instances
    assert (camera.width, camera.height, camera.fourcc, sink.pixel_format) == (160, 120, "24BG", "BGR")
    assert camera.closed == 1
    assert len(camera.frames) == 60
    frames = [f.reshape(120, 160, 3) for f in camera.frames]
    assert [int(f[0, 0, 0]) for f in frames] == list(range(60))
    assert all(int(f[5, 5, 2]) == 255 - i for i, f in enumerate(frames))


def test_format_is_negotiated_down_to_rgb() -> None:
    RgbOnlyBackend.instances.clear()
    sink = VirtualCameraSink(backend="livefake-rgb-only")
    run(NumberedSource(20), [sink])
    (camera,) = RgbOnlyBackend.instances
    assert sink.pixel_format == "RGB"
    frames = [f.reshape(120, 160, 3) for f in camera.frames]
    assert [int(f[0, 0, 2]) for f in frames] == list(range(20))  # blue moved to the third channel


def test_i420_gets_an_even_size_and_correct_colours() -> None:
    I420OnlyBackend.instances.clear()
    sink = VirtualCameraSink(backend="livefake-i420-only")
    run(NumberedSource(10, size=(161, 121)), [sink])
    (camera,) = I420OnlyBackend.instances
    assert (camera.width, camera.height, sink.pixel_format) == (160, 120, "I420")
    for index, flat in enumerate(camera.frames):
        bgr = cv2.cvtColor(flat.reshape(180, 160), cv2.COLOR_YUV2BGR_I420)
        assert abs(int(bgr[60, 80, 0]) - index) <= 3 and abs(int(bgr[60, 80, 2]) - (255 - index)) <= 3


def test_frames_are_paced_to_the_camera_rate_without_long_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[float] = []
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        asked.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr("livefake.pipeline.pacer.time.sleep", sleep)
    sink = VirtualCameraSink(backend="livefake-recorder")
    sink.open(StreamInfo(32, 24, 50.0))
    image = np.zeros((24, 32, 3), np.uint8)
    start = time.monotonic()
    for index in range(25):
        sink.write(Frame(index=index, t_capture_ns=0, image=image))
    elapsed = time.monotonic() - start
    sink.close()
    assert 0.44 <= elapsed <= 1.0  # 24 periods of 20 ms (the upper bound allows a loaded machine)
    assert len(asked) >= 20 and max(asked) <= 0.020 + 1e-9  # never asks to wait more than a period


def no_device_backend() -> str:
    """The real v4l2loopback backend where no loopback device exists, else a stand-in."""
    if sys.platform == "linux" and not glob.glob("/dev/video*"):
        return "v4l2loopback"
    return "livefake-no-device"


def test_no_device_alone_is_an_error_with_the_fix() -> None:
    output = OutputConfig(sinks=("vcam",), vcam_backend=no_device_backend())
    sink = VirtualCameraSink.from_spec("vcam", output)
    with pytest.raises(DeviceError) as caught:
        sink.open(StreamInfo(64, 48, 30.0))
    message = str(caught.value)
    assert "No v4l2 loopback device found" in message
    if sys.platform == "linux":
        assert LINUX_FIX in message
    assert "\n" not in message


def test_no_device_beside_another_sink_warns_and_the_pipeline_runs(caplog: pytest.LogCaptureFixture) -> None:
    output = OutputConfig(sinks=("vcam", "null"), vcam_backend=no_device_backend())
    vcam = VirtualCameraSink.from_spec("vcam", output)
    other = RecordingSink()
    with caplog.at_level(logging.WARNING):
        run(NumberedSource(30), [vcam, other], optional=("vcam",))
    assert other.indices == list(range(30))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "No v4l2 loopback device found" in warnings[0]
    if sys.platform == "linux":
        assert LINUX_FIX in warnings[0]
