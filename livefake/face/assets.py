"""The face and hand models: where they live, and `livefake setup`, which builds them.

The detector (BlazeFace short range), the 468-point face landmark model, the iris model, the
palm detector and 21-point hand landmark model (both "lite") and the selfie (person)
segmentation model are Apache-2.0 TFLite files inside the official ``mediapipe==0.10.21``
wheel. Setup fetches that pinned wheel with pip (nothing is installed), checks its hash and
the hashes of the six files, converts them to ONNX with ``livefake.exporters.tflite_to_onnx``,
runs each once, and writes them atomically to the models folder with the wheel's LICENSE
beside them.
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
CONVERTER_VERSION = 4  # bump when the conversion changes: older caches are rebuilt by setup


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
    """The original TFLite files setup kept beside the ONNX ones, by key (detector, landmarks, iris, ...)."""
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


def setup_models(
    models_dir: str | Path | None = None, progress: bool = True, wheel: str | Path | None = None
) -> FaceModelPaths:
    """Build the ONNX face models once; a second call returns at once.

    ``wheel`` names an already downloaded mediapipe wheel (for machines without PyPI access).
    """
    paths = model_paths(models_dir)
    if models_complete(paths):
        return paths
    paths.directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="livefake-setup-") as scratch:
        wheel_path = Path(wheel) if wheel else download_wheel(Path(scratch), progress)
        members = extract_members(wheel_path)
        (paths.directory / SOURCE_FOLDER).mkdir(exist_ok=True)
        for source in MODEL_SOURCES:
            model = convert_and_verify(source, members[source.member], progress)
            write_atomically(paths.directory / source.onnx_name, model)
            write_atomically(paths.directory / SOURCE_FOLDER / Path(source.member).name, members[source.member])
        write_atomically(paths.directory / NOTICE_NAME, members[LICENSE_MEMBER] + notice_footer())
        manifest = {
            "mediapipe": MEDIAPIPE_VERSION,
            "converter": CONVERTER_VERSION,
            "wheel": wheel_path.name,
            "files": manifest_files(),
        }
        write_atomically(paths.directory / MANIFEST_NAME, json.dumps(manifest, indent=2).encode())
    return paths


def download_wheel(directory: Path, progress: bool) -> Path:
    """pip-download the pinned wheel; fall back to this platform's wheel (files are hash-checked)."""
    base = [sys.executable, "-m", "pip", "download", f"mediapipe=={MEDIAPIPE_VERSION}", "--no-deps"]
    base += ["--only-binary=:all:", "--dest", str(directory)]
    if not progress:
        base.append("--quiet")
    for extra in (PINNED_PLATFORM, []):
        result = subprocess.run(base + extra, capture_output=not progress, text=True, check=False)
        wheels = sorted(directory.glob(f"mediapipe-{MEDIAPIPE_VERSION}-*.whl"))
        if result.returncode == 0 and wheels:
            return check_wheel(wheels[0])
    raise ModelError(
        f"pip could not download mediapipe=={MEDIAPIPE_VERSION}: "
        "check network access to PyPI, or pass --wheel with a downloaded wheel"
    )


def check_wheel(path: Path) -> Path:
    if path.name == PINNED_WHEEL and sha256_of(path.read_bytes()) != PINNED_WHEEL_SHA256:
        raise ModelError(f"{path.name} does not match its pinned sha256: delete it and run `livefake setup` again")
    return path


def extract_members(wheel: Path) -> dict[str, bytes]:
    """The model files and the LICENSE from the wheel, each model checked against its hash."""
    check_wheel(wheel)
    wanted = [source.member for source in MODEL_SOURCES] + [LICENSE_MEMBER]
    try:
        with zipfile.ZipFile(wheel) as archive:
            members = {name: archive.read(name) for name in wanted}
    except (KeyError, zipfile.BadZipFile) as error:
        raise ModelError(f"{wheel} is not a mediapipe {MEDIAPIPE_VERSION} wheel with face models: {error}") from None
    for source in MODEL_SOURCES:
        if sha256_of(members[source.member]) != source.sha256:
            raise ModelError(f"{source.member} in {wheel.name} does not match its pinned sha256")
    return members


def convert_and_verify(source: ModelSource, tflite_bytes: bytes, progress: bool) -> bytes:
    """Convert one model to ONNX, run it once on zeros and check its output shapes."""
    try:
        from livefake.exporters.tflite_to_onnx import ConversionError, convert_model, output_shapes
    except ImportError as error:
        raise ModelError(
            f"`livefake setup` needs the tflite and onnx packages ({error}): pip install tflite onnx"
        ) from None
    try:
        model = convert_model(tflite_bytes, source.key, progress)
    except ConversionError as error:
        raise ModelError(f"cannot convert {source.member}: {error}") from None
    data = model.SerializeToString()
    expected = output_shapes(tflite_bytes)
    session = create_session(data, threads=1)
    feed = {item.name: np.zeros([1, *item.shape[1:]], np.float32) for item in session.get_inputs()}
    produced = [tuple(output.shape) for output in session.run(None, feed)]
    if produced != expected:
        raise ModelError(f"converted {source.key} model gives shapes {produced}, expected {expected}")
    return data


def create_session(model: str | Path | bytes, threads: int = 2):  # type: ignore[no-untyped-def]
    """An ONNX Runtime CPU session with ``threads`` intra-op threads, for the small face models."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # idle worker threads must not spin: the detector, landmark and iris sessions take turns,
    # and on two cores a spinning pool of one slows the next by half
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    source = model if isinstance(model, bytes) else str(model)
    try:
        return onnxruntime.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own untyped errors
        where = "converted model" if isinstance(model, bytes) else str(model)
        raise ModelError(f"cannot load face model {where}: {error}; run `livefake setup` again") from None


def write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def notice_footer() -> bytes:
    files = ", ".join(source.member for source in MODEL_SOURCES)
    return (
        f"\n\n---\nThe face, hand and person models in this folder were converted to ONNX by livefake from {files} "
        f"in the mediapipe {MEDIAPIPE_VERSION} wheel (Copyright Google LLC), licensed under the "
        "Apache License 2.0 above.\n"
    ).encode()


def manifest_files() -> dict[str, str]:
    return {source.onnx_name: source.member for source in MODEL_SOURCES}
