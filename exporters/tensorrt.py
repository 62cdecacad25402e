"""TensorRT engines through ONNX Runtime's TensorRT provider, with engine and timing caches.

The exported file is the (fp32) contract ONNX model; beside it, ``FILE.trt-cache/`` holds the
serialized engine and the timing cache that ONNX Runtime builds on the first session. The
runtime (``livefake.runtime.session``) points the TensorRT provider at the same folder, so
the engine is built once here and reused by every live run on the same GPU and TensorRT.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

from livefake.errors import DeviceError
from livefake.runtime.contract import INPUT_NAME
from livefake.runtime.session import TENSORRT, ModelSession, SessionOptions, import_onnxruntime

TENSORRT_MISSING = (
    "TensorRT is not available: ONNX Runtime has no TensorrtExecutionProvider here. It needs an NVIDIA "
    "GPU, livefake[gpu] (onnxruntime-gpu) and the TensorRT libraries (pip install tensorrt from NVIDIA's "
    "index); export --to onnx or --to fp16 and run them on the CUDA provider instead"
)


def tensorrt_available() -> bool:
    return TENSORRT in import_onnxruntime().get_available_providers()


def cache_dir(model_path: str | Path) -> Path:
    """Where the engine and timing caches of ``model_path`` live."""
    return Path(f"{model_path}.trt-cache")


def build_tensorrt(fp32_path: str | Path, out: str | Path, resolution: int, fp16: bool = True) -> float:
    """Copy the model to ``out`` and build its TensorRT engine into ``out``'s cache; returns build seconds."""
    if not tensorrt_available():
        raise DeviceError(TENSORRT_MISSING)
    out = Path(out)
    shutil.copyfile(fp32_path, out)
    cache = cache_dir(out)
    cache.mkdir(parents=True, exist_ok=True)
    options = SessionOptions(provider="tensorrt", trt_cache_dir=str(cache), trt_fp16=fp16, warm_up_runs=1)
    start = time.perf_counter()
    session = ModelSession(out, options)
    session.warm_up({INPUT_NAME: np.zeros((1, 3, resolution, resolution), np.float32)})
    return time.perf_counter() - start
