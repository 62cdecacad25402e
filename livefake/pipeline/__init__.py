"""Frames, rings, stages and the threaded pipeline that runs them."""

from livefake.pipeline.frame import Face, Frame, StageStamp, SwappedFace
from livefake.pipeline.pipeline import Pipeline
from livefake.pipeline.ring import DropPolicy, Ring, RingClosed
from livefake.pipeline.stage import NO_FRAME, Captured, Sink, Source, Stage, StreamInfo
from livefake.pipeline.stats import PipelineStats, StatsReport

__all__ = [
    "NO_FRAME", "Captured", "DropPolicy", "Face", "Frame", "Pipeline", "PipelineStats", "Ring", "RingClosed", "Sink",
    "Source", "Stage", "StageStamp", "StatsReport", "StreamInfo", "SwappedFace",
]
