"""A preview window (Tk, which ships with Python; the headless OpenCV wheel has no GUI).

Closing the window stops the run the way Ctrl-C does: the main thread is interrupted, so a
live run closes and finalises its other sinks (a recording is kept).
"""

from __future__ import annotations

import _thread
import logging
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING

import cv2

from livefake.config import OutputConfig
from livefake.errors import DeviceError
from livefake.pipeline.frame import Frame
from livefake.pipeline.stage import Sink, StreamInfo

if TYPE_CHECKING:
    import tkinter

log = logging.getLogger(__name__)


def display_available() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def interrupt_main_thread() -> None:
    """Ctrl-C for the main thread: a real SIGINT to it where possible (it wakes a sleep),
    else the interpreter's simulated one."""
    main = threading.main_thread().ident
    if hasattr(signal, "pthread_kill") and main is not None:
        signal.pthread_kill(main, signal.SIGINT)
    else:
        _thread.interrupt_main(signal.SIGINT)


class WindowSink(Sink):
    """Shows frames in a window. The window lives on the sink thread, created on the first frame."""

    name = "window"

    def __init__(self, title: str = "livefake", max_width: int = 1280) -> None:
        self.title = title
        self.max_width = max_width
        self.closed_by_user = False
        self._root: tkinter.Tk | None = None
        self._label: tkinter.Label | None = None
        self._photo: tkinter.PhotoImage | None = None

    @classmethod
    def from_spec(cls, spec: str, output: OutputConfig) -> WindowSink:
        return cls()

    def open(self, info: StreamInfo) -> None:
        if not display_available():
            raise DeviceError(
                "no display for the preview window (DISPLAY/WAYLAND_DISPLAY unset); "
                "use --sink FILE, vcam or a stream instead"
            )
        try:
            import tkinter  # noqa: F401
        except ImportError as error:
            raise DeviceError(f"the preview window needs Tk, which this Python lacks ({error})") from None

    def _create(self) -> None:
        import tkinter

        try:
            root = tkinter.Tk()
        except tkinter.TclError as error:
            raise DeviceError(f"cannot open the preview window: {error}") from None
        root.title(self.title)
        root.protocol("WM_DELETE_WINDOW", self._on_close)
        label = tkinter.Label(root)
        label.pack()
        self._root, self._label = root, label

    def _on_close(self) -> None:
        """The user closed the window: stop the whole run, as Ctrl-C would."""
        if self.closed_by_user:
            return
        self.closed_by_user = True
        log.info("preview window closed: stopping")
        interrupt_main_thread()

    def write(self, frame: Frame) -> None:
        import tkinter

        if self.closed_by_user:
            return
        if self._root is None or self._label is None:
            self._create()
        assert self._root is not None and self._label is not None
        image = frame.image
        if image.shape[1] > self.max_width:
            scale = self.max_width / image.shape[1]
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        ok, ppm = cv2.imencode(".ppm", image)
        if not ok:
            raise DeviceError(f"cannot show a {image.shape} frame in the preview window: PPM encoding failed")
        self._photo = tkinter.PhotoImage(data=ppm.tobytes(), format="PPM")
        self._label.configure(image=self._photo)
        self._root.update()

    def close(self) -> None:
        """Destroy the window and drop every Tk object here, on the thread that made them (Tcl
        aborts the process when one is freed on another thread)."""
        self._photo = None
        self._label = None
        if self._root is not None:
            self._root.destroy()
            self._root = None
