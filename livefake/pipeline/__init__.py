"""Frames, rings, stages and the threaded pipeline that runs them."""

from livefake.pipeline.frame import Face, Frame, StageStamp, SwappedFace
from livefake.pipeline.pipeline import Pipeline
from livefake.pipeline.ring import DropPolicy, Ring, RingClosed
from livefake.pipeline.settings import SettingsHandler
from livefake.pipeline.stage import NO_FRAME, Captured, Sink, Source, Stage, StreamInfo
from livefake.pipeline.state import PipelineState
from livefake.pipeline.stats import PipelineStats, SinkReport, StatsReport

__all__ = [
    "NO_FRAME", "Captured", "DropPolicy", "Face", "Frame", "Pipeline", "PipelineState", "PipelineStats", "Ring",
    "RingClosed", "SettingsHandler", "Sink", "SinkReport", "Source", "Stage", "StageStamp", "StatsReport", "StreamInfo",
    "SwappedFace",
]
