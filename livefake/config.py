"""Configuration: a tree of frozen dataclasses. Defaults < TOML file < command-line flags."""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

from livefake.errors import InputError

ColorTransfer = Literal["rct", "lct", "mkl", "sot", "none"]
SwapMode = Literal["swap", "animate"]
Provider = Literal["auto", "cpu", "cuda", "tensorrt"]
LabelCorner = Literal["bottom-right", "bottom-left", "top-right", "top-left"]
SwapSelect = Literal["all", "largest", "clicked", "reference", "each"]  # who is swapped: livefake.swap.select
COLOR_TRANSFERS: tuple[str, ...] = get_args(ColorTransfer)
SWAP_MODES: tuple[str, ...] = get_args(SwapMode)
PROVIDERS: tuple[str, ...] = get_args(Provider)
SWAP_SELECTS: tuple[str, ...] = get_args(SwapSelect)


@dataclass(frozen=True)
class SourceConfig:
    spec: str = "demo"  # camera index, video/image file, folder, or "demo" (generated clip)
    size: tuple[int, int] | None = None  # requested width, height (camera) or demo clip size
    fps: float | None = None  # requested rate (camera) or demo clip rate
    loop: bool = False  # replay a file forever
    realtime: bool = True  # pace files at their frame rate (live); False converts as fast as possible


@dataclass(frozen=True)
class TrackConfig:
    models_dir: str | None = None  # where `livefake setup` cached the face models
    max_faces: int = 4
    detect_every: int = 15  # run the detector at least every N frames even while tracking
    min_score: float = 0.5
    smoothing: bool = True
    min_cutoff: float = 0.3  # One-Euro filter cutoff at rest, Hz: lower = less jitter at rest
    beta: float = 18.0  # One-Euro filter, Hz per (inter-ocular distance/s): higher = less lag in motion
    show_landmarks: bool = False
    iris: bool = False  # refine 5 iris points per eye (two more model runs, ~2 ms a face)
    pose: bool = True  # head pose (yaw, pitch, roll) per face
    threads: int = 1  # ONNX Runtime threads per face model (1 leaves the other cores to the swap stage)


@dataclass(frozen=True)
class SwapConfig:
    face: str | None = None  # target photo for zero-training swap / animation
    model: str | None = None  # ONNX, TensorRT engine or DFM model
    mode: SwapMode = "swap"
    provider: Provider = "auto"
    threads: int | None = None  # inference threads for --model on the CPU; None = one per core
    dfm_face_type: str = "whole"  # DFM files carry no face type; DeepFaceLab SAEHD "wf" = whole
    select: SwapSelect = "all"  # who is swapped: all, largest, clicked, reference, each (see livefake.swap.select)
    select_point: tuple[float, float] | None = None  # "clicked": the click, as fractions of frame width and height
    reference: str | None = None  # "reference": swap only the person in this photo (identity extra)
    faces: tuple[str, ...] = ()  # "each": one photo per face, in the order faces appear (left to right)


@dataclass(frozen=True)
class MergeConfig:
    color: ColorTransfer = "rct"
    mask_erode: int = 0  # pixels at a 256-px face, scaled with face size; negative dilates
    mask_blur: int = 12  # feather width in pixels at a 256-px face, scaled with face size
    face_scale: float = 1.0
    face_offset: tuple[float, float] = (0.0, 0.0)  # fraction of face size, x and y
    seamless: bool = False
    sharpen: float = 0.0
    mask_type: Literal["half", "mid", "full", "whole", "head"] = "full"  # landmark hull (face/align types)
    color_smoothing: float = 0.8  # share of last frame's colour statistics kept per face track


@dataclass(frozen=True)
class ProvenanceConfig:
    label: bool = True  # the visible "AI-modified" label; the invisible watermark has no switch
    label_text: str = "AI-modified"
    label_corner: LabelCorner = "bottom-right"


@dataclass(frozen=True)
class AudioConfig:
    input: str | None = None  # PortAudio device name or index
    output: str | None = None
    delay_ms: float | None = None  # fixed delay; None follows the measured video latency
    enabled: bool = False  # run the audio path (the live command sets it when an audio flag is given)
    sample_rate: int = 48_000
    block_ms: float = 10.0  # PortAudio block: the audio path's own latency granularity
    max_delay_ms: float = 3_000.0  # longest delay the line can hold
    crossfade_ms: float = 20.0  # delay changes crossfade over this long (no clicks)


@dataclass(frozen=True)
class OutputConfig:
    sinks: tuple[str, ...] = ()
    bind: str = "127.0.0.1"  # network sinks listen here unless told otherwise
    vcam_device: str | None = None  # virtual camera device (/dev/videoN, camera name); None = first free
    vcam_backend: str | None = None  # pyvirtualcam backend name; None tries each
    stream_bitrate_kbps: int = 4_000  # network stream video bitrate
    keyframe_s: float = 1.0  # network stream keyframe interval


@dataclass(frozen=True)
class LiveConfig:
    source: SourceConfig = field(default_factory=SourceConfig)
    track: TrackConfig = field(default_factory=TrackConfig)
    swap: SwapConfig = field(default_factory=SwapConfig)
    merge: MergeConfig = field(default_factory=MergeConfig)
    provenance: ProvenanceConfig = field(default_factory=ProvenanceConfig)
    audio: AudioConfig = field(default_factory=AudioConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    offline: bool = False  # BLOCK policy, nothing dropped

    @property
    def swapping(self) -> bool:
        """A swap or animation is configured: frames leaving the sinks are synthetic."""
        return self.swap.face is not None or self.swap.model is not None


C = TypeVar("C")


def load_toml(path: str | Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise InputError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"config file {path} is not valid TOML: {error}") from None


def merge_settings(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge two nested dicts; ``override`` wins. None values in ``override`` are skipped."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict):
            current = merged.get(key)
            merged[key] = merge_settings(current if isinstance(current, dict) else {}, value)
        elif value is not None:
            merged[key] = value
    return merged


def build(cls: type[C], settings: dict[str, Any], where: str = "") -> C:
    """Make a frozen dataclass tree from nested settings, naming any unknown or bad key."""
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(settings) - names)
    if unknown:
        raise InputError(f"unknown setting {where}{unknown[0]}; known: {', '.join(sorted(names))}")
    values: dict[str, Any] = {}
    for name, value in settings.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint) and isinstance(value, dict):
            values[name] = build(hint, value, f"{where}{name}.")  # type: ignore[arg-type]
        else:
            values[name] = _check_value(hint, value, f"{where}{name}")
    return cls(**values)


def _check_value(hint: Any, value: Any, name: str) -> Any:
    choices = get_args(hint) if get_origin(hint) is Literal else ()
    if choices and value not in choices:
        raise InputError(f"setting {name} = {value!r} is not one of {', '.join(map(str, choices))}")
    if isinstance(value, list):
        return tuple(value)
    return value
