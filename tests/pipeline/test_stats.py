import numpy as np

from livefake.pipeline import Frame, PipelineStats


def test_recent_latency_is_the_median_of_the_last_frames_only() -> None:
    stats = PipelineStats([])
    image = np.zeros((2, 2, 3), np.uint8)
    for index in range(1000):
        latency_ms = 50 if index < 970 else 10
        stats.record(Frame(index, t_capture_ns=0, image=image), t_out_ns=latency_ms * 1_000_000)
    assert stats.recent_latency_ms(frames=30) == 10.0
    assert stats.recent_latency_ms(frames=61) == 50.0
    assert PipelineStats([]).recent_latency_ms() is None
