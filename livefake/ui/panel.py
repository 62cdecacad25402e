"""The control panel's one object: what the page and scripts may read and change in a run.

The HTTP routes (``livefake.ui.app``) are thin wrappers over ``Panel``. Every change goes
through ``Pipeline.update``, which validates a partial settings tree and publishes a new
snapshot, or raises ``SettingsError`` and changes nothing; ``Panel`` first refuses any change
that names a file its user did not pick (``PanelFiles``). Photo and model loads happen in
``update`` on the calling thread (a worker thread of the panel), never on a stage thread.
"""

from __future__ import annotations

import glob
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from livefake.ui.files import PanelFiles
from livefake.ui.preview import PreviewEncoder
from livefake.ui.recent import RecentStats
from livefake.ui.schema import settings_schema

if TYPE_CHECKING:
    from livefake.pipeline import Pipeline

Finding = dict[str, Any]  # {"name", "ok", "summary", "fix"}
RECORDING_CLOSE_S = 5.0  # stopping a recording waits this long at most for the file to be complete
STATS_EVERY_S = 1.0  # the whole-run report reads every frame's record under the stats lock: at most this often


class Panel:
    """Reads and changes one running pipeline on behalf of the page and the HTTP API."""

    def __init__(
        self,
        pipeline: Pipeline,
        files: PanelFiles,
        preview: PreviewEncoder | None = None,
        findings: Callable[[], Sequence[Finding]] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.files = files
        self.preview = preview or PreviewEncoder()
        self.recent = RecentStats()
        self._findings = findings
        self._doctor: list[Finding] | None = None
        self._lock = threading.Lock()  # one change at a time: a read-modify-write of the sinks list
        self.recording: Path | None = None
        self._report: tuple[float, dict[str, Any]] | None = None

    def attach(self) -> None:
        """Start listening to the pipeline's frames and encoding previews."""
        self.pipeline.add_frame_listener(self.preview.on_frame)
        self.pipeline.add_frame_listener(self.recent.on_frame)
        self.preview.start()

    def close(self) -> None:
        self.preview.stop()
        self.files.close()

    # -- reading ---------------------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        return self.pipeline.settings_tree()

    def state(self) -> dict[str, Any]:
        """``{"settings", "stats", "recent", "source", "recording", "photos", "models"}``."""
        return {
            "settings": self.settings(),
            "stats": self.run_stats(),
            "recent": self.recent.summary(),
            "source": self.source_info(),
            "recording": str(self.recording) if self.recording else None,
            "photos": [str(path) for path in self.files.photos()],
            "models": [str(path) for path in self.files.models()],
        }

    def run_stats(self) -> dict[str, Any]:
        """The pipeline's whole-run report (``livefake bench``'s figures), at most ``STATS_EVERY_S`` old."""
        now = time.monotonic()
        if self._report is None or now - self._report[0] >= STATS_EVERY_S:
            self._report = (now, without_nan(self.pipeline.stats.report().as_dict()))
        return self._report[1]

    def source_info(self) -> dict[str, Any]:
        info = self.pipeline.info
        spec = self.settings().get("source", {}).get("spec")
        granted = {"width": info.width, "height": info.height, "fps": info.fps} if info is not None else None
        return {"spec": spec, "granted": granted, "cameras": sorted(glob.glob("/dev/video*"))}

    def schema(self) -> dict[str, Any]:
        """Every setting's kind, choices and range, and whether it may change while running."""
        from livefake.builder import LIVE_KEYS, LIVE_SECTIONS

        schema = settings_schema()
        for section, fields in schema.items():
            for name, description in fields.items():
                key = f"{section}.{name}" if section else name
                description.setdefault("live", key.startswith(LIVE_SECTIONS) or key in LIVE_KEYS)
        return schema

    def doctor(self) -> list[Finding]:
        """The doctor's findings, computed once (a few hundred ms) on the first call."""
        if self._doctor is None:
            self._doctor = list(self._findings()) if self._findings is not None else []
        return self._doctor

    # -- changing --------------------------------------------------------------------------------

    def update(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Apply a partial settings tree; InputError (400) names the key, and nothing changes."""
        self.files.check_changes(changes)
        with self._lock:
            self.pipeline.update(changes)
        return self.settings()

    def upload_photo(self, data: bytes, filename: str, use_as: str = "face") -> Path:
        """Store an uploaded photo and, unless ``use_as`` is ``keep``, swap to it (``face``) or use
        it as the reference photo (``reference``)."""
        path = self.files.save_upload(data, filename)
        if use_as in ("face", "reference"):
            self.update({"swap": {use_as: str(path)}})
        return path

    def step_photo(self, step: int) -> Path | None:
        """Swap to the previous (-1) or next (+1) photo of the photo folder; None when it is empty."""
        photos = self.files.photos()
        if not photos:
            return None
        current = self.settings().get("swap", {}).get("face")
        resolved = Path(current).resolve() if current else None
        position = photos.index(resolved) if resolved in photos else (-1 if step > 0 else 0)
        chosen = photos[(position + step) % len(photos)]
        self.update({"swap": {"face": str(chosen)}})
        return chosen

    def start_recording(self, name: str) -> Path:
        path = self.files.recording_path(name)
        with self._lock:
            sinks = list(self.settings()["output"]["sinks"])
            self.pipeline.update({"output": {"sinks": [*sinks, str(path)]}})
            self.recording = path
        return path

    def stop_recording(self) -> Path | None:
        """Stop the panel's recording (the file sink closes and renames it into place)."""
        with self._lock:
            path, self.recording = self.recording, None
            if path is None:
                return None
            sinks = [spec for spec in self.settings()["output"]["sinks"] if spec != str(path)]
            self.pipeline.update({"output": {"sinks": sinks}})
        deadline = time.monotonic() + RECORDING_CLOSE_S  # the sink's thread finishes and renames it into place
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        return path

    def click(self, x: float, y: float) -> dict[str, Any]:
        """Swap only the face at (x, y), given as fractions of the frame's width and height."""
        return self.update({"swap": {"select": "clicked", "select_point": [float(x), float(y)]}})


def without_nan(value: Any) -> Any:
    """``value`` with every NaN (a percentile of nothing yet) as None, so it is valid JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: without_nan(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [without_nan(item) for item in value]
    return value
