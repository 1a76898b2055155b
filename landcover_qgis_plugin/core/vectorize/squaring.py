"""Building squaring: right angles along the outline's dominant direction (see the package docstring)."""
from __future__ import annotations

import numpy as np
from osgeo import ogr
from shapely import affinity, wkb
from shapely.geometry import Polygon

SQUARED_CLASSES = ("building",)
SQUARE_MIN_EDGE_PX = 3.0  # squaring treats shorter edge runs as noise


def _dominant_angle(polygon: Polygon) -> float:
    """Direction of the minimum-area bounding rectangle: robust to ragged, staircase outlines."""
    corners = np.asarray(polygon.minimum_rotated_rectangle.exterior.coords)
    edges = np.diff(corners[:3], axis=0)
    longest = edges[np.argmax(np.hypot(edges[:, 0], edges[:, 1]))]
    return float(np.arctan2(longest[1], longest[0]))


def _square_ring(ring: np.ndarray, min_edge: float) -> np.ndarray | None:
    """An axis-parallel ring: each run of mostly-horizontal (vertical) edges becomes one line, and
    edges that would come out shorter than `min_edge` are absorbed (jogs of noise)."""
    points = ring[:-1]
    edges = np.roll(points, -1, axis=0) - points
    horizontal = np.abs(edges[:, 0]) >= np.abs(edges[:, 1])
    changes = np.flatnonzero(horizontal != np.roll(horizontal, 1))
    if len(changes) < 4:
        return None
    order = np.roll(np.arange(len(points)), -changes[0])
    runs = []  # [is_horizontal, level (y or x of the line), length of the original edges]
    for run in np.split(order, changes[1:] - changes[0]):
        axis = 1 if horizontal[run[0]] else 0
        length = np.hypot(edges[run, 0], edges[run, 1])
        runs.append([bool(horizontal[run[0]]),
                     float(np.average(points[run, axis] + edges[run, axis] / 2, weights=length)),
                     float(length.sum())])
    while len(runs) > 4:
        # A run's squared edge spans between the lines of its two neighbours.
        extent = [abs(runs[i - 1][1] - runs[(i + 1) % len(runs)][1]) for i in range(len(runs))]
        shortest = int(np.argmin(extent))
        if extent[shortest] >= min_edge:
            break
        before, after = (shortest - 1) % len(runs), (shortest + 1) % len(runs)
        weight = runs[before][2] + runs[after][2]
        runs[before][1] = (runs[before][1] * runs[before][2] + runs[after][1] * runs[after][2]) / weight
        runs[before][2] = weight + runs[shortest][2]
        for index in sorted((shortest, after), reverse=True):
            del runs[index]
    vertices = [(following[1], level) if is_horizontal else (level, following[1])
                for (is_horizontal, level, _), following in zip(runs, runs[1:] + runs[:1])]
    vertices.append(vertices[0])
    return np.asarray(vertices)


def square_polygon(geometry: ogr.Geometry, pixel_size: float) -> ogr.Geometry:
    """Right angles for a building outline (see the package docstring); the input if that fails."""
    polygon = wkb.loads(bytes(geometry.ExportToWkb()))
    angle = _dominant_angle(polygon)
    centre = polygon.centroid
    rotated = affinity.rotate(polygon, -angle, origin=centre, use_radians=True)
    min_edge = SQUARE_MIN_EDGE_PX * pixel_size
    rings = [_square_ring(np.asarray(r.coords), min_edge) for r in (rotated.exterior, *rotated.interiors)]
    if rings[0] is None:
        return geometry
    squared = Polygon(rings[0], [r for r in rings[1:] if r is not None])
    squared = affinity.rotate(squared, angle, origin=centre, use_radians=True)
    if not squared.is_valid or not 2 / 3 <= squared.area / polygon.area <= 1.5:
        return geometry
    return ogr.CreateGeometryFromWkb(squared.wkb)
