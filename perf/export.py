"""Export figures: lite-128 int8 vs fp32 (latency, PSNR), and the model swap stage alone at 640x480.

Run as ``python perf/export.py`` (``--quick`` for fewer rounds, ``--checkpoint RUN`` to measure
a trained model instead of the stand-in). Writes ``perf/results/export.json``.

Targets (issue 6): int8 latency <= 0.8x fp32 and PSNR >= 35 dB against fp32 on held-out crops.
Latency ratios come from interleaved rounds (fp32, variant, fp32, variant, ...) so that load
from other processes hits both alike; the median ratio is reported.

Without ``--checkpoint`` the model is ``lite``-128 at its default widths with stand-in weights
(``livefake.exporters.stand_in``: random, scaled layer by layer so nothing vanishes or
saturates). Latency does not depend on the weights; PSNR does, so the PSNR figures are a proxy
until measured on a trained checkpoint. Calibration and held-out crops come from a generated
faceset (the Hopper clip of ``livefake.sources.synthetic``): no expressions or 3-D turns.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np
import onnxruntime
import torch

from livefake.config import SwapConfig
from livefake.exporters.calibration import CropSplit, faceset_crops, split_crops
from livefake.exporters.fidelity import measure_fidelity
from livefake.exporters.onnx_export import ExportSource, check_fp32, export_onnx, prepare_export, source_from_model
from livefake.exporters.quantize import Int8Settings, quantize_int8
from livefake.exporters.stand_in import stand_in_weights
from livefake.face.align import face_box
from livefake.models.registry import build_model, default_config
from livefake.models.synthetic_faceset import portrait_landmarks, write_synthetic_faceset
from livefake.pipeline.frame import Face, Frame
from livefake.runtime.contract import INPUT_NAME
from livefake.runtime.session import ModelSession, SessionOptions
from livefake.sources.synthetic import ClipSpec, render_frames
from livefake.swap.model import ModelSwapStage

RESULTS = Path(__file__).parent / "results"
RESOLUTION = 128
VARIANTS = {
    "every op type int8, Percentile (default)": Int8Settings(),
    "convs+dense int8, depthwise and boundary fp32, MinMax": Int8Settings(
        op_types=("Conv", "Gemm", "MatMul"), exclude_depthwise=True, exclude_boundary=True, calibration_method="MinMax"
    ),
    "convs+dense int8, depthwise and boundary fp32, Percentile": Int8Settings(
        op_types=("Conv", "Gemm", "MatMul"), exclude_depthwise=True, exclude_boundary=True
    ),
    "convs+dense int8 (depthwise too), Percentile": Int8Settings(op_types=("Conv", "Gemm", "MatMul")),
    "every op type int8, boundary fp32, Percentile": Int8Settings(exclude_boundary=True),
    "every op type int8, MinMax": Int8Settings(calibration_method="MinMax"),
}


def stand_in_source(crops: np.ndarray) -> ExportSource:
    model = build_model(default_config("lite", RESOLUTION))
    stand_in_weights(model, torch.from_numpy(crops[:8]))
    return source_from_model(model.eval(), "dst", steps=0)


def interleaved_latency(paths: list[Path], threads: int, rounds: int, runs: int = 20) -> list[list[float]]:
    """Per path, the mean ms of ``runs`` batch-1 calls in each of ``rounds`` interleaved rounds."""
    feed = {INPUT_NAME: np.random.default_rng(0).random((1, 3, RESOLUTION, RESOLUTION), dtype=np.float32)}
    sessions = [ModelSession(path, SessionOptions(provider="cpu", threads=threads, warm_up_runs=5)) for path in paths]
    for session in sessions:
        session.warm_up(feed)
    rounds_ms: list[list[float]] = [[] for _ in sessions]
    for _ in range(rounds):
        for session, times in zip(sessions, rounds_ms, strict=True):
            start = time.perf_counter()
            for _ in range(runs):
                session.run(feed)
            times.append((time.perf_counter() - start) / runs * 1000)
    return rounds_ms


def measure_int8(fp32: Path, crops_split: CropSplit, work: Path, threads: int, rounds: int) -> dict[str, object]:
    paths, fidelity = [fp32], {}
    for index, (name, settings) in enumerate(VARIANTS.items()):
        out = work / f"int8_{index}.onnx"
        quantize_int8(fp32, out, crops_split.calibration, settings)
        fidelity[name] = measure_fidelity(fp32, out, crops_split.held_out)
        paths.append(out)
    times = np.array(interleaved_latency(paths, threads, rounds))
    result: dict[str, object] = {"fp32_ms_p50": float(np.median(times[0])), "variants": {}}
    for row, (name, settings) in enumerate(VARIANTS.items(), start=1):
        ratio = float(np.median(times[row] / times[0]))
        result["variants"][name] = {  # type: ignore[index]
            "settings": asdict(settings),
            "int8_ms_p50": float(np.median(times[row])),
            "ratio_to_fp32": ratio,
            "psnr_composite_db": fidelity[name].composite_psnr,
            "psnr_face_db": fidelity[name].face_psnr,
            "psnr_mask_db": fidelity[name].mask_psnr,
            "max_abs_diff": fidelity[name].max_abs,
            "meets_latency": ratio <= 0.8,
            "meets_psnr": fidelity[name].psnr >= 35.0,
        }
    return result


def stage_frames(count: int, faces: int) -> list[Frame]:
    """640x480 frames of the generated Hopper clip; ``faces`` = 2 adds a mirrored copy of the face."""
    template = portrait_landmarks("hopper")
    frames = []
    spec = ClipSpec(photo="hopper", size=(640, 480), fps=30.0, seconds=count / 30.0, seed=1)
    for index, (image, homography) in enumerate(render_frames(spec)):
        points = cv2.perspectiveTransform(template.reshape(-1, 1, 2), homography).reshape(-1, 2).astype(np.float32)
        found = [Face(box=face_box(points), score=1.0, landmarks=points)]
        if faces == 2:
            shifted = points * 0.5 + np.array([320.0, 40.0], np.float32)
            found.append(Face(box=face_box(shifted), score=1.0, landmarks=shifted))
        frames.append(Frame(index=index, t_capture_ns=0, image=image, faces=found))
    return frames


def measure_stage(model_path: Path, threads: int, frames: list[Frame]) -> dict[str, float]:
    stage = ModelSwapStage(SwapConfig(model=str(model_path), provider="cpu", threads=threads))
    stage.open()
    for frame in frames[:5]:
        stage.process(Frame(frame.index, 0, frame.image, frame.faces))
    times = []
    for frame in frames:
        fresh = Frame(frame.index, 0, frame.image, frame.faces)
        start = time.perf_counter()
        stage.process(fresh)
        times.append((time.perf_counter() - start) * 1000)
    stage.close()
    p50, p95 = (float(v) for v in np.percentile(times, [50, 95]))
    return {"p50_ms": p50, "p95_ms": p95, "fps_at_p50": 1000.0 / p50, "frames": len(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help="a trained lite-128 run or checkpoint (default: stand-in weights)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    rounds = 5 if args.quick else 15
    torch.set_num_threads(1)  # the reference model only runs for the checks
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="livefake-perf-export-") as folder:
        work = Path(folder)
        write_synthetic_faceset("hopper", work / "faceset", count=80, resolution=RESOLUTION, face_type="whole")
        crops = split_crops(faceset_crops(work / "faceset", RESOLUTION, "whole"))
        source = prepare_export(args.checkpoint)[0] if args.checkpoint else stand_in_source(crops.calibration)
        fp32 = export_onnx(source, work / "fp32.onnx")
        difference = check_fp32(source, fp32, crops.held_out)
        int8 = measure_int8(fp32, crops, work, args.threads, rounds)
        quantize_int8(fp32, work / "int8.onnx", crops.calibration, Int8Settings())
        frames = stage_frames(60 if args.quick else 150, faces=1)
        two_faces = stage_frames(40 if args.quick else 100, faces=2)
        stage = {
            f"{kind} {threads}t {len(sample[0].faces)} face(s)": measure_stage(work / f"{kind}.onnx", threads, sample)
            for kind in ("fp32", "int8")
            for threads in sorted({1, args.threads})
            for sample in (frames, two_faces)
        }
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}",
        "onnxruntime": onnxruntime.__version__,
        "model": args.checkpoint or "lite-128 default widths, stand-in weights (exporters/stand_in.py)",
        "threads": args.threads,
        "rounds": rounds,
        "calibration_crops": len(crops.calibration),
        "held_out_crops": len(crops.held_out),
        "fp32_max_abs_diff_vs_pytorch": difference,
        "int8": int8,
        "swap_stage_640x480": stage,
    }
    (RESULTS / "export.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
