"""What a training run is set up from: device, threads, workers, the model config and its checks.

The model config comes from the flags for a new run and from the checkpoint when resuming;
a resume asked with another architecture, resolution, face type or width is refused, so the
run folder never holds one model while ``run.json`` describes another.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import cv2
import torch

from livefake.errors import DeviceError, InputError
from livefake.models.base import ModelConfig
from livefake.models.checkpoint import LoadedCheckpoint
from livefake.models.distributed import World
from livefake.models.registry import default_config

WIDTHS = ("encoder_dims", "inter_dims", "decoder_dims", "mask_dims")


class RunFolderError(InputError):
    """The run folder cannot be written (full disk, no permission); the last good checkpoint stays."""


class ModelFlags(Protocol):
    arch: str
    resolution: int
    encoder_dims: int | None
    inter_dims: int | None
    decoder_dims: int | None
    mask_dims: int | None


def choose_device(name: str, world: World | None = None) -> torch.device:
    """The torch device for ``--device``; under several processes, CUDA device ``LOCAL_RANK``."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise DeviceError("--device cuda asked but no CUDA GPU is visible to torch: use --device cpu")
    if name not in ("cpu", "cuda"):
        raise InputError(f"--device {name!r} is not one of auto, cpu, cuda")
    if name == "cuda" and world is not None and world.distributed:
        if world.local_rank >= torch.cuda.device_count():
            raise DeviceError(
                f"rank {world.rank} wants GPU {world.local_rank} but {torch.cuda.device_count()} are visible: "
                "start at most one process per GPU"
            )
        torch.cuda.set_device(world.local_rank)
        return torch.device("cuda", world.local_rank)
    return torch.device(name)


def parse_duration(text: str) -> float:
    """'90', '90s', '10m', '1.5h' -> seconds."""
    units = {"s": 1.0, "m": 60.0, "h": 3600.0}
    value = text.strip().lower()
    scale = units.get(value[-1:], 1.0)
    number = value[:-1] if value[-1:] in units else value
    try:
        seconds = float(number) * scale
    except ValueError as error:
        raise InputError(f"time limit {text!r} not understood: use e.g. 90s, 10m or 2h") from error
    if seconds <= 0:
        raise InputError(f"time limit {text!r} must be positive")
    return seconds


def set_threads(device: torch.device, threads: int | None, world: World) -> None:
    """Torch CPU threads: ``threads``, else the cores shared out between the local processes."""
    if device.type == "cpu":
        local = int(os.environ.get("LOCAL_WORLD_SIZE", str(world.size)))
        torch.set_num_threads(threads or max(1, (os.cpu_count() or 1) // max(1, local)))
        cv2.setNumThreads(1)  # batch preparation runs beside torch: leave the cores to it
    else:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True


def default_workers(device: torch.device, workers: int | None) -> int:
    """DataLoader workers per process: 1 on the CPU (the cores train), up to 4 on CUDA."""
    if workers is not None:
        if workers < 0:
            raise InputError(f"--workers {workers} must be 0 (batches in the training process) or more")
        return workers
    return 1 if device.type == "cpu" else min(4, os.cpu_count() or 1)


def model_config(flags: ModelFlags, face_type: str, run_dir: Path, resumed: LoadedCheckpoint | None) -> ModelConfig:
    """The config for a new run from the flags, or the checkpoint's after checking the flags agree."""
    asked = {name: getattr(flags, name) for name in WIDTHS}
    if resumed is None:
        return default_config(flags.arch, flags.resolution, face_type, **asked)
    config = resumed.config
    wanted = (flags.arch, flags.resolution, face_type)
    if wanted != (config.arch, config.resolution, config.face_type):
        raise InputError(
            f"run folder {run_dir} holds a {config.arch} {config.resolution} px "
            f"'{config.face_type}' model, not {wanted[0]} {wanted[1]} px '{wanted[2]}': "
            "use another --out or the same settings"
        )
    differ = [name for name, value in asked.items() if value is not None and value != getattr(config, name)]
    if differ:
        held = ", ".join(f"--{name.replace('_', '-')} {getattr(config, name)}" for name in differ)
        raise InputError(
            f"run folder {run_dir} holds a model with {held}: resume without those flags or use another --out"
        )
    return config


@contextlib.contextmanager
def writing(run_dir: Path, what: str) -> Iterator[None]:
    """Turn an OSError while writing ``what`` into one line naming the folder and the fix."""
    try:
        yield
    except OSError as error:
        reason = error.strerror or str(error)
        raise RunFolderError(
            f"cannot write {what} in {run_dir} ({reason}): free space or use another --out; "
            "the last good checkpoint is kept"
        ) from error
