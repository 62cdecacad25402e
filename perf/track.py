"""Face tracking: accuracy against generated ground truth, jitter, and speed.

Run as ``python perf/track.py`` (``--quick`` for a short run). Writes
``perf/results/track.json`` and ``perf/results/track.png``.

Ground truth: the clips of ``livefake.sources.synthetic`` warp a portrait by a known homography H_i
per frame. The landmarks fitted on frame 0 (two passes, no smoothing) are carried to frame i
by H_i H_0^-1; errors are the mean point distance in inter-ocular distances (IOD, outer eye
corners). The clips have no expressions or 3-D turns: this scores rigid 2-D motion, exposure
drift, blur and noise only.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import time
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from livefake.config import TrackConfig
from livefake.face.assets import require_models
from livefake.face.landmarks import EYE_LINE
from livefake.face.track import FaceTracker, find_faces
from livefake.sources.synthetic import ClipSpec, render_frames

RESULTS = Path(__file__).parent / "results"
SIZES = {"480p": (854, 480), "720p": (1280, 720), "1080p": (1920, 1080)}
PHOTOS = ("hopper", "collins")
WARM_UP_FRAMES = 15


def carry(points: np.ndarray, transform: np.ndarray) -> np.ndarray:
    """Apply a 3x3 homography to (N, 2) points."""
    return cv2.perspectiveTransform(points.reshape(-1, 1, 2).astype(np.float64), transform).reshape(-1, 2)


def iod(landmarks: np.ndarray) -> float:
    return float(np.linalg.norm(landmarks[EYE_LINE[1]] - landmarks[EYE_LINE[0]]))


def track_clip(spec: ClipSpec, config: TrackConfig) -> dict[str, np.ndarray]:
    """Track a clip; return per-frame landmarks (NaN when no face), truth and found flags."""
    tracker = FaceTracker(config)
    frames = list(render_frames(spec))
    first_faces = find_faces(frames[0][0], config.models_dir)
    if not first_faces:
        raise RuntimeError(f"no face on frame 0 of {spec}")
    reference, to_portrait = np.asarray(first_faces[0].landmarks), np.linalg.inv(frames[0][1])
    found: list[bool] = []
    predicted: list[np.ndarray] = []
    truth: list[np.ndarray] = []
    for index, (image, transform) in enumerate(frames):
        faces = tracker.track(image, index / spec.fps)
        expected = carry(reference, transform @ to_portrait)
        truth.append(expected)
        nearest = min(faces, key=lambda f: np.abs(f.landmarks - expected).mean(), default=None)
        found.append(nearest is not None)
        missing = np.full_like(expected, np.nan)
        predicted.append(np.asarray(nearest.landmarks) if nearest is not None else missing)
    return {"found": np.array(found), "predicted": np.stack(predicted), "truth": np.stack(truth)}


def landmark_errors(result: dict[str, np.ndarray]) -> np.ndarray:
    """Per found frame: mean landmark distance to the truth, in IODs."""
    found = result["found"]
    distances = np.linalg.norm(result["predicted"][found] - result["truth"][found], axis=2).mean(axis=1)
    scales = np.array([iod(points) for points in result["truth"][found]])
    return distances / scales


def jitter(result: dict[str, np.ndarray], warm_up: int = WARM_UP_FRAMES) -> float:
    """On a still clip: mean over points of the positional standard deviation, in IODs.

    The first ``warm_up`` frames are left out: they hold the one-off settling of a new track.
    """
    points = result["predicted"][warm_up:][result["found"][warm_up:]]
    spread = np.sqrt(points.var(axis=0).sum(axis=1)).mean()
    return float(spread / iod(result["truth"][0]))


def accuracy_row(spec: ClipSpec, config: TrackConfig) -> dict[str, float]:
    smoothed = track_clip(spec, config)
    raw = track_clip(spec, dataclasses.replace(config, smoothing=False))
    errors, raw_errors = landmark_errors(smoothed), landmark_errors(raw)
    return {
        "found": float(smoothed["found"].mean()),
        "median": float(np.median(errors)),
        "p95": float(np.percentile(errors, 95)),
        "median_raw": float(np.median(raw_errors)),
        "p95_raw": float(np.percentile(raw_errors, 95)),
        "smoothed_over_raw": float(errors.mean() / raw_errors.mean()),
    }


def jitter_row(spec: ClipSpec, config: TrackConfig) -> dict[str, float]:
    smoothed = jitter(track_clip(spec, config))
    raw = jitter(track_clip(spec, dataclasses.replace(config, smoothing=False)))
    return {"jitter": smoothed, "jitter_raw": raw, "reduction": raw / max(smoothed, 1e-12)}


def still_clip(photo: str, noise: float, seconds: float, size: tuple[int, int] = (1280, 720)) -> ClipSpec:
    """A clip with no motion and no exposure drift: all that moves is sensor noise."""
    return ClipSpec(photo, size, seconds=seconds, motion=0.0, noise=noise, exposure_drift=0.0)


def timing_row(spec: ClipSpec, config: TrackConfig, repeats: int) -> dict[str, float]:
    """Track-call wall and CPU times per face, split by whether the detector ran.

    CPU time (all threads of the process) is less disturbed than wall time when other work
    shares the cores; on an idle machine wall time is at most CPU time.
    """
    frames = [image for image, _ in render_frames(spec)]
    tracker = FaceTracker(config)
    walls: dict[bool, list[float]] = {True: [], False: []}
    cpus: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(repeats):
        tracker.reset()
        for index, image in enumerate(frames):
            wall, cpu = time.perf_counter(), time.process_time()
            faces = tracker.track(image, index / spec.fps)
            count = max(len(faces), 1)
            walls[tracker.detector_ran].append((time.perf_counter() - wall) * 1e3 / count)
            cpus[tracker.detector_ran].append((time.process_time() - cpu) * 1e3 / count)
    row: dict[str, float] = {}
    for ran, name in ((False, "skip"), (True, "detect")):
        row[f"{name}_p50_ms"] = float(np.median(walls[ran]))
        row[f"{name}_p95_ms"] = float(np.percentile(walls[ran], 95))
        row[f"{name}_cpu_p50_ms"] = float(np.median(cpus[ran]))
        row[f"{name}_frames"] = len(walls[ran])
    return row


def plot(accuracy: dict[str, dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(accuracy)
    x = np.arange(len(names))
    figure, axis = plt.subplots(figsize=(9, 4))
    for offset, key, label in (
        (-0.3, "median_raw", "median, raw"),
        (-0.1, "median", "median, smoothed"),
        (0.1, "p95_raw", "p95, raw"),
        (0.3, "p95", "p95, smoothed"),
    ):
        axis.bar(x + offset, [accuracy[name][key] * 100 for name in names], width=0.2, label=label)
    axis.axhline(2, color="grey", linestyle="--", linewidth=1)
    axis.axhline(5, color="grey", linestyle=":", linewidth=1)
    axis.set_xticks(x, names, rotation=20)
    axis.set_ylabel("landmark error, % of IOD")
    axis.set_title("Face tracking error on generated clips (targets: median 2%, p95 5%)")
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def measure_quality(seconds: float, sizes: dict[str, tuple[int, int]], config: TrackConfig) -> dict:
    accuracy = {}
    cases = [(photo, size) for photo in PHOTOS for size in sizes]
    for photo, size in tqdm(cases, desc="accuracy"):
        accuracy[f"{photo} {size}"] = accuracy_row(ClipSpec(photo, sizes[size], seconds=seconds), config)
    cases_still = [(photo, noise) for photo in PHOTOS for noise in (2.0, 4.0)]
    still = {
        f"{photo} noise {noise:g}": jitter_row(still_clip(photo, noise, seconds), config)
        for photo, noise in tqdm(cases_still, desc="jitter")
    }
    return {"seconds_per_clip": seconds, "accuracy": accuracy, "jitter": still}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2-second clips, 720p only")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--repeats", type=int, default=5, help="timing passes over the 720p clip")
    parser.add_argument("--only", choices=["quality", "timing"], help="measure one part; keep the other's record")
    args = parser.parse_args()
    require_models()
    config = TrackConfig()
    path = RESULTS / "track.json"
    report = json.loads(path.read_text()) if args.only and path.is_file() else {}
    report["machine"] = f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores usable"
    report["config"] = dataclasses.asdict(config)
    if args.only != "timing":
        seconds = 2.0 if args.quick else args.seconds
        report.update(measure_quality(seconds, {"720p": SIZES["720p"]} if args.quick else SIZES, config))
    if args.only != "quality":
        load_before = os.getloadavg()[0]
        timing = timing_row(ClipSpec("hopper", (1280, 720), seconds=4.0), config, args.repeats)
        report["timing_720p"] = {
            **timing,
            "load_average_before": load_before,
            "load_average_after": os.getloadavg()[0],
        }
    RESULTS.mkdir(exist_ok=True)
    path.write_text(json.dumps(report, indent=2))
    if "accuracy" in report:
        plot(report["accuracy"], RESULTS / "track.png")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
