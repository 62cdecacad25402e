"""`livefake demo`: the live path on the bundled clip, swapped to the bundled photo, to a file."""

from __future__ import annotations

import argparse
import logging

from livefake.commands._options import add_swap_arguments, config_from_args, parse_size, positive_seconds
from livefake.commands._panel import add_panel_arguments, start_panel

NAME = "demo"
HELP = "run the live path on a bundled clip (no webcam, GPU or trained model needed)"

log = logging.getLogger("livefake")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="livefake-demo.mp4", help="output video (default livefake-demo.mp4)")
    parser.add_argument("--size", type=parse_size, default=(640, 480), metavar="WxH", help="clip size")
    parser.add_argument("--seconds", type=positive_seconds, default=10.0, help="clip length")
    parser.add_argument("--window", action="store_true", help="also show a preview window")
    parser.add_argument("--passthrough", action="store_true", help="no swap: show the bare pipeline")
    add_swap_arguments(parser)
    add_panel_arguments(parser, bind=True)


def run(args: argparse.Namespace) -> int:
    from livefake.builder import build_pipeline
    from livefake.commands.live import stop_and_finish, wait_and_report
    from livefake.sources.assets import bundled_photo
    from livefake.sources.demo import demo_clip

    clip = demo_clip(args.size, args.seconds)
    face = None if args.passthrough or args.model else (args.face or str(bundled_photo("hopper")))
    if face is not None or args.model is not None:
        ensure_face_models()
    sinks = (args.out, "window") if args.window else (args.out,)
    config = config_from_args(
        args, source={"spec": str(clip), "realtime": True, "loop": True if args.ui else None},  # --ui: until Ctrl-C
        swap={"face": face}, output={"sinks": sinks},
    )
    pipeline = build_pipeline(config)
    log.info("demo: %s -> %s (%s)", clip.name, args.out, f"swap to {face}" if face else "passthrough")
    pipeline.start()
    panel = None
    try:
        panel = start_panel(args, config, pipeline)
        wait_and_report(pipeline, None)
    except KeyboardInterrupt:  # Ctrl-C, a stop signal or the closed window: keep what was recorded
        log.info("stopping")
    finally:
        stop_and_finish(pipeline)
        if panel is not None:
            panel.close()
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
