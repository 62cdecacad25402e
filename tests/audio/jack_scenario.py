"""End-to-end audio/video sync on a JACK dummy device; run in a fresh process by test_jack_sync.py.

A paced 30 fps pipeline with a stage that holds frames back gives the video a real
capture->sink latency that steps from ~100 to ~200 ms. AudioSync follows
``pipeline.stats.recent_latency_ms``. A probe stream on the same JACK server sends a click
into AudioSync's input every 250 ms and hears it at AudioSync's output; both ends of the probe run on one
sample clock, so the delay is counted in samples.
A first pass with the delay fixed at 0 measures what the probe's own JACK hops add; it is
taken off, and JACK's reported device latency (what the real playback adds) is put on.
Prints one JSON object.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import deque

import numpy as np

from livefake.audio.sync import AudioSync
from livefake.config import AudioConfig
from livefake.pipeline.frame import Frame
from livefake.pipeline.pipeline import Pipeline
from livefake.pipeline.stage import Captured, Sink, Source, Stage, StreamInfo

RATE = 48_000
CLICK_EVERY = RATE // 4


class PacedSource(Source):
    def open(self) -> StreamInfo:
        self._next = time.monotonic()
        return StreamInfo(64, 48, 30.0)

    def read(self) -> Captured | None:
        self._next += 1 / 30
        time.sleep(max(0.0, self._next - time.monotonic()))
        return Captured(np.zeros((48, 64, 3), np.uint8))


class HoldingStage(Stage):
    """Passes each frame on ``depth[0]`` frames later: video latency without losing frame rate."""

    name = "hold"

    def __init__(self, depth: list[int]) -> None:
        self.depth = depth
        self.held: deque[Frame] = deque()

    def process(self, frame: Frame) -> Frame | None:
        self.held.append(frame)
        return self.held.popleft() if len(self.held) > self.depth[0] else None


class QuietSink(Sink):
    def open(self, info: StreamInfo) -> None:
        pass

    def write(self, frame: Frame) -> None:
        pass


class Probe:
    """Duplex stream: clicks out, records in, both counted on one sample clock."""

    def __init__(self, sd: object) -> None:
        self.sent: list[int] = []
        self.heard: list[tuple[int, float]] = []  # sample clock, wall time
        self.clock = 0
        self.ports: set[str] = set()
        self.lock = threading.Lock()
        self.stream = sd.Stream(  # type: ignore[attr-defined]
            device=("system", "system"), samplerate=RATE, blocksize=480, channels=1,
            dtype="float32", callback=self.callback,
        )

    def callback(self, indata: np.ndarray, outdata: np.ndarray, frames: int, *_: object) -> None:
        outdata.fill(0.0)
        for offset in range(frames):
            if (self.clock + offset) % CLICK_EVERY == 0:
                outdata[offset, 0] = 0.9
                self.sent.append(self.clock + offset)
        above = np.flatnonzero(indata[:, 0] > 0.3)
        if above.size:
            now = time.monotonic()
            with self.lock:
                self.heard.extend((int(self.clock + i), now) for i in above)
        self.clock += frames

    def take(self) -> tuple[list[int], list[tuple[int, float]]]:
        with self.lock:
            sent, heard = self.sent, self.heard
            self.sent, self.heard = [], []
        return sent, heard


def ports() -> set[str]:
    out = subprocess.run(["jack_lsp"], capture_output=True, text=True, check=True).stdout
    return {line.strip() for line in out.splitlines() if line.strip()}


def wire(sync_ports: set[str], probe_ports: set[str]) -> None:
    """probe out -> sync in, sync out (first channel) -> probe in; nothing else into them."""
    for port in sync_ports | probe_ports:
        listing = subprocess.run(["jack_lsp", "-c", port], capture_output=True, text=True).stdout
        for peer in [line.strip() for line in listing.splitlines()[1:] if line.strip()]:
            subprocess.run(["jack_disconnect", port, peer], capture_output=True)
    probe_out = min(p for p in probe_ports if ":out" in p)
    probe_in = min(p for p in probe_ports if ":in" in p)
    sync_in = min(p for p in sync_ports if ":in" in p)
    sync_out = min(p for p in sync_ports if ":out" in p)
    subprocess.run(["jack_connect", probe_out, sync_in], check=True)
    subprocess.run(["jack_connect", sync_out, probe_in], check=True)


def pair_delays(sent: list[int], heard: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """For each click: samples until it was first heard (within one period), and when that was."""
    delays = []
    for start in sent:
        later = [(h - start, t) for h, t in heard if 0 <= h - start < CLICK_EVERY]
        if later:
            delays.append(min(later))
    return delays


def run_pass(sd: object, config: AudioConfig, latency: object, seconds: float, probe: Probe) -> dict:
    before = ports()
    sync = AudioSync(config, latency)  # type: ignore[arg-type]
    if not sync.start():
        raise SystemExit(json.dumps({"error": sync.failure}))
    time.sleep(0.3)
    wire(ports() - before - probe.ports, probe.ports)
    time.sleep(0.5)
    probe.take()
    video: list[tuple[float, float]] = []  # wall time, video latency
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.02)
        video.append((time.monotonic(), latency() or 0.0))  # type: ignore[operator]
    sent, heard = probe.take()
    times = np.array([t for t, _ in video])
    samples = []
    for delay, t_heard in pair_delays(sent, heard):
        video_ms = video[int(np.argmin(np.abs(times - t_heard)))][1]
        samples.append({"t": t_heard, "audio_ms": 1000 * delay / RATE, "video_ms": video_ms})
    result = {"io_latency_ms": sync.io_latency_ms, "samples": samples}
    sync.stop()
    return result


def main() -> None:
    import sounddevice as sd

    probe_before = ports()
    probe = Probe(sd)
    probe.stream.start()
    time.sleep(0.3)
    probe.ports = ports() - probe_before
    calibration = run_pass(sd, AudioConfig(enabled=True, input="system", output="system", delay_ms=0.0),
                           lambda: 0.0, 1.5, probe)
    depth = [3]
    pipe = Pipeline(PacedSource(), [HoldingStage(depth)], [QuietSink()])
    pipe.start()
    time.sleep(1.0)
    step: dict[str, float] = {}

    def slow_down() -> None:
        depth[0] = 6
        step["t"] = time.monotonic()

    timer = threading.Timer(3.5, slow_down)
    timer.start()
    follow = run_pass(sd, AudioConfig(enabled=True, input="system", output="system"),
                      pipe.stats.recent_latency_ms, 7.0, probe)
    pipe.stop()
    probe.stream.stop()
    probe.stream.close()
    print(json.dumps({"calibration": calibration, "follow": follow, "t_step": step["t"]}))


if __name__ == "__main__":
    sys.exit(main())
