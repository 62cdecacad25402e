"""Provenance: the stage that labels and watermarks every frame, and the check of a file.

The lead's pipeline inserts it after merge whenever a swap or animation is configured, so
every frame that leaves a sink is marked, with or without a face in it: the stream as a
whole is synthetic. The watermark has no switch; the label follows ``ProvenanceConfig.label``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from tqdm import tqdm

from livefake.config import LiveConfig, ProvenanceConfig
from livefake.errors import InputError
from livefake.merge.label import Label, render_label
from livefake.merge.watermark import (
    MIN_IMAGE_SIDE,
    Detection,
    WatermarkDetector,
    Watermarker,
    combine,
    make_payload,
    source_hash,
)
from livefake.pipeline.frame import Frame
from livefake.pipeline.stage import Stage
from livefake.sources.image import IMAGE_SUFFIXES, read_image
from livefake.sources.video import open_container
from livefake.types import Image

log = logging.getLogger(__name__)


class ProvenanceStage(Stage):
    """Labels (unless switched off) and watermarks every frame, in place.

    ``source_id`` names the model or photo used (a path, an identity name, or
    ``watermark.file_source_id(path)``); its hash goes into the payload.
    """

    name = "provenance"

    def __init__(
        self, config: ProvenanceConfig, source_id: str | bytes,
        source_id_of: Callable[[LiveConfig], str] | None = None,
    ) -> None:
        self.config = config
        self.enabled = True
        self.payload = make_payload(source_id)
        self._label = Label(config.label_text, config.label_corner) if config.label else None
        self._watermarker = Watermarker(self.payload)
        self._checked_size: tuple[int, int] | None = None
        self._source_id_of = source_id_of  # the swap target's id in a snapshot (computed off this thread)

    def configure(self, settings: LiveConfig) -> None:
        """Label settings change live; with the swap off frames pass unmarked (they are not synthetic);
        a new swap target gives a new payload."""
        self.enabled = settings.marking
        if settings.provenance != self.config:
            self.config = settings.provenance
            self._label = Label(self.config.label_text, self.config.label_corner) if self.config.label else None
        if self._source_id_of is not None and settings.swapping:
            payload = make_payload(self._source_id_of(settings))
            if payload != self.payload:
                self.payload, self._watermarker = payload, Watermarker(payload)

    def open(self) -> None:
        """OpenCV loads its font at the first text measure (~20 ms): pay that before capture starts."""
        render_label(self.config.label_text, self.config.label_corner, 640, 480)

    def process(self, frame: Frame) -> Frame:
        if self.enabled:
            frame.image = self.mark(frame.image)
        return frame

    def mark(self, image: Image) -> Image:
        """Label and watermark ``image``; in place when it is a writable contiguous buffer."""
        if not (image.flags.writeable and image.flags.c_contiguous and image.dtype == np.uint8):
            image = np.array(image, dtype=np.uint8, order="C")  # one copy we may write
        height, width = image.shape[:2]
        if self._checked_size != (width, height):
            self._checked_size = (width, height)
            warn_if_too_small(width, height, self.config)
        if self._label is not None:
            self._label.draw_inplace(image)
        self._watermarker.embed_inplace(image)
        return image


def warn_if_too_small(width: int, height: int, config: ProvenanceConfig) -> None:
    """One warning when frames of this size cannot show the label or carry a readable mark:
    the output is still synthetic, and the user should know it is not visibly marked."""
    missing = []
    if config.label and render_label(config.label_text, config.label_corner, width, height) is None:
        missing.append(f"the '{config.label_text}' label does not fit")
    if min(width, height) < MIN_IMAGE_SIDE:
        missing.append(f"the watermark cannot be read below {MIN_IMAGE_SIDE} px")
    if missing:
        log.warning(
            "frames of %dx%d are too small for the provenance marks: %s; use a larger output size",
            width, height, " and ".join(missing),
        )  # fmt: skip


MIN_MARKED_SHARE = 0.25  # a video counts as marked when at least this share of its frames is


@dataclass(frozen=True)
class VerifyReport:
    """What ``verify_file`` found in one image or video."""

    path: str
    kind: str  # "image" or "video"
    frames: int
    marked_frames: int
    confidence: float  # median per-frame confidence
    payload: bytes | None  # combined over the marked frames

    @property
    def share(self) -> float:
        return self.marked_frames / self.frames if self.frames else 0.0

    @property
    def found(self) -> bool:
        return self.marked_frames > 0 and self.share >= MIN_MARKED_SHARE

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "kind": self.kind,
            "found": self.found,
            "frames": self.frames,
            "marked_frames": self.marked_frames,
            "share": round(self.share, 4),
            "confidence": round(self.confidence, 3),
            "payload": self.payload.hex() if self.payload else None,
            "source_hash": source_hash(self.payload).hex() if self.payload else None,
        }


def verify_file(path: str | Path, progress: bool = False) -> VerifyReport:
    """Look for the livefake watermark in every frame of an image or video file."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"file {path} does not exist")
    detector = WatermarkDetector()
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return summarise(str(path), "image", [detector.detect(read_image(path))])
    detections = [detector.detect(image) for image in _video_images(path, progress)]
    if not detections:
        raise InputError(f"{path} has no decodable video frames")
    return summarise(str(path), "video", detections)


def summarise(path: str, kind: str, detections: list[Detection]) -> VerifyReport:
    marked = [detection for detection in detections if detection.found]
    combined = combine(marked) if marked else None
    return VerifyReport(
        path=path,
        kind=kind,
        frames=len(detections),
        marked_frames=len(marked),
        confidence=float(np.median([detection.confidence for detection in detections])),
        payload=combined.payload if combined is not None else None,
    )


def _video_images(path: Path, progress: bool) -> Iterator[np.ndarray]:
    container = open_container(path)
    try:
        if not container.streams.video:
            raise InputError(f"{path} has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        total = int(stream.frames or 0) or None
        bar = tqdm(total=total, desc=f"verify {path.name}", unit="frame", disable=not progress, leave=False)
        for frame in container.decode(stream):
            yield frame.to_ndarray(format="bgr24")
            bar.update()
        bar.close()
    except av.error.FFmpegError as error:
        raise InputError(f"{path}: video decoding failed ({error}); the file may be damaged") from None
    finally:
        container.close()
