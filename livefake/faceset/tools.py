"""Faceset housekeeping: add crops (for `extract`), sort the index, filter out unusable or
near-duplicate crops, contact sheets.

Adding crops (``FacesetWriter``) is undone as a whole when the run fails or is interrupted:
its crops go and the index is what it was (a faceset this run made goes entirely).

Sorting reorders the index only (crop files keep their names). Filtering moves each rejected
crop into ``FACESET/_rejected/`` together with its index entry (``_rejected/faceset.json``), so
nothing is lost: put a crop back by moving it and its entry. Near-duplicates are found by the
correlation of small grey thumbnails (a gain-independent measure of the same picture); the
``similarity`` sort chains faces by colour-histogram distance so similar crops sit together.
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import cv2
import numpy as np
from tqdm import tqdm

from livefake.errors import InputError, write_failure_reason
from livefake.face.align import alignment_matrix, transform_points, warp_to_crop
from livefake.faceset.format import (
    FACESET_INDEX,
    Faceset,
    FacesetFace,
    face_path,
    faceset_index_path,
    prepare_index,
    read_face_image,
    read_faceset,
    write_faceset,
)
from livefake.pipeline.frame import Face

log = logging.getLogger(__name__)

REJECTED_FOLDER = "_rejected"  # where filtered-out crops and their index entries go
SAVE_EVERY = 200  # faces added between index writes, so a crash loses little
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

    Both new indexes are written to temporary files first (a full disk fails here, having
    changed nothing); then the rejected index is renamed into place, the crops are moved and
    the kept index is renamed into place, so an interruption can leave an entry listed twice
    but never lost.
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
        move_to_rejected(folder, Faceset(faceset.face_type, faceset.resolution, kept), rejected)
    return FilterReport(kept=len(kept), rejected=counts)


def move_to_rejected(folder: Path, kept: Faceset, rejected: list[FacesetFace]) -> None:
    """Append ``rejected`` to the rejected faceset, move their crops there, and keep ``kept``."""
    target = folder / REJECTED_FOLDER
    moves = [(face_path(folder, face), face_path(target, face)) for face in rejected]
    clashes = [face.file for face in rejected if (target / face.file).exists()]
    if clashes:
        raise InputError(f"{target} already holds {clashes[0]}: move it away before filtering again")
    bin_index = rejected_index(target, kept)
    bin_index.faces.extend(rejected)
    bin_file = prepare_index(target, bin_index)
    try:
        kept_file = prepare_index(folder, kept)
    except BaseException:
        bin_file.unlink(missing_ok=True)
        raise
    os.replace(bin_file, faceset_index_path(target))
    for source, destination in moves:
        if source.exists():
            source.replace(destination)
        else:
            log.warning("crop %s listed in the index is missing; its entry moves to %s", source, target)
    os.replace(kept_file, faceset_index_path(folder))


def rejected_index(target: Path, faceset: Faceset) -> Faceset:
    """The rejected faces' index as it stands (empty when new); refused when of another kind."""
    if not faceset_index_path(target).is_file():
        return Faceset(face_type=faceset.face_type, resolution=faceset.resolution)
    bin_index = read_faceset(target)
    if (bin_index.face_type, bin_index.resolution) != (faceset.face_type, faceset.resolution):
        raise InputError(f"{target} holds faces of another type or size: move it away before filtering")
    return bin_index


def blur_score(crop_bgr: np.ndarray) -> float:
    """Variance of the Laplacian of the grey crop: higher is sharper."""
    grey = cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2GRAY) if crop_bgr.ndim == 3 else crop_bgr
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


