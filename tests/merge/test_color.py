"""Colour transfer: every method moves the face's LAB statistics onto the destination's.

Tolerances (CIE LAB units: L 0-100, a and b about -127..127, measured at full resolution inside
the mask, while the methods only see a 64-px copy): rct, lct and mkl put each channel's mean
within 1.5 units and its standard deviation within 15% (or 1 unit, whichever is larger) of the
destination's; sot, a non-linear iterative match on a 32-px copy, within 2 units and 25%.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from livefake.errors import InputError
from livefake.merge.color import ColorMatcher, transfer_color
from livefake.sources.assets import load_photo

TOLERANCE = {"rct": (1.5, 0.15), "lct": (1.5, 0.15), "mkl": (1.5, 0.15), "sot": (2.0, 0.25)}


def _face(photo: str) -> np.ndarray:
    image = load_photo(photo)
    windows = {"hopper": (slice(160, 352), slice(160, 352)), "collins": (slice(40, 184), slice(168, 312))}
    window = windows[photo]
    return cv2.resize(image[window], (256, 256), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def mask() -> np.ndarray:
    canvas = np.zeros((256, 256), np.float32)
    cv2.ellipse(canvas, (128, 128), (90, 110), 0, 0, 360, 1.0, -1)
    return canvas


def lab_stats(image_bgr: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lab = cv2.cvtColor(image_bgr.astype(np.float32) / 255.0, cv2.COLOR_BGR2LAB)[mask > 0.5]
    return lab.mean(axis=0), lab.std(axis=0)


def _assert_close(result: np.ndarray, destination: np.ndarray, mask: np.ndarray, method: str) -> None:
    mean_tolerance, std_tolerance = TOLERANCE[method]
    mean, std = lab_stats(result, mask)
    target_mean, target_std = lab_stats(destination, mask)
    assert np.abs(mean - target_mean).max() <= mean_tolerance, (method, mean, target_mean)
    allowed = np.maximum(std_tolerance * target_std, 1.0)
    assert (np.abs(std - target_std) <= allowed).all(), (method, std, target_std)


@pytest.mark.parametrize("method", ["rct", "lct", "mkl", "sot"])
@pytest.mark.parametrize("pair", [("hopper", "collins"), ("collins", "hopper")])
def test_transfer_lands_on_destination_statistics(
    method: str, pair: tuple[str, str], mask: np.ndarray
) -> None:
    source, destination = _face(pair[0]), _face(pair[1])
    before_mean, _ = lab_stats(source, mask)
    target_mean, _ = lab_stats(destination, mask)
    assert np.abs(before_mean - target_mean).max() > 10.0  # the test starts far from the target
    result = transfer_color(source, destination, method, mask, mask)
    assert result.shape == source.shape and result.dtype == np.uint8
    _assert_close(result, destination, mask, method)


@pytest.mark.parametrize("method", ["rct", "mkl"])
def test_transfer_to_a_tinted_copy_of_itself(method: str, mask: np.ndarray) -> None:
    source = _face("hopper")
    tinted = cv2.convertScaleAbs(source, alpha=0.8, beta=0) + np.array([0, 10, 30], np.uint8)
    _assert_close(transfer_color(source, tinted, method, mask, mask), tinted, mask, method)


def test_none_returns_the_source_and_unknown_method_is_refused(mask: np.ndarray) -> None:
    source = _face("hopper")
    assert transfer_color(source, _face("collins"), "none") is source
    with pytest.raises(InputError, match="colour transfer"):
        transfer_color(source, source, "histogram")


def test_matcher_smooths_statistics_over_time(mask: np.ndarray) -> None:
    """A sudden change of the destination's colour is followed gradually, per track."""
    source, dark = _face("hopper"), _face("collins")
    bright = cv2.convertScaleAbs(dark, alpha=1.0, beta=60)
    matcher = ColorMatcher("rct", smoothing=0.8)
    matcher.apply(1, source, dark, mask)
    lightness = [lab_stats(matcher.apply(1, source, bright, mask), mask)[0][0] for _ in range(30)]
    dark_l, bright_l = lab_stats(dark, mask)[0][0], lab_stats(bright, mask)[0][0]
    assert lightness[0] < dark_l + 0.4 * (bright_l - dark_l)  # first step: mostly the old statistics
    assert all(b >= a - 0.2 for a, b in zip(lightness, lightness[1:], strict=False))  # moves steadily
    assert abs(lightness[-1] - bright_l) < 1.5  # and arrives
    fresh = lab_stats(matcher.apply(2, source, bright, mask), mask)[0][0]
    assert abs(fresh - bright_l) < 1.5  # another track has its own history


def test_matcher_without_smoothing_equals_transfer(mask: np.ndarray) -> None:
    source, destination = _face("hopper"), _face("collins")
    matcher = ColorMatcher("lct", smoothing=0.0)
    expected = transfer_color(source, destination, "lct", mask, mask)
    np.testing.assert_array_equal(matcher.apply(0, source, destination, mask), expected)
