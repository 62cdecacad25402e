"""Values given on the command line are checked at start, with one clear line and no traceback:
--seconds, --mask-blur, stream ports, IPv6 literals, --bind (and its exposure warning), and
the TCP stream's client cap. All through the real CLI."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.commands.processes import Finished, run_cli, start_cli, wait_until


@pytest.fixture(scope="module")
def still(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A still image: a live source that needs no camera (repeated at 30 fps)."""
    path = tmp_path_factory.mktemp("still") / "still.png"
    cv2.imwrite(str(path), np.full((120, 160, 3), 90, np.uint8))
    return path


def free_port(family: socket.AddressFamily = socket.AF_INET, host: str = "127.0.0.1") -> int:
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def ipv6_loopback_works() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def assert_refused(result: Finished, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.lines if "error" in line]
    assert len(errors) == 1 and all(word in errors[0] for word in words), result.stderr


@pytest.mark.parametrize(
    "args, words",
    [
        (["live", "--seconds", "0"], ["--seconds", "more than 0"]),
        (["live", "--seconds", "-3"], ["--seconds", "more than 0"]),
        (["demo", "--seconds", "nan"], ["--seconds", "more than 0"]),
        (["convert", "a.mp4", "b.mp4", "--mask-blur", "-1"], ["--mask-blur", "0 or more"]),
        (["live", "--bind", "banana"], ["--bind", "not an IP address"]),
        (["live", "--bind", "300.1.1.1"], ["--bind", "not an IP address"]),
    ],
    ids=["seconds-0", "seconds-negative", "seconds-nan", "mask-blur", "bind-name", "bind-bad-ip"],
)
def test_bad_flag_values_are_refused_by_the_parser(args: list[str], words: list[str]) -> None:
    assert_refused(run_cli(args), *words)


@pytest.mark.parametrize("url", ["udp://127.0.0.1:70000", "tcp://127.0.0.1:0", "udp://127.0.0.1:port"])
def test_ports_outside_1_to_65535_are_one_line(still: Path, url: str) -> None:
    result = run_cli(["live", "--source", str(still), "--sink", url, "--seconds", "1"])
    assert_refused(result, url)
    assert "1-65535" in result.lines[-1]


def test_ipv6_loopback_streams_or_is_refused_at_start(still: Path) -> None:
    port = free_port(socket.AF_INET6, "::1") if ipv6_loopback_works() else 5999
    args = ["live", "--source", str(still), "--sink", f"tcp://[::1]:{port}", "--sink", f"udp://[::1]:{port}"]
    result = run_cli([*args, "--seconds", "0.5"])
    assert "Traceback" not in result.stderr
    if ipv6_loopback_works():
        assert result.returncode == 0, result.stderr
        assert "frames out" in result.lines[-1]
    else:
        assert result.returncode != 0 and len(result.lines) == 1 and "::1" in result.lines[0]


def test_a_bind_address_not_on_this_machine_fails_at_start(still: Path) -> None:
    url = f"tcp://192.0.2.7:{free_port()}"  # TEST-NET-1: never an address of this machine
    result = run_cli(["live", "--source", str(still), "--sink", url, "--bind", "192.0.2.7", "--seconds", "5"])
    assert result.returncode == 3 and "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.lines if "error" in line]
    assert len(errors) == 1 and "cannot listen on 192.0.2.7" in errors[0]


def test_a_non_loopback_bind_warns_once_naming_the_exposure(still: Path) -> None:
    sinks = ["--sink", f"tcp://0.0.0.0:{free_port()}", "--sink", f"tcp://127.0.0.1:{free_port()}"]
    result = run_cli(["live", "--source", str(still), *sinks, "--bind", "0.0.0.0", "--seconds", "0.5"])
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.lines if "--bind" in line]
    assert len(warnings) == 1, result.stderr
    assert "0.0.0.0" in warnings[0] and "every network" in warnings[0] and "watch" in warnings[0]
    quiet = run_cli(["live", "--source", str(still), "--sink", "null", "--seconds", "0.3"])
    assert not [line for line in quiet.lines if "--bind" in line]


def test_the_tcp_stream_serves_at_most_eight_clients(still: Path) -> None:
    port = free_port()
    process = start_cli(["live", "--source", str(still), "--sink", f"tcp://127.0.0.1:{port}", "--seconds", "2.5"])
    clients: list[socket.socket] = []

    def connected() -> bool:
        try:
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=0.2))
        except OSError:
            return False
        return True

    wait_until(connected, process)
    for _ in range(9):
        clients.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        time.sleep(0.1)  # accepted in order, one frame apart
    served = [client_gets_data(client) for client in clients]
    _, stderr = process.communicate(timeout=30)
    for client in clients:
        client.close()
    assert served == [True] * 8 + [False] * 2, stderr
    refusals = [line for line in stderr.splitlines() if "refused" in line]
    assert len(refusals) == 1 and "8 clients" in refusals[0]


def client_gets_data(client: socket.socket) -> bool:
    """True when the stream sends MPEG-TS bytes; False when the server closed the connection."""
    try:
        return bool(client.recv(188))
    except (ConnectionResetError, TimeoutError):
        return False
