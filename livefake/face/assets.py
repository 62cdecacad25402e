"""The face, hand and person models: where they live, and whether `livefake setup` has built them.

The detector (BlazeFace short range), the 468-point face landmark model and the iris model
are Apache-2.0 TFLite files inside the official ``mediapipe==0.10.21`` wheel; `livefake setup`
(``livefake.install.face_models``) converts them to ONNX and writes them to the models folder.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from livefake.errors import ModelError
from livefake.sources.assets import cache_dir

MEDIAPIPE_VERSION = "0.10.21"
SOURCE_FOLDER = "tflite"  # the original files, kept for the converter's equivalence test
MANIFEST_NAME = "manifest.json"
CONVERTER_VERSION = 5  # bump when the conversion changes: older caches are rebuilt by setup


@dataclass(frozen=True)
class ModelSource:
    """One TFLite file inside the wheel and the ONNX file made from it."""

    key: str
    member: str
    sha256: str
    onnx_name: str


MODEL_SOURCES = (
    ModelSource(
        "detector",
        "mediapipe/modules/face_detection/face_detection_short_range.tflite",
        "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
        "face_detection_short_range.onnx",
    ),
    ModelSource(
        "landmarks",
        "mediapipe/modules/face_landmark/face_landmark.tflite",
        "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814",
        "face_landmark.onnx",
    ),
    ModelSource(
        "iris",
        "mediapipe/modules/iris_landmark/iris_landmark.tflite",
        "d1744d2a09c25f501d39eba4faff47e53ecca8852c5ce19bce8eeac39357521f",
        "iris_landmark.onnx",
    ),
    ModelSource(
        "palm",
        "mediapipe/modules/palm_detection/palm_detection_lite.tflite",
        "e9a4aaddf90dda56a87235303cf00e4c2d3fb28725f68fd88772997dac905c18",
        "palm_detection_lite.onnx",
    ),
    ModelSource(
        "hand",
        "mediapipe/modules/hand_landmark/hand_landmark_lite.tflite",
        "048edd3645c9bf7397d19a9f6e3a42957d6e414c9bea6598030a2e9b624156e6",
        "hand_landmark_lite.onnx",
    ),
    ModelSource(
        "person",
        "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite",
        "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c",
        "selfie_segmentation.onnx",
    ),
)


@dataclass(frozen=True)
class FaceModelPaths:
    """The ONNX model files setup builds (the hand and person models sit beside the face ones)."""

    detector: Path
    landmarks: Path
    iris: Path
    directory: Path
    palm: Path
    hand: Path
    person: Path


def default_models_dir() -> Path:
    """$LIVEFAKE_MODELS, else $XDG_CACHE_HOME/livefake/models, else ~/.cache/livefake/models."""
    if os.environ.get("LIVEFAKE_MODELS"):
        return Path(os.environ["LIVEFAKE_MODELS"]).expanduser()
    return cache_dir().expanduser() / "models"


def source_models(models_dir: str | Path | None = None) -> dict[str, Path]:
    """The original TFLite files setup kept beside the ONNX ones, by key (detector, landmarks, iris)."""
    directory = model_paths(models_dir).directory / SOURCE_FOLDER
    return {source.key: directory / Path(source.member).name for source in MODEL_SOURCES}


def model_paths(models_dir: str | Path | None = None) -> FaceModelPaths:
    directory = Path(models_dir).expanduser() if models_dir else default_models_dir()
    files = {source.key: directory / source.onnx_name for source in MODEL_SOURCES}
    return FaceModelPaths(
        files["detector"], files["landmarks"], files["iris"], directory, files["palm"], files["hand"], files["person"]
    )


def require_models(models_dir: str | Path | None = None) -> FaceModelPaths:
    """The model paths, or a ModelError saying to run `livefake setup` when any is missing."""
    paths = model_paths(models_dir)
    if not models_complete(paths):
        raise ModelError(f"face models missing in {paths.directory}: run `livefake setup`")
    return paths


def models_complete(paths: FaceModelPaths) -> bool:
    manifest = paths.directory / MANIFEST_NAME
    files = (paths.detector, paths.landmarks, paths.iris, paths.palm, paths.hand, paths.person, manifest)
    if not all(path.is_file() for path in files):
        return False
    try:
        recorded = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return False
    return recorded.get("mediapipe") == MEDIAPIPE_VERSION and recorded.get("converter") == CONVERTER_VERSION
