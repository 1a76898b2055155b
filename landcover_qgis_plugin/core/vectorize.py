"""Class raster -> one polygon layer per class in one GeoPackage, with no gaps between classes.

Decisions (quoted in the README):

* **Streaming.** The raster is read in bands of whole rows (`StreamLimits.band_pixels` pixels each,
  at least one row), so memory does not grow with the raster: rasters far larger than memory work, and time
  grows linearly. Blocks GDAL cached for a band are released once the band is done. One polygon
  is as big as its region, and a road network or forest can span a whole mosaic, so a region whose
  traced outline passes `max_vertices` (default a million) is split along a band's cut line into
  several polygons of its class (as ArcGIS' "maximum vertices per polygon" does); the rows where
  that happened keep all their vertices through simplification, so the parts still fit together.
  Neither of GDAL's own tools runs on the whole raster: its polygonize (3.6, as in Debian 12 and
  QGIS 3.22) holds every polygon until it ends (the 64 km² benchmark at 50 cm peaked at 1.8 GB
  and took 275 s to vectorise) and its sieve keeps some 24 bytes per region fragment. Three
  passes, each writing a scratch file beside the output:
  1. *Sieve* (below) into a scratch GeoTIFF.
  2. *Trace*: GDAL's polygonize of each band on its own, in exact integer pixel coordinates.
     Polygons that do not reach the band's cut lines are final and go straight to a scratch
     GeoPackage. Those that do are held and matched with the pieces of the next band that
     continue them (same class on both sides of a stretch of the cut); once none of a region's
     pieces reaches the next cut, they are joined (`_joined`: edges cancelled along the cuts,
     the rest relinked, exact on integers) and written. So only the regions crossing the
     current cut are in memory, and each comes out as the very polygon, ring for ring, that one
     pass over the whole raster traces (the tests compare the two), unless it is split.
  3. *Write*: each traced polygon is cleaned (holes, simplification, squaring) and written.
* **Polygons** come from GDAL's polygonize of the class raster (4-connected), so neighbouring
  classes share their edges exactly; nodata pixels belong to no polygon.
* **Minimum area** (default `DEFAULT_MIN_AREA_M2` = 2 m², every class): regions smaller than it are
  merged into their largest neighbour before tracing, so specks disappear without leaving holes or
  gaps, and the coverage stays complete. The rule is GDAL's sieve filter's, pixel for pixel (the
  tests compare them): 4-connected regions, the largest neighbour by pixel count, ties going to
  the neighbour met first in row order, and a region whose largest neighbour is itself too small
  taking that neighbour's choice (unchanged when the chain loops). It is streamed like tracing:
  regions are labelled band by band and joined across cuts, and a small region is decided once
  the sizes its choice depends on are final, normally within its band. One lying between regions
  that both continue below waits, with its few pixels, and they are rewritten when it is decided.
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

import itertools
import math
import os
import re
import struct
import tempfile
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
from osgeo import gdal, ogr, osr
from scipy import ndimage, sparse
from scipy.sparse.csgraph import connected_components
from shapely import affinity, wkb
from shapely.geometry import Polygon

from .files import atomic_output
from .limits import StreamLimits
from .modelfile import BACKGROUND, ClassInfo
from .errors import InputError, SegmentationCancelled, release_frames
from .raster import Grid, call_gdal, crs_units_in_metres, gdal_errors

DEFAULT_SIMPLIFY_PX = 1.0
DEFAULT_MIN_AREA_M2 = 2.0
DEFAULT_FILL_HOLES_M2 = 4.0
DEFAULT_MAX_VERTICES = 1_000_000
SQUARED_CLASSES = ("building",)
SQUARE_MIN_EDGE_PX = 3.0  # squaring treats shorter edge runs as noise
CORNER_BLOCK = 512
LATTICE_CHUNK = 262_144  # pixel corners of a ring examined at a time
OUTSIDE = -1  # corner lookups: beyond the raster or nodata
FEATURES_PER_TRANSACTION = 20_000
UNDECIDED, UNCHANGED = -2, -1  # sieve outcomes besides the value a region takes


@dataclass(frozen=True)
class VectorOptions:
    simplify: float = DEFAULT_SIMPLIFY_PX     # tolerance in pixels; 0 keeps the pixel outlines
    min_area: float = DEFAULT_MIN_AREA_M2     # m²; smaller regions merge into their largest neighbour
    fill_holes: float = DEFAULT_FILL_HOLES_M2  # m²; smaller holes are filled
    square_buildings: bool = False
    max_vertices: int = DEFAULT_MAX_VERTICES  # traced vertices before a region is split; 0: never

    def __post_init__(self) -> None:
        for name in ("simplify", "min_area", "fill_holes"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a number >= 0, got {value!r}.")
        if not (isinstance(self.max_vertices, int) and self.max_vertices >= 0):
            raise ValueError(f"max_vertices must be a whole number >= 0, got {self.max_vertices!r}.")


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
              is_cancelled: Callable[[], bool] | None = None,
              limits: StreamLimits = StreamLimits()) -> VectorResult:
    """Vectorise a class raster into a new GeoPackage, written atomically."""
    with atomic_output(vector_path, overwrite) as tmp:
        return write_vectors(class_raster, tmp, classes, keep, options, progress, is_cancelled, limits)


def write_vectors(class_raster: str | os.PathLike, vector_path: str | os.PathLike,
                  classes: Sequence[ClassInfo], keep: Sequence[str] | None = None,
                  options: VectorOptions = VectorOptions(),
                  progress: Callable[[float, str], None] | None = None,
                  is_cancelled: Callable[[], bool] | None = None,
                  limits: StreamLimits = StreamLimits()) -> VectorResult:
    """Vectorise `class_raster` into a GeoPackage at `vector_path` (created; see the module docstring).

    `keep`: class names to write (default: every class but background). `limits`: the band size and
    hole batch of the streamed passes (memory against overhead; the output does not depend on them).
    """
    kept = kept_classes(classes, keep)
    folder = Path(vector_path).parent
    with tempfile.TemporaryDirectory(prefix=".landcover-", dir=folder if str(folder) else ".") as work:
        try:
            return _write_vectors(class_raster, vector_path, kept, options, limits, Path(work),
                                  progress or (lambda percent, message: None), is_cancelled or (lambda: False))
        except BaseException as error:
            release_frames(error)  # GDAL closes its scratch files before the folder goes
            raise


def _write_vectors(class_raster: str | os.PathLike, vector_path: str | os.PathLike, kept: list[ClassInfo],
                   options: VectorOptions, limits: StreamLimits, work: Path, report: Callable[[float, str], None],
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
        traced = _scratch_raster(source, work / "sieved.tif")
        sieve(source.GetRasterBand(1), traced.GetRasterBand(1), threshold,
              lambda f: report(10.0 * f, "Merging regions smaller than the minimum area"), cancelled, limits)
    band = traced.GetRasterBand(1)
    report(10.0, "Tracing polygons")
    fill_px = options.fill_holes / pixel_area_m2
    store = _TracedRegions(work, grid, fill_px, limits)
    split_rows = _trace(band, {c.value for c in kept}, store.add, options.max_vertices, limits.band_pixels,
                        lambda f: report(10.0 + 45.0 * f, "Tracing polygons"), cancelled)
    regions, holes = store.finish()
    report(55.0, "Writing polygons")
    writer = _Writer(vector_path, srs, kept, metres)
    corners = _CornerClasses(band, split_rows)
    squared = {c.value for c in kept if options.square_buildings and c.name in SQUARED_CLASSES}
    total = max(regions.GetFeatureCount(), 1)
    collapsed = 0
    for count, feature in enumerate(regions, 1):
        if count % 500 == 0:
            if cancelled():
                raise SegmentationCancelled()
            report(55.0 + 45.0 * count / total, "Writing polygons")
            _drop_cached(band, *([holes.band] if holes is not None else []))
        value = feature.GetField(0)
        geometry = feature.GetGeometryRef()
        rings = _pixel_rings(geometry)
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


def _bands(width: int, height: int, band_pixels: int) -> list[tuple[int, int]]:
    """Row ranges of the streamed passes: `band_pixels` pixels each, whole rows, at least one."""
    rows = max(1, band_pixels // max(width, 1))
    return [(top, min(top + rows, height)) for top in range(0, height, rows)]


def _scratch_raster(source: gdal.Dataset, path: Path) -> gdal.Dataset:
    """An empty copy of `source`'s grid, CRS, type and nodata."""
    band = source.GetRasterBand(1)
    target = call_gdal(f"Could not create the temporary file '{path}'", gdal.GetDriverByName("GTiff").Create,
                       str(path), source.RasterXSize, source.RasterYSize, 1, band.DataType,
                       ["TILED=YES", "COMPRESS=DEFLATE", "BIGTIFF=IF_SAFER"])
    target.SetGeoTransform(source.GetGeoTransform())
    target.SetProjection(source.GetProjection())
    nodata = band.GetNoDataValue()
    if nodata is not None:
        target.GetRasterBand(1).SetNoDataValue(nodata)
    return target


