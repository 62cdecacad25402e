"""Latency and throughput statistics, computed from the frames' own timestamps."""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Protocol

import numpy as np

from livefake.pipeline.frame import Frame


class Counted(Protocol):
    """What drops are read from: a ring's running count of discarded items."""

    dropped: int


HISTORY = 200_000  # per-frame records kept: over 1.5 hours at 30 fps


@dataclass(frozen=True)
class Percentiles:
    p50: float
    p95: float
    p99: float

    @classmethod
    def of(cls, values: np.ndarray) -> Percentiles:
        if values.size == 0:
            return cls(float("nan"), float("nan"), float("nan"))
        p50, p95, p99 = np.percentile(values, [50, 95, 99])
        return cls(float(p50), float(p95), float(p99))


@dataclass(frozen=True)
class StageReport:
    process_ms: Percentiles
    wait_ms: Percentiles
    frames: int


@dataclass(frozen=True)
class SinkReport:
    """One sink's share: frames it wrote, frames its ring dropped, capture->written latency."""

    frames: int
    dropped: int
    latency_ms: Percentiles


@dataclass(frozen=True)
class StatsReport:
    frames_in: int
    frames_out: int
    dropped: int
    drops_by_ring: dict[str, int]
    fps: float
    seconds: float
    latency_ms: Percentiles
    stages: dict[str, StageReport] = field(default_factory=dict)
    sinks: dict[str, SinkReport] = field(default_factory=dict)  # per sink; ``dropped`` counts stage rings only

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def summary(self) -> str:
        lat = self.latency_ms
        return (
            f"{self.frames_out} frames out of {self.frames_in} in {self.seconds:.1f} s, "
            f"{self.fps:.1f} fps, {self.dropped} dropped, capture->sink latency "
            f"p50 {lat.p50:.1f} ms, p95 {lat.p95:.1f} ms, p99 {lat.p99:.1f} ms"
            + "".join(
                f"; {name}: {sink.frames} written, {sink.dropped} dropped, p95 {sink.latency_ms.p95:.1f} ms"
                for name, sink in self.sinks.items()
            )
        )


class PipelineStats:
    """Collects one record per frame that reached the sinks. Thread-safe."""

    def __init__(self, stage_names: list[str], history: int = HISTORY) -> None:
        self.stage_names = list(stage_names)
        self._lock = threading.Lock()
        self._t_out: deque[int] = deque(maxlen=history)
        self._latency_ns: deque[int] = deque(maxlen=history)
        self._process_ns: dict[str, deque[int]] = {name: deque(maxlen=history) for name in stage_names}
        self._wait_ns: dict[str, deque[int]] = {name: deque(maxlen=history) for name in stage_names}
        self._t_first_capture_ns: int | None = None
        self.frames_in = 0
        self.frames_out = 0
        self._drop_counters: dict[str, Counted] = {}
        self._history = history
        self._sink_latency_ns: dict[str, deque[int]] = {}
        self._sink_frames: dict[str, int] = {}
        self._sink_rings: dict[str, Counted] = {}
        self._retired_drops: dict[str, int] = {}

    def watch_drops(self, ring_name: str, ring: Counted) -> None:
        """Report ``ring.dropped`` under ``ring_name``."""
        self._drop_counters[ring_name] = ring

    def add_sink(self, name: str, ring: Counted) -> None:
        """Follow sink ``name``: its drops are ``ring.dropped`` (a sink added again keeps counting)."""
        with self._lock:
            previous = self._sink_rings.get(name)
            self._sink_rings[name] = ring
            self._sink_frames.setdefault(name, 0)
            self._sink_latency_ns.setdefault(name, deque(maxlen=self._history))
            if previous is not None:
                self._retired_drops[name] = self._retired_drops.get(name, 0) + previous.dropped

    def record_sink(self, name: str, frame: Frame, t_written_ns: int) -> None:
        with self._lock:
            self._sink_frames[name] += 1
            self._sink_latency_ns[name].append(t_written_ns - frame.t_capture_ns)

    def sink_reports(self) -> dict[str, SinkReport]:
        with self._lock:
            return {
                name: SinkReport(
                    frames=self._sink_frames[name],
                    dropped=self._retired_drops.get(name, 0) + ring.dropped,
                    latency_ms=Percentiles.of(np.array(self._sink_latency_ns[name], dtype=np.float64) / 1e6),
                )
                for name, ring in self._sink_rings.items()
            }

    def count_capture(self, t_capture_ns: int) -> None:
        with self._lock:
            self.frames_in += 1
            if self._t_first_capture_ns is None:
                self._t_first_capture_ns = t_capture_ns

    def record(self, frame: Frame, t_out_ns: int) -> None:
        with self._lock:
            self.frames_out += 1
            self._t_out.append(t_out_ns)
            self._latency_ns.append(t_out_ns - frame.t_capture_ns)
            for name, stamp in frame.stamps.items():
                if name in self._process_ns:
                    self._process_ns[name].append(stamp.t_end_ns - stamp.t_start_ns)
                    self._wait_ns[name].append(stamp.t_start_ns - stamp.t_queued_ns)

    def drops(self) -> dict[str, int]:
        return {name: ring.dropped for name, ring in self._drop_counters.items()}

    def recent_latency_ms(self, frames: int = 30) -> float | None:
        """Median capture->sink latency of the last ``frames`` frames, for the audio delay line."""
        with self._lock:
            if not self._latency_ns:
                return None
            recent = list(itertools.islice(reversed(self._latency_ns), frames))  # not the whole history
        return float(np.median(recent)) / 1e6

    def latency_series(self) -> tuple[np.ndarray, np.ndarray]:
        """Seconds since the first capture, and capture->sink latency in ms, per output frame."""
        with self._lock:
            t_out = np.array(self._t_out, dtype=np.int64)
            lat = np.array(self._latency_ns, dtype=np.int64)
            t0 = self._t_first_capture_ns or 0
        return (t_out - t0) / 1e9, lat / 1e6

    def stage_series(self, name: str) -> np.ndarray:
        with self._lock:
            return np.array(self._process_ns[name], dtype=np.int64) / 1e6

    def report(self) -> StatsReport:
        with self._lock:
            lat = np.array(self._latency_ns, dtype=np.float64) / 1e6
            t_out = np.array(self._t_out, dtype=np.int64)
            stages = {
                name: StageReport(
                    process_ms=Percentiles.of(np.array(self._process_ns[name], dtype=np.float64) / 1e6),
                    wait_ms=Percentiles.of(np.array(self._wait_ns[name], dtype=np.float64) / 1e6),
                    frames=len(self._process_ns[name]),
                )
                for name in self.stage_names
            }
            t_first = self._t_first_capture_ns
            frames_in, frames_out = self.frames_in, self.frames_out
        seconds = (int(t_out[-1]) - t_first) / 1e9 if t_out.size and t_first is not None else 0.0
        fps = _steady_fps(t_out)
        drops = self.drops()
        return StatsReport(
            frames_in=frames_in,
            frames_out=frames_out,
            dropped=sum(drops.values()),
            drops_by_ring=drops,
            fps=fps,
            seconds=seconds,
            latency_ms=Percentiles.of(lat),
            stages=stages,
            sinks=self.sink_reports(),
        )


def _steady_fps(t_out_ns: np.ndarray) -> float:
    """Output rate between the first and last frame out (start-up excluded)."""
    if t_out_ns.size < 2:
        return 0.0
    span = (int(t_out_ns[-1]) - int(t_out_ns[0])) / 1e9
    return (t_out_ns.size - 1) / span if span > 0 else 0.0


def monotonic_ns() -> int:
    return time.monotonic_ns()
