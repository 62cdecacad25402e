"""Zero-training swap: speed of the photo swap and the animation, and the identity the swap gives.

    python perf/photo_swap.py                                  # 5 rounds x 200 frames, identity on 2 x 40
    python perf/photo_swap.py --rounds 2 --frames 50 --identity-frames 0   # quick look, no dlib

Speed: the live frame is the Hopper portrait warped so its face is 256 px wide in a 1280x720
frame, moving (shift, roll, scale) from frame to frame; its landmarks are the photo's (from
`find_faces`) carried by the same warp, so tracking costs nothing here. The target is the
Collins photo. Timed in the same run: ``PhotoSwapper.swap`` (one remap from a triangle-index
raster), the classic per-triangle ``warpAffine`` + mask + blend swap it replaces (baseline),
``MergeStage`` with rct + feather after it (owned by merge, shown for the total), and the
animation stage at 720p. Identity (needs the `identity` extra): generated 720p clips of each
portrait run through TrackStage, PhotoSwapStage (the other portrait) and MergeStage; dlib's
distance to the target photo before and after. Generated clips have no expressions or 3-D head
turns: the identity figures rest on 2-D motion only.

Writes perf/results/photo_swap.json and perf/results/photo_swap.png.
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

from livefake.config import MergeConfig, SwapConfig, TrackConfig
from livefake.face.align import face_box
from livefake.face.track import find_faces
from livefake.merge.stage import MergeStage
from livefake.pipeline.frame import Face, Frame
from livefake.sources.assets import load_photo
from livefake.sources.synthetic import ClipSpec, render_frames
from livefake.swap.animate import AnimateStage
from livefake.swap.photo import PhotoSwapper, TargetFace, landmark_box, target_from_faces

RESULTS = Path(__file__).parent / "results"
SIZE = (1280, 720)
FACE_PX = 256.0
BUDGET_MS = 6.0


def target(name: str) -> TargetFace:
    photo = load_photo(name)
    return target_from_faces(photo, find_faces(photo), name)


def moving_faces(live: TargetFace, count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(frame, landmarks): the live photo warped to a 256-px face at 720p, moving smoothly."""
    centre = live.landmarks.mean(axis=0)
    scale = FACE_PX / live.width_px
    frames = []
    for index in range(count):
        t = index / 30.0
        matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), 10 * np.sin(0.7 * t),
                                         scale * (1 + 0.05 * np.sin(0.5 * t)))
        matrix[:, 2] += (SIZE[0] / 2 - centre[0] + 60 * np.sin(0.45 * t), SIZE[1] / 2 - centre[1])
        image = cv2.warpAffine(live.image, matrix, SIZE, borderMode=cv2.BORDER_REFLECT)
        frames.append((image, (live.landmarks @ matrix[:, :2].T + matrix[:, 2]).astype(np.float32)))
    return frames


