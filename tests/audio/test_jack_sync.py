"""Audio kept in step with the delayed video on a real-time paced device (JACK's dummy backend).

Runs in the default suite where Debian's ``jackd2`` and ``libportaudio2`` are installed (about
15 s); skips with the reason otherwise. The scenario runs in a fresh process, because PortAudio
lists JACK's devices only if the server is up when it initialises.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

SCENARIO = Path(__file__).with_name("jack_scenario.py")
TOLERANCE_MS = 20.0
SETTLE_S = 2.0  # after the video latency steps by 100 ms, its median and the audio get this long


def portaudio_missing() -> str | None:
    probe = subprocess.run([sys.executable, "-c", "import sounddevice"], capture_output=True, text=True)
    return None if probe.returncode == 0 else probe.stderr.strip().splitlines()[-1]


@pytest.fixture
def jack_server() -> Iterator[dict[str, str]]:
    missing = [tool for tool in ("jackd", "jack_lsp", "jack_connect") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} missing: apt-get install jackd2 libportaudio2")
    if (reason := portaudio_missing()) is not None:
        pytest.skip(f"PortAudio missing ({reason}): apt-get install libportaudio2")
    env = dict(os.environ, JACK_DEFAULT_SERVER=f"livefake-test-{os.getpid()}")
    server = subprocess.Popen(
        ["jackd", "--no-realtime", "-d", "dummy", "-r", "48000", "-p", "480"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 10
        while subprocess.run(["jack_lsp"], env=env, capture_output=True).returncode != 0:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.skip(f"jackd did not start: {server.stdout.read() if server.stdout else ''}")
            time.sleep(0.2)
        yield env
    finally:
        server.terminate()
        server.wait(timeout=5)


@pytest.mark.slow  # a paced JACK run of several seconds; the delay line itself is checked in test_sync.py
def test_audio_offset_stays_within_20ms_of_the_video_latency(jack_server: dict[str, str]) -> None:
    run = subprocess.run(
        [sys.executable, str(SCENARIO)], env=jack_server, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr[-2000:] + run.stdout[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    hops_ms = min(s["audio_ms"] for s in result["calibration"]["samples"])  # the probe's own JACK hops
    device_ms = result["follow"]["io_latency_ms"]  # what JACK says the real input + playback add
    samples = result["follow"]["samples"]
    offsets = [s["audio_ms"] - hops_ms + device_ms - s["video_ms"] for s in samples]
    settled = [
        offset for s, offset in zip(samples, offsets, strict=True)
        if not 0 <= s["t"] - result["t_step"] < SETTLE_S
    ]
    videos = [s["video_ms"] for s in samples]
    assert max(videos) - min(videos) > 50, "the video latency should have stepped up"
    assert len(settled) >= 15
    steps = [round(s["t"] - result["t_step"], 1) for s in samples]
    table = [(t, round(o, 1)) for t, o in zip(steps, offsets, strict=True)]
    assert max(abs(offset) for offset in settled) <= TOLERANCE_MS, table
