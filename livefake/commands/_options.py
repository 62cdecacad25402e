"""Command-line options shared by `live`, `convert`, `demo` and `bench`, and their mapping onto
the configuration tree (defaults < TOML file < flags)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from livefake.config import (
    COLOR_TRANSFERS,
    EYES_MODES,
    OCCLUSIONS,
    PROVIDERS,
    SWAP_MODES,
    SWAP_SELECTS,
    LiveConfig,
    build,
    load_toml,
    merge_settings,
)
from livefake.errors import InputError, SettingsError
from livefake.sources.assets import PHOTOS, bundled_photo


def parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size '{text}' is not WIDTHxHEIGHT, e.g. 1280x720") from None
    if width < 16 or height < 16:
        raise argparse.ArgumentTypeError(f"size '{text}' is too small")
    return width, height


def positive_seconds(text: str) -> float:
    """``--seconds``: a finite number above zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not 0.0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be more than 0 seconds")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} must be 0 or more")
    return value


def bind_address(text: str) -> str:
    """``--bind``: an IP address (v4 or v6) or ``localhost``, refused at start otherwise."""
    from livefake.sinks.addresses import check_bind

    try:
        return check_bind(text)
    except InputError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix(f"--bind {text!r} ")) from None


def positive_float(text: str) -> float:
    """An argparse type: a number greater than zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} must be greater than 0")
    return value


def add_swap_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("swap")
    group.add_argument(
        "--face", metavar="PHOTO", help="swap to the face in this photo, or a bundled one: hopper, collins"
    )
    group.add_argument("--model", metavar="FILE", help="swap with a trained model (ONNX, TensorRT engine, DFM)")
    group.add_argument("--mode", choices=SWAP_MODES, help="swap the face (default) or animate the photo")
    group.add_argument("--provider", choices=PROVIDERS, help="inference provider for --model (default auto)")
    group.add_argument("--color", choices=COLOR_TRANSFERS, help="colour transfer (default rct)")
    group.add_argument("--mask-erode", type=int, metavar="N", help="shrink (or grow, if negative) the mask by N px")
    group.add_argument(
        "--mask-blur", type=non_negative_int, metavar="N", help="feather the mask edge over N px (0 or more)"
    )
    group.add_argument("--occlusion", choices=OCCLUSIONS, help="keep hands in front of the face (default hands)")
    group.add_argument("--sharpen", type=float, metavar="AMOUNT", help="sharpen the swapped face (0-5, default 0)")
    group.add_argument("--face-scale", type=float, metavar="S", help="scale the pasted face (0.5-2, default 1)")
    group.add_argument("--relight", type=float, metavar="0..1", help="carry the live face's shading over (default 1)")
    group.add_argument("--eyes", choices=EYES_MODES, help="photo swap: the live eyes (default) or the target's")
    group.add_argument("--max-faces", type=int, metavar="N", help="faces tracked and swapped at most (default 4)")
    group.add_argument("--no-smoothing", action="store_true", help="do not smooth the landmarks over time")
    group.add_argument("--no-label", action="store_true", help="hide the visible 'AI-modified' label")
    group.add_argument("--show-landmarks", action="store_true", help="draw the tracked landmarks")
    group.add_argument("--config", metavar="TOML", help="settings file; flags override it")
    group.add_argument("--select", choices=SWAP_SELECTS, help="who is swapped (default all)")
    group.add_argument("--select-point", type=parse_point, metavar="X,Y", help="--select clicked: the face at X,Y "
                       "(fractions of the frame's width and height, e.g. 0.3,0.5)")
    group.add_argument("--reference", metavar="PHOTO", help="--select reference: swap only the person in PHOTO")
    group.add_argument("--faces", nargs="+", metavar="PHOTO", help="--select each: one photo per face, left to right")


def parse_point(text: str) -> tuple[float, float]:
    try:
        x, y = (float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"point '{text}' is not X,Y, e.g. 0.3,0.5") from None
    if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
        raise argparse.ArgumentTypeError(f"point '{text}': give fractions of the frame from 0 to 1")
    return x, y


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("source")
    group.add_argument("--size", type=parse_size, metavar="WxH", help="camera resolution to ask for")
    group.add_argument("--fps", type=float, help="camera frame rate to ask for")
    group.add_argument("--loop", action="store_true", help="replay a file source forever")


def settings_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The nested settings the flags give (None where a flag was not used)."""
    get = lambda name: getattr(args, name, None)  # noqa: E731
    return {
        "source": {"size": get("size"), "fps": get("fps"), "loop": get("loop") or None},
        "track": {
            "show_landmarks": get("show_landmarks") or None, "max_faces": get("max_faces"),
            "smoothing": False if get("no_smoothing") else None,
        },
        "swap": {"face": get("face"), "model": get("model"), "mode": get("mode"), "provider": get("provider"),
                 "select": get("select"), "select_point": get("select_point"), "reference": get("reference"),
                 "faces": get("faces")},
        "merge": {
            "color": get("color"), "mask_erode": get("mask_erode"), "mask_blur": get("mask_blur"),
            "sharpen": get("sharpen"), "face_scale": get("face_scale"), "occlusion": get("occlusion"),
            "relight": get("relight"), "eyes": get("eyes"),
        },
        "provenance": {"label": False if get("no_label") else None},
        "audio": {
            "input": get("audio_in"), "output": get("audio_out"), "delay_ms": get("audio_delay"),
            "enabled": True if any(get(n) is not None for n in ("audio_in", "audio_out", "audio_delay")) else None,
        },
        "output": {"bind": get("bind")},
    }


def config_from_args(args: argparse.Namespace, **fixed: Any) -> LiveConfig:
    """Defaults < the --config TOML file < flags < ``fixed`` (what the command itself decides)."""
    settings: dict[str, Any] = {}
    if getattr(args, "config", None):
        settings = load_toml(args.config)
        try:
            build(LiveConfig, settings)  # the file alone first: a section given as a scalar is named
        except SettingsError as error:
            raise SettingsError(f"config file {args.config}: {error}") from None
    settings = merge_settings(settings, settings_from_args(args))
    settings = merge_settings(settings, fixed)
    swap = settings.get("swap", {})
    if swap.get("model") and swap.get("face"):
        raise InputError("give either --face or --model, not both")
    if swap.get("face") in PHOTOS and not Path(swap["face"]).exists():
        swap["face"] = str(bundled_photo(swap["face"]))  # `--face hopper`: a bundled portrait
    if swap.get("reference") in PHOTOS and not Path(swap["reference"]).exists():
        swap["reference"] = str(bundled_photo(swap["reference"]))
    if swap.get("faces"):
        swap["faces"] = [str(bundled_photo(p)) if p in PHOTOS and not Path(p).exists() else p for p in swap["faces"]]
    return build(LiveConfig, settings)
