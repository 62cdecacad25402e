"""The swap-model contract, checked on plain data (no model file needed)."""

from __future__ import annotations

import pytest

from livefake.errors import ModelError
from livefake.runtime.contract import REQUIRED_KEYS, TensorSpec, contract_metadata, read_contract

FLOAT = "tensor(float)"
GOOD_INPUTS = [TensorSpec("crop", ("N", 3, 64, 64), FLOAT)]
GOOD_OUTPUTS = [TensorSpec("face", ("N", 3, 64, 64), FLOAT), TensorSpec("mask", ("N", 1, 64, 64), FLOAT)]


def metadata(**changes: str) -> dict[str, str]:
    return {**contract_metadata(64, "whole", "lite", "dst", 5000), **changes}


def test_a_model_that_keeps_the_contract_is_read_back() -> None:
    contract = read_contract("m.onnx", metadata(), GOOD_INPUTS, GOOD_OUTPUTS)
    assert (contract.resolution, contract.face_type, contract.architecture) == (64, "whole", "lite")
    assert (contract.identity, contract.steps) == ("dst", 5000)


def test_metadata_names_every_required_key() -> None:
    assert set(contract_metadata(64, "whole", "lite", "dst", 1)) == set(REQUIRED_KEYS)


@pytest.mark.parametrize("key", REQUIRED_KEYS)
def test_missing_metadata_is_refused_naming_file_and_key(key: str) -> None:
    partial = {name: value for name, value in metadata().items() if name != key}
    with pytest.raises(ModelError, match=rf"m\.onnx is not a livefake swap model: metadata {key} missing"):
        read_contract("m.onnx", partial, GOOD_INPUTS, GOOD_OUTPUTS)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("livefake.contract", "2", "reads only '1'"),
        ("color_order", "BGR", "color_order = 'BGR'"),
        ("value_range", "-1..1", "value_range"),
        ("resolution", "big", "resolution = 'big' is not an integer"),
        ("steps", "-3", "steps = -3 is negative"),
    ],
)
def test_bad_metadata_values_are_refused(key: str, value: str, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        read_contract("m.onnx", metadata(**{key: value}), GOOD_INPUTS, GOOD_OUTPUTS)


@pytest.mark.parametrize(
    "shape",
    [("N", 3, 128, 128), ("N", 64, 64, 3), (1, 3, 64), ("N", 4, 64, 64)],
)
def test_wrong_input_shape_is_refused(shape: tuple[int | str, ...]) -> None:
    inputs = [TensorSpec("crop", shape, FLOAT)]
    with pytest.raises(ModelError, match=r"m\.onnx: input 'crop' has shape .* needs \[N, 3, 64, 64\]"):
        read_contract("m.onnx", metadata(), inputs, GOOD_OUTPUTS)


def test_wrong_input_name_or_count_is_refused() -> None:
    with pytest.raises(ModelError, match="expected one input named 'crop', found image"):
        read_contract("m.onnx", metadata(), [TensorSpec("image", ("N", 3, 64, 64), FLOAT)], GOOD_OUTPUTS)


def test_missing_mask_output_is_refused() -> None:
    with pytest.raises(ModelError, match="expected an output named 'mask', found face"):
        read_contract("m.onnx", metadata(), GOOD_INPUTS, GOOD_OUTPUTS[:1])


def test_integer_input_type_is_refused() -> None:
    inputs = [TensorSpec("crop", ("N", 3, 64, 64), "tensor(uint8)")]
    with pytest.raises(ModelError, match="type tensor\\(uint8\\), expected float32 or float16"):
        read_contract("m.onnx", metadata(), inputs, GOOD_OUTPUTS)
