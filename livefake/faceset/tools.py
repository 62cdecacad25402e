"""Faceset housekeeping: sort the index, filter out unusable or near-duplicate crops, contact sheets.

Sorting reorders the index only (crop files keep their names). Filtering moves each rejected
crop into ``FACESET/_rejected/`` together with its index entry (``_rejected/faceset.json``), so
nothing is lost: put a crop back by moving it and its entry. Near-duplicates are found by the
correlation of small grey thumbnails (a gain-independent measure of the same picture); the
``similarity`` sort chains faces by colour-histogram distance so similar crops sit together.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import cv2
import numpy as np
from tqdm import tqdm

from livefake.errors import InputError
from livefake.faceset.format import Faceset, FacesetFace, read_face_image, read_faceset, write_faceset

log = logging.getLogger(__name__)

REJECTED_FOLDER = "_rejected"  # where filtered-out crops and their index entries go
SortKey = Literal["blur", "yaw", "pitch", "brightness", "similarity"]
SORT_KEYS: tuple[str, ...] = get_args(SortKey)
HISTOGRAM_BINS = 32
THUMBNAIL_SIDE = 24
SHEET_CELL = 128  # contact-sheet thumbnail side in pixels
CAPTION_HEIGHT = 18


@dataclass(frozen=True)
class FilterRules:
    """What a kept face must satisfy; None switches a rule off."""

    min_blur: float | None = None  # variance of the Laplacian, as in the index
    max_yaw: float | None = None  # degrees, either side
    max_pitch: float | None = None  # degrees, either side
    min_brightness: float | None = None  # mean grey level 0..255 of the crop
    max_brightness: float | None = None
    dedupe: float | None = None  # drop a face whose thumbnail correlates this much (0..1) with a kept one

    def needs_pixels(self) -> bool:
        return self.min_brightness is not None or self.max_brightness is not None

    def check(self) -> None:
        if self.dedupe is not None and not 0.0 < self.dedupe <= 1.0:
            raise InputError(f"--dedupe {self.dedupe} must be a correlation in (0, 1], e.g. 0.97")
        for name in ("max_yaw", "max_pitch"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise InputError(f"--{name.replace('_', '-')} {value} must be 0 or more degrees")


@dataclass
class FilterReport:
    kept: int
    rejected: dict[str, int]  # reason -> count

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


def brightness(crop_bgr: np.ndarray) -> float:
    """Mean grey level of a crop, 0..255."""
    return float(cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2GRAY).mean())


def histogram_feature(crop_bgr: np.ndarray) -> np.ndarray:
    """Square roots of the normalised per-channel histograms: Euclidean distance ~ Hellinger distance."""
    channels = [cv2.calcHist([crop_bgr], [c], None, [HISTOGRAM_BINS], [0, 256]).ravel() for c in range(3)]
    stacked = np.concatenate([h / max(float(h.sum()), 1.0) for h in channels]) / 3.0
    return np.sqrt(stacked).astype(np.float32)


def thumbnail_feature(crop_bgr: np.ndarray) -> np.ndarray:
    """A small grey thumbnail, zero mean and unit length: the dot product of two is their correlation."""
    grey = cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(grey, (THUMBNAIL_SIDE, THUMBNAIL_SIDE), interpolation=cv2.INTER_AREA)
    small = small.astype(np.float32).ravel()
    small -= small.mean()
    return small / max(float(np.linalg.norm(small)), 1e-6)


def read_crops(folder: Path, faces: list[FacesetFace], progress: bool, what: str) -> Iterator[np.ndarray]:
    """Each face's crop in order, under a progress bar."""
    disable = None if progress else True
    for face in tqdm(faces, desc=what, unit="face", file=sys.stderr, disable=disable):
        yield read_face_image(folder, face)


def similarity_chain(features: np.ndarray) -> list[int]:
    """Greedy nearest-neighbour chain from the first row: each next row is the closest unvisited one."""
    count = len(features)
    if count == 0:
        return []
    visited = np.zeros(count, dtype=bool)
    order = [0]
    visited[0] = True
    for _ in range(count - 1):
        distances = np.linalg.norm(features - features[order[-1]], axis=1)
        distances[visited] = np.inf
        nearest = int(np.argmin(distances))
        order.append(nearest)
        visited[nearest] = True
    return order


def sort_order(folder: Path, faces: list[FacesetFace], by: SortKey, progress: bool = False) -> list[int]:
    """Index positions in the new order: sharpest / brightest first, yaw and pitch from low to high."""
    if by == "blur":
        return sorted(range(len(faces)), key=lambda i: -faces[i].blur)
    if by in ("yaw", "pitch"):
        return sorted(range(len(faces)), key=lambda i: float(getattr(faces[i], by)))
    if by == "brightness":
        levels = [brightness(crop) for crop in read_crops(folder, faces, progress, "brightness")]
        return sorted(range(len(faces)), key=lambda i: -levels[i])
    if by == "similarity":
        features = [histogram_feature(crop) for crop in read_crops(folder, faces, progress, "histograms")]
        return similarity_chain(np.stack(features)) if features else []
    raise InputError(f"--by {by!r} is not one of {', '.join(SORT_KEYS)}")


def sort_faceset(folder: str | Path, by: SortKey, progress: bool = False) -> Faceset:
    """Reorder the index of the faceset in ``folder`` (files keep their names) and write it back."""
    folder = Path(folder)
    faceset = read_faceset(folder)
    order = sort_order(folder, faceset.faces, by, progress)
    faceset.faces = [faceset.faces[i] for i in order]
    write_faceset(folder, faceset)
    return faceset


