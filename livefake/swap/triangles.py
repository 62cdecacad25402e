"""Piecewise-affine warping: a fixed source image moved onto new point positions, triangle by triangle.

The source points are triangulated once. Every frame, each destination triangle gets the affine
that maps it back onto its source triangle; the destination triangles are rasterised into a
triangle-index image the size of the output rectangle, and one ``cv2.remap`` with a per-pixel map
built from that index does the whole warp. Work and memory are bounded by the output rectangle.
"""

from __future__ import annotations

import cv2
import numpy as np

from livefake.types import Landmarks

OUTSIDE = 0  # triangle-index value of pixels covered by no triangle
SUBPIXEL_BITS = 4  # fractional bits of the vertex coordinates given to the rasteriser
MIN_AREA = 1e-3  # triangles with a smaller doubled area (px^2) are degenerate and skipped
HULL_MARGIN = 50.0  # outer vertices of the subdivision sit this many point-spans away: no hull sliver lost


def delaunay_triangles(points: Landmarks) -> np.ndarray:
    """Delaunay triangulation of ``points`` (N, 2) as vertex indices (T, 3) int32."""
    points = np.asarray(points, dtype=np.float64)
    span = float(np.ptp(points, axis=0).max()) + 1.0
    low, high = points.min(axis=0) - HULL_MARGIN * span, points.max(axis=0) + HULL_MARGIN * span
    subdiv = cv2.Subdiv2D((int(np.floor(low[0])), int(np.floor(low[1])),
                           int(np.ceil(high[0] - low[0])) + 2, int(np.ceil(high[1] - low[1])) + 2))
    vertex_ids = [subdiv.insert((float(x), float(y))) for x, y in points]
    first_vertex = min(vertex_ids)
    triangles = []
    for edge in subdiv.getLeadingEdgeList():
        corners = _triangle_around(subdiv, edge)
        if corners is not None and min(corners) >= first_vertex:
            triangles.append(sorted(corners))
    unique = np.unique(np.array(triangles, dtype=np.int32).reshape(-1, 3), axis=0)
    return _vertex_to_point_index(unique - first_vertex, vertex_ids, first_vertex)


def _triangle_around(subdiv: cv2.Subdiv2D, edge: int) -> tuple[int, int, int] | None:
    corners = []
    for _ in range(3):
        origin = subdiv.edgeOrg(edge)[0]
        if origin < 4:  # one of the virtual outer vertices of the subdivision
            return None
        corners.append(origin)
        edge = subdiv.getEdge(edge, cv2.SUBDIV2D_NEXT_AROUND_LEFT)
    return corners[0], corners[1], corners[2]


def _vertex_to_point_index(triangles: np.ndarray, vertex_ids: list[int], first: int) -> np.ndarray:
    """Map subdivision vertex numbers back to input point numbers (duplicates share a vertex)."""
    point_of_vertex = np.full(max(vertex_ids) - first + 1, -1, dtype=np.int32)
    for point, vertex in enumerate(vertex_ids):
        if point_of_vertex[vertex - first] < 0:
            point_of_vertex[vertex - first] = point
    mapped = point_of_vertex[triangles]
    keep = np.all(mapped >= 0, axis=1) & (mapped[:, 0] != mapped[:, 1]) & (mapped[:, 1] != mapped[:, 2])
    return np.ascontiguousarray(mapped[keep])


def signed_areas(points: Landmarks, triangles: np.ndarray) -> np.ndarray:
    """Twice the signed area of each triangle (T,); the sign is the winding."""
    a, b, c = (points[triangles[:, k]].astype(np.float64) for k in range(3))
    return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])


