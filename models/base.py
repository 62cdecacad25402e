"""The common model interface: the configuration and the two-identity autoencoder.

Every architecture holds both identities in one ``nn.Module``:

- ``src`` (identity A) is the person in the video, the face the camera sees;
- ``dst`` (identity B) is the face they will wear.

The live swap is A -> B: a src face goes in and comes out drawn as dst, in the same pose.
``SwapAutoencoder.swap_module("dst")`` is that inference graph, ready for export.

Tensors: ``x`` is float32 B x 3 x H x W, RGB in [0, 1]; the model returns a face of the same
layout and a mask B x 1 x H x W in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal

import torch
from torch import nn

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


def check_identity(identity: str) -> None:
    if identity not in IDENTITIES:
        raise ValueError(f"identity must be one of {IDENTITIES}, got {identity!r}")
