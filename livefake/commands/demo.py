"""`livefake demo`: the live path on the bundled clip, swapped to the bundled photo, to a file."""

from __future__ import annotations

import argparse
import logging

from livefake.commands._options import add_swap_arguments, config_from_args, parse_size

NAME = "demo"
HELP = "run the live path on a bundled clip (no webcam, GPU or trained model needed)"

log = logging.getLogger("livefake")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="livefake-demo.mp4", help="output video (default livefake-demo.mp4)")
    parser.add_argument("--size", type=parse_size, default=(640, 480), metavar="WxH", help="clip size")
    parser.add_argument("--seconds", type=float, default=10.0, help="clip length")
    parser.add_argument("--window", action="store_true", help="also show a preview window")
    parser.add_argument("--passthrough", action="store_true", help="no swap: show the bare pipeline")
    add_swap_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from livefake.builder import build_pipeline
    from livefake.commands.live import wait_and_report
    from livefake.sources.assets import bundled_photo
    from livefake.sources.demo import demo_clip

    clip = demo_clip(args.size, args.seconds)
    face = None if args.passthrough or args.model else (args.face or str(bundled_photo("hopper")))
    if face is not None or args.model is not None:
        ensure_face_models()
    sinks = (args.out, "window") if args.window else (args.out,)
    config = config_from_args(
        args, source={"spec": str(clip), "realtime": True}, swap={"face": face}, output={"sinks": sinks}
    )
    pipeline = build_pipeline(config)
    log.info("demo: %s -> %s (%s)", clip.name, args.out, f"swap to {face}" if face else "passthrough")
    pipeline.start()
    try:
        wait_and_report(pipeline, None)
    finally:
        pipeline.stop()
    if pipeline.error is not None:
        raise pipeline.error
    log.info("%s", pipeline.stats.report().summary())
    log.info("wrote %s", args.out)
    return 0


def ensure_face_models() -> None:
    """The demo sets the face models up itself on first use, so one command is enough."""
    from livefake.errors import ModelError
    from livefake.face.assets import require_models
    from livefake.install.face_models import setup_models

    try:
        require_models()
    except ModelError:
        log.info("face models not set up yet: running `livefake setup` first")
        setup_models()
