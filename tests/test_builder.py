"""The builder: which stages a configuration gets, and a real live run changed while it runs."""

import dataclasses
import time
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from livefake.builder import LiveController, build_pipeline, build_stages, resolve_photo
from livefake.config import AudioConfig, LiveConfig, OutputConfig, SourceConfig, SwapConfig, TrackConfig
from livefake.errors import SettingsError
from livefake.merge.label import render_label
from livefake.pipeline import Frame, Pipeline, PipelineState
from livefake.swap.targets import SwapTargets


def names(config: LiveConfig) -> list[str]:
    return [stage.name for stage in build_stages(config)]


def test_stage_lists(face_models: object) -> None:
    assert names(LiveConfig()) == []
    assert names(LiveConfig(track=TrackConfig(show_landmarks=True))) == ["track", "landmarks"]
    photo = SwapConfig(face=resolve_photo("hopper"))
    assert names(LiveConfig(swap=photo)) == ["track", "hands", "swap", "merge", "provenance"]
    animate = dataclasses.replace(photo, mode="animate")
    assert names(LiveConfig(swap=animate)) == ["track", "swap", "provenance"]
    off = dataclasses.replace(photo, enabled=False)  # switched off, but ready to be switched on
    assert names(LiveConfig(swap=off)) == ["track", "hands", "swap", "merge", "provenance"]
    assert not build_stages(LiveConfig(swap=off))[-1].enabled  # frames leave unmarked until switched on


def test_a_virtual_camera_is_optional_only_beside_other_sinks() -> None:
    alone = build_pipeline(LiveConfig(output=OutputConfig(sinks=("vcam",))))
    assert alone.optional_sinks == frozenset()
    beside = build_pipeline(LiveConfig(output=OutputConfig(sinks=("vcam", "null"))))
    assert beside.optional_sinks == frozenset({"vcam"})


def test_restart_only_settings_are_refused_live() -> None:
    controller = LiveController(None)
    current = LiveConfig()
    for changed in (
        dataclasses.replace(current, source=SourceConfig(fps=15.0)),
        dataclasses.replace(current, track=TrackConfig(threads=2)),
        dataclasses.replace(current, swap=SwapConfig(mode="animate")),
    ):
        with pytest.raises(SettingsError, match="cannot change while running"):
            controller.check(current, changed)
    with pytest.raises(SettingsError, match="this run has no swap"):
        controller.check(current, dataclasses.replace(current, swap=SwapConfig(face="x.jpg")))
    with pytest.raises(SettingsError, match="cannot change while running"):
        controller.check(current, dataclasses.replace(current, audio=AudioConfig(sample_rate=44_100)))
    by_hand = dataclasses.replace(current, audio=AudioConfig(delay_ms=120.0))  # the audio path follows it live
    assert controller.check(current, by_hand).audio.delay_ms == 120.0


class Output:
    """Collects output frames from a pipeline listener."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.frames: list[Frame] = []
        pipeline.add_frame_listener(self.frames.append)

    def after(self, count: int, version: int, timeout: float = 10.0) -> tuple[Frame, int]:
        """The first frame of ``version`` (or later) and how many older frames came out before it,
        counting from frame number ``count`` (the output count when the change returned)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for position, frame in enumerate(self.frames[count:]):
                if frame.settings_version >= version:
                    return frame, position
            time.sleep(0.01)
        raise AssertionError(f"no frame of settings version {version} came out")


def label_difference(frame: Frame) -> float:
    assert frame.original is not None
    patch = render_label("AI-modified", "bottom-right", frame.width, frame.height)
    assert patch is not None
    h, w = patch.premultiplied.shape[:2]
    box = (slice(patch.y, patch.y + h), slice(patch.x, patch.x + w))
    return float(np.abs(frame.image[box].astype(np.int16) - frame.original[box]).mean())


