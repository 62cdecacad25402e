"""The doctor's checks: what this machine has for livefake, and the fix for each missing piece.

Each check returns a ``Check`` (or a list of them) and never raises for something missing;
``run_checks`` runs them all, an ImportError inside one becoming a failed check.
"""

from __future__ import annotations

import glob
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    summary: str
    fix: str | None = None


def check_cameras(count: int) -> Check:
    import cv2

    nodes = sorted(glob.glob("/dev/video*"))
    found = []
    for index in range(count):
        capture = cv2.VideoCapture(index)
        if capture.isOpened():
            found.append(str(index))
        capture.release()
    if found:
        return Check("camera", True, f"cameras at index {', '.join(found)}")
    detail = f" ({len(nodes)} /dev/video nodes, none opened)" if nodes else ""
    return Check("camera", False, f"no camera found{detail}",
                 "plug in a webcam, or use --source FILE / --source demo")


def check_onnxruntime() -> Check:
    from importlib import metadata

    installed = [name for name in ("onnxruntime", "onnxruntime-gpu") if _has_distribution(metadata, name)]
    if len(installed) > 1:
        return Check("inference", False, "both onnxruntime and onnxruntime-gpu are installed",
                     "pip uninstall -y onnxruntime onnxruntime-gpu, then install livefake[cpu] or livefake[gpu]")
    if importlib.util.find_spec("onnxruntime") is None:
        return Check("inference", False, "ONNX Runtime is not installed",
                     "pip install 'livefake[cpu]' (or 'livefake[gpu]' with an NVIDIA GPU; never both)")
    import onnxruntime

    providers = onnxruntime.get_available_providers()
    return Check("inference", True, f"onnxruntime {onnxruntime.__version__}: {', '.join(providers)}")


def _has_distribution(metadata: object, name: str) -> bool:
    try:
        metadata.distribution(name)  # type: ignore[attr-defined]
        return True
    except Exception:  # noqa: BLE001 - PackageNotFoundError: simply absent
        return False


def check_face_models() -> Check:
    from livefake.errors import ModelError
    from livefake.face.assets import require_models

    try:
        paths = require_models()
    except ModelError as error:
        return Check("face models", False, str(error), "livefake setup")
    return Check("face models", True, f"in {paths.directory}")


def check_devices() -> list[Check]:
    from livefake.install.devices import audio_status, virtual_camera_status

    checks = []
    for name, probe in (("virtual camera", virtual_camera_status), ("audio", audio_status)):
        status = probe()
        checks.append(Check(name, status.ok, status.summary, status.fix))
    return checks


def check_training() -> Check:
    if importlib.util.find_spec("torch") is None:
        return Check("training", False, "PyTorch is not installed (only needed to train and export)",
                     "pip install 'livefake[train]'")
    return Check("training", True, "PyTorch available")


def guarded(name: str, probe: Callable[[], Check | list[Check]]) -> list[Check]:
    try:
        result = probe()
    except ImportError as error:
        return [Check(name, False, f"cannot check: {error}")]
    return result if isinstance(result, list) else [result]


def check_triton(url: str) -> Check:
    from livefake.errors import LivefakeError
    from livefake.runtime.triton import probe

    try:
        return Check("triton", True, probe(url))
    except LivefakeError as error:
        return Check("triton", False, str(error), "start it with `livefake serve REPO`, or check HOST:PORT and NAME")


def run_checks(probe_cameras: int, triton: str | None = None) -> list[Check]:
    checks: list[Check] = []
    checks += guarded("camera", lambda: check_cameras(probe_cameras))
    checks += guarded("inference", check_onnxruntime)
    checks += guarded("face models", check_face_models)
    checks += guarded("devices", check_devices)
    checks += guarded("training", check_training)
    if triton:
        checks += guarded("triton", lambda: check_triton(triton))
    return checks
