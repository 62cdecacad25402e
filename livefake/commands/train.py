"""``livefake train``: train a swap model from two facesets."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from typing import TYPE_CHECKING

from livefake.errors import InputError, LivefakeError

if TYPE_CHECKING:
    from livefake.models.trainer import TrainArgs


NAME = "train"
INIT_PARTS = ("all", "encoder-inter")  # as livefake.models.warm_start (this module must not import torch)
HELP = "train a face-swap model from two facesets (src = the person in the video, dst = the face to wear)"
DESCRIPTION = """\
Train a swap model from two facesets made by `livefake extract`.

  --src FACESET_A   the person in the video: the face the camera will see
  --dst FACESET_B   the face they will wear

The live swap is A -> B: a src face goes in and is drawn by the dst decoder in the same pose.
Training resumes from RUN when it already holds a checkpoint (same arch, resolution, face type
and widths). RUN gets checkpoint.safetensors (+ checkpoint.previous.safetensors), preview.png
(rows A, A->A, B, B->B, A->B; history in previews/), losses.csv, losses.png and run.json.
Facesets extracted larger than --resolution are resized as they load.

Ctrl-C, SIGTERM and SIGHUP stop after the current step and save (exit 130, 143, 129).

Several processes (DistributedDataParallel; NCCL on CUDA, gloo on the CPU; --batch is per
process): `livefake train --nproc N ...`, or `torchrun --nproc-per-node N $(which livefake)
train ...`; several machines through torchrun's rendezvous (see the README).
"""

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    add = parser.add_argument
    add("--src", required=True, metavar="FACESET_A", help="faceset of the person in the video")
    add("--dst", required=True, metavar="FACESET_B", help="faceset of the face they will wear")
    add("--out", required=True, metavar="RUN", help="run folder (resumed when it has a checkpoint)")
    add("--arch", default="lite", choices=("df", "liae", "lite"), help="architecture (default lite)")
    add("--resolution", type=int, default=128, help="model crop size in px (default 128; larger facesets are resized)")
    add("--face-type", help="face type of the model (default: the facesets')")
    add("--batch", type=int, default=8, help="faces per identity per step and process (default 8)")
    add("--max-steps", type=int, help="stop at this step (counted over resumes)")
    add("--time-limit", help="stop after this long in this session: 90s, 10m, 2h")
    add("--preview-every", type=int, default=250, metavar="N", help="preview + loss plot (250)")
    add("--save-every", type=int, default=500, metavar="N", help="checkpoint every N steps (500)")
    add("--seed", type=int, default=0, help="seed for weights and batches (default 0)")
    add("--adversarial-from", type=int, metavar="STEP", help="start the PatchGAN phase at STEP")
    add("--device", default="auto", choices=("auto", "cpu", "cuda"), help="default auto")
    add("--lr", type=float, default=2e-4, help="AdamW learning rate (default 2e-4)")
    add("--threads", type=int, help="torch CPU threads per process (default: the cores shared out)")
    add("--workers", type=int, help="batch-making worker processes per process (default 1 on CPU, 4 on CUDA)")
    add("--nproc", type=int, default=1, metavar="N", help="train in N processes on this machine (DDP)")
    add("--init-from", metavar="RUN", help="warm start a new run from RUN's weights (same arch and widths)")
    add("--init-parts", choices=INIT_PARTS, default="all", help="weights --init-from copies (default all)")
    add("--compile", action="store_true", help="torch.compile the training step (pays on CUDA)")
    widths = parser.add_argument_group("model widths (default: the architecture's)")
    for name in ("encoder-dims", "inter-dims", "decoder-dims", "mask-dims"):
        widths.add_argument(f"--{name}", type=int)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    if args.nproc < 1:
        raise InputError(f"--nproc {args.nproc} must be 1 or more")
    if args.nproc > 1 and "WORLD_SIZE" not in os.environ:
        from livefake.models.launcher import launch

        return launch(child_command(args), args.nproc)
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        # one of several ranks: leave without running destructors, as a gloo process group can
        # deadlock tearing down its threads; rank 0 has fsync'ed everything it wrote
        code = _report_errors(args)
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return train(args)


def train(args: argparse.Namespace) -> int:
    from livefake.models.distributed import PeerLost, launched_by_livefake
    from livefake.models.signals import TrainingStopped
    from livefake.models.trainer import Trainer

    try:
        result = Trainer(train_arguments(args)).run()
    except TrainingStopped as stopped:
        if os.environ.get("RANK", "0") == "0":
            print(f"livefake: {stopped}", file=sys.stderr)
        return stopped.exit_code
    except PeerLost as lost:
        if not launched_by_livefake():
            print(f"livefake: error: {lost}", file=sys.stderr)
        return lost.exit_code
    if result.checkpoint is not None:
        logger.info(
            "stopped at step %d (%s), %.2f it/s, %.0f%% of the time waiting for data; checkpoint %s",
            result.step, result.stopped_by, result.steps_per_second, 100 * result.data_wait_share, result.checkpoint,
        )  # fmt: skip
    return 0


def _report_errors(args: argparse.Namespace) -> int:
    """``train`` with errors reported as the CLI's edge would (this rank exits without returning there)."""
    try:
        return train(args)
    except LivefakeError as error:
        if args.debug:
            traceback.print_exc()
        print(f"livefake: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception:
        traceback.print_exc()
        return 1


def train_arguments(args: argparse.Namespace) -> TrainArgs:
    from livefake.models.trainer import TrainArgs, parse_duration

    return TrainArgs(
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
        workers=args.workers,
        encoder_dims=args.encoder_dims,
        inter_dims=args.inter_dims,
        decoder_dims=args.decoder_dims,
        mask_dims=args.mask_dims,
        init_from=args.init_from,
        init_parts=args.init_parts,
        compile=args.compile,
        progress=not args.no_progress,
    )


def child_command(args: argparse.Namespace) -> list[str]:
    """The same `livefake train` command line for each of the --nproc processes."""
    command = [sys.executable, "-m", "livefake.cli", *(["--debug"] if args.debug else []), NAME]
    for key, value in vars(args).items():
        if key in ("command", "handler", "debug", "nproc") or value is None or value is False:
            continue
        command.append("--" + key.replace("_", "-"))
        if value is not True:
            command.append(str(value))
    return command
