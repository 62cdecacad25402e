"""Swap models by architecture name: ``build_model(config)`` builds the one ``config.arch`` names.

The architectures are described in ``livefake.models.catalog`` (torch-free); the config is
checked against that description (resolution, widths) before the model is built. The common
interface is in ``livefake.models.base``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from livefake.errors import InputError
from livefake.models.base import ModelConfig, SwapAutoencoder
from livefake.models.catalog import architecture
from livefake.models.df import DFModel
from livefake.models.liae import LIAEModel
from livefake.models.lite import LiteModel

MODEL_CLASSES: dict[str, Callable[[ModelConfig], SwapAutoencoder]] = {
    "df": DFModel, "liae": LIAEModel, "lite": LiteModel,
}  # one per name in livefake.models.catalog.ARCHITECTURES


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
    return MODEL_CLASSES[config.arch](config)
