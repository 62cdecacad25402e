"""A loaded swap model, whatever its file layout: crops in, swapped faces and masks out.

A :class:`SwapModel` works on batches of aligned BGR uint8 crops, the form the swap stage has
in hand. ``livefake.runtime.adapters.load_swap_model`` opens a file and picks the adapter.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import cv2
import numpy as np

from livefake.runtime.contract import ModelContract
from livefake.runtime.session import ModelSession


class NoAnswer(Exception):
    """A remote model gave no answer in time for this frame: the frame passes through untouched."""


class SwapModel(ABC):
    """Swaps batches of aligned face crops. ``contract`` gives resolution and face type."""

    contract: ModelContract
    session: ModelSession

    @property
    def resolution(self) -> int:
        return self.contract.resolution

    @property
    def face_type(self) -> str:
        return self.contract.face_type

    @abstractmethod
    def swap_crops(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``crops`` uint8 BGR [N, R, R, 3] -> (faces uint8 BGR [N, R, R, 3], masks float32 [N, R, R])."""

    def warm_up(self, batch: int = 1) -> None:
        """Run on blank crops so the first live frame does not pay for allocation or engine builds."""
        blank = np.zeros((batch, self.resolution, self.resolution, 3), np.uint8)
        for _ in range(self.session.options.warm_up_runs):
            self.swap_crops(blank)


class ContractSwapModel(SwapModel):
    """A model that follows the livefake contract: NCHW RGB [0, 1] in, ``face`` and ``mask`` out."""

    def __init__(self, session: ModelSession, contract: ModelContract) -> None:
        self.session = session
        self.contract = contract
        self._dtype = session.input_dtype()

    def swap_crops(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        blob = cv2.dnn.blobFromImages(list(crops), scalefactor=1.0 / 255.0, swapRB=True)
        face, mask = self.session.run(
            {self.contract.input_name: blob.astype(self._dtype, copy=False)},
            [self.contract.output_face, self.contract.output_mask],
        )
        return nchw_rgb_to_bgr_uint8(face), mask[:, 0].astype(np.float32, copy=False)


def nchw_rgb_to_bgr_uint8(batch: np.ndarray) -> np.ndarray:
    """float [N, 3, H, W] RGB in [0, 1] -> uint8 [N, H, W, 3] BGR, rounded and clipped."""
    scaled = np.clip(batch[:, ::-1].transpose(0, 2, 3, 1) * 255.0 + 0.5, 0.0, 255.0)
    return scaled.astype(np.uint8)

