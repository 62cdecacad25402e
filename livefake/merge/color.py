"""Colour transfer: recolour a swapped face to the statistics of the face it replaces.

Statistics are taken on a small copy of each crop (``STATS_SIZE`` pixels square, inside the
mask), in OpenCV's 8-bit LAB space. ``rct``, ``lct`` and ``mkl`` then come down to one affine
map of LAB (3x3 plus offset), which is turned into the best-fitting affine map of BGR on the
face's own colours and applied with one ``cv2.transform``; ``sot`` moves the small copy's
colours by sliced optimal transport and carries the per-pixel shift up to full size. So the
cost barely depends on the crop size.

- ``rct``  Reinhard et al. 2001: per-channel mean and standard deviation in LAB.
- ``lct``  linear transfer matching the full 3x3 covariance (symmetric square roots).
- ``mkl``  Monge-Kantorovich linear map (Pitié & Kokaram 2007): the optimal affine transport.
- ``sot``  sliced optimal transport (Rabin et al. 2011), a non-linear match of the distributions.
- ``none`` returns the source unchanged.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import cv2
import numpy as np

from livefake.config import COLOR_TRANSFERS
from livefake.errors import InputError
from livefake.types import Image, Mask

STATS_SIZE = 64
SOT_SIZE = 32  # sliced OT works on fewer pixels: it iterates
MIN_PIXELS = 32  # fewer masked pixels than this: use the whole crop
_EPSILON = 1.0  # covariance regulariser, 8-bit LAB units squared
_SOT_STEPS = 10
_SOT_SEED = 1234
_SOT_QUANTILES = 32


@dataclass
class ColorStats:
    """Mean (3,) and covariance (3,3) of a crop's 8-bit LAB pixels."""

    mean: np.ndarray
    covariance: np.ndarray


def warm_up_conversions() -> None:
    """Run each colour conversion the merge uses once, so OpenCV's lazily built tables exist."""
    small = np.full((8, 8, 3), 128, np.uint8)
    for image in (small, small.astype(np.float32)):
        cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2LAB), cv2.COLOR_LAB2BGR)


def check_method(method: str) -> str:
    if method not in COLOR_TRANSFERS:
        raise InputError(f"colour transfer {method!r} is not one of {', '.join(COLOR_TRANSFERS)}")
    return method


