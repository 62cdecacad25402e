"""The trainer: two facesets in, a swap model out, with previews, loss plots and exact resume.

Each step trains on one augmented batch per identity drawn from a generator seeded by
``(seed, step, identity)`` in DataLoader workers (``livefake.models.loader``), so a run resumed
from a checkpoint (weights, optimizer state, torch RNG) sees exactly the batches the
uninterrupted run would have seen. Under several processes (``livefake.models.distributed``)
each rank trains on its shard of both facesets, gradients are averaged by DDP, and rank 0
alone writes checkpoints, previews, losses and ``run.json``. SIGINT, SIGTERM and SIGHUP stop
after the current step with a checkpoint (``livefake.models.signals``).
"""

from __future__ import annotations

import json
import logging
import signal
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from livefake.errors import InputError
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
from livefake.models.dataset import FaceSamples, check_same_face_type, load_face_samples
from livefake.models.distributed import agree, start_process_group, world_from_environment
from livefake.models.loader import BatchPlan, TimedBatches
from livefake.models.losses import LossWeights, PatchDiscriminator
from livefake.models.preview import LossLog, plot_losses, write_text_atomically
from livefake.models.registry import build_model
from livefake.models.run_setup import (
    WIDTHS,
    choose_device,
    default_workers,
    model_config,
    parse_duration,
    set_threads,
    writing,
)
from livefake.models.signals import StopSignals, TrainingStopped
from livefake.models.step import TrainingStep, render_preview
from livefake.models.warm_start import warm_start

__all__ = ["TrainArgs", "TrainResult", "Trainer", "parse_duration"]
logger = logging.getLogger(__name__)
PLOTTED_LOSSES = ("src_recon", "dst_recon", "mask")


@dataclass(frozen=True)
class TrainArgs:
    src: str  # faceset of the person in the video (identity A)
    dst: str  # faceset of the face they will wear (identity B)
    out: str  # run folder: checkpoint, previews, losses
    arch: str = "lite"
    resolution: int = 128
    face_type: str | None = None  # default: the facesets' face type
    batch: int = 8  # faces per identity per step, in each process
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
    threads: int | None = None  # torch CPU threads; default: the cores shared between local processes
    workers: int | None = None  # DataLoader workers per process; default 1 on CPU, up to 4 on CUDA
    init_from: str | None = None  # warm start: a run folder or checkpoint file
    init_parts: str = "all"  # all | encoder-inter
    compile: bool = False  # torch.compile the training step
    progress: bool = True
    losses: LossWeights = field(default_factory=LossWeights)
    augment: AugmentConfig = field(default_factory=AugmentConfig)


@dataclass(frozen=True)
class TrainResult:
    step: int
    stopped_by: str  # "max-steps", "time-limit"
    checkpoint: Path | None  # None on ranks other than 0
    losses: dict[str, float]
    steps_per_second: float
    data_wait_share: float  # share of the loop's time spent waiting for batches
    global_batch: int  # faces per identity per step, all processes together


