"""Several training processes: the process group, per-step agreement, and losing a peer.

A run is distributed when ``WORLD_SIZE`` > 1 in the environment, as ``torchrun`` (or
``livefake train --nproc N``) sets it with ``RANK``, ``LOCAL_RANK``, ``MASTER_ADDR`` and
``MASTER_PORT``. The backend is NCCL on CUDA and gloo on the CPU. After every step the ranks
sum one small tensor: the step's losses (so rank 0 logs the mean over the global batch) and
whether any rank wants to stop (a signal, the time limit), so all ranks stop after the same
step and rank 0 saves a checkpoint the others agree with.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

from livefake.errors import LivefakeError

COLLECTIVE_TIMEOUT = timedelta(minutes=10)  # longest a rank waits for the others (rank 0 saving, a slow peer)
LAUNCHED_BY_LIVEFAKE = "LIVEFAKE_LAUNCHER"  # set by `livefake train --nproc`: it reports a lost peer itself


class PeerLost(LivefakeError):
    """Another rank stopped (crashed or was killed) while this one waited on it."""

    exit_code = 75


@dataclass(frozen=True)
class World:
    """This process's place among the training processes."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def world_from_environment() -> World:
    size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", str(rank)))
    return World(rank=rank, size=size, local_rank=local_rank)


def launched_by_livefake() -> bool:
    return os.environ.get(LAUNCHED_BY_LIVEFAKE) == "1"


def start_process_group(world: World, device: torch.device) -> None:
    """Join the process group (NCCL on CUDA, gloo on the CPU); no-op for one process."""
    if not world.distributed or dist.is_initialized():
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    try:
        if device.type == "cuda":
            dist.init_process_group(backend, timeout=COLLECTIVE_TIMEOUT, device_id=device)
        else:
            dist.init_process_group(backend, timeout=COLLECTIVE_TIMEOUT)
    except (RuntimeError, ValueError) as error:
        raise PeerLost(f"rank {world.rank} could not join the other {world.size - 1} ranks ({error})") from error


def agree(
    world: World, losses: dict[str, float], signalled: bool, timed_out: bool, device: torch.device
) -> tuple[dict[str, float], bool, bool]:
    """The losses averaged over ranks, whether any rank got a stop signal, whether any ran out of time."""
    if not world.distributed:
        return losses, signalled, timed_out
    names = sorted(losses)
    values = torch.tensor([losses[name] for name in names] + [float(signalled), float(timed_out)], dtype=torch.float64)
    if device.type == "cuda":
        values = values.to(device)
    collective(world, dist.all_reduce, values)
    summed = values.cpu().tolist()
    averaged = {name: summed[index] / world.size for index, name in enumerate(names)}
    return averaged, summed[-2] > 0, summed[-1] > 0


def average_gradients(world: World, module: torch.nn.Module) -> None:
    """Average ``module``'s gradients over ranks (for modules not wrapped in DDP)."""
    if not world.distributed:
        return
    grads = [param.grad for param in module.parameters() if param.grad is not None]
    if not grads:
        return
    flat = torch.cat([grad.reshape(-1) for grad in grads])
    collective(world, dist.all_reduce, flat)
    flat /= world.size
    offset = 0
    for grad in grads:
        grad.copy_(flat[offset : offset + grad.numel()].view_as(grad))
        offset += grad.numel()


def collective(world: World, operation: object, *args: object) -> None:
    """Run a collective; PeerLost when another rank is gone."""
    try:
        operation(*args)  # type: ignore[operator]
    except RuntimeError as error:  # gloo raises plain RuntimeErrors for a lost connection
        if is_backend_failure(error):
            raise PeerLost(lost_peer_message(world, error)) from error
        raise


def is_backend_failure(error: BaseException) -> bool:
    """Whether an error raised inside DDP or a collective comes from the process group's transport."""
    if isinstance(error, dist.DistError):
        return True
    text = str(error)
    return any(mark in text for mark in ("gloo", "NCCL", "Connection reset", "Connection closed", "c10d"))


def lost_peer_message(world: World, error: BaseException) -> str:
    first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return f"rank {world.rank} of {world.size} lost contact with another rank ({first_line[:160]}): every rank stops"
