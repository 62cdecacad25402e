"""Swap-model architectures by name: df, liae and lite, each described by its module's ``ARCHITECTURE``.

``build_model(config)`` builds the architecture ``config.arch`` names, after checking the
resolution and widths against its spec. The common interface is in ``livefake.models.base``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from livefake.errors import InputError
from livefake.models.base import Architecture, ModelConfig, SwapAutoencoder
from livefake.models.df import ARCHITECTURE as DF
from livefake.models.liae import ARCHITECTURE as LIAE
from livefake.models.lite import ARCHITECTURE as LITE

ARCHITECTURES: dict[str, Architecture] = {spec.name: spec for spec in (DF, LIAE, LITE)}


def architecture(name: str) -> Architecture:
    if name not in ARCHITECTURES:
        raise InputError(f"unknown architecture {name!r}: choose one of {sorted(ARCHITECTURES)}")
    return ARCHITECTURES[name]


def default_config(arch: str, resolution: int, face_type: str = "whole", **widths: int | None) -> ModelConfig:
    """A config with the architecture's default widths, overridden by the ``widths`` not None."""
    spec = architecture(arch)
    chosen: dict[str, Any] = {**spec.defaults, **{key: value for key, value in widths.items() if value is not None}}
    return replace(ModelConfig(arch=arch, resolution=resolution, face_type=face_type), **chosen)


def validate_config(config: ModelConfig) -> None:
    spec = architecture(config.arch)
    resolution = config.resolution
    if not spec.min_resolution <= resolution <= spec.max_resolution:
        raise InputError(
            f"resolution {resolution} out of range for {spec.name}: use {spec.min_resolution}-{spec.max_resolution}"
        )
    if resolution % spec.resolution_multiple:
        raise InputError(f"resolution {resolution} for {spec.name} must be a multiple of {spec.resolution_multiple}")
    for name in spec.widths:
        if getattr(config, name) < 1:
            raise InputError(f"model width {name}={getattr(config, name)} must be positive")


def build_model(config: ModelConfig) -> SwapAutoencoder:
    """Build the architecture named by ``config.arch``; InputError for an unknown name or size."""
    validate_config(config)
    return architecture(config.arch).build(config)
