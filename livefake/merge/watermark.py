"""Invisible provenance watermark: a spread-spectrum pattern in a resolution-normalised grid.

The payload (a livefake marker plus a short hash of the model or photo used) is spread over
a fixed ``GRID`` of cells that covers the whole frame whatever its size: every cell carries one
chip (+1 or -1) of one payload bit, the cells of a bit scattered over the frame by a fixed key.
The grid is upsampled to the frame size once (``Watermarker``) and added to the luma as a
smooth pattern of a few grey levels, the same to B, G and R, so colours keep their hue.

Detection resizes any image to the grid (so a downscaled copy reads like the original),
removes the image itself with a high-pass and a local contrast normalisation, and correlates
each bit's cells with its chips. The marker bits are known, so their correlation is a matched
filter: a frame is marked when that score passes ``THRESHOLD`` and the decoded marker agrees.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from livefake.errors import InputError
from livefake.types import Image

MARKER = b"LFW"  # 24 known bits: what makes a detection trustworthy
HASH_BYTES = 5  # 40 bits of SHA-256 of the model or photo used
PAYLOAD_BYTES = len(MARKER) + HASH_BYTES
PAYLOAD_BITS = 8 * PAYLOAD_BYTES  # 64
GRID = (96, 96)  # cells across, down: the resolution-normalised embedding domain
AMPLITUDE = 3.0  # peak added grey levels; about 42 dB PSNR
KEY = 0x5EED_F00D  # seeds the chip layout; changing it makes old marks unreadable
THRESHOLD = 5.0  # marker matched-filter score (about a standard normal on unmarked images)
MAX_MARKER_ERRORS = 4  # of the 24 marker bits, after the score test
MIN_IMAGE_SIDE = 64  # smaller images carry too few pixels per cell to read

_MARKER_BITS = len(MARKER) * 8
_HIGH_PASS = np.full((3, 3), -1.0 / 8.0, dtype=np.float32)
_HIGH_PASS[1, 1] = 1.0
_CLIP_SIGMAS = 3.0


@dataclass(frozen=True)
class Detection:
    """What ``detect`` read from one image (or from several frames combined).

    ``score`` is the marker's matched-filter statistic (about N(0, 1) on unmarked images);
    ``confidence`` maps it to [0, 1] with ``THRESHOLD`` at 0.5 and twice it at 1.0.
    ``payload`` is the decoded marker plus source hash when found, else None.
    """

    found: bool
    confidence: float
    payload: bytes | None
    score: float = 0.0
    bit_scores: np.ndarray | None = field(default=None, repr=False, compare=False)


def make_payload(source_id: bytes | str) -> bytes:
    """The bytes to embed: ``MARKER`` plus the first ``HASH_BYTES`` of SHA-256 of ``source_id``."""
    data = source_id.encode("utf-8") if isinstance(source_id, str) else bytes(source_id)
    return MARKER + hashlib.sha256(data).digest()[:HASH_BYTES]


def source_hash(payload: bytes) -> bytes:
    """The hash part of a payload (what identifies the model or photo)."""
    return payload[len(MARKER) :]


def file_source_id(path: str | Path) -> str:
    """The source id of a model or photo file: the first 16 hex digits of its SHA-256."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class ChipLayout:
    """Which payload bit each grid cell carries, and with which sign."""

    bit_of_cell: np.ndarray  # (GRID h, GRID w) int
    chip: np.ndarray  # (GRID h, GRID w) float32, +1 or -1
    cells_per_bit: np.ndarray  # (PAYLOAD_BITS,) int


def chip_layout(key: int = KEY) -> ChipLayout:
    width, height = GRID
    rng = np.random.default_rng(key)
    bit_of_cell = (rng.permutation(width * height) % PAYLOAD_BITS).reshape(height, width)
    chip = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=(height, width))
    cells = np.bincount(bit_of_cell.ravel(), minlength=PAYLOAD_BITS)
    return ChipLayout(bit_of_cell=bit_of_cell, chip=chip.astype(np.float32), cells_per_bit=cells)


def payload_signs(payload: bytes) -> np.ndarray:
    """+1 / -1 per payload bit, most significant bit of the first byte first."""
    if len(payload) != PAYLOAD_BYTES:
        raise InputError(
            f"watermark payload must be {PAYLOAD_BYTES} bytes (use make_payload), got {len(payload)}"
        )
    bits = np.unpackbits(np.frombuffer(payload, dtype=np.uint8))
    return np.where(bits > 0, 1.0, -1.0).astype(np.float32)


def grid_pattern(payload: bytes, layout: ChipLayout) -> np.ndarray:
    """The watermark in the grid domain: chip times bit sign per cell, float32 in {-1, +1}."""
    return layout.chip * payload_signs(payload)[layout.bit_of_cell]


