"""``df``: DeepFaceLab's DF layout. Shared encoder and inter, one decoder (face + mask) per identity.

At resolution R: the encoder halves four times (R/16), the inter code is a dense bottleneck
that comes back at R/8, and each decoder doubles three times back to R with residual blocks,
plus a narrower mask branch.
"""

from __future__ import annotations

import torch
from torch import nn

from livefake.models.base import (
    DecoderPerIdentity,
    ModelConfig,
)
from livefake.models.blocks import DenseBottleneck, Downscale, ResidualBlock, Upscale, init_weights


class Encoder(nn.Module):
    """Four 5x5 stride-2 convs: widths e, 2e, 4e, 8e; output R/16 x R/16 x 8e."""

    def __init__(self, dims: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            Downscale(3, dims), Downscale(dims, dims * 2),
            Downscale(dims * 2, dims * 4), Downscale(dims * 4, dims * 8),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class Inter(nn.Module):
    """Dense bottleneck of ``code`` values, back to R/16 with ``channels``, then upscaled to R/8."""

    def __init__(self, encoder_channels: int, lowest: int, code: int, channels: int) -> None:
        super().__init__()
        self.bottleneck = DenseBottleneck(encoder_channels, lowest, code, channels, lowest)
        self.upscale = Upscale(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.upscale(self.bottleneck(x))


class Decoder(nn.Module):
    """Three upscales with residual blocks to the face, and a narrower branch to the mask."""

    def __init__(self, channels_in: int, dims: int, mask_dims: int) -> None:
        super().__init__()
        self.face = nn.Sequential(
            Upscale(channels_in, dims * 8), ResidualBlock(dims * 8),
            Upscale(dims * 8, dims * 4), ResidualBlock(dims * 4),
            Upscale(dims * 4, dims * 2), ResidualBlock(dims * 2),
            nn.Conv2d(dims * 2, 3, 5, padding=2),
        )  # fmt: skip
        self.mask = nn.Sequential(
            Upscale(channels_in, mask_dims * 8), Upscale(mask_dims * 8, mask_dims * 4),
            Upscale(mask_dims * 4, mask_dims * 2), nn.Conv2d(mask_dims * 2, 1, 5, padding=2),
        )  # fmt: skip

    def forward(self, code: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.sigmoid(self.face(code)), torch.sigmoid(self.mask(code))


class DFModel(DecoderPerIdentity):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        lowest = config.resolution // 16
        self.encoder = Encoder(config.encoder_dims)
        self.inter = Inter(config.encoder_dims * 8, lowest, config.inter_dims, config.inter_dims)
        self.decoders = nn.ModuleDict(
            {identity: Decoder(config.inter_dims, config.decoder_dims, config.mask_dims) for identity in ("src", "dst")}
        )
        init_weights(self)

