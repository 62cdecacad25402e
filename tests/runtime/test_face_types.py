"""A model's face type must be one `livefake.face.align` knows; DFM files default to `whole`."""

from __future__ import annotations

import inspect
from pathlib import Path

import cv2
import numpy as np
import pytest

from livefake.errors import ModelError
from livefake.face.align import FACE_TYPES
from livefake.runtime import SessionOptions, load_swap_model
from livefake.runtime.contract import contract_metadata
from livefake.runtime.dfm import DfmSwapModel
from tests.commands.processes import run_cli

CPU = SessionOptions(provider="cpu", warm_up_runs=0)


def test_an_unknown_face_type_is_refused_at_load_naming_the_file(write_model, graphs) -> None:  # type: ignore[no-untyped-def]
    metadata = contract_metadata(graphs.resolution, "whole_face", "test", "dst", 1)
    path = write_model(graphs.with_metadata(graphs.contract(), metadata), "odd.onnx")
    with pytest.raises(ModelError, match=r"odd\.onnx: face type 'whole_face' is not one of"):
        load_swap_model(path, CPU)


def test_an_unknown_face_type_is_refused_by_the_cli(write_model, graphs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    metadata = contract_metadata(graphs.resolution, "wf", "test", "dst", 1)
    model = write_model(graphs.with_metadata(graphs.contract(), metadata), "odd.onnx")
    image = tmp_path / "in.png"
    cv2.imwrite(str(image), np.full((120, 160, 3), 90, np.uint8))
    result = run_cli(["convert", str(image), str(tmp_path / "out.png"), "--model", str(model)])
    assert result.returncode == 4 and len(result.lines) == 1, result.stderr
    assert "odd.onnx" in result.lines[0] and "face type 'wf'" in result.lines[0]
    assert not (tmp_path / "out.png").exists()


def test_dfm_models_default_to_a_real_face_type(write_model, graphs) -> None:  # type: ignore[no-untyped-def]
    default = inspect.signature(DfmSwapModel).parameters["face_type"].default
    assert default in FACE_TYPES
    model = load_swap_model(write_model(graphs.dfm(), "celeb.dfm"), CPU)
    assert model.face_type == "whole"
    with pytest.raises(ModelError, match="face type 'whole_face'"):
        load_swap_model(write_model(graphs.dfm(), "celeb2.dfm"), CPU, dfm_face_type="whole_face")
