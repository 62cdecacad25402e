"""The pipeline's explicit states, stop() from every state, and how sinks end in each."""

import threading
import time

import numpy as np
import pytest
from doubles import CountingSource, FailingStage, RecordingSink, SleepStage

from livefake.errors import DeviceError, StageError
from livefake.pipeline import Captured, DropPolicy, Frame, Pipeline, PipelineState, Source, StreamInfo


class SlowOpeningSource(CountingSource):
    """A camera that takes a while to open."""

    def __init__(self) -> None:
        super().__init__(10**9, fps=100)
        self.opening = threading.Event()

    def open(self) -> StreamInfo:
        self.opening.set()
        time.sleep(0.5)
        return super().open()


class FailingCloseSink(RecordingSink):
    def close(self) -> None:
        raise OSError("No space left on device (writing the trailer)")


class ExplodingSink(RecordingSink):
    name = "vcam"

    def write(self, frame: Frame) -> None:
        if len(self.indices) >= 5:
            raise DeviceError("virtual camera unplugged")
        super().write(frame)


class MissingDeviceSink(RecordingSink):
    name = "vcam"

    def open(self, info: StreamInfo) -> None:
        raise DeviceError("no virtual camera device")


def timed_stop(pipeline: Pipeline) -> float:
    started = time.monotonic()
    pipeline.stop()
    return time.monotonic() - started


def test_a_run_to_the_end_goes_created_running_stopped_and_closes_its_sinks() -> None:
    sink = RecordingSink()
    pipeline = Pipeline(CountingSource(20), [SleepStage("a")], [sink], DropPolicy.BLOCK)
    assert pipeline.state is PipelineState.CREATED
    pipeline.start()
    assert pipeline.state in (PipelineState.RUNNING, PipelineState.STOPPING, PipelineState.STOPPED)
    assert pipeline.join(timeout=5)
    assert pipeline.state is PipelineState.STOPPED
    assert (sink.closed, sink.aborted, len(sink.indices)) == (1, 0, 20)
    with pytest.raises(RuntimeError, match="started once"):
        pipeline.start()


def test_stop_is_quick_from_created_starting_running_stopping_and_stopped() -> None:
    created = Pipeline(CountingSource(5), [], [RecordingSink()])
    assert timed_stop(created) < 1.0 and created.state is PipelineState.STOPPED

    source = SlowOpeningSource()
    starting = Pipeline(source, [SleepStage("a")], [RecordingSink()])
    starter = threading.Thread(target=starting.start)
    starter.start()
    source.opening.wait(2)
    assert starting.state is PipelineState.STARTING
    assert timed_stop(starting) < 1.0
    starter.join(2)
    assert starting.join(timeout=2) and starting.state is PipelineState.STOPPED

    running = Pipeline(CountingSource(10**9, fps=100), [SleepStage("a")], [RecordingSink(delay=0.3)])
    running.start()
    time.sleep(0.1)
    assert running.state is PipelineState.RUNNING
    assert timed_stop(running) < 1.0
    assert running.state in (PipelineState.STOPPING, PipelineState.STOPPED)
    assert timed_stop(running) < 1.0  # again, while stopping or stopped
    assert running.join(timeout=2) and running.state is PipelineState.STOPPED


def test_a_stopped_live_run_closes_its_sinks() -> None:
    sink = RecordingSink()
    pipeline = Pipeline(CountingSource(10**9, fps=200), [SleepStage("a")], [sink], DropPolicy.DROP_OLDEST)
    pipeline.start()
    time.sleep(0.1)
    pipeline.stop()
    assert pipeline.join(timeout=2)
    assert pipeline.state is PipelineState.STOPPED
    assert (sink.closed, sink.aborted) == (1, 0) and sink.indices


def test_an_interrupted_offline_run_aborts_its_sinks() -> None:
    sink = RecordingSink()
    pipeline = Pipeline(CountingSource(10**9), [SleepStage("a", 0.001)], [sink], DropPolicy.BLOCK)
    pipeline.start()
    time.sleep(0.1)
    pipeline.stop()
    assert pipeline.join(timeout=2)
    assert pipeline.state is PipelineState.INTERRUPTED
    assert (sink.closed, sink.aborted) == (0, 1)


def test_a_failing_stage_fails_the_run_and_aborts_the_sinks() -> None:
    sink = RecordingSink()
    pipeline = Pipeline(CountingSource(100), [FailingStage(after=3)], [sink], DropPolicy.BLOCK)
    pipeline.start()
    with pytest.raises(StageError, match="exploding"):
        pipeline.join(timeout=5)
    assert pipeline.state is PipelineState.FAILED
    assert (sink.closed, sink.aborted) == (0, 1)


def test_a_sink_failing_at_close_is_an_error_naming_it() -> None:
    pipeline = Pipeline(CountingSource(10), [], [FailingCloseSink()], DropPolicy.BLOCK)
    pipeline.start()
    with pytest.raises(StageError, match="sink:recording.*No space left"):
        pipeline.join(timeout=5)
    assert pipeline.state is PipelineState.FAILED


def test_an_optional_sink_that_fails_while_running_is_dropped_and_the_others_go_on() -> None:
    other, flaky = RecordingSink(), ExplodingSink()
    pipeline = Pipeline(CountingSource(50, fps=500), [], [flaky, other], DropPolicy.BLOCK, optional_sinks={"vcam"})
    pipeline.start()
    assert pipeline.join(timeout=5)
    assert pipeline.state is PipelineState.STOPPED
    assert other.indices == list(range(50))
    assert flaky.indices == list(range(5)) and flaky.aborted == 1
    assert pipeline.sinks == [other]


def test_optional_is_a_pipeline_decision_a_required_sink_failing_stops_the_run() -> None:
    pipeline = Pipeline(CountingSource(50, fps=500), [], [ExplodingSink(), RecordingSink()], DropPolicy.BLOCK)
    pipeline.start()
    with pytest.raises(StageError, match="sink:vcam.*unplugged"):
        pipeline.join(timeout=5)


def test_an_optional_sink_missing_at_start_is_skipped_unless_it_is_the_only_one() -> None:
    other = RecordingSink()
    pipeline = Pipeline(CountingSource(5), [], [MissingDeviceSink(), other], DropPolicy.BLOCK, optional_sinks={"vcam"})
    pipeline.run()
    assert other.indices == list(range(5))
    alone = Pipeline(CountingSource(5), [], [MissingDeviceSink()], optional_sinks={"vcam"})
    with pytest.raises(DeviceError, match="no virtual camera"):
        alone.start()
    assert alone.state is PipelineState.FAILED


class EndlessSource(Source):
    def open(self) -> StreamInfo:
        return StreamInfo(8, 8, 30.0, frame_count=None, is_live=True)

    def read(self) -> Captured | None:
        time.sleep(0.01)
        return Captured(np.zeros((8, 8, 3), np.uint8))


def test_stream_info_says_live_and_frame_count() -> None:
    pipeline = Pipeline(EndlessSource(), [], [RecordingSink()])
    info = pipeline.start()
    pipeline.stop()
    assert info.is_live and info.frame_count is None
