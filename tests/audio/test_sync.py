"""The live audio path against a stand-in sounddevice: following the latency, and failing softly."""

from __future__ import annotations

import ctypes.util
import logging
import sys
import threading
import time
import types
from typing import Any

import numpy as np
import pytest
from doubles import RecordingSink

from livefake.audio.sync import AudioSync
from livefake.config import AudioConfig
from livefake.pipeline import pipeline as pipeline_module
from livefake.pipeline.stage import Captured, Source, StreamInfo

BLOCK = 480


class FakeStream:
    """A duplex stream that calls back every 10 ms from its own thread, and can vanish."""

    latency = (0.005, 0.010)

    def __init__(self, callback: Any, finished_callback: Any, channels: tuple[int, int], **_: Any) -> None:
        self.callback, self.finished = callback, finished_callback
        self.channels = channels
        self.active = False
        self.outputs: list[np.ndarray] = []
        self.inputs: list[np.ndarray] = []
        self._thread: threading.Thread | None = None
        self._halt = threading.Event()

    def start(self) -> None:
        self.active = True
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        count = 0
        while not self._halt.wait(0.01):
            indata = np.zeros((BLOCK, self.channels[0]), dtype=np.float32)
            if count == 5:
                indata[100, 0] = 1.0
            outdata = np.empty((BLOCK, self.channels[1]), dtype=np.float32)
            self.callback(indata, outdata, BLOCK, None, None)
            self.outputs.append(outdata)
            count += 1

    def vanish(self, tell: bool) -> None:
        """Stop calling back, as an unplugged device does; ``tell`` fires the finished callback."""
        self._halt.set()
        if tell:
            self.active = False
            self.finished()

    def abort(self) -> None:
        self._halt.set()
        self.active = False

    def close(self) -> None:
        self._halt.set()


def fake_sounddevice(devices: list[dict[str, Any]]) -> types.ModuleType:
    module = types.ModuleType("sounddevice")
    module.streams = []  # type: ignore[attr-defined]

    def make_stream(**kwargs: Any) -> FakeStream:
        stream = FakeStream(**kwargs)
        module.streams.append(stream)  # type: ignore[attr-defined]
        return stream

    module.Stream = make_stream  # type: ignore[attr-defined]
    module.query_devices = lambda: devices  # type: ignore[attr-defined]
    module.query_hostapis = lambda index: {"name": "Fake"}  # type: ignore[attr-defined]
    module.default = types.SimpleNamespace(device=[0, 1])  # type: ignore[attr-defined]
    return module


DEVICES = [
    {"name": "Fake Mic", "hostapi": 0, "max_input_channels": 1, "max_output_channels": 0,
     "default_samplerate": 48000.0},
    {"name": "livefake null sink", "hostapi": 0, "max_input_channels": 0, "max_output_channels": 2,
     "default_samplerate": 48000.0},
]


