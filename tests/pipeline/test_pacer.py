"""The frame pacer on a fake clock: frames due at their media time, late callers resync or catch up."""

from __future__ import annotations

import pytest

from livefake.pipeline import pacer
from livefake.pipeline.pacer import FramePacer, catch_up_pacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(pacer.time, "monotonic", fake.monotonic)
    monkeypatch.setattr(pacer.time, "sleep", fake.sleep)
    return fake


def test_frames_leave_at_their_media_time(clock: FakeClock) -> None:
    paced = FramePacer(fps=25.0)
    released = []
    for _ in range(5):
        paced.wait()
        released.append(clock.now - 100.0)
    assert released == pytest.approx([0.0, 0.04, 0.08, 0.12, 0.16])


def test_a_late_caller_restarts_the_clock_instead_of_bursting(clock: FakeClock) -> None:
    paced = FramePacer(10.0)
    paced.wait()
    clock.now += 1.0  # ten periods late
    paced.wait()
    paced.wait()
    assert clock.sleeps == pytest.approx([0.1])  # the frame after the late one waits a full period


def test_a_catch_up_pacer_sends_late_frames_back_to_back(clock: FakeClock) -> None:
    paced = catch_up_pacer(10.0)
    paced.wait()
    clock.now += 0.35
    for _ in range(3):
        paced.wait()  # frames 1-3 were due at 0.1, 0.2, 0.3: no sleep
    assert clock.sleeps == []
    paced.wait()  # frame 4 is due at 0.4
    assert clock.sleeps == pytest.approx([0.05])


def test_one_sleep_is_capped(clock: FakeClock) -> None:
    paced = FramePacer(fps=1.0, max_sleep_s=0.25)
    paced.wait_until(0.0)
    paced.wait_until(2.0)
    assert clock.sleeps == [0.25]
