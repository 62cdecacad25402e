import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from livefake.errors import DeviceError
from livefake.pipeline import Frame, StreamInfo
from livefake.sinks.window import WindowSink


@pytest.fixture
def virtual_display(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if shutil.which("Xvfb") is None:
        pytest.skip("no display and no Xvfb to make one (apt-get install xvfb)")
    display = ":87"
    server = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    monkeypatch.setenv("DISPLAY", display)
    yield display
    server.terminate()
    server.wait(5)


def test_window_shows_frames_at_their_size(virtual_display: str) -> None:
    sink = WindowSink(max_width=320)
    sink.open(StreamInfo(640, 480, 30.0))
    image = np.zeros((480, 640, 3), np.uint8)
    image[:, :, 2] = 255
    for index in range(5):
        sink.write(Frame(index=index, t_capture_ns=0, image=image))
    photo = sink._photo
    assert (photo.width(), photo.height()) == (320, 240)  # type: ignore[union-attr]
    assert photo.get(10, 10) == (255, 0, 0)  # type: ignore[union-attr]  # red, shown as RGB
    sink.close()


def test_no_display_is_a_clear_device_error(monkeypatch: pytest.MonkeyPatch) -> None:
    if os.name == "nt":
        pytest.skip("Windows always has a display")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(DeviceError, match="no display"):
        WindowSink().open(StreamInfo(64, 48, 30.0))


def test_closing_the_window_stops_the_run_like_ctrl_c(virtual_display: str) -> None:
    """The window lives on the sink thread (as in a pipeline); closing it interrupts the main thread."""
    sink = WindowSink()
    sink.open(StreamInfo(64, 48, 30.0))
    black = np.zeros((48, 64, 3), np.uint8)

    def show_then_close() -> None:
        sink.write(Frame(index=0, t_capture_ns=0, image=black))
        assert sink._root is not None
        sink._root.tk.call(sink._root.protocol("WM_DELETE_WINDOW"))  # what the window manager calls
        sink.write(Frame(index=1, t_capture_ns=0, image=black))  # ignored once closed
        sink.close()

    thread = threading.Thread(target=show_then_close)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        thread.start()
        time.sleep(10.0)  # a real SIGINT: it cuts this sleep short
    assert time.monotonic() - started < 5.0
    thread.join(5)
    assert sink.closed_by_user