def sieve(source: gdal.Band, target: gdal.Band, threshold: int,
          progress: Callable[[float], None] | None = None,
          is_cancelled: Callable[[], bool] | None = None, limits: StreamLimits = StreamLimits()) -> None:
    """Write `source` to `target` (same size) with every region smaller than `threshold` pixels merged
    into its largest neighbour: GDAL's SieveFilter(source, its mask, target, threshold, 4), streamed
    band by band (`limits.band_pixels` each) in bounded memory (see the module docstring)."""
    width, height = source.XSize, source.YSize
    mask = source.GetMaskBand()
    state = _SieveState(width, threshold)
    bands = _bands(width, height, limits.band_pixels)
    for index, (top, bottom) in enumerate(bands):
        if is_cancelled is not None and is_cancelled():
            raise SegmentationCancelled()
        values = source.ReadAsArray(0, top, width, bottom - top)
        valid = mask.ReadAsArray(0, top, width, bottom - top) != 0
        for rows, cols, value in state.add_band(values, valid, top, last=bottom == height):
            _rewrite_pixels(target, rows, cols, value)
        target.WriteArray(values, 0, top)
        _drop_cached(source, target)
        if progress is not None:
            progress((index + 1) / len(bands))


def _drop_cached(*bands: gdal.Band) -> None:
    """Write and release the blocks GDAL cached for these bands and their masks: the streamed
    passes never come back to most of them, and kept they would fill GDAL's block cache up to
    GDAL_CACHEMAX, so memory would grow with the raster up to that cap."""
    for band in bands:
        band.FlushCache()
        band.GetMaskBand().FlushCache()