def small_pixels(
    image_bgr: Image, mask: Mask | None, size: int = STATS_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """The masked pixels of a ``size`` x ``size`` copy of the image: BGR and 8-bit LAB, (N, 3) float64."""
    small = cv2.resize(image_bgr, (size, size), interpolation=cv2.INTER_AREA)
    bgr = small.reshape(-1, 3).astype(np.float64)
    lab = cv2.cvtColor(small, cv2.COLOR_BGR2LAB).reshape(-1, 3).astype(np.float64)
    if mask is None:
        return bgr, lab
    small_mask = cv2.resize(np.asarray(mask, np.float32), (size, size), interpolation=cv2.INTER_AREA)
    inside = small_mask.reshape(-1) > 0.5
    if np.count_nonzero(inside) < MIN_PIXELS:
        return bgr, lab
    return bgr[inside], lab[inside]


def color_stats(pixels: np.ndarray) -> ColorStats:
    mean = pixels.mean(axis=0)
    centred = pixels - mean
    covariance = centred.T @ centred / len(pixels) + _EPSILON * np.eye(3)
    return ColorStats(mean, covariance)


def _sqrt_spd(matrix: np.ndarray, inverse: bool = False) -> np.ndarray:
    values, vectors = np.linalg.eigh(matrix)
    values = np.maximum(values, 1e-6)
    return (vectors * (values ** (-0.5 if inverse else 0.5))) @ vectors.T


def linear_map(method: str, source: ColorStats, target: ColorStats) -> np.ndarray:
    """The (3,4) affine LAB map taking ``source`` statistics to ``target`` for rct, lct or mkl."""
    if method == "rct":
        gain = np.sqrt(np.diag(target.covariance) / np.diag(source.covariance))
        linear = np.diag(gain)
    elif method == "lct":
        linear = _sqrt_spd(target.covariance) @ _sqrt_spd(source.covariance, inverse=True)
    elif method == "mkl":
        root = _sqrt_spd(source.covariance)
        inverse_root = _sqrt_spd(source.covariance, inverse=True)
        linear = inverse_root @ _sqrt_spd(root @ target.covariance @ root) @ inverse_root
    else:
        raise InputError(f"colour transfer {method!r} has no linear map")
    offset = target.mean - linear @ source.mean
    return np.hstack([linear, offset[:, None]])


def bgr_map(source_bgr: Image, source_lab: np.ndarray, lab_map: np.ndarray) -> Image:
    """The (3,4) BGR affine map that best reproduces ``lab_map`` on these source pixels.

    A LAB affine map is not affine in BGR, but over one face's narrow range of colours the
    least-squares fit is close, and it applies to the full crop with a single ``cv2.transform``
    instead of two colour conversions.
    """
    mapped_lab = np.clip(source_lab @ lab_map[:, :3].T + lab_map[:, 3], 0, 255).astype(np.uint8)
    mapped_bgr = cv2.cvtColor(mapped_lab.reshape(-1, 1, 3), cv2.COLOR_LAB2BGR).reshape(-1, 3)
    design = np.hstack([source_bgr, np.ones((len(source_bgr), 1))])
    solution, *_ = np.linalg.lstsq(design, mapped_bgr.astype(np.float64), rcond=None)
    return solution.T


def sliced_transport_shift(
    source_lab: np.ndarray, target_pixels: np.ndarray, inside: np.ndarray
) -> np.ndarray:
    """Move ``source_lab`` (N,3) colours by sliced OT so the ``inside`` subset matches the target.

    Returns the per-pixel shift (N,3). Each step projects both sets on a random orthonormal
    basis and matches the 1-D quantiles along each axis.
    """
    rng = np.random.default_rng(_SOT_SEED)
    moved = source_lab.copy()
    source_at = np.linspace(0, np.count_nonzero(inside) - 1, _SOT_QUANTILES).astype(np.intp)
    target_at = np.linspace(0, len(target_pixels) - 1, _SOT_QUANTILES).astype(np.intp)
    ramp = np.arange(_SOT_QUANTILES) * 1e-6  # keeps the source quantiles strictly increasing
    for _ in range(_SOT_STEPS):
        basis, _ = np.linalg.qr(rng.standard_normal((3, 3)))
        projected = moved @ basis
        source_q = np.sort(projected[inside], axis=0)[source_at]
        target_q = np.sort(target_pixels @ basis, axis=0)[target_at]
        for axis in range(3):
            matched = np.interp(projected[:, axis], source_q[:, axis] + ramp, target_q[:, axis])
            moved += np.outer(matched - projected[:, axis], basis[:, axis])
    return moved - source_lab


def sot_shift_field(
    source_bgr: Image,
    target_bgr: Image,
    source_mask: Mask | None,
    target_mask: Mask | None,
) -> np.ndarray:
    """The SOT colour shift of a ``SOT_SIZE`` copy of the source: (S, S, 3) float32 LAB units."""
    size = SOT_SIZE
    small = cv2.resize(source_bgr, (size, size), interpolation=cv2.INTER_AREA)
    source_lab = cv2.cvtColor(small, cv2.COLOR_BGR2LAB).reshape(-1, 3).astype(np.float64)
    inside = np.ones(len(source_lab), dtype=bool)
    if source_mask is not None:
        mask32 = np.asarray(source_mask, np.float32)
        small_mask = cv2.resize(mask32, (size, size), interpolation=cv2.INTER_AREA)
        candidate = small_mask.reshape(-1) > 0.5
        inside = candidate if np.count_nonzero(candidate) >= MIN_PIXELS else inside
    _, target_lab = small_pixels(target_bgr, target_mask, size)
    shift = sliced_transport_shift(source_lab, target_lab, inside)
    return shift.reshape(size, size, 3).astype(np.float32)


def apply_shift_field(image_bgr: Image, shift: np.ndarray) -> Image:
    height, width = image_bgr.shape[:2]
    full_shift = cv2.resize(shift, (width, height), interpolation=cv2.INTER_LINEAR)
    lab = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2LAB).astype(np.float32)
    shifted = np.clip(lab + full_shift, 0, 255).astype(np.uint8)
    return cv2.cvtColor(shifted, cv2.COLOR_LAB2BGR)


