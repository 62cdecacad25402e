"""Status probes for ``livefake doctor``: is there a virtual camera, is there usable audio?

Each probe returns a ``DeviceStatus`` with a one-line summary and, when something is missing,
the one fix to apply. Probes never raise for a missing device.
"""

from __future__ import annotations

import glob
import platform
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from livefake.errors import DeviceError


@dataclass(frozen=True)
class DeviceStatus:
    ok: bool
    summary: str
    fix: str | None = None


def virtual_camera_status() -> DeviceStatus:
    """Whether pyvirtualcam can reach a virtual camera (a v4l2loopback device on Linux)."""
    from livefake.sinks.virtualcam import virtual_camera_fix

    if platform.system() == "Linux":
        loopbacks = _v4l2_loopback_devices()
        if loopbacks:
            return DeviceStatus(True, f"v4l2loopback device(s): {', '.join(loopbacks)}")
        return DeviceStatus(False, "no v4l2loopback device", virtual_camera_fix())
    try:
        import pyvirtualcam
    except ImportError as error:
        return DeviceStatus(False, f"pyvirtualcam not importable ({error})", "pip install pyvirtualcam")
    backends = ", ".join(pyvirtualcam.camera.BACKENDS) or "none"
    return DeviceStatus(True, f"pyvirtualcam backends: {backends} (OBS must be installed)", None)


def _v4l2_loopback_devices() -> list[str]:
    """``/dev/videoN`` whose driver is v4l2 loopback (named in sysfs)."""
    found = []
    for device in sorted(glob.glob("/dev/video*")):
        name_file = Path("/sys/class/video4linux") / Path(device).name / "name"
        try:
            name = name_file.read_text().strip()
        except OSError:
            continue
        driver = Path("/sys/class/video4linux") / Path(device).name / "device" / "driver"
        looks_loopback = "loopback" in name.lower() or "livefake" in name.lower()
        if looks_loopback or "v4l2loopback" in str(driver.resolve()):
            found.append(f"{device} ({name})")
    return found


def audio_status() -> DeviceStatus:
    """PortAudio present, an input device, and an output device a call application can listen to."""
    from livefake.audio.device import MICROPHONE_FIX, load_sounddevice, virtual_output_fix

    try:
        sd = load_sounddevice()
    except DeviceError as error:
        return DeviceStatus(False, "PortAudio missing", str(error).split(": ", 1)[-1])
    devices = [dict(info) for info in sd.query_devices()]
    inputs = [d["name"] for d in devices if d.get("max_input_channels", 0) > 0]
    outputs = [d["name"] for d in devices if d.get("max_output_channels", 0) > 0]
    if not inputs or not outputs:
        missing = "input" if not inputs else "output"
        fix = virtual_output_fix() if missing == "output" else MICROPHONE_FIX
        return DeviceStatus(False, f"no audio {missing} device", fix)
    virtual = _virtual_output_found(outputs)
    summary = f"{len(inputs)} input and {len(outputs)} output device(s)"
    if not virtual:
        return DeviceStatus(True, f"{summary}; no virtual output for calls found", virtual_output_fix())
    return DeviceStatus(True, f"{summary}; virtual output: {virtual}")


def _virtual_output_found(outputs: list[str]) -> str | None:
    """A virtual cable/loopback output by name, or the PulseAudio/PipeWire null sink on Linux."""
    for name in outputs:
        if any(key in name.lower() for key in ("blackhole", "cable input", "livefake", "vb-audio")):
            return name
    if platform.system() == "Linux" and shutil.which("pactl"):
        try:
            command = ["pactl", "list", "short", "sinks"]
            listing = subprocess.run(command, capture_output=True, text=True, timeout=5).stdout
        except (subprocess.SubprocessError, OSError):
            listing = ""
        if "livefake" in listing:
            return "PulseAudio/PipeWire null sink 'livefake' (use --audio-out pulse with PULSE_SINK=livefake)"
    return None
