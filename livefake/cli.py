"""The ``livefake`` command. Each subcommand is a module in ``livefake.commands``.

A command module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``,
and imports its heavy dependencies inside ``run`` so that ``livefake --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

import livefake.commands
from livefake import __version__
from livefake.errors import LivefakeError


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
        return int(args.handler(args) or 0)
    except LivefakeError as error:
        if args.debug:
            raise
        print(f"livefake: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("livefake: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