def failed_rule(face: FacesetFace, level: float, rules: FilterRules) -> str | None:
    """The first rule ``face`` (with crop brightness ``level``) fails, or None."""
    if rules.min_blur is not None and face.blur < rules.min_blur:
        return "blur"
    if rules.max_yaw is not None and abs(face.yaw) > rules.max_yaw:
        return "yaw"
    if rules.max_pitch is not None and abs(face.pitch) > rules.max_pitch:
        return "pitch"
    if rules.min_brightness is not None and level < rules.min_brightness:
        return "dark"
    if rules.max_brightness is not None and level > rules.max_brightness:
        return "bright"
    return None


def rejection_reasons(
    folder: Path, faces: list[FacesetFace], rules: FilterRules, progress: bool
) -> list[str | None]:
    """Per face, the first rule it fails (or "duplicate"), None when kept."""
    reads_pixels = rules.needs_pixels() or rules.dedupe is not None
    crops = read_crops(folder, faces, progress, "filter") if reads_pixels else None
    kept_thumbnails: list[np.ndarray] = []
    reasons: list[str | None] = []
    for face in faces:
        crop = next(crops) if crops is not None else None
        level = brightness(crop) if crop is not None and rules.needs_pixels() else 0.0
        reason = failed_rule(face, level, rules)
        if reason is None and rules.dedupe is not None and crop is not None:
            thumbnail = thumbnail_feature(crop)
            if kept_thumbnails and float(np.max(np.stack(kept_thumbnails) @ thumbnail)) >= rules.dedupe:
                reason = "duplicate"
            else:
                kept_thumbnails.append(thumbnail)
        reasons.append(reason)
    return reasons


def filter_faceset(folder: str | Path, rules: FilterRules, progress: bool = False) -> FilterReport:
    """Move the faces that fail ``rules`` (and their index entries) into ``FOLDER/_rejected/``.

    Order of writes: the rejected index first (listing crops about to move), then the moves,
    then the kept index, so an interruption can leave an entry listed twice but never lost.
    """
    rules.check()
    folder = Path(folder)
    faceset = read_faceset(folder)
    reasons = rejection_reasons(folder, faceset.faces, rules, progress)
    rejected = [face for face, reason in zip(faceset.faces, reasons, strict=True) if reason is not None]
    kept = [face for face, reason in zip(faceset.faces, reasons, strict=True) if reason is None]
    counts: dict[str, int] = {}
    for reason in reasons:
        if reason is not None:
            counts[reason] = counts.get(reason, 0) + 1
    if rejected:
        move_to_rejected(folder, faceset, rejected)
        faceset.faces = kept
        write_faceset(folder, faceset)
    return FilterReport(kept=len(kept), rejected=counts)


def move_to_rejected(folder: Path, faceset: Faceset, rejected: list[FacesetFace]) -> None:
    """Append ``rejected`` to the rejected faceset and move their crops there."""
    target = folder / REJECTED_FOLDER
    clashes = [face.file for face in rejected if (target / face.file).exists()]
    if clashes:
        raise InputError(f"{target} already holds {clashes[0]}: move it away before filtering again")
    if (target / "faceset.json").is_file():
        bin_index = read_faceset(target)
        if (bin_index.face_type, bin_index.resolution) != (faceset.face_type, faceset.resolution):
            raise InputError(f"{target} holds faces of another type or size: move it away before filtering")
    else:
        bin_index = Faceset(face_type=faceset.face_type, resolution=faceset.resolution)
    bin_index.faces.extend(rejected)
    write_faceset(target, bin_index)
    for face in rejected:
        source = folder / face.file
        if source.exists():
            source.replace(target / face.file)
        else:
            log.warning("crop %s listed in the index is missing; its entry moves to %s", source, target)


def contact_sheet(
    folder: str | Path, columns: int = 8, limit: int = 64, cell: int = SHEET_CELL
) -> np.ndarray:
    """A grid of the first ``limit`` crops in index order, each captioned with its position and blur."""
    if columns < 1 or limit < 1:
        raise InputError(f"--columns {columns} and --limit {limit} must be 1 or more")
    folder = Path(folder)
    faces = read_faceset(folder).faces[:limit]
    if not faces:
        raise InputError(f"faceset {folder} holds no faces to show")
    rows = (len(faces) + columns - 1) // columns
    height = cell + CAPTION_HEIGHT
    sheet = np.full((rows * height, min(columns, len(faces)) * cell, 3), 32, np.uint8)
    for position, face in enumerate(faces):
        row, column = divmod(position, columns)
        crop = cv2.resize(read_face_image(folder, face), (cell, cell), interpolation=cv2.INTER_AREA)
        top, left = row * height, column * cell
        sheet[top : top + cell, left : left + cell] = crop
        caption = f"#{position} blur {face.blur:.0f} yaw {face.yaw:+.0f}"
        cv2.putText(sheet, caption, (left + 3, top + cell + 13), cv2.FONT_HERSHEY_SIMPLEX, 0.36,
                    (230, 230, 230), 1, cv2.LINE_AA)
    return sheet


def write_contact_sheet(folder: str | Path, out: str | Path, columns: int = 8, limit: int = 64) -> Path:
    """Write the contact sheet of ``folder`` as a PNG at ``out``."""
    out = Path(out)
    sheet = contact_sheet(folder, columns, limit)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), sheet):
        raise InputError(f"cannot write contact sheet {out}: give a writable .png path")
    return out
