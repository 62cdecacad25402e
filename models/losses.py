"""Training losses: DSSIM + L1 on the masked face with extra weight on eyes and mouth,
the mask loss, and a PatchGAN discriminator for the optional adversarial phase.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from livefake.models.blocks import activation


@dataclass(frozen=True)
class LossWeights:
    dssim: float = 10.0
    l1: float = 10.0
    eyes_mouth: float = 30.0  # L1 on the eyes and mouth, on top of the face L1
    mask: float = 10.0  # MSE between the predicted and the landmark-hull mask
    adversarial: float = 0.1  # generator's PatchGAN term once the adversarial phase starts


def gaussian_window(size: int, sigma: float, device: torch.device) -> torch.Tensor:
    coords = torch.arange(size, dtype=torch.float32, device=device) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).expand(3, 1, size, size).contiguous()


def dssim(prediction: torch.Tensor, target: torch.Tensor, window_size: int) -> torch.Tensor:
    """(1 - SSIM) / 2 over 3-channel images in [0, 1], Gaussian window (sigma 1.5), mean over all."""
    window = gaussian_window(window_size, 1.5, prediction.device)
    pad = window_size // 2

    def blur(x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.pad(x, (pad, pad, pad, pad), mode="reflect"), window, groups=3)

    c1, c2 = 0.01**2, 0.03**2
    mu_p, mu_t = blur(prediction), blur(target)
    var_p = blur(prediction * prediction) - mu_p**2
    var_t = blur(target * target) - mu_t**2
    covariance = blur(prediction * target) - mu_p * mu_t
    ssim = ((2 * mu_p * mu_t + c1) * (2 * covariance + c2)) / ((mu_p**2 + mu_t**2 + c1) * (var_p + var_t + c2))
    return ((1.0 - ssim) / 2.0).mean()


def dssim_window(resolution: int) -> int:
    """DeepFaceLab's window: about resolution / 11.6, odd, at least 3."""
    size = max(3, int(resolution / 11.6))
    return size if size % 2 else size + 1


def reconstruction_losses(
    face: torch.Tensor,
    mask: torch.Tensor,
    target: torch.Tensor,
    target_mask: torch.Tensor,
    regions: torch.Tensor,
) -> dict[str, torch.Tensor]:
    """Unweighted parts for one identity: masked-face ``dssim`` and ``l1``, ``eyes_mouth``, ``mask``."""
    face, mask = face.float(), mask.float()
    masked_face, masked_target = face * target_mask, target * target_mask
    window = dssim_window(face.shape[-1])
    return {
        "dssim": dssim(masked_face, masked_target, window),
        "l1": torch.abs(masked_face - masked_target).mean(),
        "eyes_mouth": (torch.abs(face - target) * regions).mean(),
        "mask": F.mse_loss(mask, target_mask),
    }


def weighted_total(parts: dict[str, torch.Tensor], weights: LossWeights) -> torch.Tensor:
    return (
        weights.dssim * parts["dssim"]
        + weights.l1 * parts["l1"]
        + weights.eyes_mouth * parts["eyes_mouth"]
        + weights.mask * parts["mask"]
    )


class PatchDiscriminator(nn.Module):
    """PatchGAN: strided 4x4 convs to a grid of real/fake logits, each judging one patch."""

    def __init__(self, dims: int = 32, layers: int = 3) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        channels_in = 3
        for index in range(layers):
            channels_out = dims * 2**index
            blocks += [nn.Conv2d(channels_in, channels_out, 4, stride=2, padding=1), activation()]
            channels_in = channels_out
        blocks.append(nn.Conv2d(channels_in, 1, 3, padding=1))
        self.layers = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def generator_adversarial_loss(discriminator: nn.Module, fake: torch.Tensor) -> torch.Tensor:
    logits = discriminator(fake)
    return F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))


def discriminator_loss(discriminator: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    real_logits = discriminator(real)
    fake_logits = discriminator(fake.detach())
    return 0.5 * (
        F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
        + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    )