def triangle_stretch(destination: np.ndarray, source: np.ndarray, triangles: np.ndarray, scale: float) -> np.ndarray:
    """How much each triangle is stretched from source to destination beyond ``scale``: (T,) float64.

    The largest singular value of each triangle's source->destination linear map, over
    ``scale`` (the face's overall destination/source scale): 1 for a triangle moved only by
    the face's own similarity, 3 for one drawn three times longer in some direction.
    Degenerate triangles (either side) get 0.
    """
    p0, p1, p2 = (destination[triangles[:, k]].astype(np.float64) for k in range(3))
    q0, q1, q2 = (source[triangles[:, k]].astype(np.float64) for k in range(3))
    dest = np.stack([p1 - p0, p2 - p0], axis=2)  # (T, 2, 2): columns are the edges
    src = np.stack([q1 - q0, q2 - q0], axis=2)
    src_det = src[:, 0, 0] * src[:, 1, 1] - src[:, 0, 1] * src[:, 1, 0]
    valid = np.abs(src_det) > MIN_AREA
    inverse = np.stack([np.stack([src[:, 1, 1], -src[:, 0, 1]], axis=1),
                        np.stack([-src[:, 1, 0], src[:, 0, 0]], axis=1)], axis=1)
    inverse /= np.where(valid, src_det, 1.0)[:, None, None]
    linear = dest @ inverse
    frobenius = np.sum(linear**2, axis=(1, 2))
    det = linear[:, 0, 0] * linear[:, 1, 1] - linear[:, 0, 1] * linear[:, 1, 0]
    largest = np.sqrt((frobenius + np.sqrt(np.maximum(frobenius**2 - 4 * det**2, 0.0))) / 2.0)
    return np.where(valid, largest / max(scale, 1e-9), 0.0)


