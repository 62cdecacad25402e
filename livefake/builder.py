"""Builds the live path from a ``LiveConfig``: source -> track -> swap -> merge -> mark -> sinks.

A run with a swap configured gets every stage a live change may need (swap on/off, another
photo or model, merge and label settings), and a ``LiveController`` that checks, loads and
applies those changes for ``Pipeline.update``.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

from livefake.config import LiveConfig, changed_keys
from livefake.errors import InputError, LivefakeError, SettingsError
from livefake.pipeline import DropPolicy, Pipeline, Sink, Stage
from livefake.sinks import make_sink
from livefake.sources import make_source
from livefake.swap.targets import SwapTargets

LIVE_CAPACITY = 1  # live: never more than one frame waiting per stage
OFFLINE_CAPACITY = 8
OPTIONAL_SINKS = ("vcam",)  # a missing virtual camera does not stop the other sinks
LIVE_SECTIONS = ("merge.", "provenance.")  # every setting of these changes while running
LIVE_KEYS = (
    "track.max_faces", "track.detect_every", "track.min_score", "track.smoothing", "track.min_cutoff",
    "track.beta", "track.pose", "swap.enabled", "swap.face", "swap.model", "output.sinks",
    "swap.select", "swap.select_point", "swap.reference", "swap.faces",  # who is swapped (livefake.swap.select)
    "audio.delay_ms",  # followed by the audio path's control thread (livefake.audio.sync)
)


class LiveController:
    """Checks, loads and applies live settings changes (``livefake.pipeline.SettingsHandler``)."""

    def __init__(self, targets: SwapTargets | None) -> None:
        self.targets = targets
        self._source_ids: dict[str, str] = {}
        self._lock = threading.Lock()

    def check(self, current: LiveConfig, proposed: LiveConfig) -> LiveConfig:
        changed = changed_keys(current, proposed)
        fixed = [key for key in changed if not key.startswith(LIVE_SECTIONS) and key not in LIVE_KEYS]
        if fixed:
            raise SettingsError(f"setting {fixed[0]} cannot change while running: restart with the new value")
        if {"swap.face", "swap.model"} & set(changed):
            proposed = self._check_target(current, proposed)
        return proposed

    def _check_target(self, current: LiveConfig, proposed: LiveConfig) -> LiveConfig:
        import dataclasses

        if self.targets is None or not current.swapping:
            raise SettingsError("setting swap.face/swap.model: this run has no swap; start it with --face or --model")
        if not proposed.swapping:
            raise SettingsError("setting swap.face/swap.model: give a new target; to stop swapping set swap.enabled")
        if proposed.swap.mode == "animate" and proposed.swap.model is not None:
            raise SettingsError("setting swap.model: an animation needs a photo (swap.face), not a model")
        face = resolve_photo(proposed.swap.face) if proposed.swap.face is not None else None
        model = str(Path(proposed.swap.model).expanduser()) if proposed.swap.model is not None else None
        for kind, path in (("face photo", face), ("model", model)):
            if path is not None and not Path(path).is_file():
                raise SettingsError(f"setting swap: {kind} {path} does not exist")
        return dataclasses.replace(proposed, swap=dataclasses.replace(proposed.swap, face=face, model=model))

    def prepare(self, settings: LiveConfig) -> None:
        """Load the photo or model ``settings`` name and hash it for the watermark (caller's thread)."""
        if self.targets is None or not settings.swapping:
            return
        try:
            self.targets.prepare(settings)
            path = settings.swap.model or settings.swap.face
            with self._lock:
                known = path in self._source_ids
            if path is not None and not known:
                source_id = swap_source_id(settings)
                with self._lock:
                    self._source_ids[path] = source_id
        except SettingsError:
            raise
        except LivefakeError as error:
            raise SettingsError(str(error)) from None

    def source_id(self, settings: LiveConfig) -> str:
        path = settings.swap.model or settings.swap.face
        with self._lock:
            return self._source_ids.get(path or "", "passthrough")

    def make_sink(self, spec: str, settings: LiveConfig) -> Sink:
        return make_sink(spec, settings.output)


def resolve_photo(face: str) -> str:
    """A photo path, or a bundled portrait's (``hopper``, ``collins``) when no such file exists."""
    from livefake.sources.assets import PHOTOS, bundled_photo

    if face in PHOTOS and not Path(face).exists():
        return str(bundled_photo(face))
    return str(Path(face).expanduser())


def build_stages(
    config: LiveConfig, targets: SwapTargets | None = None, controller: LiveController | None = None
) -> list[Stage]:
    """The processing stages the configuration asks for, in order (the swap target loaded now)."""
    stages: list[Stage] = []
    if config.swapping or config.track.show_landmarks:
        from livefake.face.track import TrackStage

        stages.append(TrackStage(config.track, pose_shown=config.track.show_landmarks))  # the overlay prints it
    if config.swapping and config.swap.mode == "swap":
        from livefake.face.hand_track import HandStage

        stages.append(HandStage(config.track, config.merge.occlusion))  # configure() follows live changes
    if config.swapping:
        from livefake.swap.targets import LiveSwapStage

        if targets is None:
            targets = SwapTargets(config.track)
            targets.prepare(config)
        stages.append(LiveSwapStage(targets, config))
    if config.swapping and config.swap.mode == "swap":
        from livefake.merge.stage import MergeStage

        stages.append(MergeStage(config.merge))
    if config.track.show_landmarks:
        from livefake.face.draw import LandmarkOverlayStage

        stages.append(LandmarkOverlayStage())
    if config.swapping:
        from livefake.merge.provenance import ProvenanceStage

        source_id_of = controller.source_id if controller is not None else None
        provenance = ProvenanceStage(config.provenance, source_id=swap_source_id(config), source_id_of=source_id_of)
        provenance.configure(config)  # in the first snapshot's state (a run may start with the swap off)
        stages.append(provenance)
    return stages


def swap_source_id(config: LiveConfig) -> str:
    """A short hash of the photo or model the swap uses, carried in the watermark payload."""
    from livefake.merge.watermark import file_source_id

    path = config.swap.model or config.swap.face
    if path is None:
        return "passthrough"
    if path.startswith("triton://"):  # a served model: its address names it
        import hashlib

        return hashlib.sha256(path.encode()).hexdigest()[:16]
    file = Path(path).expanduser()
    if not file.is_file():
        kind = "model" if config.swap.model else "face photo"
        raise InputError(f"{kind} {file} does not exist")
    return file_source_id(file)


def build_sinks(config: LiveConfig) -> list[Sink]:
    return [make_sink(spec, config.output) for spec in config.output.sinks]


def with_offline_budget(config: LiveConfig) -> LiveConfig:
    """A conversion waits for every answer of a served model instead of the live frame budget."""
    model = config.swap.model
    if not config.offline or model is None or not model.startswith("triton://"):
        return config
    from livefake.runtime.triton import offline_url

    return dataclasses.replace(config, swap=dataclasses.replace(config.swap, model=offline_url(model)))


def build_pipeline(config: LiveConfig) -> Pipeline:
    """The whole live path for ``config``; its photo or model is loaded now, on the caller's thread,
    so a broken model or an unusable photo is refused before anything starts."""
    config = with_offline_budget(config)
    policy = DropPolicy.BLOCK if config.offline else DropPolicy.DROP_OLDEST
    capacity = OFFLINE_CAPACITY if config.offline else LIVE_CAPACITY
    targets = SwapTargets(config.track) if config.swapping else None
    controller = LiveController(targets)
    if targets is not None:
        targets.prepare(config)
        controller.prepare(config)
    optional = OPTIONAL_SINKS if len(config.output.sinks) > 1 else ()
    return Pipeline(
        make_source(config.source), build_stages(config, targets, controller), build_sinks(config),
        policy=policy, capacity=capacity, settings=config, handler=controller, optional_sinks=optional,
    )
