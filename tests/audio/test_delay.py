"""The delay line: exact whole-sample delay, click-free changes."""

from __future__ import annotations

import numpy as np
import pytest

from livefake.audio.delay import DelayLine, ms_to_samples, step_bound

RATE = 48_000


def run_blocks(line: DelayLine, signal: np.ndarray, block: int) -> np.ndarray:
    """Feed ``signal`` (frames, channels) through the line in blocks, return the output."""
    out = [line.process(signal[start : start + block]) for start in range(0, signal.shape[0], block)]
    return np.concatenate(out)


@pytest.mark.parametrize("delay_ms", [0.0, 1.0, 37.5, 120.0, 480.0])
@pytest.mark.parametrize("block", [64, 480, 1000])
def test_impulse_comes_out_exactly_the_set_delay_later(delay_ms: float, block: int) -> None:
    delay = ms_to_samples(delay_ms, RATE)
    line = DelayLine(channels=2, max_delay=RATE, crossfade=960, delay=delay)
    signal = np.zeros((RATE, 2), dtype=np.float32)
    signal[1234, :] = 1.0
    out = run_blocks(line, signal, block)
    peaks = np.flatnonzero(np.abs(out[:, 0]) > 0.5)
    assert peaks.tolist() == [1234 + delay]
    assert np.array_equal(out[:, 0], out[:, 1])


def test_blocks_larger_than_planned_keep_the_delay() -> None:
    line = DelayLine(channels=1, max_delay=2000, crossfade=100, delay=1500, max_block=256)
    signal = np.zeros((20_000, 1), dtype=np.float32)
    signal[5000] = 1.0
    out = run_blocks(line, signal[:3000], 256)
    out = np.concatenate([out, run_blocks(line, signal[3000:], 4000)])
    assert np.flatnonzero(out[:, 0]).tolist() == [6500]


def test_delay_is_clamped_to_the_line_length() -> None:
    line = DelayLine(channels=1, max_delay=1000, crossfade=10)
    line.set_delay(5000)
    assert line.target == 1000
    line.set_delay(-3)
    assert line.target == 0


@pytest.mark.parametrize("change_ms", [50.0, -50.0])
def test_a_50ms_change_makes_no_step_above_the_bound(change_ms: float) -> None:
    crossfade = ms_to_samples(20.0, RATE)
    start = ms_to_samples(100.0, RATE)
    line = DelayLine(channels=1, max_delay=RATE, crossfade=crossfade, delay=start)
    t = np.arange(2 * RATE) / RATE
    signal = (0.9 * np.sin(2 * np.pi * 430.0 * t)).astype(np.float32)[:, None]
    natural_step = float(np.max(np.abs(np.diff(signal[:, 0]))))
    first = run_blocks(line, signal[:RATE], 480)
    line.set_delay(start + ms_to_samples(change_ms, RATE))
    second = run_blocks(line, signal[RATE:], 480)
    out = np.concatenate([first, second])[:, 0]
    largest_step = float(np.max(np.abs(np.diff(out))))
    bound = step_bound(natural_step, peak=0.9, crossfade=crossfade)
    assert largest_step <= bound + 1e-6, (largest_step, bound)
    assert bound < natural_step + 0.002  # the stated bound: at most 0.002 above the signal's own step
    # without a crossfade the same change would jump by almost the full swing
    new = start + ms_to_samples(change_ms, RATE)
    n = np.arange(RATE, RATE + 200)
    jump_if_cut = float(np.max(np.abs(signal[n - new, 0] - signal[n - 1 - start, 0])))
    assert jump_if_cut > 10 * (bound - natural_step)
    # after the fade the new delay is exact again
    assert line.delay == new and not line.fading
    assert np.allclose(out[-1000:], signal[2 * RATE - 1000 - new : 2 * RATE - new, 0])


def test_a_change_during_a_fade_waits_for_it() -> None:
    line = DelayLine(channels=1, max_delay=10_000, crossfade=1000, delay=100)
    line.set_delay(2000)
    line.process(np.zeros((500, 1), dtype=np.float32))
    assert line.fading
    line.set_delay(4000)
    line.process(np.zeros((500, 1), dtype=np.float32))
    assert line.delay == 2000
    line.process(np.zeros((1000, 1), dtype=np.float32))
    assert line.delay == 4000
