"""Streamed polygonize: GDAL's polygonize band by band, the pieces of a region crossing band cuts
joined into the polygon one pass over the whole raster traces (see the package docstring)."""
from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
from osgeo import gdal, ogr

from ..errors import Cancelled, OutputError
from ..gdalio import gdal_errors
from .rings import drop_collinear, pixel_polygon, pixel_rings, ring_area
from .streaming import drop_cached, row_bands


def _progress_callback(report: Callable[[float], None], cancelled: Callable[[], bool]):
    def callback(complete, message, data):
        report(complete)
        return 0 if cancelled() else 1
    return callback


@dataclass
class _Piece:
    value: int
    geometry: ogr.Geometry
    cuts: tuple[int, ...]     # the cut lines (rows) its exterior reaches
    reaches_next_cut: bool    # it reaches the cut below its band
    vertices: int


def trace_regions(band: gdal.Band, kept: set[int], emit: Callable[[int, ogr.Geometry], None],
                  max_vertices: int, band_pixels: int, report: Callable[[float], None],
                  cancelled: Callable[[], bool], rows: tuple[int, int] | None = None,
                  hold: Callable[[int, ogr.Geometry], None] | None = None) -> set[int]:
    """Trace the polygons of the `kept` values band by band and `emit` each whole one (see the package
    docstring); in pixel coordinates (x = column, y = row).

    A region whose pieces held so far exceed `max_vertices` (0: no limit) is emitted at the cut it
    reaches and continues below as a new polygon: its memory, and the largest polygon written, stay
    bounded (a road network or forest can span a whole mosaic). Returns the rows where that
    happened; simplification keeps every vertex on them, so the parts still fit together.

    `rows` (top, bottom): trace only these rows, a stripe of a distributed run. With `hold`, the
    stripe's top and bottom are cuts too: what reaches them is handed to `hold` instead, joined
    within the stripe, for join_stripes to join across stripes.
    """
    width, height = band.XSize, band.YSize
    start, end = rows or (0, height)
    open_edges = hold is not None
    joins = CutJoins(width, emit, max_vertices, hold, start if open_edges and start > 0 else None)
    bands = [(start + top, start + bottom) for top, bottom in row_bands(width, end - start, band_pixels)]
    for index, (top, bottom) in enumerate(bands):
        if cancelled():
            raise Cancelled()
        pieces = ((value, geometry) for value, geometry in _polygonize_rows(band, top, bottom, cancelled)
                  if value in kept)
        joins.add_band(top, bottom, pieces, top_is_cut=top > start or (open_edges and top > 0),
                       bottom_is_cut=bottom < end or (open_edges and bottom < height))
        drop_cached(band)
        report((index + 1) / len(bands))
    joins.finish()
    return joins.split_rows


def join_stripes(stripes: Sequence[tuple[int, int, Sequence[tuple[int, ogr.Geometry]]]], width: int, height: int,
                 emit: Callable[[int, ogr.Geometry], None], max_vertices: int) -> set[int]:
    """The pieces the stripes (top, bottom, pieces; all of them, top to bottom) held at their edges,
    joined across the stripes into the polygons one pass over the whole raster traces; returns the
    rows where a region was split (at a stripe's edge, as trace_regions splits at a band's)."""
    joins = CutJoins(width, emit, max_vertices)
    for top, bottom, pieces in stripes:
        joins.add_band(top, bottom, pieces, top_is_cut=top > 0, bottom_is_cut=bottom < height)
    joins.finish()
    return joins.split_rows


