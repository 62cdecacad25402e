"""Training on CPU: the issue's learning check on two generated identities, and it/s at batch 8.

Run as ``python perf/train.py`` (``--quick``: fewer steps). Writes ``perf/results/train.json``,
``train.preview.png`` (rows A, A->A, B, B->B, A->B) and ``train.losses.png``.

1. Learning check: Hopper (src, A) and Collins (dst, B) facesets cut from generated clips
   (``livefake.models.synthetic_faceset``: template landmarks, no tracker), a ``lite`` 64-px
   model trained for a fixed step budget. Reported: reconstruction loss (masked DSSIM + L1,
   both identities) at the start (mean of steps 1-3) and the end (mean of the last 10 steps),
   and the mean absolute pixel difference inside the face of the A->B output to the same A
   face and to the nearest B face. Generated clips have no expressions or 3-D turns: this
   shows the trainer learns two identities, not swap quality on real faces.
2. Speed: the trainer's steps per second at batch 8 (per identity) for ``lite``-128 and
   ``df``-128 with their default widths (first step included), and the share of the loop
   spent waiting for batches: with no worker (batches made in the training process between
   steps) and with one DataLoader worker process making them while the model steps.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from livefake.models.checkpoint import load_model
from livefake.models.dataset import load_face_samples
from livefake.models.evaluate import swap_distances
from livefake.models.preview import LossLog, plot_losses
from livefake.models.synthetic_faceset import write_synthetic_faceset
from livefake.models.trainer import TrainArgs, Trainer

RESULTS = Path(__file__).parent / "results"
LEARNING_WIDTHS = {"encoder_dims": 16, "inter_dims": 64, "decoder_dims": 16}


def learning_check(root: Path, steps: int, threads: int) -> dict[str, object]:
    src, dst = root / "hopper-64", root / "collins-64"
    write_synthetic_faceset("hopper", src, count=48, resolution=64)
    write_synthetic_faceset("collins", dst, count=48, resolution=64, seed=1)
    out = root / "run-lite-64"
    args = TrainArgs(
        src=str(src), dst=str(dst), out=str(out), arch="lite", resolution=64, batch=8, max_steps=steps,
        preview_every=0, save_every=0, seed=0, learning_rate=3e-3, threads=threads, **LEARNING_WIDTHS,
    )  # fmt: skip
    started = time.perf_counter()
    result = Trainer(args).run()
    seconds = time.perf_counter() - started
    rows = LossLog(out, keep_until_step=steps).rows
    start = float(np.mean([row["src_recon"] + row["dst_recon"] for row in rows[:3]]))
    end = float(np.mean([row["src_recon"] + row["dst_recon"] for row in rows[-10:]]))
    samples = [load_face_samples(path, "whole", 64) for path in (src, dst)]
    distances = swap_distances(load_model(out), samples[0], samples[1], torch.device("cpu"), count=48)
    shutil.copy(out / "preview.png", RESULTS / "train.preview.png")
    plot_losses(rows, RESULTS / "train.losses.png", ("src_recon", "dst_recon", "mask"))
    return {
        "arch": "lite", "resolution": 64, "widths": LEARNING_WIDTHS, "steps": steps, "batch": 8,
        "learning_rate": 3e-3, "seconds": seconds, "steps_per_second": result.steps_per_second,
        "reconstruction_start": start, "reconstruction_end": end, "reconstruction_fall": 1 - end / start,
        "ab_to_a": distances.to_src, "ab_to_b": distances.to_dst, "bb_to_b": distances.dst_reconstruction,
        "ab_closer_to_b": distances.closer_to_dst,
    }  # fmt: skip


def training_speed(root: Path, arch: str, resolution: int, steps: int, workers: int, threads: int) -> dict[str, object]:
    """it/s of the trainer itself at batch 8, and the share of the loop spent waiting for batches."""
    folders = []
    for photo, seed in (("hopper", 0), ("collins", 1)):
        folder = root / f"{photo}-{resolution}"
        if not folder.exists():
            write_synthetic_faceset(photo, folder, count=16, resolution=resolution, seed=seed)
        folders.append(str(folder))
    out = root / f"speed-{arch}-{resolution}-{workers}"
    args = TrainArgs(
        src=folders[0], dst=folders[1], out=str(out), arch=arch, resolution=resolution, batch=8, max_steps=steps,
        preview_every=0, save_every=0, threads=threads, workers=workers, progress=False,
    )  # fmt: skip
    trainer = Trainer(args)
    result = trainer.run()
    shutil.rmtree(out)
    return {
        "arch": arch, "resolution": resolution, "batch": 8, "workers": workers, "config": trainer.config.to_dict(),
        "steps": steps, "iterations_per_second": result.steps_per_second, "data_wait_share": result.data_wait_share,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch threads")
    parser.add_argument("--skip-learning", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    RESULTS.mkdir(exist_ok=True)
    report: dict[str, object] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average_start": os.getloadavg()[0], "torch": torch.__version__, "threads": args.threads,
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        previous = RESULTS / "train.json"
        if args.skip_learning and previous.exists():  # keep the last learning check's figures
            report["learning"] = json.loads(previous.read_text()).get("learning")
        if not args.skip_learning:
            report["learning"] = learning_check(root, 150 if args.quick else 600, args.threads)
            print(json.dumps(report["learning"], indent=1))
        speeds = []
        for arch, resolution, steps, workers in (("lite", 128, 30, 0), ("lite", 128, 30, 1), ("df", 128, 3, 1)):
            steps = max(2, steps // 3) if args.quick else steps
            speed = training_speed(root, arch, resolution, steps, workers, args.threads)
            print(
                f"{arch}-{resolution}, {workers} workers: {speed['iterations_per_second']:.3f} it/s, "
                f"{100 * float(speed['data_wait_share']):.1f}% of the time waiting for data"  # type: ignore[arg-type]
            )
            speeds.append(speed)
        report["speed"] = speeds
    report["load_average_end"] = os.getloadavg()[0]
    (RESULTS / "train.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
