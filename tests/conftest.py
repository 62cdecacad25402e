"""Shared fixtures: generated media and the face models from `livefake setup`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from livefake.sources.synthetic import ClipSpec, write_clip


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Tests that use torch run it on one thread: small graphs on a shared 2-core machine only
    wait on a second spinning thread (seconds per call under load)."""
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def face_models():  # type: ignore[no-untyped-def]
    """The face model files, or a skip when `livefake setup` has not been run."""
    try:
        from livefake.errors import ModelError
        from livefake.face.assets import require_models
    except ImportError as error:
        pytest.skip(f"face tracking not available: {error}")
    try:
        return require_models()
    except ModelError as error:
        pytest.skip(f"face models missing: run `livefake setup` ({error})")


@pytest.fixture(scope="session")
def clip_720p(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3-second 1280x720 30 fps H.264 clip of the Hopper portrait with an audio track."""
    path = tmp_path_factory.mktemp("clips") / "hopper_720p.mp4"
    write_clip(ClipSpec(photo="hopper", size=(1280, 720), seconds=3.0), path, audio=True)
    return path


@pytest.fixture(scope="session")
def clip_small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-second 320x240 clip of the Collins portrait, no audio."""
    path = tmp_path_factory.mktemp("clips") / "collins_small.mp4"
    write_clip(ClipSpec(photo="collins", size=(320, 240), seconds=2.0), path, audio=False)
    return path
