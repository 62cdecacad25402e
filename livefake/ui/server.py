"""Starting and stopping the control panel beside a running pipeline.

``open_panel(pipeline, options)`` binds the port first (so ``port=0`` reports the port it got),
serves the app with uvicorn on a thread of its own, prints the one line with the link and the
run's token, and opens the default browser unless told not to. ``RunningPanel.close()`` stops
the server, the preview encoder and removes the uploads.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import webbrowser
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from livefake.errors import InputError
from livefake.ui.files import PanelFiles
from livefake.ui.panel import Finding, Panel
from livefake.ui.security import new_token

if TYPE_CHECKING:
    from livefake.pipeline import Pipeline

log = logging.getLogger("livefake")

START_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class PanelOptions:
    bind: str = "127.0.0.1"
    port: int = 0  # 0: any free port
    open_browser: bool = True
    photo_folder: Path | None = None  # the photos ←/→ step through; None: the --face photo's folder
    model_folder: Path | None = None
    record_folder: Path | None = None  # recordings started from the panel go here (default: cwd)
    preview_width: int = 480  # preview pictures are at most this wide
    preview_fps: float = 10.0  # and come at most this often


class RunningPanel:
    """A served panel: its URL (with the token) and how to stop it."""

    def __init__(self, panel: Panel, server: Any, thread: threading.Thread, url: str) -> None:
        self.panel = panel
        self.url = url
        self._server = server
        self._thread = thread

    def close(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=2.0)
        self.panel.close()


def open_panel(
    pipeline: Pipeline,
    options: PanelOptions,
    findings: Callable[[], Sequence[Finding]] | None = None,
    started_with: Sequence[str | None] = (),
) -> RunningPanel:
    """Serve the control panel for ``pipeline`` and announce its link on stdout."""
    import uvicorn

    from livefake.ui.app import build_app
    from livefake.ui.preview import PreviewEncoder

    listener = bind_socket(options.bind, options.port)
    port = int(listener.getsockname()[1])
    token = new_token()
    files = PanelFiles(started_with, options.photo_folder, options.model_folder, options.record_folder)
    panel = Panel(pipeline, files, PreviewEncoder(options.preview_width, options.preview_fps), findings)
    panel.attach()
    config = uvicorn.Config(build_app(panel, token, port), log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name="livefake-panel", daemon=True)
    thread.start()
    _wait_started(server)
    host = "127.0.0.1" if options.bind in ("127.0.0.1", "0.0.0.0", "::", "") else options.bind
    url = f"http://{_url_host(host)}:{port}/?token={token}"
    print(f"livefake: control panel {url}", flush=True)
    if options.open_browser:
        webbrowser.open(url)
    return RunningPanel(panel, server, thread, url)


def bind_socket(address: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((address, port))
    except OSError as error:
        listener.close()
        raise InputError(f"control panel cannot listen on {address}:{port}: {error.strerror}; "
                         "pick another --ui-port (0 = any free port)") from None
    listener.listen(16)
    return listener


def _wait_started(server: Any) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if time.monotonic() > deadline:
            raise InputError("the control panel's web server did not start within 5 s")
        time.sleep(0.01)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