class PerTriangleSwapper:
    """The classic swap: per triangle, warpAffine its bounding rect, draw its mask, blend (baseline)."""

    def __init__(self, swapper: PhotoSwapper) -> None:
        level = swapper.levels[0]
        self.image, self.points = level.image, swapper.warper.source_points
        self.triangles = swapper.warper.triangles

    def swap(self, frame: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        box = landmark_box(landmarks, frame.shape[1], frame.shape[0])
        assert box is not None
        x0, y0, x1, y1 = box
        output = frame[y0:y1, x0:x1].astype(np.float32)
        local = landmarks - np.array([x0, y0], np.float32)
        for triangle in self.triangles:
            source, destination = self.points[triangle], local[triangle]
            sx, sy, sw, sh = cv2.boundingRect(source)
            dx, dy, dw, dh = cv2.boundingRect(destination)
            if dw < 1 or dh < 1 or dx < 0 or dy < 0 or dx + dw > x1 - x0 or dy + dh > y1 - y0:
                continue
            matrix = cv2.getAffineTransform((source - (sx, sy)).astype(np.float32),
                                            (destination - (dx, dy)).astype(np.float32))
            patch = cv2.warpAffine(self.image[sy : sy + sh, sx : sx + sw], matrix, (dw, dh),
                                   flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
            mask = np.zeros((dh, dw, 1), np.float32)
            cv2.fillConvexPoly(mask, np.round(destination - (dx, dy)).astype(np.int32), (1.0,), cv2.LINE_AA)
            region = output[dy : dy + dh, dx : dx + dw]
            region[:] = region * (1 - mask) + patch * mask
        return output.astype(np.uint8)


def timed(function: Callable[[int], object], count: int) -> list[float]:
    times = []
    for index in range(count):
        start = time.perf_counter()
        function(index)
        times.append((time.perf_counter() - start) * 1e3)
    return times


def percentiles(times: list[float]) -> dict[str, float]:
    values = np.array(times)
    return {f"p{q}": round(float(np.percentile(values, q)), 3) for q in (50, 95, 99)}


def measure_speed(rounds: int, frames: int) -> dict[str, object]:
    swapper = PhotoSwapper(target("collins"))
    baseline = PerTriangleSwapper(swapper)
    moving = moving_faces(target("hopper"), frames)
    faces = [Face(box=face_box(pts), score=1.0, landmarks=pts) for _, pts in moving]
    merge = MergeStage(MergeConfig(color="rct"))
    animate = AnimateStage(SwapConfig(mode="animate"), TrackConfig(), target=target("hopper"))
    animate.open()

    def swap(i: int) -> object:
        return swapper.swap(moving[i][0], moving[i][1], 0)

    def swap_and_merge(i: int) -> object:
        frame = Frame(i, 0, moving[i][0].copy(), faces=[faces[i]])
        frame.swapped = [swapper.swap(frame.image, moving[i][1], 0)]  # type: ignore[list-item]
        return merge.process(frame)

    def animate_720p(i: int) -> object:
        return animate.process(Frame(i, 0, moving[i][0], faces=[faces[i]]))

    cases: dict[str, Callable[[int], object]] = {
        "photo_swap": swap, "per_triangle_baseline": lambda i: baseline.swap(*moving[i]),
        "photo_swap_plus_merge_rct": swap_and_merge, "animate_720p": animate_720p,
    }
    rounds_out: dict[str, list[dict[str, float]]] = {name: [] for name in cases}
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in tqdm(range(rounds), desc="speed rounds"):
        for name, function in cases.items():
            count = frames if name != "per_triangle_baseline" else max(frames // 10, 5)
            times = timed(function, count)
            rounds_out[name].append(percentiles(times))
            samples[name].extend(times)
    summary = {name: {"median_of_round_p50": round(float(np.median([r["p50"] for r in rs])), 3), "rounds": rs}
               for name, rs in rounds_out.items()}
    crop = swap(0)
    return {"cases": summary, "samples": samples, "crop_size": list(crop.image.shape[:2]),  # type: ignore[attr-defined]
            "triangles": int(len(swapper.warper.triangles))}


def measure_identity(frames: int) -> dict[str, object]:
    from livefake.face.identity import IdentityModel, box_from_landmarks
    from livefake.face.track import TrackStage
    from livefake.swap.photo import PhotoSwapStage

    model = IdentityModel()
    out: dict[str, object] = {}
    for target_name, live_name in (("hopper", "collins"), ("collins", "hopper")):
        photo = load_photo(target_name)
        target_embedding = model.embed(photo, box_from_landmarks(target(target_name).landmarks))
        stages = [TrackStage(TrackConfig()), PhotoSwapStage(SwapConfig(face=target_name), TrackConfig()),
                  MergeStage(MergeConfig())]
        for stage in stages:
            stage.open()
        before, after = [], []
        spec = ClipSpec(photo=live_name, size=SIZE, seconds=frames / 10, fps=10)
        clip = tqdm(render_frames(spec), total=frames, desc=f"swap to {target_name}")
        for index, (image, _) in enumerate(clip):
            frame: Frame | None = Frame(index, index * 100_000_000, image.copy(), pts=index / 10)
            for stage in stages:
                frame = stage.process(frame) if frame is not None else None
            landmarks = frame.faces[0].landmarks if frame is not None and frame.faces else None
            if frame is None or landmarks is None:
                continue
            box = box_from_landmarks(landmarks)
            before.append(float(np.linalg.norm(model.embed(image, box) - target_embedding)))
            after.append(float(np.linalg.norm(model.embed(frame.image, box) - target_embedding)))
        b, a = np.array(before), np.array(after)
        out[f"{live_name}_swapped_to_{target_name}"] = {
            "frames": frames, "faces": len(after),
            "before": {"median": round(float(np.median(b)), 3), "min": round(float(b.min()), 3),
                       "max": round(float(b.max()), 3), "values": np.round(b, 3).tolist()},
            "after": {"median": round(float(np.median(a)), 3), "min": round(float(a.min()), 3),
                      "max": round(float(a.max()), 3), "values": np.round(a, 3).tolist()},
            "after_below_0.6": round(float((a < 0.6).mean()), 3),
            "median_drop": round(float(np.median(b) - np.median(a)), 3),
            "frames_dropping_0.15": round(float(((b - a) >= 0.15).mean()), 3),
        }
    return out


def plot(speed: dict[str, object], identity: dict[str, object], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = 2 if identity else 1
    figure, axes = plt.subplots(1, panels, figsize=(6 * panels, 4), squeeze=False)
    samples = speed["samples"]
    assert isinstance(samples, dict)
    names = list(samples)
    axes[0][0].boxplot([samples[n] for n in names], showfliers=False)
    axes[0][0].set_xticks(range(1, len(names) + 1), [n.replace("_", "\n") for n in names], fontsize=7)
    axes[0][0].axhline(BUDGET_MS, color="red", linestyle="--", label=f"swap budget {BUDGET_MS} ms")
    axes[0][0].set_yscale("log")
    axes[0][0].set_ylabel("ms per frame (256-px face, 720p)")
    axes[0][0].legend(fontsize=7)
    if identity:
        ax = axes[0][1]
        for name, result in identity.items():
            assert isinstance(result, dict)
            ax.hist(result["before"]["values"], bins=20, alpha=0.5, label=f"{name}: input")
            ax.hist(result["after"]["values"], bins=20, alpha=0.5, label=f"{name}: swapped")
        ax.axvline(0.6, color="red", linestyle="--", label="same person < 0.6")
        ax.set_xlabel("dlib distance to the target photo")
        ax.legend(fontsize=6)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--identity-frames", type=int, default=40, help="per direction; 0 skips (no dlib)")
    args = parser.parse_args()
    speed = measure_speed(args.rounds, args.frames)
    identity = measure_identity(args.identity_frames) if args.identity_frames > 0 else {}
    RESULTS.mkdir(exist_ok=True)
    plot(speed, identity, RESULTS / "photo_swap.png")
    cases = speed["cases"]
    result = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.processor() or 'cpu'}",
        "command": "python perf/photo_swap.py " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()),
        "budget_ms": BUDGET_MS, "crop_size": speed["crop_size"], "triangles": speed["triangles"],
        "speed": cases, "identity": identity,
        "note": "generated clips: no expressions or 3-D head turns; machine shared with other work",
    }
    (RESULTS / "photo_swap.json").write_text(json.dumps(result, indent=1))
    assert isinstance(cases, dict)
    for name, case in cases.items():
        print(f"{name:28s} p50 {case['median_of_round_p50']:8.3f} ms (median of {args.rounds} rounds)")
    for name, value in identity.items():
        assert isinstance(value, dict)
        print(f"{name}: input median {value['before']['median']}, swapped median {value['after']['median']}, "
              f"swapped < 0.6 in {value['after_below_0.6']:.0%}")


if __name__ == "__main__":
    main()
