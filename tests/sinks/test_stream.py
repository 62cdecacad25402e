"""The network stream sink: a receiver in another process decodes what it sends."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from livefake.config import OutputConfig
from livefake.errors import InputError
from livefake.pipeline.frame import Frame
from livefake.pipeline.stage import StreamInfo
from livefake.sinks.stream import StreamSink, parse_stream_url

ROOT = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT, FPS, FRAMES = 320, 240, 30.0, 90
BITS, BLOCK = 8, 16

RECEIVER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from perf.stream_receiver import receive_frames
    images, times = receive_frames(sys.argv[1], int(sys.argv[2]), timeout_s=float(sys.argv[3]))
    np.savez(sys.argv[4], images=np.array(images), times=np.array(times, dtype=np.int64))
    """
)


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def numbered_frame(index: int) -> np.ndarray:
    """A smooth moving scene with the index drawn as black/white blocks along the top."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    phase = index * 0.15
    image = np.stack(
        [
            128 + 60 * np.sin(x / 23 + phase),
            128 + 60 * np.cos(y / 19 - phase),
            128 + 50 * np.sin((x + y) / 31 + 2 * phase),
        ],
        axis=-1,
    ).astype(np.uint8)
    for bit in range(BITS):
        image[:BLOCK, bit * BLOCK : (bit + 1) * BLOCK] = 255 if (index >> bit) & 1 else 0
    return image


def read_index(image: np.ndarray) -> int:
    cells = [image[2 : BLOCK - 2, bit * BLOCK + 2 : (bit + 1) * BLOCK - 2].mean() for bit in range(BITS)]
    return sum(1 << bit for bit, level in enumerate(cells) if level > 128)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def round_trip(send_url: str, receive_url: str, tmp_path: Path, sink_first: bool) -> dict[str, float]:
    """Stream FRAMES paced frames; the receiver process saves what it decodes. Returns figures."""
    out = tmp_path / "received.npz"
    sink = StreamSink.from_spec(send_url, OutputConfig())
    receiver_args = [sys.executable, "-c", RECEIVER, receive_url, str(FRAMES), "12", str(out)]
    if sink_first:
        sink.open(StreamInfo(WIDTH, HEIGHT, FPS))
    receiver = subprocess.Popen(receiver_args, stderr=subprocess.PIPE, text=True, cwd=ROOT)  # finds perf/
    time.sleep(1.5)  # the receiver process imports PyAV and binds or connects
    if not sink_first:
        sink.open(StreamInfo(WIDTH, HEIGHT, FPS))
    sent = [numbered_frame(i) for i in range(FRAMES)]
    t_write: list[int] = []
    next_due = time.monotonic()
    for index, image in enumerate(sent):
        t_write.append(time.monotonic_ns())
        sink.write(Frame(index=index, t_capture_ns=t_write[-1], image=image))
        next_due += 1 / FPS
        time.sleep(max(0.0, next_due - time.monotonic()))
    time.sleep(0.5)
    sink.close()
    _, errors = receiver.communicate(timeout=20)
    assert receiver.returncode == 0, errors[-1500:]
    data = np.load(out)
    indices = [read_index(image) for image in data["images"]]
    assert len(indices) >= 45, f"only {len(indices)} frames decoded"
    assert indices == sorted(indices) and len(set(indices)) == len(indices), indices
    quality = [psnr(image, sent[i]) for image, i in zip(data["images"], indices, strict=True)]
    latency = [(int(t) - t_write[i]) / 1e6 for t, i in zip(data["times"], indices, strict=True)]
    return {
        "frames": len(indices),
        "first_index": indices[0],
        "min_psnr_db": min(quality),
        "latency_p50_ms": float(np.median(latency)),
    }


def test_udp_round_trip(tmp_path: Path) -> None:
    port = free_port(socket.SOCK_DGRAM)
    figures = round_trip(f"udp://127.0.0.1:{port}", f"udp://127.0.0.1:{port}", tmp_path, sink_first=False)
    assert figures["min_psnr_db"] >= 30.0, figures
    assert figures["latency_p50_ms"] < 250, figures


def test_tcp_round_trip_with_the_sink_listening(tmp_path: Path) -> None:
    port = free_port()
    figures = round_trip(f"tcp://127.0.0.1:{port}", f"tcp://127.0.0.1:{port}", tmp_path, sink_first=True)
    assert figures["min_psnr_db"] >= 30.0, figures
    assert figures["latency_p50_ms"] < 250, figures


@pytest.mark.slow  # the sender is the one the UDP and TCP round trips use; RTMP adds only the muxer
def test_rtmp_push_to_a_listening_receiver(tmp_path: Path) -> None:
    port = free_port()
    url = f"rtmp://127.0.0.1:{port}/live/livefake"
    figures = round_trip(url, url + "?listen=1", tmp_path, sink_first=False)
    assert figures["min_psnr_db"] >= 30.0, figures


def test_a_client_that_never_reads_never_blocks_the_sink() -> None:
    port = free_port()
    sink = StreamSink.from_spec(f"tcp://127.0.0.1:{port}", OutputConfig())
    sink.open(StreamInfo(640, 480, 30.0))
    stalled = socket.create_connection(("127.0.0.1", port))
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    rng = np.random.default_rng(0)
    noise = [rng.integers(0, 256, (480, 640, 3), dtype=np.uint8) for _ in range(4)]
    longest = 0.0
    for index in range(150):  # noise: ~100 kB a frame, far more than the socket buffers hold
        start = time.monotonic()
        sink.write(Frame(index=index, t_capture_ns=time.monotonic_ns(), image=noise[index % 4]))
        longest = max(longest, time.monotonic() - start)
    sink.close()
    stalled.close()
    assert longest < 0.2, f"a write took {longest * 1000:.0f} ms"


def test_udp_without_a_receiver_sends_on() -> None:
    sink = StreamSink.from_spec(f"udp://127.0.0.1:{free_port(socket.SOCK_DGRAM)}", OutputConfig())
    sink.open(StreamInfo(64, 48, 30.0))
    for index in range(30):
        image = np.ascontiguousarray(numbered_frame(index)[:48, :64])
        sink.write(Frame(index=index, t_capture_ns=time.monotonic_ns(), image=image))
    sink.close()
    assert sink.frames_sent == 30


@pytest.mark.parametrize("url", ["udp://192.168.1.20:5000", "tcp://0.0.0.0:5000", "rtmp://example.com/live/key"])
def test_non_loopback_hosts_are_refused_without_bind(url: str) -> None:
    with pytest.raises(InputError, match="--bind"):
        parse_stream_url(url)


def test_bind_allows_the_named_host() -> None:
    assert parse_stream_url("udp://192.168.1.20:5000", bind="192.168.1.20").host == "192.168.1.20"
    assert parse_stream_url("tcp://0.0.0.0:5000", bind="0.0.0.0").listen


@pytest.mark.parametrize(
    "url, message",
    [("udp://127.0.0.1", "give a port"), ("rtmp://127.0.0.1/live/x?listen=1", "cannot be an RTMP server")],
)
def test_bad_urls_say_what_to_do(url: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_stream_url(url)