class Watermarker:
    """Embeds one payload into frames; the full-size pattern is built once per frame size."""

    def __init__(self, payload: bytes, amplitude: float = AMPLITUDE) -> None:
        self.payload = payload
        self.amplitude = amplitude
        self._grid = grid_pattern(payload, chip_layout())
        self._size: tuple[int, int] | None = None
        self._plus: np.ndarray | None = None
        self._minus: np.ndarray | None = None

    def prepare(self, width: int, height: int) -> None:
        """Build the additive pattern for ``width`` x ``height`` frames (done once per size)."""
        full = cv2.resize(self._grid * self.amplitude, (width, height), interpolation=cv2.INTER_LINEAR)
        levels = np.rint(full)
        plus = np.clip(levels, 0, 255).astype(np.uint8)
        minus = np.clip(-levels, 0, 255).astype(np.uint8)
        self._plus = cv2.merge([plus, plus, plus])
        self._minus = cv2.merge([minus, minus, minus])
        self._size = (width, height)

    def embed_inplace(self, image: Image) -> None:
        """Add the mark to a contiguous uint8 BGR image, in place: two saturating adds."""
        height, width = image.shape[:2]
        if self._size != (width, height):
            self.prepare(width, height)
        assert self._plus is not None and self._minus is not None
        cv2.add(image, self._plus, dst=image)
        cv2.subtract(image, self._minus, dst=image)

    def embed(self, image: Image) -> Image:
        """A marked copy of ``image``."""
        marked = np.ascontiguousarray(image, dtype=np.uint8).copy()
        self.embed_inplace(marked)
        return marked


def embed(image_bgr: Image, payload: bytes) -> Image:
    """A marked copy of one uint8 BGR image. For video, keep a ``Watermarker``."""
    _check_image(image_bgr)
    if image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
        raise InputError(f"watermark embeds into H x W x 3 BGR images, got shape {image_bgr.shape}")
    return Watermarker(payload).embed(image_bgr)


class WatermarkDetector:
    """Reads the mark from images of any size."""

    def __init__(self, key: int = KEY) -> None:
        self.layout = chip_layout(key)
        self._marker_signs = payload_signs(MARKER + bytes(HASH_BYTES))[:_MARKER_BITS]

    def bit_scores(self, image: Image) -> np.ndarray:
        """Per payload bit, the normalised correlation (about N(0, 1) without a mark)."""
        residual = self._grid_residual(_to_grey(image))
        layout = self.layout
        sums = np.bincount(
            layout.bit_of_cell.ravel(), (residual * layout.chip).ravel(), minlength=PAYLOAD_BITS
        )
        spread = float(residual.std()) + 1e-6
        return (sums / (spread * np.sqrt(layout.cells_per_bit))).astype(np.float32)

    def _grid_residual(self, grey: np.ndarray) -> np.ndarray:
        """The image in the grid domain with the picture itself removed as far as cheaply possible."""
        cells = cv2.resize(grey, GRID, interpolation=cv2.INTER_AREA).astype(np.float32)
        residual = cv2.filter2D(cells, -1, _HIGH_PASS, borderType=cv2.BORDER_REFLECT)
        local = cv2.blur(residual * residual, (5, 5), borderType=cv2.BORDER_REFLECT)
        residual = residual / np.sqrt(local + 1.0)
        limit = _CLIP_SIGMAS * 1.4826 * float(np.median(np.abs(residual))) + 1e-6
        return np.clip(residual, -limit, limit)

    def decide(self, bit_scores: np.ndarray) -> Detection:
        """Turn per-bit scores (from one frame, or summed over frames / sqrt(n)) into a verdict."""
        score = float(np.dot(bit_scores[:_MARKER_BITS], self._marker_signs) / np.sqrt(_MARKER_BITS))
        decoded = np.packbits((bit_scores > 0).astype(np.uint8)).tobytes()
        marker_errors = int(np.count_nonzero(np.sign(bit_scores[:_MARKER_BITS]) != self._marker_signs))
        found = score >= THRESHOLD and marker_errors <= MAX_MARKER_ERRORS
        confidence = float(np.clip(score / (2.0 * THRESHOLD), 0.0, 1.0))
        payload = MARKER + source_hash(decoded) if found else None
        return Detection(
            found=found, confidence=confidence, payload=payload, score=score, bit_scores=bit_scores
        )

    def detect(self, image: Image) -> Detection:
        _check_image(image)
        return self.decide(self.bit_scores(image))


def detect(image_bgr: Image) -> Detection:
    """Whether one image carries a livefake mark, how strongly, and its payload."""
    return WatermarkDetector().detect(image_bgr)


def combine(detections: list[Detection]) -> Detection:
    """One verdict from several frames of a video: their bit scores summed, scaled by 1/sqrt(n)."""
    scores = [d.bit_scores for d in detections if d.bit_scores is not None]
    if not scores:
        return Detection(found=False, confidence=0.0, payload=None)
    total = np.sum(scores, axis=0) / np.sqrt(len(scores))
    return WatermarkDetector().decide(total.astype(np.float32))


def _to_grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def _check_image(image: np.ndarray) -> None:
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise InputError(
            f"watermark needs a uint8 image (H x W or H x W x 3), got {image.dtype} {image.shape}"
        )
    if min(image.shape[:2]) < MIN_IMAGE_SIDE:
        raise InputError(f"image {image.shape[1]}x{image.shape[0]} is too small to carry a watermark")
