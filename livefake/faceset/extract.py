"""Face extraction: videos, images or folders -> a faceset of aligned crops plus its index.

Each input file is read through ``livefake.sources`` and its faces are followed by the face
tracker (detection only when a face is lost or new), one face per frame: the largest, or the
one nearest to a reference photo by identity distance (dlib, the ``identity`` extra). The face
is cut out with the similarity transform of its face type (``livefake.face.align``) and written
as a JPEG crop; the index (``livefake.faceset.format``) keeps the landmarks in crop pixels, the
source->crop matrix, the head pose, a blur score, the face confidence and where it came from.

Unreadable inputs are skipped with one warning each and counted in the report. Extracting into
an existing faceset appends to it when face type and resolution match.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, get_args

import numpy as np
from tqdm import tqdm

from livefake.config import SourceConfig, TrackConfig
from livefake.errors import InputError, ModelError
from livefake.face.align import FACE_TYPES
from livefake.face.track import FaceTracker
from livefake.faceset.tools import FacesetWriter
from livefake.pipeline.frame import Face
from livefake.pipeline.stage import Source, StreamInfo
from livefake.sources import make_source
from livefake.sources.image import IMAGE_SUFFIXES, read_image

log = logging.getLogger(__name__)

PickMode = Literal["largest", "reference"]
PICK_MODES: tuple[str, ...] = get_args(PickMode)
VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ts")
JPEG_QUALITY = 95
MIN_RESOLUTION, MAX_RESOLUTION = 32, 1024


@dataclass(frozen=True)
class ExtractConfig:
    """How to extract: crop framing and size, which face to take, which frames to sample."""

    face_type: str = "whole"
    resolution: int = 256
    pick: PickMode = "largest"
    reference: str | None = None  # photo of the person to keep, for pick="reference"
    every: int = 1  # take every Nth video frame
    min_score: float = 0.5  # skip faces the landmark model is less sure of
    models_dir: str | None = None  # face models from `livefake setup`
    jpeg_quality: int = JPEG_QUALITY

    def check(self) -> None:
        """InputError naming the parameter when a value cannot be used."""
        if self.face_type not in FACE_TYPES:
            raise InputError(f"--face-type {self.face_type!r} is not one of {', '.join(FACE_TYPES)}")
        if not MIN_RESOLUTION <= self.resolution <= MAX_RESOLUTION:
            raise InputError(f"--resolution {self.resolution} must be {MIN_RESOLUTION}..{MAX_RESOLUTION}")
        if self.pick not in PICK_MODES:
            raise InputError(f"--pick {self.pick!r} is not one of {', '.join(PICK_MODES)}")
        if self.pick == "reference" and not self.reference:
            raise InputError("--pick reference needs --reference PHOTO (a photo of the person to keep)")
        if self.every < 1:
            raise InputError(f"--every {self.every} must be 1 or more")


@dataclass
class ExtractReport:
    """What an extraction did; ``unreadable`` holds (path, reason) per skipped input."""

    faceset: Path
    faces_added: int = 0
    faces_total: int = 0
    frames_sampled: int = 0
    frames_without_face: int = 0
    files_read: int = 0
    unreadable: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        line = (
            f"{self.faces_added} faces added to {self.faceset} ({self.faces_total} in all) from "
            f"{self.files_read} file(s), {self.frames_sampled} frames sampled, "
            f"{self.frames_without_face} without a usable face"
        )
        if self.unreadable:
            skipped = ", ".join(path for path, _ in self.unreadable[:5])
            more = f" and {len(self.unreadable) - 5} more" if len(self.unreadable) > 5 else ""
            line += f"; {len(self.unreadable)} unreadable input(s) skipped: {skipped}{more}"
        return line


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


def media_files(source: str | Path) -> list[Path]:
    """The files one SOURCE argument names: the file itself, or a folder's images and videos."""
    path = Path(source).expanduser()
    if not path.is_dir():
        return [path]
    suffixes = IMAGE_SUFFIXES + VIDEO_SUFFIXES
    return sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in suffixes)


class FacePicker(Protocol):
    """Chooses the one face to keep in a frame, or None."""

    def reset(self) -> None:
        """Forget what was learned about the faces of the previous file."""

    def pick(self, image: np.ndarray, faces: list[Face]) -> Face | None: ...


class LargestFacePicker:
    """The face with the largest landmark box."""

    def reset(self) -> None:
        return None

    def pick(self, image: np.ndarray, faces: list[Face]) -> Face | None:
        if not faces:
            return None
        return max(faces, key=lambda face: float(np.prod(face.box[2:] - face.box[:2])))


class ReferenceFacePicker:
    """The face nearest to a reference photo by dlib identity distance, if it is the same person.

    A tracked face is measured once (about 90 ms): its distance is kept by track id until
    ``reset``, which the extractor calls for every new file.
    """

    def __init__(self, photo: str | Path, models_dir: str | None = None) -> None:
        from livefake.face.identity import SAME_PERSON_THRESHOLD, IdentityModel
        from livefake.face.track import find_faces

        try:
            self.model = IdentityModel()
        except ModelError as error:
            raise ModelError(f"--pick reference: {error}") from error
        self.threshold = SAME_PERSON_THRESHOLD
        image = read_image(Path(photo))
        faces = find_faces(image, models_dir)
        if not faces:
            raise InputError(f"no face found in the reference photo {photo}: give a photo with a clear face")
        self.reference = self.embed(image, faces[0])
        self.distances: dict[int, float] = {}

    def embed(self, image: np.ndarray, face: Face) -> np.ndarray:
        from livefake.face.identity import box_from_landmarks

        assert face.landmarks is not None
        return self.model.embed(image, box_from_landmarks(face.landmarks))

    def distance(self, image: np.ndarray, face: Face) -> float:
        from livefake.face.identity import embedding_distance

        if face.track_id not in self.distances:
            self.distances[face.track_id] = embedding_distance(self.embed(image, face), self.reference)
        return self.distances[face.track_id]

    def reset(self) -> None:
        self.distances.clear()

    def pick(self, image: np.ndarray, faces: list[Face]) -> Face | None:
        if not faces:
            return None
        nearest = min(faces, key=lambda face: self.distance(image, face))
        return nearest if self.distance(image, nearest) < self.threshold else None


