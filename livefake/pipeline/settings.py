"""Versioned, immutable settings snapshots shared by the pipeline's threads.

``update`` publishes a new ``LiveConfig`` under the next version number; the source thread
stamps each captured frame with the version current at capture, and every stage configures
itself with that frame's snapshot, so one frame is processed with one snapshot throughout.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Protocol

from livefake.config import LiveConfig

if TYPE_CHECKING:
    from livefake.pipeline.stage import Sink

KEPT_SNAPSHOTS = 64  # frames in flight are never more than a few versions behind


class SettingsBoard:
    """The current snapshot and the last ``KEPT_SNAPSHOTS`` ones, by version. Thread-safe."""

    def __init__(self, settings: LiveConfig) -> None:
        self._lock = threading.Lock()
        self._version = 0
        self._snapshots: OrderedDict[int, LiveConfig] = OrderedDict({0: settings})

    @property
    def version(self) -> int:
        return self._version

    @property
    def current(self) -> LiveConfig:
        with self._lock:
            return self._snapshots[self._version]

    def publish(self, settings: LiveConfig) -> int:
        with self._lock:
            self._version += 1
            self._snapshots[self._version] = settings
            while len(self._snapshots) > KEPT_SNAPSHOTS:
                self._snapshots.popitem(last=False)
            return self._version

    def at(self, version: int) -> LiveConfig:
        """The snapshot of ``version``; the oldest kept one if it is older still."""
        with self._lock:
            found = self._snapshots.get(version)
            return found if found is not None else next(iter(self._snapshots.values()))


class SettingsHandler(Protocol):
    """What the pipeline needs from its builder to apply a change: checks, loading, sinks."""

    def check(self, current: LiveConfig, proposed: LiveConfig) -> LiveConfig:
        """Refuse (``SettingsError``) what cannot change while running; resolve names and paths."""

    def prepare(self, settings: LiveConfig) -> None:
        """Load what ``settings`` needs (photos, models) on the calling thread; ``SettingsError`` on failure."""

    def make_sink(self, spec: str, settings: LiveConfig) -> Sink:
        """The sink a spec in ``settings.output.sinks`` names."""
