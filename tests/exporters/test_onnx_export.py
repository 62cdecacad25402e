"""Export round trips: every registered architecture, the contract metadata, fp16, the CLI path."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from torch import nn

from livefake.errors import DeviceError, InputError, ModelError
from livefake.exporters.fidelity import Fidelity, measure_fidelity
from livefake.exporters.formats import FORMATS, run_export
from livefake.exporters.fp16 import check_fp16, convert_fp16
from livefake.exporters.job import ExportRequest
from livefake.exporters.onnx_export import (
    ExportSource,
    check_fp32,
    compare_with_torch,
    export_onnx,
    source_from_model,
)
from livefake.exporters.stand_in import stand_in_weights
from livefake.exporters.tensorrt import tensorrt_available
from livefake.models.catalog import ARCHITECTURES, architecture
from livefake.models.registry import build_model, default_config
from livefake.runtime import SessionOptions, load_swap_model

TINY = {"encoder_dims": 8, "inter_dims": 16, "decoder_dims": 8, "mask_dims": 8}
RESOLUTION = 64
architecture("lite")  # registers the built-in architectures




def tiny_source(arch: str, seed: int = 0) -> ExportSource:
    model = build_model(default_config(arch, RESOLUTION, **TINY))
    torch.manual_seed(seed)
    stand_in_weights(model, torch.rand(4, 3, RESOLUTION, RESOLUTION), seed=seed)
    return source_from_model(model.eval(), "dst", steps=42)


def crops(count: int = 6) -> np.ndarray:
    return np.random.default_rng(3).random((count, 3, RESOLUTION, RESOLUTION), dtype=np.float32)


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_every_architecture_round_trips_within_1e4(arch: str, tmp_path: Path) -> None:
    source = tiny_source(arch)
    path = export_onnx(source, tmp_path / f"{arch}.onnx")
    face, _mask = source.module(torch.from_numpy(crops()))
    assert float(face.detach().std()) > 0.05, "stand-in weights must give a face that varies"
    difference = check_fp32(source, path, crops())
    assert difference <= 1e-4
    model = load_swap_model(path, SessionOptions(provider="cpu", threads=1))
    assert (model.resolution, model.face_type, model.contract.architecture) == (RESOLUTION, "whole", arch)
    assert (model.contract.identity, model.contract.steps) == ("dst", 42)


def test_exported_file_keeps_the_contract(tmp_path: Path) -> None:
    path = export_onnx(tiny_source("lite"), tmp_path / "lite.onnx")
    model = onnx.load(str(path))
    assert max(opset.version for opset in model.opset_import if opset.domain in ("", "ai.onnx")) >= 17
    metadata = {prop.key: prop.value for prop in model.metadata_props}
    assert metadata["livefake.contract"] == "1" and metadata["color_order"] == "RGB"
    assert metadata["value_range"] == "0..1" and metadata["resolution"] == str(RESOLUTION)
    batch_axis = model.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch_axis.dim_param == "N"


def test_a_wrong_export_is_caught_by_the_fp32_check(tmp_path: Path) -> None:
    source = tiny_source("lite", seed=0)
    path = export_onnx(source, tmp_path / "lite.onnx")
    other = tiny_source("lite", seed=1)  # the same graph with other weights
    assert compare_with_torch(other, path, crops()) > 1e-2
    with pytest.raises(ModelError, match=r"ONNX differs from PyTorch by .* \(limit 1e-04\)"):
        check_fp32(other, path, crops())


def test_fp16_export_stays_close_to_fp32(tmp_path: Path) -> None:
    fp32 = export_onnx(tiny_source("lite"), tmp_path / "fp32.onnx")
    fp16 = convert_fp16(fp32, tmp_path / "fp16.onnx")
    fidelity = measure_fidelity(fp32, fp16, crops())
    check_fp16(fp16, fidelity)
    assert fidelity.psnr > 40
    model = load_swap_model(fp16, SessionOptions(provider="cpu"))  # float32 in and out, contract kept
    faces, masks = model.swap_crops(np.full((2, RESOLUTION, RESOLUTION, 3), 128, np.uint8))
    assert faces.dtype == np.uint8 and masks.dtype == np.float32


class Overflowing(nn.Module):
    """Fine in fp32, NaN in fp16: x * 1e5 overflows to inf and inf - inf is NaN."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        big = x * 1e5 + 1e5
        face = torch.sigmoid(x + (big - big * 1.0000001) * 1e-3)
        return face, face.mean(dim=1, keepdim=True)


