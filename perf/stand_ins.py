"""Tiny contract swap models built with ``onnx.helper`` (no torch), for the perf scripts and tests.

Their outputs are easy to check by pixels: the face is ``1 - crop`` (``invert``) or
``0.5 * crop`` (``darken``); the mask is the crop's channel mean (``mean``) or 1 everywhere
(``ones``). They are stand-ins for the plumbing, not trained swaps.
"""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import TensorProto, helper

from livefake.runtime.contract import contract_metadata


def stand_in_graph(size: int, face: str = "invert", mask: str = "mean", channels: int = 3) -> onnx.ModelProto:
    """The model without metadata: crop (N, channels, size, size) -> face (same), mask (N, 1, size, size)."""
    if face == "invert":
        face_node = helper.make_node("Sub", ["one", "crop"], ["face"])
    elif face == "darken":
        face_node = helper.make_node("Mul", ["crop", "half"], ["face"])
    else:
        raise ValueError(f"face {face!r}: invert or darken")
    if mask == "mean":
        mask_nodes = [helper.make_node("ReduceMean", ["crop"], ["mask"], axes=[1], keepdims=1)]
    elif mask == "ones":
        mask_nodes = [
            helper.make_node("ReduceMean", ["crop"], ["mean"], axes=[1], keepdims=1),
            helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
            helper.make_node("Add", ["nothing", "one"], ["mask"]),
        ]
    else:
        raise ValueError(f"mask {mask!r}: mean or ones")
    image = ["N", channels, size, size]
    graph = helper.make_graph(
        [face_node, *mask_nodes],
        f"stand_in_{face}_{mask}",
        [helper.make_tensor_value_info("crop", TensorProto.FLOAT, image)],
        [
            helper.make_tensor_value_info("face", TensorProto.FLOAT, image),
            helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["N", 1, size, size]),
        ],
        initializer=[helper.make_tensor(name, TensorProto.FLOAT, [], [value])
                     for name, value in (("one", 1.0), ("half", 0.5), ("zero", 0.0))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def save_stand_in(
    path: Path, size: int, face_type: str = "whole", face: str = "invert", mask: str = "mean",
    architecture: str = "stand-in", identity: str = "dst", steps: int = 1,
) -> Path:
    """A stand-in with the model contract's metadata, saved at ``path``."""
    model = stand_in_graph(size, face, mask)
    for key, value in contract_metadata(size, face_type, architecture, identity, steps).items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(path))
    return path
