"""Benchmark scenarios: the threaded pipeline beside a sequential baseline, in the same run.

The sequential baseline is one loop that does every stage in turn, the way single-loop tools
run. Both see the same input. Results are ratios measured in the same run, so they compare
across machines.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from livefake.pipeline import Captured, DropPolicy, Frame, Pipeline, Sink, Source, Stage, StatsReport, StreamInfo
from livefake.pipeline.pacer import catch_up_pacer
from livefake.sinks.null import NullSink

if TYPE_CHECKING:
    from livefake.config import LiveConfig


class FixedCostStage(Stage):
    """Spends a fixed time per frame in work that releases the GIL.

    ``wait`` models a stage that waits on a device (GPU inference, I/O); ``cpu`` burns the
    processor in OpenCV (bounded by the core count: two cores give at most 2x).
    """

    def __init__(self, name: str, cost_ms: float, work: str = "wait") -> None:
        self.name = name
        self.cost_s = cost_ms / 1000
        self.work = work
        self._scratch = np.zeros((256, 256), np.float32)

    def process(self, frame: Frame) -> Frame:
        deadline = time.perf_counter() + self.cost_s
        if self.work == "wait":
            time.sleep(self.cost_s)
            return frame
        while time.perf_counter() < deadline:
            cv2.GaussianBlur(self._scratch, (31, 31), 5.0, dst=self._scratch)
        return frame


class SyntheticSource(Source):
    """Hands out one prepared image ``count`` times, paced at ``fps`` (None: as fast as asked)."""

    name = "synthetic"

    def __init__(self, size: tuple[int, int], count: int, fps: float | None) -> None:
        self.size, self.count, self.fps = size, count, fps
        self._image = np.full((size[1], size[0], 3), 128, np.uint8)
        self._sent = 0
        self._pacer = catch_up_pacer(fps) if fps else None

    def open(self) -> StreamInfo:
        return StreamInfo(width=self.size[0], height=self.size[1], fps=self.fps or 30.0)

    def read(self) -> Captured | None:
        if self._sent >= self.count:
            return None
        if self._pacer is not None:
            self._pacer.wait()
        self._sent += 1
        return Captured(self._image)


@dataclass(frozen=True)
class SequentialResult:
    fps: float
    latency_ms: float  # median per-frame time: capture to sink in one loop


def run_sequential(source: Source, stages: Sequence[Stage], sinks: Sequence[Sink], frames: int) -> SequentialResult:
    """The baseline: read, every stage, every sink, one frame at a time on one thread."""
    info = source.open()
    for stage in stages:
        stage.open()
    for sink in sinks:
        sink.open(info)
    durations = []
    t_start = time.perf_counter()
    done = 0
    try:
        while done < frames and (captured := source.read()) is not None:
            t0 = time.perf_counter()
            frame: Frame | None = Frame(index=done, t_capture_ns=time.monotonic_ns(), image=captured.image)
            for stage in stages:
                frame = stage.process(frame) if frame is not None else None
            for sink in sinks:
                if frame is not None:
                    sink.write(frame)
            durations.append(time.perf_counter() - t0)
            done += 1
    finally:
        for stage in stages:
            stage.close()
        for sink in sinks:
            sink.close()
        source.close()
    elapsed = time.perf_counter() - t_start
    return SequentialResult(fps=done / elapsed if elapsed else 0.0, latency_ms=float(np.median(durations)) * 1000)


def run_threaded(
    source: Source, stages: Sequence[Stage], sinks: Sequence[Sink], policy: DropPolicy,
    settings: LiveConfig | None = None,
) -> Pipeline:
    pipeline = Pipeline(source, stages, sinks, policy=policy, capacity=1, settings=settings)
    pipeline.run()
    return pipeline


def report_dict(scenario: str, report: StatsReport) -> dict[str, object]:
    """The JSON fields every scenario writes."""
    return {
        "scenario": scenario,
        "frames_in": report.frames_in,
        "frames_out": report.frames_out,
        "dropped": report.dropped,
        "fps": round(report.fps, 2),
        "latency_ms": {k: round(v, 2) for k, v in vars(report.latency_ms).items()},
        "stages": {
            name: {"p50_ms": round(stage.process_ms.p50, 3), "p95_ms": round(stage.process_ms.p95, 3),
                   "wait_p50_ms": round(stage.wait_ms.p50, 3)}
            for name, stage in report.stages.items()
        },
        "sinks": {
            name: {"frames": sink.frames, "dropped": sink.dropped,
                   "latency_ms": {k: round(v, 2) for k, v in vars(sink.latency_ms).items()}}
            for name, sink in report.sinks.items()
        },
        "drop_share": round(report.dropped / report.frames_in, 4) if report.frames_in else None,
    }


def pipeline_scenario(
    cost_ms: float = 10.0, frames: int = 300, work: str = "wait", size: tuple[int, int] = (1280, 720)
) -> tuple[dict[str, object], Pipeline]:
    """Four fixed-cost stages: throughput (unpaced, BLOCK) and latency (paced at 80% of it, live)."""

    def stages() -> list[Stage]:
        return [FixedCostStage(f"stage{i + 1}", cost_ms, work) for i in range(4)]

    sequential = run_sequential(SyntheticSource(size, frames // 3, None), stages(), [NullSink()], frames // 3)
    throughput = run_threaded(SyntheticSource(size, frames, None), stages(), [NullSink()], DropPolicy.BLOCK)
    max_fps = throughput.stats.report().fps
    paced = run_threaded(SyntheticSource(size, frames, 0.8 * max_fps), stages(), [NullSink()], DropPolicy.DROP_OLDEST)
    result = report_dict("pipeline", paced.stats.report())
    stage_sum = sum(s.process_ms.p50 for s in paced.stats.report().stages.values())
    result.update(
        fps=round(max_fps, 2),
        paced_fps=round(paced.stats.report().fps, 2),
        sequential_fps=round(sequential.fps, 2),
        speedup=round(max_fps / sequential.fps, 2) if sequential.fps else None,
        stage_sum_ms=round(stage_sum, 2),
        latency_over_stage_sum=round(paced.stats.report().latency_ms.p50 / stage_sum, 3) if stage_sum else None,
        work=work,
        stage_cost_ms=cost_ms,
    )
    return result, paced


def live_scenario(config: LiveConfig, seconds: float, fps: float = 30.0) -> tuple[dict[str, object], Pipeline]:
    """The real live path on a generated clip.

    Three runs on the same clip: the sequential loop and the threaded pipeline, both unpaced
    (their ratio is the speedup), then the pipeline paced at the clip's ``fps`` with the live
    drop policy, which gives the sustained rate, the drops and the capture->sink latency.
    """
    from livefake.builder import build_stages
    from livefake.sources import VideoFileSource
    from livefake.sources.demo import demo_clip

    size = config.source.size or (1280, 720)
    clip = demo_clip(size, seconds=max(seconds, 2.0), fps=fps)
    unpaced_frames = min(int(seconds * fps), 150)
    unpaced = VideoFileSource(clip, realtime=False)
    sequential = run_sequential(unpaced, build_stages(config), [NullSink()], unpaced_frames)
    limited = LimitedSource(VideoFileSource(clip, realtime=False), unpaced_frames)
    max_fps = run_threaded(limited, build_stages(config), [NullSink()], DropPolicy.BLOCK, config).stats.report().fps
    live = VideoFileSource(clip, realtime=True)
    pipeline = run_threaded(live, build_stages(config), [NullSink()], DropPolicy.DROP_OLDEST, config)
    report = pipeline.stats.report()
    result = report_dict("live", report)
    total = sum(s.process_ms.p50 for s in report.stages.values())
    result.update(
        size=f"{size[0]}x{size[1]}",
        clip_fps=fps,
        max_fps=round(max_fps, 2),
        sequential_fps=round(sequential.fps, 2),
        speedup=round(max_fps / sequential.fps, 2) if sequential.fps else None,
        stage_share={name: round(s.process_ms.p50 / total, 3) if total else None for name, s in report.stages.items()},
    )
    return result, pipeline


class LimitedSource(Source):
    """Passes on the first ``count`` frames of another source."""

    def __init__(self, source: Source, count: int) -> None:
        self.source, self.count = source, count
        self.name = source.name
        self._sent = 0

    def open(self) -> StreamInfo:
        return self.source.open()

    def read(self) -> Captured | None:
        if self._sent >= self.count:
            return None
        self._sent += 1
        return self.source.read()

    def close(self) -> None:
        self.source.close()
