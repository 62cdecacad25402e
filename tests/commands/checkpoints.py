"""Small checkpoints for tests of `livefake export` through the real CLI."""

from __future__ import annotations

from pathlib import Path

import torch

from livefake.models.checkpoint import TrainState, save_checkpoint
from livefake.models.registry import build_model, default_config


def write_checkpoint(run: Path, resolution: int = 64, widths: dict[str, int] | None = None, nan: bool = False) -> Path:
    """A `lite` checkpoint with random weights (one weight NaN when ``nan``); returns its path."""
    torch.manual_seed(0)
    model = build_model(default_config("lite", resolution, **(widths or {})))
    if nan:
        with torch.no_grad():
            next(model.parameters()).view(-1)[0] = float("nan")
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    return save_checkpoint(run, model, optimizer, TrainState(step=1, seed=0))
