"""One optimisation step of a swap model (both identities, optional PatchGAN) and the preview."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import torch

from livefake.models.base import IDENTITIES, SwapAutoencoder
from livefake.models.dataset import Batch, FaceSamples, plain_batch
from livefake.models.losses import (
    LossWeights,
    discriminator_loss,
    generator_adversarial_loss,
    reconstruction_losses,
    weighted_total,
)
from livefake.models.preview import preview_grid, write_png

PREVIEW_FACES = 6


class TrainingStep:
    """Callable: (src batch, dst batch, adversarial?) -> losses as floats, after one update."""

    def __init__(
        self,
        model: SwapAutoencoder,
        optimizer: torch.optim.Optimizer,
        device: torch.device,
        weights: LossWeights,
        discriminator: torch.nn.Module | None = None,
        discriminator_optimizer: torch.optim.Optimizer | None = None,
    ) -> None:
        self.model = model
        self.optimizer = optimizer
        self.device = device
        self.weights = weights
        self.discriminator = discriminator
        self.discriminator_optimizer = discriminator_optimizer

    def __call__(self, src: Batch, dst: Batch, adversarial: bool) -> dict[str, float]:
        self.model.train()
        adversarial = adversarial and self.discriminator is not None
        tensors = {identity: self._tensors(batch) for identity, batch in zip(IDENTITIES, (src, dst), strict=True)}
        values: dict[str, float] = {}
        total = torch.zeros((), device=self.device)
        fakes, reals = [], []
        with self._autocast():
            for identity, (inputs, targets, masks, regions) in tensors.items():
                face, mask = self.model(inputs, identity)
                parts = reconstruction_losses(face, mask, targets, masks, regions)
                total = total + weighted_total(parts, self.weights)
                values[f"{identity}_recon"] = (parts["dssim"] + parts["l1"]).item()
                values[f"{identity}_eyes_mouth"] = parts["eyes_mouth"].item()
                values[f"{identity}_mask"] = parts["mask"].item()
                fakes.append(face.float() * masks)
                reals.append(targets * masks)
            if adversarial:
                assert self.discriminator is not None
                fake = torch.cat(fakes)
                generator = generator_adversarial_loss(self.discriminator, fake)
                total = total + self.weights.adversarial * generator
                values["gan_generator"] = generator.item()
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        self.optimizer.step()
        if adversarial:
            values["gan_discriminator"] = self._discriminator_update(torch.cat(reals), torch.cat(fakes))
        values["mask"] = (values["src_mask"] + values["dst_mask"]) / 2
        values["total"] = total.item()
        return values

    def _discriminator_update(self, real: torch.Tensor, fake: torch.Tensor) -> float:
        assert self.discriminator is not None and self.discriminator_optimizer is not None
        with self._autocast():
            loss = discriminator_loss(self.discriminator, real, fake)
        self.discriminator_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.discriminator_optimizer.step()
        return loss.item()

    def _tensors(self, batch: Batch) -> tuple[torch.Tensor, ...]:
        arrays = (batch.inputs, batch.targets, batch.masks, batch.regions)
        return tuple(torch.from_numpy(array).to(self.device, non_blocking=True) for array in arrays)

    def _autocast(self) -> contextlib.AbstractContextManager[object]:
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()


@torch.no_grad()
def swap_faces(model: SwapAutoencoder, faces: np.ndarray, identity: str, device: torch.device) -> np.ndarray:
    """Faces (N x 3 x H x W, RGB [0, 1]) drawn as ``identity``, as a numpy array."""
    model.eval()
    drawn, _mask = model(torch.from_numpy(faces).to(device), identity)
    return drawn.float().cpu().numpy()


def render_preview(
    model: SwapAutoencoder, samples: dict[str, FaceSamples], device: torch.device, *paths: Path
) -> np.ndarray:
    """The preview grid (rows A, A->A, B, B->B, A->B) of the first faces, written to ``paths``."""
    faces = {
        identity: plain_batch(samples[identity], _spread(len(samples[identity]), PREVIEW_FACES))
        for identity in IDENTITIES
    }
    rows = [
        faces["src"],
        swap_faces(model, faces["src"], "src", device),
        faces["dst"],
        swap_faces(model, faces["dst"], "dst", device),
        swap_faces(model, faces["src"], "dst", device),
    ]
    grid = preview_grid(rows)
    for path in paths:
        write_png(path, grid)
    return grid


def _spread(count: int, wanted: int) -> list[int]:
    return sorted({int(round(i)) for i in np.linspace(0, count - 1, min(count, wanted))})
