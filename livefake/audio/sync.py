"""The live audio path: microphone -> delay line -> output device, kept in step with the video.

The delay follows the pipeline's measured capture->sink latency, smoothed, minus what the
sound devices themselves add (PortAudio's reported input + output latency), so the voice
leaves the output about when the face that spoke it leaves the sinks. ``AudioConfig.delay_ms``
fixes the delay line by hand instead, and can change while running (a new value, or None to
follow the video again, is taken within one control period). Audio never stops the video: any failure, at start or
mid-run, logs one warning and the audio path switches itself off.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from livefake.audio.delay import DelayLine, ms_to_samples
from livefake.audio.device import AudioDevice, find_device, load_sounddevice, open_duplex
from livefake.config import AudioConfig
from livefake.errors import LivefakeError

log = logging.getLogger(__name__)

LatencySource = Callable[[], float | None]
SettingsSource = Callable[[], AudioConfig]  # the current settings; only ``delay_ms`` is followed live
CONTROL_PERIOD_S = 0.05  # how often the delay is re-aimed and the stream watched
SMOOTHING_S = 0.3  # time constant of the latency smoothing
DEADBAND_MS = 4.0  # smaller changes of the smoothed latency are ignored (no needless fades)
STALL_S = 1.0  # a stream whose callback stays silent this long is taken as gone


class AudioSync:
    """Runs the audio path on PortAudio's callback thread plus one small control thread.

    ``start()`` returns True when audio runs, False (after one warning) when it cannot;
    ``stop()`` is safe to call in any state and returns within about a second.
    """

    def __init__(self, config: AudioConfig, latency_ms: LatencySource, settings: SettingsSource | None = None) -> None:
        self.config = config
        self._latency_ms = latency_ms
        self._settings = settings
        self._fixed_ms: float | None = None  # the hand-set delay last applied
        self._rate = config.sample_rate
        self._line = DelayLine(
            channels=1,
            max_delay=ms_to_samples(config.max_delay_ms, self._rate),
            crossfade=max(1, ms_to_samples(config.crossfade_ms, self._rate)),
        )
        self._stream: Any = None
        self._stream_lock = threading.Lock()
        self._stop = threading.Event()
        self._control: threading.Thread | None = None
        self._last_callback_ns = 0
        self._smoothed_ms: float | None = None
        self.io_latency_ms = 0.0
        self.devices: tuple[AudioDevice, AudioDevice] | None = None
        self.failure: str | None = None

    # -- public ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._stream is not None and self.failure is None and not self._stop.is_set()

    @property
    def delay_ms(self) -> float:
        """The delay line's target delay in milliseconds."""
        return self._line.target * 1000.0 / self._rate

    def start(self) -> bool:
        """Open the devices and start; on any failure warn once and return False."""
        try:
            self._open()
        except LivefakeError as error:
            self._give_up(str(error))
            return False
        except Exception as error:  # noqa: BLE001 - audio edge: audio must never stop the video
            self._give_up(f"{type(error).__name__}: {error}")
            return False
        self._control = threading.Thread(target=self._run_control, name="livefake-audio", daemon=True)
        self._control.start()
        return True

    def stop(self) -> None:
        self._stop.set()
        if self._control is not None and self._control is not threading.current_thread():
            self._control.join(timeout=1.0)
        self._close_stream()

    # -- opening -----------------------------------------------------------------------------

    def _open(self) -> None:
        sd = load_sounddevice()
        source = find_device(sd, self.config.input, "input")
        target = find_device(sd, self.config.output, "output")
        self.devices = (source, target)
        blocksize = max(1, ms_to_samples(self.config.block_ms, self._rate))
        self._stream = open_duplex(
            sd, self.devices, self._rate, blocksize, (1, 2), self._process, self._finished
        )
        self.io_latency_ms = _stream_latency_ms(self._stream)
        self._aim(self._initial_delay_ms(), force=True)
        self._last_callback_ns = time.monotonic_ns()
        self._start_stream()
        fixed = self.config.delay_ms
        mode = "follows the video" if fixed is None else f"fixed at {fixed:.0f} ms"
        log.info(
            "audio: '%s' -> '%s' at %d Hz, device latency %.1f ms, delay %s",
            source.name, target.name, self._rate, self.io_latency_ms, mode,
        )

    def _start_stream(self) -> None:
        try:
            self._stream.start()
        except Exception as error:  # noqa: BLE001 - PortAudio's own errors carry the reason
            self._close_stream()
            raise LivefakeError(f"cannot start audio stream: {error}") from error

    def _initial_delay_ms(self) -> float:
        self._fixed_ms = self.config.delay_ms
        if self.config.delay_ms is not None:
            return self.config.delay_ms
        latency = self._latency_ms()
        return 0.0 if latency is None else latency - self.io_latency_ms

    # -- the audio thread --------------------------------------------------------------------

    def _process(self, indata: np.ndarray, outdata: np.ndarray, frames: int, when: Any, status: Any) -> None:
        """PortAudio's callback: mono input through the delay line to every output channel."""
        self._last_callback_ns = time.monotonic_ns()
        delayed = self._line.process(indata[:, :1])
        outdata[:] = delayed

    def _finished(self) -> None:
        if not self._stop.is_set() and self.failure is None:
            self._give_up("the audio stream stopped (device unplugged or sound server gone)")

    # -- control thread ----------------------------------------------------------------------

    def _run_control(self) -> None:
        try:
            while not self._stop.wait(CONTROL_PERIOD_S):
                if self.failure is not None:
                    break
                self._watch_stream()
                self._steer()
        except Exception as error:  # noqa: BLE001 - audio edge: audio must never stop the video
            self._give_up(f"{type(error).__name__}: {error}")
        if self.failure is not None:
            self._close_stream()

    def _watch_stream(self) -> None:
        silent_s = (time.monotonic_ns() - self._last_callback_ns) / 1e9
        if silent_s > STALL_S:
            self._give_up(f"the audio device delivered nothing for {silent_s:.1f} s (unplugged?)")
        elif not getattr(self._stream, "active", True):
            self._give_up("the audio stream stopped (device unplugged or sound server gone)")

    def _steer(self) -> None:
        """Follow the video latency, or a hand-set delay (applied at once when it changes)."""
        fixed = self._settings().delay_ms if self._settings is not None else self.config.delay_ms
        if fixed is None:
            self._fixed_ms = None
            self._follow_latency()
        elif fixed != self._fixed_ms:
            self._fixed_ms = fixed
            self._aim(fixed, force=True)
            log.info("audio: delay fixed at %.0f ms", fixed)

    def _follow_latency(self) -> None:
        latency = self._latency_ms()
        if latency is None:
            return
        if self._smoothed_ms is None:
            self._smoothed_ms = latency
        else:
            alpha = CONTROL_PERIOD_S / (SMOOTHING_S + CONTROL_PERIOD_S)
            self._smoothed_ms += alpha * (latency - self._smoothed_ms)
        self._aim(self._smoothed_ms - self.io_latency_ms)

    def _aim(self, delay_ms: float, force: bool = False) -> None:
        if force or abs(delay_ms - self.delay_ms) > DEADBAND_MS:
            self._line.set_delay(ms_to_samples(max(0.0, delay_ms), self._rate))

    # -- failure -----------------------------------------------------------------------------

    def _give_up(self, reason: str) -> None:
        if self.failure is None:
            self.failure = reason
            log.warning("audio off, video goes on: %s", reason)

    def _close_stream(self) -> None:
        with self._stream_lock:
            stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            stream.abort()
            stream.close()
        except Exception as error:  # noqa: BLE001 - closing a device that may be gone
            log.debug("closing the audio stream: %s", error)


def _stream_latency_ms(stream: Any) -> float:
    """PortAudio's reported input + output latency of a duplex stream, in ms."""
    latency = getattr(stream, "latency", 0.0)
    if isinstance(latency, tuple | list):
        return 1000.0 * float(sum(latency))
    return 1000.0 * float(latency)
