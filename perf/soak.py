"""Soak: a long live passthrough of a 720p clip paced at 30 fps.

Checks that the live path does not drift: RSS growth, drops, and latency p95 of the last
minute against the first. The frames are recorded to an H.264 file (deleted afterwards), so
the latency measured includes real encoding work, not only the hand-over between threads.
Usage: python perf/soak.py [--minutes 10] [--size 1280x720] [--sink null]
Writes perf/results/soak.json and perf/results/soak.png.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from livefake.bench.plots import plot_run
from livefake.pipeline import DropPolicy, Pipeline
from livefake.sinks.file import FileSink
from livefake.sinks.null import NullSink
from livefake.sources import VideoFileSource
from livefake.sources.demo import demo_clip

RESULTS = Path(__file__).parent / "results"


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--sink", choices=("file", "null"), default="file")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    clip = demo_clip((width, height), seconds=20.0)
    scratch = Path(tempfile.mkdtemp(prefix="livefake-soak-"))
    sink = FileSink(scratch / "soak.mp4", preset="ultrafast") if args.sink == "file" else NullSink()
    source = VideoFileSource(clip, realtime=True, loop=True)
    pipeline = Pipeline(source, [], [sink], DropPolicy.DROP_OLDEST, 1)
    samples: list[tuple[float, float]] = []
    pipeline.start()
    started = time.monotonic()
    while time.monotonic() - started < args.minutes * 60:
        time.sleep(5.0)
        samples.append((time.monotonic() - started, rss_mb()))
    pipeline.stop()
    shutil.rmtree(scratch, ignore_errors=True)
    report = pipeline.stats.report()
    t, latency = pipeline.stats.latency_series()
    first = latency[t < 60]
    last = latency[t > t[-1] - 60]
    p95_first, p95_last = float(np.percentile(first, 95)), float(np.percentile(last, 95))
    rss_start = samples[0][1]  # after the first 5 s: buffers allocated, decoder warm
    result = {
        "scenario": "soak",
        "minutes": args.minutes,
        "size": args.size,
        "sink": args.sink,
        "frames_in": report.frames_in,
        "frames_out": report.frames_out,
        "dropped": report.dropped,
        "fps": round(report.fps, 2),
        "rss_mb_start": round(rss_start, 1),
        "rss_mb_end": round(samples[-1][1], 1),
        "rss_growth_mb": round(samples[-1][1] - rss_start, 1),
        "latency_p95_first_minute_ms": round(p95_first, 2),
        "latency_p95_last_minute_ms": round(p95_last, 2),
        "latency_p95_change": round(p95_last / p95_first - 1, 3),
    }
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "soak.json").write_text(json.dumps(result, indent=2) + "\n")
    title = f"{args.minutes:g}-minute live passthrough to {args.sink}, {args.size} @ 30 fps"
    plot_run(pipeline, RESULTS / "soak.png", title)


if __name__ == "__main__":
    main()
