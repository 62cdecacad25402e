"""Configuration: a tree of frozen dataclasses. Defaults < TOML file < command-line flags.

Every field is checked for type and range by one function, ``build``, used for TOML files,
flag-built configs and live changes (``apply_changes``). A field declares its range in its
metadata, ``field(default=12, metadata={"range": (0, 256)})`` (inclusive; for a tuple field it
bounds each element); choices come from ``Literal`` types. A new field following this pattern
is validated for free.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from livefake.errors import InputError, SettingsError

ColorTransfer = Literal["rct", "lct", "mkl", "sot", "none"]
SwapMode = Literal["swap", "animate"]
Provider = Literal["auto", "cpu", "cuda", "tensorrt"]
LabelCorner = Literal["bottom-right", "bottom-left", "top-right", "top-left"]
Occlusion = Literal["hands", "none"]
EyesMode = Literal["live", "target"]  # photo swap: the person's own eyes, or the target's unsqueezed
MaskType = Literal["half", "mid", "full", "whole", "head"]
SwapSelect = Literal["all", "largest", "clicked", "reference", "each"]  # who is swapped: livefake.swap.select
COLOR_TRANSFERS: tuple[str, ...] = get_args(ColorTransfer)
SWAP_MODES: tuple[str, ...] = get_args(SwapMode)
PROVIDERS: tuple[str, ...] = get_args(Provider)
OCCLUSIONS: tuple[str, ...] = get_args(Occlusion)
EYES_MODES: tuple[str, ...] = get_args(EyesMode)
SWAP_SELECTS: tuple[str, ...] = get_args(SwapSelect)


def ranged(default: Any, low: float, high: float) -> Any:
    """A dataclass field whose value (or each element of it) must lie in ``[low, high]``."""
    return field(default=default, metadata={"range": (low, high)})


@dataclass(frozen=True)
class SourceConfig:
    spec: str = "demo"  # camera index, video/image file, folder, or "demo" (generated clip)
    size: tuple[int, int] | None = ranged(None, 16, 16384)  # requested width, height (camera) or demo clip size
    fps: float | None = ranged(None, 0.1, 1000)  # requested rate (camera) or demo clip rate
    loop: bool = False  # replay a file forever
    realtime: bool = True  # pace files at their frame rate (live); False converts as fast as possible


@dataclass(frozen=True)
class TrackConfig:
    models_dir: str | None = None  # where `livefake setup` cached the face models
    max_faces: int = ranged(4, 0, 16)
    detect_every: int = ranged(15, 1, 1000)  # run the detector at least every N frames even while tracking
    min_score: float = ranged(0.5, 0.0, 1.0)
    smoothing: bool = True
    min_cutoff: float = ranged(0.3, 0.001, 100.0)  # One-Euro cutoff at rest, Hz: lower = less jitter at rest
    beta: float = ranged(18.0, 0.0, 1000.0)  # One-Euro, Hz per (inter-ocular distance/s): higher = less lag
    show_landmarks: bool = False
    iris: bool = False  # refine 5 iris points per eye (two more model runs, ~2 ms a face)
    pose: bool = True  # head pose (yaw, pitch, roll) per face
    threads: int = ranged(1, 1, 64)  # ONNX Runtime threads per face model (1 leaves the other cores to swap)


@dataclass(frozen=True)
class SwapConfig:
    enabled: bool = True  # False passes frames through untouched: no swap, no label, no mark
    face: str | None = None  # target photo for zero-training swap / animation
    model: str | None = None  # ONNX, TensorRT engine or DFM model
    mode: SwapMode = "swap"
    provider: Provider = "auto"
    threads: int | None = ranged(None, 1, 64)  # inference threads for --model on the CPU; None = one per core
    dfm_face_type: str = "whole"  # DFM files carry no face type; DeepFaceLab SAEHD "wf" = whole
    select: SwapSelect = "all"  # who is swapped: all, largest, clicked, reference, each (see livefake.swap.select)
    select_point: tuple[float, float] | None = ranged(None, 0.0, 1.0)  # "clicked": the click, fractions of w, h
    reference: str | None = None  # "reference": swap only the person in this photo (identity extra)
    faces: tuple[str, ...] = ()  # "each": one photo per face, in the order faces appear (left to right)


@dataclass(frozen=True)
class MergeConfig:
    color: ColorTransfer = "rct"
    mask_erode: int = ranged(0, -128, 128)  # pixels at a 256-px face, scaled with face size; negative dilates
    mask_blur: int = ranged(12, 0, 256)  # feather width in pixels at a 256-px face, scaled with face size
    face_scale: float = ranged(1.0, 0.5, 2.0)
    face_offset: tuple[float, float] = ranged((0.0, 0.0), -0.5, 0.5)  # fraction of face size, x and y
    seamless: bool = False
    sharpen: float = ranged(0.0, 0.0, 5.0)
    mask_type: MaskType = "full"  # landmark hull (face/align types)
    color_smoothing: float = ranged(0.8, 0.0, 0.99)  # share of last frame's colour and shading statistics kept
    relight: float = ranged(1.0, 0.0, 1.0)  # carry the live face's shading over (0 = off)
    eyes: EyesMode = "live"  # photo swap: blend the live eyes in (blinks, gaze), or keep the target's
    occlusion: Occlusion = "hands"  # carve hands in front of a face out of its mask ("none": paint over them)


@dataclass(frozen=True)
class ProvenanceConfig:
    label: bool = True  # the visible "AI-modified" label; the invisible watermark has no switch
    label_text: str = "AI-modified"
    label_corner: LabelCorner = "bottom-right"


@dataclass(frozen=True)
class AudioConfig:
    input: str | None = None  # PortAudio device name or index
    output: str | None = None
    delay_ms: float | None = ranged(None, 0.0, 10_000.0)  # fixed delay; None follows the measured video latency
    enabled: bool = False  # run the audio path (the live command sets it when an audio flag is given)
    sample_rate: int = ranged(48_000, 8_000, 192_000)
    block_ms: float = ranged(10.0, 1.0, 100.0)  # PortAudio block: the audio path's own latency granularity
    max_delay_ms: float = ranged(3_000.0, 10.0, 10_000.0)  # longest delay the line can hold
    crossfade_ms: float = ranged(20.0, 0.0, 1_000.0)  # delay changes crossfade over this long (no clicks)


@dataclass(frozen=True)
class OutputConfig:
    sinks: tuple[str, ...] = ()
    bind: str = "127.0.0.1"  # network sinks listen here unless told otherwise
    vcam_device: str | None = None  # virtual camera device (/dev/videoN, camera name); None = first free
    vcam_backend: str | None = None  # pyvirtualcam backend name; None tries each
    stream_bitrate_kbps: int = ranged(4_000, 100, 100_000)  # network stream video bitrate
    keyframe_s: float = ranged(1.0, 0.1, 60.0)  # network stream keyframe interval


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

    @property
    def marking(self) -> bool:
        """Frames are swapped now (configured and switched on), so they get the label and the mark."""
        return self.swapping and self.swap.enabled


C = TypeVar("C")


def load_toml(path: str | Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise InputError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"config file {path} is not valid TOML: {error}") from None


def merge_settings(base: dict[str, Any], override: Mapping[str, Any], keep_none: bool = False) -> dict[str, Any]:
    """Deep-merge two nested dicts; ``override`` wins. None values in ``override`` are skipped
    unless ``keep_none`` (a live change may set a field back to None)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping):
            current = merged.get(key)
            merged[key] = merge_settings(current if isinstance(current, dict) else {}, value, keep_none)
        elif value is not None or keep_none:
            merged[key] = value
    return merged


