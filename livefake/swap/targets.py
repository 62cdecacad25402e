"""Swap engines prepared ahead of use, so the swap target can change while frames flow.

``SwapTargets.prepare`` loads a photo (finds its face, triangulates it) or a model (session,
warm-up) on the thread that asks for the change; the live swap stage then only looks the
ready engine up between two frames. The last few engines are kept, so switching back is quick.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict

from livefake.config import LiveConfig, SwapConfig, TrackConfig
from livefake.pipeline.frame import Frame
from livefake.pipeline.stage import Stage

KEPT_ENGINES = 4

TargetKey = tuple[str, str, str]  # (kind, path, mode)


def target_key(swap: SwapConfig) -> TargetKey | None:
    if swap.model is not None:
        return ("model", swap.model, swap.mode)
    if swap.face is not None:
        return ("face", swap.face, swap.mode)
    return None


class SwapTargets:
    """Opened swap stages by target (photo or model). Thread-safe."""

    def __init__(self, track: TrackConfig, keep: int = KEPT_ENGINES) -> None:
        self.track = track
        self.keep = keep
        self._lock = threading.Lock()
        self._engines: OrderedDict[TargetKey, Stage] = OrderedDict()

    def prepare(self, settings: LiveConfig) -> None:
        """Load the engine ``settings`` name, and those its face selection needs, unless ready.
        Raises what loading raises."""
        from livefake.swap.select import reference_embedding, selection_settings

        for wanted in [settings, *selection_settings(settings)]:
            self._prepare_one(wanted)
        if settings.swap.select == "reference" and settings.swap.reference is not None:
            reference_embedding(settings.swap.reference)

    def _prepare_one(self, settings: LiveConfig) -> None:
        key = target_key(settings.swap)
        if key is None:
            return
        with self._lock:
            if key in self._engines:
                self._engines.move_to_end(key)
                return
        engine = open_engine(settings.swap, self.track)
        with self._lock:
            self._engines[key] = engine
            while len(self._engines) > self.keep:
                self._engines.popitem(last=False)  # the stage using it keeps its own reference

    def engine(self, settings: LiveConfig) -> Stage | None:
        """The prepared engine for ``settings``, or None if it was never prepared (or dropped)."""
        key = target_key(settings.swap)
        with self._lock:
            return self._engines.get(key) if key is not None else None


def open_engine(swap: SwapConfig, track: TrackConfig) -> Stage:
    """An opened swap stage for one target: a model, an animated photo, or a swapped photo."""
    if swap.model is not None:
        from livefake.runtime.adapters import load_swap_model
        from livefake.runtime.session import SessionOptions
        from livefake.swap.model import ModelSwapStage

        options = SessionOptions(provider=swap.provider, threads=swap.threads)
        model = load_swap_model(swap.model, options, dfm_face_type=swap.dfm_face_type)
        engine: Stage = ModelSwapStage(swap, model=model, max_faces=track.max_faces)
    else:
        from livefake.swap.photo import load_target_face

        target = load_target_face(swap.face, track.models_dir)
        if swap.mode == "animate":
            from livefake.swap.animate import AnimateStage

            engine = AnimateStage(swap, track, target=target)
        else:
            from livefake.swap.photo import PhotoSwapStage

            engine = PhotoSwapStage(swap, track, target=target)
    engine.open()
    return engine


class LiveSwapStage(Stage):
    """The swap stage of a run whose target may change: it runs the engine its snapshot names.

    With ``swap.enabled`` false, frames pass untouched (nothing to merge).
    """

    name = "swap"

    def __init__(self, targets: SwapTargets, settings: LiveConfig) -> None:
        from livefake.swap.select import FaceSelector, Selection

        self.targets = targets
        self.enabled = settings.swap.enabled
        self._engine = targets.engine(settings)
        if self._engine is not None:
            self._engine.configure(settings)
        self.selector = FaceSelector(Selection.of(settings.swap))  # who is swapped (livefake.swap.select)
        self._settings = settings

    def configure(self, settings: LiveConfig) -> None:
        from livefake.swap.select import Selection

        self.enabled = settings.swap.enabled
        engine = self.targets.engine(settings)
        if engine is not None:  # None only for a frame older than the engines kept: keep the last one
            self._engine = engine
        if self._engine is not None:
            self._engine.configure(settings)  # e.g. merge.eyes for the photo swap
        self.selector.configure(Selection.of(settings.swap) if settings.swap.model is None
                                else Selection.of(settings.swap).for_model())
        self._settings = settings

    def process(self, frame: Frame) -> Frame | None:
        from livefake.swap.select import swap_selected

        if not self.enabled or self._engine is None:
            frame.swapped = []
            return frame
        return swap_selected(frame, self.selector, self._engine, self._photo_engine)

    def _photo_engine(self, photo: str) -> Stage | None:
        """The prepared photo swap for ``each``'s ``photo``."""
        swap = dataclasses.replace(self._settings.swap, face=photo, model=None, mode="swap")
        return self.targets.engine(dataclasses.replace(self._settings, swap=swap))

    def close(self) -> None:
        self.selector.close()