class CutJoins:
    """Pieces of regions given band by band, top to bottom, joined across the cuts between bands: a
    piece reaching no cut is emitted as it is; the others are held (union-find) until none of a
    region's pieces reaches the next cut, then joined (_joined) and emitted, or handed to `hold`
    when one reaches `held_row` (the top of a stripe: the region goes on above)."""

    def __init__(self, width: int, emit: Callable[[int, ogr.Geometry], None], max_vertices: int,
                 hold: Callable[[int, ogr.Geometry], None] | None = None, held_row: int | None = None):
        self.width, self.emit, self.max_vertices = width, emit, max_vertices
        self.hold, self.held_row = hold, held_row
        self.held: dict[int, _Piece] = {}
        self.parent: dict[int, int] = {}
        self.numbers = itertools.count()
        self.split_rows: set[int] = set()
        self.above = np.full(width, -1, np.int64)   # held piece owning each pixel just above the current cut

    def _root(self, piece: int) -> int:
        parent = self.parent
        while parent[piece] != piece:
            parent[piece] = parent[parent[piece]]
            piece = parent[piece]
        return piece

    def add_band(self, top: int, bottom: int, pieces: Iterable[tuple[int, ogr.Geometry]], top_is_cut: bool,
                 bottom_is_cut: bool) -> None:
        held, parent = self.held, self.parent
        below = np.full(self.width, -1, np.int64)
        next_above = np.full(self.width, -1, np.int64)
        for value, geometry in pieces:
            _, _, min_y, max_y = geometry.GetEnvelope()
            reaches_cut, reaches_next_cut = top_is_cut and min_y == top, bottom_is_cut and max_y == bottom
            if not (reaches_cut or reaches_next_cut):
                self.emit(value, geometry)
                continue
            piece = next(self.numbers)
            held[piece] = _Piece(value, geometry, (top,) * reaches_cut + (bottom,) * reaches_next_cut,
                                 reaches_next_cut, sum(geometry.GetGeometryRef(i).GetPointCount()
                                                       for i in range(geometry.GetGeometryCount())))
            parent[piece] = piece
            exterior = _exterior(geometry)   # holes lie within the band
            if reaches_cut:
                _mark_cut(below, exterior, top, piece)
            if reaches_next_cut:
                _mark_cut(next_above, exterior, bottom, piece)
        joined = (self.above >= 0) & (below >= 0)
        for upper, lower in set(zip(self.above[joined].tolist(), below[joined].tolist())):
            if held[upper].value == held[lower].value:
                parent[self._root(upper)] = self._root(lower)
        for members in self._groups():
            if any(held[p].reaches_next_cut and bottom in held[p].cuts for p in members):
                if not 0 < self.max_vertices < sum(held[p].vertices for p in members):
                    continue
                self.split_rows.add(bottom)
                next_above[np.isin(next_above, members)] = -1   # what continues below starts anew
            self._release(members, self.held_row is not None and any(self.held_row in held[p].cuts for p in members))
        self.above = next_above

    def finish(self) -> None:
        """Hand on what is still held: regions reaching the bottom of a stripe (nothing, otherwise)."""
        for members in self._groups():
            self._release(members, True)

    def _groups(self) -> list[list[int]]:
        groups: dict[int, list[int]] = defaultdict(list)
        for piece in self.held:
            groups[self._root(piece)].append(piece)
        return list(groups.values())

    def _release(self, members: list[int], goes_on: bool) -> None:
        """Join a region's pieces and emit it, or hold it when it `goes_on` beyond the stripe."""
        pieces = [self.held.pop(piece) for piece in members]
        for piece in members:
            del self.parent[piece]
        (self.hold if goes_on and self.hold is not None else self.emit)(pieces[0].value, _joined(pieces))


def _polygonize_rows(band: gdal.Band, top: int, bottom: int,
                     cancelled: Callable[[], bool]) -> Iterator[tuple[int, ogr.Geometry]]:
    """GDAL's polygonize of rows top..bottom of `band` (with its mask): (value, polygon) in pixel
    coordinates, which are integers and so exact for joining pieces."""
    width, rows = band.XSize, bottom - top
    copy = gdal.GetDriverByName("MEM").Create("", width, rows, 2, band.DataType)
    copy.SetGeoTransform((0.0, 1.0, 0.0, float(top), 0.0, 1.0))
    copy.GetRasterBand(1).WriteArray(band.ReadAsArray(0, top, width, rows))
    copy.GetRasterBand(2).WriteArray(band.GetMaskBand().ReadAsArray(0, top, width, rows))
    traced = ogr.GetDriverByName("Memory").CreateDataSource("band")
    layer = traced.CreateLayer("regions", geom_type=ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("value", ogr.OFTInteger))
    with gdal_errors():
        error = gdal.Polygonize(copy.GetRasterBand(1), copy.GetRasterBand(2), layer, 0, [],
                                callback=_progress_callback(lambda f: None, cancelled))
    if cancelled():
        raise Cancelled()
    if error:
        raise OutputError(f"Tracing polygons failed ({gdal_errors.last()}).")
    for feature in layer:
        yield feature.GetField(0), feature.GetGeometryRef().Clone()


def _exterior(geometry: ogr.Geometry) -> np.ndarray:
    """A traced polygon's exterior ring as in `pixel_rings`."""
    exterior = ogr.Geometry(ogr.wkbPolygon)
    exterior.AddGeometry(geometry.GetGeometryRef(0))
    return pixel_rings(exterior)[0]


def _mark_cut(owner: np.ndarray, ring: np.ndarray, line: int, piece: int) -> None:
    """Record `piece` as the owner of the pixels along its ring's edges lying on the cut at row `line`."""
    start, end = ring[:-1], ring[1:]
    on_line = (start[:, 1] == line) & (end[:, 1] == line)
    for x0, x1 in zip(start[on_line, 0].tolist(), end[on_line, 0].tolist()):
        owner[min(x0, x1):max(x0, x1)] = piece