def settings_tree(config: Any) -> dict[str, Any]:
    """A config dataclass tree as a JSON-able nested dict with the TOML keys (tuples become lists)."""
    return {f.name: _plain(getattr(config, f.name)) for f in dataclasses.fields(config)}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return settings_tree(value)
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


def apply_changes(config: LiveConfig, changes: Mapping[str, Any]) -> LiveConfig:
    """``config`` with the partial tree ``changes`` applied and the whole checked.

    Setting ``swap.face`` clears ``swap.model`` and the other way round (one swap target at a
    time). Raises ``SettingsError`` naming the key; ``config`` is never changed.
    """
    if not isinstance(changes, Mapping):
        raise SettingsError(f"settings changes must be a table of sections, got {type(changes).__name__}")
    swap = changes.get("swap")
    if isinstance(swap, Mapping):
        if swap.get("face") is not None and swap.get("model") is not None:
            raise SettingsError("setting swap: give either face or model, not both")
        if swap.get("face") is not None:
            changes = merge_settings(dict(changes), {"swap": {"model": None}}, keep_none=True)
        elif swap.get("model") is not None:
            changes = merge_settings(dict(changes), {"swap": {"face": None}}, keep_none=True)
    return build(LiveConfig, merge_settings(settings_tree(config), changes, keep_none=True))


