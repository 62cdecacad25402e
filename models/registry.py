"""Swap-model architectures registered by name, their configuration, and the common interface.

Every architecture holds both identities in one ``nn.Module``:

- ``src`` (identity A) is the person in the video, the face the camera sees;
- ``dst`` (identity B) is the face they will wear.

The live swap is A -> B: a src face goes in and comes out drawn as dst, in the same pose.
``SwapAutoencoder.swap_module("dst")`` is that inference graph, ready for export.

Tensors: ``x`` is float32 B x 3 x H x W, RGB in [0, 1]; the model returns a face of the same
layout and a mask B x 1 x H x W in [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

import torch
from torch import nn

from livefake.errors import InputError

Identity = Literal["src", "dst"]
IDENTITIES: tuple[Identity, ...] = ("src", "dst")


@dataclass(frozen=True)
class ModelConfig:
    """Architecture, crop resolution, face type and widths. Saved with every checkpoint."""

    arch: str
    resolution: int
    face_type: str = "whole"
    encoder_dims: int = 64  # width of the first encoder level; later levels multiply it
    inter_dims: int = 256  # size of the bottleneck code ("ae_dims" in DeepFaceLab)
    decoder_dims: int = 64  # width of the last decoder level; earlier levels multiply it
    mask_dims: int = 22  # width of the mask decoder (df, liae); lite shares its decoder trunk

    def to_dict(self) -> dict[str, Any]:
        return {item.name: getattr(self, item.name) for item in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown model config fields {unknown}")
        return cls(**data)


class SwapAutoencoder(nn.Module):
    """Base class: ``forward(x, identity) -> (face, mask)`` for identity ``src`` or ``dst``."""

    config: ModelConfig

    def forward(self, x: torch.Tensor, identity: str) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def swap_module(self, identity: str = "dst") -> nn.Module:
        """The inference graph: one face in -> (face, mask) drawn as ``identity``."""
        check_identity(identity)
        return SwapModule(self, identity)


class DecoderPerIdentity(SwapAutoencoder):
    """The DF layout: a shared encoder and inter, one decoder per identity.

    Subclasses build ``encoder``, ``inter`` and ``decoders`` (keyed by identity).
    """

    encoder: nn.Module
    inter: nn.Module
    decoders: nn.ModuleDict

    def forward(self, x: torch.Tensor, identity: str) -> tuple[torch.Tensor, torch.Tensor]:
        check_identity(identity)
        face, mask = self.decoders[identity](self.inter(self.encoder(x)))
        return face, mask


class SwapModule(nn.Module):
    """Wraps a SwapAutoencoder to a single-input graph for export (shares its parameters)."""

    def __init__(self, model: SwapAutoencoder, identity: str) -> None:
        super().__init__()
        self.model = model
        self.identity = identity

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.model(x, self.identity)


@dataclass(frozen=True)
class Architecture:
    """A registered architecture: how to build it and what it accepts."""

    name: str
    build: Callable[[ModelConfig], SwapAutoencoder]
    description: str
    min_resolution: int = 64
    max_resolution: int = 320
    resolution_multiple: int = 16
    defaults: dict[str, int] = field(default_factory=dict)
    widths: tuple[str, ...] = ("encoder_dims", "inter_dims", "decoder_dims", "mask_dims")  # the ones it uses


ARCHITECTURES: dict[str, Architecture] = {}


def register_architecture(architecture: Architecture) -> Architecture:
    ARCHITECTURES[architecture.name] = architecture
    return architecture


def check_identity(identity: str) -> None:
    if identity not in IDENTITIES:
        raise ValueError(f"identity must be one of {IDENTITIES}, got {identity!r}")


def architecture(name: str) -> Architecture:
    _register_builtin()
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


def _register_builtin() -> None:
    if {"df", "liae", "lite"} <= set(ARCHITECTURES):
        return
    from livefake.models import df, liae, lite  # noqa: F401  (each module registers itself)
