"""Convert the mediapipe face TFLite models to ONNX, with no TensorFlow.

The flatbuffer is read with the ``tflite`` package and the graph is written with ``onnx``.
Only the operators the face detector, face landmark and iris models use are covered:
fp16-weight DEQUANTIZE (folded into fp32 constants), CONV_2D, DEPTHWISE_CONV_2D, PRELU,
ADD, RELU, MAX_POOL_2D, PAD, RESHAPE and CONCATENATION.

TFLite tensors are NHWC; the ONNX graph keeps the TFLite input and output shapes so both
runtimes take the same arrays, and works in NCHW inside (one Transpose after the input and
one before each RESHAPE). PReLU is written as ``Relu(x) + (-alpha) * Relu(-x)``, which ONNX
Runtime runs about twice as fast as its PRelu kernel on CPU.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import tflite
from onnx import TensorProto, helper, numpy_helper
from tqdm import tqdm

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


def convert_dequantize(builder: GraphBuilder, op: tflite.Operator) -> None:
    source = builder.constant(int(op.Inputs(0)))
    if source is None:
        raise ConversionError("DEQUANTIZE of a non-constant tensor is not supported")
    builder.constants[int(op.Outputs(0))] = source.astype(np.float32)


def convert_conv(builder: GraphBuilder, op: tflite.Operator, depthwise: bool) -> None:
    x, w, b = (int(i) for i in op.InputsAsNumpy()[:3])
    weights, bias = builder.constant(w), builder.constant(b)
    if weights is None:
        raise ConversionError("convolution weights must be constant")
    options_class = tflite.DepthwiseConv2DOptions if depthwise else tflite.Conv2DOptions
    options = read_options(op, options_class)
    stride = [options.StrideH(), options.StrideW()]
    dilation = [options.DilationHFactor(), options.DilationWFactor()]
    kernel = list(weights.shape[1:3])
    if depthwise:
        kernel_onnx = weights.transpose(3, 0, 1, 2)  # [1, KH, KW, C*M] -> [C*M, 1, KH, KW]
        group = builder.shape(x)[3]
    else:
        kernel_onnx = weights.transpose(0, 3, 1, 2)  # [O, KH, KW, I] -> [O, I, KH, KW]
        group = 1
    inputs = [builder.value(x, nchw=True), builder.add_constant(kernel_onnx.astype(np.float32), "weight")]
    if bias is not None:
        inputs.append(builder.add_constant(bias.astype(np.float32), "bias"))
    pads = window_pads(builder, x, options.Padding(), kernel, stride, dilation)
    name = builder.add_node(
        "Conv",
        inputs,
        "conv",
        kernel_shape=kernel,
        strides=stride,
        dilations=dilation,
        pads=pads,
        group=group,
    )
    builder.set_output(int(op.Outputs(0)), apply_activation(builder, name, options.FusedActivationFunction()), True)


def convert_prelu(builder: GraphBuilder, op: tflite.Operator) -> None:
    x, a = (int(i) for i in op.InputsAsNumpy()[:2])
    alpha = builder.constant(a)
    if alpha is None:
        raise ConversionError("PRELU alpha must be constant")
    channels = alpha.reshape(-1).shape[0]
    nchw = len(builder.shape(x)) == 4
    per_channel_shape = (channels, 1, 1) if nchw and channels > 1 else (channels,)
    negative_alpha = (-alpha.astype(np.float32)).reshape(per_channel_shape)
    source = builder.value(x, nchw=True)
    positive = builder.add_node("Relu", [source], "prelu_pos")
    negated = builder.add_node("Neg", [source], "prelu_neg")
    negative = builder.add_node("Relu", [negated], "prelu_negrelu")
    scaled = builder.add_node("Mul", [negative, builder.add_constant(negative_alpha, "alpha")], "prelu_scale")
    builder.set_output(int(op.Outputs(0)), builder.add_node("Add", [positive, scaled], "prelu"), nchw)


def convert_add(builder: GraphBuilder, op: tflite.Operator) -> None:
    a, b = (int(i) for i in op.InputsAsNumpy()[:2])
    if builder.constant(a) is not None or builder.constant(b) is not None:
        raise ConversionError("ADD with a constant operand is not supported")
    both_nchw = builder.values[a].nchw or builder.values[b].nchw
    name = builder.add_node("Add", [builder.value(a, both_nchw), builder.value(b, both_nchw)], "add")
    activation = read_options(op, tflite.AddOptions).FusedActivationFunction()
    builder.set_output(int(op.Outputs(0)), apply_activation(builder, name, activation), both_nchw)


def convert_relu(builder: GraphBuilder, op: tflite.Operator) -> None:
    x = int(op.Inputs(0))
    nchw = builder.values[x].nchw
    builder.set_output(int(op.Outputs(0)), builder.add_node("Relu", [builder.value(x, nchw)], "relu"), nchw)


def convert_max_pool(builder: GraphBuilder, op: tflite.Operator) -> None:
    x = int(op.Inputs(0))
    options = read_options(op, tflite.Pool2DOptions)
    kernel = [options.FilterHeight(), options.FilterWidth()]
    stride = [options.StrideH(), options.StrideW()]
    pads = window_pads(builder, x, options.Padding(), kernel, stride, [1, 1])
    name = builder.add_node(
        "MaxPool", [builder.value(x, nchw=True)], "maxpool", kernel_shape=kernel, strides=stride, pads=pads
    )
    builder.set_output(int(op.Outputs(0)), apply_activation(builder, name, options.FusedActivationFunction()), True)


def convert_pad(builder: GraphBuilder, op: tflite.Operator) -> None:
    x, p = (int(i) for i in op.InputsAsNumpy()[:2])
    paddings = builder.constant(p)
    if paddings is None:
        raise ConversionError("PAD amounts must be constant")
    paddings = paddings.astype(np.int64)
    nchw = len(builder.shape(x)) == 4
    if nchw:
        paddings = paddings[list(NHWC_TO_NCHW)]
    pads = np.concatenate([paddings[:, 0], paddings[:, 1]])
    inputs = [builder.value(x, nchw), builder.add_constant(pads, "pads")]
    builder.set_output(int(op.Outputs(0)), builder.add_node("Pad", inputs, "pad", mode="constant"), nchw)


def convert_reshape(builder: GraphBuilder, op: tflite.Operator) -> None:
    x, out = int(op.Inputs(0)), int(op.Outputs(0))
    shape = np.array(builder.shape(out), dtype=np.int64)
    if builder.dynamic_batch and shape[0] == 1:
        shape[0] = -1
    inputs = [builder.value(x, nchw=False), builder.add_constant(shape, "shape")]
    builder.set_output(out, builder.add_node("Reshape", inputs, "reshape"), False)


def convert_concatenation(builder: GraphBuilder, op: tflite.Operator) -> None:
    indices = [int(i) for i in op.InputsAsNumpy()]
    options = read_options(op, tflite.ConcatenationOptions)
    rank = len(builder.shape(indices[0]))
    axis = options.Axis() % rank
    nchw = rank == 4 and all(builder.values[i].nchw for i in indices)
    if nchw:
        axis = NHWC_TO_NCHW.index(axis)
    name = builder.add_node("Concat", [builder.value(i, nchw) for i in indices], "concat", axis=axis)
    activation = options.FusedActivationFunction()
    builder.set_output(int(op.Outputs(0)), apply_activation(builder, name, activation), nchw)


CONVERTERS: dict[str, Callable[[GraphBuilder, tflite.Operator], None]] = {
    "DEQUANTIZE": convert_dequantize,
    "CONV_2D": lambda b, op: convert_conv(b, op, depthwise=False),
    "DEPTHWISE_CONV_2D": lambda b, op: convert_conv(b, op, depthwise=True),
    "PRELU": convert_prelu,
    "ADD": convert_add,
    "RELU": convert_relu,
    "MAX_POOL_2D": convert_max_pool,
    "PAD": convert_pad,
    "RESHAPE": convert_reshape,
    "CONCATENATION": convert_concatenation,
}


def operator_name(model: tflite.Model, operator: tflite.Operator) -> str:
    code = model.OperatorCodes(operator.OpcodeIndex())
    builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
    if builtin == tflite.BuiltinOperator.CUSTOM:
        return f"CUSTOM:{code.CustomCode().decode()}"
    return OPERATOR_NAMES.get(builtin, str(builtin))


def value_info(builder: GraphBuilder, index: int) -> onnx.ValueInfoProto:
    shape: list[int | str] = list(builder.shape(index))
    if builder.dynamic_batch and shape and shape[0] == 1:
        shape[0] = "batch"
    return helper.make_tensor_value_info(builder.tensor_name(index), TensorProto.FLOAT, shape)


def convert_model(
    data: bytes, name: str = "model", progress: bool = True, dynamic_batch: bool = True
) -> onnx.ModelProto:
    """Convert TFLite flatbuffer bytes to an ONNX model with the same input and output shapes.

    With ``dynamic_batch`` the leading dimension (1 in TFLite) becomes a free ``batch``
    dimension, so several crops run in one call.
    """
    model = tflite.Model.GetRootAsModel(data, 0)
    if model.SubgraphsLength() != 1:
        raise ConversionError(f"{name}: expected one subgraph, found {model.SubgraphsLength()}")
    builder = GraphBuilder(model, model.Subgraphs(0), dynamic_batch=dynamic_batch)
    graph_inputs = [int(i) for i in builder.graph.InputsAsNumpy()]
    graph_outputs = [int(i) for i in builder.graph.OutputsAsNumpy()]
    for index in graph_inputs:
        builder.set_output(index, builder.tensor_name(index), False)  # TFLite inputs are NHWC
    operators = range(builder.graph.OperatorsLength())
    for position in tqdm(operators, desc=f"converting {name}", unit="op", disable=not progress, leave=False):
        operator = builder.graph.Operators(position)
        kind = operator_name(model, operator)
        if kind not in CONVERTERS:
            raise ConversionError(f"{name}: operator {kind} is not supported by exporters/tflite_to_onnx.py")
        CONVERTERS[kind](builder, operator)
    for index in graph_outputs:
        final = builder.value(index, nchw=False)
        builder.nodes.append(helper.make_node("Identity", [final], [builder.tensor_name(index)]))
    graph = helper.make_graph(
        builder.nodes,
        name,
        [value_info(builder, i) for i in graph_inputs],
        [value_info(builder, i) for i in graph_outputs],
        builder.initializers,
    )
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="livefake")
    onnx_model.ir_version = 8
    onnx.checker.check_model(onnx_model)
    return onnx_model


def output_shapes(data: bytes) -> list[tuple[int, ...]]:
    """The output shapes the TFLite model declares, in order."""
    graph = tflite.Model.GetRootAsModel(data, 0).Subgraphs(0)
    return [tuple(int(d) for d in graph.Tensors(int(i)).ShapeAsNumpy()) for i in graph.OutputsAsNumpy()]


def convert_file(source: str | Path, destination: str | Path, progress: bool = True) -> Path:
    source, destination = Path(source), Path(destination)
    onnx_model = convert_model(source.read_bytes(), source.stem, progress)
    onnx.save(onnx_model, str(destination))
    return destination


def main() -> None:
    parser = argparse.ArgumentParser(description="Convert a mediapipe face TFLite model to ONNX.")
    parser.add_argument("source", type=Path)
    parser.add_argument("destination", type=Path)
    args = parser.parse_args()
    print(convert_file(args.source, args.destination))


if __name__ == "__main__":
    main()
