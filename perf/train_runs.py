"""What the training perf scripts share: a `livefake train` run, its loss curves, and their plot."""

from __future__ import annotations

import csv
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

# a 64-px model that trains in CPU minutes
SMALL_WIDTHS = ["--encoder-dims", "16", "--inter-dims", "64", "--decoder-dims", "16"]
WINDOW = 20  # steps in a loss curve's moving mean


def livefake(*arguments: str) -> float:
    """Run the real CLI to the end (raising if it fails); its wall time in seconds."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "livefake.cli", *arguments], check=True)
    return time.perf_counter() - started


def train(src: Path, dst: Path, out: Path, steps: int, *extra: str) -> float:
    """``steps`` steps of a small 64-px model, no previews or checkpoints on the way; seconds."""
    return livefake(
        "train", "--src", str(src), "--dst", str(dst), "--out", str(out), "--resolution", "64",
        "--max-steps", str(steps), "--preview-every", "0", "--save-every", "0", "--seed", "0", "--no-progress",
        *SMALL_WIDTHS, *extra,
    )  # fmt: skip


def loss_curve(out: Path, *columns: str) -> np.ndarray:
    """The per-step sum of ``columns`` of a run's ``losses.csv``."""
    with (out / "losses.csv").open(newline="") as stream:
        return np.array([sum(float(row[column]) for column in columns) for row in csv.DictReader(stream)])


def moving_mean(values: np.ndarray) -> np.ndarray:
    """The ``WINDOW``-step moving mean (its first value is at step ``WINDOW``)."""
    return np.convolve(values, np.ones(WINDOW) / WINDOW, mode="valid")


def plot_curves(curves: dict[str, np.ndarray], ylabel: str, path: Path, target: float | None = None) -> None:
    """Each curve's moving mean against the step, and ``target`` as a dashed line; a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4), dpi=100)
    for name, curve in curves.items():
        axis.plot(np.arange(WINDOW, len(curve) + 1), moving_mean(curve), label=name)
    if target is not None:
        axis.axhline(target, color="grey", linestyle="--", label="target (cold run's end)")
    axis.set_xlabel("step")
    axis.set_ylabel(f"{ylabel} ({WINDOW}-step mean)")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path)
