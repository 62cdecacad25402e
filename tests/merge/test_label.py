"""The visible "AI-modified" label: where it goes, how big it is, and what it costs."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from timing import median_seconds

from livefake.merge.label import Label, render_label
from livefake.sources.assets import load_photo


def frame(width: int = 1280, height: int = 720) -> np.ndarray:
    return cv2.resize(load_photo("hopper"), (width, height))


def changed_box(before: np.ndarray, after: np.ndarray) -> tuple[int, int, int, int]:
    """x0, y0, x1, y1 of the pixels the label changed."""
    ys, xs = np.nonzero(np.any(before != after, axis=2))
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def test_default_label_sits_small_in_the_bottom_right_corner() -> None:
    image = frame()
    labelled = Label().draw(image)
    x0, y0, x1, y1 = changed_box(image, labelled)
    assert x0 > 1280 * 0.7 and y0 > 720 * 0.85
    assert x1 < 1280 and y1 < 720
    assert (x1 - x0) * (y1 - y0) < 0.02 * 1280 * 720


@pytest.mark.parametrize("corner", ["top-left", "top-right", "bottom-left", "bottom-right"])
def test_label_goes_to_the_asked_corner(corner: str) -> None:
    image = frame()
    x0, y0, x1, y1 = changed_box(image, Label(corner=corner).draw(image))  # type: ignore[arg-type]
    centre_x, centre_y = (x0 + x1) / 2, (y0 + y1) / 2
    assert (centre_x < 640) == corner.endswith("left")
    assert (centre_y < 360) == corner.startswith("top")


def test_label_scales_with_frame_size() -> None:
    large = render_label("AI-modified", "bottom-right", 1920, 1080)
    small = render_label("AI-modified", "bottom-right", 960, 540)
    assert large is not None and small is not None
    ratio = large.premultiplied.shape[0] / small.premultiplied.shape[0]
    assert 1.7 < ratio < 2.3


def test_label_is_semi_opaque_with_readable_text() -> None:
    image = np.full((720, 1280, 3), 200, np.uint8)
    labelled = Label().draw(image)
    x0, y0, x1, y1 = changed_box(image, labelled)
    box = labelled[y0:y1, x0:x1]
    assert 60 < np.median(box) < 180  # darkened, background still shows through
    assert box.max() > 240  # white text
    white = np.full((720, 1280, 3), 255, np.uint8)
    assert Label().draw(white)[y0:y1, x0:x1].min() < 200


def test_tiny_frame_is_left_alone() -> None:
    image = frame(120, 90)
    np.testing.assert_array_equal(Label().draw(image), image)


def test_drawing_costs_well_under_a_millisecond_at_720p() -> None:
    image, label = frame(), Label()
    label.draw_inplace(image)
    assert median_seconds(lambda _: label.draw_inplace(image), 50) * 1e3 < 1.0
