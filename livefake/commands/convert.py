"""`livefake convert`: swap faces in a recorded video (or image) offline; nothing is dropped."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from livefake.commands._options import add_swap_arguments, config_from_args
from livefake.errors import InputError
from livefake.pipeline.frame import Frame

NAME = "convert"
HELP = "convert a video or image file offline (every frame kept, audio copied)"

log = logging.getLogger("livefake")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="video, image or folder of images")
    parser.add_argument("output", help="output video (.mp4/.mkv/.mov) or image file")
    add_swap_arguments(parser)


class FaceCounts:
    """Frames out, and how many of them had a tracked face and a swapped one."""

    def __init__(self) -> None:
        self.frames = 0
        self.with_face = 0
        self.swapped = 0

    def count(self, frame: Frame) -> None:
        self.frames += 1
        self.with_face += bool(frame.faces)
        self.swapped += bool(frame.swapped)


def refuse_overwriting_input(source: str, output: str) -> None:
    """``convert a.mp4 a.mp4`` (also through another path or a link) would read what it overwrites."""
    target, given = Path(output).expanduser(), Path(source).expanduser()
    if not target.exists() or not given.exists():
        return
    if target.samefile(given):
        raise InputError(f"output {output} is the input {source}: write the conversion to another file")


def run(args: argparse.Namespace) -> int:
    from livefake.bench.progress import FrameProgress
    from livefake.builder import build_pipeline

    refuse_overwriting_input(args.input, args.output)
    config = config_from_args(
        args, source={"spec": args.input, "realtime": False}, output={"sinks": (args.output,)}, offline=True
    )
    pipeline = build_pipeline(config)
    counts = FaceCounts()
    pipeline.add_frame_listener(counts.count)
    progress = FrameProgress(pipeline, description=f"convert {args.input}")
    try:
        pipeline.run()
    finally:
        progress.close()
    report = pipeline.stats.report()
    log.info("wrote %s: %d frames in %.1f s (%.1f fps)", args.output, report.frames_out, report.seconds, report.fps)
    if config.swapping and counts.frames and not counts.swapped:
        log.warning(
            "no face was swapped: %d of %d frames had a tracked face; check the input shows a face "
            "(front-facing, not too small)", counts.with_face, counts.frames,
        )  # fmt: skip
    return 0
