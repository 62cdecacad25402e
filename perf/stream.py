"""Network stream sink: send->decode latency, quality and sink-thread cost, per protocol.

A receiver in another process (``perf.stream_receiver.receive_frames``: fflags=nobuffer,
flags=low_delay, small probesize, analyzeduration=0) decodes what ``StreamSink`` sends on
loopback. Frames carry their index as black/white blocks, so each decoded frame is matched to
the one sent. Latency = decode time in the receiver - the moment ``write()`` was called
(CLOCK_MONOTONIC is shared by processes). Baseline in the same run: the cost of the encoder
alone (cv2 I420 conversion + x264 encode into memory), to show what the network path adds.

    python perf/stream.py [--size 1280x720] [--frames 150] [--repeats 3]

Writes perf/results/stream.json and prints a table.
"""

from __future__ import annotations

import argparse
import io
import json
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import av
import numpy as np

from livefake.config import OutputConfig
from livefake.pipeline.frame import Frame
from livefake.pipeline.stage import StreamInfo
from livefake.sinks.stream import StreamSink, add_video_stream, yuv420_frame

RESULTS = Path(__file__).parent / "results"
BITS, BLOCK = 10, 24
RECEIVER = textwrap.dedent(
    f"""
    import sys
    import numpy as np
    from perf.stream_receiver import receive_frames
    images, times = receive_frames(sys.argv[1], int(sys.argv[2]), timeout_s=float(sys.argv[3]))
    def index_of(img):
        cells = [img[4:{BLOCK - 4}, b * {BLOCK} + 4:(b + 1) * {BLOCK} - 4].mean() for b in range({BITS})]
        return sum(1 << b for b, level in enumerate(cells) if level > 128)
    indices = [index_of(img) for img in images]
    np.savez(sys.argv[4], indices=np.array(indices), times=np.array(times, dtype=np.int64),
             images=np.array(images[::10]), sampled=np.array(indices[::10]))
    """
)


def numbered_frame(index: int, width: int, height: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    phase = index * 0.15
    image = np.stack(
        [
            128 + 60 * np.sin(x / 37 + phase),
            128 + 60 * np.cos(y / 29 - phase),
            128 + 50 * np.sin((x + y) / 47),
        ],
        axis=-1,
    ).astype(np.uint8)
    for bit in range(BITS):
        image[:BLOCK, bit * BLOCK : (bit + 1) * BLOCK] = 255 if (index >> bit) & 1 else 0
    return image


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def one_run(protocol: str, frames: list[np.ndarray], fps: float) -> dict[str, float]:
    port = free_port(socket.SOCK_DGRAM if protocol == "udp" else socket.SOCK_STREAM)
    send = f"{protocol}://127.0.0.1:{port}" + ("/live/livefake" if protocol == "rtmp" else "")
    receive = send + ("?listen=1" if protocol == "rtmp" else "")
    height, width = frames[0].shape[:2]
    sink = StreamSink.from_spec(send, OutputConfig())
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "received.npz"
        if protocol == "tcp":
            sink.open(StreamInfo(width, height, fps))
        command = [sys.executable, "-c", RECEIVER, receive, str(len(frames)), "20", str(out)]
        receiver = subprocess.Popen(command, cwd=Path(__file__).resolve().parents[1])  # finds perf/
        time.sleep(1.5)
        if protocol != "tcp":
            sink.open(StreamInfo(width, height, fps))
        t_write, write_ms = [], []
        due = time.monotonic()
        for index, image in enumerate(frames):
            t_write.append(time.monotonic_ns())
            sink.write(Frame(index=index, t_capture_ns=t_write[-1], image=image))
            write_ms.append((time.monotonic_ns() - t_write[-1]) / 1e6)
            due += 1 / fps
            time.sleep(max(0.0, due - time.monotonic()))
        time.sleep(0.5)
        sink.close()
        receiver.wait(timeout=30)
        data = np.load(out)
        indices, times = data["indices"].tolist(), data["times"]
        latency = np.array([(int(t) - t_write[i]) / 1e6 for t, i in zip(times, indices, strict=True)])
        quality = [psnr(img, frames[i]) for img, i in zip(data["images"], data["sampled"], strict=True)]
    return {
        "frames_decoded": len(indices),
        "first_decoded_index": int(indices[0]),
        "latency_p50_ms": float(np.percentile(latency, 50)),
        "latency_p95_ms": float(np.percentile(latency, 95)),
        "min_psnr_db": float(min(quality)),
        "write_p50_ms": float(np.percentile(write_ms, 50)),
        "write_p95_ms": float(np.percentile(write_ms, 95)),
    }


def encoder_only_ms(frames: list[np.ndarray], fps: float) -> float:
    """Baseline: I420 conversion + x264 encode + mux into memory, per frame (median)."""
    height, width = frames[0].shape[:2]
    container = av.open(io.BytesIO(), "w", format="mpegts")
    stream = add_video_stream(container, width, height, fps, OutputConfig())
    costs = []
    for index, image in enumerate(frames):
        start = time.perf_counter()
        container.mux(stream.encode(yuv420_frame(image, index * 33)))
        costs.append((time.perf_counter() - start) * 1000)
    container.close()
    return float(np.median(costs))


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: float(np.median([run[key] for run in runs])) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--protocols", default="udp,tcp,rtmp")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    frames = [numbered_frame(i, width, height) for i in range(args.frames)]
    result: dict[str, object] = {
        "size": args.size, "fps": args.fps, "frames": args.frames, "repeats": args.repeats,
        "encoder_only_ms": encoder_only_ms(frames, args.fps),
    }
    for protocol in args.protocols.split(","):
        runs = [one_run(protocol, frames, args.fps) for _ in range(args.repeats)]
        result[protocol] = {"median": median_of(runs), "runs": runs}
        m = result[protocol]["median"]  # type: ignore[index]
        print(
            f"{protocol:5s} latency p50 {m['latency_p50_ms']:6.1f} ms p95 {m['latency_p95_ms']:6.1f} ms | "
            f"min PSNR {m['min_psnr_db']:5.1f} dB | write p50 {m['write_p50_ms']:5.1f} ms "
            f"p95 {m['write_p95_ms']:5.1f} ms | decoded {m['frames_decoded']:.0f}/{args.frames}"
        )
    print(f"encoder alone: {result['encoder_only_ms']:.1f} ms a frame")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "stream.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
