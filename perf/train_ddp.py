"""Two training processes (DDP, gloo on the CPU) against one with the same global batch.

Run as ``flock /tmp/livefake-cpu.lock python perf/train_ddp.py`` (``--steps N``, default 200).
Both runs go through the real CLI on the same generated facesets (Hopper = src, Collins = dst,
48 64-px crops each) with the same seed and learning rate: one process at ``--batch 8`` (2
threads), and ``--nproc 2 --batch 4`` (1 thread each), i.e. 8 faces per identity per step in
both. The batches differ (each rank draws from its shard), so the curves are compared after a
moving average: the largest relative gap of the smoothed reconstruction loss (src + dst) over
the run, and the gap of the mean over the last 50 steps. Writes ``perf/results/train_ddp.json``
and ``train_ddp.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from livefake.models.synthetic_faceset import write_synthetic_faceset
from perf.train_runs import loss_curve, moving_mean, plot_curves
from perf.train_runs import train as train_run

RESULTS = Path(__file__).parent / "results"


def train(src: Path, dst: Path, out: Path, steps: int, *extra: str) -> float:
    return train_run(src, dst, out, steps, "--lr", "3e-3", *extra)


def reconstruction(out: Path) -> np.ndarray:
    return loss_curve(out, "src_recon", "dst_recon")


def plot(single: np.ndarray, double: np.ndarray, path: Path) -> None:
    curves = {"1 process, batch 8": single, "2 processes (DDP, gloo), batch 4 each": double}
    plot_curves(curves, "reconstruction loss, src + dst", path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    report: dict[str, object] = {"machine": f"{os.cpu_count()} cores", "load_average_start": os.getloadavg()}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        src, dst = root / "hopper", root / "collins"
        write_synthetic_faceset("hopper", src, count=48, resolution=64)
        write_synthetic_faceset("collins", dst, count=48, resolution=64, seed=1)
        one_s = train(src, dst, root / "one", args.steps, "--batch", "8", "--threads", "2")
        two_s = train(src, dst, root / "two", args.steps, "--batch", "4", "--nproc", "2", "--threads", "1")
        single, double = reconstruction(root / "one"), reconstruction(root / "two")
    gaps = np.abs(moving_mean(double) - moving_mean(single)) / moving_mean(single)
    tail = 50
    report.update(
        steps=args.steps, seconds_one_process=one_s, seconds_two_processes=two_s,
        start_loss=float(single[:3].mean()), end_loss_one=float(single[-tail:].mean()),
        end_loss_two=float(double[-tail:].mean()),
        end_gap=float(abs(double[-tail:].mean() - single[-tail:].mean()) / single[-tail:].mean()),
        max_smoothed_gap=float(gaps.max()), mean_smoothed_gap=float(gaps.mean()),
        load_average_end=os.getloadavg(),
    )  # fmt: skip
    plot(single, double, RESULTS / "train_ddp.png")
    (RESULTS / "train_ddp.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
