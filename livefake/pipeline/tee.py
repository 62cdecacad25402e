"""The tee: hands each finished frame to every sink branch and runs each branch's thread.

Like GStreamer's ``tee`` + ``queue``: every sink has its own ring and thread, so one slow sink
(a paced virtual camera, a stalled network client) never delays another. A sink named in
``optional`` may fail, at open or later, while another sink runs: it is dropped with one
warning and the run goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection

from livefake.config import LiveConfig
from livefake.errors import LivefakeError, SettingsError, StageError
from livefake.pipeline.branch import SinkBranch, unique_name
from livefake.pipeline.frame import Frame
from livefake.pipeline.memory import release_freed_memory
from livefake.pipeline.ring import DropPolicy, Ring, RingClosed
from livefake.pipeline.stage import Sink, StreamInfo
from livefake.pipeline.stats import PipelineStats

log = logging.getLogger(__name__)

POLL_S = 0.05  # every blocking call wakes this often to look at the stop flag

Queued = tuple[int, Frame]


def put_unless_stopped(ring: Ring[Queued], frame: Frame, stop: threading.Event) -> None:
    """Hand a frame on; under BLOCK wait for room while watching ``stop``."""
    item = (time.monotonic_ns(), frame)
    while not stop.is_set():
        if ring.put(item, timeout=POLL_S):
            return


def get_unless_stopped(ring: Ring[Queued], stop: threading.Event) -> Queued | None:
    """Next queued frame, or None once ``stop`` is set. Raises RingClosed at the end of stream."""
    while not stop.is_set():
        item = ring.get(timeout=POLL_S)
        if item is not None:
            return item
    return None


def close_quietly(close: Callable[[], None], name: str) -> None:
    """Close at a thread edge after a first error: a failing close is logged, never allowed to
    mask that error."""
    try:
        close()
    except Exception as error:  # noqa: BLE001 - thread edge
        log.warning("closing %s failed: %s", name, error)


class Tee:
    """The sink branches of one pipeline. ``branches`` is replaced, never changed in place."""

    def __init__(
        self, policy: DropPolicy, capacity: int, stats: PipelineStats, stop: threading.Event,
        optional: Collection[str] = (),
    ) -> None:
        self.policy, self.capacity, self.stats, self.stop = policy, capacity, stats, stop
        self.optional = frozenset(optional)
        self.branches: tuple[SinkBranch, ...] = ()
        self.aborting = False  # set when the run failed or was interrupted: sinks abort, not close
        self._lock = threading.Lock()

    @property
    def sinks(self) -> list[Sink]:
        return [branch.sink for branch in self.branches]

    def open_all(self, sinks: list[tuple[str, Sink, str | None]], info: StreamInfo) -> list[SinkBranch]:
        """Open every sink; an optional one that fails is dropped with a warning while others open."""
        opened: list[SinkBranch] = []
        failures: list[tuple[str, LivefakeError]] = []
        try:
            for name, sink, spec in sinks:
                optional = name in self.optional or sink.name in self.optional
                try:
                    sink.open(info)
                except LivefakeError as failure:
                    if not optional:
                        raise
                    failures.append((name, failure))
                    continue
                opened.append(SinkBranch.make(name, sink, self.policy, self.capacity, spec=spec, optional=optional))
            if failures and not opened:
                raise failures[0][1]
        except BaseException:
            for branch in opened:
                close_quietly(branch.sink.abort, branch.name)
            raise
        for name, error in failures:
            log.warning("sink %s off, other sinks go on: %s", name, error)
        return opened

    def open_new(
        self, specs: list[str], settings: LiveConfig, info: StreamInfo, make_sink: Callable[[str, LiveConfig], Sink]
    ) -> list[SinkBranch]:
        """Open sinks added by a settings change; any failure is a ``SettingsError`` (none stay open)."""
        opened: list[SinkBranch] = []
        taken = {branch.name for branch in self.branches}
        for spec in specs:
            try:
                sink = make_sink(spec, settings)
                sink.open(info)
            except (LivefakeError, OSError) as error:
                for branch in opened:
                    close_quietly(branch.sink.abort, branch.name)
                raise SettingsError(f"cannot add sink {spec}: {error}") from None
            name = unique_name(sink.name, taken)
            taken.add(name)
            opened.append(SinkBranch.make(name, sink, self.policy, self.capacity, spec=spec))
        return opened

    def attach(self, branch: SinkBranch) -> None:
        self.stats.add_sink(branch.name, branch.ring)
        with self._lock:
            self.branches = (*self.branches, branch)

    def detach(self, branch: SinkBranch) -> None:
        """No more frames for ``branch``: its thread writes what is queued, then closes the sink."""
        with self._lock:
            self.branches = tuple(b for b in self.branches if b is not branch)
        branch.ring.close()

    def deliver(self, frame: Frame) -> None:
        for branch in self.branches:
            if branch.wants(frame):
                try:
                    put_unless_stopped(branch.ring, frame, self.stop)
                except RingClosed:
                    pass  # removed meanwhile

    def close_rings(self) -> None:
        for branch in self.branches:
            branch.ring.close()

    def run_branch(self, branch: SinkBranch) -> None:
        """A branch thread: write frames until the end, then close the sink (abort it on failure)."""
        try:
            dropped = self._feed(branch)
        except BaseException:
            close_quietly(branch.sink.abort, f"sink:{branch.name}")
            raise
        if dropped:
            return
        if self.aborting:
            close_quietly(branch.sink.abort, f"sink:{branch.name}")
            return
        try:
            branch.sink.close()
        except Exception as error:
            raise StageError(f"sink:{branch.name}", error) from error
        if branch not in self.branches:  # removed while running (a recording stopped): the run goes on
            release_freed_memory()

    def _feed(self, branch: SinkBranch) -> bool:
        """Write frames until the branch ends; True if an optional sink failed and was dropped."""
        try:
            while (item := get_unless_stopped(branch.ring, self.stop)) is not None:
                frame = item[1]
                try:
                    branch.sink.write(frame)
                except Exception as error:
                    if branch.optional and len(self.branches) > 1:
                        log.warning("sink %s off, other sinks go on: %s", branch.name, error)
                        self.detach(branch)
                        close_quietly(branch.sink.abort, f"sink:{branch.name}")
                        return True
                    raise StageError(f"sink:{branch.name}", error) from error
                self.stats.record_sink(branch.name, frame, time.monotonic_ns())
        except RingClosed:
            pass
        return False
