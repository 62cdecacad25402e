"""`livefake live`: run the live path from a camera or file to one or more sinks."""

from __future__ import annotations

import argparse
import logging
import time
from typing import TYPE_CHECKING

from livefake.commands._options import (
    add_source_arguments,
    add_swap_arguments,
    bind_address,
    config_from_args,
    positive_seconds,
)
from livefake.commands._panel import add_panel_arguments, start_panel

if TYPE_CHECKING:
    from livefake.audio import AudioSync
    from livefake.config import LiveConfig
    from livefake.pipeline import Pipeline

NAME = "live"
HELP = "swap faces live from a camera or file to a virtual camera, stream, window or file"

log = logging.getLogger("livefake")
FINALISE_S = 30.0  # how long a stopped run waits for its sinks to finish (an encoder flushing)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", default="0", help="camera index, /dev/videoN, video, image, folder or 'demo'")
    parser.add_argument(
        "--sink", action="append", metavar="SINK",
        help="vcam, window, null, udp://HOST:PORT, tcp://HOST:PORT, rtmp://..., or a file; repeat for several",
    )
    parser.add_argument("--seconds", type=positive_seconds, help="stop after this many seconds")
    parser.add_argument(
        "--bind", type=bind_address, help="address network sinks may listen on or send to (default 127.0.0.1)"
    )
    audio = parser.add_argument_group("audio")
    audio.add_argument("--audio-in", metavar="DEVICE", help="microphone to pass through, delayed with the video")
    audio.add_argument("--audio-out", metavar="DEVICE", help="where the delayed sound goes (a virtual cable)")
    audio.add_argument(
        "--audio-delay", type=float, metavar="MS", help="fixed audio delay instead of following the video"
    )
    add_source_arguments(parser)
    add_swap_arguments(parser)
    add_panel_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from livefake.builder import build_pipeline
    from livefake.sinks.addresses import warn_if_exposed

    sinks = tuple(args.sink or ["window"])
    source = {"spec": args.source, "realtime": True, "loop": True if args.ui else None}  # a panel outlives a clip
    config = config_from_args(args, source=source, output={"sinks": sinks})
    warn_if_exposed(config.output.bind)
    pipeline = build_pipeline(config)
    audio = panel = None
    try:
        info = pipeline.start()
        audio = start_audio(config, pipeline)
        panel = start_panel(args, config, pipeline)
        log.info("live: %dx%d @ %.1f fps from %s to %s; Ctrl-C stops",
                 info.width, info.height, info.fps, args.source, ", ".join(sinks))
        wait_and_report(pipeline, args.seconds)
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        stop_and_finish(pipeline)
        if audio is not None:
            audio.stop()
        if panel is not None:
            panel.close()
    if pipeline.error is not None:
        raise pipeline.error
    log.info("%s", pipeline.stats.report().summary())
    return 0


def stop_and_finish(pipeline: Pipeline) -> None:
    """Stop, then wait for the sinks to finish their files (an encoder's flush and trailer)."""
    pipeline.stop()
    if not pipeline.wait_closed(FINALISE_S):
        log.warning("the sinks did not finish within %.0f s; a recording may be incomplete", FINALISE_S)


def wait_and_report(pipeline: Pipeline, seconds: float | None, every: float = 5.0) -> None:
    """Wait for the end (or ``seconds``), logging a one-line status every ``every`` seconds."""
    started = time.monotonic()
    next_report = started + every
    while not pipeline.join(timeout=0.2):
        now = time.monotonic()
        if seconds is not None and now - started >= seconds:
            return
        if now >= next_report:
            log.info("%s", pipeline.stats.report().summary())
            next_report = now + every


def start_audio(config: LiveConfig, pipeline: Pipeline) -> AudioSync | None:
    """Start the delayed audio path when an audio flag is given; failures never stop the video."""
    if not config.audio.enabled:
        return None
    from livefake.audio import AudioSync

    sync = AudioSync(config.audio, latency_ms=pipeline.stats.recent_latency_ms,
                     settings=lambda: pipeline.settings.audio)  # audio.delay_ms changes while running
    sync.start()  # on failure it logs one warning and the video goes on
    return sync