class FacesetWriter:
    """Adds aligned crops to a faceset folder (new, or existing with the same face type and size)."""

    def __init__(self, folder: str | Path, face_type: str, resolution: int, jpeg_quality: int) -> None:
        self.folder = Path(folder)
        self.jpeg_quality = jpeg_quality
        self.created = [path for path in (self.folder, *self.folder.parents) if not path.exists()]  # folders made
        self.had_index = faceset_index_path(self.folder).is_file()
        self.faceset = self.open_faceset(face_type, resolution)
        self.faces_before = len(self.faceset.faces)
        self.written: list[Path] = []  # crops written by this run, removed again by rollback()
        self.saved = False  # whether this run has written the index
        self.next_number = self.first_free_number()
        self.unsaved = 0

    def open_faceset(self, face_type: str, resolution: int) -> Faceset:
        if (self.folder / FACESET_INDEX).is_file():
            faceset = read_faceset(self.folder)
            if (faceset.face_type, faceset.resolution) != (face_type, resolution):
                raise InputError(
                    f"faceset {self.folder} holds {faceset.face_type} faces at {faceset.resolution} px, not "
                    f"{face_type} at {resolution} px: use the same --face-type/--resolution or another --out"
                )
            return faceset
        if self.folder.exists() and (not self.folder.is_dir() or any(self.folder.iterdir())):
            raise InputError(f"{self.folder} exists and is not a faceset: give a new or empty --out folder")
        self.folder.mkdir(parents=True, exist_ok=True)
        return Faceset(face_type=face_type, resolution=resolution)

    def first_free_number(self) -> int:
        """One past the highest numbered crop here or among the rejected ones: names never clash."""
        names = [p.stem for p in self.folder.glob("*.jpg")]
        names += [p.stem for p in (self.folder / REJECTED_FOLDER).glob("*.jpg")]
        names += [Path(face.file).stem for face in self.faceset.faces]
        numbers = [int(name) for name in names if name.isdigit()]
        return max(numbers, default=-1) + 1

    def add(self, image: np.ndarray, face: Face, source: str, frame: int) -> FacesetFace:
        """Cut ``face`` out of ``image``, write the crop and add it to the index."""
        assert face.landmarks is not None, "extraction needs landmarks"
        size = self.faceset.resolution
        matrix = alignment_matrix(face.landmarks, self.faceset.face_type, size)  # type: ignore[arg-type]
        crop = warp_to_crop(image, matrix, size)
        name = f"{self.next_number:06d}.jpg"
        self.write_crop(self.folder / name, crop)
        self.next_number += 1
        yaw, pitch, roll = face.pose or (0.0, 0.0, 0.0)
        entry = FacesetFace(
            file=name, source=source, frame=frame,
            landmarks=np.round(transform_points(face.landmarks, matrix), 3).tolist(),
            matrix=matrix.tolist(), yaw=float(yaw), pitch=float(pitch), roll=float(roll),
            blur=blur_score(crop), score=float(face.score),
        )
        self.faceset.faces.append(entry)
        self.unsaved += 1
        if self.unsaved >= SAVE_EVERY:
            self.save()
        return entry

    def write_crop(self, path: Path, crop: np.ndarray) -> None:
        """Encode in memory, then write: a full disk is an error, not a short file."""
        ok, data = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
        if not ok:
            raise InputError(f"cannot encode face crop {path}")
        self.written.append(path)
        try:
            path.write_bytes(data.tobytes())
        except OSError as error:
            raise InputError(f"cannot write face crop {path}: {write_failure_reason(error)}") from error

    def save(self) -> None:
        self.saved = True
        write_faceset(self.folder, self.faceset)
        self.unsaved = 0

    def rollback(self) -> None:
        """Undo this run: its crops go, the index is what it was; a folder this run made goes."""
        for path in self.written:
            path.unlink(missing_ok=True)
        if not self.had_index:
            faceset_index_path(self.folder).unlink(missing_ok=True)
            remove_empty_folders([self.folder / REJECTED_FOLDER, *self.created])
        elif self.saved:
            self.faceset.faces = self.faceset.faces[: self.faces_before]
            write_faceset(self.folder, self.faceset)


def remove_empty_folders(folders: list[Path]) -> None:
    """Remove each of ``folders`` (innermost first) that exists and is empty."""
    for path in folders:
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()


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
    try:
        ok, data = cv2.imencode(out.suffix.lower() or ".png", sheet)
    except cv2.error:
        ok = False
    if not ok:
        raise InputError(f"cannot write contact sheet {out}: give a .png (or .jpg) path")
    temporary = out.with_name(f".{out.name}.{secrets.token_hex(4)}.partial")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(data.tobytes())
        temporary.replace(out)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise InputError(f"cannot write contact sheet {out}: {write_failure_reason(error)}") from error
    return out
