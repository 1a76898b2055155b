"""Class raster -> one polygon layer per class in one GeoPackage, with no gaps between classes.

Decisions (quoted in the README):

* **Polygons** come from GDAL's polygonize of the class raster (4-connected), so neighbouring
  classes share their edges exactly; nodata pixels belong to no polygon. GDAL streams the raster,
  so this works for rasters far larger than memory.
* **Minimum area** (default `DEFAULT_MIN_AREA_M2` = 2 m², every class): regions smaller than it are
  merged into their largest neighbour with GDAL's sieve filter before polygonizing, so specks
  disappear without leaving holes or gaps, and the coverage stays complete.
* **Small holes** (default `DEFAULT_FILL_HOLES_M2` = 4 m²): holes of an output polygon smaller than
  this are filled; whatever lay inside such a hole (a speck of another class) is dropped, so layers
  never overlap.
* **Simplification** (default 1 pixel): Douglas-Peucker on *shared boundaries*, not on each polygon
  separately. Boundaries are cut into arcs at the pixel corners where three or more regions meet
  (read from the raster); each arc is simplified once in a canonical direction, and both polygons
  sharing it get the identical result, so simplified neighbours still fit together without
  slivers or overlaps (on the real LandCover.ai mask the simplified layers tile the raster to the
  square metre). Edges along nodata and the raster's border are never moved. A sliver whose arcs
  all collapse onto each other disappears (its neighbours close over it) and zero-width spikes are
  cut off.
* **Squaring** (optional, buildings): each building outline is rotated to the direction of its
  minimum-area bounding rectangle, every edge snapped to one of the two perpendicular axes (jogs
  shorter than 3 pixels absorbed), and rotated back; outlines that would become invalid or change
  area by more than a third are kept as they were.
* **Attributes**: `class` (name), `value` (class value) and `area_m2` (planar area in the layer's
  CRS, converted to m²). Each class gets its layer even when empty, named after the class.
"""
from __future__ import annotations

import math
import os
import re
import struct
import tempfile
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from osgeo import gdal, ogr, osr
from shapely import affinity, wkb
from shapely.geometry import Polygon

from .files import atomic_output
from .modelfile import BACKGROUND, ClassInfo
from .errors import InputError, SegmentationCancelled, release_frames
from .raster import Grid, call_gdal, crs_units_in_metres, gdal_errors

DEFAULT_SIMPLIFY_PX = 1.0
DEFAULT_MIN_AREA_M2 = 2.0
DEFAULT_FILL_HOLES_M2 = 4.0
SQUARED_CLASSES = ("building",)
SQUARE_MIN_EDGE_PX = 3.0  # squaring treats shorter edge runs as noise
CORNER_BLOCK = 512
LATTICE_CHUNK = 262_144  # pixel corners of a ring examined at a time
OUTSIDE = -1  # corner lookups: beyond the raster or nodata
FEATURES_PER_TRANSACTION = 20_000


