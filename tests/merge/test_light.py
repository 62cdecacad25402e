"""Relight: the live face's shading carried onto the swapped face, smoothed per track."""

from __future__ import annotations

import cv2
import numpy as np

from livefake.merge.light import Relighter, shading_gain

SIZE = 200


def _face_mask() -> np.ndarray:
    mask = np.zeros((SIZE, SIZE), np.float32)
    cv2.ellipse(mask, (SIZE // 2, SIZE // 2), (70, 90), 0, 0, 360, 1.0, -1)
    return mask


def _textured(seed: int, level: float = 140.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.normal(0, 12, (SIZE, SIZE, 3)).astype(np.float32), (0, 0), 1.5)
    return np.clip(level + noise, 0, 255).astype(np.uint8)


def _side_lit(image: np.ndarray, amount: float) -> np.ndarray:
    """A lamp on the image's right: luminance from (1 - amount) to (1 + amount) across the face."""
    ramp = 1.0 + amount * np.clip((np.arange(SIZE) - SIZE / 2) / 70.0, -1.0, 1.0)
    return cv2.convertScaleAbs(image.astype(np.float32) * ramp[None, :, None].astype(np.float32))


def _left_right(image: np.ndarray, mask: np.ndarray) -> float:
    luma = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float64)
    inside = cv2.erode((mask > 0.5).astype(np.uint8), np.ones((21, 21), np.uint8)) > 0
    left, right = inside.copy(), inside.copy()
    left[:, SIZE // 2:] = False
    right[:, : SIZE // 2] = False
    return float(luma[left].mean() / luma[right].mean())


def test_side_light_on_the_live_face_moves_onto_the_swapped_face() -> None:
    mask = _face_mask()
    live, swapped = _side_lit(_textured(1), 0.3), _textured(2)
    relit = Relighter(1.0).apply(0, swapped, live, mask, face_px=180)
    live_ratio = _left_right(live, mask)
    assert live_ratio < 0.85  # the lamp is there
    assert abs(_left_right(relit, mask) / live_ratio - 1.0) < 0.05
    assert abs(_left_right(swapped, mask) / live_ratio - 1.0) > 0.2  # without relight it is not


def test_the_swapped_face_loses_its_own_lamp_and_half_strength_goes_half_way() -> None:
    mask = _face_mask()
    live, swapped = _textured(1), _side_lit(_textured(2), 0.3)  # the target photo was lit from one side
    flat = Relighter(1.0).apply(0, swapped, live, mask, face_px=180)
    half = Relighter(0.5).apply(0, swapped, live, mask, face_px=180)
    assert abs(_left_right(flat, mask) - 1.0) < 0.04
    assert _left_right(swapped, mask) < _left_right(half, mask) < _left_right(flat, mask)
    assert Relighter(0.0).apply(0, swapped, live, mask, face_px=180) is swapped


def test_relight_keeps_the_mean_and_leaves_fine_detail() -> None:
    mask = _face_mask()
    live, swapped = _side_lit(_textured(1), 0.3), _textured(2)
    relit = Relighter(1.0).apply(0, swapped, live, mask, face_px=180)
    inside = mask > 0.5
    assert abs(float(relit[inside].mean()) - float(swapped[inside].mean())) < 4.0
    detail = lambda image: image.astype(np.float32) - cv2.GaussianBlur(image, (0, 0), 3).astype(np.float32)  # noqa: E731
    correlation = np.corrcoef(detail(relit)[inside].ravel(), detail(swapped)[inside].ravel())[0, 1]
    assert correlation > 0.95  # the swapped face's own texture stays


def test_gain_is_smoothed_per_track() -> None:
    mask = _face_mask()
    swapped = _textured(2)
    even, lit = _textured(1), _side_lit(_textured(1), 0.3)
    relighter = Relighter(1.0, smoothing=0.8)
    for _ in range(30):
        relighter.apply(0, swapped, even, mask, face_px=180)
        relighter.apply(1, swapped, lit, mask, face_px=180)
    settled_even = relighter.smoothed(0, shading_gain(swapped, even, mask, 180)).copy()
    one_frame = relighter.smoothed(0, shading_gain(swapped, lit, mask, 180))
    target = shading_gain(swapped, lit, mask, 180)
    step = np.abs(one_frame - settled_even).max()
    assert np.isclose(step, 0.2 * np.abs(target - settled_even).max(), rtol=0.05)  # a fifth of the way in one frame
    track_one = relighter.smoothed(1, target)
    assert np.abs(track_one - target).max() < 0.01  # the other track kept its own, settled, history
