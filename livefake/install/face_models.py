"""`livefake setup`: build the ONNX face models from the pinned mediapipe wheel.

Setup fetches the pinned ``mediapipe==0.10.21`` wheel with pip (nothing is installed), checks
its hash and the hashes of the three files, converts them to ONNX with
``livefake.exporters.tflite_to_onnx``, runs each once, and writes them atomically to the
models folder (``livefake.face.assets``) with the wheel's LICENSE beside them.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from livefake.errors import ModelError
from livefake.face.assets import (
    CONVERTER_VERSION,
    MANIFEST_NAME,
    MEDIAPIPE_VERSION,
    MODEL_SOURCES,
    SOURCE_FOLDER,
    FaceModelPaths,
    ModelSource,
    model_paths,
    models_complete,
)
from livefake.runtime.session import create_session

PINNED_WHEEL = "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl"
PINNED_WHEEL_SHA256 = "05dc4a9e593655a79558d05d6227d31018c2537a4bd3362b51e230cf22aecfe3"
PINNED_PLATFORM = [
    "--platform",
    "manylinux_2_28_x86_64",
    "--python-version",
    "3.11",
    "--implementation",
    "cp",
]
LICENSE_MEMBER = f"mediapipe-{MEDIAPIPE_VERSION}.dist-info/LICENSE"
NOTICE_NAME = "LICENSE-mediapipe.txt"


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
