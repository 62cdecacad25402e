"""The export formats as data: each name and what it writes. Torch-free, so the command line
takes its choices from here; ``livefake.exporters.formats`` attaches the step that finishes each."""

from __future__ import annotations

EXPORT_FORMATS: dict[str, str] = {
    "onnx": "fp32 ONNX, checked against PyTorch (any provider)",
    "int8": "static int8 QDQ, per-channel, calibrated on faceset crops (CPU)",
    "fp16": "fp16 ONNX with float32 input/outputs (GPU)",
    "tensorrt": "ONNX + TensorRT engine and timing caches beside it (NVIDIA GPU)",
    "triton": "Triton model repository: REPO/NAME/config.pbtxt + 1/model.onnx",
}
