"""ONNX Runtime sessions: provider choice, threads, warm-up and IO binding on GPU.

Providers are tried in the order TensorRT -> CUDA -> CPU (``"auto"``), or exactly the one
asked for. ONNX Runtime comes from one of two wheels that share a module folder:
``livefake[cpu]`` (onnxruntime) or ``livefake[gpu]`` (onnxruntime-gpu), never both.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from livefake.config import Provider
from livefake.errors import DeviceError, ModelError
from livefake.runtime.contract import TensorSpec

log = logging.getLogger(__name__)

TENSORRT = "TensorrtExecutionProvider"
CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
PROVIDER_NAMES: dict[str, str] = {"tensorrt": TENSORRT, "cuda": CUDA, "cpu": CPU}
AUTO_ORDER: tuple[str, ...] = (TENSORRT, CUDA, CPU)
GPU_PROVIDERS = frozenset({TENSORRT, CUDA})
ORT_ELEMENT_TYPES: dict[str, type[np.floating[Any]]] = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
}


@dataclass(frozen=True)
class SessionOptions:
    """How to run a model: which provider, how many CPU threads, where TensorRT caches engines."""

    provider: Provider = "auto"
    threads: int | None = None  # intra-op threads on CPU; None = one per core
    trt_cache_dir: str | None = None  # engine + timing caches; default: "<model>.trt-cache" beside the model
    trt_fp16: bool = True
    warm_up_runs: int = 2
    optimization: str = "all"  # "basic", "extended" or "all"
    spinning: bool = True  # False: idle ORT threads sleep instead of spinning (kinder to shared cores)


def import_onnxruntime() -> ModuleType:
    """Import onnxruntime, or say which extra to install."""
    try:
        import onnxruntime
    except ImportError:
        raise DeviceError("ONNX Runtime is not installed: install livefake[cpu] or livefake[gpu], never both") from None
    return onnxruntime


def choose_providers(requested: str, available: Sequence[str]) -> list[str]:
    """The providers to hand ONNX Runtime, best first.

    ``"auto"`` takes every available provider of TensorRT -> CUDA -> CPU; a named provider
    must be available (CPU is always appended as the fallback for unsupported nodes).
    """
    if requested == "auto":
        chosen = [name for name in AUTO_ORDER if name in available]
        return chosen or [CPU]
    if requested not in PROVIDER_NAMES:
        raise DeviceError(f"unknown provider {requested!r}; choose one of auto, {', '.join(PROVIDER_NAMES)}")
    wanted = PROVIDER_NAMES[requested]
    if wanted not in available:
        hint = "install livefake[gpu] (onnxruntime-gpu) on a machine with an NVIDIA GPU"
        if wanted == TENSORRT:
            hint += " and the TensorRT libraries"
        raise DeviceError(
            f"provider {requested} is not available in this ONNX Runtime (has: {', '.join(available)}): {hint}"
        )
    return [wanted] if wanted == CPU else [wanted, CPU]


def provider_options(providers: Sequence[str], model_path: str, options: SessionOptions) -> list[dict[str, Any]]:
    """Per-provider options: TensorRT engine and timing caches, CUDA device 0."""
    result: list[dict[str, Any]] = []
    for name in providers:
        if name == TENSORRT:
            cache = options.trt_cache_dir or f"{model_path}.trt-cache"
            result.append(
                {
                    "trt_engine_cache_enable": True,
                    "trt_engine_cache_path": cache,
                    "trt_timing_cache_enable": True,
                    "trt_timing_cache_path": cache,
                    "trt_fp16_enable": options.trt_fp16,
                }
            )
        elif name == CUDA:
            result.append({"device_id": 0})
        else:
            result.append({})
    return result


class ModelSession:
    """One ONNX model loaded for inference, with the chosen providers and its input/output specs."""

    def __init__(self, path: str | Path, options: SessionOptions | None = None) -> None:
        self.path = str(path)
        self.options = options or SessionOptions()
        ort = import_onnxruntime()
        _check_file(self.path)
        self.providers = choose_providers(self.options.provider, ort.get_available_providers())
        if TENSORRT in self.providers:
            Path(self.options.trt_cache_dir or f"{self.path}.trt-cache").mkdir(parents=True, exist_ok=True)
        self.session = open_session(self.path, self.options, self.providers)
        self.inputs = [_spec(arg) for arg in self.session.get_inputs()]
        self.outputs = [_spec(arg) for arg in self.session.get_outputs()]
        self.metadata: dict[str, str] = dict(self.session.get_modelmeta().custom_metadata_map)
        self.active_providers: list[str] = list(self.session.get_providers())
        self.on_gpu = bool(GPU_PROVIDERS.intersection(self.active_providers))
        self._binding = self.session.io_binding() if self.on_gpu else None
        log.debug("loaded %s on %s", self.path, ", ".join(self.active_providers))

    def input_dtype(self, index: int = 0) -> type[np.floating[Any]]:
        return ORT_ELEMENT_TYPES.get(self.inputs[index].dtype, np.float32)

    def run(self, feeds: Mapping[str, np.ndarray], output_names: Sequence[str] | None = None) -> list[np.ndarray]:
        """Run the model; on GPU through IO binding (outputs stay on the device until copied once)."""
        names = list(output_names) if output_names else [spec.name for spec in self.outputs]
        try:
            if self._binding is None:
                return list(self.session.run(names, dict(feeds)))
            return self._run_bound(feeds, names)
        except Exception as error:  # ONNX Runtime raises its own non-typed exceptions
            raise ModelError(f"{self.path}: inference failed: {error}") from error

    def _run_bound(self, feeds: Mapping[str, np.ndarray], names: Sequence[str]) -> list[np.ndarray]:
        binding = self._binding
        assert binding is not None
        binding.clear_binding_inputs()
        binding.clear_binding_outputs()
        for name, value in feeds.items():
            binding.bind_cpu_input(name, np.ascontiguousarray(value))
        for name in names:
            binding.bind_output(name, "cuda")
        self.session.run_with_iobinding(binding)
        return list(binding.copy_outputs_to_cpu())

    def warm_up(self, feeds: Mapping[str, np.ndarray]) -> None:
        """Run a few times so lazy allocation and engine builds happen before the first real frame."""
        for _ in range(self.options.warm_up_runs):
            self.run(feeds)


def _check_file(path: str) -> None:
    file = Path(path)
    if not file.is_file():
        raise ModelError(f"model file {path} does not exist")
    if file.stat().st_size == 0:
        raise ModelError(f"model file {path} is empty")


def open_session(
    model: str | Path | bytes, options: SessionOptions, providers: Sequence[str] | None = None, hint: str = ""
) -> Any:
    """The one ONNX Runtime session factory: a model file (or serialized model) on ``providers``.

    ``providers`` defaults to ``choose_providers(options.provider, ...)``; ``hint`` ends the error
    message when the model cannot be loaded (what the user should do about it).
    """
    ort = import_onnxruntime()
    chosen = list(providers or choose_providers(options.provider, ort.get_available_providers()))
    where = "the serialized model" if isinstance(model, bytes) else str(model)
    settings = ort.SessionOptions()
    settings.intra_op_num_threads = options.threads or (os.cpu_count() or 1)
    settings.inter_op_num_threads = 1
    settings.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    settings.graph_optimization_level = _optimization_level(ort, options.optimization)
    settings.log_severity_level = 3
    if not options.spinning:
        settings.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(
            model if isinstance(model, bytes) else str(model),
            sess_options=settings,
            providers=chosen,
            provider_options=provider_options(chosen, where, options),
        )
    except Exception as error:  # ONNX Runtime's pybind errors share no base class but Exception
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ModelError(f"{where} cannot be loaded (truncated or not an ONNX model?): {detail}{hint}") from error


def create_session(model: str | Path | bytes, threads: int = 2) -> Any:
    """A CPU session for the small face models, ``threads`` intra-op threads that sleep when idle.

    Idle threads must not spin: the detector, landmark and iris sessions take turns, and on two
    cores a spinning pool of one slows the next by half.
    """
    options = SessionOptions(provider="cpu", threads=threads, spinning=False)
    return open_session(model, options, [CPU], hint="; run `livefake setup` again")


def _optimization_level(ort: ModuleType, name: str) -> Any:
    levels = {
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }
    if name not in levels:
        raise ModelError(f"unknown graph optimization level {name!r}; choose one of {', '.join(levels)}")
    return levels[name]


def _spec(arg: Any) -> TensorSpec:
    shape = tuple(axis if isinstance(axis, int) else (axis or None) for axis in arg.shape)
    return TensorSpec(name=str(arg.name), shape=shape, dtype=str(arg.type))
