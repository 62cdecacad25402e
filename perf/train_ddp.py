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
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from livefake.models.synthetic_faceset import write_synthetic_faceset

RESULTS = Path(__file__).parent / "results"
WIDTHS = ["--encoder-dims", "16", "--inter-dims", "64", "--decoder-dims", "16"]
WINDOW = 20


def train(src: Path, dst: Path, out: Path, steps: int, *extra: str) -> float:
    command = [
        sys.executable, "-m", "livefake.cli", "train", "--src", str(src), "--dst", str(dst), "--out", str(out),
        "--resolution", "64", "--max-steps", str(steps), "--preview-every", "0", "--save-every", "0",
        "--lr", "3e-3", "--seed", "0", "--no-progress", *WIDTHS, *extra,
    ]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - started


def reconstruction(out: Path) -> np.ndarray:
    with (out / "losses.csv").open(newline="") as stream:
        return np.array([float(row["src_recon"]) + float(row["dst_recon"]) for row in csv.DictReader(stream)])


def smooth(values: np.ndarray) -> np.ndarray:
    return np.convolve(values, np.ones(WINDOW) / WINDOW, mode="valid")


def plot(single: np.ndarray, double: np.ndarray, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4), dpi=100)
    steps = np.arange(WINDOW, len(single) + 1)
    axis.plot(steps, smooth(single), label="1 process, batch 8")
    axis.plot(steps, smooth(double), label="2 processes (DDP, gloo), batch 4 each")
    axis.set_xlabel("step")
    axis.set_ylabel(f"reconstruction loss, src + dst ({WINDOW}-step mean)")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path)


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
    gaps = np.abs(smooth(double) - smooth(single)) / smooth(single)
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
