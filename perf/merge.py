"""Merge stage speed: one 256-px swapped face pasted into a 720p frame.

Run as ``python perf/merge.py`` (``--quick`` for fewer repeats). Writes
``perf/results/merge.json`` and ``perf/results/merge.png``.

Scenarios, each timed per frame (p50/p95/p99 over several rounds; the median round is kept):
- ``merge``: ``MergeStage.process`` with the defaults (rct colour transfer, 12-px feather at a
  256-px face), everything inside the face's box.
- other colour methods, and seamless clone, for the record.
- ``whole_frame_baseline``: the same work done the naive way on the whole frame (warp the crop
  and its mask to full frame size, colour-convert and blend every pixel), measured in the same
  run as the reference the face-box design is compared against.
The face is real: landmarks come from ``find_faces`` on a generated 720p frame of the Hopper
portrait when the face models are installed, else from the canonical face placed in the frame.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from livefake.config import MergeConfig
from livefake.errors import ModelError
from livefake.face import mesh
from livefake.face.align import alignment_matrix, face_box, transform_points, warp_to_crop
from livefake.merge.mask import merge_mask
from livefake.merge.stage import MergeStage
from livefake.pipeline.frame import Face, Frame, SwappedFace
from livefake.sources.assets import load_photo
from livefake.sources.synthetic import ClipSpec, render_frames

RESULTS = Path(__file__).parent / "results"
CROP = 256


def scene() -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """A 720p frame, its face's landmarks, a 256-px swapped face crop, and where landmarks came from."""
    image, _ = next(iter(render_frames(ClipSpec(photo="hopper", size=(1280, 720), seconds=0.1))))
    target = load_photo("collins")
    try:
        from livefake.face.track import find_faces

        landmarks = np.asarray(find_faces(image)[0].landmarks)
        target_landmarks = np.asarray(find_faces(target)[0].landmarks)
        origin = "find_faces"
    except (ImportError, ModelError, IndexError):
        x0, y0, x1, y1 = 180.0, 20.0, 330.0, 190.0  # Collins' face in her portrait, roughly
        target_landmarks = mesh.MEAN_FACE * ((x1 - x0) / 16.0) + [(x0 + x1) / 2, (y0 + y1) / 2]
        landmarks = mesh.MEAN_FACE * 16.0 + [640.0, 360.0]
        origin = "canonical face (run `livefake setup` for real landmarks)"
    crop = warp_to_crop(target, alignment_matrix(target_landmarks, "full", CROP), CROP)
    return image, np.asarray(landmarks, np.float32), crop, origin


def time_calls(work: Callable[[], object], reset: Callable[[], object], count: int) -> np.ndarray:
    """(count, 2) milliseconds per call: wall clock, and CPU time of the whole process.

    The CPU time leaves out waiting for the CPU while other processes run, which dominates
    the wall clock on a shared, overloaded 2-core machine.
    """
    samples = np.empty((count, 2))
    for index in range(count):
        reset()
        start, start_cpu = time.perf_counter(), time.process_time()
        work()
        samples[index] = time.perf_counter() - start, time.process_time() - start_cpu
    return samples * 1e3


def whole_frame_merge(image: np.ndarray, crop: np.ndarray, landmarks: np.ndarray, matrix: np.ndarray) -> None:
    """The naive merge: same steps, but every one of them on the whole frame."""
    height, width = image.shape[:2]
    crop_mask = merge_mask(transform_points(landmarks, matrix), (CROP, CROP), None, "full", 0, 12)
    inverse = cv2.invertAffineTransform(matrix)
    face = cv2.warpAffine(crop, inverse, (width, height), borderMode=cv2.BORDER_REPLICATE)
    alpha = cv2.warpAffine(crop_mask, inverse, (width, height))
    face = transfer_color_whole(face, image, alpha)
    image[...] = cv2.blendLinear(face, image, alpha, 1.0 - alpha)


