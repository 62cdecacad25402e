"""Sound devices through PortAudio (sounddevice): loading, lookup by name or index, duplex streams.

Every failure becomes a ``DeviceError`` with one line that says what is missing and how to fix it.
"""

from __future__ import annotations

import importlib
import platform
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

from livefake.errors import DeviceError

Direction = Literal["input", "output"]
MICROPHONE_FIX = "connect a microphone, or start the sound server (PulseAudio/PipeWire, JACK)"
AudioCallback = Callable[[Any, Any, int, Any, Any], None]  # indata, outdata, frames, time, status


def portaudio_fix() -> str:
    """How to install PortAudio on this system."""
    system = platform.system()
    if system == "Linux":
        return "install PortAudio: sudo apt-get install libportaudio2 (Fedora: sudo dnf install portaudio)"
    if system == "Darwin":
        return "install PortAudio: brew install portaudio, then pip install --force-reinstall sounddevice"
    return "reinstall sounddevice (bundles PortAudio on Windows): pip install --force-reinstall sounddevice"


def virtual_output_fix() -> str:
    """How to get an output device that a call application can take as its microphone."""
    system = platform.system()
    if system == "Linux":
        return (
            "create a null sink: pactl load-module module-null-sink sink_name=livefake, run with "
            "PULSE_SINK=livefake and --audio-out pulse, pick 'Monitor of livefake' as the call's microphone"
        )
    if system == "Darwin":
        return "install BlackHole 2ch (brew install blackhole-2ch), use --audio-out BlackHole"
    return "install VB-Cable (vb-audio.com/Cable), use --audio-out 'CABLE Input'"


def load_sounddevice() -> ModuleType:
    """Import sounddevice, turning a missing PortAudio library into a DeviceError."""
    try:
        return importlib.import_module("sounddevice")
    except OSError as error:
        raise DeviceError(f"PortAudio not usable ({error}): {portaudio_fix()}") from None


@dataclass(frozen=True)
class AudioDevice:
    """One PortAudio device chosen for a direction."""

    index: int
    name: str
    hostapi: str
    channels: int  # the most channels it offers in the chosen direction
    default_rate: float


def list_devices(sd: ModuleType) -> list[dict[str, Any]]:
    return [dict(info) for info in sd.query_devices()]


def find_device(sd: ModuleType, spec: str | int | None, direction: Direction) -> AudioDevice:
    """The device ``spec`` names (index, or part of its name, case-insensitive); None = the default."""
    key = f"max_{direction}_channels"
    devices = list_devices(sd)
    usable = [(i, d) for i, d in enumerate(devices) if d.get(key, 0) > 0]
    if not usable:
        fix = virtual_output_fix() if direction == "output" else MICROPHONE_FIX
        raise DeviceError(f"no audio {direction} device found: {fix}")
    if spec is None:
        index = _default_index(sd, direction)
        chosen = next(((i, d) for i, d in usable if i == index), usable[0])
    else:
        chosen = _match(usable, str(spec), direction)
    index, info = chosen
    hostapi = sd.query_hostapis(info["hostapi"])["name"] if "hostapi" in info else ""
    rate = float(info["default_samplerate"])
    return AudioDevice(index, str(info["name"]), str(hostapi), int(info[key]), rate)


def _default_index(sd: ModuleType, direction: Direction) -> int:
    default = sd.default.device
    pair = default if isinstance(default, list | tuple) else (default, default)
    value = pair[0] if direction == "input" else pair[1]
    return int(value) if value is not None else -1


def _match(usable: list[tuple[int, dict[str, Any]]], spec: str, direction: Direction) -> tuple[int, dict]:
    if spec.strip().isdigit():
        for index, info in usable:
            if index == int(spec):
                return index, info
    named = [(i, d) for i, d in usable if spec.lower() in str(d["name"]).lower()]
    if named:
        return named[0]
    names = ", ".join(f"{i}: {d['name']}" for i, d in usable)
    raise DeviceError(f"audio {direction} device '{spec}' not found; {direction} devices are {names}")


def open_duplex(
    sd: ModuleType,
    devices: tuple[AudioDevice, AudioDevice],
    sample_rate: int,
    blocksize: int,
    channels: tuple[int, int],
    callback: AudioCallback,
    finished: Callable[[], None],
) -> Any:
    """Open (not start) a duplex float32 stream from ``devices[0]`` to ``devices[1]``.

    ``channels`` is the most input and output channels wanted; fewer are used where a device has fewer.
    """
    source, target = devices
    try:
        return sd.Stream(
            device=(source.index, target.index),
            samplerate=sample_rate,
            blocksize=blocksize,
            channels=(min(channels[0], source.channels), min(channels[1], target.channels)),
            dtype="float32",
            latency="low",
            callback=callback,
            finished_callback=finished,
        )
    except Exception as error:  # noqa: BLE001 - PortAudio's own errors carry the reason
        raise DeviceError(
            f"cannot open audio from '{source.name}' to '{target.name}' at {sample_rate} Hz: {error}"
        ) from error
