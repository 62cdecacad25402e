"""`livefake doctor`: what this machine has for livefake, and what to do about each missing piece."""

from __future__ import annotations

import argparse
import sys

NAME = "doctor"
HELP = "check cameras, virtual cameras, inference providers, audio and face models"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--probe-cameras", type=int, default=4, metavar="N", help="try camera indices 0..N-1")
    parser.add_argument("--triton", metavar="URL", help="check a served model: triton://HOST:PORT/NAME")


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
    from livefake.devices import audio_status, virtual_camera_status

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


def run(args: argparse.Namespace) -> int:
    checks: list[Check] = []
    checks += guarded("camera", lambda: check_cameras(args.probe_cameras))
    checks += guarded("inference", check_onnxruntime)
    checks += guarded("face models", check_face_models)
    checks += guarded("devices", check_devices)
    checks += guarded("training", check_training)
    if args.triton:
        checks += guarded("triton", lambda: check_triton(args.triton))
    for check in checks:
        mark = "ok  " if check.ok else "MISS"
        print(f"[{mark}] {check.name:15s} {check.summary}")
        if not check.ok and check.fix:
            print(f"       {'':15s} fix: {check.fix}")
    essential_ok = all(check.ok for check in checks if check.name in ("inference", "triton"))
    print(f"python {sys.version.split()[0]} on {sys.platform}")
    return 0 if essential_ok else 1
