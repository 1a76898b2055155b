"""Polygons as integer pixel-corner rings (numpy), the exact form tracing, joining and simplifying
work on, and back to OGR polygons."""
from __future__ import annotations

import struct
from typing import Sequence

import numpy as np
from osgeo import ogr


def polygon_rings(geometry: ogr.Geometry) -> list[np.ndarray]:
    """A polygon's rings as closed (n, 2) float coordinates, read from its WKB in one go."""
    data = geometry.ExportToWkb(ogr.wkbNDR)   # byte order, type, ring count, then per ring: count, x y ...
    rings, offset = [], 9
    for _ in range(struct.unpack_from("<I", data, 5)[0]):
        count = struct.unpack_from("<I", data, offset)[0]
        rings.append(np.frombuffer(data, "<f8", 2 * count, offset + 4).reshape(count, 2))
        offset += 4 + 16 * count
    return rings


def pixel_rings(geometry: ogr.Geometry) -> list[np.ndarray]:
    """A traced polygon's rings as closed (n, 2) integer pixel-corner coordinates (col, row)."""
    return [np.rint(ring).astype(np.int64) for ring in polygon_rings(geometry)]


def ring_area(ring: np.ndarray) -> float:
    """Signed shoelace area of a closed ring."""
    x, y = ring[:, 0].astype(float), ring[:, 1].astype(float)
    return 0.5 * float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))


def pixel_polygon(rings: Sequence[np.ndarray]) -> ogr.Geometry:
    """Closed rings -> an OGR polygon with these coordinates, built as WKB in one go."""
    chunks = [struct.pack("<BII", 1, ogr.wkbPolygon, len(rings))]
    for ring in rings:
        chunks.append(struct.pack("<I", len(ring)))
        chunks.append(np.ascontiguousarray(ring, "<f8").tobytes())
    return ogr.CreateGeometryFromWkb(b"".join(chunks))


def drop_collinear(points: np.ndarray) -> np.ndarray:
    """Close an open ring of lattice points without its straight-through vertices (same shape)."""
    after = np.diff(points, axis=0, append=points[:1])
    before = np.concatenate([after[-1:], after[:-1]])
    bends = before[:, 0] * after[:, 1] - before[:, 1] * after[:, 0] != 0
    points = points[bends] if bends.sum() >= 3 else points
    return np.concatenate([points, points[:1]])
