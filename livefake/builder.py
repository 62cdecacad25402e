"""Builds the live path from a ``LiveConfig``: source -> track -> swap -> merge -> mark -> sinks."""

from __future__ import annotations

from pathlib import Path

from livefake.config import LiveConfig
from livefake.errors import InputError
from livefake.pipeline import DropPolicy, Pipeline, Sink, Stage
from livefake.sinks import make_sink
from livefake.sources import make_source

LIVE_CAPACITY = 1  # live: never more than one frame waiting per stage
OFFLINE_CAPACITY = 8


def build_stages(config: LiveConfig) -> list[Stage]:
    """The processing stages the configuration asks for, in order."""
    stages: list[Stage] = []
    if config.swapping or config.track.show_landmarks:
        from livefake.face.track import TrackStage

        stages.append(TrackStage(config.track))
    if config.swap.model is not None or config.swap.face is not None:
        stages.append(build_swap_stage(config))
    if config.swapping and config.swap.mode == "swap":
        from livefake.merge.stage import MergeStage

        stages.append(MergeStage(config.merge))
    if config.track.show_landmarks:
        from livefake.face.draw import LandmarkOverlayStage

        stages.append(LandmarkOverlayStage())
    if config.swapping:
        from livefake.merge.provenance import ProvenanceStage

        stages.append(ProvenanceStage(config.provenance, source_id=swap_source_id(config)))
    return stages


def build_swap_stage(config: LiveConfig) -> Stage:
    """The swap stage, with its model or target photo loaded now, on the caller's thread, so a
    broken model or an unusable photo is refused before anything starts."""
    if config.swap.model is not None:
        from livefake.runtime.adapters import load_swap_model
        from livefake.runtime.session import SessionOptions
        from livefake.swap.model import ModelSwapStage

        options = SessionOptions(provider=config.swap.provider, threads=config.swap.threads)
        model = load_swap_model(config.swap.model, options, dfm_face_type=config.swap.dfm_face_type)
        return ModelSwapStage(config.swap, model=model, max_faces=config.track.max_faces)
    from livefake.swap.photo import load_target_face

    target = load_target_face(config.swap.face, config.track.models_dir)
    if config.swap.mode == "animate":
        from livefake.swap.animate import AnimateStage

        return AnimateStage(config.swap, config.track, target=target)
    from livefake.swap.photo import PhotoSwapStage

    return PhotoSwapStage(config.swap, config.track, target=target)


def swap_source_id(config: LiveConfig) -> str:
    """A short hash of the photo or model the swap uses, carried in the watermark payload."""
    from livefake.merge.watermark import file_source_id

    path = config.swap.model or config.swap.face
    if path is None:
        return "passthrough"
    file = Path(path).expanduser()
    if not file.is_file():
        kind = "model" if config.swap.model else "face photo"
        raise InputError(f"{kind} {file} does not exist")
    return file_source_id(file)


def build_sinks(config: LiveConfig) -> list[Sink]:
    return [make_sink(spec, config.output) for spec in config.output.sinks]


def build_pipeline(config: LiveConfig) -> Pipeline:
    policy = DropPolicy.BLOCK if config.offline else DropPolicy.DROP_OLDEST
    capacity = OFFLINE_CAPACITY if config.offline else LIVE_CAPACITY
    return Pipeline(
        make_source(config.source), build_stages(config), build_sinks(config), policy=policy, capacity=capacity
    )
