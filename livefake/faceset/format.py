"""The faceset format: a folder of aligned face crops plus one index file, ``faceset.json``.

Written by ``livefake extract`` (and kept in step by ``livefake faceset sort|filter``), read by
the trainer. The index carries, per crop, the 468 landmarks in crop pixels, the 2x3 matrix that
maps source-frame pixels to crop pixels, the head pose, a blur score and where the face came
from, so a faceset can be re-aligned at another face type without detecting again.

Layout::

    FACESET/
      faceset.json      {"version": 1, "face_type": "whole", "resolution": 256, "faces": [...]}
      000000.jpg        one aligned crop per face, resolution x resolution, BGR
      000001.jpg
      ...

This module is runtime code: numpy and OpenCV only, never torch.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from livefake.errors import InputError, write_failure_reason

FACESET_INDEX = "faceset.json"
FACESET_VERSION = 1
LANDMARK_COUNT = 468


@dataclass
class FacesetFace:
    """One aligned crop of the faceset and what is known about it."""

    file: str  # crop file name inside the faceset folder, e.g. "000123.jpg"
    source: str  # the video, image or folder the face was taken from
    frame: int  # frame index in the source (0 for a still image)
    landmarks: list[list[float]]  # 468 x 2, in crop pixels
    matrix: list[list[float]]  # 2 x 3, source-frame pixels -> crop pixels
    yaw: float = 0.0  # degrees
    pitch: float = 0.0  # degrees
    roll: float = 0.0  # degrees
    blur: float = 0.0  # variance of the Laplacian on the crop: higher is sharper
    score: float = 0.0  # detector confidence

    def landmarks_array(self) -> np.ndarray:
        """Landmarks as a float32 N x 2 array in crop pixels."""
        return np.asarray(self.landmarks, dtype=np.float32).reshape(-1, 2)

    def matrix_array(self) -> np.ndarray:
        """The source-frame -> crop matrix as a float64 2 x 3 array."""
        return np.asarray(self.matrix, dtype=np.float64).reshape(2, 3)


@dataclass
class Faceset:
    """The index of a faceset folder: face type, crop resolution and the faces."""

    face_type: str
    resolution: int
    faces: list[FacesetFace] = field(default_factory=list)
    version: int = FACESET_VERSION


def faceset_index_path(folder: str | Path) -> Path:
    return Path(folder) / FACESET_INDEX


def read_faceset(folder: str | Path) -> Faceset:
    """Read ``FOLDER/faceset.json``; InputError naming the folder when missing or invalid."""
    path = faceset_index_path(folder)
    if not path.is_file():
        raise InputError(
            f"{folder} is not a faceset: {FACESET_INDEX} missing (make one with `livefake extract`)"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return _faceset_from_dict(data)
    except (ValueError, KeyError, TypeError) as error:
        raise InputError(
            f"faceset index {path} is invalid ({error}): re-create it with `livefake extract`"
        ) from error


def write_faceset(folder: str | Path, faceset: Faceset) -> None:
    """Write ``FOLDER/faceset.json`` atomically (temporary file in the folder, then rename)."""
    os.replace(prepare_index(folder, faceset), faceset_index_path(folder))


def prepare_index(folder: str | Path, faceset: Faceset) -> Path:
    """The index written in full to a temporary file in ``folder``, ready to be renamed over
    ``faceset.json``. Writing is what can fail (a full disk): InputError, and nothing is left."""
    folder = Path(folder)
    text = json.dumps(asdict(faceset), separators=(",", ":"))
    temporary = folder / f".faceset-{secrets.token_hex(4)}.tmp"
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # 0666 less the umask
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if created and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
        if isinstance(error, OSError):
            raise InputError(f"cannot write {faceset_index_path(folder)}: {write_failure_reason(error)}") from error
        raise
    return temporary


def face_path(folder: str | Path, face: FacesetFace) -> Path:
    """The crop file of ``face``: a name inside ``folder``. InputError for a name (or a link)
    that leads out of it."""
    folder = Path(folder)
    path = folder / face.file
    if not _is_plain_name(face.file) or not path.resolve().is_relative_to(folder.resolve()):
        raise InputError(
            f"faceset {folder}: entry {face.file!r} points outside the faceset; entries must be file "
            "names inside it (re-create the index with `livefake extract`)"
        )
    return path


def read_face_image(folder: str | Path, face: FacesetFace) -> np.ndarray:
    """The crop of ``face`` as uint8 BGR; InputError naming the file when unreadable."""
    from livefake.sources.image import read_image

    return read_image(face_path(folder, face))


def _is_plain_name(name: str) -> bool:
    """One path component: no separators, not ``.`` or ``..``, not absolute."""
    return bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name


def _faceset_from_dict(data: dict[str, Any]) -> Faceset:
    version = int(data.get("version", FACESET_VERSION))
    if version > FACESET_VERSION:
        raise ValueError(f"version {version} is newer than this livefake reads ({FACESET_VERSION})")
    resolution = int(data["resolution"])
    if resolution <= 0:
        raise ValueError(f"resolution {resolution} is not positive")
    faces = [_face_from_dict(item) for item in data["faces"]]
    return Faceset(face_type=str(data["face_type"]), resolution=resolution, faces=faces, version=version)


def _face_from_dict(item: dict[str, Any]) -> FacesetFace:
    landmarks = np.asarray(item["landmarks"], dtype=np.float64)
    matrix = np.asarray(item["matrix"], dtype=np.float64)
    if landmarks.ndim != 2 or landmarks.shape[1] != 2:
        raise ValueError(f"face {item.get('file')}: landmarks must be N x 2, got {landmarks.shape}")
    if matrix.shape != (2, 3):
        raise ValueError(f"face {item.get('file')}: matrix must be 2 x 3, got {matrix.shape}")
    if not _is_plain_name(str(item["file"])):
        raise ValueError(f"entry {item['file']!r} is not a file name inside the faceset")
    return FacesetFace(
        file=str(item["file"]),
        source=str(item.get("source", "")),
        frame=int(item.get("frame", 0)),
        landmarks=landmarks.tolist(),
        matrix=matrix.tolist(),
        yaw=float(item.get("yaw", 0.0)),
        pitch=float(item.get("pitch", 0.0)),
        roll=float(item.get("roll", 0.0)),
        blur=float(item.get("blur", 0.0)),
        score=float(item.get("score", 0.0)),
    )
