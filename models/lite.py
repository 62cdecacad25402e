"""``lite``: a depthwise-separable DF-style autoencoder for CPU real time.

Same idea as ``df`` (shared encoder + inter, one decoder per identity) built from separable
convolutions: a strided 3x3 stem, four separable downscales to R/32, a small dense
bottleneck back at R/32, then five separable upscales with separable residual blocks. Face
and mask come from one decoder trunk (two 3x3 heads), so the mask costs almost nothing.
Sized for <= 1.2 GFLOPs at 128 px (see perf/lite_latency.py).
"""

from __future__ import annotations

import torch
from torch import nn

from livefake.models.base import (
    DecoderPerIdentity,
    ModelConfig,
)
from livefake.models.blocks import (
    DenseBottleneck,
    SeparableConv,
    SeparableResidual,
    SeparableUpscale,
    activation,
    init_weights,
)


class LiteEncoder(nn.Module):
    """Stem (3x3, stride 2) then four separable downscales: e, 2e, 4e, 8e, 8e at R/32."""

    def __init__(self, dims: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(3, dims, 3, stride=2, padding=1), activation(),
            SeparableConv(dims, dims * 2, stride=2), SeparableResidual(dims * 2),
            SeparableConv(dims * 2, dims * 4, stride=2), SeparableResidual(dims * 4),
            SeparableConv(dims * 4, dims * 8, stride=2),
            SeparableConv(dims * 8, dims * 8, stride=2),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class LiteDecoder(nn.Module):
    """Five separable upscales (8d, 4d, 2d, d, d) with residual blocks, then face and mask heads."""

    def __init__(self, channels_in: int, dims: int) -> None:
        super().__init__()
        self.trunk = nn.Sequential(
            SeparableUpscale(channels_in, dims * 8), SeparableResidual(dims * 8),
            SeparableUpscale(dims * 8, dims * 4), SeparableResidual(dims * 4),
            SeparableUpscale(dims * 4, dims * 2), SeparableResidual(dims * 2),
            SeparableUpscale(dims * 2, dims), SeparableResidual(dims),
            SeparableUpscale(dims, dims),
        )  # fmt: skip
        self.face = nn.Conv2d(dims, 3, 3, padding=1)
        self.mask = nn.Conv2d(dims, 1, 3, padding=1)

    def forward(self, code: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.trunk(code)
        return torch.sigmoid(self.face(features)), torch.sigmoid(self.mask(features))


class LiteModel(DecoderPerIdentity):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        lowest = config.resolution // 32
        encoder_channels = config.encoder_dims * 8
        self.encoder = LiteEncoder(config.encoder_dims)
        self.inter = DenseBottleneck(encoder_channels, lowest, config.inter_dims, encoder_channels, lowest)
        self.decoders = nn.ModuleDict(
            {identity: LiteDecoder(encoder_channels, config.decoder_dims) for identity in ("src", "dst")}
        )
        init_weights(self)

