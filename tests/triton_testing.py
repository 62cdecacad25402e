"""Helpers for the Triton tests: a stand-in lite model, free ports, a real server or a skip."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest

RESOLUTION = 64


def lite_model(path: Path, resolution: int = RESOLUTION) -> Path:
    """A small ``lite`` swap model with stand-in weights, exported by livefake's exporter (needs torch)."""
    torch = pytest.importorskip("torch", reason="the stand-in lite model is built with PyTorch (livefake[train])")
    from livefake.exporters.onnx_export import export_onnx, source_from_model
    from livefake.exporters.stand_in import stand_in_weights
    from livefake.models.registry import build_model, default_config

    model = build_model(default_config("lite", resolution, encoder_dims=8, inter_dims=32, decoder_dims=8))
    crops = torch.from_numpy(np.random.default_rng(0).random((4, 3, resolution, resolution), dtype=np.float32))
    with torch.no_grad():
        stand_in_weights(model, crops)
    export_onnx(source_from_model(model.eval(), "dst", steps=5), path)
    return path


def free_port_block(count: int = 3) -> int:
    """A port P with P..P+count-1 free on 127.0.0.1 (gRPC, HTTP, metrics)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count < 65535 and all(_free(base + offset) for offset in range(count)):
            return base
    raise RuntimeError("no block of free ports on 127.0.0.1")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def server_or_skip():  # type: ignore[no-untyped-def]
    """The tritonserver install to test with, or a skip saying why there is none (nothing is downloaded)."""
    pytest.importorskip("tritonclient.grpc", reason="tritonclient not installed: pip install 'livefake[remote]'")
    from livefake.serve.binary import find_server, libpython, stub_environment_ready

    install = find_server()
    if install is None or not (install.has_backend("onnxruntime") or stub_environment_ready()):
        pytest.skip("no tritonserver on PATH and none fetched: run `livefake serve --fetch-only` once")
    if not install.has_backend("onnxruntime") and libpython() is None:
        pytest.skip("Triton's Python backend needs a shared libpython and this Python is a static build")
    return install


def crops(count: int, resolution: int = RESOLUTION, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, resolution, resolution, 3), dtype=np.uint8)
