"""fp32 ONNX -> static int8 QDQ (per-channel weights), calibrated on face crops.

ONNX Runtime's static quantizer runs the fp32 model over calibration crops to find activation
ranges (percentile, robust to outliers), then inserts QuantizeLinear/DequantizeLinear pairs
(u8 activations, s8 per-channel weights). For the depthwise-separable ``lite`` model, int8
pays only when the whole graph stays in int8: quantizing just the convs leaves a
quantize/dequantize pair around every activation, pixel shuffle and add, and those cost about
what the int8 convs save. Measured variants: perf/results/export.md.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from tqdm import tqdm

from livefake.errors import ModelError
from livefake.runtime.contract import INPUT_NAME

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Int8Settings:
    """Which nodes to quantize and how; the defaults are the fastest measured on the 2-core CPU."""

    per_channel: bool = True
    op_types: tuple[str, ...] = ()  # () = every op type ORT can quantize (activations, shuffles, adds too)
    exclude_depthwise: bool = False  # True keeps grouped/depthwise convs in fp32
    exclude_boundary: bool = False  # True keeps the first conv (reads the crop) and output heads in fp32
    calibration_method: str = "Percentile"  # or "MinMax", "Entropy"
    reduce_range: bool = False
    batch: int = 8


def depthwise_conv_names(model: onnx.ModelProto) -> list[str]:
    """Names of Conv nodes with ``group`` > 1 (depthwise and grouped convolutions)."""
    names = []
    for node in model.graph.node:
        groups = [attribute.i for attribute in node.attribute if attribute.name == "group"]
        if node.op_type == "Conv" and groups and groups[0] > 1:
            names.append(node.name)
    return names


def boundary_conv_names(model: onnx.ModelProto) -> list[str]:
    """Convs that read a graph input, or whose output reaches a graph output through one activation."""
    inputs = {value.name for value in model.graph.input}
    outputs = {value.name for value in model.graph.output}
    feeds_output = {
        name for node in model.graph.node if set(node.output) & outputs and len(node.input) == 1 for name in node.input
    }
    return [
        node.name
        for node in model.graph.node
        if node.op_type == "Conv" and (node.input[0] in inputs or set(node.output) & (outputs | feeds_output))
    ]


def excluded_nodes(model: onnx.ModelProto, settings: Int8Settings) -> list[str]:
    """The nodes ``settings`` leaves in fp32."""
    names = depthwise_conv_names(model) if settings.exclude_depthwise else []
    names += boundary_conv_names(model) if settings.exclude_boundary else []
    return sorted(set(names))


def make_reader(crops: np.ndarray, batch: int) -> object:
    """A CalibrationDataReader over NCHW float32 crops, with a progress bar."""
    from onnxruntime.quantization import CalibrationDataReader

    class CropReader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            size = min(batch, len(crops))  # equal batches: the histogram calibrators need them
            chunks = [crops[start : start + size] for start in range(0, len(crops) - size + 1, size)]
            self.batches: Iterator[np.ndarray] = iter(tqdm(chunks, desc="calibrating", unit="batch", leave=False))

        def get_next(self) -> dict[str, np.ndarray] | None:
            chunk = next(self.batches, None)
            return None if chunk is None else {INPUT_NAME: np.ascontiguousarray(chunk)}

    return CropReader()


def quantize_int8(
    fp32_path: str | Path, out: str | Path, calibration: np.ndarray, settings: Int8Settings | None = None
) -> Path:
    """Write a static int8 QDQ model of ``fp32_path`` calibrated on ``calibration`` crops."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    settings = settings or Int8Settings()
    if len(calibration) == 0:
        raise ModelError("int8 quantization needs calibration crops; none were given")
    with tempfile.TemporaryDirectory(prefix="livefake-int8-") as work:
        prepared = Path(work) / "prepared.onnx"
        quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
        model = onnx.load(str(prepared))
        excluded = excluded_nodes(model, settings)
        log.debug("int8: leaving %d nodes in fp32", len(excluded))
        quantize_static(
            str(prepared), str(out), make_reader(calibration, settings.batch),
            quant_format=QuantFormat.QDQ, per_channel=settings.per_channel,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
            op_types_to_quantize=list(settings.op_types), nodes_to_exclude=excluded,
            reduce_range=settings.reduce_range,
            calibrate_method=getattr(CalibrationMethod, settings.calibration_method),
        )  # fmt: skip
    _keep_metadata(fp32_path, out)
    return Path(out)


def _keep_metadata(source: str | Path, target: str | Path) -> None:
    """Copy the contract metadata over (the quantizer keeps it only in some versions)."""
    from livefake.exporters.onnx_export import write_metadata

    metadata = {prop.key: prop.value for prop in onnx.load(str(source), load_external_data=False).metadata_props}
    model = onnx.load(str(target))
    write_metadata(model, metadata)
    onnx.save(model, str(target))