def _rewrite_pixels(band: gdal.Band, rows: np.ndarray, cols: np.ndarray, value: int) -> None:
    r0, c0 = int(rows.min()), int(cols.min())
    window = band.ReadAsArray(c0, r0, int(cols.max()) - c0 + 1, int(rows.max()) - r0 + 1)
    window[rows - r0, cols - c0] = value
    band.WriteArray(window, c0, r0)


def _label_regions(values: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """4-connected regions of equal valid values: labels (0 for nodata, else 1..n) and each one's value."""
    labels = np.zeros(values.shape, np.int32)
    kinds, count = [], 0
    present = values[valid]
    if values.dtype.kind == "u" and values.dtype.itemsize <= 2:
        present = np.flatnonzero(np.bincount(present.ravel()))
    for value in np.unique(present):
        found, regions = ndimage.label(valid & (values == value), output=np.int32)
        np.add(found, count, out=labels, where=found > 0)
        kinds.append(np.full(regions, value, np.int64))
        count += regions
    return labels, np.concatenate(kinds) if kinds else np.zeros(0, np.int64)


class _SieveState:
    """What the streamed sieve carries from one band to the next: the regions of the last row read
    (still open), the small regions not decided yet with their pixels and neighbours, and the
    regions those neighbours are. Each pair of neighbours keeps the index of the first pixel pair
    GDAL's sieve compares them at (2 * pixel index, + 1 for the left neighbour, which it compares
    after the one above), so size ties break as in GDAL."""

    def __init__(self, width: int, threshold: int):
        self.width = width
        self.threshold = threshold
        self.next_id = 0
        self.ids = np.zeros(0, np.int64)          # sorted ids of the regions carried
        self.size = np.zeros(0, np.int64)         # their pixel counts so far (final once closed)
        self.value = np.zeros(0, np.int64)
        self.result = np.zeros(0, np.int64)       # UNDECIDED, UNCHANGED or the value taken
        self.pixels: dict[int, tuple[np.ndarray, np.ndarray]] = {}   # small regions: rows, cols
        self.pairs = np.zeros((0, 3), np.int64)   # small region id, neighbour id, first comparison
        self.last_ids = np.full(width, -1, np.int64)
        self.last_values = np.zeros(width, np.int64)

    def add_band(self, values: np.ndarray, valid: np.ndarray, top: int,
                 last: bool) -> list[tuple[np.ndarray, np.ndarray, int]]:
        """Sieve `values` (rows from `top`) in place; returns the rewrites of earlier rows' pixels."""
        labels, label_values = _label_regions(values, valid)
        carried = len(self.ids)
        count = len(label_values)
        # Nodes: the carried regions, then this band's regions; joined where they continue.
        first = labels[0]
        continues = (first > 0) & (self.last_ids >= 0) & (self.last_values == values[0])
        above = np.searchsorted(self.ids, self.last_ids[continues])
        below = carried + first[continues] - 1
        nodes = carried + count
        links = sparse.coo_matrix((np.ones(len(above), np.int8), (above, below)), shape=(nodes, nodes))
        groups, node_region = connected_components(links, directed=False)
        node_ids = np.concatenate([self.ids, self.next_id + np.arange(count)])
        self.next_id += count
        _, first_node = np.unique(node_region, return_index=True)
        region_id = node_ids[first_node]   # ids grow with the node index: a carried id when there is one
        size = np.bincount(node_region, np.concatenate([self.size, np.bincount(labels.ravel(),
                                                                              minlength=count + 1)[1:]]),
                           minlength=groups).astype(np.int64)
        value = np.empty(groups, np.int64)
        value[node_region] = np.concatenate([self.value, label_values])
        result = np.full(groups, UNDECIDED, np.int64)
        result[node_region[:carried]] = self.result
        label_region = np.concatenate([[-1], node_region[carried:]])   # label -> region, nodata -> -1
        is_open = np.zeros(groups, bool)
        if not last:
            is_open[label_region[labels[-1][labels[-1] > 0]]] = True
        small = size < self.threshold
        pairs = self._pairs(labels, label_region, small, node_region, top, continues)
        self._decide(pairs, size, value, result, is_open, small)
        # Apply: this band's pixels in place, earlier rows' pixels as rewrites.
        changed = np.where((result >= 0) & (result != value), result, -1)
        rewrites = []
        for node in np.flatnonzero(changed[node_region[:carried]] >= 0):
            if int(self.ids[node]) in self.pixels:
                rows, cols = self.pixels[int(self.ids[node])]
                rewrites.append((rows, cols, int(changed[node_region[node]])))
        last_row = values[-1].astype(np.int64)   # before sieving: regions continue by their own values
        label_change = np.concatenate([[-1], changed[node_region[carried:]]])
        if (label_change >= 0).any():
            np.copyto(values, label_change.astype(values.dtype)[labels], where=(label_change >= 0)[labels])
        self._carry(labels, label_region, node_region, region_id, size, value, result, is_open, small,
                    pairs, last_row, top)
        return rewrites

    def _pairs(self, labels: np.ndarray, label_region: np.ndarray, small: np.ndarray,
               node_region: np.ndarray, top: int, continues: np.ndarray) -> np.ndarray:
        """(small region, neighbour, first comparison) for every small region: carried and new ones."""
        found = [np.column_stack([node_region[np.searchsorted(self.ids, self.pairs[:, 0])],
                                  node_region[np.searchsorted(self.ids, self.pairs[:, 1])], self.pairs[:, 2]])]
        width = self.width
        first = labels[0]
        across = np.flatnonzero((first > 0) & (self.last_ids >= 0) & ~continues)
        sides = [(node_region[np.searchsorted(self.ids, self.last_ids[across])], label_region[first[across]],
                  2 * (top * width + across))]
        for a, b, vertical in ((labels[:-1], labels[1:], True), (labels[:, :-1], labels[:, 1:], False)):
            rows, cols = np.nonzero((a != b) & (a > 0) & (b > 0))
            region_a, region_b = label_region[a[rows, cols]], label_region[b[rows, cols]]
            involved = small[region_a] | small[region_b]
            rows, cols = rows[involved], cols[involved]
            key = (2 * ((top + rows + 1) * width + cols) if vertical
                   else 2 * ((top + rows) * width + cols + 1) + 1)
            sides.append((region_a[involved], region_b[involved], key))
        for a, b, key in sides:
            found.append(np.column_stack([a, b, key])[small[a]])
            found.append(np.column_stack([b, a, key])[small[b]])
        pairs = np.concatenate(found)
        pairs = pairs[small[pairs[:, 0]]]
        order = np.lexsort((pairs[:, 2], pairs[:, 1], pairs[:, 0]))
        pairs = pairs[order]
        distinct = np.ones(len(pairs), bool)
        distinct[1:] = np.any(pairs[1:, :2] != pairs[:-1, :2], axis=1)
        return pairs[distinct]

    def _decide(self, pairs: np.ndarray, size: np.ndarray, value: np.ndarray, result: np.ndarray,
                is_open: np.ndarray, small: np.ndarray) -> None:
        """Fill `result` for the closed small regions whose choice no open region can change."""
        regions = len(size)
        candidate = small & ~is_open & (result == UNDECIDED)
        has_neighbour = np.zeros(regions, bool)
        has_neighbour[pairs[:, 0]] = True
        result[candidate & ~has_neighbour] = UNCHANGED
        ranked = pairs[np.lexsort((pairs[:, 2], -size[pairs[:, 1]], pairs[:, 0]))]
        leads = np.ones(len(ranked), bool)
        leads[1:] = ranked[1:, 0] != ranked[:-1, 0]
        largest = np.full(regions, -1, np.int64)
        largest[ranked[leads, 0]] = ranked[leads, 1]
        open_neighbours = np.bincount(pairs[:, 0], is_open[pairs[:, 1]], minlength=regions)
        # Open regions only grow: the choice is final when none is a neighbour, or when the only
        # open neighbour already leads.
        known = candidate & has_neighbour & ((open_neighbours == 0) |
                                             ((open_neighbours == 1) & is_open[largest]))
        into_large = known & (size[largest] >= self.threshold)
        result[into_large] = value[largest[into_large]]
        follows = {int(r): int(largest[r]) for r in np.flatnonzero(known & ~into_large)}
        for start in follows:
            chain, seen, current = [], set(), start
            while result[current] == UNDECIDED and current in follows and current not in seen:
                chain.append(current)
                seen.add(current)
                current = follows[current]
            if result[current] != UNDECIDED:
                result[chain] = result[current]
            elif current in seen:
                result[chain] = UNCHANGED   # the chain loops among small regions, as GDAL leaves them

    def _carry(self, labels: np.ndarray, label_region: np.ndarray, node_region: np.ndarray,
               region_id: np.ndarray, size: np.ndarray, value: np.ndarray, result: np.ndarray,
               is_open: np.ndarray, small: np.ndarray, pairs: np.ndarray, last_row: np.ndarray,
               top: int) -> None:
        """Keep the open regions, the small ones still waiting, and the neighbours those depend on."""
        waiting = small & (result == UNDECIDED)
        pairs = pairs[waiting[pairs[:, 0]]]
        keep = is_open | waiting
        keep[pairs[:, 1]] = True
        carried = len(self.ids)
        pixels: dict[int, list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)
        for node in np.flatnonzero(waiting[node_region[:carried]]):
            old = int(self.ids[node])
            if old in self.pixels:
                pixels[int(region_id[node_region[node]])].append(self.pixels[old])
        rows, cols = np.nonzero(np.concatenate([[False], waiting[label_region[1:]]])[labels])
        if len(rows):
            owner = region_id[label_region[labels[rows, cols]]]
            order = np.argsort(owner, kind="stable")
            owner, rows, cols = owner[order], rows[order] + top, cols[order]
            starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
            for start, end in zip(starts, np.r_[starts[1:], len(owner)]):
                pixels[int(owner[start])].append((rows[start:end], cols[start:end]))
        self.pixels = {region: tuple(np.concatenate(parts) for parts in zip(*found))
                       for region, found in pixels.items()}
        kept = np.flatnonzero(keep)
        order = np.argsort(region_id[kept])
        kept = kept[order]
        self.ids, self.size, self.value, self.result = region_id[kept], size[kept], value[kept], result[kept]
        self.pairs = np.column_stack([region_id[pairs[:, 0]], region_id[pairs[:, 1]], pairs[:, 2]])
        self.last_ids = np.concatenate([[-1], region_id[label_region[1:]]])[labels[-1]]
        self.last_values = last_row


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


def _trace(band: gdal.Band, kept: set[int], emit: Callable[[int, ogr.Geometry], None], max_vertices: int,
           band_pixels: int, report: Callable[[float], None], cancelled: Callable[[], bool]) -> set[int]:
    """Trace the polygons of the `kept` values band by band and `emit` each whole one (see the
    module docstring); in pixel coordinates (x = column, y = row).

    A region whose pieces held so far exceed `max_vertices` (0: no limit) is emitted at the cut it
    reaches and continues below as a new polygon: its memory, and the largest polygon written, stay
    bounded (a road network or forest can span a whole mosaic). Returns the rows where that
    happened; simplification keeps every vertex on them, so the parts still fit together.
    """
    width, height = band.XSize, band.YSize
    held: dict[int, _Piece] = {}
    parent: dict[int, int] = {}   # union-find over held pieces

    def root(piece: int) -> int:
        while parent[piece] != piece:
            parent[piece] = parent[parent[piece]]
            piece = parent[piece]
        return piece

    numbers = itertools.count()
    split_rows: set[int] = set()
    above = np.full(width, -1, np.int64)   # held piece owning each pixel just above the current cut
    bands = _bands(width, height, band_pixels)
    for index, (top, bottom) in enumerate(bands):
        if cancelled():
            raise SegmentationCancelled()
        below = np.full(width, -1, np.int64)
        next_above = np.full(width, -1, np.int64)
        for value, geometry in _polygonize_rows(band, top, bottom, cancelled):
            if value not in kept:
                continue
            _, _, min_y, max_y = geometry.GetEnvelope()
            reaches_cut, reaches_next_cut = top > 0 and min_y == top, bottom < height and max_y == bottom
            if not (reaches_cut or reaches_next_cut):
                emit(value, geometry)
                continue
            piece = next(numbers)
            held[piece] = _Piece(value, geometry, (top,) * reaches_cut + (bottom,) * reaches_next_cut,
                                 reaches_next_cut, sum(geometry.GetGeometryRef(i).GetPointCount()
                                                       for i in range(geometry.GetGeometryCount())))
            parent[piece] = piece
            exterior = _exterior(geometry)   # holes lie within the band
            if reaches_cut:
                _mark_cut(below, exterior, top, piece)
            if reaches_next_cut:
                _mark_cut(next_above, exterior, bottom, piece)
        joined = (above >= 0) & (below >= 0)
        for upper, lower in set(zip(above[joined].tolist(), below[joined].tolist())):
            if held[upper].value == held[lower].value:
                parent[root(upper)] = root(lower)
        groups: dict[int, list[int]] = defaultdict(list)
        for piece in held:
            groups[root(piece)].append(piece)
        for members in groups.values():
            if any(held[p].reaches_next_cut and bottom in held[p].cuts for p in members):
                if not 0 < max_vertices < sum(held[p].vertices for p in members):
                    continue
                split_rows.add(bottom)
                next_above[np.isin(next_above, members)] = -1   # what continues below starts anew
            pieces = [held.pop(piece) for piece in members]
            for piece in members:
                del parent[piece]
            emit(pieces[0].value, _joined(pieces))
        above = next_above
        _drop_cached(band)
        report((index + 1) / len(bands))
    return split_rows


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
        raise SegmentationCancelled()
    if error:
        raise OSError(f"Tracing polygons failed ({gdal_errors.last()}).")
    for feature in layer:
        yield feature.GetField(0), feature.GetGeometryRef().Clone()


def _exterior(geometry: ogr.Geometry) -> np.ndarray:
    """A traced polygon's exterior ring as in `_pixel_rings`."""
    exterior = ogr.Geometry(ogr.wkbPolygon)
    exterior.AddGeometry(geometry.GetGeometryRef(0))
    return _pixel_rings(exterior)[0]


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
        if _ring_area(ring) < 0:
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
    rings.sort(key=_ring_area, reverse=True)   # the exterior (the one ring with the region inside) first
    joined = _pixel_polygon(rings)
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
        rings.extend(_drop_collinear(loop) for loop in _simple_loops(np.concatenate([links[i][:-1] for i in chain])))
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


class _TracedRegions:
    """The traced polygons in a scratch GeoPackage (pixel coordinates), and the holes smaller than
    `fill_px` pixels they enclose, rasterised batch by batch (as `limits` says) into a scratch mask
    as they come."""

    def __init__(self, work: Path, grid: Grid, fill_px: float, limits: StreamLimits):
        self._work, self._grid, self._fill_px, self._limits = work, grid, fill_px, limits
        path = work / "regions.gpkg"
        self._dataset = call_gdal(f"Could not create the temporary file '{path}'",
                                  ogr.GetDriverByName("GPKG").CreateDataSource, str(path))
        self._layer = self._dataset.CreateLayer("regions", geom_type=ogr.wkbPolygon, options=["SPATIAL_INDEX=NO"])
        self._layer.CreateField(ogr.FieldDefn("value", ogr.OFTInteger))
        self._pending = 0
        self._dataset.StartTransaction()
        self._batch_dataset = ogr.GetDriverByName("Memory").CreateDataSource("holes")
        self._batch = self._batch_dataset.CreateLayer("holes", geom_type=ogr.wkbPolygon)
        self._mask: gdal.Dataset | None = None

    def add(self, value: int, geometry: ogr.Geometry) -> None:
        feature = ogr.Feature(self._layer.GetLayerDefn())
        feature.SetField(0, int(value))
        feature.SetGeometry(geometry)
        if self._layer.CreateFeature(feature) != 0:
            raise OSError(f"Writing a temporary polygon failed ({gdal.GetLastErrorMsg() or 'disk full?'}).")
        self._pending += 1
        if self._pending >= FEATURES_PER_TRANSACTION:
            self._dataset.CommitTransaction()
            self._dataset.StartTransaction()
            self._pending = 0
        if self._fill_px > 0:
            for index in range(1, geometry.GetGeometryCount()):
                ring = geometry.GetGeometryRef(index)
                hole = ogr.Geometry(ogr.wkbPolygon)
                hole.AddGeometry(ring)
                if hole.GetArea() < self._fill_px:
                    out = ogr.Feature(self._batch.GetLayerDefn())
                    out.SetGeometry(hole)
                    self._batch.CreateFeature(out)
            if self._batch.GetFeatureCount() >= self._limits.holes_per_batch:
                self._rasterise_holes()

    def _rasterise_holes(self) -> None:
        """Burn the batch into the mask a band's worth of rows at a time (GDAL's rasterize would scan
        the whole mask for every batch, holding as much of it as its cache allows)."""
        if self._mask is None:
            path = self._work / "holes.tif"
            self._mask = call_gdal(f"Could not create the temporary file '{path}'",
                                   gdal.GetDriverByName("GTiff").Create, str(path), self._grid.width,
                                   self._grid.height, 1, gdal.GDT_Byte,
                                   ["TILED=YES", "COMPRESS=DEFLATE", "SPARSE_OK=YES", "BIGTIFF=IF_SAFER"])
        mask = self._mask.GetRasterBand(1)
        _, _, first_row, last_row = (int(v) for v in self._batch.GetExtent())
        for top, bottom in _bands(self._grid.width, last_row - first_row, self._limits.band_pixels):
            top, bottom = first_row + top, first_row + bottom
            self._batch.SetSpatialFilterRect(0, top, self._grid.width, bottom)
            if not self._batch.GetFeatureCount():
                continue
            left, right, _, _ = (int(v) for v in self._batch.GetExtent())
            window = gdal.GetDriverByName("MEM").Create("", right - left, bottom - top, 1, gdal.GDT_Byte)
            window.SetGeoTransform((float(left), 1.0, 0.0, float(top), 0.0, 1.0))   # pixel coordinates
            with gdal_errors():
                error = gdal.RasterizeLayer(window, [1], self._batch, burn_values=[1])
            if error:
                raise OSError(f"Filling small holes failed ({gdal_errors.last()}).")
            burnt = mask.ReadAsArray(left, top, right - left, bottom - top) | window.ReadAsArray()
            mask.WriteArray(burnt, left, top)
            _drop_cached(mask)
        self._batch_dataset.DeleteLayer(0)
        self._batch = self._batch_dataset.CreateLayer("holes", geom_type=ogr.wkbPolygon)

    def finish(self) -> tuple[ogr.Layer, _HoleMask | None]:
        """The polygons to write, and where the holes being filled are (None: no hole to fill)."""
        self._dataset.CommitTransaction()
        if self._batch.GetFeatureCount():
            self._rasterise_holes()
        return self._layer, _HoleMask(self._mask) if self._mask is not None else None


class _HoleMask:
    """Pixels inside the holes being filled, read on demand from the scratch mask."""

    def __init__(self, dataset: gdal.Dataset):
        self._dataset = dataset
        self.band = dataset.GetRasterBand(1)

    def covers(self, geometry: ogr.Geometry) -> bool:
        point = geometry.PointOnSurface()
        col, row = int(math.floor(point.GetX())), int(math.floor(point.GetY()))
        return bool(self.band.ReadAsArray(col, row, 1, 1)[0, 0])


def _pixel_rings(geometry: ogr.Geometry) -> list[np.ndarray]:
    """A traced polygon's rings as closed (n, 2) integer pixel-corner coordinates (col, row)."""
    data = geometry.ExportToWkb(ogr.wkbNDR)   # byte order, type, ring count, then per ring: count, x y ...
    rings, offset = [], 9
    for _ in range(struct.unpack_from("<I", data, 5)[0]):
        count = struct.unpack_from("<I", data, offset)[0]
        xy = np.frombuffer(data, "<f8", 2 * count, offset + 4).reshape(count, 2)
        offset += 4 + 16 * count
        rings.append(np.rint(xy).astype(np.int64))
    return rings


def _ring_area(ring: np.ndarray) -> float:
    """Signed shoelace area of a closed ring."""
    x, y = ring[:, 0].astype(float), ring[:, 1].astype(float)
    return 0.5 * float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))


def _pixel_polygon(rings: Sequence[np.ndarray]) -> ogr.Geometry:
    """Closed rings -> an OGR polygon with these coordinates, built as WKB in one go."""
    chunks = [struct.pack("<BII", 1, ogr.wkbPolygon, len(rings))]
    for ring in rings:
        chunks.append(struct.pack("<I", len(ring)))
        chunks.append(np.ascontiguousarray(ring, "<f8").tobytes())
    return ogr.CreateGeometryFromWkb(b"".join(chunks))


def _polygon(rings: Sequence[np.ndarray], grid: Grid) -> ogr.Geometry:
    """Pixel-coordinate rings -> an OGR polygon in map coordinates."""
    return _pixel_polygon([np.column_stack([grid.x0 + ring[:, 0] * grid.resolution,
                                            grid.y0 - ring[:, 1] * grid.resolution]) for ring in rings])


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
