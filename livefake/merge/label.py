"""The visible "AI-modified" label: a small semi-opaque box with text in a corner of the frame.

The label is rendered once per frame size (text size follows the frame height) into a
premultiplied colour patch and an inverse-alpha patch; drawing it on a frame is then one
multiply and one saturating add over the label's box only.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from livefake.config import LabelCorner
from livefake.types import Image

FONT = cv2.FONT_HERSHEY_SIMPLEX
TEXT_HEIGHT_SHARE = 0.026  # text cap height as a share of the frame height
MIN_TEXT_HEIGHT = 9  # pixels: below this the label would not be readable
MAX_WIDTH_SHARE = 0.45  # the box never covers more than this share of the frame width
MARGIN_SHARE = 0.02  # gap to the frame edges, share of the shorter side
BOX_COLOR = (24, 24, 24)  # BGR
TEXT_COLOR = (255, 255, 255)
BOX_ALPHA = 0.55
TEXT_ALPHA = 0.95


@dataclass(frozen=True)
class LabelPatch:
    """A label pre-rendered for one frame size: where it goes and how to blend it."""

    x: int
    y: int
    premultiplied: np.ndarray  # h x w x 3 uint8: colour times alpha
    inverse_alpha: np.ndarray  # h x w x 3 uint8: (1 - alpha) * 255


def render_label(text: str, corner: LabelCorner, width: int, height: int) -> LabelPatch | None:
    """Render the label for ``width`` x ``height`` frames; None when the frame is too small for it."""
    text_height = max(MIN_TEXT_HEIGHT, round(TEXT_HEIGHT_SHARE * height))
    thickness = max(1, round(text_height / 11))
    scale = cv2.getFontScaleFromHeight(FONT, text_height, thickness)
    (text_width, cap), baseline = cv2.getTextSize(text, FONT, scale, thickness)
    pad = max(3, round(0.5 * text_height))
    box_w, box_h = text_width + 2 * pad, cap + baseline + 2 * pad
    if box_w > MAX_WIDTH_SHARE * width or box_h > 0.25 * height:
        return None
    coverage = np.zeros((box_h, box_w), dtype=np.uint8)
    cv2.putText(coverage, text, (pad, pad + cap), FONT, scale, 255, thickness, cv2.LINE_AA)
    text_share = coverage.astype(np.float32)[..., None] / 255.0
    alpha = BOX_ALPHA + (TEXT_ALPHA - BOX_ALPHA) * text_share
    box_colour, text_colour = np.array(BOX_COLOR, np.float32), np.array(TEXT_COLOR, np.float32)
    colour = box_colour * (1.0 - text_share) + text_colour * text_share
    margin = round(MARGIN_SHARE * min(width, height))
    x = margin if corner.endswith("left") else width - margin - box_w
    y = margin if corner.startswith("top") else height - margin - box_h
    return LabelPatch(
        x=x,
        y=y,
        premultiplied=np.rint(colour * alpha).astype(np.uint8),
        inverse_alpha=np.rint((1.0 - alpha) * 255.0).repeat(3, axis=2).astype(np.uint8),
    )


class Label:
    """Draws one label text on frames, re-rendering only when the frame size changes."""

    def __init__(self, text: str = "AI-modified", corner: LabelCorner = "bottom-right") -> None:
        self.text = text
        self.corner = corner
        self._size: tuple[int, int] | None = None
        self._patch: LabelPatch | None = None

    def draw_inplace(self, image: Image) -> None:
        """Blend the label into a uint8 BGR image, touching only the label's box."""
        height, width = image.shape[:2]
        if self._size != (width, height):
            self._patch = render_label(self.text, self.corner, width, height)
            self._size = (width, height)
        patch = self._patch
        if patch is None:
            return
        box_h, box_w = patch.premultiplied.shape[:2]
        box = image[patch.y : patch.y + box_h, patch.x : patch.x + box_w]
        cv2.multiply(box, patch.inverse_alpha, dst=box, scale=1.0 / 255.0)
        cv2.add(box, patch.premultiplied, dst=box)

    def draw(self, image: Image) -> Image:
        """A labelled copy of ``image``."""
        labelled = np.ascontiguousarray(image, dtype=np.uint8).copy()
        self.draw_inplace(labelled)
        return labelled
