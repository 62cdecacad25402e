"""Tiny ONNX models built in the tests: a contract model and DFM-layout models (onnx.helper, no torch)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import onnx
import pytest
from onnx import TensorProto, helper

from livefake.runtime.contract import contract_metadata
from perf.stand_ins import stand_in_graph

RESOLUTION = 32


def contract_graph(resolution: int = RESOLUTION, channels: int = 3) -> onnx.ModelProto:
    """face = 1 - x (an inverted image), mask = mean over channels: easy to check by pixels."""
    return stand_in_graph(resolution, channels=channels)


def with_metadata(model: onnx.ModelProto, metadata: dict[str, str]) -> onnx.ModelProto:
    for key, value in metadata.items():
        model.metadata_props.add(key=key, value=value)
    return model


def dfm_graph(resolution: int = RESOLUTION, batch: int | str = "N", morph: bool = False) -> onnx.ModelProto:
    """DeepFaceLab layout: in_face:0 NHWC BGR -> out_celeb_face:0 = 1 - x, masks = channel 0 (blue)."""
    one = helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])
    starts = helper.make_tensor("starts", TensorProto.INT64, [1], [0])
    ends = helper.make_tensor("ends", TensorProto.INT64, [1], [1])
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [3])
    nodes = [
        helper.make_node("Sub", ["one", "in_face:0"], ["out_celeb_face:0"]),
        helper.make_node("Slice", ["in_face:0", "starts", "ends", "axes"], ["out_celeb_face_mask:0"]),
        helper.make_node("Identity", ["out_celeb_face_mask:0"], ["out_face_mask:0"]),
    ]
    inputs = [helper.make_tensor_value_info("in_face:0", TensorProto.FLOAT, [batch, resolution, resolution, 3])]
    if morph:
        inputs.append(helper.make_tensor_value_info("morph_value:0", TensorProto.FLOAT, [1]))
    outputs = [
        helper.make_tensor_value_info("out_face_mask:0", TensorProto.FLOAT, [batch, resolution, resolution, 1]),
        helper.make_tensor_value_info("out_celeb_face:0", TensorProto.FLOAT, [batch, resolution, resolution, 3]),
        helper.make_tensor_value_info("out_celeb_face_mask:0", TensorProto.FLOAT, [batch, resolution, resolution, 1]),
    ]
    graph = helper.make_graph(nodes, "dfm_test", inputs, outputs, initializer=[one, starts, ends, axes])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


ModelWriter = Callable[..., Path]


@pytest.fixture
def write_model(tmp_path: Path) -> ModelWriter:
    """Save an ONNX model under tmp_path and return the path."""

    def write(model: onnx.ModelProto, name: str = "model.onnx") -> Path:
        path = tmp_path / name
        onnx.save(model, str(path))
        return path

    return write


@pytest.fixture
def contract_model(write_model: ModelWriter) -> Path:
    metadata = contract_metadata(RESOLUTION, "whole", "test", "dst", 123)
    return write_model(with_metadata(contract_graph(), metadata), "contract.onnx")


@pytest.fixture
def graphs() -> SimpleNamespace:
    """The graph builders above, for tests (conftest modules are not importable by name)."""
    return SimpleNamespace(contract=contract_graph, dfm=dfm_graph, with_metadata=with_metadata, resolution=RESOLUTION)
