"""One optimisation step of a swap model (both identities, optional PatchGAN) and the preview.

Both identities go through one ``forward`` of ``PairForward``, the module that
DistributedDataParallel wraps under several processes (one forward per backward, as DDP
expects). On CUDA the step runs under bf16 autocast in channels-last layout, optionally
through ``torch.compile``.
"""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path

import numpy as np
import torch

from livefake.models.base import IDENTITIES, SwapAutoencoder
from livefake.models.dataset import FaceSamples, plain_batch
from livefake.models.distributed import PeerLost, World, average_gradients, is_backend_failure, lost_peer_message
from livefake.models.losses import (
    LossWeights,
    discriminator_loss,
    generator_adversarial_loss,
    reconstruction_losses,
    weighted_total,
)
from livefake.models.preview import preview_grid, write_png

PREVIEW_FACES = 6
Tensors = tuple[torch.Tensor, ...]  # (inputs, targets, masks, regions), NCHW


class PairForward(torch.nn.Module):
    """``forward(src inputs, dst inputs) -> (src face, src mask, dst face, dst mask)``."""

    def __init__(self, model: SwapAutoencoder) -> None:
        super().__init__()
        self.model = model

    def forward(self, src: torch.Tensor, dst: torch.Tensor) -> tuple[torch.Tensor, ...]:
        src_face, src_mask = self.model(src, "src")
        dst_face, dst_mask = self.model(dst, "dst")
        return src_face, src_mask, dst_face, dst_mask


class TrainingStep:
    """Callable: (src tensors, dst tensors, adversarial?) -> losses as floats, after one update."""

    def __init__(
        self,
        model: SwapAutoencoder,
        optimizer: torch.optim.Optimizer,
        device: torch.device,
        weights: LossWeights,
        discriminator: torch.nn.Module | None = None,
        discriminator_optimizer: torch.optim.Optimizer | None = None,
        world: World | None = None,
        compile_model: bool = False,
    ) -> None:
        self.model = model
        self.optimizer = optimizer
        self.device = device
        self.weights = weights
        self.discriminator = discriminator
        self.discriminator_optimizer = discriminator_optimizer
        self.world = world or World()
        self.channels_last = device.type == "cuda"
        self.forward = self._pair_forward(compile_model)

    def _pair_forward(self, compile_model: bool) -> torch.nn.Module:
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        pair: torch.nn.Module = PairForward(self.model)
        if self.world.distributed:
            from torch.nn.parallel import DistributedDataParallel

            # depthwise kernels (C x 1 x k x k) get gradients whose size-1 dimension has another stride:
            # the same memory order, so DDP's "may impair performance" warning says nothing here
            warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")

            device_ids = [self.device.index] if self.device.type == "cuda" else None
            pair = DistributedDataParallel(pair, device_ids=device_ids)
        if compile_model:
            pair = torch.compile(pair)  # type: ignore[assignment]
        return pair

    def __call__(self, src: Tensors, dst: Tensors, adversarial: bool) -> dict[str, float]:
        try:
            return self._update(src, dst, adversarial)
        except RuntimeError as error:  # DDP's gradient all-reduce raises plain RuntimeErrors from its backend
            if self.world.distributed and is_backend_failure(error):
                raise PeerLost(lost_peer_message(self.world, error)) from error
            raise

    def _update(self, src: Tensors, dst: Tensors, adversarial: bool) -> dict[str, float]:
        self.model.train()
        adversarial = adversarial and self.discriminator is not None
        tensors = {identity: self._layout(parts) for identity, parts in zip(IDENTITIES, (src, dst), strict=True)}
        values: dict[str, float] = {}
        total = torch.zeros((), device=self.device)
        fakes, reals = [], []
        with self._autocast():
            outputs = self.forward(tensors["src"][0], tensors["dst"][0])
            for index, (identity, (_inputs, targets, masks, regions)) in enumerate(tensors.items()):
                face, mask = outputs[2 * index], outputs[2 * index + 1]
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
        average_gradients(self.world, self.discriminator)
        self.discriminator_optimizer.step()
        return loss.item()

    def _layout(self, parts: Tensors) -> Tensors:
        parts = tuple(tensor.to(self.device, non_blocking=True) for tensor in parts)
        if not self.channels_last:
            return parts
        return tuple(tensor.contiguous(memory_format=torch.channels_last) for tensor in parts)

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
