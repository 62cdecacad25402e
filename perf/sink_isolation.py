"""Sink isolation: a stalled sink must not slow the others (a ring and a thread per sink).

Live runs of the same paced source through one light stage into a virtual camera (a
userspace pyvirtualcam backend standing in for v4l2loopback), an H.264 recording and an
MPEG-TS stream over UDP, without and with a sink that stalls 200 ms on every frame, in turn
for ``--rounds`` rounds (every other round the other way round). The recording's frame count
and capture->written latency p95 with the stalled sink are compared to those without (p95:
median over the rounds), and the stalled sink's drops are counted.
Usage: flock /tmp/livefake-cpu.lock python perf/sink_isolation.py [--seconds 20] [--size 1280x720] [--rounds 3]
Writes perf/results/sink_isolation.json and .png.
"""

from __future__ import annotations

import argparse
import json
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyvirtualcam

from livefake.config import OutputConfig
from livefake.pipeline import Captured, DropPolicy, Frame, Pipeline, Sink, Source, Stage, StatsReport, StreamInfo
from livefake.sinks.file import FileSink
from livefake.sinks.stream import StreamSink
from livefake.sinks.virtualcam import VirtualCameraSink

RESULTS = Path(__file__).parent / "results"
BACKEND = "livefake-userspace"
STALL_S = 0.2


class UserspaceCamera:
    """A pyvirtualcam backend in userspace: counts frames, keeps none (no loopback device here)."""

    def __init__(self, *, width: int, height: int, fps: float, fourcc: int, **_: Any) -> None:
        self.width, self.height, self.frames = width, height, 0

    def send(self, frame: np.ndarray) -> None:
        self.frames += 1

    def close(self) -> None:
        pass

    def device(self) -> str:
        return "userspace"

    def native_fourcc(self) -> int | None:
        return None


pyvirtualcam.register_backend(BACKEND, UserspaceCamera)


class PacedSource(Source):
    """``count`` moving-noise frames at ``fps``, paced like a camera."""

    name = "paced"

    def __init__(self, size: tuple[int, int], fps: float, count: int) -> None:
        self.size, self.fps, self.count, self.sent = size, fps, count, 0
        rng = np.random.default_rng(0)
        self.images = [rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8) for _ in range(4)]
        self.t0 = 0.0

    def open(self) -> StreamInfo:
        self.t0 = time.monotonic()
        return StreamInfo(self.size[0], self.size[1], self.fps, is_live=True)

    def read(self) -> Captured | None:
        if self.sent >= self.count:
            return None
        time.sleep(max(0.0, self.t0 + self.sent / self.fps - time.monotonic()))
        self.sent += 1
        return Captured(self.images[self.sent % 4])


class LightStage(Stage):
    """A few milliseconds of GIL-free work, as a small live stage would do."""

    name = "work"

    def process(self, frame: Frame) -> Frame:
        time.sleep(0.003)
        return frame


class StalledSink(Sink):
    """A sink stuck for 200 ms on every frame (a blocked network peer, a hung device)."""

    name = "stalled"

    def __init__(self) -> None:
        self.frames = 0

    def open(self, info: StreamInfo) -> None:
        pass

    def write(self, frame: Frame) -> None:
        time.sleep(STALL_S)
        self.frames += 1


def udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_once(size: tuple[int, int], fps: float, frames: int, stalled: bool, folder: Path) -> Pipeline:
    sinks: list[Sink] = [
        VirtualCameraSink(backend=BACKEND),
        FileSink(folder / f"rec_{'stalled' if stalled else 'alone'}.mp4", preset="ultrafast"),
        StreamSink.from_spec(f"udp://127.0.0.1:{udp_port()}", OutputConfig()),
    ]
    if stalled:
        sinks.append(StalledSink())
    pipeline = Pipeline(PacedSource(size, fps, frames), [LightStage()], sinks, DropPolicy.DROP_OLDEST, 1)
    pipeline.run()
    return pipeline


def compare(
    size: tuple[int, int], fps: float, seconds: float, rounds: int = 1
) -> tuple[dict[str, Any], Pipeline]:
    """The runs without and with the stalled sink, ``rounds`` times in turn, and the figures that
    compare them: the recording's frames over all rounds, and its p95 as the median over rounds
    (run-to-run noise on two shared cores is larger than the 5% being checked)."""
    frames = int(seconds * fps)
    alone_runs: list[StatsReport] = []
    stalled_runs: list[StatsReport] = []
    with_stall: Pipeline | None = None
    with tempfile.TemporaryDirectory(prefix="livefake-isolation-") as scratch:
        for round_index in range(rounds):
            for stalled in (False, True) if round_index % 2 == 0 else (True, False):  # no order bias
                pipeline = run_once(size, fps, frames, stalled, Path(scratch))
                (stalled_runs if stalled else alone_runs).append(pipeline.stats.report())
                with_stall = pipeline if stalled else with_stall
    alone, stalled = alone_runs[-1], stalled_runs[-1]
    assert with_stall is not None
    p95_alone = [run.sinks["file"].latency_ms.p95 for run in alone_runs]
    p95_stalled = [run.sinks["file"].latency_ms.p95 for run in stalled_runs]
    result = {
        "size": f"{size[0]}x{size[1]}", "fps": fps, "frames": frames, "stall_ms": STALL_S * 1000, "rounds": rounds,
        "alone": sink_figures(alone), "with_stalled_sink": sink_figures(stalled),
        "file_frames_ratio": round(sum(run.sinks["file"].frames for run in stalled_runs)
                                   / sum(run.sinks["file"].frames for run in alone_runs), 4),
        "file_p95_ms_by_round": {"alone": [round(v, 2) for v in p95_alone],
                                 "with_stalled_sink": [round(v, 2) for v in p95_stalled]},
        "file_latency_p95_ratio": round(float(np.median(p95_stalled) / np.median(p95_alone)), 4),
        "stalled_written": stalled.sinks["stalled"].frames, "stalled_dropped": stalled.sinks["stalled"].dropped,
    }
    return result, with_stall


def sink_figures(report: StatsReport) -> dict[str, Any]:
    return {
        name: {"frames": sink.frames, "dropped": sink.dropped,
               "latency_p50_ms": round(sink.latency_ms.p50, 2), "latency_p95_ms": round(sink.latency_ms.p95, 2)}
        for name, sink in report.sinks.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    result, pipeline = compare((width, height), args.fps, args.seconds, args.rounds)
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sink_isolation.json").write_text(json.dumps(result, indent=2) + "\n")
    from livefake.bench.plots import plot_run

    plot_run(pipeline, RESULTS / "sink_isolation.png", "sink isolation (with the stalled sink)")


if __name__ == "__main__":
    main()