def make_picker(config: ExtractConfig) -> FacePicker:
    if config.pick == "reference":
        assert config.reference is not None
        return ReferenceFacePicker(config.reference, config.models_dir)
    return LargestFacePicker()


class Extractor:
    """Runs the tracker and the picker over input files and feeds a FacesetWriter."""

    def __init__(
        self, config: ExtractConfig, writer: FacesetWriter, report: ExtractReport, progress: bool
    ) -> None:
        self.config = config
        self.writer = writer
        self.report = report
        self.progress = progress
        self.picker = make_picker(config)
        self.tracker = FaceTracker(TrackConfig(models_dir=config.models_dir, smoothing=False))

    def extract_source(self, source: str | Path) -> None:
        """One SOURCE argument: its still images under one progress bar, then each video."""
        files = media_files(source)
        stills = [path for path in files if not is_video(path)]
        if stills:
            with self.bar(len(stills), str(source), "image") as bar:
                for path in stills:
                    self.extract_file(path, bar)
        for path in files:
            if is_video(path):
                self.extract_file(path, None)

    def extract_file(self, path: Path, bar: tqdm | None) -> None:
        """Every sampled frame of one file; an unreadable or damaged file is counted and skipped."""
        self.tracker.reset()
        self.picker.reset()
        opened = self.open_source(path)
        if opened is None:
            return
        source, info = opened
        try:
            if bar is not None:
                self.read_frames(source, path, bar)
            else:
                with self.bar(info.frame_count, path.name, "frame") as own_bar:
                    self.read_frames(source, path, own_bar)
        finally:
            source.close()

    def open_source(self, path: Path) -> tuple[Source, StreamInfo] | None:
        """The opened source of ``path`` and what it delivers, or None (with a warning) when it
        cannot be read."""
        source: Source | None = None
        try:
            source = make_source(SourceConfig(spec=str(path), realtime=False))
            info = source.open()
        except InputError as error:
            if source is not None:
                source.close()
            self.skip(path, error)
            return None
        self.report.files_read += 1
        return source, info

    def skip(self, path: Path, error: InputError) -> None:
        log.warning("skipping an input: %s", error)  # the error names the file
        self.report.unreadable.append((str(path), str(error)))

    def read_frames(self, source: Source, path: Path, bar: tqdm) -> None:
        """Sampled frames until the end; a file damaged part-way keeps the faces read so far."""
        index = 0
        while True:
            try:
                captured = source.read()
            except InputError as error:
                self.skip(path, error)
                return
            if captured is None:
                return
            if index % self.config.every == 0:
                self.extract_frame(captured.image, str(path), index)
            index += 1
            bar.update(1)

    def extract_frame(self, image: np.ndarray, source: str, index: int) -> None:
        self.report.frames_sampled += 1
        faces = [face for face in self.tracker.track(image) if face.score >= self.config.min_score]
        chosen = self.picker.pick(image, faces)
        if chosen is None:
            self.report.frames_without_face += 1
            return
        self.writer.add(image, chosen, source, index)
        self.report.faces_added += 1

    def bar(self, total: int | None, description: str, unit: str) -> tqdm:
        disable = None if self.progress else True  # None: shown on a terminal only
        return tqdm(total=total, desc=description, unit=unit, file=sys.stderr, disable=disable)


def extract_faceset(
    sources: Iterable[str | Path],
    out: str | Path,
    config: ExtractConfig | None = None,
    progress: bool = True,
) -> ExtractReport:
    """Extract one face per sampled frame of ``sources`` into the faceset folder ``out``.

    Raises InputError when the parameters or the output folder cannot be used, or when no
    face at all was found; ModelError when the face models (or dlib, for pick="reference")
    are missing.
    """
    config = config or ExtractConfig()
    config.check()
    sources = list(sources)
    if not sources:
        raise InputError("no inputs given: name videos, images or folders to extract faces from")
    writer = FacesetWriter(out, config.face_type, config.resolution, config.jpeg_quality)
    report = ExtractReport(faceset=Path(out))
    try:
        extractor = Extractor(config, writer, report, progress)
        for source in sources:
            extractor.extract_source(source)
        if report.faces_added == 0:
            raise InputError(no_faces_message(sources, report))
        writer.save()
    except BaseException:  # an error, a full disk or an interrupt: the faceset is left as it was
        writer.rollback()
        raise
    report.faces_total = len(writer.faceset.faces)
    return report


def no_faces_message(sources: Sequence[str | Path], report: ExtractReport) -> str:
    named = ", ".join(str(source) for source in sources[:3]) + (" ..." if len(sources) > 3 else "")
    if report.files_read == 0:
        return f"none of the inputs could be read ({named}): give videos, images or folders of them"
    skipped = f" ({len(report.unreadable)} unreadable input(s) skipped)" if report.unreadable else ""
    return (
        f"no face found in {report.frames_sampled} sampled frame(s) of {named}{skipped}: "
        "check the inputs show a face, or lower --min-score"
    )
