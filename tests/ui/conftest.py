"""A running `livefake live --source demo --face hopper --sink null --ui --no-browser`, shared by the
control panel's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("starlette", reason="the control panel needs the ui extra: pip install 'livefake[ui]'")
pytest.importorskip("uvicorn", reason="the control panel needs the ui extra: pip install 'livefake[ui]'")

from panel_client import PanelRun, start_run, stop_run  # noqa: E402


@pytest.fixture(scope="package")
def panel_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PanelRun]:
    """The command from the issue, with recordings going to a temporary folder."""
    folder = tmp_path_factory.mktemp("panel-run")
    run = start_run(["--source", "demo", "--face", "hopper", "--sink", "null", "--ui", "--no-browser",
                     "--record-dir", str(folder)])
    try:
        yield run
    finally:
        stop_run(run.process)
