"""The last few seconds of the run, for the panel's live graph and the frames API.

The pipeline's own statistics cover the whole run; a graph wants what happens now. A frame
listener keeps a short ring of (time out, capture index, settings version, capture->out latency,
per-stage ms) from the frames' own timestamps: a few microseconds per frame. Summaries are
computed on the panel's threads. ``frames(since)`` lists the output frames themselves, so a
script can see which settings snapshot each frame was made with, and when it came out.
"""

from __future__ import annotations

import threading
import time
from collections import deque

import numpy as np

from livefake.pipeline.frame import Frame

WINDOW_FRAMES = 600  # 20 s at 30 fps
SUMMARY_S = 2.0  # the summary covers this many recent seconds


Record = tuple[int, int, float, dict[str, float], int, float]  # t_out ns, index, latency ms, stages, version, wall ms


class RecentStats:
    """A ring of per-frame records and summaries of the most recent ones."""

    def __init__(self, size: int = WINDOW_FRAMES) -> None:
        self._records: deque[Record] = deque(maxlen=size)
        self._lock = threading.Lock()

    def on_frame(self, frame: Frame) -> None:
        """Frame listener: one record per output frame."""
        now, wall_ms = time.monotonic_ns(), time.time() * 1e3
        stages = {name: (stamp.t_end_ns - stamp.t_start_ns) / 1e6 for name, stamp in frame.stamps.items()}
        version = frame.settings_version
        with self._lock:
            self._records.append((now, frame.index, (now - frame.t_capture_ns) / 1e6, stages, version, wall_ms))

    def frames(self, since: int = -1) -> list[dict[str, float]]:
        """The kept output frames with an index above ``since``: index, settings version, when out
        (wall clock ms) and capture->out latency (ms)."""
        with self._lock:
            records = [record for record in self._records if record[1] > since]
        return [{"index": r[1], "settings_version": r[4], "out_ms": round(r[5], 1), "latency_ms": round(r[2], 2)}
                for r in records]

    def summary(self, seconds: float = SUMMARY_S) -> dict[str, object]:
        """fps, latency p50/p95 (ms), per-stage p50 (ms) and the last index over the last ``seconds``."""
        cutoff = time.monotonic_ns() - int(seconds * 1e9)
        with self._lock:
            recent = [record for record in self._records if record[0] >= cutoff]
        if len(recent) < 2:
            return {"fps": 0.0, "latency_p50_ms": None, "latency_p95_ms": None, "stages_ms": {}, "last_index": None}
        latency = np.array([record[2] for record in recent])
        span_s = (recent[-1][0] - recent[0][0]) / 1e9
        names = {name for record in recent for name in record[3]}
        stages = {
            name: float(np.median([record[3][name] for record in recent if name in record[3]])) for name in names
        }
        p50, p95 = np.percentile(latency, [50, 95])
        return {
            "fps": (len(recent) - 1) / span_s if span_s > 0 else 0.0,
            "latency_p50_ms": float(p50),
            "latency_p95_ms": float(p95),
            "stages_ms": dict(sorted(stages.items())),
            "last_index": recent[-1][1],
        }
