"""Loading swap models: the livefake contract, refusals, and DeepFaceLab DFM models via the adapter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from livefake.errors import ModelError
from livefake.runtime import SessionOptions, load_swap_model
from livefake.runtime.contract import contract_metadata
from livefake.runtime.dfm import DfmSwapModel
from livefake.runtime.swap_model import ContractSwapModel

RESOLUTION = 32  # the size of the graphs built in conftest.py

CPU = SessionOptions(provider="cpu", threads=1, warm_up_runs=1)


def crops(count: int) -> np.ndarray:
    """Crops whose three channels differ: blue 40, green 120, red 200."""
    batch = np.zeros((count, RESOLUTION, RESOLUTION, 3), np.uint8)
    batch[..., 0], batch[..., 1], batch[..., 2] = 40, 120, 200
    return batch


def test_contract_model_swaps_bgr_crops_and_keeps_channel_order(contract_model: Path) -> None:
    model = load_swap_model(contract_model, CPU)
    assert isinstance(model, ContractSwapModel)
    assert (model.resolution, model.face_type) == (RESOLUTION, "whole")
    faces, masks = model.swap_crops(crops(3))
    assert faces.shape == (3, RESOLUTION, RESOLUTION, 3) and faces.dtype == np.uint8
    assert tuple(faces[0, 0, 0]) == (215, 135, 55)  # 255 - (40, 120, 200): inverted, still BGR
    assert masks.shape == (3, RESOLUTION, RESOLUTION) and masks.dtype == np.float32
    assert np.allclose(masks, 120 / 255, atol=1e-5)
    model.warm_up(batch=2)


def test_model_without_contract_metadata_is_refused(write_model, graphs) -> None:  # type: ignore[no-untyped-def]
    path = write_model(graphs.contract(), "plain.onnx")
    with pytest.raises(ModelError, match=r"plain\.onnx is not a livefake swap model: metadata livefake\.contract"):
        load_swap_model(path, CPU)


def test_model_with_wrong_input_shape_is_refused(write_model, graphs) -> None:  # type: ignore[no-untyped-def]
    metadata = contract_metadata(64, "whole", "test", "dst", 1)  # says 64 px, graph takes 32 px
    path = write_model(graphs.with_metadata(graphs.contract(), metadata), "wrong_shape.onnx")
    with pytest.raises(ModelError, match=r"wrong_shape\.onnx: input 'crop' has shape \[N, 3, 32, 32\]"):
        load_swap_model(path, CPU)


def test_truncated_contract_model_is_refused(contract_model: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(contract_model.read_bytes()[: contract_model.stat().st_size // 2])
    with pytest.raises(ModelError, match=r"cut\.onnx cannot be loaded"):
        load_swap_model(cut, CPU)


@pytest.mark.parametrize(("batch", "morph"), [("N", False), (1, False), ("N", True)])
def test_dfm_layout_loads_through_the_adapter(write_model, graphs, batch: int | str, morph: bool) -> None:  # type: ignore[no-untyped-def]
    path = write_model(graphs.dfm(batch=batch, morph=morph), "celeb.dfm")
    model = load_swap_model(path, CPU, dfm_face_type="whole")
    assert isinstance(model, DfmSwapModel)
    assert (model.resolution, model.face_type, model.contract.architecture) == (RESOLUTION, "whole", "dfm")
    faces, masks = model.swap_crops(crops(3))
    assert faces.shape == (3, RESOLUTION, RESOLUTION, 3)
    assert tuple(faces[2, 5, 5]) == (215, 135, 55)  # DFM works in BGR: no channel swap on either side
    assert masks.shape == (3, RESOLUTION, RESOLUTION) and np.allclose(masks, 40 / 255, atol=1e-5)


def test_dfm_model_missing_its_mask_output_is_refused(write_model, graphs) -> None:  # type: ignore[no-untyped-def]
    model = graphs.dfm()
    kept = [output for output in model.graph.output if output.name != "out_celeb_face_mask:0"]
    del model.graph.output[:]
    model.graph.output.extend(kept)
    path = write_model(model, "broken.dfm")
    with pytest.raises(ModelError, match=r"broken\.dfm: DFM model lacks output out_celeb_face_mask:0"):
        load_swap_model(path, CPU)


def test_model_below_opset_17_is_refused(write_model, graphs) -> None:  # type: ignore[no-untyped-def]
    model = graphs.with_metadata(graphs.contract(), contract_metadata(RESOLUTION, "whole", "test", "dst", 1))
    model.opset_import[0].version = 13
    path = write_model(model, "old.onnx")
    with pytest.raises(ModelError, match=r"old\.onnx: opset 13 is below the contract's 17"):
        load_swap_model(path, CPU)
