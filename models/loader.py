"""Training batches made in DataLoader worker processes, one item per step.

Item ``step`` is the pair of augmented batches (src, dst) that step trains on, drawn from a
generator seeded by ``(seed, step, identity)`` (plus ``(rank, world)`` under several
processes), so which process or worker makes it, and when, never changes what it holds: a
resumed run sees exactly the batches the uninterrupted run would have seen. Workers warp and
augment while the model steps; on CUDA the batches come in pinned memory. Workers ignore
SIGINT, SIGTERM and SIGHUP: the trainer decides when to stop and shuts them down.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from livefake.models.augment import AugmentConfig
from livefake.models.base import IDENTITIES
from livefake.models.dataset import FaceSamples, make_batch

StepTensors = dict[str, tuple[torch.Tensor, ...]]  # identity -> (inputs, targets, masks, regions)


@dataclass(frozen=True)
class BatchPlan:
    """What every step's batches are drawn from: faces, seed, size, augmentation, this rank."""

    samples: dict[str, FaceSamples]
    seed: int
    batch: int
    augment: AugmentConfig
    rank: int = 0
    world: int = 1

    def seed_for(self, step: int, identity_index: int) -> list[int]:
        base = [self.seed, step, identity_index]
        return base if self.world == 1 else [*base, self.rank, self.world]


class StepBatches(Dataset[StepTensors]):
    """Map-style dataset: ``dataset[step]`` is that step's (src, dst) batches as CPU tensors."""

    def __init__(self, plan: BatchPlan) -> None:
        self.plan = plan

    def __getitem__(self, step: int) -> StepTensors:
        plan = self.plan
        tensors: StepTensors = {}
        for index, identity in enumerate(IDENTITIES):
            rng = np.random.default_rng(plan.seed_for(step, index))
            batch = make_batch(plan.samples[identity], rng, plan.batch, plan.augment)
            arrays = (batch.inputs, batch.targets, batch.masks, batch.regions)
            tensors[identity] = tuple(torch.from_numpy(array) for array in arrays)
        return tensors


class StepRange(Sampler[int]):
    """Steps ``first, first + 1, ...`` up to (not including) ``stop``."""

    def __init__(self, first: int, stop: int) -> None:
        self.first, self.stop = first, stop

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.first, self.stop))

    def __len__(self) -> int:
        return max(0, self.stop - self.first)


class TimedBatches:
    """Iterates a step loader onto ``device``, adding up the time spent waiting for each batch."""

    def __init__(self, plan: BatchPlan, first: int, stop: int, workers: int, device: torch.device) -> None:
        self.device = device
        self.loader = DataLoader(
            StepBatches(plan),
            batch_size=None,
            sampler=StepRange(first, stop),
            num_workers=workers,
            pin_memory=device.type == "cuda",
            prefetch_factor=2 if workers else None,
            worker_init_fn=_quiet_worker if workers else None,
        )
        self.waited_s = 0.0
        self._iterator: Iterator[StepTensors] | None = None

    def next(self) -> StepTensors:
        started = time.perf_counter()
        if self._iterator is None:
            self._iterator = iter(self.loader)
        host = next(self._iterator)
        on_device = {
            identity: tuple(tensor.to(self.device, non_blocking=True) for tensor in parts)
            for identity, parts in host.items()
        }
        self.waited_s += time.perf_counter() - started
        return on_device

    def close(self) -> None:
        """Stop the workers now (they would otherwise run ahead until garbage collection)."""
        iterator, self._iterator = self._iterator, None
        shutdown = getattr(iterator, "_shutdown_workers", None)
        if shutdown is not None:
            shutdown()


def _quiet_worker(_worker_id: int) -> None:
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.SIG_IGN)
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
