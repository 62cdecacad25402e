"""Network addresses of the stream sinks: parsing ``udp://``, ``tcp://`` and ``rtmp://`` URLs,
the ``--bind`` address that decides which hosts they may use, and the warning when that
reaches beyond this machine. IPv6 literals are written in brackets: ``tcp://[::1]:5000``.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from livefake.errors import InputError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamTarget:
    """A parsed stream URL: scheme, host, port, and whether the sink listens."""

    url: str
    scheme: str
    host: str
    port: int
    listen: bool


def parse_stream_url(spec: str, bind: str = "127.0.0.1") -> StreamTarget:
    """Check a ``udp://``, ``tcp://`` or ``rtmp://`` URL; refuse hosts that ``bind`` does not allow."""
    try:
        parts = urlsplit(spec)
        given_port = parts.port
    except ValueError as error:  # a port out of range or not a number; an unclosed [IPv6 bracket
        raise InputError(f"stream sink '{spec}': {error}; ports are 1-65535") from None
    defaults = {"udp": None, "tcp": None, "rtmp": 1935}
    if parts.scheme not in defaults or not parts.hostname:
        raise InputError(f"stream sink '{spec}': use udp://HOST:PORT, tcp://HOST:PORT or rtmp://HOST/APP/KEY")
    port = defaults[parts.scheme] if given_port is None else given_port
    if port is None:
        raise InputError(f"stream sink '{spec}': give a port, e.g. {parts.scheme}://127.0.0.1:5000")
    if not 1 <= port <= 65535:
        raise InputError(f"stream sink '{spec}': port {port} is not 1-65535")
    host = parts.hostname
    if not _host_allowed(host, bind):
        raise InputError(
            f"stream sink '{spec}': {host} is not a loopback address; network outputs stay on this "
            f"machine unless you pass --bind {host} (or --bind 0.0.0.0 for any address)"
        )
    listen = parts.scheme == "tcp"
    if parts.scheme == "rtmp" and parse_qs(parts.query).get("listen", ["0"])[0] == "1":
        raise InputError(
            f"stream sink '{spec}': livefake cannot be an RTMP server (PyAV passes no listen option "
            f"to FFmpeg's RTMP output); use tcp://{host}:{port} and let OBS connect, or push to a server"
        )
    return StreamTarget(url=spec, scheme=parts.scheme, host=host, port=port, listen=listen)


def check_bind(bind: str) -> str:
    """``bind`` as given when it is an IP address (v4 or v6, brackets allowed) or ``localhost``."""
    address = bind.strip("[]")
    if address == "localhost":
        return address
    try:
        ipaddress.ip_address(address)
    except ValueError:
        raise InputError(
            f"--bind {bind!r} is not an IP address: give e.g. 127.0.0.1 (this machine only), "
            "a LAN address of this machine, or 0.0.0.0 (every address)"
        ) from None
    return address


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def warn_if_exposed(bind: str) -> None:
    """One warning, at start, when network sinks may reach beyond this machine."""
    if is_loopback(bind):
        return
    where = "every network this machine is on" if bind in ("0.0.0.0", "::") else f"the network of {bind}"
    log.warning(
        "--bind %s: stream sinks may listen or send beyond this machine: anyone on %s who can reach "
        "the port can watch the (face-swapped) stream", bind, where,
    )  # fmt: skip


def address_family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _host_allowed(host: str, bind: str) -> bool:
    if host == "localhost" or bind in ("0.0.0.0", "::", host):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
