from pathlib import Path

import av
import numpy as np
import pytest
from doubles import CountingSource, FailingStage

from livefake.errors import InputError, StageError
from livefake.pipeline import DropPolicy, Pipeline
from livefake.sinks import make_sink, sink_kind
from livefake.sinks.file import FileSink
from livefake.sources import VideoFileSource


def test_sink_registry_picks_by_spec() -> None:
    assert [sink_kind(s) for s in ("null", "vcam", "udp://127.0.0.1:5000", "out.mp4", "C:/x.mkv")] == [
        "null", "vcam", "udp", "file", "file",
    ]
    assert isinstance(make_sink("out.mp4"), FileSink)


def test_offline_copy_keeps_frame_count_and_audio(tmp_path: Path, clip_720p: Path) -> None:
    out = tmp_path / "copy.mp4"
    Pipeline(VideoFileSource(clip_720p, realtime=False), [], [FileSink(out)], DropPolicy.BLOCK, 4).run()
    with av.open(str(clip_720p)) as original, av.open(str(out)) as copy:
        assert copy.streams.video[0].frames == original.streams.video[0].frames == 90
        assert copy.streams.audio, "the input's audio track must be kept"
        assert abs(copy.streams.audio[0].duration * copy.streams.audio[0].time_base - 3.0) < 0.1
        first = next(copy.decode(video=0)).to_ndarray(format="bgr24")
        reference = next(original.decode(video=0)).to_ndarray(format="bgr24")
    assert np.abs(first.astype(int) - reference.astype(int)).mean() < 3.0
    assert not list(tmp_path.glob(".*partial*"))


def test_failed_run_leaves_nothing_half_written(tmp_path: Path) -> None:
    out = tmp_path / "broken.mp4"
    pipeline = Pipeline(CountingSource(100, size=(64, 48)), [FailingStage(after=10)], [FileSink(out)], DropPolicy.BLOCK)
    with pytest.raises(StageError):
        pipeline.run()
    assert list(tmp_path.iterdir()) == []


def test_unwritable_paths_are_refused_before_any_work(tmp_path: Path) -> None:
    from livefake.pipeline import StreamInfo

    info = StreamInfo(64, 48, 30.0)
    with pytest.raises(InputError, match="does not exist"):
        FileSink(tmp_path / "missing" / "out.mp4").open(info)
    with pytest.raises(InputError, match="unknown file type"):
        FileSink(tmp_path / "out.xyz").open(info)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    import os

    if os.geteuid() != 0:
        with pytest.raises(InputError, match="no permission"):
            FileSink(locked / "out.mp4").open(info)


def test_single_image_conversion(tmp_path: Path) -> None:
    out = tmp_path / "frame.png"
    Pipeline(CountingSource(1, size=(40, 30)), [], [FileSink(out)], DropPolicy.BLOCK).run()
    import cv2

    assert cv2.imread(str(out)).shape == (30, 40, 3)


def test_a_looped_source_is_recorded_without_losing_frames(tmp_path: Path, clip_small: Path) -> None:
    from livefake.bench.scenarios import LimitedSource

    out = tmp_path / "looped.mp4"
    source = LimitedSource(VideoFileSource(clip_small, realtime=False, loop=True), 150)
    Pipeline(source, [], [FileSink(out)], DropPolicy.BLOCK, 4).run()
    with av.open(str(out)) as video:
        assert video.streams.video[0].frames == 150


class TrailerFailsSink(FileSink):
    """A file sink whose last write (encoder flush and trailer) hits a full disk."""

    def _finish(self) -> None:
        import errno

        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_file_that_fails_to_finish_is_an_error_and_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    with pytest.raises(StageError, match=r"sink:file.*out\.mp4: the disk is full"):
        Pipeline(CountingSource(5, size=(64, 48)), [], [TrailerFailsSink(out)], DropPolicy.BLOCK).run()
    assert list(tmp_path.iterdir()) == []
