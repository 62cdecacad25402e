"""`livefake doctor`'s audio and virtual camera probes: a summary and a fix for each missing piece."""

from __future__ import annotations

import ctypes.util
import sys
import types
from typing import Any

import pytest

from livefake.install.devices import DeviceStatus, audio_status, virtual_camera_status
from livefake.sinks.virtualcam import LINUX_FIX


def stub(monkeypatch: pytest.MonkeyPatch, devices: list[dict[str, Any]]) -> None:
    module = types.ModuleType("sounddevice")
    module.query_devices = lambda: devices  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sounddevice", module)


def device(name: str, inputs: int, outputs: int) -> dict[str, Any]:
    return {"name": name, "max_input_channels": inputs, "max_output_channels": outputs}


@pytest.mark.skipif(sys.platform != "linux", reason="PortAudio lookup by find_library is the Linux path")
def test_missing_portaudio_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    status = audio_status()
    assert not status.ok and status.fix is not None and "libportaudio2" in status.fix


def test_no_output_device_suggests_a_virtual_one(monkeypatch: pytest.MonkeyPatch) -> None:
    stub(monkeypatch, [device("Mic", 1, 0)])
    status = audio_status()
    assert not status.ok and status.summary == "no audio output device"
    assert status.fix is not None and any(k in status.fix for k in ("null-sink", "BlackHole", "VB-Cable"))


def test_a_virtual_cable_is_recognised(monkeypatch: pytest.MonkeyPatch) -> None:
    stub(monkeypatch, [device("Mic", 1, 0), device("BlackHole 2ch", 2, 2)])
    status = audio_status()
    assert status.ok and "BlackHole 2ch" in status.summary and status.fix is None


@pytest.mark.skipif(sys.platform != "linux", reason="v4l2loopback is Linux only")
def test_virtual_camera_status_gives_the_modprobe_fix_when_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("livefake.install.devices.glob.glob", lambda pattern: [])
    status = virtual_camera_status()
    assert status == DeviceStatus(False, "no v4l2loopback device", status.fix)
    assert status.fix is not None and LINUX_FIX in status.fix
