import time
from pathlib import Path

import pytest

from livefake.errors import InputError
from livefake.sources import VideoFileSource


def drain(source: VideoFileSource, limit: int = 10_000) -> int:
    count = 0
    while count < limit and source.read() is not None:
        count += 1
    return count


def test_offline_reads_every_frame_fast(clip_small: Path) -> None:
    source = VideoFileSource(clip_small, realtime=False)
    info = source.open()
    assert (info.width, info.height, info.fps) == (320, 240, 30.0)
    started = time.monotonic()
    assert drain(source) == 60
    assert time.monotonic() - started < 2.0 - 0.5
    source.close()


def test_realtime_is_paced_at_the_file_rate(clip_small: Path) -> None:
    source = VideoFileSource(clip_small, realtime=True)
    source.open()
    started = time.monotonic()
    assert drain(source, limit=30) == 30
    assert 0.9 <= time.monotonic() - started <= 1.3
    source.close()


def test_loop_replays_the_file(clip_small: Path) -> None:
    source = VideoFileSource(clip_small, realtime=False, loop=True)
    source.open()
    assert drain(source, limit=150) == 150
    source.close()


def test_missing_file_and_text_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        VideoFileSource(tmp_path / "nope.mp4").open()
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n")
    with pytest.raises(InputError, match="not a readable video"):
        VideoFileSource(text).open()


def test_truncated_file_is_reported(tmp_path: Path, clip_small: Path) -> None:
    import av

    faststart = tmp_path / "faststart.mp4"
    with av.open(str(clip_small)) as source, av.open(str(faststart), "w", options={"movflags": "faststart"}) as out:
        stream = out.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    cut = tmp_path / "cut.mp4"
    data = faststart.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    source = VideoFileSource(cut, realtime=False)
    source.open()
    with pytest.raises(InputError, match="truncated"):
        drain(source)


def test_looped_presentation_times_keep_increasing(clip_small: Path) -> None:
    source = VideoFileSource(clip_small, realtime=False, loop=True)
    source.open()
    times = [captured.pts for captured in (source.read() for _ in range(150)) if captured is not None]
    assert len(times) == 150
    assert all(later > earlier for earlier, later in zip(times, times[1:], strict=False))
    assert abs(times[60] - 2.0) < 1e-6  # frame 60 is the first of the second loop of a 2 s clip
    source.close()