@pytest.fixture
def sounddevice_stub(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = fake_sounddevice(DEVICES)
    monkeypatch.setitem(sys.modules, "sounddevice", module)
    return module


class CountingSource(Source):
    def __init__(self, frames: int) -> None:
        self.frames, self.sent = frames, 0

    def open(self) -> StreamInfo:
        return StreamInfo(64, 48, 50.0)

    def read(self) -> Captured | None:
        if self.sent == self.frames:
            return None
        time.sleep(0.02)
        self.sent += 1
        return Captured(np.full((48, 64, 3), self.sent % 256, dtype=np.uint8))


def run_video_with(audio: AudioSync, during: Any = None, frames: int = 40) -> list[int]:
    """Run a small paced pipeline while the audio path starts (and ``during`` acts); return frames out."""
    sink = RecordingSink()
    pipe = pipeline_module.Pipeline(CountingSource(frames), [], [sink])
    pipe.start()
    audio.start()
    if during is not None:
        time.sleep(0.2)
        during()
    assert pipe.join(timeout=10)
    audio.stop()
    return sink.indices


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    return [message for message in messages if "audio" in message]


@pytest.mark.skipif(sys.platform != "linux", reason="PortAudio lookup by find_library is the Linux path")
def test_no_portaudio_warns_once_and_video_goes_on(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    audio = AudioSync(AudioConfig(enabled=True), lambda: 100.0)
    assert run_video_with(audio) == list(range(40))
    assert not audio.running
    messages = warnings_of(caplog)
    assert len(messages) == 1
    assert "PortAudio library not found" in messages[0] and "libportaudio2" in messages[0]


def test_no_device_warns_once_with_the_fix(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice([]))
    audio = AudioSync(AudioConfig(enabled=True), lambda: 100.0)
    assert run_video_with(audio) == list(range(40))
    messages = warnings_of(caplog)
    assert len(messages) == 1 and "no audio input device" in messages[0]


def test_unknown_device_name_lists_the_devices(
    sounddevice_stub: types.ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    audio = AudioSync(AudioConfig(enabled=True, output="BlackHole"), lambda: 100.0)
    assert not audio.start()
    (message,) = warnings_of(caplog)
    assert "'BlackHole' not found" in message and "1: livefake null sink" in message


@pytest.mark.parametrize("tell", [True, False], ids=["finished-callback", "silent-stall"])
def test_device_vanishing_mid_run_warns_once_and_video_goes_on(
    sounddevice_stub: types.ModuleType, caplog: pytest.LogCaptureFixture, tell: bool
) -> None:
    audio = AudioSync(AudioConfig(enabled=True, input="mic", output="null"), lambda: 100.0)
    frames = 120 if not tell else 40  # the silent case needs the 1 s stall watchdog to fire
    indices = run_video_with(audio, during=lambda: sounddevice_stub.streams[0].vanish(tell), frames=frames)
    assert indices == list(range(frames))
    assert audio.failure is not None and not audio.running
    messages = warnings_of(caplog)
    assert len(messages) == 1 and ("unplugged" in messages[0])


def test_delay_follows_the_video_latency_minus_device_latency(sounddevice_stub: types.ModuleType) -> None:
    latency = {"ms": 100.0}
    audio = AudioSync(AudioConfig(enabled=True), lambda: latency["ms"])
    assert audio.start()
    try:
        assert audio.io_latency_ms == pytest.approx(15.0)
        assert audio.delay_ms == pytest.approx(85.0, abs=0.05)
        latency["ms"] = 160.0
        time.sleep(2.0)  # several smoothing time constants
        assert audio.delay_ms == pytest.approx(145.0, abs=4.5)
        latency["ms"] = 161.0  # inside the dead band: no new fade
        time.sleep(0.5)
        assert audio.delay_ms == pytest.approx(145.0, abs=4.5)
    finally:
        audio.stop()


def test_fixed_delay_ignores_the_video_and_delays_the_audio(sounddevice_stub: types.ModuleType) -> None:
    audio = AudioSync(AudioConfig(enabled=True, delay_ms=30.0), lambda: 500.0)
    assert audio.start()
    time.sleep(0.6)
    audio.stop()
    assert audio.delay_ms == pytest.approx(30.0)
    out = np.concatenate(sounddevice_stub.streams[0].outputs)
    impulse_in = 5 * BLOCK + 100
    peaks = np.flatnonzero(np.abs(out[:, 0]) > 0.5)
    assert peaks.tolist() == [impulse_in + 30 * 48]
    assert np.array_equal(out[:, 0], out[:, 1])  # mono microphone to both output channels


def test_a_hand_set_delay_changes_while_running_and_can_follow_the_video_again(
    sounddevice_stub: types.ModuleType,
) -> None:
    settings = {"audio": AudioConfig(enabled=True, delay_ms=30.0)}
    audio = AudioSync(settings["audio"], lambda: 200.0, settings=lambda: settings["audio"])
    assert audio.start()
    try:
        assert audio.delay_ms == pytest.approx(30.0)
        settings["audio"] = AudioConfig(enabled=True, delay_ms=31.0)  # inside the dead band, set anyway
        time.sleep(0.3)
        assert audio.delay_ms == pytest.approx(31.0)
        settings["audio"] = AudioConfig(enabled=True, delay_ms=None)  # back to the video's latency
        time.sleep(2.0)
        assert audio.delay_ms == pytest.approx(185.0, abs=4.5)  # 200 ms video minus 15 ms devices
    finally:
        audio.stop()
