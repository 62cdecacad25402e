"""Exports that must not be written: non-finite weights or outputs, a TensorRT build that fails;
and exported files get the usual permissions (the umask), not a temporary file's 0600."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import torch
from torch import nn

from livefake.errors import ModelError
from livefake.exporters import formats
from livefake.exporters.formats import run_export
from livefake.exporters.job import ExportRequest
from livefake.exporters.onnx_export import ExportSource
from livefake.exporters.tensorrt import cache_dir
from tests.commands.checkpoints import write_checkpoint
from tests.commands.processes import run_cli

TINY = {"encoder_dims": 8, "inter_dims": 16, "decoder_dims": 8, "mask_dims": 8}


class NanForHalfTheInput(nn.Module):
    """Finite weights, NaN output: sqrt of a negative number for pixels below 0.5."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        face = torch.sqrt(x - 0.5) * self.scale
        return face, x[:, :1] * self.scale


def source_of(module: nn.Module) -> ExportSource:
    return ExportSource(module.eval(), 64, "whole", "lite", "dst", 1)


def test_a_nan_checkpoint_is_refused_through_the_cli(tmp_path: Path) -> None:
    run = tmp_path / "run"
    write_checkpoint(run, widths=TINY, nan=True)
    out = tmp_path / "swap.onnx"
    result = run_cli(["export", str(run), "--out", str(out)])
    assert result.returncode == 4, result.stderr
    errors = [line for line in result.lines if line.startswith("livefake: error:")]
    assert len(errors) == 1 and "NaN or infinit" in errors[0] and "weight" in errors[0], result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_non_finite_outputs_are_refused(tmp_path: Path) -> None:
    out = tmp_path / "swap.onnx"
    with pytest.raises(ModelError, match="NaN or infinite"):
        run_export(ExportRequest(checkpoint="-", format="onnx", out=str(out)), source_of(NanForHalfTheInput()))
    assert list(tmp_path.iterdir()) == []


def tiny_lite() -> ExportSource:
    from livefake.exporters.onnx_export import source_from_model
    from livefake.models.registry import build_model, default_config

    torch.manual_seed(0)
    return source_from_model(build_model(default_config("lite", 64, **TINY)).eval(), "dst", 1)


def test_tensorrt_writes_out_only_after_the_engine_built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[Path] = []

    def failing_build(fp32: Path, out: Path, resolution: int) -> float:
        Path(out).write_bytes(Path(fp32).read_bytes())
        built.append(Path(out))
        raise ModelError("engine build failed")

    monkeypatch.setattr(formats, "tensorrt_available", lambda: True)
    monkeypatch.setattr(formats, "build_tensorrt", failing_build)
    out = tmp_path / "swap.trt.onnx"
    with pytest.raises(ModelError, match="engine build failed"):
        run_export(ExportRequest(checkpoint="-", format="tensorrt", out=str(out)), tiny_lite())
    assert built and built[0].name == out.name and built[0].parent != tmp_path
    assert list(tmp_path.iterdir()) == []

    def good_build(fp32: Path, out: Path, resolution: int) -> float:
        Path(out).write_bytes(Path(fp32).read_bytes())
        cache_dir(out).mkdir()
        (cache_dir(out) / "engine.bin").write_bytes(b"engine")
        return 1.0

    monkeypatch.setattr(formats, "build_tensorrt", good_build)
    run_export(ExportRequest(checkpoint="-", format="tensorrt", out=str(out)), tiny_lite())
    assert out.is_file() and (cache_dir(out) / "engine.bin").read_bytes() == b"engine"
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name, cache_dir(out).name]


@pytest.mark.parametrize("to", ["onnx", "fp16"])
def test_exported_files_respect_the_umask(tmp_path: Path, to: str) -> None:
    out = tmp_path / "swap.onnx"
    previous = os.umask(0o027)
    try:
        run_export(ExportRequest(checkpoint="-", format=to, out=str(out)), tiny_lite())
    finally:
        os.umask(previous)
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