def _joined(pieces: Sequence[_Piece]) -> ogr.Geometry:
    """The pieces of one region, traced in bands, joined into the polygon tracing it whole gives.

    Rings are oriented with the region on their right. Along each cut line, the pieces' edges
    cancel where the region lies on both sides; what remains of them, and the rest of each ring
    (paths from one cut line back to one), are linked end to end into closed rings, which are
    then split where they touch themselves (pixels of the region meeting diagonally), as GDAL
    traces them: simple rings, a hole touching the exterior at a corner being a hole. Exact
    (integer coordinates) and linear in the pieces' size, unlike a GEOS union.
    """
    if len(pieces) == 1:
        return pieces[0].geometry
    holes, links, spans = [], [], defaultdict(list)
    for piece in pieces:
        # Holes lie within their band, never on a cut line: they are kept as they are. The pieces
        # are released one by one, so a region spanning the raster is held about once.
        geometry, piece.geometry = piece.geometry, None
        holes.extend(geometry.GetGeometryRef(i).Clone() for i in range(1, geometry.GetGeometryCount()))
        ring = _exterior(geometry)
        del geometry
        if ring_area(ring) < 0:
            ring = ring[::-1]
        start, end = ring[:-1], ring[1:]
        on_cut = np.flatnonzero((start[:, 1] == end[:, 1]) & np.isin(start[:, 1], piece.cuts))
        for edge in on_cut:
            x0, x1 = int(start[edge, 0]), int(end[edge, 0])
            spans[int(start[edge, 1])].append((min(x0, x1), max(x0, x1), x1 > x0))   # True: region below
        for after, before in zip(on_cut, np.roll(on_cut, -1)):
            path = ring[after + 1:before + 1] if before > after else \
                np.concatenate([ring[after + 1:-1], ring[:before + 1]])
            if len(path) > 1:
                links.append(path)
    for line, found in spans.items():
        links.extend(_one_sided_runs(line, np.array(found, np.int64)))
    rings = _link(links)
    rings.sort(key=ring_area, reverse=True)   # the exterior (the one ring with the region inside) first
    joined = pixel_polygon(rings)
    for hole in holes:
        joined.AddGeometryDirectly(hole)
    return joined


def _one_sided_runs(line: int, spans: np.ndarray) -> list[np.ndarray]:
    """Stretches of cut `line` with the region on one side only, as edges with the region on their right."""
    breaks = np.unique(spans[:, :2])
    cover = np.zeros((2, len(breaks)), np.int64)
    for side in (0, 1):
        chosen = spans[spans[:, 2] == side]
        np.add.at(cover[side], np.searchsorted(breaks, chosen[:, 0]), 1)
        np.add.at(cover[side], np.searchsorted(breaks, chosen[:, 1]), -1)
    above, below = np.cumsum(cover, axis=1)[:, :-1] > 0
    runs = []
    for state, leftwards in ((above & ~below, True), (below & ~above, False)):
        edges = np.diff(np.concatenate([[0], state.astype(np.int8), [0]]))
        for x0, x1 in zip(breaks[np.flatnonzero(edges == 1)], breaks[np.flatnonzero(edges == -1)]):
            run = np.array([[x0, line], [x1, line]], np.int64)
            runs.append(run[::-1] if leftwards else run)
    return runs


def _link(links: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Closed simple rings from paths that start and end on cut lines."""
    leaving: dict[tuple[int, int], list[int]] = defaultdict(list)
    for index, link in enumerate(links):
        leaving[tuple(link[0].tolist())].append(index)
    used = [False] * len(links)
    rings = []
    for first in range(len(links)):
        if used[first]:
            continue
        chain, current = [first], first
        used[first] = True
        while True:
            end = tuple(links[current][-1].tolist())
            current = next((i for i in leaving[end] if not used[i]), first)
            if current == first:
                break
            chain.append(current)
            used[current] = True
        rings.extend(drop_collinear(loop) for loop in _simple_loops(np.concatenate([links[i][:-1] for i in chain])))
    return rings


def _simple_loops(points: np.ndarray) -> list[np.ndarray]:
    """An open ring of lattice points cut into loops that each pass every point once."""
    keys = points[:, 0] * (int(points[:, 1].max()) + 1) + points[:, 1]
    if len(np.unique(keys)) == len(keys):
        return [points]
    keys = keys.tolist()
    loops, path, position = [], [], {}   # path: indices of the points of the loop being walked
    for index, key in enumerate(keys):
        if key in position:
            start = position[key]
            loops.append(points[path[start:]])
            for dropped in path[start + 1:]:
                del position[keys[dropped]]
            del path[start + 1:]
        else:
            position[key] = len(path)
            path.append(index)
    loops.append(points[path])
    return loops