@pytest.mark.parametrize(
    ("fidelity", "message"),
    [
        (Fidelity(-math.inf, -math.inf, -math.inf, math.nan, False, 0.0, 6), "NaN or inf"),
        (Fidelity(20.0, 60.0, 20.0, 0.5, True, 0.0, 6), "flat .* a black or grey face"),
        (Fidelity(18.0, 60.0, 19.0, 0.5, True, 0.8, 6), "garbled .*PSNR composite 19.0 dB \\(face 18.0 dB"),
    ],
)
def test_fp16_check_refuses_broken_output(fidelity: Fidelity, message: str) -> None:
    with pytest.raises(ModelError, match=rf"m16\.onnx: fp16 output .*{message}|m16\.onnx: fp16 .*{message}"):
        check_fp16("m16.onnx", fidelity)


@pytest.mark.gpu
def test_fp16_overflow_on_gpu_is_refused(tmp_path: Path) -> None:
    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        pytest.skip("no CUDA provider: ONNX Runtime's CPU provider runs fp16 nodes in fp32, hiding overflows")
    source = ExportSource(Overflowing(), RESOLUTION, "whole", "overflow", "dst", 0)
    fp32 = export_onnx(source, tmp_path / "fp32.onnx")
    fp16 = convert_fp16(fp32, tmp_path / "fp16.onnx")
    with pytest.raises(ModelError, match=r"fp16.onnx: fp16 output"):
        check_fp16(fp16, measure_fidelity(fp32, fp16, crops(), provider="cuda"))


def test_run_export_writes_only_checked_files(tmp_path: Path) -> None:
    out = tmp_path / "models" / "lite.onnx"
    report = run_export(ExportRequest(checkpoint="-", format="onnx", out=str(out)), source=tiny_source("lite"))
    assert out.is_file() and report.figures["fp32 max abs diff vs PyTorch"] <= 1e-4
    assert {"export fp32 ONNX", "check fp32 vs PyTorch"} <= set(report.timings)
    assert [path.name for path in out.parent.iterdir()] == ["lite.onnx"]  # no temporary left behind


def test_unknown_format_and_missing_calibration_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown export format 'tflite'"):
        run_export(ExportRequest(checkpoint="-", format="tflite", out=str(tmp_path / "m")))
    with pytest.raises(InputError, match="int8 export needs face crops: pass --calibration FACESET"):
        run_export(ExportRequest(checkpoint="-", format="int8", out=str(tmp_path / "m.onnx")), tiny_source("lite"))
    assert not (tmp_path / "m.onnx").exists()


def test_formats_table_finishes_every_catalogued_format_and_the_cli_offers_each() -> None:
    from livefake.cli import build_parser
    from livefake.exporters.catalog import EXPORT_FORMATS

    assert list(FORMATS) == list(EXPORT_FORMATS)
    export = build_parser()._subparsers._group_actions[0].choices["export"]  # type: ignore[union-attr]
    to = next(action for action in export._actions if action.dest == "format")
    assert tuple(to.choices) == tuple(EXPORT_FORMATS)


def test_tensorrt_without_tensorrt_says_so(tmp_path: Path) -> None:
    if tensorrt_available():
        pytest.skip("TensorRT is installed here")
    request = ExportRequest(checkpoint="-", format="tensorrt", out=str(tmp_path / "m.onnx"))
    with pytest.raises(DeviceError, match="TensorRT is not available"):
        run_export(request, tiny_source("lite"))


@pytest.mark.gpu
def test_tensorrt_engine_is_built_and_cached(tmp_path: Path) -> None:
    if not tensorrt_available():
        pytest.skip("TensorRT is not installed (needs an NVIDIA GPU, onnxruntime-gpu and TensorRT)")
    out = tmp_path / "lite.trt.onnx"
    run_export(ExportRequest(checkpoint="-", format="tensorrt", out=str(out)), tiny_source("lite"))
    assert any((tmp_path / "lite.trt.onnx.trt-cache").iterdir())