def transfer_color_whole(face: np.ndarray, image: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Reinhard in LAB over full-resolution frame-sized images, statistics inside the mask."""
    inside = alpha > 0.5
    face_lab = cv2.cvtColor(face, cv2.COLOR_BGR2LAB).astype(np.float32)
    image_lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB).astype(np.float32)
    source, target = face_lab[inside], image_lab[inside]
    gain = target.std(axis=0) / np.maximum(source.std(axis=0), 1e-3)
    shifted = (face_lab - source.mean(axis=0)) * gain + target.mean(axis=0)
    return cv2.cvtColor(np.clip(shifted, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)


def percentiles(samples: np.ndarray) -> dict[str, float]:
    p50, p95, p99 = np.percentile(samples[:, 0], [50, 95, 99])
    cpu50 = np.percentile(samples[:, 1], 50)
    return {
        "p50_ms": round(float(p50), 3),
        "p95_ms": round(float(p95), 3),
        "p99_ms": round(float(p99), 3),
        "cpu_p50_ms": round(float(cpu50), 3),
        "min_ms": round(float(samples[:, 0].min()), 3),
    }


def measure(rounds: int, count: int) -> dict[str, object]:
    image, landmarks, crop, origin = scene()
    matrix = alignment_matrix(landmarks, "full", CROP)
    pristine = image.copy()
    working = image.copy()
    face = Face(box=face_box(landmarks), score=1.0, landmarks=landmarks, track_id=0)
    frame = Frame(0, 0, working, faces=[face], swapped=[SwappedFace(0, crop, None, matrix)])

    def restore() -> None:
        np.copyto(working, pristine)

    configs = {
        "merge": MergeConfig(),
        "merge_lct": MergeConfig(color="lct"),
        "merge_mkl": MergeConfig(color="mkl"),
        "merge_sot": MergeConfig(color="sot"),
        "merge_no_color": MergeConfig(color="none"),
        "merge_seamless": MergeConfig(seamless=True),
    }
    stages = {name: MergeStage(config) for name, config in configs.items()}
    scenarios: dict[str, Callable[[], object]] = {
        name: (lambda stage=stage: stage.process(frame)) for name, stage in stages.items()  # type: ignore[misc]
    }
    scenarios["whole_frame_baseline"] = lambda: whole_frame_merge(working, crop, landmarks, matrix)
    runs: dict[str, list[np.ndarray]] = {name: [] for name in scenarios}
    for _ in tqdm(range(rounds), desc="merge rounds"):
        for name, work in scenarios.items():  # interleaved, so load from other processes hits all alike
            runs[name].append(time_calls(work, restore, count))
    results = {}
    for name, samples in runs.items():
        per_round = [percentiles(s) for s in samples]
        median_round = sorted(per_round, key=lambda r: r["p50_ms"])[len(per_round) // 2]
        results[name] = {**median_round, "p50_ms_per_round": [r["p50_ms"] for r in per_round]}
    box = face_box(landmarks)
    return {
        "frame": "1280x720",
        "crop_px": CROP,
        "face_box_px": [round(float(v), 1) for v in box],
        "landmarks_from": origin,
        "rounds": rounds,
        "calls_per_round": count,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}",
        "opencv_threads": cv2.getNumThreads(),
        "scenarios": results,
        "speedup_vs_whole_frame": round(
            results["whole_frame_baseline"]["p50_ms"] / results["merge"]["p50_ms"], 2  # type: ignore[operator]
        ),
        "target": {"merge_p50_ms": 5.0},
    }


def plot(report: dict[str, object], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios: dict[str, dict[str, float]] = report["scenarios"]  # type: ignore[assignment]
    names = list(scenarios)
    figure, axis = plt.subplots(figsize=(8, 4))
    for offset, key in enumerate(("p50_ms", "p95_ms", "p99_ms")):
        values = [scenarios[n][key] for n in names]
        axis.bar(np.arange(len(names)) + (offset - 1) * 0.27, values, 0.27, label=key)
    axis.axhline(5.0, color="k", linestyle="--", linewidth=1, label="target p50 (merge)")
    axis.set_xticks(np.arange(len(names)), names, rotation=25, ha="right")
    axis.set_ylabel("ms per frame (one 256-px face, 720p)")
    axis.set_title("Merge stage: face-box work vs whole-frame baseline")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and calls")
    args = parser.parse_args()
    rounds, count = (3, 40) if args.quick else (5, 100)
    report = measure(rounds, count)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "merge.json").write_text(json.dumps(report, indent=2) + "\n")
    plot(report, RESULTS / "merge.png")
    for name, result in report["scenarios"].items():  # type: ignore[attr-defined]
        keys = ("p50_ms", "p95_ms", "p99_ms", "cpu_p50_ms", "min_ms")
        figures = "  ".join(f"{key[:-3]} {result[key]:7.3f}" for key in keys)
        print(f"{name:22s} {figures} ms")
    print(f"speed-up over whole frame: {report['speedup_vs_whole_frame']}x; {report['machine']}")


if __name__ == "__main__":
    main()
