"""Shared-boundary simplification: rings cut into arcs at junctions, each arc simplified once for
both polygons sharing it (see the package docstring)."""
from __future__ import annotations

import struct
from collections import OrderedDict
from typing import Sequence

import numpy as np
from osgeo import gdal, ogr

from .rings import drop_collinear

CORNER_BLOCK = 512
LATTICE_CHUNK = 262_144  # pixel corners of a ring examined at a time
OUTSIDE = -1  # corner lookups: beyond the raster or nodata


class CornerClasses:
    """Which pixel corners are junctions (three or more regions meet, or on a row where a region
    was split), read block by block."""

    def __init__(self, band: gdal.Band, split_rows: set[int] = frozenset(), block: int = CORNER_BLOCK,
                 cached_blocks: int = 32):
        self._band = band
        self._split_rows = np.array(sorted(split_rows), np.int64)
        self._block = block
        self._width, self._height = band.XSize, band.YSize
        self._nodata = band.GetNoDataValue()
        self._mask = band.GetMaskBand() if not band.GetMaskFlags() & gdal.GMF_ALL_VALID else None
        self._cache: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()
        self._cached_blocks = cached_blocks

    def _values(self, block_row: int, block_col: int) -> np.ndarray:
        """Pixel values of rows/cols block*B-1 .. block*B+B-1, OUTSIDE beyond the raster or nodata."""
        key = (block_row, block_col)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        size = self._block + 1
        r0, c0 = block_row * self._block - 1, block_col * self._block - 1
        values = np.full((size, size), OUTSIDE, np.int16)
        rr0, cc0 = max(r0, 0), max(c0, 0)
        rr1, cc1 = min(r0 + size, self._height), min(c0 + size, self._width)
        if rr1 > rr0 and cc1 > cc0:
            data = self._band.ReadAsArray(cc0, rr0, cc1 - cc0, rr1 - rr0).astype(np.int16)
            if self._mask is not None:
                data[self._mask.ReadAsArray(cc0, rr0, cc1 - cc0, rr1 - rr0) == 0] = OUTSIDE
            values[rr0 - r0:rr1 - r0, cc0 - c0:cc1 - c0] = data
        self._cache[key] = values
        if len(self._cache) > self._cached_blocks:
            self._cache.popitem(last=False)
        return values

    def junctions(self, corners: np.ndarray) -> np.ndarray:
        """For (n, 2) integer (col, row) corners: True where 3+ regions or a diagonal pair meet,
        and along nodata and the raster's edge (which simplification must never move)."""
        cols, rows = corners[:, 0], corners[:, 1]
        block_rows, block_cols = rows // self._block, cols // self._block
        if block_rows.min() == block_rows.max() and block_cols.min() == block_cols.max():
            result = self._junctions_in(int(block_rows[0]), int(block_cols[0]), rows, cols)
        else:
            result = np.zeros(len(corners), bool)
            keys = block_rows * (self._width // self._block + 2) + block_cols
            for key in np.unique(keys):
                selected = keys == key
                result[selected] = self._junctions_in(int(block_rows[selected][0]),
                                                      int(block_cols[selected][0]), rows[selected], cols[selected])
        first, last = np.searchsorted(self._split_rows, (rows.min(), rows.max() + 1))
        if last > first:
            result |= np.isin(rows, self._split_rows[first:last])
        return result

    def _junctions_in(self, block_row: int, block_col: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        values = self._values(block_row, block_col)
        r, c = rows - block_row * self._block, cols - block_col * self._block
        a, b, cc, d = values[r, c], values[r, c + 1], values[r + 1, c], values[r + 1, c + 1]
        distinct = 1 + (b != a) + ((cc != a) & (cc != b)) + ((d != a) & (d != b) & (d != cc))
        diagonal = (a == d) & (b == cc) & (a != b)
        outside = (a == OUTSIDE) | (b == OUTSIDE) | (cc == OUTSIDE) | (d == OUTSIDE)
        return (distinct >= 3) | diagonal | outside


def _ring_vertices(ring: np.ndarray, corners: CornerClasses) -> tuple[np.ndarray, np.ndarray]:
    """The corners of a closed axis-parallel ring that simplification must see, in order: where it
    turns and every junction, even mid-edge (a T where two neighbours meet along a straight side),
    with the junction flags. The ring is walked pixel corner by pixel corner, a bounded number at
    a time, so a polygon spanning a huge raster does not blow up memory."""
    start, end = ring[:-1], ring[1:]
    steps = np.abs(end - start).sum(axis=1)
    start, end, steps = start[steps > 0], end[steps > 0], steps[steps > 0]
    direction = np.sign(end - start)
    turning = np.any(direction != np.concatenate([direction[-1:], direction[:-1]]), axis=1)
    vertices, junctions = [], []
    chunk_ends = np.arange(1, steps.sum() // LATTICE_CHUNK + 1) * LATTICE_CHUNK
    bounds = np.searchsorted(np.cumsum(steps), chunk_ends)   # segment index where each chunk ends
    for first, last in zip(np.concatenate([[0], bounds]), np.concatenate([bounds, [len(start)]])):
        if last <= first:
            continue
        count = steps[first:last]
        segment = np.repeat(np.arange(first, last), count)
        offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        points = start[segment] + offset[:, np.newaxis] * direction[segment]
        junction = corners.junctions(points)
        keep = junction | ((offset == 0) & turning[segment])
        vertices.append(points[keep])
        junctions.append(junction[keep])
    return np.concatenate(vertices), np.concatenate(junctions)


def _simplify_arcs(arcs: Sequence[np.ndarray], tolerance: float) -> list[np.ndarray]:
    """Douglas-Peucker of each arc in a canonical direction, so both sides get the same result.

    All arcs go to GEOS in one MultiLineString (its Douglas-Peucker simplifies each line on its
    own, keeps both ends and breaks ties towards the first vertex, so it is deterministic).
    """
    results: list[np.ndarray] = list(arcs)
    todo = [i for i, arc in enumerate(arcs) if len(arc) > 2]
    if not todo:
        return results
    reversed_ = []
    chunks = [struct.pack("<BII", 1, ogr.wkbMultiLineString, len(todo))]
    for index in todo:
        arc = arcs[index]
        first, second, before_last, last = (tuple(arc[i].tolist()) for i in (0, 1, -2, -1))
        reverse = second > before_last if first == last else first > last
        reversed_.append(reverse)
        chunks.append(struct.pack("<BII", 1, ogr.wkbLineString, len(arc)))
        chunks.append(np.ascontiguousarray(arc[::-1] if reverse else arc, "<f8").tobytes())
    simplified = ogr.CreateGeometryFromWkb(b"".join(chunks)).Simplify(tolerance)
    data = simplified.ExportToWkb(ogr.wkbNDR)
    offset = 9 if simplified.GetGeometryType() == ogr.wkbMultiLineString else 0  # GEOS unwraps one line
    for index, reverse in zip(todo, reversed_):
        count = struct.unpack_from("<I", data, offset + 5)[0]
        line = np.frombuffer(data, "<f8", 2 * count, offset + 9).reshape(count, 2)
        offset += 9 + 16 * count
        arc = arcs[index]
        if count < 4 and arc[0, 0] == arc[-1, 0] and arc[0, 1] == arc[-1, 1]:
            continue  # the island would vanish; keep it as traced
        results[index] = line[::-1] if reverse else line
    return results


def _simplify_ring(ring: np.ndarray, corners: CornerClasses, tolerance: float) -> np.ndarray:
    vertices, junction = _ring_vertices(ring, corners)
    if not junction.any():
        anchor = np.lexsort((vertices[:, 1], vertices[:, 0]))[0]
        return _simplify_arcs([np.concatenate([vertices[anchor:], vertices[:anchor + 1]])], tolerance)[0]
    first = int(np.argmax(junction))
    vertices = np.concatenate([vertices[first:], vertices[:first + 1]])
    cuts = np.flatnonzero(np.append(np.roll(junction, -first), True))
    arcs = _simplify_arcs([vertices[a:b + 1] for a, b in zip(cuts[:-1], cuts[1:])], tolerance)
    return drop_collinear(np.concatenate([arc[:-1] for arc in arcs]))


def simplify_rings(rings: Sequence[np.ndarray], corners: CornerClasses,
                   tolerance: float) -> list[np.ndarray] | None:
    """Shared-boundary simplification of a polygon's pixel rings (exterior first).

    None when the polygon is a sliver whose arcs all collapse onto each other: it disappears and
    its neighbours, sharing those arcs, close over it. Collapsed holes are dropped likewise.
    """
    exterior, *interiors = [_simplify_ring(ring, corners, tolerance) for ring in rings]
    if len(exterior) < 4:
        return None
    return [exterior, *(ring for ring in interiors if len(ring) >= 4)]
