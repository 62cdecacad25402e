from pathlib import Path

import cv2
import numpy as np
import pytest

from livefake.config import SourceConfig
from livefake.errors import DeviceError, InputError
from livefake.sources import CameraSource, FolderSource, ImageSource, make_source


def write_images(folder: Path, count: int) -> None:
    for index in range(count):
        cv2.imwrite(str(folder / f"{index:03d}.png"), np.full((20 + index, 30, 3), index, np.uint8))


def test_image_offline_gives_one_frame_and_live_repeats(tmp_path: Path) -> None:
    write_images(tmp_path, 1)
    offline = ImageSource(tmp_path / "000.png", realtime=False)
    offline.open()
    assert offline.read() is not None and offline.read() is None
    live = ImageSource(tmp_path / "000.png", fps=1000, realtime=True)
    live.open()
    assert all(live.read() is not None for _ in range(5))


def test_folder_reads_in_order_resizes_and_skips_broken_files(tmp_path: Path) -> None:
    write_images(tmp_path, 3)
    (tmp_path / "001b.jpg").write_text("broken")
    source = FolderSource(tmp_path, realtime=False)
    info = source.open()
    frames = []
    while (captured := source.read()) is not None:
        frames.append(captured.image)
    assert [int(f[0, 0, 0]) for f in frames] == [0, 1, 2]
    assert all(f.shape == (info.height, info.width, 3) for f in frames)
    assert [p.name for p in source.skipped] == ["001b.jpg"]


def test_empty_folder_and_missing_image_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="holds no images"):
        FolderSource(tmp_path).open()
    with pytest.raises(InputError, match="does not exist"):
        ImageSource(tmp_path / "missing.jpg").open()


def test_make_source_picks_by_spec(tmp_path: Path) -> None:
    write_images(tmp_path, 1)
    assert isinstance(make_source(SourceConfig(spec=str(tmp_path))), FolderSource)
    assert isinstance(make_source(SourceConfig(spec=str(tmp_path / "000.png"))), ImageSource)
    assert isinstance(make_source(SourceConfig(spec="3")), CameraSource)
    with pytest.raises(InputError, match="does not exist"):
        make_source(SourceConfig(spec=str(tmp_path / "nothing.mp4")))


def test_camera_that_does_not_exist_is_a_device_error() -> None:
    with pytest.raises(DeviceError, match="camera 57 could not be opened"):
        CameraSource(57).open()


def test_looped_still_images_offline_keep_counting_time(tmp_path: Path) -> None:
    from livefake.sources.image import FolderSource, ImageSource

    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((32, 32, 3), np.uint8))
    looped = ImageSource(tmp_path / "a.png", fps=10.0, realtime=False, loop=True)
    looped.open()
    assert [looped.read().pts for _ in range(3)] == [0.0, 0.1, 0.2]  # type: ignore[union-attr]
    folder = FolderSource(tmp_path, fps=10.0, realtime=False, loop=True)
    folder.open()
    assert [folder.read().pts for _ in range(3)] == [0.0, 0.1, 0.2]  # type: ignore[union-attr]
