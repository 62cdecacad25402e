"""Stopping training on a signal: SIGINT (Ctrl-C), SIGTERM and SIGHUP all save, then exit 128 + n.

While training runs, the first of these signals only sets a flag; the trainer finishes the
step it is in (every rank the same step), saves a checkpoint and raises ``TrainingStopped``.
A second Ctrl-C raises ``KeyboardInterrupt`` at once, for a user who will not wait.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from livefake.errors import LivefakeError

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class TrainingStopped(LivefakeError):
    """Training stopped on a signal after saving; ``exit_code`` is 128 + the signal number."""

    def __init__(self, signal_number: int, step: int, checkpoint: Path | None) -> None:
        self.signal_number = signal_number
        self.exit_code = 128 + signal_number
        self.step = step
        name = signal.Signals(signal_number).name
        saved = f"saved {checkpoint}" if checkpoint is not None else "rank 0 saved the checkpoint"
        super().__init__(f"stopped by {name} at step {step}: {saved}")


class StopSignals:
    """Context manager: record the first stop signal instead of dying (main thread only)."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for number in STOP_SIGNALS:
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()

    def _handle(self, number: int, _frame: FrameType | None) -> None:
        if self.received is not None and number == signal.SIGINT:
            raise KeyboardInterrupt
        if self.received is None:
            self.received = number