def transfer_color(
    source_bgr: Image,
    target_bgr: Image,
    method: str,
    source_mask: Mask | None = None,
    target_mask: Mask | None = None,
) -> Image:
    """``source_bgr`` recoloured to ``target_bgr``'s colour statistics (inside the masks, if given)."""
    check_method(method)
    if method == "none":
        return source_bgr
    if method == "sot":
        shift = sot_shift_field(source_bgr, target_bgr, source_mask, target_mask)
        return apply_shift_field(source_bgr, shift)
    source_bgr_pixels, source_lab = small_pixels(source_bgr, source_mask)
    _, target_lab = small_pixels(target_bgr, target_mask)
    lab_map = linear_map(method, color_stats(source_lab), color_stats(target_lab))
    return cv2.transform(source_bgr, bgr_map(source_bgr_pixels, source_lab, lab_map))


class ColorMatcher:
    """Colour transfer with statistics smoothed over time, one history per face track.

    ``smoothing`` is the share of the previous statistics kept each frame (0 = no smoothing).
    At most ``max_tracks`` histories are kept; the least recently used is dropped first.
    """

    def __init__(self, method: str, smoothing: float = 0.8, max_tracks: int = 16) -> None:
        self.method = check_method(method)
        if not 0.0 <= smoothing < 1.0:
            raise InputError(f"colour smoothing {smoothing} must be in [0, 1)")
        self.smoothing = smoothing
        self.max_tracks = max_tracks
        self._history: OrderedDict[int, list[np.ndarray]] = OrderedDict()

    def reset(self) -> None:
        self._history.clear()

    def apply(
        self, track_id: int, swapped_bgr: Image, destination_bgr: Image, mask: Mask | None
    ) -> Image:
        """Recolour ``swapped_bgr`` towards ``destination_bgr`` (same crop space, same ``mask``)."""
        if self.method == "none":
            return swapped_bgr
        if self.method == "sot":
            (shift,) = self._remember(track_id, [sot_shift_field(swapped_bgr, destination_bgr, mask, mask)])
            return apply_shift_field(swapped_bgr, shift)
        source_bgr_pixels, source_lab = small_pixels(swapped_bgr, mask)
        _, target_lab = small_pixels(destination_bgr, mask)
        source, target = color_stats(source_lab), color_stats(target_lab)
        arrays = self._remember(track_id, [source.mean, source.covariance, target.mean, target.covariance])
        lab_map = linear_map(self.method, ColorStats(arrays[0], arrays[1]), ColorStats(arrays[2], arrays[3]))
        return cv2.transform(swapped_bgr, bgr_map(source_bgr_pixels, source_lab, lab_map))

    def _remember(self, track_id: int, current: list[np.ndarray]) -> list[np.ndarray]:
        """Blend ``current`` into the track's history and return the smoothed arrays."""
        previous = self._history.pop(track_id, None)
        if previous is not None:
            keep = self.smoothing
            current = [keep * old + (1.0 - keep) * new for old, new in zip(previous, current, strict=True)]
        self._history[track_id] = current
        while len(self._history) > self.max_tracks:
            self._history.popitem(last=False)
        return current
