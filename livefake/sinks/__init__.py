"""Sinks by name: a spec string on the command line picks the sink class.

``null``, ``window``, ``vcam``, ``udp://HOST:PORT``, ``tcp://HOST:PORT``, ``rtmp://...``;
anything else is an output file path.
"""

from __future__ import annotations

import importlib

from livefake.config import OutputConfig
from livefake.pipeline.stage import Sink

# name or URL scheme -> "module:Class"; imported only when used so startup stays fast
SINKS: dict[str, str] = {
    "null": "livefake.sinks.null:NullSink",
    "window": "livefake.sinks.window:WindowSink",
    "vcam": "livefake.sinks.virtualcam:VirtualCameraSink",
    "udp": "livefake.sinks.stream:StreamSink",
    "tcp": "livefake.sinks.stream:StreamSink",
    "rtmp": "livefake.sinks.stream:StreamSink",
    "file": "livefake.sinks.file:FileSink",
}


def sink_kind(spec: str) -> str:
    """The registry key for a spec: its name, its URL scheme, or ``file``."""
    if spec in SINKS:
        return spec
    scheme, sep, _ = spec.partition("://")
    if sep and scheme in SINKS:
        return scheme
    return "file"


def make_sink(spec: str, output: OutputConfig | None = None) -> Sink:
    """Build the sink that ``spec`` names. Each sink class has ``from_spec(spec, output)``."""
    module_name, class_name = SINKS[sink_kind(spec)].split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls.from_spec(spec, output or OutputConfig())  # type: ignore[no-any-return]
