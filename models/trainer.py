"""The trainer: two facesets in, a swap model out, with previews, loss plots and exact resume.

Each step draws one augmented batch per identity from a generator seeded by
``(seed, step, identity)``, so a run resumed from a checkpoint (weights, optimizer state,
torch RNG) sees exactly the batches the uninterrupted run would have seen.
"""

from __future__ import annotations

import json
import logging
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from tqdm import tqdm

from livefake.errors import DeviceError, InputError
from livefake.models.augment import AugmentConfig
from livefake.models.base import IDENTITIES, ModelConfig, SwapAutoencoder
from livefake.models.checkpoint import (
    LoadedCheckpoint,
    TrainState,
    has_checkpoint,
    load_checkpoint,
    restore_module,
    restore_torch_rng,
    save_checkpoint,
)
from livefake.models.dataset import Batch, FaceSamples, load_face_samples, make_batch
from livefake.models.losses import LossWeights, PatchDiscriminator
from livefake.models.preview import LossLog, plot_losses
from livefake.models.registry import build_model, default_config
from livefake.models.step import TrainingStep, render_preview

logger = logging.getLogger(__name__)
PLOTTED_LOSSES = ("src_recon", "dst_recon", "mask")


@dataclass(frozen=True)
class TrainArgs:
    src: str  # faceset of the person in the video (identity A)
    dst: str  # faceset of the face they will wear (identity B)
    out: str  # run folder: checkpoint, previews, losses
    arch: str = "lite"
    resolution: int = 128
    face_type: str = "whole"
    batch: int = 8
    max_steps: int | None = None
    time_limit_s: float | None = None
    preview_every: int = 250
    save_every: int = 500
    seed: int = 0
    adversarial_from: int | None = None  # step at which the PatchGAN phase starts
    device: str = "auto"  # auto | cpu | cuda
    learning_rate: float = 2e-4
    weight_decay: float = 1e-4
    encoder_dims: int | None = None
    inter_dims: int | None = None
    decoder_dims: int | None = None
    mask_dims: int | None = None
    threads: int | None = None  # torch CPU threads; default: every core
    progress: bool = True
    losses: LossWeights = field(default_factory=LossWeights)
    augment: AugmentConfig = field(default_factory=AugmentConfig)


@dataclass(frozen=True)
class TrainResult:
    step: int
    stopped_by: str  # "max-steps", "time-limit"
    checkpoint: Path
    losses: dict[str, float]
    steps_per_second: float


def choose_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise DeviceError("--device cuda asked but no CUDA GPU is visible to torch: use --device cpu")
    if name not in ("cpu", "cuda"):
        raise InputError(f"--device {name!r} is not one of auto, cpu, cuda")
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


