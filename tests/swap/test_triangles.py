"""Piecewise-affine warping on synthetic point sets."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from timing import median_seconds

from livefake.swap.triangles import TriangleWarper, delaunay_triangles, signed_areas, triangle_affines


def _ellipse_points(count: int = 468, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, 2 * np.pi, count)
    radius = np.sqrt(rng.uniform(0, 1, count))
    return np.stack([300 + 200 * radius * np.cos(angle), 300 + 240 * radius * np.sin(angle)], 1).astype(
        np.float32
    )


def _texture(size: int = 600, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.integers(0, 256, (size, size, 3), dtype=np.uint8), (0, 0), 2.0)


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return (points @ matrix[:, :2].T + matrix[:, 2]).astype(np.float32)


def test_delaunay_covers_the_hull_without_overlap() -> None:
    points = _ellipse_points()
    triangles = delaunay_triangles(points)
    hull_area = cv2.contourArea(cv2.convexHull(points))
    assert abs(np.abs(signed_areas(points, triangles)).sum() / 2 - hull_area) < 1e-3 * hull_area
    assert len(triangles) == 2 * len(points) - len(cv2.convexHull(points)) - 2  # Euler


def test_duplicate_points_share_a_vertex() -> None:
    points = np.array([[0, 0], [10, 0], [0, 10], [10, 10], [10, 10]], dtype=np.float32)
    triangles = delaunay_triangles(points)
    assert len(triangles) == 2 and 4 not in triangles


def test_triangle_affines_map_destination_onto_source() -> None:
    points = _ellipse_points(50)
    triangles = delaunay_triangles(points)
    matrix = cv2.getRotationMatrix2D((300, 300), 30, 0.7)
    destination = _apply(matrix, points)
    rows = triangle_affines(destination, points, triangles).astype(np.float64)
    corners = destination[triangles]  # (T, 3, 2)
    mapped_x = rows[:, None, 0] * corners[..., 0] + rows[:, None, 1] * corners[..., 1] + rows[:, None, 2]
    mapped_y = rows[:, None, 3] * corners[..., 0] + rows[:, None, 4] * corners[..., 1] + rows[:, None, 5]
    assert np.allclose(np.stack([mapped_x, mapped_y], -1), points[triangles], atol=1e-3)


def test_degenerate_triangles_get_zero_rows() -> None:
    line = np.array([[0, 0], [1, 1], [2, 2]], dtype=np.float32)
    rows = triangle_affines(line, line, np.array([[0, 1, 2]], dtype=np.int32))
    assert not rows.any()


def test_a_global_affine_warp_matches_warp_affine() -> None:
    points, image = _ellipse_points(), _texture()
    warper = TriangleWarper(points, delaunay_triangles(points))
    matrix = cv2.getRotationMatrix2D((300, 300), 20, 0.5)
    matrix[:, 2] += (350, 60)
    destination = _apply(matrix, points)
    x0, y0 = np.floor(destination.min(0)).astype(int)
    x1, y1 = np.ceil(destination.max(0)).astype(int)
    reference = cv2.warpAffine(image, matrix, (1280, 720), flags=cv2.INTER_LINEAR)[y0:y1, x0:x1]
    output = np.zeros((y1 - y0, x1 - x0, 3), dtype=np.uint8)
    index = warper.warp(image, destination, (int(x0), int(y0)), output)
    covered = index > 0
    assert covered.mean() > 0.7
    assert np.abs(output[covered].astype(int) - reference[covered]).max() <= 1
    assert not output[~covered].any()  # pixels of no triangle keep what output held


def test_source_scale_reads_a_smaller_pyramid_level() -> None:
    points, image = _ellipse_points(), _texture()
    warper = TriangleWarper(points, delaunay_triangles(points))
    small = cv2.resize(image, (300, 300), interpolation=cv2.INTER_AREA)
    full = np.zeros((600, 600, 3), dtype=np.uint8)
    half = np.zeros((600, 600, 3), dtype=np.uint8)
    index = warper.warp(image, points, (0, 0), full)
    warper.warp(small, points, (0, 0), half, source_scale=0.5)
    covered = cv2.erode((index > 0).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert np.abs(full[covered].astype(int) - half[covered]).mean() < 6


def test_folded_triangles_lose_to_facing_ones() -> None:
    square = np.array([[0, 0], [100, 0], [100, 100], [0, 100], [50, 50]], dtype=np.float32)
    triangles = delaunay_triangles(square)
    warper = TriangleWarper(square, triangles)
    folded = square.copy()
    folded[4] = (120, 50)  # the centre pushed past the right edge: the right triangle flips
    index = warper.rasterise(folded, (130, 110))
    winding = np.sign(signed_areas(folded, triangles)) == warper.source_winding
    flipped = int(np.flatnonzero(~winding)[0]) + 1
    assert flipped not in index  # the facing triangles over the fold are drawn after it
    assert index[50, 105] > 0  # and the fold itself is covered


def test_warp_reuses_scratch_buffers_for_smaller_rectangles() -> None:
    points = _ellipse_points()
    warper = TriangleWarper(points, delaunay_triangles(points))
    warper.rasterise(points, (600, 600))
    scratch = warper._index
    warper.rasterise(points * 0.5, (300, 300))
    assert warper._index is scratch


@pytest.mark.parametrize("face_px", [256])
def test_warp_is_fast(face_px: int) -> None:
    points, image = _ellipse_points(232), _texture()  # as many points as the photo swap warps
    warper = TriangleWarper(points, delaunay_triangles(points))
    destination = points * (face_px / 480) + 100
    output = np.zeros((face_px + 10, face_px + 10, 3), dtype=np.uint8)
    seconds = median_seconds(lambda _: warper.warp(image, destination, (100, 100), output), 30)
    assert seconds < 0.012  # twice the photo swap's budget: CI machines are shared