@dataclass(frozen=True)
class VectorOptions:
    simplify: float = DEFAULT_SIMPLIFY_PX     # tolerance in pixels; 0 keeps the pixel outlines
    min_area: float = DEFAULT_MIN_AREA_M2     # m²; smaller regions merge into their largest neighbour
    fill_holes: float = DEFAULT_FILL_HOLES_M2  # m²; smaller holes are filled
    square_buildings: bool = False

    def __post_init__(self) -> None:
        for name in ("simplify", "min_area", "fill_holes"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a number >= 0, got {value!r}.")


@dataclass
class VectorResult:
    layers: dict[str, str]                      # class name -> layer name
    area_ha: dict[str, float]                   # class name -> hectares of its polygons
    polygons: dict[str, int] = field(default_factory=dict)
    collapsed: int = 0                          # slivers that simplification closed over


def layer_name(class_name: str) -> str:
    name = re.sub(r"[^0-9a-zA-Z_]+", "_", class_name.strip()).strip("_").lower()
    return name if name and not name[0].isdigit() else f"class_{name}"


def vectorize(class_raster: str | os.PathLike, vector_path: str | os.PathLike,
              classes: Sequence[ClassInfo], keep: Sequence[str] | None = None,
              options: VectorOptions = VectorOptions(), overwrite: bool = False,
              progress: Callable[[float, str], None] | None = None,
              is_cancelled: Callable[[], bool] | None = None) -> VectorResult:
    """Vectorise a class raster into a new GeoPackage, written atomically."""
    with atomic_output(vector_path, overwrite) as tmp:
        return write_vectors(class_raster, tmp, classes, keep, options, progress, is_cancelled)


def write_vectors(class_raster: str | os.PathLike, vector_path: str | os.PathLike,
                  classes: Sequence[ClassInfo], keep: Sequence[str] | None = None,
                  options: VectorOptions = VectorOptions(),
                  progress: Callable[[float, str], None] | None = None,
                  is_cancelled: Callable[[], bool] | None = None) -> VectorResult:
    """Vectorise `class_raster` into a GeoPackage at `vector_path` (created; see the module docstring).

    `keep`: class names to write (default: every class but background).
    """
    kept = kept_classes(classes, keep)
    folder = Path(vector_path).parent
    with tempfile.TemporaryDirectory(prefix=".landcover-", dir=folder if str(folder) else ".") as work:
        try:
            return _write_vectors(class_raster, vector_path, kept, options, Path(work),
                                  progress or (lambda percent, message: None), is_cancelled or (lambda: False))
        except BaseException as error:
            release_frames(error)  # GDAL closes its scratch files before the folder goes
            raise


def _write_vectors(class_raster: str | os.PathLike, vector_path: str | os.PathLike, kept: list[ClassInfo],
                   options: VectorOptions, work: Path, report: Callable[[float, str], None],
                   cancelled: Callable[[], bool]) -> VectorResult:
    """See write_vectors; every GDAL object lives in this frame, so they all close when it ends."""
    source = call_gdal(f"'{class_raster}' is not a raster GDAL can read", gdal.Open, str(class_raster))
    gt = source.GetGeoTransform()
    if gt[2] or gt[4] or gt[5] >= 0 or abs(gt[1] + gt[5]) > 1e-9 * abs(gt[1]):
        raise InputError(f"'{class_raster}' is not on a north-up grid of square pixels; "
                         "warp it first (gdalwarp -tr RES RES).")
    grid = Grid(gt[0], gt[3], gt[1], source.RasterXSize, source.RasterYSize)
    crs_wkt = source.GetProjection()
    srs = osr.SpatialReference(crs_wkt) if crs_wkt else None
    metres = crs_units_in_metres(srs) if srs else 1.0
    pixel_area_m2 = (grid.resolution * metres) ** 2
    traced = source
    threshold = int(math.ceil(options.min_area / pixel_area_m2 - 1e-9))
    if threshold >= 2:
        report(0.0, "Merging regions smaller than the minimum area")
        traced = _sieve(source.GetRasterBand(1), grid, source.GetProjection(), threshold,
                        work / "sieved.tif", cancelled)
    band = traced.GetRasterBand(1)
    report(10.0, "Tracing polygons")
    regions_ds = _polygonize(band, srs, work / "regions.gpkg",
                             lambda f: report(10.0 + 40.0 * f, "Tracing polygons"), cancelled)
    regions = regions_ds.GetLayer(0)
    values = ",".join(str(c.value) for c in kept)
    regions.SetAttributeFilter(f"value IN ({values})" if kept else "0 = 1")
    fill_px = options.fill_holes / pixel_area_m2
    holes = _filled_holes(regions, grid, crs_wkt, fill_px, work, cancelled) if fill_px > 0 else None
    report(55.0, "Writing polygons")
    writer = _Writer(vector_path, srs, kept, metres)
    corners = _CornerClasses(band)
    squared = {c.value for c in kept if options.square_buildings and c.name in SQUARED_CLASSES}
    total = max(regions.GetFeatureCount(), 1)
    collapsed = 0
    regions.ResetReading()
    for count, feature in enumerate(regions, 1):
        if count % 500 == 0:
            if cancelled():
                raise SegmentationCancelled()
            report(55.0 + 45.0 * count / total, "Writing polygons")
        value = feature.GetField(0)
        geometry = feature.GetGeometryRef()
        rings = _pixel_rings(geometry, grid)
        areas = [abs(_ring_area(r)) for r in rings]
        if holes is not None and areas[0] - sum(areas[1:]) < fill_px and holes.covers(geometry):
            continue
        rings = [rings[0]] + [r for r, area in zip(rings[1:], areas[1:]) if area >= fill_px]
        if options.simplify > 0:
            rings = simplify_rings(rings, corners, options.simplify)
            if rings is None:
                collapsed += 1
                continue
        for part in _valid_parts(_polygon(rings, grid)):
            writer.add(value, square_polygon(part, grid.resolution) if value in squared else part)
    writer.close()
    report(100.0, "Polygons written")
    return VectorResult(layers={c.name: layer_name(c.name) for c in kept},
                        area_ha={c.name: writer.area_m2[c.value] / 10_000.0 for c in kept},
                        polygons={c.name: writer.count[c.value] for c in kept},
                        collapsed=collapsed)


def kept_classes(classes: Sequence[ClassInfo], keep: Sequence[str] | None) -> list[ClassInfo]:
    if keep is None:
        return [c for c in classes if c.value != BACKGROUND]
    names = {c.name: c for c in classes}
    unknown = [k for k in keep if k not in names]
    if unknown:
        raise InputError(f"Unknown class name(s) {unknown}; the model's classes are {list(names)}.")
    return [names[k] for k in keep]


def _progress_callback(report: Callable[[float], None], cancelled: Callable[[], bool]):
    def callback(complete, message, data):
        report(complete)
        return 0 if cancelled() else 1
    return callback


def _sieve(band: gdal.Band, grid: Grid, crs_wkt: str, threshold: int, path: Path,
           cancelled: Callable[[], bool]) -> gdal.Dataset:
    driver = gdal.GetDriverByName("GTiff")
    target = call_gdal(f"Could not create the temporary file '{path}'", driver.Create, str(path),
                       grid.width, grid.height, 1, gdal.GDT_Byte,
                       ["TILED=YES", "COMPRESS=DEFLATE", "BIGTIFF=IF_SAFER"])
    target.SetGeoTransform(grid.geotransform)
    target.SetProjection(crs_wkt)
    nodata = band.GetNoDataValue()
    out = target.GetRasterBand(1)
    if nodata is not None:
        out.SetNoDataValue(nodata)
    with gdal_errors():
        error = gdal.SieveFilter(band, band.GetMaskBand(), out, threshold, 4,
                                 callback=_progress_callback(lambda f: None, cancelled))
    if cancelled():
        raise SegmentationCancelled()
    if error:
        raise OSError(f"Merging small regions failed ({gdal_errors.last()}).")
    out.FlushCache()
    return target


def _polygonize(band: gdal.Band, srs: osr.SpatialReference | None, path: Path,
                report: Callable[[float], None], cancelled: Callable[[], bool]) -> ogr.DataSource:
    dataset = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = dataset.CreateLayer("regions", srs=srs, geom_type=ogr.wkbPolygon, options=["SPATIAL_INDEX=NO"])
    layer.CreateField(ogr.FieldDefn("value", ogr.OFTInteger))
    layer.StartTransaction()
    with gdal_errors():
        error = gdal.Polygonize(band, band.GetMaskBand(), layer, 0, [],
                                callback=_progress_callback(report, cancelled))
    if cancelled():
        raise SegmentationCancelled()
    if error:
        raise OSError(f"Tracing polygons failed ({gdal_errors.last()}).")
    layer.CommitTransaction()
    return dataset


class _HoleMask:
    """Pixels inside the holes being filled, rasterised to a temporary file and read on demand."""

    def __init__(self, dataset: gdal.Dataset, grid: Grid):
        self._dataset = dataset
        self._band = dataset.GetRasterBand(1)
        self._grid = grid

    def covers(self, geometry: ogr.Geometry) -> bool:
        point = geometry.PointOnSurface()
        col = int(math.floor((point.GetX() - self._grid.x0) / self._grid.resolution))
        row = int(math.floor((self._grid.y0 - point.GetY()) / self._grid.resolution))
        return bool(self._band.ReadAsArray(col, row, 1, 1)[0, 0])


def _filled_holes(regions: ogr.Layer, grid: Grid, crs_wkt: str, fill_px: float,
                  work: Path, cancelled: Callable[[], bool]) -> _HoleMask | None:
    holes_ds = ogr.GetDriverByName("Memory").CreateDataSource("holes")
    holes = holes_ds.CreateLayer("holes", geom_type=ogr.wkbPolygon)
    holes.StartTransaction()
    found = 0
    for count, feature in enumerate(regions, 1):
        if count % 1000 == 0 and cancelled():
            raise SegmentationCancelled()
        geometry = feature.GetGeometryRef()
        for index in range(1, geometry.GetGeometryCount()):
            ring = geometry.GetGeometryRef(index)
            hole = ogr.Geometry(ogr.wkbPolygon)
            hole.AddGeometry(ring)
            if hole.GetArea() / grid.resolution ** 2 < fill_px:
                out = ogr.Feature(holes.GetLayerDefn())
                out.SetGeometry(hole)
                holes.CreateFeature(out)
                found += 1
    holes.CommitTransaction()
    regions.ResetReading()
    if not found:
        return None
    path = work / "holes.tif"
    mask = call_gdal(f"Could not create the temporary file '{path}'", gdal.GetDriverByName("GTiff").Create,
                     str(path), grid.width, grid.height, 1, gdal.GDT_Byte,
                     ["TILED=YES", "COMPRESS=DEFLATE", "SPARSE_OK=YES", "BIGTIFF=IF_SAFER"])
    mask.SetGeoTransform(grid.geotransform)
    mask.SetProjection(crs_wkt)
    with gdal_errors():
        error = gdal.RasterizeLayer(mask, [1], holes, burn_values=[1])
    if error:
        raise OSError(f"Filling small holes failed ({gdal_errors.last()}).")
    return _HoleMask(mask, grid)


def _pixel_rings(geometry: ogr.Geometry, grid: Grid) -> list[np.ndarray]:
    """A polygonize polygon's rings as closed (n, 2) integer pixel-corner coordinates (col, row)."""
    data = geometry.ExportToWkb(ogr.wkbNDR)   # byte order, type, ring count, then per ring: count, x y ...
    rings, offset = [], 9
    for _ in range(struct.unpack_from("<I", data, 5)[0]):
        count = struct.unpack_from("<I", data, offset)[0]
        xy = np.frombuffer(data, "<f8", 2 * count, offset + 4).reshape(count, 2)
        offset += 4 + 16 * count
        pixels = np.empty((count, 2), np.int64)
        pixels[:, 0] = np.rint((xy[:, 0] - grid.x0) / grid.resolution)
        pixels[:, 1] = np.rint((grid.y0 - xy[:, 1]) / grid.resolution)
        rings.append(pixels)
    return rings


def _ring_area(ring: np.ndarray) -> float:
    """Signed shoelace area of a closed ring."""
    x, y = ring[:, 0].astype(float), ring[:, 1].astype(float)
    return 0.5 * float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))


