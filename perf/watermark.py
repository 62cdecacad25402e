"""Provenance watermark: speed, invisibility and robustness, ours against `invisible-watermark`.

    python perf/watermark.py                      # 1,000 marked frames, 2,030 unmarked
    python perf/watermark.py --frames 120 --null-frames 200 --library-frames 10   # quick look

Marked frames come from generated 720p clips of both bundled portraits (livefake.sources.synthetic);
each is checked clean, after H.264 at 1 Mbps (PyAV libx264, the clip encoded as one video),
after 50% downscaling, after JPEG quality 70, and after all three in a row. Unmarked frames:
other generated clips (raw and after H.264) plus the photos at several sizes and JPEG
qualities. The library (`invisible-watermark`, methods dwtDct and dwtDctSvd, 64-bit payload)
runs on fewer frames: it costs hundreds of milliseconds a frame. Install it for this script
only: `pip install --no-deps invisible-watermark PyWavelets`.

Writes perf/results/watermark.json and perf/results/watermark.png (score histograms).
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

from livefake.config import ProvenanceConfig
from livefake.merge import watermark as wm
from livefake.merge.provenance import ProvenanceStage
from livefake.sources.assets import load_photo
from livefake.sources.synthetic import clip_frames, h264_round_trip, jpeg_round_trip

RESULTS = Path(__file__).parent / "results"
SIZE = (1280, 720)
PAYLOAD = wm.make_payload("perf/watermark.py model")
Frames = list[np.ndarray]


def half(image: np.ndarray) -> np.ndarray:
    return cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA)


def attacks(clips: list[Frames]) -> dict[str, Frames]:
    """Every attacked version of the marked clips (H.264 runs per clip, as a video)."""
    encoded = [image for clip in clips for image in h264_round_trip(clip)]
    flat = [image for clip in clips for image in clip]
    return {
        "clean": flat,
        "h264_1mbps": encoded,
        "downscale_50": [half(image) for image in flat],
        "jpeg_70": [jpeg_round_trip(image) for image in flat],
        "h264+downscale+jpeg": [jpeg_round_trip(half(image)) for image in encoded],
    }


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return 10 * np.log10(255.0**2 / max(mse, 1e-12))


def timed(function: Callable[[], object], repeats: int) -> dict[str, float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1e3)
    return {"p50_ms": float(np.median(times)), "p95_ms": float(np.percentile(times, 95)), "repeats": repeats}


def speed_ours(image: np.ndarray, repeats: int) -> dict[str, object]:
    """Per-frame cost at 720p, on a pool of distinct frames (64 MiB: beyond the caches, as in a pipeline)."""
    watermarker = wm.Watermarker(PAYLOAD)
    stage = ProvenanceStage(ProvenanceConfig(), "perf")
    pool = [image.copy() for _ in range(24)]
    watermarker.embed_inplace(pool[0])
    stage.mark(pool[0])
    detector = wm.WatermarkDetector()
    turn = iter(range(1 << 30))
    result: dict[str, object] = {}
    for threads in (1, 2):
        cv2.setNumThreads(threads)
        result[f"embed_{threads}thread"] = timed(
            lambda: watermarker.embed_inplace(pool[next(turn) % 24]), repeats
        )
        result[f"label_and_embed_{threads}thread"] = timed(lambda: stage.mark(pool[next(turn) % 24]), repeats)
        result[f"detect_{threads}thread"] = timed(
            lambda: detector.detect(pool[next(turn) % 24]), repeats // 4
        )
    cv2.setNumThreads(2)
    pattern = np.rint(cv2.resize(wm.grid_pattern(PAYLOAD, wm.chip_layout()) * wm.AMPLITUDE, SIZE)).astype(
        np.int16
    )
    result["embed_numpy_int16_baseline"] = timed(
        lambda: np.clip(pool[next(turn) % 24] + pattern[..., None], 0, 255).astype(np.uint8), repeats // 4
    )
    result["embed_same_frame_cached_ms"] = timed(lambda: watermarker.embed_inplace(pool[0]), repeats)[
        "p50_ms"
    ]
    result["prepare_ms"] = timed(lambda: wm.Watermarker(PAYLOAD).prepare(*SIZE), 5)["p50_ms"]
    return result


def score_ours(sets: dict[str, Frames]) -> dict[str, dict[str, float]]:
    detector = wm.WatermarkDetector()
    table = {}
    for name, frames in sets.items():
        detections = [detector.detect(image) for image in tqdm(frames, desc=f"ours {name}", leave=False)]
        scores = np.array([d.score for d in detections])
        table[name] = {
            "frames": len(frames),
            "found": float(np.mean([d.found for d in detections])),
            "payload_exact": float(np.mean([d.payload == PAYLOAD for d in detections])),
            "video_payload_exact": wm.combine([d for d in detections if d.found]).payload == PAYLOAD,
            "score_p1": float(np.percentile(scores, 1)),
            "score_p50": float(np.median(scores)),
            "scores": scores.tolist(),
        }
    return table


def library_codec(method: str) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], bytes]]:
    from imwatermark import WatermarkDecoder, WatermarkEncoder

    encoder = WatermarkEncoder()
    encoder.set_watermark("bytes", PAYLOAD)
    decoder = WatermarkDecoder("bytes", wm.PAYLOAD_BITS)
    return (lambda image: encoder.encode(image, method)), (lambda image: decoder.decode(image, method))


def library_found(decoded: bytes) -> bool:
    """The same marker rule as ours: at most MAX_MARKER_ERRORS of the 24 marker bits wrong."""
    got = np.unpackbits(np.frombuffer(decoded[: len(wm.MARKER)], np.uint8))
    want = np.unpackbits(np.frombuffer(wm.MARKER, np.uint8))
    return int(np.count_nonzero(got != want)) <= wm.MAX_MARKER_ERRORS


def score_library(method: str, clips: list[Frames], null: Frames) -> dict[str, object]:
    encode, decode = library_codec(method)
    marked = [[encode(image) for image in tqdm(clip, desc=f"{method} embed", leave=False)] for clip in clips]
    flat_plain = [image for clip in clips for image in clip]
    flat_marked = [image for clip in marked for image in clip]
    table: dict[str, object] = {
        "embed": timed(lambda: encode(flat_plain[0]), 3),
        "psnr_db_p50": float(np.median([psnr(a, b) for a, b in zip(flat_plain, flat_marked, strict=True)])),
    }
    for name, frames in attacks(marked).items():
        decoded = [decode(image) for image in tqdm(frames, desc=f"{method} {name}", leave=False)]
        table[name] = {
            "frames": len(frames),
            "found": float(np.mean([library_found(d) for d in decoded])),
            "payload_exact": float(np.mean([d == PAYLOAD for d in decoded])),
        }
    false = [library_found(decode(image)) for image in tqdm(null, desc=f"{method} unmarked", leave=False)]
    table["unmarked"] = {"frames": len(null), "false_detections": int(np.sum(false))}
    return table


def unmarked_frames(count: int) -> dict[str, Frames]:
    """Unmarked frames: clips of both portraits (other seeds, two sizes), raw and after H.264, plus photos."""
    quarter = max(1, count // 4)
    clips = [
        clip_frames("hopper", quarter, seed=11),
        clip_frames("collins", quarter, seed=12),
        clip_frames("hopper", quarter, seed=13, size=(640, 480)),
        clip_frames("collins", quarter, seed=14, size=(640, 480)),
    ]
    photos = []
    for name in ("hopper", "collins"):
        photo = load_photo(name)
        for scale in (0.5, 0.75, 1.0, 1.5, 2.0):
            resized = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            photos += [resized] + [jpeg_round_trip(resized, quality) for quality in (50, 70)]
    return {
        "clips_raw": [image for clip in clips for image in clip],
        "clips_h264": [image for clip in clips for image in h264_round_trip(clip)],
        "photos": photos,
    }


def plot(ours: dict[str, dict[str, float]], null_scores: np.ndarray, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 4.5))
    bins = np.linspace(
        min(-6.0, null_scores.min()), max(float(max(max(v["scores"]) for v in ours.values())), 10), 90
    )
    axes.hist(null_scores, bins=bins, alpha=0.6, label=f"unmarked ({null_scores.size})", color="grey")
    for name, row in ours.items():
        axes.hist(row["scores"], bins=bins, histtype="step", linewidth=1.5, label=name)
    axes.axvline(wm.THRESHOLD, color="red", linestyle="--", label=f"threshold {wm.THRESHOLD}")
    axes.set_xlabel("marker matched-filter score")
    axes.set_ylabel("frames")
    axes.set_title("livefake watermark: marked (after attacks) vs unmarked frames, 720p")
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=1000, help="marked frames (half per portrait)")
    parser.add_argument(
        "--null-frames", type=int, default=1000, help="unmarked clip frames (plus H.264, photos)"
    )
    parser.add_argument("--library-frames", type=int, default=30, help="frames for invisible-watermark")
    parser.add_argument("--repeats", type=int, default=400, help="timing repeats")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)

    half_count = args.frames // 2
    plain = [clip_frames("hopper", half_count, seed=0), clip_frames("collins", half_count, seed=3)]
    watermarker = wm.Watermarker(PAYLOAD)
    marked = [[watermarker.embed(image) for image in clip] for clip in plain]
    pairs = [(a, b) for pc, mc in zip(plain, marked, strict=True) for a, b in zip(pc, mc, strict=True)]
    psnrs = [psnr(a, b) for a, b in pairs]
    ours = score_ours(attacks(marked))
    null_sets = unmarked_frames(args.null_frames)
    null = score_ours(null_sets)
    null_scores = np.concatenate([np.array(row.pop("scores")) for row in null.values()])
    result: dict[str, object] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "payload_bits": wm.PAYLOAD_BITS,
        "ours": {
            "speed_720p": speed_ours(plain[0][0], args.repeats),
            "psnr_db": {"p50": float(np.median(psnrs)), "min": float(np.min(psnrs))},
            "attacks": ours,
            "unmarked": {
                name: {"frames": row["frames"], "false_detections": round(row["found"] * row["frames"])}
                for name, row in null.items()
            },
            "unmarked_score_max": float(null_scores.max()),
        },
    }
    plot(ours, null_scores, RESULTS / "watermark.png")
    for row in ours.values():
        row.pop("scores")
    try:
        lib_clips = [clip[: args.library_frames // 2] for clip in plain]
        lib_null = null_sets["clips_raw"][:: max(1, len(null_sets["clips_raw"]) // (2 * args.library_frames))]
        result["invisible_watermark"] = {
            method: score_library(method, lib_clips, lib_null) for method in ("dwtDct", "dwtDctSvd")
        }
    except ImportError:
        result["invisible_watermark"] = "not installed: pip install --no-deps invisible-watermark PyWavelets"
    (RESULTS / "watermark.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
