"""`livefake setup`: fetch the pinned mediapipe wheel and build the ONNX face models."""

from __future__ import annotations

import argparse
import logging

NAME = "setup"
HELP = "download the face models (mediapipe 0.10.21, Apache-2.0) and convert them to ONNX"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--models-dir", help="where to keep the models (default: $LIVEFAKE_MODELS or ~/.cache)")
    parser.add_argument("--wheel", help="use this downloaded mediapipe-0.10.21 wheel instead of pip")
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def run(args: argparse.Namespace) -> int:
    from livefake.install.face_models import setup_models

    paths = setup_models(args.models_dir, progress=not args.quiet, wheel=args.wheel)
    logging.getLogger("livefake").info("face models ready in %s", paths.directory)
    return 0
