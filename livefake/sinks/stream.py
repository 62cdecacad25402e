"""The network stream sink, for OBS's Media Source: H.264 in MPEG-TS over UDP or TCP, or FLV over RTMP.

- ``udp://HOST:PORT``: MPEG-TS datagrams sent to HOST:PORT (OBS listens there).
- ``tcp://HOST:PORT``: the sink listens on HOST:PORT; OBS (any number of clients) connects.
- ``rtmp://HOST[:PORT]/APP/KEY``: pushed to an RTMP server (MediaMTX, nginx-rtmp, or an
  FFmpeg that listens). The sink cannot itself be an RTMP server: PyAV opens output URLs
  without protocol options, so FFmpeg's ``listen=1`` never reaches the RTMP code; for OBS to
  connect to livefake directly, use ``tcp://``.

x264 runs ``ultrafast`` with ``zerolatency`` (no B-frames, no look-ahead), a keyframe about every
``OutputConfig.keyframe_s``. MPEG-TS is encoded and muxed on the sink thread and leaves through
non-blocking sockets: a slow or absent receiver loses data (counted), it never stalls the
pipeline. RTMP goes through FFmpeg's own blocking network code; like every sink it runs on its
own thread behind its own ring, so a slow server stalls nothing else. Hosts are loopback unless
``OutputConfig.bind`` allows another address.
"""

from __future__ import annotations

import logging
import socket
from fractions import Fraction
from typing import Any

import av
import cv2
import numpy as np

from livefake.config import OutputConfig
from livefake.errors import DeviceError
from livefake.pipeline.frame import Frame
from livefake.pipeline.stage import Sink, StreamInfo
from livefake.sinks.addresses import StreamTarget, address_family, parse_stream_url

__all__ = ["StreamSink", "StreamTarget", "parse_stream_url"]

log = logging.getLogger(__name__)

TS_PACKET = 188
DATAGRAM = 7 * TS_PACKET  # 1316 bytes: what OBS/FFmpeg expect per UDP packet
MAX_CLIENTS = 8  # TCP clients served at once
CLIENT_BACKLOG = 4 << 20  # bytes a TCP client may fall behind before it is dropped
TIME_BASE = Fraction(1, 1000)  # frame timestamps in milliseconds of capture time
FLUSH_EACH_PACKET = {"flush_packets": "1", "max_delay": "0"}  # no muxer/I/O buffering: each frame goes now


def yuv420_frame(image: np.ndarray, pts_ms: int) -> av.VideoFrame:
    """BGR image (even size) to an I420 VideoFrame; cv2 does the conversion (4x cheaper than PyAV)."""
    planes = np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420), dtype=np.uint8)
    frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
    frame.pts, frame.time_base = pts_ms, TIME_BASE
    return frame


def add_video_stream(container: Any, width: int, height: int, fps: float, output: OutputConfig) -> Any:
    """An x264 stream tuned for latency: ultrafast, zerolatency, a keyframe every ``keyframe_s``."""
    stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    context = stream.codec_context
    context.time_base = TIME_BASE
    context.gop_size = max(1, round(fps * output.keyframe_s))
    context.bit_rate = output.stream_bitrate_kbps * 1000
    context.options = {"preset": "ultrafast", "tune": "zerolatency", "sc_threshold": "0"}
    return stream


