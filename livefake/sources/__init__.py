"""Sources: camera, video file, still image, folder of images, and the generated demo clip."""

from __future__ import annotations

from pathlib import Path

from livefake.config import SourceConfig
from livefake.errors import InputError
from livefake.pipeline.stage import Source
from livefake.sources.camera import CameraSource
from livefake.sources.image import IMAGE_SUFFIXES, FolderSource, ImageSource
from livefake.sources.video import VideoFileSource

__all__ = ["CameraSource", "FolderSource", "ImageSource", "VideoFileSource", "make_source"]


def make_source(config: SourceConfig) -> Source:
    """The source that ``config.spec`` names: a camera index or /dev path, ``demo``, a folder,
    an image or a video file."""
    spec = config.spec
    if spec.isdigit() or spec.startswith("/dev/video"):
        return CameraSource(int(spec) if spec.isdigit() else spec, config.size, config.fps)
    if spec == "demo":
        from livefake.sources.demo import demo_clip

        return VideoFileSource(demo_clip(config.size or (640, 480)), config.realtime, loop=config.loop)
    path = Path(spec).expanduser()
    fps = config.fps or 30.0
    if path.is_dir():
        return FolderSource(path, fps, config.realtime, config.loop)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return ImageSource(path, fps, config.realtime, config.loop)
    if not path.exists():
        raise InputError(
            f"source {spec} does not exist (give a camera index, /dev/videoN, 'demo', or a video, image or folder)"
        )
    return VideoFileSource(path, config.realtime, config.loop)