def triangle_affines(destination: np.ndarray, source: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Per-triangle affines mapping destination points to source points, as (T, 6) float32 rows.

    Row ``[a, b, c, d, e, f]`` maps destination ``(x, y)`` to source ``(a x + b y + c, d x + e y + f)``.
    Degenerate destination triangles get all-zero rows; the rasteriser skips them.
    """
    p0, p1, p2 = (destination[triangles[:, k]].astype(np.float64) for k in range(3))
    q0, q1, q2 = (source[triangles[:, k]].astype(np.float64) for k in range(3))
    d1, d2 = p1 - p0, p2 - p0
    det = d1[:, 0] * d2[:, 1] - d2[:, 0] * d1[:, 1]
    valid = np.abs(det) > MIN_AREA
    inv_det = np.where(valid, 1.0 / np.where(valid, det, 1.0), 0.0)
    # inverse of the 2x2 matrix with columns d1, d2
    i00, i01 = d2[:, 1] * inv_det, -d2[:, 0] * inv_det
    i10, i11 = -d1[:, 1] * inv_det, d1[:, 0] * inv_det
    e1, e2 = q1 - q0, q2 - q0
    a = e1[:, 0] * i00 + e2[:, 0] * i10
    b = e1[:, 0] * i01 + e2[:, 0] * i11
    d = e1[:, 1] * i00 + e2[:, 1] * i10
    e = e1[:, 1] * i01 + e2[:, 1] * i11
    c = q0[:, 0] - a * p0[:, 0] - b * p0[:, 1]
    f = q0[:, 1] - d * p0[:, 0] - e * p0[:, 1]
    rows = np.stack([a, b, c, d, e, f], axis=1)
    rows[~valid] = 0.0
    return rows.astype(np.float32)


class TriangleWarper:
    """Warps a source image, whose ``source_points`` are fixed, onto moving destination points.

    ``warp`` works on one output rectangle only; its scratch buffers grow to the largest
    rectangle seen and are reused, so a steady stream of frames allocates just the output.
    """

    def __init__(self, source_points: np.ndarray, triangles: np.ndarray) -> None:
        self.source_points = np.asarray(source_points, dtype=np.float32)
        self.triangles = np.ascontiguousarray(triangles, dtype=np.int32)
        if len(self.triangles) >= np.iinfo(np.uint16).max:
            raise ValueError(f"{len(self.triangles)} triangles: at most 65534 fit the index image")
        self.source_winding = np.sign(signed_areas(self.source_points, self.triangles))
        self._index = np.zeros((0, 0), dtype=np.uint16)
        self._grid_x = np.zeros((0, 0), dtype=np.float32)
        self._grid_y = np.zeros((0, 0), dtype=np.float32)
        self._coefficients = np.zeros((len(self.triangles) + 1, 6), dtype=np.float32)
        self.use_alternate = np.zeros(len(self.triangles), dtype=bool)  # triangles read from a second source

    def warp(
        self,
        source_image: np.ndarray,
        destination_points: np.ndarray,
        origin: tuple[int, int],
        output: np.ndarray,
        source_scale: float = 1.0,
        alternate_points: np.ndarray | None = None,
    ) -> np.ndarray:
        """Warp ``source_image`` into ``output`` (h, w[, 3]) in place; return the triangle-index image.

        ``origin`` is the frame position of ``output``'s top-left pixel; ``destination_points``
        are frame coordinates. ``source_scale`` scales the source points (a pyramid level of the
        source image). Pixels covered by no triangle keep their ``output`` value and get index 0.
        Triangles flagged in ``use_alternate`` read from ``alternate_points`` instead (points in
        ``source_image``'s own pixels, e.g. a mirrored copy beside the original).
        """
        height, width = output.shape[:2]
        local = np.asarray(destination_points, dtype=np.float32) - np.array(origin, dtype=np.float32)
        index = self.rasterise(local, (width, height))
        map_x, map_y = self.remap_grids(local, index, source_scale, alternate_points)
        cv2.remap(source_image, map_x, map_y, cv2.INTER_LINEAR, dst=output,
                  borderMode=cv2.BORDER_TRANSPARENT)
        return index

    def rasterise(self, points: Landmarks, size: tuple[int, int]) -> np.ndarray:
        """Index image (h, w) uint16: 1 + the triangle covering each pixel centre, 0 for none.

        Folded-over triangles (winding opposite to the source's) are drawn first, so where the
        mesh folds (a head turned away) the triangles facing the camera win.
        """
        width, height = size
        index = self._scratch_index(width, height)
        index.fill(OUTSIDE)
        areas = signed_areas(points, self.triangles)
        facing = np.sign(areas) == self.source_winding
        drawable = np.abs(areas) > MIN_AREA
        order = np.concatenate([np.flatnonzero(drawable & ~facing), np.flatnonzero(drawable & facing)])
        fixed = np.round(points * (1 << SUBPIXEL_BITS)).astype(np.int32)
        corners = fixed[self.triangles]
        for triangle in order.tolist():
            cv2.fillConvexPoly(index, corners[triangle], triangle + 1, cv2.LINE_8, SUBPIXEL_BITS)
        return index

    def remap_grids(
        self,
        points: np.ndarray,
        index: np.ndarray,
        source_scale: float = 1.0,
        alternate_points: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-pixel source coordinates for ``index``; pixels of no triangle map far outside."""
        height, width = index.shape
        table = self._coefficients
        table[1:] = triangle_affines(points, self.source_points * source_scale, self.triangles)
        if alternate_points is not None and self.use_alternate.any():
            chosen = self.triangles[self.use_alternate]
            table[1:][self.use_alternate] = triangle_affines(points, alternate_points, chosen)
        table[OUTSIDE] = (0.0, 0.0, -1e5, 0.0, 0.0, -1e5)
        grid_x, grid_y = self._scratch_grids(width, height)
        flat = index.astype(np.intp)
        map_x = np.take(table[:, 0], flat)
        map_x *= grid_x
        map_x += np.take(table[:, 1], flat) * grid_y
        map_x += np.take(table[:, 2], flat)
        map_y = np.take(table[:, 3], flat)
        map_y *= grid_x
        map_y += np.take(table[:, 4], flat) * grid_y
        map_y += np.take(table[:, 5], flat)
        return map_x, map_y

    def _scratch_index(self, width: int, height: int) -> np.ndarray:
        if self._index.shape[0] < height or self._index.shape[1] < width:
            self._index = np.zeros((max(height, self._index.shape[0]), max(width, self._index.shape[1])),
                                   dtype=np.uint16)
        return self._index[:height, :width]

    def _scratch_grids(self, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        if self._grid_x.shape[0] < height or self._grid_x.shape[1] < width:
            rows = max(height, self._grid_x.shape[0])
            columns = max(width, self._grid_x.shape[1])
            self._grid_x, self._grid_y = np.meshgrid(
                np.arange(columns, dtype=np.float32), np.arange(rows, dtype=np.float32)
            )
        return self._grid_x[:height, :width], self._grid_y[:height, :width]
