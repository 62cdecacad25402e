"""Building blocks shared by the architectures: down/up-scaling, residual and separable convs."""

from __future__ import annotations

import torch
from torch import nn

LEAK = 0.1
RESIDUAL_INIT_SCALE = 0.1


def activation() -> nn.Module:
    return nn.LeakyReLU(LEAK)


class Downscale(nn.Module):
    """Conv with stride 2 + LeakyReLU: halves the size (DeepFaceLab's 5x5 downscale)."""

    def __init__(self, channels_in: int, channels_out: int, kernel: int = 5) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels_in, channels_out, kernel, stride=2, padding=kernel // 2)
        self.act = activation()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv(x))


class Upscale(nn.Module):
    """Conv to 4x channels + LeakyReLU + pixel shuffle: doubles the size."""

    def __init__(self, channels_in: int, channels_out: int, kernel: int = 3) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels_in, channels_out * 4, kernel, padding=kernel // 2)
        self.act = activation()
        self.shuffle = nn.PixelShuffle(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shuffle(self.act(self.conv(x)))


class ResidualBlock(nn.Module):
    """Two 3x3 convs with a skip connection (DeepFaceLab's decoder ResidualBlock)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.act = activation()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act(self.conv1(x))
        return self.act(x + self.conv2(y))


class SeparableConv(nn.Module):
    """Depthwise 3x3 (optionally strided) then pointwise 1x1: ~9x cheaper than a full conv."""

    def __init__(self, channels_in: int, channels_out: int, stride: int = 1, act: bool = True) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(channels_in, channels_in, 3, stride=stride, padding=1, groups=channels_in)
        self.pointwise = nn.Conv2d(channels_in, channels_out, 1)
        self.act: nn.Module = activation() if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.pointwise(self.depthwise(x)))


class SeparableResidual(nn.Module):
    """Two separable convs with a skip connection."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.first = SeparableConv(channels, channels)
        self.second = SeparableConv(channels, channels, act=False)
        self.act = activation()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x + self.second(self.first(x)))


class SeparableUpscale(nn.Module):
    """Separable conv to 4x channels + pixel shuffle: doubles the size cheaply."""

    def __init__(self, channels_in: int, channels_out: int) -> None:
        super().__init__()
        self.conv = SeparableConv(channels_in, channels_out * 4)
        self.shuffle = nn.PixelShuffle(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shuffle(self.conv(x))


class DenseBottleneck(nn.Module):
    """Flatten -> Linear(code) -> Linear(side x side x channels) -> reshape: the 'inter' code."""

    def __init__(self, channels_in: int, side_in: int, code: int, channels_out: int, side_out: int) -> None:
        super().__init__()
        self.channels_out = channels_out
        self.side_out = side_out
        self.encode = nn.Linear(channels_in * side_in * side_in, code)
        self.decode = nn.Linear(code, channels_out * side_out * side_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        code = self.encode(torch.flatten(x, 1))
        return self.decode(code).reshape(-1, self.channels_out, self.side_out, self.side_out)


def init_weights(module: nn.Module) -> None:
    """He (fan-in) weights for the leaky ReLU and zero biases, for every conv and linear layer.

    Fan-in scaling keeps the signal alive through depthwise convs (fan-in 9), where
    DeepFaceLab's Xavier init lets it fade to nothing in a deep separable stack.
    """
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d | nn.Linear):
            if isinstance(layer, nn.Conv2d) and layer.groups > 1:  # depthwise: no activation follows
                nn.init.kaiming_uniform_(layer.weight, nonlinearity="linear")
            else:
                nn.init.kaiming_uniform_(layer.weight, a=LEAK, nonlinearity="leaky_relu")
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
    for layer in module.modules():
        if isinstance(layer, SeparableResidual):
            with torch.no_grad():
                layer.second.pointwise.weight.mul_(RESIDUAL_INIT_SCALE)  # each block starts near identity
