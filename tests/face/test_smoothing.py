"""One-Euro filtering of landmark sets: less jitter at rest, little lag in motion."""

from __future__ import annotations

import numpy as np

from livefake.face.smoothing import OneEuroFilter, affine_speed, smoothing_factor

FPS = 30.0
IOD = 100.0


def grid_points() -> np.ndarray:
    ys, xs = np.mgrid[0:10, 0:10]
    return np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float64) * 10 + 200


def run_filter(sequence: list[np.ndarray], min_cutoff: float = 0.3, beta: float = 15.0) -> np.ndarray:
    smoother = OneEuroFilter(min_cutoff, beta)
    return np.stack([smoother(points, index / FPS, IOD) for index, points in enumerate(sequence)])


def test_smoothing_factor_rises_with_cutoff() -> None:
    assert 0 < smoothing_factor(0.3, 1 / FPS) < smoothing_factor(3.0, 1 / FPS) < smoothing_factor(300, 1 / FPS) < 1


def test_affine_speed_measures_translation_and_ignores_nothing_else() -> None:
    points = grid_points()
    assert np.isclose(affine_speed(points, np.tile([3.0, 4.0], (len(points), 1))), 5.0)
    rotation = (points - points.mean(0)) @ np.array([[0.0, 1.0], [-1.0, 0.0]])
    assert affine_speed(points, rotation) > 10.0


def test_noise_at_rest_drops_more_than_three_times() -> None:
    rng = np.random.default_rng(0)
    still = grid_points()
    noisy = [still + rng.normal(0, 0.5, still.shape) for _ in range(300)]
    filtered = run_filter(noisy)[30:]
    raw_spread = np.std(np.stack(noisy)[30:], axis=0).mean()
    assert np.std(filtered, axis=0).mean() * 3 < raw_spread


def test_steady_motion_is_followed_with_little_lag() -> None:
    start = grid_points()
    speed = 0.5 * IOD  # half an inter-ocular distance per second
    moving = [start + [speed * index / FPS, 0.0] for index in range(90)]
    lag = np.abs(run_filter(moving)[-1] - moving[-1]).max()
    assert lag < 0.03 * IOD


def test_first_call_and_time_going_back_return_the_input() -> None:
    smoother = OneEuroFilter()
    points = grid_points()
    assert np.allclose(smoother(points, 1.0, IOD), points)
    smoother(points + 5, 1.1, IOD)
    assert np.allclose(smoother(points + 50, 0.5, IOD), points + 50)
    smoother.reset()
    assert smoother.value is None
