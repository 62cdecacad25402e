"""Facesets in memory for training, and augmented batches drawn from them.

A faceset is checked against the model (same face type; crops at the model's resolution or
larger, which are resized as they load; at least ``MIN_FACES`` usable faces), loaded once as
uint8 crops, and given per-face masks drawn from its landmarks: the face hull (the mask target)
and the eyes + mouth (extra loss weight). Under several processes each rank loads only its
shard: faces ``rank, rank + world, ...`` of the faceset.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from livefake.errors import InputError
from livefake.face import mesh
from livefake.face.masks import hull_mask, region_mask
from livefake.faceset.format import Faceset, FacesetFace, read_face_image, read_faceset
from livefake.models.augment import (
    AugmentConfig,
    apply_affine,
    apply_colour,
    random_affine,
    random_colour,
    random_grid_warp,
)

MIN_FACES = 10
REGION_DILATION = 1 / 32  # eyes/mouth weight masks grow by this fraction of the side


@dataclass(frozen=True)
class FaceSamples:
    """One identity's faces in memory: crops (N, R, R, 3) BGR, hull and eyes/mouth masks (N, R, R)."""

    folder: Path
    images: np.ndarray
    hulls: np.ndarray
    regions: np.ndarray

    def __len__(self) -> int:
        return int(self.images.shape[0])


@dataclass(frozen=True)
class Batch:
    """Float32 NCHW arrays: warped inputs and targets (RGB [0, 1]), target masks and eye/mouth weights."""

    inputs: np.ndarray
    targets: np.ndarray
    masks: np.ndarray
    regions: np.ndarray


def load_face_samples(
    folder: str | Path, face_type: str, resolution: int, rank: int = 0, world: int = 1
) -> FaceSamples:
    """Load a faceset (this rank's shard) for a model of ``face_type`` at ``resolution``.

    Crops larger than ``resolution`` are resized (landmarks scaled with them); InputError when
    the faceset cannot train the model.
    """
    folder = Path(folder)
    faceset = read_faceset(folder)
    check_faceset_matches(folder, faceset, face_type, resolution)
    images, hulls, regions, problems = [], [], [], []
    usable = 0
    for index, face in enumerate(faceset.faces):
        problem = _unusable_reason(folder, face, faceset.resolution)
        if problem:
            problems.append(problem)
            continue
        usable += 1
        if index % world != rank:
            continue
        image, landmarks = _at_resolution(read_face_image(folder, face), face.landmarks_array(), resolution)
        images.append(image)
        hulls.append(_to_uint8(hull_mask(landmarks, (resolution, resolution), face_type)))  # type: ignore[arg-type]
        regions.append(_eyes_and_mouth(landmarks, resolution))
    if usable < max(MIN_FACES, world):
        detail = f" ({len(problems)} unusable, first: {problems[0]})" if problems else ""
        raise InputError(
            f"faceset {folder} has {usable} usable faces{detail}: at least {max(MIN_FACES, world)} are needed, "
            "extract more with `livefake extract`"
        )
    return FaceSamples(folder, np.stack(images), np.stack(hulls), np.stack(regions))


def check_faceset_matches(folder: Path, faceset: Faceset, face_type: str, resolution: int) -> None:
    if faceset.face_type != face_type:
        raise InputError(
            f"faceset {folder} holds '{faceset.face_type}' faces but the model is '{face_type}': "
            f"train with --face-type {faceset.face_type} or re-extract with --face-type {face_type}"
        )
    if faceset.resolution < resolution:
        raise InputError(
            f"faceset {folder} is {faceset.resolution} px, smaller than the {resolution} px model: "
            f"train with --resolution {faceset.resolution} (or less), or re-extract with --resolution {resolution}"
        )


def check_same_face_type(src: Path, dst: Path) -> str:
    """The face type both facesets hold; InputError with the fix when they differ."""
    src_type, dst_type = read_faceset(src).face_type, read_faceset(dst).face_type
    if src_type != dst_type:
        raise InputError(
            f"facesets {src} ('{src_type}') and {dst} ('{dst_type}') hold different face types: "
            f"re-extract one of them, e.g. `livefake extract ... --out {dst} --face-type {src_type}`"
        )
    return src_type


def make_batch(samples: FaceSamples, rng: np.random.Generator, batch_size: int, augment: AugmentConfig) -> Batch:
    """Draw ``batch_size`` faces and augment each; the same ``rng`` state gives the same batch."""
    replace = len(samples) < batch_size
    indices = rng.choice(len(samples), size=batch_size, replace=replace)
    parts = [_augmented_sample(samples, int(index), rng, augment) for index in indices]
    inputs, targets, masks, regions = (np.stack(column) for column in zip(*parts, strict=True))
    return Batch(inputs=inputs, targets=targets, masks=masks, regions=regions)


def plain_batch(samples: FaceSamples, indices: list[int]) -> np.ndarray:
    """Un-augmented faces as float32 NCHW RGB [0, 1] (for previews and evaluation)."""
    return np.stack([to_chw_rgb(samples.images[index]) for index in indices])


def to_chw_rgb(image_bgr: np.ndarray) -> np.ndarray:
    rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
    return np.ascontiguousarray(rgb.transpose(2, 0, 1))


def _augmented_sample(
    samples: FaceSamples, index: int, rng: np.random.Generator, augment: AugmentConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    size = samples.images.shape[1]
    matrix = random_affine(rng, size, augment)
    colour = random_colour(rng, augment)
    image = apply_affine(samples.images[index], matrix, replicate=True)
    target = apply_colour(cv2.cvtColor(image, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0, colour)
    source = random_grid_warp(target, rng, augment.warp_strength) if augment.warp else target
    hull = apply_affine(samples.hulls[index], matrix, replicate=False).astype(np.float32) / 255.0
    region = apply_affine(samples.regions[index], matrix, replicate=False).astype(np.float32) / 255.0
    return source.transpose(2, 0, 1), target.transpose(2, 0, 1), hull[None], region[None]


def _at_resolution(image: np.ndarray, landmarks: np.ndarray, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """A crop and its landmarks at ``resolution`` (area-averaged down from a larger crop)."""
    if image.shape[0] == resolution:
        return image, landmarks
    scale = resolution / image.shape[0]
    resized = cv2.resize(image, (resolution, resolution), interpolation=cv2.INTER_AREA)
    return resized, (landmarks + 0.5) * scale - 0.5


def _unusable_reason(folder: Path, face: FacesetFace, resolution: int) -> str:
    if len(face.landmarks) != mesh.LANDMARK_COUNT:
        return f"{face.file}: {len(face.landmarks)} landmarks, need {mesh.LANDMARK_COUNT}"
    image = cv2.imread(str(folder / face.file), cv2.IMREAD_COLOR)
    if image is None:
        return f"{face.file}: missing or unreadable"
    if image.shape[:2] != (resolution, resolution):
        return f"{face.file}: {image.shape[1]}x{image.shape[0]}, expected {resolution}x{resolution}"
    return ""


def _eyes_and_mouth(landmarks: np.ndarray, resolution: int) -> np.ndarray:
    mask = np.maximum(
        region_mask(landmarks, (resolution, resolution), "eyes"),
        region_mask(landmarks, (resolution, resolution), "mouth"),
    )
    radius = max(1, round(resolution * REGION_DILATION))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return _to_uint8(cv2.dilate(mask, kernel))


def _to_uint8(mask: np.ndarray) -> np.ndarray:
    return np.clip(mask * 255.0 + 0.5, 0, 255).astype(np.uint8)
