"""`livefake serve`: a real tritonserver on a repository `livefake export` made; `doctor --triton` checks it."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from triton_testing import free_port_block, lite_model, server_or_skip

from livefake.cli import main


def test_serve_prints_the_address_doctor_checks_it_and_ctrl_c_stops(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server_or_skip()
    model = lite_model(tmp_path / "lite.onnx")
    assert main(["export", str(model), "--to", "triton", "--name", "lite", "--out", str(tmp_path / "repo")]) == 0
    port = free_port_block()
    command = [sys.executable, "-m", "livefake.cli", "serve", str(tmp_path / "repo"), "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = _wait_for_url(process)
        assert url == f"triton://127.0.0.1:{port}/lite"
        capsys.readouterr()
        assert main(["doctor", "--probe-cameras", "0", "--triton", url]) in (0, 1)
        report = capsys.readouterr().out
        assert f"[ok  ] triton          {url} ready: lite 64px" in report
        assert main(["doctor", "--probe-cameras", "0", "--triton", f"triton://127.0.0.1:{port}/nope"]) == 1
        assert "has no ready model named nope" in capsys.readouterr().out
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
        assert process.returncode == 0 and "Traceback" not in stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _wait_for_url(process: subprocess.Popen[str], timeout: float = 60.0) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if "--model triton://" in line:
            return line.split("--model", 1)[1].strip()
        if not line and process.poll() is not None:
            detail = process.stderr.read() if process.stderr else ""
            raise AssertionError(f"serve exited {process.returncode}: {detail}")
    raise AssertionError("serve printed no address")


def test_serve_warns_when_listening_beyond_this_machine(caplog: pytest.LogCaptureFixture) -> None:
    from livefake.serve.server import check_bind

    with caplog.at_level(logging.WARNING):
        check_bind("127.0.0.1")
        assert not caplog.records
        check_bind("0.0.0.0")
    assert "Triton listens on 0.0.0.0" in caplog.text


def test_serve_without_repository_says_what_to_give(capsys: pytest.CaptureFixture[str]) -> None:
    server_or_skip()
    assert main(["serve"]) == 2
    assert "give the model repository" in capsys.readouterr().err
