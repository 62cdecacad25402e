"""The threaded live path: a source thread, one thread per stage, and a sink thread."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from types import TracebackType

from livefake.errors import LivefakeError, StageError
from livefake.pipeline.frame import Frame, StageStamp
from livefake.pipeline.ring import DropPolicy, Ring, RingClosed
from livefake.pipeline.stage import NO_FRAME, Sink, Source, Stage, StreamInfo
from livefake.pipeline.stats import PipelineStats

log = logging.getLogger(__name__)

POLL_S = 0.05  # every blocking call wakes this often to look at the stop flag
STOP_TIMEOUT_S = 0.9
ABORT_TIMEOUT_S = 10.0  # an interrupted run waits this long for its sinks to remove their partial files

Queued = tuple[int, Frame]  # (time put into the ring in monotonic ns, frame)


class Pipeline:
    """Source -> stages -> sinks, each on its own thread, joined by bounded rings.

    ``DROP_OLDEST`` (live) keeps at most ``capacity`` frames waiting per stage and counts what it
    drops; ``BLOCK`` (offline) loses nothing. ``stop()`` returns within a second from any state.
    An exception in any thread stops the pipeline and is raised from ``join()`` as a
    ``StageError`` naming the thread's stage.
    """

    def __init__(
        self,
        source: Source,
        stages: Sequence[Stage],
        sinks: Sequence[Sink],
        policy: DropPolicy = DropPolicy.DROP_OLDEST,
        capacity: int = 1,
    ) -> None:
        self.source = source
        self.stages = list(stages)
        self.sinks = list(sinks)
        self.policy = policy
        self.stage_names = _unique_names([stage.name for stage in self.stages])
        self.rings: list[Ring[Queued]] = [
            Ring(capacity, policy, name=f"to-{name}") for name in [*self.stage_names, "sinks"]
        ]
        self.stats = PipelineStats(self.stage_names)
        for ring in self.rings:
            self.stats.watch_drops(ring.name, ring)
        self.info: StreamInfo | None = None
        self._listeners: list[Callable[[Frame], None]] = []
        self._stop = threading.Event()
        self._done = threading.Event()
        self._error: StageError | None = None
        self._error_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._opened = [threading.Event() for _ in self.stages]
        self._started = False
        self._interrupted = False

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> StreamInfo:
        """Open the source and the sinks (errors raise here, on the caller's thread), then run."""
        if self._started:
            raise RuntimeError("a pipeline can be started once")
        self._started = True
        self.info = self.source.open()
        opened: list[Sink] = []
        try:
            for sink in self.sinks:
                sink.open(self.info)
                opened.append(sink)
        except BaseException:
            for sink in opened:
                _close_quietly(sink.close, sink.name)
            self.source.close()
            raise
        self._spawn("source", self._run_source)
        for index, stage in enumerate(self.stages):
            name = self.stage_names[index]
            self._spawn(name, self._run_stage, stage, name, self.rings[index], self.rings[index + 1])
        self._spawn("sinks", self._run_sinks, self.rings[-1])
        return self.info

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Ask every thread to finish now and wait at most ``timeout`` seconds."""
        self._stop.set()
        for ring in self.rings:
            ring.close()
        self._join_threads(timeout)

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the source ends and every frame is out (or the pipeline stops).

        Returns False on timeout. Raises ``StageError`` if a thread failed.
        """
        finished = self._join_threads(timeout)
        if self._error is not None:
            raise self._error
        return finished

    def run(self) -> None:
        """Start and wait for the end. On Ctrl-C (or a stop signal raised as KeyboardInterrupt)
        the sinks are aborted, not finished, so no truncated output is kept; the interrupt is
        raised again once they are."""
        self.start()
        try:
            while not self.join(timeout=0.2):
                pass
        except KeyboardInterrupt:
            self._interrupted = True
            self.stop()
            self._join_threads(ABORT_TIMEOUT_S)
            raise

    def add_frame_listener(self, listener: Callable[[Frame], None]) -> None:
        """Call ``listener(frame)`` on the sink thread for every frame out (keep it cheap)."""
        self._listeners.append(listener)

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

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
        self._threads.append(thread)
        thread.start()

    def _guard(self, name: str, target: Callable[..., None], *args: object) -> None:
        try:
            target(*args)
        except RingClosed:
            pass
        except BaseException as error:  # noqa: BLE001 - thread edge: turned into a typed error
            self._fail(name, error)

    def _fail(self, name: str, error: BaseException) -> None:
        with self._error_lock:
            if self._error is None:
                self._error = error if isinstance(error, StageError) else StageError(name, error)
                self._error.__cause__ = error
                if not isinstance(error, LivefakeError):
                    log.debug("stage %s failed", name, exc_info=error)
        self._stop.set()
        for ring in self.rings:
            ring.close()

    def _join_threads(self, timeout: float | None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            thread.join(remaining)
            if thread.is_alive():
                return False
        return True

    def _put(self, ring: Ring[Queued], frame: Frame) -> None:
        """Hand a frame on; under BLOCK wait for room while watching the stop flag."""
        item = (time.monotonic_ns(), frame)
        while not self._stop.is_set():
            if ring.put(item, timeout=POLL_S):
                return

    def _get(self, ring: Ring[Queued]) -> Queued | None:
        """Next queued frame, or None when stopping. Raises RingClosed at the end of stream."""
        while not self._stop.is_set():
            item = ring.get(timeout=POLL_S)
            if item is not None:
                return item
        return None

    def _wait_for_stages(self) -> bool:
        """Capture starts once every stage has opened (models loaded, warmed up), so start-up
        costs neither drops nor latency. False when stopped meanwhile."""
        for opened in self._opened:
            while not opened.wait(POLL_S):
                if self._stop.is_set():
                    return False
        return True

    def _run_source(self) -> None:
        out = self.rings[0]
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
                t_capture = time.monotonic_ns()
                self.stats.count_capture(t_capture)
                frame = Frame(index=index, t_capture_ns=t_capture, image=captured.image, pts=captured.pts)
                self._put(out, frame)
                index += 1
        finally:
            out.close()
            _close_quietly(self.source.close, "source")

    def _run_stage(self, stage: Stage, name: str, inbox: Ring[Queued], out: Ring[Queued]) -> None:
        try:
            stage.open()
            self._opened[self.stage_names.index(name)].set()
            while (item := self._get(inbox)) is not None:
                t_queued, frame = item
                t_start = time.monotonic_ns()
                result = stage.process(frame)
                t_end = time.monotonic_ns()
                if result is not None:
                    result.stamps[name] = StageStamp(t_queued, t_start, t_end)
                    self._put(out, result)
        finally:
            out.close()
            _close_quietly(stage.close, name)

    def _run_sinks(self, inbox: Ring[Queued]) -> None:
        try:
            while (item := self._get(inbox)) is not None:
                _, frame = item
                for sink in self.sinks:
                    try:
                        sink.write(frame)
                    except BaseException as error:
                        raise StageError(f"sink:{sink.name}", error) from error
                self.stats.record(frame, time.monotonic_ns())
                for listener in self._listeners:
                    listener(frame)
        finally:
            for sink in self.sinks:
                if self._error is not None or self._interrupted:
                    _close_quietly(sink.abort, f"sink:{sink.name}")
                    continue
                try:
                    sink.close()  # finishing a file (its trailer, the rename) can fail: that is an error
                except Exception as error:  # noqa: BLE001 - thread edge: turned into a typed error
                    self._fail(f"sink:{sink.name}", error)


def _unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return unique


def _close_quietly(close: Callable[[], None], name: str) -> None:
    """Close at a thread edge: a failing close is logged, never allowed to mask the first error."""
    try:
        close()
    except Exception as error:  # noqa: BLE001 - thread edge
        log.warning("closing %s failed: %s", name, error)