class UdpSender:
    """Sends MPEG-TS bytes as 1316-byte datagrams without ever blocking; what cannot go is dropped."""

    def __init__(self, target: StreamTarget) -> None:
        self.address = (target.host, target.port)
        self.socket = socket.socket(address_family(target.host), socket.SOCK_DGRAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        self.socket.setblocking(False)
        self.pending = bytearray()
        self.dropped_bytes = 0

    def write(self, data: bytes) -> int:
        self.pending += data
        whole = len(self.pending) - len(self.pending) % TS_PACKET
        for start in range(0, whole, DATAGRAM):
            chunk = self.pending[start : min(start + DATAGRAM, whole)]
            try:
                self.socket.sendto(chunk, self.address)
            except (BlockingIOError, ConnectionRefusedError):
                self.dropped_bytes += len(chunk)
        del self.pending[:whole]
        return len(data)

    def close(self) -> None:
        self.socket.close()


class TcpServer:
    """Listens for clients and sends each the MPEG-TS bytes without blocking.

    A client joins at the next TS packet boundary; one that falls more than ``CLIENT_BACKLOG``
    bytes behind is dropped with a warning (it can reconnect). At most ``max_clients`` are
    served at once (each costs a copy of the stream); more are refused (a warning the first time).
    """

    def __init__(self, target: StreamTarget, max_clients: int = MAX_CLIENTS) -> None:
        self.max_clients = max_clients
        self.refused_clients = 0
        self.server = socket.socket(address_family(target.host), socket.SOCK_STREAM)
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.server.bind((target.host, target.port))
        except OSError as error:
            self.server.close()
            where = f"{target.host}:{target.port}"
            raise DeviceError(f"cannot listen on {where}: {error}; pick another port") from None
        self.server.listen(4)
        self.server.setblocking(False)
        self.clients: dict[socket.socket, bytearray] = {}
        self._skip: dict[socket.socket, int] = {}
        self.written = 0
        self.dropped_clients = 0

    def write(self, data: bytes) -> int:
        self._accept()
        for client, backlog in list(self.clients.items()):
            backlog += data
            self._send(client, backlog)
        self.written += len(data)
        return len(data)

    def _accept(self) -> None:
        while True:
            try:
                client, address = self.server.accept()
            except BlockingIOError:
                return
            if len(self.clients) >= self.max_clients:
                self._refuse(client, address)
                continue
            client.setblocking(False)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            skip = (-self.written) % TS_PACKET  # start the client on a packet boundary
            self.clients[client] = bytearray()
            if skip:
                self._skip[client] = skip
            log.info("stream client %s:%d connected", *address[:2])

    def _refuse(self, client: socket.socket, address: tuple[Any, ...]) -> None:
        client.close()
        if not self.refused_clients:
            log.warning(
                "stream client %s:%d refused: %d clients are watching already (the most served at once)",
                address[0], address[1], self.max_clients,
            )  # fmt: skip
        self.refused_clients += 1

    def _send(self, client: socket.socket, backlog: bytearray) -> None:
        skip = self._skip.pop(client, 0)
        if skip:
            del backlog[:skip]
        try:
            sent = client.send(backlog)
            del backlog[:sent]
        except BlockingIOError:
            pass
        except OSError as error:
            self._drop(client, f"connection lost ({error})")
            return
        if len(backlog) > CLIENT_BACKLOG:
            self._drop(client, f"it fell {len(backlog) >> 20} MB behind")

    def _drop(self, client: socket.socket, why: str) -> None:
        self.clients.pop(client, None)
        self._skip.pop(client, None)
        self.dropped_clients += 1
        log.warning("stream client dropped: %s; it can reconnect", why)
        client.close()

    def close(self) -> None:
        for client in list(self.clients):
            client.close()
        self.server.close()


class RtmpSender:
    """Encodes and pushes FLV over RTMP through FFmpeg's own (blocking) network code.

    It runs on the sink's own thread, behind the sink's own ring: a slow server delays only
    this sink, and the frames it cannot take are dropped (and counted) by that ring.
    """

    def __init__(
        self, target: StreamTarget, info: StreamInfo, size: tuple[int, int], output: OutputConfig
    ) -> None:
        self.target = target
        try:
            self._container = av.open(
                target.url, "w", format="flv", options=FLUSH_EACH_PACKET, timeout=(10.0, 2.0)
            )
        except (av.FFmpegError, OSError) as error:
            raise DeviceError(f"RTMP stream {target.url}: cannot connect ({error}); is the server running?") from None
        self._stream = add_video_stream(self._container, *size, info.fps or 30.0, output)

    def put(self, image: np.ndarray, pts_ms: int) -> None:
        try:
            self._container.mux(self._stream.encode(yuv420_frame(image, pts_ms)))
        except (av.FFmpegError, OSError) as error:
            raise DeviceError(f"RTMP stream {self.target.url} failed: {error}") from None

    def close(self) -> None:
        """Flush the encoder and close the connection. A live stream has nothing to finalise: a
        server already gone (broken pipe) is no lost data, so it is only logged."""
        try:
            self._container.mux(self._stream.encode())
        except (av.FFmpegError, OSError) as error:
            log.debug("flushing the RTMP stream: %s", error)
        _close_container(self._container)


def _close_container(container: Any) -> None:
    try:
        container.close()
    except (av.FFmpegError, OSError) as error:
        log.debug("closing the stream: %s", error)


class TsWriter:
    """The file object PyAV's MPEG-TS muxer writes to: hands each flush to a sender."""

    def __init__(self, sender: UdpSender | TcpServer) -> None:
        self.sender = sender

    def write(self, data: bytes) -> int:
        return self.sender.write(bytes(data))

    def flush(self) -> None:
        pass


class StreamSink(Sink):
    """Streams frames to OBS; see the module docstring."""

    name = "stream"

    def __init__(self, target: StreamTarget, output: OutputConfig | None = None) -> None:
        self.target = target
        self.output = output or OutputConfig()
        self.frames_sent = 0
        self._size = (0, 0)
        self._t0_ns: int | None = None
        self._last_pts = -1
        self._sender: UdpSender | TcpServer | None = None
        self._container: Any = None
        self._stream: Any = None
        self._rtmp: RtmpSender | None = None

    @classmethod
    def from_spec(cls, spec: str, output: OutputConfig) -> StreamSink:
        return cls(parse_stream_url(spec, output.bind), output)

    @property
    def dropped_bytes(self) -> int:
        return self._sender.dropped_bytes if isinstance(self._sender, UdpSender) else 0

    def open(self, info: StreamInfo) -> None:
        self._size = (info.width - info.width % 2, info.height - info.height % 2)
        fps = info.fps if info.fps > 0 else 30.0
        if self.target.scheme == "rtmp":
            self._rtmp = RtmpSender(self.target, info, self._size, self.output)
            return
        self._sender = UdpSender(self.target) if self.target.scheme == "udp" else TcpServer(self.target)
        writer = TsWriter(self._sender)
        self._container = av.open(writer, "w", format="mpegts", options=FLUSH_EACH_PACKET)
        self._stream = add_video_stream(self._container, *self._size, fps, self.output)
        log.info("streaming %dx%d H.264 to %s", *self._size, self.target.url)

    def write(self, frame: Frame) -> None:
        image = frame.image
        if (image.shape[1], image.shape[0]) != self._size:
            image = np.ascontiguousarray(image[: self._size[1], : self._size[0]])
        pts = self._pts_ms(frame.t_capture_ns)
        if self._rtmp is not None:
            self._rtmp.put(image, pts)
        else:
            self._container.mux(self._stream.encode(yuv420_frame(image, pts)))
        self.frames_sent += 1

    def _pts_ms(self, t_capture_ns: int) -> int:
        """Capture time in ms since the first frame, strictly increasing."""
        if self._t0_ns is None:
            self._t0_ns = t_capture_ns
        pts = max(self._last_pts + 1, (t_capture_ns - self._t0_ns) // 1_000_000)
        self._last_pts = pts
        return pts

    def close(self) -> None:
        if self._rtmp is not None:
            self._rtmp.close()
        if self._container is not None:
            _close_container(self._container)
            self._container = None
        if self._sender is not None:
            self._sender.close()
            self._sender = None
