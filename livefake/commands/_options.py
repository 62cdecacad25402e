"""Command-line options shared by `live`, `convert`, `demo` and `bench`, and their mapping onto
the configuration tree (defaults < TOML file < flags)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from livefake.config import COLOR_TRANSFERS, PROVIDERS, SWAP_MODES, LiveConfig, build, load_toml, merge_settings
from livefake.errors import InputError
from livefake.sources.assets import PHOTOS, bundled_photo


def parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size '{text}' is not WIDTHxHEIGHT, e.g. 1280x720") from None
    if width < 16 or height < 16:
        raise argparse.ArgumentTypeError(f"size '{text}' is too small")
    return width, height


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
    group.add_argument("--mask-blur", type=int, metavar="N", help="feather the mask edge over N px")
    group.add_argument("--no-label", action="store_true", help="hide the visible 'AI-modified' label")
    group.add_argument("--show-landmarks", action="store_true", help="draw the tracked landmarks")
    group.add_argument("--config", metavar="TOML", help="settings file; flags override it")


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
        "track": {"show_landmarks": get("show_landmarks") or None},
        "swap": {"face": get("face"), "model": get("model"), "mode": get("mode"), "provider": get("provider")},
        "merge": {"color": get("color"), "mask_erode": get("mask_erode"), "mask_blur": get("mask_blur")},
        "provenance": {"label": False if get("no_label") else None},
        "audio": {
            "input": get("audio_in"), "output": get("audio_out"), "delay_ms": get("audio_delay"),
            "enabled": True if any(get(n) is not None for n in ("audio_in", "audio_out", "audio_delay")) else None,
        },
        "output": {"bind": get("bind")},
    }


def config_from_args(args: argparse.Namespace, **fixed: Any) -> LiveConfig:
    """Defaults < the --config TOML file < flags < ``fixed`` (what the command itself decides)."""
    settings: dict[str, Any] = load_toml(args.config) if getattr(args, "config", None) else {}
    settings = merge_settings(settings, settings_from_args(args))
    settings = merge_settings(settings, fixed)
    swap = settings.get("swap", {})
    if swap.get("model") and swap.get("face"):
        raise InputError("give either --face or --model, not both")
    if swap.get("face") in PHOTOS and not Path(swap["face"]).exists():
        swap["face"] = str(bundled_photo(swap["face"]))  # `--face hopper`: a bundled portrait
    return build(LiveConfig, settings)