def build(cls: type[C], settings: Mapping[str, Any], where: str = "") -> C:
    """Make a frozen dataclass tree from nested settings, checking every value's type and range.

    Raises ``SettingsError`` naming the first unknown or bad key and why.
    """
    if not isinstance(settings, Mapping):
        raise SettingsError(f"setting {where.rstrip('.') or 'root'} must be a table, got {settings!r}")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(settings) - set(fields))
    if unknown:
        raise SettingsError(f"unknown setting {where}{unknown[0]}; known: {', '.join(sorted(fields))}")
    values: dict[str, Any] = {}
    for name, value in settings.items():
        hint, key = hints[name], f"{where}{name}"
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, Mapping):
                raise SettingsError(f"setting {key} must be a table ([{key}] in TOML), got {value!r}")
            values[name] = build(hint, value, f"{key}.")  # type: ignore[arg-type]
        else:
            values[name] = check_value(hint, value, key, fields[name].metadata.get("range"))
    return cls(**values)


def check_value(hint: Any, value: Any, name: str, bounds: tuple[float, float] | None = None) -> Any:
    """``value`` converted to the type ``hint`` names (int -> float, list -> tuple), or SettingsError."""
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (option,) = [arg for arg in args if arg is not type(None)]  # settings use only ``X | None``
        return check_value(option, value, name, bounds)
    if origin is Literal:
        if value not in args:
            raise SettingsError(f"setting {name} = {value!r} is not one of {', '.join(map(str, args))}")
        return value
    if origin is tuple:
        return _check_tuple(args, value, name, bounds)
    return _check_scalar(hint, value, name, bounds)


def _check_tuple(args: tuple[Any, ...], value: Any, name: str, bounds: tuple[float, float] | None) -> tuple[Any, ...]:
    if not isinstance(value, list | tuple):
        raise SettingsError(f"setting {name} must be a list, got {value!r}")
    if len(args) == 2 and args[1] is Ellipsis:
        kinds = [args[0]] * len(value)
    elif len(value) != len(args):
        raise SettingsError(f"setting {name} must have {len(args)} values, got {len(value)}")
    else:
        kinds = list(args)
    pairs = enumerate(zip(kinds, value, strict=True))
    return tuple(check_value(kind, item, f"{name}[{i}]", bounds) for i, (kind, item) in pairs)


def _check_scalar(hint: Any, value: Any, name: str, bounds: tuple[float, float] | None) -> Any:
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if hint in (int, float) and isinstance(value, bool) or not isinstance(value, hint):
        kind = getattr(hint, "__name__", str(hint))
        raise SettingsError(f"setting {name} must be {_article(kind)} {kind}, got {value!r}")
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        raise SettingsError(f"setting {name} = {value!r} is out of range: give {bounds[0]} to {bounds[1]}")
    return value


def _article(kind: str) -> str:
    return "an" if kind[0] in "aeiou" else "a"


def changed_keys(before: Any, after: Any) -> list[str]:
    """Dotted TOML names of the fields that differ between two config trees, in field order."""
    return _diff(settings_tree(before), settings_tree(after), "")


def _diff(before: dict[str, Any], after: dict[str, Any], where: str) -> list[str]:
    changed = []
    for key, value in after.items():
        old = before.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            changed += _diff(old, value, f"{where}{key}.")
        elif value != old:
            changed.append(f"{where}{key}")
    return changed
