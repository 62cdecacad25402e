"""ONNX Runtime sessions: provider choice, missing runtime, unreadable files, GPU binding."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from livefake.errors import DeviceError, ModelError
from livefake.runtime.session import (
    CPU,
    CUDA,
    TENSORRT,
    ModelSession,
    SessionOptions,
    choose_providers,
    import_onnxruntime,
    provider_options,
)

GPU_BUILD = [TENSORRT, CUDA, CPU]


@pytest.mark.parametrize(
    ("available", "expected"),
    [
        (GPU_BUILD, GPU_BUILD),
        ([CUDA, CPU], [CUDA, CPU]),
        ([CPU], [CPU]),
        (["AzureExecutionProvider", CPU], [CPU]),
    ],
)
def test_auto_prefers_tensorrt_then_cuda_then_cpu(available: list[str], expected: list[str]) -> None:
    assert choose_providers("auto", available) == expected


def test_a_named_provider_overrides_the_order_and_keeps_cpu_as_fallback() -> None:
    assert choose_providers("cuda", GPU_BUILD) == [CUDA, CPU]
    assert choose_providers("cpu", GPU_BUILD) == [CPU]


def test_a_named_provider_that_is_missing_says_what_to_install() -> None:
    with pytest.raises(DeviceError, match="provider tensorrt is not available .* livefake\\[gpu\\]"):
        choose_providers("tensorrt", [CPU])


def test_tensorrt_gets_engine_and_timing_caches_beside_the_model() -> None:
    options = provider_options([TENSORRT, CUDA, CPU], "/models/m.onnx", SessionOptions())
    trt = options[0]
    assert trt["trt_engine_cache_enable"] and trt["trt_timing_cache_enable"]
    assert trt["trt_engine_cache_path"] == trt["trt_timing_cache_path"] == "/models/m.onnx.trt-cache"
    assert options[1] == {"device_id": 0} and options[2] == {}


def test_missing_onnxruntime_names_both_extras(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(DeviceError, match=r"install livefake\[cpu\] or livefake\[gpu\], never both"):
        import_onnxruntime()


def test_truncated_file_is_refused_naming_it(contract_model: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(contract_model.read_bytes()[:-40])
    with pytest.raises(ModelError, match=r"truncated\.onnx cannot be loaded \(truncated or not an ONNX model"):
        ModelSession(truncated)


def test_missing_and_empty_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"nothing\.onnx does not exist"):
        ModelSession(tmp_path / "nothing.onnx")
    (tmp_path / "empty.onnx").write_bytes(b"")
    with pytest.raises(ModelError, match=r"empty\.onnx is empty"):
        ModelSession(tmp_path / "empty.onnx")


def test_cpu_session_reads_specs_metadata_and_runs(contract_model: Path) -> None:
    session = ModelSession(contract_model, SessionOptions(provider="cpu", threads=1, spinning=False))
    assert session.active_providers == [CPU] and not session.on_gpu
    assert session.inputs[0].name == "crop" and session.inputs[0].shape == ("N", 3, 32, 32)
    assert session.metadata["architecture"] == "test"
    face, mask = session.run({"crop": np.full((2, 3, 32, 32), 0.25, np.float32)})
    assert face.shape == (2, 3, 32, 32) and np.allclose(face, 0.75)
    assert mask.shape == (2, 1, 32, 32) and np.allclose(mask, 0.25)


def test_a_bad_feed_raises_a_model_error(contract_model: Path) -> None:
    session = ModelSession(contract_model, SessionOptions(provider="cpu"))
    with pytest.raises(ModelError, match=r"contract\.onnx: inference failed"):
        session.run({"crop": np.zeros((1, 3, 16, 16), np.float32)})


@pytest.mark.gpu
def test_cuda_session_uses_io_binding(contract_model: Path) -> None:
    ort = import_onnxruntime()
    if CUDA not in ort.get_available_providers():
        pytest.skip("no CUDA provider in this ONNX Runtime (install livefake[gpu] on a GPU machine)")
    session = ModelSession(contract_model, SessionOptions(provider="cuda"))
    assert session.on_gpu
    face, _mask = session.run({"crop": np.full((1, 3, 32, 32), 0.5, np.float32)})
    assert np.allclose(face, 0.5)
