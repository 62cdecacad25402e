"""Copies the input file's audio packets into an output container, in step with the video."""

from __future__ import annotations

from pathlib import Path

import av


class AudioCopier:
    """Stream-copies the first audio stream of ``source`` into ``container`` without re-encoding."""

    def __init__(self, source: Path, container: av.container.OutputContainer) -> None:
        self._input = av.open(str(source), mode="r")
        audio = self._input.streams.audio[0]
        self._output_stream = container.add_stream_from_template(audio)
        self._container = container
        self._packets = self._input.demux(audio)
        self._pending: av.Packet | None = None

    def copy_until(self, seconds: float | None) -> None:
        """Mux every audio packet that starts before ``seconds`` (all of them for None)."""
        while True:
            packet = self._pending or next(self._packets, None)
            self._pending = None
            if packet is None:
                return
            if packet.dts is None:
                continue
            if seconds is not None and packet.pts is not None and float(packet.pts * packet.time_base) > seconds:
                self._pending = packet
                return
            packet.stream = self._output_stream
            self._container.mux(packet)

    def close(self) -> None:
        self._input.close()
