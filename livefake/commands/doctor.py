"""`livefake doctor`: what this machine has for livefake, and what to do about each missing piece."""

from __future__ import annotations

import argparse
import sys

NAME = "doctor"
HELP = "check cameras, virtual cameras, inference providers, audio and face models"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--probe-cameras", type=int, default=4, metavar="N", help="try camera indices 0..N-1")
    parser.add_argument("--triton", metavar="URL", help="check a served model: triton://HOST:PORT/NAME")


def run(args: argparse.Namespace) -> int:
    from livefake.install.checks import run_checks

    checks = run_checks(args.probe_cameras, args.triton)
    for check in checks:
        mark = "ok  " if check.ok else "MISS"
        print(f"[{mark}] {check.name:15s} {check.summary}")
        if not check.ok and check.fix:
            print(f"       {'':15s} fix: {check.fix}")
    essential_ok = all(check.ok for check in checks if check.name in ("inference", "triton"))
    print(f"python {sys.version.split()[0]} on {sys.platform}")
    return 0 if essential_ok else 1