def _polygon(rings: Sequence[np.ndarray], grid: Grid) -> ogr.Geometry:
    """Pixel-coordinate rings -> an OGR polygon in map coordinates, built as WKB in one go."""
    chunks = [struct.pack("<BII", 1, ogr.wkbPolygon, len(rings))]
    for ring in rings:
        xy = np.column_stack([grid.x0 + ring[:, 0] * grid.resolution, grid.y0 - ring[:, 1] * grid.resolution])
        chunks.append(struct.pack("<I", len(xy)))
        chunks.append(np.ascontiguousarray(xy, "<f8").tobytes())
    return ogr.CreateGeometryFromWkb(b"".join(chunks))


def _valid_parts(geometry: ogr.Geometry) -> list[ogr.Geometry]:
    """The polygon itself, or its non-empty parts once zero-width spikes and slivers are cut.

    GEOS's "structure" repair (exteriors minus holes) is several times faster than buffer(0) on
    large polygons with thousands of holes; buffer(0) remains for GEOS builds without it.
    """
    with gdal_errors():
        if geometry.IsValid():
            return [geometry]
        repaired = geometry.MakeValid(["METHOD=STRUCTURE"]) or geometry.Buffer(0)
    parts = [repaired.GetGeometryRef(i).Clone() for i in range(repaired.GetGeometryCount())] \
        if ogr.GT_Flatten(repaired.GetGeometryType()) in (ogr.wkbMultiPolygon, ogr.wkbGeometryCollection) \
        else [repaired]
    return [part for part in parts if ogr.GT_Flatten(part.GetGeometryType()) == ogr.wkbPolygon
            and part.GetArea() > 0]


