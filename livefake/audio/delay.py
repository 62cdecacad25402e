"""A delay line for live audio: a ring buffer with an exact whole-sample delay.

Changing the delay never jumps: the output crossfades linearly from the old read position to
the new one over ``crossfade`` samples. For a signal whose samples stay within ``±peak`` and
whose own sample-to-sample change is at most ``max_step``, the output's change between two
consecutive samples is then at most ``max_step + 2 * peak / crossfade`` (see
``step_bound``): with the default 20 ms crossfade at 48 kHz and a full-scale signal that is
``max_step + 0.0021``, against a possible jump of 2.0 without the crossfade.
"""

from __future__ import annotations

import numpy as np


def ms_to_samples(ms: float, sample_rate: int) -> int:
    """The whole number of samples nearest to ``ms`` milliseconds."""
    return int(round(ms * sample_rate / 1000.0))


def step_bound(max_step: float, peak: float, crossfade: int) -> float:
    """The largest output step a delay change can cause (see the module docstring)."""
    return max_step + 2.0 * peak / crossfade


class DelayLine:
    """Delays blocks of ``(frames, channels)`` float32 audio by a whole number of samples.

    ``process`` runs on the audio callback thread; ``set_delay`` may be called from any thread
    (it only stores the wish, which the next ``process`` picks up). A change requested while a
    crossfade runs starts when that crossfade ends, so each fade goes between two fixed delays.
    """

    def __init__(
        self, channels: int, max_delay: int, crossfade: int, delay: int = 0, max_block: int = 4096
    ) -> None:
        if channels < 1 or max_delay < 0 or crossfade < 1:
            raise ValueError("delay line: channels and crossfade must be >= 1, max_delay >= 0")
        self.channels = channels
        self.max_delay = max_delay
        self.crossfade = crossfade
        self._size = max_delay + max_block
        self._buffer = np.zeros((self._size, channels), dtype=np.float32)
        self._write = 0
        self._delay = self._clamp(delay)
        self._wanted = self._delay
        self._fade_to: int | None = None
        self._fade_done = 0
        self._ramp = (np.arange(1, crossfade + 1, dtype=np.float32) / crossfade)[:, None]

    @property
    def delay(self) -> int:
        """The delay in samples now being played (the target of a running crossfade excluded)."""
        return self._delay

    @property
    def target(self) -> int:
        """The delay in samples last asked for."""
        return self._wanted

    @property
    def fading(self) -> bool:
        return self._fade_to is not None

    def set_delay(self, samples: int) -> None:
        """Ask for a new delay, clamped to ``[0, max_delay]``; it is reached by a crossfade."""
        self._wanted = self._clamp(samples)

    def process(self, block: np.ndarray) -> np.ndarray:
        """Write ``block`` in and return the same number of delayed samples (a new array)."""
        frames = block.shape[0]
        if frames + self.max_delay > self._size:
            self._grow(frames + self.max_delay)
        positions = np.arange(self._write, self._write + frames) % self._size
        self._buffer[positions] = block.reshape(frames, self.channels)
        out = self._read(positions, self._delay)
        if self._fade_to is None and self._wanted != self._delay:
            self._fade_to, self._fade_done = self._wanted, 0
        if self._fade_to is not None:
            self._blend_fade(out, positions)
        self._write = (self._write + frames) % self._size
        return out

    def _blend_fade(self, out: np.ndarray, positions: np.ndarray) -> None:
        """Mix the new read position into ``out`` along the ramp; finish the fade when it is full."""
        assert self._fade_to is not None
        frames = out.shape[0]
        count = min(frames, self.crossfade - self._fade_done)
        gain = self._ramp[self._fade_done : self._fade_done + count]
        new = self._read(positions, self._fade_to)
        out[:count] += gain * (new[:count] - out[:count])
        out[count:] = new[count:]
        self._fade_done += count
        if self._fade_done >= self.crossfade:
            self._delay, self._fade_to = self._fade_to, None

    def _read(self, positions: np.ndarray, delay: int) -> np.ndarray:
        return self._buffer[(positions - delay) % self._size]

    def _grow(self, size: int) -> None:
        """Make room for larger blocks, keeping the history in order (rare: the first big block)."""
        ordered = np.roll(self._buffer, -self._write, axis=0)
        grown = np.zeros((size, self.channels), dtype=np.float32)
        grown[size - self._size :] = ordered
        self._buffer, self._size, self._write = grown, size, 0

    def _clamp(self, samples: int) -> int:
        return max(0, min(int(samples), self.max_delay))
