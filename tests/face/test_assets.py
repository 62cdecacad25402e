"""`livefake setup` and the face model cache."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest

from livefake.errors import ModelError
from livefake.face.assets import MODEL_SOURCES, default_models_dir, require_models
from livefake.install.face_models import LICENSE_MEMBER, NOTICE_NAME, setup_models


def test_models_dir_follows_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LIVEFAKE_MODELS", str(tmp_path / "mine"))
    assert default_models_dir() == tmp_path / "mine"
    monkeypatch.delenv("LIVEFAKE_MODELS")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert default_models_dir() == tmp_path / "cache" / "livefake" / "models"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_models_dir() == tmp_path / ".cache" / "livefake" / "models"


def test_missing_models_say_to_run_setup(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"face models missing in .*: run `livefake setup`"):
        require_models(tmp_path)


def test_wheel_with_altered_model_is_refused(tmp_path: Path) -> None:
    wheel = tmp_path / "mediapipe-0.10.21-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for source in MODEL_SOURCES:
            archive.writestr(source.member, b"not the real model")
        archive.writestr(LICENSE_MEMBER, "Apache License")
    with pytest.raises(ModelError, match="does not match its pinned sha256"):
        setup_models(tmp_path / "models", progress=False, wheel=wheel)
    assert not (tmp_path / "models" / "manifest.json").exists()


def test_wheel_without_models_is_refused(tmp_path: Path) -> None:
    wheel = tmp_path / "mediapipe-0.10.21-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("mediapipe/__init__.py", "")
    with pytest.raises(ModelError, match="is not a mediapipe 0.10.21 wheel with face models"):
        setup_models(tmp_path / "models", progress=False, wheel=wheel)


def test_setup_is_instant_once_done_and_keeps_the_licence(face_models) -> None:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    paths = setup_models(face_models.directory, progress=False)
    assert time.perf_counter() - start < 0.5
    assert paths == face_models
    assert all(path.stat().st_size > 100_000 for path in (paths.detector, paths.landmarks, paths.iris))
    notice = (paths.directory / NOTICE_NAME).read_text()
    assert "Apache License" in notice and "Version 2.0" in notice and "mediapipe 0.10.21" in notice


@pytest.mark.slow
def test_setup_from_pypi_builds_working_models(tmp_path: Path) -> None:
    paths = setup_models(tmp_path / "models", progress=False)
    assert require_models(tmp_path / "models") == paths
