"""Warm start on real faces: steps to a fixed dst reconstruction loss, from scratch and from another pair.

Run as ``flock /tmp/livefake-cpu.lock python -m perf.warm_start``. Facesets come from the
development clips (``perf.real_media``) through ``livefake extract`` at 128 px (kept in
``--facesets``, default ``~/.cache/livefake/perf-facesets``): franck (a talking man, every 10th
frame), cap12 (every 3rd) and cap13 (every 2nd), the author's webcam clips. The model is
``lite`` at 64 px with small widths (16/64/16) so that all runs fit in a few CPU minutes; the
128-px crops are resized as they load.

1. Pretrain on another pair: src cap12 -> dst franck, ``--pretrain-steps``.
2. Target pair src franck -> dst cap13, ``--steps`` each: cold (fresh weights), warm with
   ``--init-from`` (all weights) and warm with ``--init-parts encoder-inter``.

Target: the cold run's dst reconstruction loss at its end (mean of its last 20 steps). Reported
per run: the first step whose 20-step moving average reaches it, and the ratio to cold.
Writes ``perf/results/warm_start.json`` and ``warm_start.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from perf.real_media import fetch_clip
from perf.train_runs import WINDOW, livefake, loss_curve, moving_mean, plot_curves
from perf.train_runs import train as train_run

RESULTS = Path(__file__).parent / "results"
CLIPS = {"franck": 10, "cap12": 3, "cap13": 2}  # clip -> take every Nth frame


def facesets(folder: Path) -> dict[str, Path]:
    made = {}
    for clip, every in CLIPS.items():
        out = folder / f"{clip}-128"
        if not (out / "faceset.json").exists():
            livefake("extract", str(fetch_clip(clip)), "--out", str(out), "--resolution", "128", "--every", str(every))
        made[clip] = out
    return made


def train(src: Path, dst: Path, out: Path, steps: int, *extra: str) -> float:
    return train_run(src, dst, out, steps, "--arch", "lite", "--batch", "8", "--lr", "1e-3", *extra)


def dst_curve(out: Path) -> np.ndarray:
    return loss_curve(out, "dst_recon")


def steps_to_reach(curve: np.ndarray, target: float) -> int | None:
    below = np.nonzero(moving_mean(curve) <= target)[0]
    return int(below[0]) + WINDOW if below.size else None


def plot(curves: dict[str, np.ndarray], target: float, path: Path) -> None:
    plot_curves(curves, "dst reconstruction loss", path, target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facesets", type=Path, default=Path.home() / ".cache" / "livefake" / "perf-facesets")
    parser.add_argument("--pretrain-steps", type=int, default=400)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    report: dict[str, object] = {"machine": f"{os.cpu_count()} cores", "load_average_start": os.getloadavg()}
    sets = facesets(args.facesets)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        seconds = {"pretrain": train(sets["cap12"], sets["franck"], root / "pretrain", args.pretrain_steps)}
        target_pair = (sets["franck"], sets["cap13"])
        seconds["cold"] = train(*target_pair, root / "cold", args.steps)
        seconds["warm"] = train(*target_pair, root / "warm", args.steps, "--init-from", str(root / "pretrain"))
        seconds["warm-encoder-inter"] = train(
            *target_pair, root / "warm-encoder-inter", args.steps, "--init-from", str(root / "pretrain"),
            "--init-parts", "encoder-inter",
        )  # fmt: skip
        curves = {name: dst_curve(root / name) for name in ("cold", "warm", "warm-encoder-inter")}
    target = float(curves["cold"][-WINDOW:].mean())
    reached = {name: steps_to_reach(curve, target) for name, curve in curves.items()}
    cold = reached["cold"] or args.steps
    report.update(
        faces={name: len(json.loads((path / "faceset.json").read_text())["faces"]) for name, path in sets.items()},
        steps=args.steps, pretrain_steps=args.pretrain_steps, target_dst_recon=target, steps_to_target=reached,
        fewer_steps_than_cold={name: cold / value for name, value in reached.items() if value},
        first_step_dst_recon={name: float(curve[0]) for name, curve in curves.items()},
        seconds=seconds, load_average_end=os.getloadavg(),
    )  # fmt: skip
    plot(curves, target, RESULTS / "warm_start.png")
    (RESULTS / "warm_start.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
