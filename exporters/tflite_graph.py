"""The graph builder the TFLite -> ONNX converter writes with, and the helpers its operators share.

``GraphBuilder`` walks one TFLite subgraph: it knows each tensor's shape and constant data,
names ONNX values, and keeps 4-D activations in NCHW (adding a Transpose where an operator
needs the other layout). The operators themselves are in ``tflite_to_onnx``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
import tflite
from onnx import helper, numpy_helper

NHWC_TO_NCHW = (0, 3, 1, 2)
NCHW_TO_NHWC = (0, 2, 3, 1)
OPERATOR_NAMES = {value: name for name, value in vars(tflite.BuiltinOperator).items() if not name.startswith("_")}
NUMPY_TYPES = {
    tflite.TensorType.FLOAT32: np.float32,
    tflite.TensorType.FLOAT16: np.float16,
    tflite.TensorType.INT32: np.int32,
    tflite.TensorType.INT64: np.int64,
    tflite.TensorType.UINT8: np.uint8,
    tflite.TensorType.INT8: np.int8,
}


class ConversionError(Exception):
    """The TFLite model uses something this converter does not cover."""


@dataclass
class Value:
    """A tensor on the ONNX side: its name and whether it is held as NCHW (4-D activations)."""

    name: str
    nchw: bool


@dataclass
class GraphBuilder:
    """Collects ONNX nodes and initializers while walking the TFLite operators."""

    model: tflite.Model
    graph: tflite.SubGraph
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    initializers: list[onnx.TensorProto] = field(default_factory=list)
    values: dict[int, Value] = field(default_factory=dict)
    constants: dict[int, np.ndarray] = field(default_factory=dict)
    counter: int = 0
    dynamic_batch: bool = False

    def fresh(self, hint: str) -> str:
        self.counter += 1
        return f"{hint}__{self.counter}"

    def add_node(self, op: str, inputs: list[str], hint: str, **attributes: Any) -> str:
        output = self.fresh(hint)
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attributes))
        return output

    def add_constant(self, array: np.ndarray, hint: str) -> str:
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def tensor(self, index: int) -> tflite.Tensor:
        return self.graph.Tensors(index)

    def shape(self, index: int) -> list[int]:
        return [int(d) for d in self.tensor(index).ShapeAsNumpy()]

    def tensor_name(self, index: int) -> str:
        return self.tensor(index).Name().decode()

    def constant(self, index: int) -> np.ndarray | None:
        """The data of a constant tensor (folded DEQUANTIZE outputs included), else None."""
        if index in self.constants:
            return self.constants[index]
        tensor = self.tensor(index)
        data = self.model.Buffers(tensor.Buffer()).DataAsNumpy()
        if isinstance(data, int) or data.size == 0:
            return None
        dtype = NUMPY_TYPES.get(tensor.Type())
        if dtype is None:
            raise ConversionError(f"tensor {self.tensor_name(index)} has unsupported type {tensor.Type()}")
        return data.view(dtype).reshape(self.shape(index))

    def value(self, index: int, nchw: bool) -> str:
        """The ONNX name of activation ``index`` in the requested layout (adds a Transpose if needed)."""
        held = self.values[index]
        if held.nchw == nchw or len(self.shape(index)) != 4:
            return held.name
        perm = NHWC_TO_NCHW if nchw else NCHW_TO_NHWC
        return self.add_node("Transpose", [held.name], "transpose", perm=list(perm))

    def set_output(self, index: int, name: str, nchw: bool) -> None:
        self.values[index] = Value(name, nchw)


def read_options(operator: tflite.Operator, options_class: type) -> Any:
    table = operator.BuiltinOptions()
    options = options_class()
    options.Init(table.Bytes, table.Pos)
    return options


def same_pads(size: list[int], kernel: list[int], stride: list[int], dilation: list[int]) -> list[int]:
    """ONNX pads (begins then ends) reproducing TensorFlow's SAME padding for a static size."""
    begins, ends = [], []
    for n, k, s, d in zip(size, kernel, stride, dilation, strict=True):
        out = -(-n // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
        begins.append(total // 2)
        ends.append(total - total // 2)
    return begins + ends


def window_pads(
    builder: GraphBuilder, index: int, padding: int, kernel: list[int], stride: list[int], dilation: list[int]
) -> list[int]:
    if padding == tflite.Padding.VALID:
        return [0, 0, 0, 0]
    return same_pads(builder.shape(index)[1:3], kernel, stride, dilation)


def apply_activation(builder: GraphBuilder, name: str, activation: int) -> str:
    if activation == tflite.ActivationFunctionType.NONE:
        return name
    if activation == tflite.ActivationFunctionType.RELU:
        return builder.add_node("Relu", [name], "relu")
    if activation == tflite.ActivationFunctionType.RELU6:
        low = builder.add_constant(np.array(0.0, np.float32), "zero")
        high = builder.add_constant(np.array(6.0, np.float32), "six")
        return builder.add_node("Clip", [name, low, high], "relu6")
    raise ConversionError(f"fused activation {activation} is not supported")
