"""The TFLite -> ONNX converter on the real face models kept by `livefake setup`."""

from __future__ import annotations

import importlib.util

import numpy as np
import onnx
import pytest

from livefake.exporters.tflite_to_onnx import convert_model, output_shapes, same_pads
from livefake.face.assets import source_models
from livefake.runtime.session import create_session

REFERENCES = ("ai_edge_litert", "tflite_runtime")
MODEL_KEYS = ["detector", "landmarks", "iris", "palm", "hand", "person"]


def tflite_interpreter(path: str):  # type: ignore[no-untyped-def]
    """A TFLite reference interpreter, or a skip when none is installed."""
    for module in REFERENCES:
        if importlib.util.find_spec(module) is not None:
            interpreter_module = importlib.import_module(f"{module}.interpreter")
            interpreter = interpreter_module.Interpreter(model_path=path)
            interpreter.allocate_tensors()
            return interpreter
    pytest.skip(f"no TFLite reference runtime installed ({' or '.join(REFERENCES)})")


def source_bytes(face_models, key: str) -> bytes:  # type: ignore[no-untyped-def]
    path = source_models(face_models.directory)[key]
    if not path.is_file():
        pytest.skip(f"{path} missing: run `livefake setup` again")
    return path.read_bytes()


def test_same_padding_matches_tensorflow() -> None:
    assert same_pads([128, 128], [5, 5], [1, 1], [1, 1]) == [2, 2, 2, 2]
    assert same_pads([128, 128], [3, 3], [2, 2], [1, 1]) == [0, 0, 1, 1]  # TF pads the end
    assert same_pads([7, 7], [2, 2], [2, 2], [1, 1]) == [0, 0, 1, 1]


@pytest.mark.parametrize("key", MODEL_KEYS)
def test_conversion_is_valid_onnx_without_prelu(face_models, key: str) -> None:  # type: ignore[no-untyped-def]
    data = source_bytes(face_models, key)
    model = convert_model(data, key, progress=False)
    onnx.checker.check_model(model, full_check=True)
    kinds = {node.op_type for node in model.graph.node}
    assert "PRelu" not in kinds
    session = create_session(model.SerializeToString(), threads=1)
    shape = session.get_inputs()[0].shape
    one = np.random.default_rng(0).uniform(0, 1, [1, *shape[1:]]).astype(np.float32)
    outputs = session.run(None, {session.get_inputs()[0].name: one})
    assert [o.shape for o in outputs] == output_shapes(data)


@pytest.mark.parametrize("key", MODEL_KEYS)
def test_batch_of_two_equals_two_single_runs(face_models, key: str) -> None:  # type: ignore[no-untyped-def]
    session = create_session(getattr(face_models, key), threads=1)
    name, shape = session.get_inputs()[0].name, session.get_inputs()[0].shape
    pair = np.random.default_rng(1).uniform(0, 1, [2, *shape[1:]]).astype(np.float32)
    together = session.run(None, {name: pair})
    for index in range(2):
        alone = session.run(None, {name: pair[index : index + 1]})
        for joint, single in zip(together, alone, strict=True):
            assert np.allclose(joint[index], single[0], atol=1e-4)


@pytest.mark.parametrize("key", MODEL_KEYS)
def test_onnx_matches_tflite_reference(face_models, key: str) -> None:  # type: ignore[no-untyped-def]
    path = source_models(face_models.directory)[key]
    source_bytes(face_models, key)
    interpreter = tflite_interpreter(str(path))
    detail = interpreter.get_input_details()[0]
    sample = np.random.default_rng(2).uniform(0, 1, detail["shape"]).astype(np.float32)
    interpreter.set_tensor(detail["index"], sample)
    interpreter.invoke()
    session = create_session(getattr(face_models, key), threads=1)
    produced = session.run(None, {session.get_inputs()[0].name: sample})
    for output, mine in zip(interpreter.get_output_details(), produced, strict=True):
        reference = interpreter.get_tensor(output["index"])
        assert np.abs(reference - mine).max() <= 1e-3, output["name"]
