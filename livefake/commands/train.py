"""``livefake train``: train a swap model from two facesets."""

from __future__ import annotations

import argparse
import logging

from livefake.models.catalog import ARCHITECTURES

NAME = "train"
HELP = "train a face-swap model from two facesets (src = the person in the video, dst = the face to wear)"
DESCRIPTION = """\
Train a swap model from two facesets made by `livefake extract`.

  --src FACESET_A   the person in the video: the face the camera will see
  --dst FACESET_B   the face they will wear

The live swap is A -> B: a src face goes in and is drawn by the dst decoder in the same pose.
Training resumes from RUN when it already holds a checkpoint (same arch, resolution and face
type). RUN gets checkpoint.safetensors (+ checkpoint.previous.safetensors), preview.png (rows
A, A->A, B, B->B, A->B; history in previews/), losses.csv, losses.png and run.json.
"""

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    add = parser.add_argument
    add("--src", required=True, metavar="FACESET_A", help="faceset of the person in the video")
    add("--dst", required=True, metavar="FACESET_B", help="faceset of the face they will wear")
    add("--out", required=True, metavar="RUN", help="run folder (resumed when it has a checkpoint)")
    add("--arch", default="lite", choices=tuple(ARCHITECTURES), help="architecture (default lite)")
    add("--resolution", type=int, default=128, help="crop size in pixels, as the facesets")
    add("--face-type", default="whole", help="face type of the facesets (default whole)")
    add("--batch", type=int, default=8, help="faces per identity per step (default 8)")
    add("--max-steps", type=int, help="stop at this step (counted over resumes)")
    add("--time-limit", help="stop after this long in this session: 90s, 10m, 2h")
    add("--preview-every", type=int, default=250, metavar="N", help="preview + loss plot (250)")
    add("--save-every", type=int, default=500, metavar="N", help="checkpoint every N steps (500)")
    add("--seed", type=int, default=0, help="seed for weights and batches (default 0)")
    add("--adversarial-from", type=int, metavar="STEP", help="start the PatchGAN phase at STEP")
    add("--device", default="auto", choices=("auto", "cpu", "cuda"), help="default auto")
    add("--lr", type=float, default=2e-4, help="AdamW learning rate (default 2e-4)")
    add("--threads", type=int, help="torch CPU threads (default: all cores)")
    widths = parser.add_argument_group("model widths (default: the architecture's)")
    for name in ("encoder-dims", "inter-dims", "decoder-dims", "mask-dims"):
        widths.add_argument(f"--{name}", type=int)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from livefake.models.trainer import TrainArgs, Trainer, parse_duration

    train_args = TrainArgs(
        src=args.src,
        dst=args.dst,
        out=args.out,
        arch=args.arch,
        resolution=args.resolution,
        face_type=args.face_type,
        batch=args.batch,
        max_steps=args.max_steps,
        time_limit_s=parse_duration(args.time_limit) if args.time_limit else None,
        preview_every=args.preview_every,
        save_every=args.save_every,
        seed=args.seed,
        adversarial_from=args.adversarial_from,
        device=args.device,
        learning_rate=args.lr,
        threads=args.threads,
        encoder_dims=args.encoder_dims,
        inter_dims=args.inter_dims,
        decoder_dims=args.decoder_dims,
        mask_dims=args.mask_dims,
        progress=not args.no_progress,
    )
    result = Trainer(train_args).run()
    logger.info(
        "stopped at step %d (%s), %.2f it/s; checkpoint %s",
        result.step, result.stopped_by, result.steps_per_second, result.checkpoint,
    )  # fmt: skip
    return 0
