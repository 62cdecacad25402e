"""fp32 ONNX -> fp16 weights and arithmetic (float32 input and outputs kept), for GPUs.

fp16 gives nothing on the CPU (NOTES.md), but on GPUs it halves memory traffic. Its failure
mode is a black, grey or garbled face from an overflow; :func:`check_fp16` catches it.
"""

from __future__ import annotations

from pathlib import Path

import onnx

from livefake.errors import ModelError
from livefake.exporters.fidelity import Fidelity

FP16_MIN_PSNR = 30.0  # dB against fp32 on held-out crops
FLAT_FACE_RANGE = 0.02  # a face output spanning less than this is black or a flat grey


def convert_fp16(fp32_path: str | Path, out: str | Path) -> Path:
    """Write an fp16 copy of a contract model; input and outputs stay float32, metadata is kept."""
    from onnxruntime.transformers.float16 import convert_float_to_float16

    from livefake.exporters.onnx_export import save_model

    model = onnx.load(str(fp32_path))
    converted = convert_float_to_float16(model, keep_io_types=True, disable_shape_infer=False)
    return save_model(converted, out)


def check_fp16(path: str | Path, fidelity: Fidelity, min_psnr: float = FP16_MIN_PSNR) -> None:
    """Refuse an fp16 model whose output is NaN/inf, flat (black or grey) or far from fp32."""
    if not fidelity.finite:
        raise ModelError(f"{path}: fp16 output has NaN or inf (an overflow): not written")
    if fidelity.face_range < FLAT_FACE_RANGE:
        raise ModelError(
            f"{path}: fp16 face output is flat (range {fidelity.face_range:.3g}): a black or grey face, not written"
        )
    if fidelity.psnr < min_psnr:
        raise ModelError(f"{path}: fp16 output is garbled ({fidelity.summary()}; bar {min_psnr:.0f} dB): not written")