class Trainer:
    def __init__(self, args: TrainArgs) -> None:
        if args.max_steps is None and args.time_limit_s is None:
            raise InputError("give --max-steps or --time-limit (or both) so training knows when to stop")
        self.args = args
        self.run_dir = Path(args.out)
        self.device = choose_device(args.device)
        _set_threads(self.device, args.threads)
        resumed = load_checkpoint(self.run_dir) if has_checkpoint(self.run_dir) else None
        self.config = self._model_config(resumed)
        self.samples: dict[str, FaceSamples] = {
            "src": load_face_samples(args.src, self.config.face_type, self.config.resolution),
            "dst": load_face_samples(args.dst, self.config.face_type, self.config.resolution),
        }
        self.seed = resumed.state.seed if resumed else args.seed
        torch.manual_seed(self.seed)
        self.model: SwapAutoencoder = build_model(self.config).to(self.device)
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=args.learning_rate, weight_decay=args.weight_decay
        )
        self.discriminator = PatchDiscriminator().to(self.device) if args.adversarial_from is not None else None
        self.discriminator_optimizer = (
            torch.optim.AdamW(self.discriminator.parameters(), lr=args.learning_rate, betas=(0.5, 0.999))
            if self.discriminator is not None
            else None
        )
        self.step = 0
        self.elapsed_before = 0.0
        if resumed:
            self._restore(resumed)
        self.loss_log = LossLog(self.run_dir, keep_until_step=self.step)
        self.training_step = TrainingStep(
            self.model,
            self.optimizer,
            self.device,
            args.losses,
            self.discriminator,
            self.discriminator_optimizer,
        )

    def run(self) -> TrainResult:
        """Train until ``max_steps`` or the time limit; checkpoint, preview and plot on the way."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._write_run_description()
        started = time.monotonic()
        stop_step = self.args.max_steps if self.args.max_steps is not None else 2**62
        losses: dict[str, float] = {}
        steps_done = 0
        bar = self._progress_bar()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="batches") as pool:
            upcoming = pool.submit(self._batches, self.step)
            try:
                while self.step < stop_step and not self._out_of_time(started):
                    batches = upcoming.result()
                    upcoming = pool.submit(self._batches, self.step + 1)
                    adversarial = self.args.adversarial_from is not None and self.step >= self.args.adversarial_from
                    losses = self.training_step(batches["src"], batches["dst"], adversarial)
                    self.step += 1
                    steps_done += 1
                    self.loss_log.append(self.step, losses)
                    bar.update(1)
                    bar.set_postfix_str(_postfix(losses, started, self.args.time_limit_s), refresh=False)
                    self._periodic_outputs(started)
            except KeyboardInterrupt:
                self.save(started)
                raise
            finally:
                bar.close()
                _cancel(upcoming)
        checkpoint = self.save(started)
        self.write_preview()
        self.write_loss_plot()
        stopped_by = "max-steps" if self.step >= stop_step else "time-limit"
        rate = steps_done / max(time.monotonic() - started, 1e-9)
        return TrainResult(self.step, stopped_by, checkpoint, losses, rate)

    def _progress_bar(self) -> tqdm:
        return tqdm(
            total=self.args.max_steps, initial=self.step, unit="it", disable=not self.args.progress, dynamic_ncols=True
        )

    def save(self, started: float) -> Path:
        elapsed = self.elapsed_before + time.monotonic() - started
        state = TrainState(
            step=self.step,
            seed=self.seed,
            elapsed_s=elapsed,
            identities={"src": str(self.args.src), "dst": str(self.args.dst)},
            training=_jsonable(self.args),
        )
        modules = {"discriminator": self.discriminator} if self.discriminator is not None else {}
        optimizers = {"discriminator": self.discriminator_optimizer} if self.discriminator_optimizer is not None else {}
        return save_checkpoint(self.run_dir, self.model, self.optimizer, state, modules, optimizers)

    def write_preview(self) -> Path:
        path = self.run_dir / "preview.png"
        render_preview(
            self.model,
            self.samples,
            self.device,
            path,
            self.run_dir / "previews" / f"step-{self.step:07d}.png",
        )
        return path

    def write_loss_plot(self) -> Path:
        path = self.run_dir / "losses.png"
        plot_losses(self.loss_log.rows, path, PLOTTED_LOSSES)
        return path

    def _batches(self, step: int) -> dict[str, Batch]:
        return {
            identity: make_batch(
                self.samples[identity],
                np.random.default_rng([self.seed, step, index]),
                self.args.batch,
                self.args.augment,
            )
            for index, identity in enumerate(IDENTITIES)
        }

    def _periodic_outputs(self, started: float) -> None:
        if self.args.save_every > 0 and self.step % self.args.save_every == 0:
            self.save(started)
        if self.args.preview_every > 0 and self.step % self.args.preview_every == 0:
            self.write_preview()
            self.write_loss_plot()

    def _out_of_time(self, started: float) -> bool:
        limit = self.args.time_limit_s
        return limit is not None and time.monotonic() - started >= limit

    def _model_config(self, resumed: LoadedCheckpoint | None) -> ModelConfig:
        args = self.args
        if resumed is None:
            return default_config(
                args.arch, args.resolution, args.face_type, encoder_dims=args.encoder_dims,
                inter_dims=args.inter_dims, decoder_dims=args.decoder_dims, mask_dims=args.mask_dims,
            )  # fmt: skip
        config = resumed.config
        asked = (args.arch, args.resolution, args.face_type)
        if asked != (config.arch, config.resolution, config.face_type):
            raise InputError(
                f"run folder {self.run_dir} holds a {config.arch} {config.resolution} px "
                f"'{config.face_type}' model, not {asked[0]} {asked[1]} px '{asked[2]}': "
                "use another --out or the same settings"
            )
        return config

    def _restore(self, resumed: LoadedCheckpoint) -> None:
        restore_module(self.model, resumed.model_state, resumed.path)
        self.optimizer.load_state_dict(resumed.optimizer_state)
        if self.discriminator is not None and "discriminator" in resumed.module_states:
            restore_module(self.discriminator, resumed.module_states["discriminator"], resumed.path)
            if self.discriminator_optimizer is not None:
                self.discriminator_optimizer.load_state_dict(resumed.optimizer_states["discriminator"])
        restore_torch_rng(resumed.rng_tensors)
        self.step = resumed.step
        self.elapsed_before = resumed.state.elapsed_s
        logger.info("resuming %s from step %d (%s)", self.run_dir, self.step, resumed.path.name)

    def _write_run_description(self) -> None:
        description = {
            "model": self.config.to_dict(),
            "training": _jsonable(self.args),
            "device": str(self.device),
        }
        (self.run_dir / "run.json").write_text(json.dumps(description, indent=2))


def _set_threads(device: torch.device, threads: int | None) -> None:
    if device.type == "cpu":
        torch.set_num_threads(threads or os.cpu_count() or 1)
        cv2.setNumThreads(1)  # batch preparation runs beside torch: leave the cores to it


def _postfix(losses: dict[str, float], started: float, time_limit_s: float | None) -> str:
    text = f"A {losses['src_recon']:.4f} B {losses['dst_recon']:.4f} mask {losses['mask']:.4f}"
    if time_limit_s is not None:
        left = max(0.0, time_limit_s - (time.monotonic() - started))
        text += f" left {left / 60:.1f}m"
    return text


def _jsonable(args: TrainArgs) -> dict[str, Any]:
    return json.loads(json.dumps(asdict(args), default=str))


def _cancel(future: Future[Any]) -> None:
    if not future.cancel():
        future.exception()  # let a running batch finish; its result is not needed
