"""The threaded live path: a source thread, one thread per stage, and one thread per sink."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from types import TracebackType
from typing import Any

from livefake.config import LiveConfig, apply_changes, settings_tree
from livefake.errors import LivefakeError, SettingsError, StageError
from livefake.pipeline.branch import Queued, SinkBranch, unique_name
from livefake.pipeline.frame import Frame, StageStamp
from livefake.pipeline.memory import release_freed_memory
from livefake.pipeline.ring import DropPolicy, Ring, RingClosed
from livefake.pipeline.settings import SettingsBoard, SettingsHandler
from livefake.pipeline.stage import NO_FRAME, Sink, Source, Stage, StreamInfo
from livefake.pipeline.state import PipelineState, StateMachine
from livefake.pipeline.stats import PipelineStats
from livefake.pipeline.tee import POLL_S, Tee, close_quietly, get_unless_stopped, put_unless_stopped

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 0.9
ABORT_TIMEOUT_S = 10.0  # an interrupted run waits this long for its sinks to remove their partial files


class Pipeline:
    """Source -> stages -> a tee into one ring and thread per sink, joined by bounded rings.

    ``DROP_OLDEST`` (live) keeps at most ``capacity`` frames waiting per stage and one per sink,
    counting what each drops; ``BLOCK`` (offline) loses nothing. ``stop()`` returns within a
    second from any state. An exception in any thread stops the pipeline and is raised from
    ``join()`` as a ``StageError`` naming the stage or sink. ``update()`` changes the settings
    while it runs (see ``livefake.pipeline.settings``). Sinks named in ``optional_sinks`` may
    fail, at open or later, without stopping the run while another sink runs.
    """

    def __init__(
        self,
        source: Source,
        stages: Sequence[Stage],
        sinks: Sequence[Sink],
        policy: DropPolicy = DropPolicy.DROP_OLDEST,
        capacity: int = 1,
        settings: LiveConfig | None = None,
        handler: SettingsHandler | None = None,
        optional_sinks: Collection[str] = (),
    ) -> None:
        self.source = source
        self.stages = list(stages)
        self.policy = policy
        self.capacity = capacity
        self.stage_names = _unique_names([stage.name for stage in self.stages])
        self.rings: list[Ring[Queued]] = [Ring(capacity, policy, name=f"to-{name}") for name in self.stage_names]
        self.stats = PipelineStats(self.stage_names)
        for ring in self.rings:
            self.stats.watch_drops(ring.name, ring)
        self.info: StreamInfo | None = None
        self._stop = threading.Event()
        self._tee = Tee(policy, capacity, self.stats, self._stop, optional_sinks)
        self._board = SettingsBoard(settings or LiveConfig())
        self._handler = handler
        self._initial_sinks = self._pair_specs(list(sinks), self._board.current.output.sinks)
        self._listeners: list[Callable[[Frame], None]] = []
        self._machine = StateMachine()
        self._error: StageError | None = None
        self._lock = threading.Lock()  # error, branches, threads
        self._update_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._alive = 0
        self._opened = [threading.Event() for _ in self.stages]
        self._interrupted = False

    # -- settings ----------------------------------------------------------------------------

    @property
    def settings(self) -> LiveConfig:
        """The current settings snapshot (immutable)."""
        return self._board.current

    def settings_tree(self) -> dict[str, Any]:
        """The current snapshot as a JSON-able nested dict with the TOML keys."""
        return settings_tree(self._board.current)

    def update(self, changes: Mapping[str, Any]) -> LiveConfig:
        """Check a partial settings tree and, if valid, publish it; each stage takes it at its next
        frame. Added sinks open and removed ones close here. Photos and models load on the
        calling thread. Invalid or unloadable: ``SettingsError`` and nothing changes. Thread-safe."""
        with self._update_lock:
            if self.state.finished:
                raise SettingsError(f"settings cannot change: the pipeline has {self.state.value}")
            current = self._board.current
            proposed = apply_changes(current, changes)
            if self._handler is not None:
                proposed = self._handler.check(current, proposed)
            added, removed = self._sink_changes(current, proposed)
            if self._handler is not None:
                self._handler.prepare(proposed)
            branches = []
            if added and self.info is not None and self._handler is not None:  # _sink_changes checked both
                branches = self._tee.open_new(added, proposed, self.info, self._handler.make_sink)
            version = self._board.publish(proposed)
            for branch in branches:
                branch.since_version = version
                self._tee.attach(branch)
                self._spawn(f"sink:{branch.name}", self._tee.run_branch, branch)
            for branch in removed:
                self._tee.detach(branch)
            log.debug("settings version %d published", version)
            if current.swap != proposed.swap:
                release_freed_memory()  # what loading the new target and dropping an old one freed
            return proposed

    def _sink_changes(self, current: LiveConfig, proposed: LiveConfig) -> tuple[list[str], list[SinkBranch]]:
        """Specs to open, and branches to close, going from ``current`` to ``proposed`` sinks."""
        before, after = Counter(current.output.sinks), Counter(proposed.output.sinks)
        added = list((after - before).elements())
        gone = before - after
        removed = []
        for branch in self._tee.branches:
            if branch.spec is not None and gone[branch.spec] > 0:
                gone[branch.spec] -= 1
                removed.append(branch)
        if (added or removed) and (self._handler is None or self.state is not PipelineState.RUNNING):
            raise SettingsError("setting output.sinks can change only while a built pipeline runs")
        return added, removed

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def state(self) -> PipelineState:
        return self._machine.state

    @property
    def optional_sinks(self) -> frozenset[str]:
        """Names of the sinks that may fail while another sink runs."""
        return self._tee.optional

    @property
    def sinks(self) -> list[Sink]:
        """The sinks frames go to now."""
        return self._tee.sinks

    def start(self) -> StreamInfo:
        """Open the source and the sinks (errors raise here, on the caller's thread), then run."""
        if not self._machine.try_advance(PipelineState.STARTING):
            raise RuntimeError(f"a pipeline can be started once (it is {self.state.value})")
        try:
            self.info = self.source.open()
            try:
                branches = self._tee.open_all(self._initial_sinks, self.info)
            except BaseException:
                close_quietly(self.source.close, "source")
                raise
        except BaseException as error:
            self._machine.try_advance(PipelineState.FAILED)
            self._error = error if isinstance(error, StageError) else None
            raise
        self._machine.try_advance(PipelineState.RUNNING)
        for branch in branches:
            self._tee.attach(branch)  # before the first frame can reach the tee
        self._spawn("source", self._run_source)
        for index, stage in enumerate(self.stages):
            name = self.stage_names[index]
            out = self.rings[index + 1] if index + 1 < len(self.rings) else None
            self._spawn(name, self._run_stage, stage, index, self.rings[index], out)
        for branch in branches:
            self._spawn(f"sink:{branch.name}", self._tee.run_branch, branch)
        return self.info

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Ask every thread to finish now and wait at most ``timeout`` seconds.

        A live run's sinks are closed (a recording is complete); an offline run stopped before
        its end is interrupted and its sinks aborted (nothing renamed into place).
        """
        if self._machine.try_advance(PipelineState.STOPPED):  # never started
            return
        if self.policy is DropPolicy.BLOCK and not self._machine.state.finished:
            self._interrupted = self._tee.aborting = True  # offline, frames not all out yet
        self._stop.set()
        self._machine.try_advance(PipelineState.STOPPING)
        self._close_rings()
        self._join_threads(timeout)

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the source ends and every frame is out (or the pipeline stops) and every
        sink has closed. Returns False on timeout. Raises ``StageError`` if a thread failed."""
        finished = self._join_threads(timeout)
        if self._error is not None:
            raise self._error
        return finished

    def wait_closed(self, timeout: float | None = None) -> bool:
        """After ``stop()``: wait until every thread ended and every sink closed (a recording's
        encoder flushed and its file renamed into place). False on timeout; never raises."""
        return self._join_threads(timeout)

    def run(self) -> None:
        """Start and wait for the end. Ctrl-C stops (a live run closes its sinks, an offline one
        aborts them), waits for the sinks to finish, and raises KeyboardInterrupt again."""
        self.start()
        try:
            while not self.join(timeout=0.2):
                pass
        except KeyboardInterrupt:
            self._interrupted = True
            self.stop()
            self.wait_closed(ABORT_TIMEOUT_S)
            if self._error is not None:
                raise self._error from None
            raise

    def add_frame_listener(self, listener: Callable[[Frame], None]) -> None:
        """Call ``listener(frame)`` for every frame out, before the sinks get it (keep it cheap)."""
        self._listeners.append(listener)

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in list(self._threads))

    @property
    def error(self) -> StageError | None:
        return self._error

    def __enter__(self) -> Pipeline:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- threads -----------------------------------------------------------------------------

    def _spawn(self, name: str, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=self._guard, args=(name, target, *args), name=f"livefake-{name}")
        thread.daemon = True
        with self._lock:
            self._threads = [*self._threads, thread]
            self._alive += 1
        thread.start()

    def _guard(self, name: str, target: Callable[..., None], *args: object) -> None:
        try:
            target(*args)
        except RingClosed:
            pass
        except BaseException as error:  # noqa: BLE001 - thread edge: turned into a typed error
            self._fail(name, error)
        finally:
            with self._lock:
                self._alive -= 1
                last = self._alive == 0
            if last:
                self._finish()

    def _finish(self) -> None:
        """The last thread ended: the final state."""
        self._machine.try_advance(PipelineState.STOPPING)
        if self._error is not None:
            self._machine.try_advance(PipelineState.FAILED)
        elif self._interrupted:
            self._machine.try_advance(PipelineState.INTERRUPTED)
        else:
            self._machine.try_advance(PipelineState.STOPPED)

    def _fail(self, name: str, error: BaseException) -> None:
        with self._lock:
            self._tee.aborting = True
            if self._error is None:
                self._error = error if isinstance(error, StageError) else StageError(name, error)
                self._error.__cause__ = error
                if not isinstance(error, LivefakeError):
                    log.debug("stage %s failed", name, exc_info=error)
        self._stop.set()
        self._close_rings()

    def _close_rings(self) -> None:
        for ring in self.rings:
            ring.close()
        self._tee.close_rings()

    def _join_threads(self, timeout: float | None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            threads = list(self._threads)
            for thread in threads:
                remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
                thread.join(remaining)
                if thread.is_alive():
                    return False
            if len(self._threads) == len(threads):
                return True

    def _wait_for_stages(self) -> bool:
        """Capture starts once every stage has opened (models loaded, warmed up), so start-up
        costs neither drops nor latency. False when stopped meanwhile."""
        for opened in self._opened:
            while not opened.wait(POLL_S):
                if self._stop.is_set():
                    return False
        return True

    def _run_source(self) -> None:
        out = self.rings[0] if self.rings else None
        index = 0
        try:
            if not self._wait_for_stages():
                return
            while not self._stop.is_set():
                captured = self.source.read()
                if captured is None:
                    break
                if captured is NO_FRAME:
                    continue
                self._pass_on(out, self._capture(index, captured.image, captured.pts))
                index += 1
        finally:
            self._end_of(out)
            close_quietly(self.source.close, "source")

    def _capture(self, index: int, image: Any, pts: float | None) -> Frame:
        t_capture = time.monotonic_ns()
        self.stats.count_capture(t_capture)
        image.flags.writeable = False  # the original is never modified; stages work on a copy
        working = image.copy() if self.stages else image
        return Frame(index=index, t_capture_ns=t_capture, image=working, pts=pts, original=image,
                     settings_version=self._board.version)

    def _run_stage(self, stage: Stage, index: int, inbox: Ring[Queued], out: Ring[Queued] | None) -> None:
        name = self.stage_names[index]
        configured = 0  # stages are built from the first snapshot: configured only when it changes
        try:
            stage.open()
            self._opened[index].set()
            while (item := get_unless_stopped(inbox, self._stop)) is not None:
                t_queued, frame = item
                if frame.settings_version != configured:
                    stage.configure(self._board.at(frame.settings_version))
                    configured = frame.settings_version
                t_start = time.monotonic_ns()
                result = stage.process(frame)
                t_end = time.monotonic_ns()
                if result is not None:
                    result.stamps[name] = StageStamp(t_queued, t_start, t_end)
                    self._pass_on(out, result)
        finally:
            self._end_of(out)
            close_quietly(stage.close, name)

    def _pass_on(self, out: Ring[Queued] | None, frame: Frame) -> None:
        """To the next stage's ring, or, after the last stage, through the tee to every sink."""
        if out is not None:
            put_unless_stopped(out, frame, self._stop)
            return
        self.stats.record(frame, time.monotonic_ns())
        for listener in self._listeners:
            listener(frame)
        self._tee.deliver(frame)

    def _end_of(self, out: Ring[Queued] | None) -> None:
        if out is not None:
            out.close()
            return
        self._tee.close_rings()

    # -- sink branches -----------------------------------------------------------------------

    def _pair_specs(self, sinks: list[Sink], specs: tuple[str, ...]) -> list[tuple[str, Sink, str | None]]:
        """Each sink with a unique name and its spec (when the settings list the sinks in order)."""
        paired = list(specs) if len(specs) == len(sinks) else [None] * len(sinks)
        names = _unique_names([sink.name for sink in sinks])
        return list(zip(names, sinks, paired, strict=True))

def _unique_names(names: list[str]) -> list[str]:
    taken: set[str] = set()
    unique = []
    for name in names:
        unique.append(unique_name(name, taken))
        taken.add(unique[-1])
    return unique
