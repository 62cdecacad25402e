"""The files the control panel may open or write: only those its user picked.

Readable: photos and models the run was started with, the photos in the photo folder and the
models in the model folder given on the command line, and photos uploaded through the page
(checked, re-encoded and kept in the run's own temporary folder). Writable: recordings, by
plain file name, in the recording folder. A change through the panel or its API that names any
other file is refused before it reaches the pipeline.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from livefake.errors import InputError
from livefake.sinks import sink_kind
from livefake.sinks.file import WRITTEN_VIDEO_SUFFIXES
from livefake.sources.image import IMAGE_SUFFIXES

MAX_UPLOAD_BYTES = 12 * 1024 * 1024
MAX_UPLOAD_PIXELS = 40_000_000
MIN_UPLOAD_SIDE = 64
UPLOAD_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
MODEL_SUFFIXES = (".onnx", ".dfm", ".engine", ".trt")
PATH_SETTINGS = {("swap", "face"), ("swap", "model"), ("swap", "reference")}
PATH_LIST_SETTINGS = {("swap", "faces")}


class PanelFiles:
    """The allow-list of files, and the upload folder (removed by ``close``)."""

    def __init__(
        self,
        started_with: Iterable[str | None] = (),
        photo_folder: Path | None = None,
        model_folder: Path | None = None,
        record_folder: Path | None = None,
    ) -> None:
        self.photo_folder = photo_folder
        self.model_folder = model_folder
        self.record_folder = (record_folder or Path.cwd()).resolve()
        self.upload_folder = Path(tempfile.mkdtemp(prefix="livefake-panel-"))
        self._picked = {Path(path).resolve() for path in started_with if path}

    def close(self) -> None:
        shutil.rmtree(self.upload_folder, ignore_errors=True)

    # -- listings --------------------------------------------------------------------------------

    def photos(self) -> list[Path]:
        """The photos of the photo folder, by name, then those uploaded."""
        listed = _listing(self.photo_folder, IMAGE_SUFFIXES)
        return listed + [path for path in _listing(self.upload_folder, (".png",)) if path not in listed]

    def models(self) -> list[Path]:
        return _listing(self.model_folder, MODEL_SUFFIXES)

    def allowed(self, path: str | Path) -> bool:
        resolved = Path(path).expanduser().resolve()
        return resolved in self._picked or resolved in set(self.photos()) or resolved in set(self.models())

    # -- checks ----------------------------------------------------------------------------------

    def check_changes(self, changes: Mapping[str, Any]) -> None:
        """Raise InputError naming the key when ``changes`` names a file outside the allow-list."""
        for section, values in changes.items():
            if not isinstance(values, Mapping):
                continue
            for key, value in values.items():
                if (section, key) in PATH_SETTINGS and value is not None:
                    self._check_readable(f"{section}.{key}", value)
                if (section, key) in PATH_LIST_SETTINGS and isinstance(value, list | tuple):
                    for item in value:
                        self._check_readable(f"{section}.{key}", item)
                if (section, key) == ("output", "sinks") and isinstance(value, list | tuple):
                    for spec in value:
                        self.check_sink(str(spec))

    def _check_readable(self, key: str, value: object) -> None:
        if not isinstance(value, str) or not self.allowed(value):
            raise InputError(
                f"{key}: the panel opens only files you picked (uploaded, in the photo or model folder, "
                f"or given at start); {value!r} is not one of them"
            )

    def check_sink(self, spec: str) -> None:
        """A file sink must be a new video in the recording folder; other sinks pass."""
        if sink_kind(spec) != "file":
            return
        path = Path(spec).expanduser()
        path = path if path.is_absolute() else self.record_folder / path
        if path.resolve().parent != self.record_folder or path.suffix.lower() not in WRITTEN_VIDEO_SUFFIXES:
            raise InputError(
                f"output.sinks: recordings go in {self.record_folder} as a video "
                f"({', '.join(WRITTEN_VIDEO_SUFFIXES)}); {spec!r} is not allowed"
            )

    def recording_path(self, name: str) -> Path:
        """The path for a recording called ``name`` (a plain file name, no folders)."""
        if not name or Path(name).name != name or name.startswith("."):
            raise InputError(f"recording name {name!r}: give a plain file name such as take1.mp4")
        path = self.record_folder / name
        self.check_sink(str(path))
        if path.exists():
            raise InputError(f"recording {path} already exists: pick another name")
        return path

    # -- uploads ---------------------------------------------------------------------------------

    def save_upload(self, data: bytes, filename: str) -> Path:
        """Check an uploaded photo, decode it, and keep a re-encoded copy in the upload folder."""
        suffix = Path(filename).suffix.lower()
        if suffix not in UPLOAD_SUFFIXES:
            raise InputError(f"upload {filename!r}: send a photo ({', '.join(UPLOAD_SUFFIXES)})")
        if len(data) > MAX_UPLOAD_BYTES:
            raise InputError(f"upload {filename!r} is over {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
        image = decode_photo(data, filename)
        path = self.upload_folder / f"{Path(filename).stem[:40]}-{uuid.uuid4().hex[:8]}.png"
        if not cv2.imwrite(str(path), image):
            raise InputError(f"upload {filename!r} could not be stored in {self.upload_folder}")
        self._picked.add(path.resolve())
        return path


def decode_photo(data: bytes, filename: str) -> np.ndarray:
    """``data`` decoded as an 8-bit colour image of a sensible size, or InputError saying why not."""
    buffer = np.frombuffer(data, np.uint8)
    header = cv2.imdecode(buffer, cv2.IMREAD_REDUCED_GRAYSCALE_8) if buffer.size else None
    if header is None:
        raise InputError(f"upload {filename!r} is not an image livefake can read (JPEG, PNG, WebP or BMP)")
    if header.size * 64 > MAX_UPLOAD_PIXELS:
        raise InputError(f"upload {filename!r} is too large in pixels: send at most {MAX_UPLOAD_PIXELS} pixels")
    image = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
    if image is None or min(image.shape[:2]) < MIN_UPLOAD_SIDE:
        raise InputError(f"upload {filename!r}: the image must be at least {MIN_UPLOAD_SIDE} px on each side")
    return np.ascontiguousarray(image)


def _listing(folder: Path | None, suffixes: Iterable[str]) -> list[Path]:
    if folder is None or not folder.is_dir():
        return []
    wanted = tuple(suffixes)
    return sorted(path.resolve() for path in folder.iterdir() if path.is_file() and path.suffix.lower() in wanted)