class _CornerClasses:
    """Which pixel corners are junctions (three or more regions meet), read block by block."""

    def __init__(self, band: gdal.Band, block: int = CORNER_BLOCK, cached_blocks: int = 32):
        self._band = band
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
            return self._junctions_in(int(block_rows[0]), int(block_cols[0]), rows, cols)
        result = np.zeros(len(corners), bool)
        keys = block_rows * (self._width // self._block + 2) + block_cols
        for key in np.unique(keys):
            selected = keys == key
            result[selected] = self._junctions_in(int(block_rows[selected][0]), int(block_cols[selected][0]),
                                                  rows[selected], cols[selected])
        return result

    def _junctions_in(self, block_row: int, block_col: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        values = self._values(block_row, block_col)
        r, c = rows - block_row * self._block, cols - block_col * self._block
        a, b, cc, d = values[r, c], values[r, c + 1], values[r + 1, c], values[r + 1, c + 1]
        distinct = 1 + (b != a) + ((cc != a) & (cc != b)) + ((d != a) & (d != b) & (d != cc))
        diagonal = (a == d) & (b == cc) & (a != b)
        outside = (a == OUTSIDE) | (b == OUTSIDE) | (cc == OUTSIDE) | (d == OUTSIDE)
        return (distinct >= 3) | diagonal | outside


def _ring_vertices(ring: np.ndarray, corners: _CornerClasses) -> tuple[np.ndarray, np.ndarray]:
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


def _simplify_ring(ring: np.ndarray, corners: _CornerClasses, tolerance: float) -> np.ndarray:
    vertices, junction = _ring_vertices(ring, corners)
    if not junction.any():
        anchor = np.lexsort((vertices[:, 1], vertices[:, 0]))[0]
        return _simplify_arcs([np.concatenate([vertices[anchor:], vertices[:anchor + 1]])], tolerance)[0]
    first = int(np.argmax(junction))
    vertices = np.concatenate([vertices[first:], vertices[:first + 1]])
    cuts = np.flatnonzero(np.append(np.roll(junction, -first), True))
    arcs = _simplify_arcs([vertices[a:b + 1] for a, b in zip(cuts[:-1], cuts[1:])], tolerance)
    return _drop_collinear(np.concatenate([arc[:-1] for arc in arcs]))


def _drop_collinear(points: np.ndarray) -> np.ndarray:
    """Close an open ring of lattice points without its straight-through vertices (same shape)."""
    after = np.diff(points, axis=0, append=points[:1])
    before = np.concatenate([after[-1:], after[:-1]])
    bends = before[:, 0] * after[:, 1] - before[:, 1] * after[:, 0] != 0
    points = points[bends] if bends.sum() >= 3 else points
    return np.concatenate([points, points[:1]])


def simplify_rings(rings: Sequence[np.ndarray], corners: _CornerClasses,
                   tolerance: float) -> list[np.ndarray] | None:
    """Shared-boundary simplification of a polygon's pixel rings (exterior first).

    None when the polygon is a sliver whose arcs all collapse onto each other: it disappears and
    its neighbours, sharing those arcs, close over it. Collapsed holes are dropped likewise.
    """
    exterior, *interiors = [_simplify_ring(ring, corners, tolerance) for ring in rings]
    if len(exterior) < 4:
        return None
    return [exterior, *(ring for ring in interiors if len(ring) >= 4)]


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
    """Right angles for a building outline (see the module docstring); the input if that fails."""
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


class _Writer:
    """One GeoPackage layer per kept class; features added one at a time in large transactions."""

    def __init__(self, path: str | os.PathLike, srs: osr.SpatialReference | None, kept: Sequence[ClassInfo],
                 metres: float):
        self._dataset = call_gdal(f"Could not create the GeoPackage '{path}'",
                                  ogr.GetDriverByName("GPKG").CreateDataSource, str(path))
        self._layers: dict[int, ogr.Layer] = {}
        self._names = {c.value: c.name for c in kept}
        self._metres2 = metres ** 2
        self.area_m2 = {c.value: 0.0 for c in kept}
        self.count = {c.value: 0 for c in kept}
        for info in kept:
            layer = self._dataset.CreateLayer(layer_name(info.name), srs=srs, geom_type=ogr.wkbPolygon,
                                              options=["GEOMETRY_NAME=geom", f"DESCRIPTION={info.name}"])
            for name, kind in (("class", ogr.OFTString), ("value", ogr.OFTInteger), ("area_m2", ogr.OFTReal)):
                layer.CreateField(ogr.FieldDefn(name, kind))
            self._layers[info.value] = layer
        self._pending = 0
        self._dataset.StartTransaction()

    def add(self, value: int, geometry: ogr.Geometry) -> None:
        layer = self._layers[value]
        area = geometry.GetArea() * self._metres2
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("class", self._names[value])
        feature.SetField("value", int(value))
        feature.SetField("area_m2", float(area))
        feature.SetGeometry(geometry)
        if layer.CreateFeature(feature) != 0:
            raise OSError(f"Writing a polygon failed ({gdal.GetLastErrorMsg() or 'disk full?'}).")
        self.area_m2[value] += area
        self.count[value] += 1
        self._pending += 1
        if self._pending >= FEATURES_PER_TRANSACTION:
            self._dataset.CommitTransaction()
            self._dataset.StartTransaction()
            self._pending = 0

    def close(self) -> None:
        self._dataset.CommitTransaction()
        self._dataset = None
        self._layers = {}
