"""Live audio: microphone -> delay line -> output device, kept in step with the delayed video.

The live command starts it with ``AudioSync(config.audio, pipeline.stats.recent_latency_ms)``.
"""

from livefake.audio.delay import DelayLine
from livefake.audio.sync import AudioSync

__all__ = ["AudioSync", "DelayLine"]
