"""Count multiply-accumulates of a module for one input, with forward hooks on conv/linear layers."""

from __future__ import annotations

import torch
from torch import nn


def count_macs(module: nn.Module, example: torch.Tensor) -> int:
    """Multiply-accumulates of conv and linear layers for ``example`` (one FLOP pair each)."""
    total = 0

    def on_conv(layer: nn.Module, _inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal total
        assert isinstance(layer, nn.Conv2d)
        kernel = layer.kernel_size[0] * layer.kernel_size[1] * layer.in_channels // layer.groups
        total += int(output.numel() * kernel)

    def on_linear(layer: nn.Module, _inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal total
        assert isinstance(layer, nn.Linear)
        total += int(output.numel() * layer.in_features)

    hooks = []
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d):
            hooks.append(layer.register_forward_hook(on_conv))
        elif isinstance(layer, nn.Linear):
            hooks.append(layer.register_forward_hook(on_linear))
    try:
        with torch.no_grad():
            module(example)
    finally:
        for hook in hooks:
            hook.remove()
    return total
