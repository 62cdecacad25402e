"""The camera path with OpenCV's VideoCapture replaced by a scripted stand-in (no /dev/video here)."""

import time

import numpy as np
import pytest

from livefake.pipeline import NO_FRAME
from livefake.sources import camera as camera_module
from livefake.sources.camera import CameraSource


class ScriptedCapture:
    """Delivers ``frames`` frames, then fails (unplugged) until ``plugged_in`` is set again."""

    plugged_in = True
    opened: list[object] = []
    settings: dict[int, float] = {}

    def __init__(self, device: object, frames: int = 3) -> None:
        self.frames = frames
        self.is_open = ScriptedCapture.plugged_in
        ScriptedCapture.opened.append(device)

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return self.is_open

    def set(self, prop: int, value: float) -> bool:
        ScriptedCapture.settings[prop] = value
        return True

    def get(self, prop: int) -> float:
        granted = {camera_module.cv2.CAP_PROP_FRAME_WIDTH: 640.0, camera_module.cv2.CAP_PROP_FRAME_HEIGHT: 480.0,
                   camera_module.cv2.CAP_PROP_FPS: 30.0}
        return granted.get(prop, 0.0)

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self.frames == 0 or not ScriptedCapture.plugged_in:
            return False, None
        self.frames -= 1
        return True, np.zeros((480, 640, 3), np.uint8)

    def release(self) -> None:
        self.is_open = False


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> type[ScriptedCapture]:
    ScriptedCapture.plugged_in, ScriptedCapture.opened, ScriptedCapture.settings = True, [], {}
    monkeypatch.setattr(camera_module.cv2, "VideoCapture", ScriptedCapture)
    return ScriptedCapture


def test_asks_for_mjpg_size_and_rate_and_reports_what_was_granted(scripted: type[ScriptedCapture]) -> None:
    cv2 = camera_module.cv2
    info = CameraSource(0, size=(1920, 1080), fps=60).open()
    assert scripted.settings[cv2.CAP_PROP_FOURCC] == cv2.VideoWriter.fourcc(*"MJPG")
    assert (scripted.settings[cv2.CAP_PROP_FRAME_WIDTH], scripted.settings[cv2.CAP_PROP_FPS]) == (1920, 60)
    assert (info.width, info.height, info.fps) == (640, 480, 30.0)


def test_reconnects_with_backoff_after_the_camera_disappears(scripted: type[ScriptedCapture]) -> None:
    source = CameraSource(0)
    source.open()
    assert all(source.read() is not NO_FRAME for _ in range(3))
    scripted.plugged_in = False
    started = time.monotonic()
    waits = [source.read() for _ in range(6)]
    assert all(result is NO_FRAME for result in waits), "an unplugged camera must not end the stream"
    assert time.monotonic() - started < 6 * 0.6, "each read returns within a second so stop is seen"
    scripted.plugged_in = True
    deadline = time.monotonic() + 10
    result = NO_FRAME
    while result is NO_FRAME and time.monotonic() < deadline:
        result = source.read()
    assert result is not NO_FRAME and result is not None
    assert len(scripted.opened) >= 3  # the first open, failed retries, the reconnection
    source.close()
