"""The export formats as a table, and the run that prepares the model once for all of them.

Every format starts from the same prepared model: the checkpoint's swap graph exported to
fp32 ONNX and checked against PyTorch. Each format then has one ``finish`` step that turns
that checked fp32 file into its own output (and checks it), written under the job's work
folder as ``final.onnx`` and moved over ``--out`` only when every check passed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from livefake.errors import DeviceError, InputError, ModelError
from livefake.exporters.catalog import EXPORT_FORMATS
from livefake.exporters.fidelity import measure_fidelity
from livefake.exporters.fp16 import check_fp16, convert_fp16
from livefake.exporters.job import ExportJob, ExportReport, ExportRequest
from livefake.exporters.onnx_export import (
    ExportSource,
    check_finite_weights,
    check_fp32,
    export_onnx,
    prepare_export,
)
from livefake.exporters.quantize import quantize_int8
from livefake.exporters.tensorrt import TENSORRT_MISSING, build_tensorrt, cache_dir, tensorrt_available
from livefake.exporters.triton import finish_triton
from livefake.runtime.contract import INPUT_NAME
from livefake.runtime.session import ModelSession, SessionOptions


@dataclass(frozen=True)
class ExportFormat:
    name: str
    description: str
    finish: Callable[[ExportJob, Path], None]  # checked fp32 model at job.fp32_path -> the given path
    preflight: Callable[[str | None], None]  # fail before any work


def no_preflight(calibration: str | None) -> None:
    """Nothing to check before the work starts."""


def needs_calibration(calibration: str | None) -> None:
    if calibration is None:
        raise InputError(
            "int8 export needs face crops: pass --calibration FACESET (the src faceset the model was trained on)"
        )


def needs_tensorrt(calibration: str | None) -> None:
    if not tensorrt_available():
        raise DeviceError(TENSORRT_MISSING)


def finish_onnx(job: ExportJob, final: Path) -> None:
    assert job.fp32_path is not None
    shutil.copyfile(job.fp32_path, final)


def finish_int8(job: ExportJob, final: Path) -> None:
    assert job.fp32_path is not None
    crops = job.crops()
    with job.step(f"quantize int8 ({len(crops.calibration)} calibration crops)"):
        quantize_int8(job.fp32_path, final, crops.calibration, job.request.int8)
    with job.step("check int8 vs fp32"):
        fidelity = measure_fidelity(job.fp32_path, final, crops.held_out)
    job.report.figures.update(
        {
            "int8 PSNR composite dB": fidelity.composite_psnr,
            "int8 PSNR face dB": fidelity.face_psnr,
            "int8 PSNR mask dB": fidelity.mask_psnr,
        }
    )
    with job.step("time int8 vs fp32"):
        ratio = latency_ratio(job.fp32_path, final, job.source.resolution)
    job.report.figures["int8/fp32 latency"] = ratio
    bar = job.request.int8_min_psnr
    if fidelity.psnr < bar:
        raise ModelError(
            f"int8 model not written to {job.request.out}: {fidelity.summary()}, below the {bar:.0f} dB bar; "
            f"latency {ratio:.2f}x fp32. Use --to onnx, or calibrate on more of the training faceset"
        )


def finish_fp16(job: ExportJob, final: Path) -> None:
    assert job.fp32_path is not None
    with job.step("convert fp16"):
        convert_fp16(job.fp32_path, final)
    with job.step("check fp16 vs fp32"):
        fidelity = measure_fidelity(job.fp32_path, final, job.check_crops(), provider="auto")
    job.report.figures.update({"fp16 PSNR face dB": fidelity.face_psnr, "fp16 PSNR mask dB": fidelity.mask_psnr})
    check_fp16(job.request.out, fidelity)


def finish_tensorrt(job: ExportJob, final: Path) -> None:
    """Build the engine beside a copy of the model in the work folder (same file name as
    ``--out``, which the engine cache is keyed on); both move over ``--out`` only if it built."""
    assert job.fp32_path is not None
    out = Path(job.request.out)
    staged = job.work / out.name
    with job.step("build TensorRT engine"):
        seconds = build_tensorrt(job.fp32_path, staged, job.source.resolution)
    job.report.figures["TensorRT build s"] = seconds
    shutil.copyfile(staged, final)
    job.companions.append((cache_dir(staged), cache_dir(out)))


FINISH_STEPS: dict[str, tuple[Callable[[ExportJob, Path], None], Callable[[str | None], None]]] = {
    "onnx": (finish_onnx, no_preflight),
    "int8": (finish_int8, needs_calibration),
    "fp16": (finish_fp16, no_preflight),
    "tensorrt": (finish_tensorrt, needs_tensorrt),
    "triton": (finish_triton, no_preflight),
}  # one per name in livefake.exporters.catalog.EXPORT_FORMATS
FORMATS: dict[str, ExportFormat] = {
    name: ExportFormat(name, description, *FINISH_STEPS[name]) for name, description in EXPORT_FORMATS.items()
}


def run_export(request: ExportRequest, source: ExportSource | None = None) -> ExportReport:
    """Export a checkpoint (or an already prepared ``source``) to ``request.format``, checked."""
    if request.format not in FORMATS:
        raise InputError(f"unknown export format {request.format!r}: choose one of {', '.join(FORMATS)}")
    export_format = FORMATS[request.format]
    out = Path(request.out)
    report = ExportReport(out=out, format=request.format)
    calibration = request.calibration
    if source is None:
        timer = time.perf_counter()
        source, trained_on = prepare_export(request.checkpoint, request.identity)
        report.timings["load checkpoint"] = time.perf_counter() - timer
        calibration = calibration or trained_on
    export_format.preflight(calibration)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".livefake-export-", dir=out.parent) as work:
        job = ExportJob(request, source, Path(work), report, calibration_faceset=calibration)
        _export_fp32(job)
        final = Path(work) / "final.onnx"
        export_format.finish(job, final)
        os.replace(final, out)
        for staged, destination in job.companions:
            shutil.rmtree(destination, ignore_errors=True)
            os.replace(staged, destination)
    return report


def _export_fp32(job: ExportJob) -> None:
    check_finite_weights(job.source, job.request.checkpoint)
    job.fp32_path = job.work / "fp32.onnx"
    with job.step("export fp32 ONNX"):
        export_onnx(job.source, job.fp32_path)
    with job.step("check fp32 vs PyTorch"):
        difference = check_fp32(job.source, job.fp32_path, job.check_crops())
    job.report.figures["fp32 max abs diff vs PyTorch"] = difference


def latency_ratio(reference: Path, test: Path, resolution: int, rounds: int = 7, runs: int = 10) -> float:
    """Median over interleaved rounds of (test time / reference time), batch 1, on the CPU."""
    feed = {INPUT_NAME: np.random.default_rng(1).random((1, 3, resolution, resolution), dtype=np.float32)}
    sessions = [ModelSession(path, SessionOptions(provider="cpu", warm_up_runs=3)) for path in (reference, test)]
    for session in sessions:
        session.warm_up(feed)
    ratios = []
    for _ in range(rounds):
        seconds = []
        for session in sessions:
            start = time.perf_counter()
            for _ in range(runs):
                session.run(feed)
            seconds.append(time.perf_counter() - start)
        ratios.append(seconds[1] / seconds[0])
    return float(np.median(ratios))
