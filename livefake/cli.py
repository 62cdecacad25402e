"""The ``livefake`` command. Each subcommand is a module in ``livefake.commands``.

A command module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``,
and imports its heavy dependencies inside ``run`` so that ``livefake --help`` stays fast.

SIGINT (Ctrl-C), SIGTERM and SIGHUP all stop a command the same orderly way: the main thread
gets an ``Interrupted`` (a ``KeyboardInterrupt``), so a live run closes and finalises its
sinks, and an offline one removes what it had half-written. A command that lets it through
exits 128 + the signal number (130, 143, 129) with one line.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType, ModuleType

import livefake.commands
from livefake import __version__
from livefake.errors import LivefakeError

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class Interrupted(KeyboardInterrupt):
    """A stop signal, raised in the main thread like Ctrl-C; remembers which signal it was."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        self.signum = int(signum)
        super().__init__(signal.Signals(self.signum).name)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


@contextmanager
def stop_signals_interrupt(process_exits_after: bool = False) -> Iterator[None]:
    """While inside, SIGINT, SIGTERM and SIGHUP raise ``Interrupted`` in the main thread.

    Only the first signal raises: later ones arrive while the command is already stopping
    (closing a recording, removing partial files) and must not cut that short. When the
    process exits right after (the command line), a later one is ignored to the end, for
    the interpreter would otherwise die of it on its way out; else the handlers are restored.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def stop(signum: int, frame: FrameType | None) -> None:
        if received:
            return
        received.append(signum)
        raise Interrupted(signum)

    previous = {signum: signal.signal(signum, stop) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_IGN if received and process_exits_after else handler)


def command_modules() -> list[ModuleType]:
    names = sorted(info.name for info in pkgutil.iter_modules(livefake.commands.__path__))
    modules = [importlib.import_module(f"livefake.commands.{name}") for name in names if not name.startswith("_")]
    return [module for module in modules if hasattr(module, "run")]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="livefake", description="Real-time face swap for calls, streams and recordings."
    )
    parser.add_argument("--version", action="version", version=f"livefake {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in command_modules():
        sub = commands.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        sub.set_defaults(handler=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")  # camera probing warnings are ours to report
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO, format="livefake: %(message)s", stream=sys.stderr
    )
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        with stop_signals_interrupt(process_exits_after=argv is None):
            return int(args.handler(args) or 0)
    except LivefakeError as error:
        if args.debug:
            raise
        print(f"livefake: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt as interrupt:
        stopped = interrupt if isinstance(interrupt, Interrupted) else Interrupted()
        print(f"livefake: {args.command} stopped by {stopped}", file=sys.stderr)
        return stopped.exit_code


if __name__ == "__main__":
    sys.exit(main())
