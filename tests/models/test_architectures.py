"""Architectures: shapes, ranges, identities, the swap graph, and the lite cost budget."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from livefake.errors import InputError
from livefake.models.catalog import ARCHITECTURES
from livefake.models.flops import count_macs
from livefake.models.registry import build_model, default_config

TINY = {"encoder_dims": 8, "inter_dims": 32, "decoder_dims": 8, "mask_dims": 4}


@pytest.mark.parametrize("arch", ["df", "liae", "lite"])
@pytest.mark.parametrize("resolution", [64, 128])
def test_both_identities_give_face_and_mask_in_range(arch: str, resolution: int) -> None:
    model = build_model(default_config(arch, resolution, **TINY)).eval()
    x = torch.rand(2, 3, resolution, resolution)
    with torch.no_grad():
        outputs = {identity: model(x, identity) for identity in ("src", "dst")}
    for face, mask in outputs.values():
        assert face.shape == (2, 3, resolution, resolution)
        assert mask.shape == (2, 1, resolution, resolution)
        assert 0.0 <= float(face.min()) and float(face.max()) <= 1.0
        assert 0.0 <= float(mask.min()) and float(mask.max()) <= 1.0
    assert not torch.allclose(outputs["src"][0], outputs["dst"][0])  # a drawing per identity


@pytest.mark.parametrize("arch", ["df", "liae", "lite"])
def test_swap_module_draws_the_asked_identity(arch: str) -> None:
    model = build_model(default_config(arch, 64, **TINY)).eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        face, mask = model.swap_module("dst")(x)
        expected_face, expected_mask = model(x, "dst")
    assert torch.equal(face, expected_face) and torch.equal(mask, expected_mask)


def test_registry_lists_the_architectures_and_refuses_bad_configs() -> None:
    assert {"df", "liae", "lite"} <= set(ARCHITECTURES)
    with pytest.raises(InputError, match="unknown architecture"):
        build_model(default_config("nope", 64))
    with pytest.raises(InputError, match="out of range"):
        build_model(default_config("df", 32))
    with pytest.raises(InputError, match="multiple of 32"):
        build_model(default_config("lite", 80))
    with pytest.raises(ValueError, match="identity"):
        build_model(default_config("lite", 64, **TINY))(torch.rand(1, 3, 64, 64), "other")


def test_df_reaches_320_pixels() -> None:
    model = build_model(default_config("df", 320, **TINY)).eval()
    with torch.no_grad():
        face, mask = model(torch.rand(1, 3, 320, 320), "src")
    assert face.shape[-1] == 320 and mask.shape[-1] == 320


def test_lite_default_costs_at_most_1_2_gflops_at_128() -> None:
    model = build_model(default_config("lite", 128)).eval()
    gflops = 2 * count_macs(model.swap_module("dst"), torch.rand(1, 3, 128, 128)) / 1e9
    assert gflops <= 1.2, f"lite-128 costs {gflops:.2f} GFLOPs"


@pytest.mark.parametrize("arch", ["df", "liae", "lite"])
def test_swap_graph_exports_to_onnx_and_matches_torch(arch: str, tmp_path: Path) -> None:
    import warnings

    import numpy as np
    import onnxruntime as ort

    model = build_model(default_config(arch, 64, **TINY)).eval()
    graph = model.swap_module("dst")
    x = torch.rand(1, 3, 64, 64)
    path = tmp_path / f"{arch}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(graph, (x,), str(path), input_names=["face"], output_names=["swapped", "mask"], dynamo=False)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    face, mask = session.run(None, {"face": x.numpy()})
    with torch.no_grad():
        expected_face, expected_mask = graph(x)
    assert np.abs(face - expected_face.numpy()).max() < 1e-4
    assert np.abs(mask - expected_mask.numpy()).max() < 1e-4


def test_every_catalogued_architecture_has_a_model_class_and_the_cli_offers_each() -> None:
    from livefake.cli import build_parser
    from livefake.models.registry import MODEL_CLASSES

    assert set(MODEL_CLASSES) == set(ARCHITECTURES)
    train = build_parser()._subparsers._group_actions[0].choices["train"]  # type: ignore[union-attr]
    arch = next(action for action in train._actions if action.dest == "arch")
    assert tuple(arch.choices) == tuple(ARCHITECTURES)
