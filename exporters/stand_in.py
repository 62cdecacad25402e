"""Stand-in weights for tests and benchmarks when no trained checkpoint is at hand.

A freshly built swap model draws a flat grey face (its zero-bias init keeps every output at
sigmoid(0)), which makes export checks pass trivially. ``stand_in_weights`` gives random
weights scaled layer by layer (LSUV: each conv/linear output gets unit spread on real crops),
so activations neither vanish nor saturate and every layer's rounding shows in the output.
A trained model's activations differ: figures measured on stand-ins are a proxy.
"""

from __future__ import annotations

import torch
from torch import nn

from livefake.models.base import SwapAutoencoder

HEAD_NAMES = ("face", "mask")


def stand_in_weights(
    model: SwapAutoencoder, crops: torch.Tensor, seed: int = 0, head_spread: float = 1.5
) -> SwapAutoencoder:
    """Randomise ``model``'s weights in place, then scale each layer to unit output spread on ``crops``.

    The output heads (modules named ``face``/``mask``) get ``head_spread`` before their sigmoid.
    ``model`` is a SwapAutoencoder; its ``dst`` swap graph is what gets measured.
    """
    generator = torch.Generator().manual_seed(seed)
    swap = model.swap_module("dst").eval()
    layers = [(name, layer) for name, layer in model.named_modules() if isinstance(layer, nn.Conv2d | nn.Linear)]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # dozens of small forwards: thread hand-offs cost more than they give
    try:
        _scale_layers(model, swap, layers, crops, generator, head_spread)
    finally:
        torch.set_num_threads(threads)
    return model


def _scale_layers(
    model: nn.Module,
    swap: nn.Module,
    layers: list[tuple[str, nn.Conv2d | nn.Linear]],
    crops: torch.Tensor,
    generator: torch.Generator,
    head_spread: float,
) -> None:
    with torch.no_grad():
        for parameter in model.parameters():
            fan_in = parameter[0].numel() if parameter.dim() > 1 else 100
            parameter.copy_(torch.randn(parameter.shape, generator=generator) / fan_in**0.5)
        for name, layer in layers:
            target = head_spread if name.rsplit(".", 1)[-1] in HEAD_NAMES else 1.0
            _scale_to_spread(swap, layer, crops, target)


def _scale_to_spread(swap: nn.Module, layer: nn.Conv2d | nn.Linear, crops: torch.Tensor, target: float) -> None:
    seen: list[torch.Tensor] = []
    hook = layer.register_forward_hook(lambda _module, _inputs, output: seen.append(output))
    try:
        swap(crops)
    finally:
        hook.remove()
    if not seen:  # a layer of the other identity's decoder: not on the dst path
        return
    factor = target / max(float(seen[0].std()), 1e-6)
    layer.weight.mul_(factor)
    if layer.bias is not None:
        layer.bias.mul_(factor)
