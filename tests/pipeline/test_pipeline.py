import threading
import time

import pytest
from doubles import BlockedStage, CountingSource, FailingStage, RecordingSink, SleepStage

from livefake.errors import StageError
from livefake.pipeline import DropPolicy, Pipeline


def test_block_policy_loses_nothing_and_keeps_order_over_10000_frames() -> None:
    sink = RecordingSink()
    pipeline = Pipeline(CountingSource(10_000), [SleepStage("a"), SleepStage("b")], [sink], DropPolicy.BLOCK, 4)
    pipeline.run()
    assert sink.indices == list(range(10_000))
    report = pipeline.stats.report()
    assert report.frames_in == report.frames_out == 10_000
    assert report.dropped == 0


def test_drop_oldest_counts_drops_and_keeps_capture_order() -> None:
    sink = RecordingSink()
    source = CountingSource(200)
    pipeline = Pipeline(source, [SleepStage("slow", 0.002)], [sink], DropPolicy.DROP_OLDEST, 1)
    pipeline.run()
    report = pipeline.stats.report()
    assert sink.indices == sorted(sink.indices)
    assert report.dropped > 0
    assert report.frames_out + report.dropped == report.frames_in == 200


def test_stage_open_and_close_once_and_sinks_closed() -> None:
    stage, sink, source = SleepStage("a"), RecordingSink(), CountingSource(5)
    Pipeline(source, [stage], [sink]).run()
    assert (stage.opened, stage.closed, sink.closed, sink.aborted, source.closed) == (1, 1, 1, 0, 1)


def make_stuck_pipeline(where: str) -> tuple[Pipeline, BlockedStage]:
    stage = BlockedStage()
    if where == "stage":
        return Pipeline(CountingSource(10**9, fps=200), [stage], [RecordingSink()]), stage
    if where == "sink":
        return Pipeline(CountingSource(10**9), [SleepStage("a")], [RecordingSink(delay=3)], DropPolicy.BLOCK), stage
    return Pipeline(CountingSource(10**9, fps=2), [SleepStage("a")], [RecordingSink()]), stage


def timed_stop(pipeline: Pipeline, durations: list[float]) -> None:
    started = time.monotonic()
    pipeline.stop()
    durations.append(time.monotonic() - started)


@pytest.mark.parametrize("where", ["stage", pytest.param("sink", marks=pytest.mark.slow), "source-paced"])
def test_stop_returns_within_a_second_100_times(where: str) -> None:
    """100 trials, run 25 at a time so that the suite stays fast; each stop is timed alone."""
    durations: list[float] = []
    for _ in range(4):
        trials = [make_stuck_pipeline(where) for _ in range(25)]
        for pipeline, _ in trials:
            pipeline.start()
        time.sleep(0.05)
        stoppers = [threading.Thread(target=timed_stop, args=(p, durations)) for p, _ in trials]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        for _, stage in trials:
            stage.release.set()
    assert len(durations) == 100
    assert max(durations) < 1.0


def test_stop_with_blocked_producer_under_block_policy() -> None:
    stage = BlockedStage()
    pipeline = Pipeline(CountingSource(10**9), [stage], [RecordingSink()], DropPolicy.BLOCK, 1)
    pipeline.start()
    time.sleep(0.1)  # the source is now blocked on a full ring
    started = time.monotonic()
    pipeline.stop()
    assert time.monotonic() - started < 1.0
    stage.release.set()


def test_exception_in_a_stage_stops_the_pipeline_and_names_the_stage() -> None:
    sink = RecordingSink()
    pipeline = Pipeline(CountingSource(10**9), [SleepStage("ok"), FailingStage(after=3)], [sink], DropPolicy.BLOCK)
    with pytest.raises(StageError, match="stage 'exploding' failed: boom") as caught:
        pipeline.run()
    assert caught.value.stage == "exploding"
    assert isinstance(caught.value.__cause__, ValueError)
    assert sink.aborted == 1 and sink.closed == 0
    assert not pipeline.running


def test_latency_comes_from_capture_stamps() -> None:
    pipeline = Pipeline(CountingSource(30, fps=100), [SleepStage("a", 0.01), SleepStage("b", 0.01)], [RecordingSink()])
    pipeline.run()
    report = pipeline.stats.report()
    assert 20 <= report.latency_ms.p50 < 60
    assert report.stages["a"].process_ms.p50 >= 9.5
    assert set(report.stages) == {"a", "b"}


def test_duplicate_stage_names_are_made_unique() -> None:
    pipeline = Pipeline(CountingSource(3), [SleepStage("x"), SleepStage("x")], [RecordingSink()])
    pipeline.run()
    assert set(pipeline.stats.report().stages) == {"x", "x-2"}


def test_context_manager_stops() -> None:
    with Pipeline(CountingSource(10**9, fps=100), [SleepStage("a")], [RecordingSink()]) as pipeline:
        time.sleep(0.05)
    assert not pipeline.running
