"""The pipeline's life cycle: named states and the transitions allowed between them."""

from __future__ import annotations

import threading
from enum import Enum


class PipelineState(Enum):
    CREATED = "created"  # built, nothing opened
    STARTING = "starting"  # opening the source and the sinks, loading the stages
    RUNNING = "running"  # frames flow
    STOPPING = "stopping"  # stop asked for (or the stream ended): threads are finishing
    STOPPED = "stopped"  # ended or stopped: every sink closed (its output complete)
    FAILED = "failed"  # a thread raised: sinks aborted, the error is ``Pipeline.error``
    INTERRUPTED = "interrupted"  # an offline run stopped before its end: sinks aborted

    @property
    def finished(self) -> bool:
        return self in (PipelineState.STOPPED, PipelineState.FAILED, PipelineState.INTERRUPTED)


_ALLOWED: dict[PipelineState, frozenset[PipelineState]] = {
    PipelineState.CREATED: frozenset({PipelineState.STARTING, PipelineState.STOPPED}),
    PipelineState.STARTING: frozenset({PipelineState.RUNNING, PipelineState.STOPPING, PipelineState.FAILED}),
    PipelineState.RUNNING: frozenset({PipelineState.STOPPING, PipelineState.FAILED}),
    PipelineState.STOPPING: frozenset({PipelineState.STOPPED, PipelineState.FAILED, PipelineState.INTERRUPTED}),
    PipelineState.STOPPED: frozenset(),
    PipelineState.FAILED: frozenset(),
    PipelineState.INTERRUPTED: frozenset(),
}


class StateMachine:
    """The current state, changed only along ``_ALLOWED`` edges. Thread-safe."""

    def __init__(self) -> None:
        self._state = PipelineState.CREATED
        self._changed = threading.Condition()

    @property
    def state(self) -> PipelineState:
        return self._state

    def advance(self, to: PipelineState) -> None:
        """Move to ``to``; RuntimeError if that edge is not allowed from the current state."""
        if not self.try_advance(to):
            raise RuntimeError(f"pipeline cannot go from {self._state.value} to {to.value}")

    def try_advance(self, to: PipelineState) -> bool:
        """Move to ``to`` if allowed from the current state; False (and no change) if not."""
        with self._changed:
            if to not in _ALLOWED[self._state]:
                return False
            self._state = to
            self._changed.notify_all()
            return True

    def wait_finished(self, timeout: float | None) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self._state.finished, timeout)
