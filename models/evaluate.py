"""How a trained model swaps: pixel distances of A->B output to A and to B, inside the face."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from livefake.models.base import SwapAutoencoder
from livefake.models.dataset import FaceSamples, plain_batch
from livefake.models.step import swap_faces


@dataclass(frozen=True)
class SwapDistances:
    """Mean absolute pixel difference inside the A face hull, on [0, 1] RGB."""

    to_src: float  # A->B output vs the same A face (same pose): small if nothing was swapped
    to_dst: float  # A->B output vs the nearest B face: small if it looks like B
    dst_reconstruction: float  # B->B output vs B, for scale

    @property
    def closer_to_dst(self) -> bool:
        return self.to_dst < self.to_src


def swap_distances(
    model: SwapAutoencoder, src: FaceSamples, dst: FaceSamples, device: torch.device, count: int = 16
) -> SwapDistances:
    src_faces = plain_batch(src, list(range(min(count, len(src)))))
    dst_faces = plain_batch(dst, list(range(min(count, len(dst)))))
    masks = src.hulls[: len(src_faces)].astype(np.float32)[:, None] / 255.0
    swapped = swap_faces(model, src_faces, "dst", device)
    to_src = [_masked_mae(out, face, mask) for out, face, mask in zip(swapped, src_faces, masks, strict=True)]
    to_dst = [min(_masked_mae(out, face, mask) for face in dst_faces) for out, mask in zip(swapped, masks, strict=True)]
    rebuilt = swap_faces(model, dst_faces, "dst", device)
    dst_masks = dst.hulls[: len(dst_faces)].astype(np.float32)[:, None] / 255.0
    rebuild = [_masked_mae(a, b, m) for a, b, m in zip(rebuilt, dst_faces, dst_masks, strict=True)]
    return SwapDistances(float(np.mean(to_src)), float(np.mean(to_dst)), float(np.mean(rebuild)))


def _masked_mae(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    weight = float(mask.sum()) * a.shape[0]
    return float((np.abs(a - b) * mask).sum() / max(weight, 1.0))
