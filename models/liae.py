"""``liae``: DeepFaceLab's LIAE layout. Shared encoder, two inters, one shared decoder.

``inter_ab`` sees both identities; ``inter_src`` only the video person (src). The code for
src is ``[inter_src(e), inter_ab(e)]``, for dst ``[inter_ab(e), inter_ab(e)]``, so drawing
a src face as dst (the swap) keeps the pose and lighting carried by ``inter_ab``.
DeepFaceLab calls these ``inter_AB`` / ``inter_B`` (its "dst" is our src: the video person).
"""

from __future__ import annotations

import torch

from livefake.models.base import (
    ModelConfig,
    SwapAutoencoder,
    check_identity,
)
from livefake.models.blocks import init_weights
from livefake.models.df import Decoder, Encoder, Inter


class LIAEModel(SwapAutoencoder):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        lowest = config.resolution // 16
        inter_channels = config.inter_dims * 2
        self.encoder = Encoder(config.encoder_dims)
        self.inter_ab = Inter(config.encoder_dims * 8, lowest, config.inter_dims, inter_channels)
        self.inter_src = Inter(config.encoder_dims * 8, lowest, config.inter_dims, inter_channels)
        self.decoder = Decoder(inter_channels * 2, config.decoder_dims, config.mask_dims)
        init_weights(self)

    def forward(self, x: torch.Tensor, identity: str) -> tuple[torch.Tensor, torch.Tensor]:
        check_identity(identity)
        features = self.encoder(x)
        shared = self.inter_ab(features)
        first = self.inter_src(features) if identity == "src" else shared
        face, mask = self.decoder(torch.cat([first, shared], dim=1))
        return face, mask

