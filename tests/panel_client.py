"""Start `livefake live ... --ui --no-browser` in its own process and talk to its control panel's API
(import as `panel_client`)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

LINK = re.compile(r"livefake: control panel (http://127\.0\.0\.1:(\d+)/\?token=(\S+))")
START_TIMEOUT_S = 60.0


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass
class PanelRun:
    """The run: its link, port and token, and the process."""

    url: str
    port: int
    token: str
    process: subprocess.Popen[str]

    def call(
        self,
        method: str,
        path: str,
        body: object = None,
        token: str | None = "auto",
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Answer:
        """One request; ``token="auto"`` sends the run's token as a Bearer header, None sends none."""
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {self.token if token == 'auto' else token}"
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return Answer(response.status, _decode(response.read(), response.headers), dict(response.headers))
        except urllib.error.HTTPError as error:
            return Answer(error.code, _decode(error.read(), error.headers), dict(error.headers))

    def state(self) -> dict[str, Any]:
        answer = self.call("GET", "/api/state")
        assert answer.status == 200, answer.body
        return answer.body  # type: ignore[no-any-return]


def _decode(data: bytes, headers: Any) -> Any:
    if "json" in (headers.get("content-type") or ""):
        return json.loads(data)
    return data


def start_run(arguments: list[str]) -> PanelRun:
    """`livefake live ARGUMENTS` in its own process, once it has printed the panel's link."""
    command = [sys.executable, "-m", "livefake.cli", "live", *arguments]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        return _wait_for_link(process)
    except BaseException:
        stop_run(process)
        raise


def stop_run(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def _wait_for_link(process: subprocess.Popen[str]) -> PanelRun:
    assert process.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT_S
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise AssertionError(f"livefake ended before serving the panel: {''.join(seen)}")
        seen.append(line)
        match = LINK.search(line)
        if match:
            _drain(process)
            return PanelRun(match.group(1), int(match.group(2)), match.group(3), process)
    raise AssertionError(f"no control panel link within {START_TIMEOUT_S} s: {''.join(seen)}")


def _drain(process: subprocess.Popen[str]) -> None:
    """Keep reading the run's output so its pipe never fills."""
    import threading

    def read() -> None:
        assert process.stdout is not None
        for _ in process.stdout:
            pass

    threading.Thread(target=read, daemon=True).start()