def face_change(frame: Frame) -> float:
    """Mean change inside the tracked face's box: how different the pasted face is."""
    assert frame.faces and frame.original is not None
    x0, y0, x1, y1 = (int(v) for v in frame.faces[0].box)
    box = (slice(y0, y1), slice(x0, x1))
    return float(np.abs(frame.image[box].astype(np.int16) - frame.original[box]).mean())


def change(pipeline: Pipeline, output: Output, changes: dict) -> Frame:
    """Apply ``changes`` and return the first output frame processed with them (checked: at most
    2 frames came out after ``update`` returned still made with the old settings; a new photo
    loads inside ``update``, and the frames that come out meanwhile are not counted)."""
    pipeline.update(changes)
    count = len(output.frames)
    frame, late = output.after(count, version=pipeline_version(pipeline, output))
    assert late <= 2, f"{changes} showed {late} frames late"
    return frame


def pipeline_version(pipeline: Pipeline, output: Output) -> int:
    return pipeline._board.version  # the version update() just published


def test_a_live_run_changes_while_running(face_models: object, tmp_path: Path) -> None:
    no_face = tmp_path / "wall.png"
    cv2.imwrite(str(no_face), np.full((200, 200, 3), 90, np.uint8))
    config = LiveConfig(
        source=SourceConfig(spec=str(resolve_photo("collins")), fps=30.0),
        swap=SwapConfig(face=resolve_photo("hopper")),
        output=OutputConfig(sinks=("null",)),
    )
    pipeline = build_pipeline(config)
    output = Output(pipeline)
    pipeline.start()
    try:
        swapped, _ = output.after(0, version=0)
        assert label_difference(swapped) > 20  # the label is drawn
        unlabelled = change(pipeline, output, {"provenance": {"label": False}})
        assert label_difference(unlabelled) < 3  # only the invisible watermark is left there
        passthrough = change(pipeline, output, {"swap": {"enabled": False}})
        assert np.array_equal(passthrough.image, passthrough.original)  # untouched, not marked
        back = change(pipeline, output, {"swap": {"enabled": True}})
        assert not np.array_equal(back.image, back.original)
        other = change(pipeline, output, {"swap": {"face": "collins"}})
        hopper_on_collins, collins_on_collins = face_change(back), face_change(other)
        assert hopper_on_collins > 2 * collins_on_collins, (hopper_on_collins, collins_on_collins)
        before = pipeline.settings
        for bad, reason in [
            ({"source": {"fps": 10.0}}, "source.fps cannot change while running"),
            ({"swap": {"face": str(tmp_path / "missing.jpg")}}, "does not exist"),
            ({"swap": {"face": str(no_face)}}, "no face found"),
        ]:
            with pytest.raises(SettingsError, match=reason):
                pipeline.update(bad)
            assert pipeline.settings is before
        recording = tmp_path / "rec.mp4"
        change(pipeline, output, {"output": {"sinks": ["null", str(recording)]}})
        time.sleep(0.5)
        change(pipeline, output, {"output": {"sinks": ["null"]}})
        deadline = time.monotonic() + 10
        while not recording.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        with av.open(str(recording)) as video:
            assert video.streams.video[0].frames >= 5
        assert pipeline.state is PipelineState.RUNNING and pipeline.error is None
        indices = [frame.index for frame in output.frames]
        assert indices == sorted(set(indices))  # capture never restarted
    finally:
        pipeline.stop()
    assert pipeline.wait_closed(5) and pipeline.state is PipelineState.STOPPED


def test_swap_targets_keep_the_last_few(face_models: object) -> None:
    targets = SwapTargets(TrackConfig(), keep=1)
    hopper = LiveConfig(swap=SwapConfig(face=resolve_photo("hopper")))
    collins = LiveConfig(swap=SwapConfig(face=resolve_photo("collins")))
    targets.prepare(hopper)
    engine = targets.engine(hopper)
    targets.prepare(hopper)
    assert targets.engine(hopper) is engine  # ready: not loaded again
    targets.prepare(collins)
    assert targets.engine(hopper) is None and targets.engine(collins) is not None
