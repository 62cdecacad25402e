"""Static int8 QDQ: calibrated on faceset crops, judged on held-out crops, refused below the bar."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from livefake.errors import InputError, ModelError
from livefake.exporters.calibration import faceset_crops, split_crops
from livefake.exporters.formats import run_export
from livefake.exporters.job import ExportRequest
from livefake.exporters.onnx_export import ExportSource, export_onnx, source_from_model
from livefake.exporters.quantize import Int8Settings, boundary_conv_names, depthwise_conv_names
from livefake.exporters.stand_in import stand_in_weights
from livefake.models.registry import build_model, default_config
from livefake.models.synthetic_faceset import write_synthetic_faceset
from livefake.runtime import SessionOptions, load_swap_model

RESOLUTION = 64




@pytest.fixture(scope="module")
def faceset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("faceset") / "hopper"
    write_synthetic_faceset("hopper", folder, count=24, resolution=RESOLUTION, face_type="whole")
    return folder


@pytest.fixture(scope="module")
def source(faceset: Path) -> ExportSource:
    model = build_model(default_config("lite", RESOLUTION, encoder_dims=8, inter_dims=32, decoder_dims=8))
    crops = torch.from_numpy(faceset_crops(faceset, RESOLUTION, "whole")[:8])
    with torch.no_grad():
        stand_in_weights(model, crops, head_spread=4.0)  # a trained model's outputs sit near 0 or 1
    return source_from_model(model.eval(), "dst", steps=7)


def test_int8_export_is_written_with_its_figures(source: ExportSource, faceset: Path, tmp_path: Path) -> None:
    out = tmp_path / "lite.int8.onnx"
    request = ExportRequest(checkpoint="-", format="int8", out=str(out), calibration=str(faceset), int8_min_psnr=25)
    report = run_export(request, source)
    assert report.figures["int8 PSNR face dB"] >= 25 and report.figures["int8 PSNR mask dB"] >= 25
    assert report.figures["int8/fp32 latency"] > 0
    model = onnx.load(str(out))
    assert any(node.op_type == "QuantizeLinear" for node in model.graph.node)
    swap = load_swap_model(out, SessionOptions(provider="cpu"))  # the contract survives quantization
    assert (swap.resolution, swap.contract.steps) == (RESOLUTION, 7)


def test_depthwise_and_boundary_convs_stay_fp32(source: ExportSource, faceset: Path, tmp_path: Path) -> None:
    fp32 = export_onnx(source, tmp_path / "fp32.onnx")
    kept = set(depthwise_conv_names(onnx.load(str(fp32)))) | set(boundary_conv_names(onnx.load(str(fp32))))
    assert any("depthwise" in name for name in kept) and any(name.endswith("face/Conv") for name in kept)
    from livefake.exporters.quantize import quantize_int8

    crops = split_crops(faceset_crops(faceset, RESOLUTION, "whole"))
    settings = Int8Settings(exclude_depthwise=True, exclude_boundary=True)
    out = quantize_int8(fp32, tmp_path / "int8.onnx", crops.calibration, settings)
    graph = onnx.load(str(out)).graph
    producers = {output: node for node in graph.node for output in node.output}
    for node in graph.node:
        weight = producers.get(node.input[1]) if node.op_type == "Conv" else None
        if node.name in kept:
            assert weight is None or weight.op_type != "DequantizeLinear", node.name
        elif node.op_type == "Conv":
            assert weight is not None and weight.op_type == "DequantizeLinear", node.name


def test_int8_below_the_bar_is_refused_with_figures(source: ExportSource, faceset: Path, tmp_path: Path) -> None:
    out = tmp_path / "lite.int8.onnx"
    request = ExportRequest(checkpoint="-", format="int8", out=str(out), calibration=str(faceset), int8_min_psnr=99)
    with pytest.raises(
        ModelError,
        match=r"int8 model not written .* PSNR composite [\d.]+ dB \(face [\d.]+ dB, mask [\d.]+ dB\).*99 dB bar",
    ):
        run_export(request, source)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_calibration_faceset_of_another_face_type_is_refused(source: ExportSource, faceset: Path) -> None:
    with pytest.raises(InputError, match=r"aligned as 'whole' but the model wants 'full'"):
        faceset_crops(faceset, RESOLUTION, "full")


def test_held_out_crops_are_not_calibration_crops() -> None:
    crops = np.arange(10, dtype=np.float32).reshape(10, 1, 1, 1)
    split = split_crops(crops)
    assert split.held_out.ravel().tolist() == [3.0, 7.0]
    assert not set(split.held_out.ravel()) & set(split.calibration.ravel())


def test_cli_exports_a_run_folder_calibrating_on_its_src_faceset(
    source: ExportSource, faceset: Path, tmp_path: Path
) -> None:
    from livefake.cli import main
    from livefake.models.checkpoint import TrainState, save_checkpoint

    model = source.module.model  # type: ignore[attr-defined]
    optimizer = torch.optim.AdamW(model.parameters())
    state = TrainState(step=7, identities={"src": str(faceset), "dst": str(faceset)})
    save_checkpoint(tmp_path / "run", model, optimizer, state)
    out = tmp_path / "lite.int8.onnx"
    assert main(["export", str(tmp_path / "run"), "--to", "int8", "--out", str(out), "--min-psnr", "20"]) == 0
    swap = load_swap_model(out, SessionOptions(provider="cpu"))
    assert (swap.contract.architecture, swap.contract.steps, swap.contract.identity) == ("lite", 7, "dst")
    assert main(["export", str(tmp_path / "missing-run"), "--out", str(tmp_path / "x.onnx")]) == 4
