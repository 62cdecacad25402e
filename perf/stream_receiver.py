"""A low-latency stream receiver for the stream tests and the stream benchmark (another process).

It decodes what ``livefake.sinks.stream.StreamSink`` sends, with the options that make FFmpeg
start at once instead of spending seconds probing.
"""

from __future__ import annotations

import time

import av
import numpy as np

RECEIVER_OPTIONS = {
    "fflags": "nobuffer",
    "flags": "low_delay",
    "probesize": "32768",
    "analyzeduration": "0",
}


RTMP_RECEIVER_OPTIONS = {"analyzeduration": "0", "probesize": "500000"}


def receive_frames(url: str, count: int, timeout_s: float = 10.0) -> tuple[list[np.ndarray], list[int]]:
    """Decode up to ``count`` BGR frames from a stream with low-latency options (a test receiver).

    Returns the images and the monotonic time (ns) each was decoded. The same options make
    FFmpeg-based players such as OBS's Media Source start in well under a second.
    """
    # FFmpeg's FLV reader over RTMP fails with a small probesize or nobuffer; it needs only this
    options = dict(RECEIVER_OPTIONS) if not url.startswith("rtmp://") else dict(RTMP_RECEIVER_OPTIONS)
    if url.endswith("?listen=1"):  # be the server the stream is pushed to (RTMP, TCP)
        url, options["listen"] = url.removesuffix("?listen=1"), "1"
    if url.startswith("udp://"):
        options["buffer_size"] = str(8 << 20)
    images: list[np.ndarray] = []
    times: list[int] = []
    deadline = time.monotonic() + timeout_s
    with av.open(url, "r", options=options, timeout=(timeout_s, 2.0)) as container:
        container.streams.video[0].thread_type = "SLICE"  # frame threads would hold frames back
        try:
            for frame in container.decode(video=0):
                times.append(time.monotonic_ns())
                images.append(frame.to_ndarray(format="bgr24"))
                if len(images) >= count or time.monotonic() > deadline:
                    break
        except av.FFmpegError:
            if not images:
                raise  # nothing came at all
            # else: the sender stopped (2 s without data, or the connection closed): the end
    return images, times
