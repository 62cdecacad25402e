"""Training augmentation: random affine jitter and flip (input and target alike), colour jitter,
and DeepFaceLab's random grid warp (input only), so a decoder learns to draw a face
"kind of like this" rather than copy pixels.

Everything draws from the ``numpy.random.Generator`` it is given: the same generator state
gives the same sample, which is what makes resumed training exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class AugmentConfig:
    rotation_deg: float = 10.0  # uniform +- degrees
    scale: float = 0.05  # uniform 1 +- scale
    shift: float = 0.05  # uniform +- fraction of the side
    flip_probability: float = 0.5
    brightness: float = 0.1  # uniform +- added, on [0, 1] images
    contrast: float = 0.1  # uniform 1 +- gain around the mean
    channel_gain: float = 0.05  # uniform 1 +- per-channel gain (a small hue shift)
    warp: bool = True
    warp_strength: float = 0.12  # std of the grid-point offsets, in grid cells


def random_affine(rng: np.random.Generator, size: int, config: AugmentConfig) -> np.ndarray:
    """A 2x3 matrix: rotation and scale about the centre, a shift, and maybe a horizontal flip."""
    angle = rng.uniform(-config.rotation_deg, config.rotation_deg)
    scale = rng.uniform(1.0 - config.scale, 1.0 + config.scale)
    shift = rng.uniform(-config.shift, config.shift, size=2) * size
    centre = (size - 1) / 2.0
    matrix = np.asarray(cv2.getRotationMatrix2D((centre, centre), angle, scale), dtype=np.float64)
    matrix[:, 2] += shift
    if rng.random() < config.flip_probability:
        flip = np.array([[-1.0, 0.0, size - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        matrix = (flip @ np.vstack([matrix, [0.0, 0.0, 1.0]]))[:2]
    return matrix


def apply_affine(image: np.ndarray, matrix: np.ndarray, replicate: bool) -> np.ndarray:
    size = image.shape[1], image.shape[0]
    border = cv2.BORDER_REPLICATE if replicate else cv2.BORDER_CONSTANT
    return cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=border)


def random_grid_warp(image: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Displace a coarse grid of points at random (edges fixed) and remap the image smoothly."""
    size = image.shape[0]
    cells = int(rng.choice([4, 6, 8]))
    cell_size = size / cells
    grid = np.linspace(0.0, size - 1.0, cells + 1, dtype=np.float32)
    map_x, map_y = np.meshgrid(grid, grid)
    offsets = rng.normal(0.0, strength * cell_size, size=(2, cells - 1, cells - 1)).astype(np.float32)
    map_x[1:-1, 1:-1] += offsets[0]
    map_y[1:-1, 1:-1] += offsets[1]
    full_x = cv2.resize(map_x, (size, size), interpolation=cv2.INTER_CUBIC)
    full_y = cv2.resize(map_y, (size, size), interpolation=cv2.INTER_CUBIC)
    return cv2.remap(image, full_x, full_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def random_colour(rng: np.random.Generator, config: AugmentConfig) -> tuple[float, float, np.ndarray]:
    """(brightness offset, contrast gain, per-channel gains) to apply with ``apply_colour``."""
    brightness = rng.uniform(-config.brightness, config.brightness)
    contrast = rng.uniform(1.0 - config.contrast, 1.0 + config.contrast)
    gains = rng.uniform(1.0 - config.channel_gain, 1.0 + config.channel_gain, size=3)
    return float(brightness), float(contrast), gains.astype(np.float32)


def apply_colour(image: np.ndarray, colour: tuple[float, float, np.ndarray]) -> np.ndarray:
    """Colour jitter on a float32 H x W x 3 image in [0, 1]; returns a clipped copy."""
    brightness, contrast, gains = colour
    mean = image.mean()
    jittered = (image - mean) * contrast + mean + brightness
    return np.clip(jittered * gains, 0.0, 1.0)
