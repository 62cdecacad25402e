"""`livefake convert`: swap faces in a recorded video (or image) offline; nothing is dropped."""

from __future__ import annotations

import argparse
import logging

from livefake.commands._options import add_swap_arguments, config_from_args

NAME = "convert"
HELP = "convert a video or image file offline (every frame kept, audio copied)"

log = logging.getLogger("livefake")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="video, image or folder of images")
    parser.add_argument("output", help="output video (.mp4/.mkv/.mov) or image file")
    add_swap_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from livefake.bench.progress import FrameProgress
    from livefake.builder import build_pipeline

    config = config_from_args(
        args, source={"spec": args.input, "realtime": False}, output={"sinks": (args.output,)}, offline=True
    )
    pipeline = build_pipeline(config)
    progress = FrameProgress(pipeline, description=f"convert {args.input}")
    pipeline.run()
    progress.close()
    report = pipeline.stats.report()
    log.info("wrote %s: %d frames in %.1f s (%.1f fps)", args.output, report.frames_out, report.seconds, report.fps)
    return 0
