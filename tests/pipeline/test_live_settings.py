"""Pipeline.update: validated snapshots, read by each stage at frame start, sinks diffed."""

import dataclasses
import threading
import time

import pytest
from doubles import CountingSource, RecordingSink, SleepStage

from livefake.config import LiveConfig
from livefake.errors import SettingsError
from livefake.pipeline import DropPolicy, Frame, Pipeline, Sink


class ConfiguredStage(SleepStage):
    """Records which snapshot each frame was processed with, and on which thread it was told."""

    def __init__(self) -> None:
        super().__init__("configured")
        self.blur = 12
        self.threads: set[str] = set()
        self.seen: list[tuple[int, int, int]] = []  # (frame index, settings_version, blur used)

    def configure(self, settings: LiveConfig) -> None:
        self.threads.add(threading.current_thread().name)
        self.blur = settings.merge.mask_blur

    def process(self, frame: Frame) -> Frame:
        frame.image[:] = 255 - frame.image  # stages may change the image; the original stays
        self.seen.append((frame.index, frame.settings_version, self.blur))
        return frame


class FakeHandler:
    def __init__(self) -> None:
        self.made: dict[str, RecordingSink] = {}
        self.prepared: list[LiveConfig] = []

    def check(self, current: LiveConfig, proposed: LiveConfig) -> LiveConfig:
        return proposed

    def prepare(self, settings: LiveConfig) -> None:
        self.prepared.append(settings)

    def make_sink(self, spec: str, settings: LiveConfig) -> Sink:
        self.made[spec] = RecordingSink()
        return self.made[spec]


def test_each_frame_is_processed_with_one_snapshot_told_on_the_stage_thread() -> None:
    stage, sink = ConfiguredStage(), RecordingSink()
    frames: list[Frame] = []
    pipeline = Pipeline(CountingSource(10**9, fps=200), [stage], [sink])
    pipeline.add_frame_listener(frames.append)
    pipeline.start()
    for blur in (20, 30, 40):
        time.sleep(0.05)
        assert pipeline.update({"merge": {"mask_blur": blur}}).merge.mask_blur == blur
    time.sleep(0.05)
    pipeline.stop()
    assert stage.threads == {"livefake-configured"}
    versions = [version for _, version, _ in stage.seen]
    assert versions == sorted(versions) and set(versions) == {0, 1, 2, 3}
    expected = {0: 12, 1: 20, 2: 30, 3: 40}
    assert all(blur == expected[version] for _, version, blur in stage.seen)
    assert pipeline.settings.merge.mask_blur == 40 and pipeline.settings_tree()["merge"]["mask_blur"] == 40
    for frame in frames[:20]:  # the stage inverted the image; the original is as captured
        assert frame.original is not None and not frame.original.flags.writeable
        assert int(frame.original[0, 0, 0]) == frame.index % 256
        assert int(frame.image[0, 0, 0]) == 255 - frame.index % 256


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"merge": {"mask_blur": -1}}, "merge.mask_blur = -1 is out of range"),
        ({"merge": {"color": "purple"}}, "merge.color = 'purple' is not one of"),
        ({"merge": {"mask_blur": "wide"}}, "merge.mask_blur must be an int"),
        ({"merge": 3}, "setting merge must be a table"),
        ({"merge": {"blurr": 3}}, "unknown setting merge.blurr"),
        ({"swap": {"enabled": "no"}}, "swap.enabled must be a bool"),
        ({"swap": {"face": "a.jpg", "model": "b.onnx"}}, "either face or model"),
    ],
)
def test_an_invalid_change_is_refused_naming_the_key_and_nothing_changes(changes: dict, reason: str) -> None:
    pipeline = Pipeline(CountingSource(10**9, fps=100), [ConfiguredStage()], [RecordingSink()])
    pipeline.start()
    before = pipeline.settings
    with pytest.raises(SettingsError, match=reason.replace("(", r"\(")):
        pipeline.update(changes)
    assert pipeline.settings is before
    pipeline.stop()


def test_offline_changes_drop_no_frame() -> None:
    stage, sink = ConfiguredStage(), RecordingSink()
    pipeline = Pipeline(CountingSource(3000), [stage, SleepStage("b")], [sink], DropPolicy.BLOCK, 4)
    pipeline.start()
    blur = 0
    while pipeline.running:
        blur = (blur + 7) % 256
        pipeline.update({"merge": {"mask_blur": blur}})
        time.sleep(0.001)
    pipeline.join()
    assert sink.indices == list(range(3000))
    assert len({version for _, version, _ in stage.seen}) > 5


def test_sinks_are_diffed_added_ones_open_and_removed_ones_close() -> None:
    handler = FakeHandler()
    settings = LiveConfig()
    first = RecordingSink()
    settings = dataclasses.replace(settings, output=dataclasses.replace(settings.output, sinks=("first",)))
    pipeline = Pipeline(CountingSource(10**9, fps=200), [SleepStage("a")], [first], settings=settings, handler=handler)
    pipeline.start()
    time.sleep(0.1)
    pipeline.update({"output": {"sinks": ["first", "rec.mp4"]}})
    time.sleep(0.1)
    recording = handler.made["rec.mp4"]
    assert recording.info.width == 32 and len(recording.indices) > 5
    pipeline.update({"output": {"sinks": ["rec.mp4"]}})  # stop the first sink
    time.sleep(0.1)
    assert first.closed == 1 and first.aborted == 0
    count = len(first.indices)
    time.sleep(0.1)
    assert len(first.indices) == count  # no frame after it closed
    pipeline.stop()
    assert pipeline.join(timeout=2)
    assert recording.closed == 1
    assert recording.indices == sorted(recording.indices)
    assert set(pipeline.stats.report().sinks) == {"recording", "recording-2"}


def test_sinks_cannot_change_without_a_builder() -> None:
    pipeline = Pipeline(CountingSource(10**9, fps=100), [], [RecordingSink()])
    pipeline.start()
    with pytest.raises(SettingsError, match="output.sinks"):
        pipeline.update({"output": {"sinks": ["x.mp4"]}})
    pipeline.stop()
