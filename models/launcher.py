"""``livefake train --nproc N``: start N training processes on this machine, as torchrun would.

Each child runs the same ``livefake train`` command with ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``LOCAL_WORLD_SIZE``, ``MASTER_ADDR`` (127.0.0.1) and a free ``MASTER_PORT``.
Rank 0 keeps this terminal (progress bar, its messages); the others write to a temporary log.
The children run in their own sessions, so a Ctrl-C, SIGTERM or SIGHUP reaches them only
through this launcher, which forwards it to all: every rank stops after the same step and
rank 0 saves. When one rank fails, the others are stopped and one line says which rank failed
and why; the exit status is that rank's.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import IO, Any

from livefake.models.distributed import LAUNCHED_BY_LIVEFAKE, PeerLost
from livefake.models.signals import STOP_SIGNALS

OWN_EXIT_S = 1.0  # after one rank fails, how long the others get to fail or finish on their own
STOP_GRACE_S = 6.0  # ... and before SIGKILL
POLL_S = 0.05


@dataclass
class Rank:
    number: int
    process: subprocess.Popen[bytes]
    log: IO[bytes] | None
    exit_order: int = -1
    stopped_by_us: bool = False

    def last_error_line(self) -> str:
        if self.log is None:
            return ""
        self.log.seek(0)
        lines = [line.strip() for line in self.log.read().decode(errors="replace").splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("livefake: error:")]
        chosen = errors[-1] if errors else (lines[-1] if lines else "")
        return chosen.removeprefix("livefake: error:").strip()


@dataclass
class Launch:
    ranks: list[Rank] = field(default_factory=list)
    forwarded: int | None = None  # the stop signal passed on to every rank

    def forward(self, number: int, _frame: FrameType | None) -> None:
        self.forwarded = self.forwarded or number
        for rank in self.ranks:
            if rank.process.poll() is None:
                rank.process.send_signal(number)


def child_environment(rank: int, processes: int, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(port),
        "WORLD_SIZE": str(processes),
        "RANK": str(rank),
        "LOCAL_RANK": str(rank),
        "LOCAL_WORLD_SIZE": str(processes),
        LAUNCHED_BY_LIVEFAKE: "1",
    }


def launch(command: Sequence[str], processes: int) -> int:
    """Run ``command`` as ``processes`` ranks; the exit status of the run (0, 128 + signal, or the failure's)."""
    port = free_port()
    launch = Launch()
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        previous = {number: signal.signal(number, launch.forward) for number in STOP_SIGNALS}
    try:
        for number in range(processes):
            log = tempfile.TemporaryFile() if number else None
            process = subprocess.Popen(
                list(command), env=child_environment(number, processes, port), start_new_session=True,
                stdout=subprocess.DEVNULL if number else None, stderr=log,
            )  # fmt: skip
            launch.ranks.append(Rank(number, process, log))
        _wait_all(launch)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for rank in launch.ranks:
            if rank.process.poll() is None:
                rank.process.kill()
                rank.process.wait()
    return _report(launch, processes)


def _wait_all(launch: Launch) -> None:
    order, failed_at = 0, None
    while any(rank.process.poll() is None for rank in launch.ranks):
        for rank in launch.ranks:
            if rank.process.poll() is not None and rank.exit_order < 0:
                rank.exit_order, order = order, order + 1
                if rank.process.returncode != 0 and failed_at is None:
                    failed_at = time.monotonic()
        waited = time.monotonic() - failed_at if failed_at is not None else 0.0
        if waited > OWN_EXIT_S:
            _stop_others(launch, signal.SIGTERM if waited < STOP_GRACE_S else signal.SIGKILL)
        time.sleep(POLL_S)
    for rank in launch.ranks:
        if rank.exit_order < 0:
            rank.exit_order, order = order, order + 1


def _stop_others(launch: Launch, number: int) -> None:
    for rank in launch.ranks:
        if rank.process.poll() is None and (number == signal.SIGKILL or not rank.stopped_by_us):
            rank.stopped_by_us = True
            rank.process.send_signal(number)


def _report(launch: Launch, processes: int) -> int:
    """Exit status of the run; prints one line when a rank other than 0 (or a killed rank 0) failed."""
    codes = {rank.number: rank.process.returncode for rank in launch.ranks}
    if all(code == 0 for code in codes.values()):
        return 0
    stop_code = 128 + launch.forwarded if launch.forwarded else None
    if stop_code is not None and all(code in (0, stop_code) for code in codes.values()):
        return stop_code  # rank 0 said where it saved
    origin = _origin(launch, stop_code)
    code = origin.process.returncode
    if origin.number != 0 or code < 0:
        print(f"livefake: error: {_failure_line(origin, processes)}; stopped every rank", file=sys.stderr)
    return 128 - code if code < 0 else code


def _origin(launch: Launch, stop_code: int | None) -> Rank:
    """The rank that failed first for a reason of its own (not a lost peer, not stopped by us)."""
    failed = sorted(
        (rank for rank in launch.ranks if rank.process.returncode not in (0, stop_code)), key=lambda r: r.exit_order
    )
    own = [rank for rank in failed if rank.process.returncode != PeerLost.exit_code and not rank.stopped_by_us]
    said = [rank for rank in own if rank.number == 0 and rank.process.returncode > 0]  # rank 0 said why itself
    return (said or own or failed)[0]


def _failure_line(rank: Rank, processes: int) -> str:
    code = rank.process.returncode
    if code < 0:
        return f"rank {rank.number} of {processes} was killed by {signal.Signals(-code).name}"
    detail = rank.last_error_line() or f"exit status {code}"
    return f"rank {rank.number} of {processes} failed: {detail}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