class Trainer:
    def __init__(self, args: TrainArgs) -> None:
        if args.max_steps is None and args.time_limit_s is None:
            raise InputError("give --max-steps or --time-limit (or both) so training knows when to stop")
        self.args = args
        self.run_dir = Path(args.out)
        self.world = world_from_environment()
        self.device = choose_device(args.device, self.world)
        set_threads(self.device, args.threads, self.world)
        face_type = args.face_type or check_same_face_type(Path(args.src), Path(args.dst))
        resumed = load_checkpoint(self.run_dir) if has_checkpoint(self.run_dir) else None
        self.config = model_config(args, face_type, self.run_dir, resumed)
        self.samples = self._load_samples(self.config)
        self.seed = resumed.state.seed if resumed else args.seed
        torch.manual_seed(self.seed)
        self.model: SwapAutoencoder = build_model(self.config).to(self.device)
        if resumed is None and args.init_from:
            warm_start(self.model, args.init_from, args.init_parts)
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
        start_process_group(self.world, self.device)
        self.loss_log = LossLog(self.run_dir, keep_until_step=self.step) if self.world.is_main else None
        self.training_step = TrainingStep(
            self.model, self.optimizer, self.device, args.losses, self.discriminator,
            self.discriminator_optimizer, self.world, args.compile,
        )  # fmt: skip

    def run(self) -> TrainResult:
        """Train until ``max_steps``, the time limit or a stop signal; checkpoint, preview and plot on the way."""
        if self.world.is_main:
            with writing(self.run_dir, "run.json"):
                self.run_dir.mkdir(parents=True, exist_ok=True)
                self._write_run_description()
        return self._train()

    def _train(self) -> TrainResult:
        started = time.monotonic()
        stop_step = self.args.max_steps if self.args.max_steps is not None else 2**62
        first_step, losses, signalled, timed_out = self.step, {}, False, False
        workers = default_workers(self.device, self.args.workers)
        batches = TimedBatches(self._plan(), self.step, stop_step, workers, self.device)
        bar = tqdm(total=self.args.max_steps, initial=self.step, unit="it", dynamic_ncols=True,
                   disable=not (self.args.progress and self.world.is_main))  # fmt: skip
        with StopSignals() as signals:
            try:
                while self.step < stop_step and not (signalled or timed_out):
                    tensors = batches.next()
                    adversarial = self.args.adversarial_from is not None and self.step >= self.args.adversarial_from
                    raw = self.training_step(tensors["src"], tensors["dst"], adversarial)
                    self.step += 1
                    wants = (signals.received is not None, self._out_of_time(started))
                    losses, signalled, timed_out = agree(self.world, raw, *wants, self.device)
                    self._after_step(losses, started, bar, batches.waited_s)
            finally:
                bar.close()
                batches.close()
            elapsed = max(time.monotonic() - started, 1e-9)
            checkpoint = self._finish(started, signalled)
            if signalled:
                raise TrainingStopped(signals.received or signal.SIGTERM, self.step, checkpoint)
        stopped_by = "max-steps" if self.step >= stop_step else "time-limit"
        rate = (self.step - first_step) / elapsed
        share = batches.waited_s / elapsed
        return TrainResult(self.step, stopped_by, checkpoint, losses, rate, share, self.args.batch * self.world.size)

    def _after_step(self, losses: dict[str, float], started: float, bar: tqdm[Any], waited_s: float) -> None:
        if self.loss_log is None:
            return
        with writing(self.run_dir, "losses.csv"):
            self.loss_log.append(self.step, losses)
        bar.update(1)
        bar.set_postfix_str(_postfix(losses, started, self.args.time_limit_s, waited_s), refresh=False)
        if self.args.save_every > 0 and self.step % self.args.save_every == 0:
            self.save(started)
        if self.args.preview_every > 0 and self.step % self.args.preview_every == 0:
            self.write_preview()
            self.write_loss_plot()

    def _finish(self, started: float, signalled: bool) -> Path | None:
        """Rank 0: the final checkpoint, plus preview and plot unless a signal asked to stop now."""
        if not self.world.is_main:
            return None
        checkpoint = self.save(started)
        if not signalled:
            self.write_preview()
            self.write_loss_plot()
        return checkpoint

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
            training=self._training_description(),
        )
        modules = {"discriminator": self.discriminator} if self.discriminator is not None else {}
        optimizers = {"discriminator": self.discriminator_optimizer} if self.discriminator_optimizer is not None else {}
        with writing(self.run_dir, "the checkpoint"):
            return save_checkpoint(self.run_dir, self.model, self.optimizer, state, modules, optimizers)

    def write_preview(self) -> Path:
        path = self.run_dir / "preview.png"
        with writing(self.run_dir, "the preview"):
            render_preview(
                self.model, self.samples, self.device, path, self.run_dir / "previews" / f"step-{self.step:07d}.png"
            )
        return path

    def write_loss_plot(self) -> Path:
        path = self.run_dir / "losses.png"
        with writing(self.run_dir, "the loss plot"):
            plot_losses(self.loss_log.rows if self.loss_log else [], path, PLOTTED_LOSSES)
        return path

    def _load_samples(self, config: ModelConfig) -> dict[str, FaceSamples]:
        folders = {"src": self.args.src, "dst": self.args.dst}
        rank, size = self.world.rank, self.world.size
        return {
            key: load_face_samples(folders[key], config.face_type, config.resolution, rank, size) for key in IDENTITIES
        }

    def _plan(self) -> BatchPlan:
        args = self.args
        return BatchPlan(self.samples, self.seed, args.batch, args.augment, self.world.rank, self.world.size)

    def _out_of_time(self, started: float) -> bool:
        limit = self.args.time_limit_s
        return limit is not None and time.monotonic() - started >= limit

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
        before = resumed.training.get("processes", 1)
        if self.world.is_main:
            logger.info("resuming %s from step %d (%s)", self.run_dir, self.step, resumed.path.name)
            if before != self.world.size:
                logger.warning(
                    "this run trained in %d processes, now %d: batches differ from then on", before, self.world.size
                )

    def _training_description(self) -> dict[str, Any]:
        """The training arguments as they are in effect: widths and face type from the model."""
        actual = replace(
            self.args, face_type=self.config.face_type, **{name: getattr(self.config, name) for name in WIDTHS}
        )
        described: dict[str, Any] = json.loads(json.dumps(asdict(actual), default=str))
        described.update(processes=self.world.size, global_batch=self.args.batch * self.world.size)
        return described

    def _write_run_description(self) -> None:
        description = {
            "model": self.config.to_dict(),
            "training": self._training_description(),
            "device": str(self.device),
        }
        write_text_atomically(self.run_dir / "run.json", json.dumps(description, indent=2))


def _postfix(losses: dict[str, float], started: float, time_limit_s: float | None, waited_s: float) -> str:
    share = waited_s / max(time.monotonic() - started, 1e-9)
    text = f"A {losses['src_recon']:.4f} B {losses['dst_recon']:.4f} mask {losses['mask']:.4f} data wait {share:.0%}"
    if time_limit_s is not None:
        left = max(0.0, time_limit_s - (time.monotonic() - started))
        text += f" left {left / 60:.1f}m"
    return text
