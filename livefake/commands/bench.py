"""`livefake bench`: latency and throughput, threaded pipeline against a sequential loop."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from livefake.commands._options import add_swap_arguments, config_from_args, parse_size, positive_float

NAME = "bench"
HELP = "measure latency and throughput against a sequential baseline"

log = logging.getLogger("livefake")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", choices=("pipeline", "live"), default="live")
    parser.add_argument("--size", type=parse_size, default=(1280, 720), metavar="WxH", help="frame size")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the live run")
    parser.add_argument("--fps", type=positive_float, default=30.0,
                        help="live scenario: the generated clip's frame rate (the run is paced at it)")
    parser.add_argument("--stage-ms", type=float, default=10.0, help="pipeline scenario: cost of each stage")
    parser.add_argument("--work", choices=("wait", "cpu"), default="wait",
                        help="pipeline scenario: stages wait on a device (GIL released) or burn CPU in OpenCV")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    parser.add_argument("--plot", metavar="PATH", help="write a PNG of latency over time and per stage")
    add_swap_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from livefake.bench.plots import plot_run
    from livefake.bench.scenarios import live_scenario, pipeline_scenario

    if args.scenario == "pipeline":
        frames = max(60, int(args.seconds * 1000 / args.stage_ms))
        result, pipeline = pipeline_scenario(args.stage_ms, frames, args.work, args.size)
    else:
        config = config_from_args(args, source={"size": args.size}, output={"sinks": ("null",)})
        result, pipeline = live_scenario(config, args.seconds, fps=args.fps)
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    if args.plot:
        plot_run(pipeline, args.plot, f"livefake bench --scenario {args.scenario}")
    return 0
