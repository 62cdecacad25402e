"""Warm starts: a new run begins from another run's weights (``livefake train --init-from RUN``).

The DeepFaceLab practice: a model trained on one pair already knows faces, so a new pair
converges in a fraction of the steps. ``all`` copies every weight (both decoders included);
``encoder-inter`` copies the shared encoder and inter (``inter_ab``/``inter_src`` for liae) and
leaves the decoders freshly initialised. Only the weights travel: the optimizer, the step
count and the RNG start afresh. Architecture, resolution and widths must match.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from livefake.errors import InputError
from livefake.models.base import ModelConfig, SwapAutoencoder
from livefake.models.checkpoint import load_checkpoint

INIT_PARTS = ("all", "encoder-inter")
SHAPE_FIELDS = ("arch", "resolution", "encoder_dims", "inter_dims", "decoder_dims", "mask_dims")
logger = logging.getLogger(__name__)


def check_same_shape(source: str, theirs: ModelConfig, ours: ModelConfig) -> None:
    """InputError naming every field that differs, and the flags that would match them."""
    differ = [name for name in SHAPE_FIELDS if getattr(theirs, name) != getattr(ours, name)]
    if not differ:
        return
    listed = ", ".join(f"{name} {getattr(theirs, name)} (this run: {getattr(ours, name)})" for name in differ)
    flags = " ".join(f"--{name.replace('_', '-')} {getattr(theirs, name)}" for name in differ)
    raise InputError(f"--init-from {source} holds another model shape: {listed}; train with {flags}")


def warm_start(model: SwapAutoencoder, run: str | Path, parts: str = "all") -> int:
    """Copy ``parts`` of RUN's weights into ``model``; returns how many tensors were copied."""
    if parts not in INIT_PARTS:
        raise InputError(f"--init-parts {parts!r} is not one of {', '.join(INIT_PARTS)}")
    loaded = load_checkpoint(run)
    check_same_shape(str(run), loaded.config, model.config)
    if loaded.config.face_type != model.config.face_type:
        theirs, ours = loaded.config.face_type, model.config.face_type
        logger.warning("--init-from %s was trained on '%s' faces, this run is '%s'", run, theirs, ours)
    state = loaded.model_state
    if parts == "encoder-inter":
        state = {key: value for key, value in state.items() if _shared_part(key)}
    with torch.no_grad():
        _missing, unexpected = model.load_state_dict(state, strict=parts == "all")
    if unexpected:
        raise InputError(f"--init-from {run} has weights this model lacks ({unexpected[0]}, ...)")
    logger.info("warm start: %d weight tensors (%s) from %s, step %d", len(state), parts, loaded.path, loaded.step)
    return len(state)


def _shared_part(key: str) -> bool:
    top = key.split(".", 1)[0]
    return top == "encoder" or top.startswith("inter")
