"""Training previews: the face grid (rows A, A->A, B, B->B, A->B), the loss log and its plot."""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

PREVIEW_ROWS = ("A", "A->A", "B", "B->B", "A->B")
LOSS_FILE = "losses.csv"
LABEL_WIDTH = 56


def preview_grid(rows: Sequence[np.ndarray], labels: Sequence[str] = PREVIEW_ROWS) -> np.ndarray:
    """Stack rows of faces (each N x 3 x H x W, RGB [0, 1]) into one labelled BGR uint8 image."""
    lines = []
    for faces, label in zip(rows, labels, strict=True):
        tiles = [np.clip(face.transpose(1, 2, 0) * 255.0 + 0.5, 0, 255).astype(np.uint8) for face in faces]
        strip = cv2.cvtColor(np.hstack(tiles), cv2.COLOR_RGB2BGR)
        tag = np.full((strip.shape[0], LABEL_WIDTH, 3), 32, dtype=np.uint8)
        cv2.putText(tag, label, (4, strip.shape[0] // 2 + 5), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1)
        lines.append(np.hstack([tag, strip]))
    return np.vstack(lines)


def write_png(path: Path, image: np.ndarray) -> None:
    """Write a PNG atomically (a viewer never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".png", dir=path.parent)
    os.close(handle)
    try:
        if not cv2.imwrite(temporary, image):
            raise OSError(f"cannot write {path}")
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a preview is for anyone to open
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_text_atomically(path: Path, text: str) -> None:
    """Write a small text file through a temporary file and a rename, readable by anyone."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class LossLog:
    """``RUN/losses.csv``: one row per step; on resume, rows after the checkpoint are dropped."""

    def __init__(self, run_dir: Path, keep_until_step: int) -> None:
        self.path = run_dir / LOSS_FILE
        self.rows: list[dict[str, float]] = []
        if self.path.exists() and keep_until_step > 0:
            with self.path.open(newline="") as stream:
                self.rows = [
                    {key: float(value) for key, value in row.items() if value not in ("", None)}
                    for row in csv.DictReader(stream)
                    if int(float(row["step"])) <= keep_until_step
                ]
        self._rewrite()

    def append(self, step: int, losses: dict[str, float]) -> None:
        row = {"step": float(step), **losses}
        if self.rows and list(row) != list(self.rows[0]):
            self.rows.append(row)
            self._rewrite()
            return
        self.rows.append(row)
        new_file = not self.path.exists() or self.path.stat().st_size == 0
        with self.path.open("a", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=list(row))
            if new_file:
                writer.writeheader()
            writer.writerow(row)

    def _rewrite(self) -> None:
        if not self.rows:
            self.path.unlink(missing_ok=True)
            return
        names = list(dict.fromkeys(key for row in self.rows for key in row))
        with self.path.open("w", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=names, restval="")
            writer.writeheader()
            writer.writerows(self.rows)


def plot_losses(rows: Sequence[dict[str, float]], path: Path, keys: Sequence[str]) -> None:
    """Loss curves (raw, faint, and a moving average) for ``keys`` against step, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not rows:
        return
    steps = np.array([row["step"] for row in rows])
    figure, axis = plt.subplots(figsize=(8, 4.5), dpi=100)
    for key in keys:
        values = np.array([row.get(key, np.nan) for row in rows], dtype=np.float64)
        line = axis.plot(steps, values, alpha=0.25, linewidth=0.8)[0]
        window = max(1, len(values) // 50)
        smooth = np.convolve(values, np.ones(window) / window, mode="valid")
        axis.plot(steps[window - 1 :], smooth, color=line.get_color(), label=key)
    axis.set_xlabel("step")
    axis.set_ylabel("loss")
    axis.set_yscale("log")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
