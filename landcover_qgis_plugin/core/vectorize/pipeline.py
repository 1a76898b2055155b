"""The vectoriser's three passes (sieve, trace, write; see the package docstring) over one raster."""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from osgeo import gdal, ogr

from ..errors import Cancelled, InputError
from ..files import atomic_output, temporary_folder
from ..gdalio import WriteCheck, call_gdal, close_dataset, gdal_errors, let_go
from ..grid import Grid
from ..ground import GroundMeasure, spatial_reference
from ..limits import StreamLimits
from ..modelfile import ClassInfo
from .options import VectorOptions, VectorResult, kept_classes, layer_name
from .rings import pixel_polygon, pixel_rings, polygon_rings, ring_area
from .scratch import HoleMask, TracedRegions, scratch_raster
from .sieve import sieve
from .simplify import CornerClasses, simplify_rings
from .squaring import SQUARED_CLASSES, square_polygon
from .streaming import drop_cached
from .trace import trace_regions
from .writer import Writer


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
    """Vectorise `class_raster` into a GeoPackage at `vector_path` (created; see the package docstring).

    `keep`: class names to write (default: every class but background). `limits`: the band size and
    hole batch of the streamed passes (memory against overhead; the output does not depend on them).
    """
    kept = kept_classes(classes, keep)
    # The passes close their scratch files on leaving, error or not, before the folder goes.
    with temporary_folder(vector_path) as work, \
            _Passes(class_raster, Path(work), limits) as passes:
        return passes.run(vector_path, kept, options, progress or (lambda percent, message: None),
                          is_cancelled or (lambda: False))


class _Passes:
    """The three passes over one class raster. This object owns every GDAL dataset of the run (the
    input, the sieved scratch raster, the traced regions, the output) and closes them all."""

    def __init__(self, class_raster: str | os.PathLike, work: Path, limits: StreamLimits):
        self.class_raster, self.work, self.limits = str(class_raster), work, limits
        self.source = call_gdal(f"'{class_raster}' is not a raster GDAL can read", gdal.Open, self.class_raster)
        self.sieved: gdal.Dataset | None = None
        self.store: TracedRegions | None = None
        self.writer: Writer | None = None

    def __enter__(self) -> "_Passes":
        return self

    def __exit__(self, kind, error, trace) -> None:
        let_go(trace)
        for part in (self.writer, self.store):
            if part is not None:
                part.release()
        with gdal_errors():   # the input is read, the sieved raster scratch: nothing to report on closing
            for dataset in (self.sieved, self.source):
                if dataset is not None:
                    close_dataset(dataset)
            self.writer = self.store = self.sieved = self.source = None

    def run(self, vector_path: str | os.PathLike, kept: list[ClassInfo], options: VectorOptions,
            report: Callable[[float, str], None], cancelled: Callable[[], bool]) -> VectorResult:
        gt = self.source.GetGeoTransform()
        if gt[2] or gt[4] or gt[5] >= 0:
            raise InputError(f"'{self.class_raster}' is not on a north-up grid; warp it first (gdalwarp).")
        grid = Grid.of(self.source)
        srs, measure, pixel_area_m2 = raster_ground(self.source)
        threshold = _threshold_px(options.min_area, pixel_area_m2)
        band = self.source.GetRasterBand(1)
        if threshold >= 2:
            report(0.0, "Merging regions smaller than the minimum area")
            check = WriteCheck(self.work / "sieved.tif", "its temporary sieved raster")
            self.sieved = scratch_raster(self.source, check)
            sieve(band, self.sieved.GetRasterBand(1), threshold,
                  lambda f: report(10.0 * f, "Merging regions smaller than the minimum area"), cancelled,
                  self.limits, check)
            band = self.sieved.GetRasterBand(1)
        report(10.0, "Tracing polygons")
        fill_px = options.fill_holes / pixel_area_m2
        self.store = TracedRegions(self.work, grid, fill_px, self.limits)
        split_rows = trace_regions(band, {c.value for c in kept}, self.store.add, options.max_vertices,
                                   self.limits.band_pixels, lambda f: report(10.0 + 45.0 * f, "Tracing polygons"),
                                   cancelled)
        regions, holes = self.store.finish()
        report(55.0, "Writing polygons")
        self.writer = Writer(vector_path, srs, kept, measure)
        collapsed = write_regions(regions, [holes] if holes is not None else [], band, split_rows, kept, options,
                                  self.writer, grid, fill_px, lambda f: report(55.0 + 45.0 * f, "Writing polygons"),
                                  cancelled)
        self.writer.close()
        report(100.0, "Polygons written")
        return VectorResult(layers={c.name: layer_name(c.name) for c in kept},
                            area_ha={c.name: self.writer.area_m2[c.value] / 10_000.0 for c in kept},
                            polygons={c.name: self.writer.count[c.value] for c in kept},
                            collapsed=collapsed)


def write_regions(regions: ogr.Layer, holes: Sequence[HoleMask], band: gdal.Band, split_rows: set[int],
                  kept: Sequence[ClassInfo], options: VectorOptions, writer: Writer, grid: Grid, fill_px: float,
                  report: Callable[[float], None], cancelled: Callable[[], bool]) -> int:
    """The write pass over traced `regions` (pixel coordinates) of the sieved `band`: small holes filled
    (and what lies in a hole being filled, per any of `holes`, dropped), simplified, squared, written.
    Returns the slivers simplification closed over."""
    corners = CornerClasses(band, split_rows)
    squared = {c.value for c in kept if options.square_buildings and c.name in SQUARED_CLASSES}
    total = max(regions.GetFeatureCount(), 1)
    collapsed = 0
    for count, feature in enumerate(regions, 1):
        if count % 500 == 0:
            if cancelled():
                raise Cancelled()
            report(count / total)
            drop_cached(band, *(mask.band for mask in holes))
        value = feature.GetField(0)
        geometry = feature.GetGeometryRef()
        rings = pixel_rings(geometry)
        areas = [abs(ring_area(r)) for r in rings]
        if areas[0] - sum(areas[1:]) < fill_px and any(mask.covers(geometry) for mask in holes):
            continue
        rings = [rings[0]] + [r for r, area in zip(rings[1:], areas[1:]) if area >= fill_px]
        if options.simplify > 0:
            rings = simplify_rings(rings, corners, options.simplify)
            if rings is None:
                collapsed += 1
                continue
        for part in _valid_parts(pixel_polygon(rings)):   # in pixels: square on the ground
            part = square_polygon(part, 1.0) if value in squared else part
            writer.add(value, _polygon(polygon_rings(part), grid))
    report(1.0)
    return collapsed


def raster_ground(dataset: gdal.Dataset) -> tuple[object, GroundMeasure, float]:
    """The raster's CRS, its ground measure and the area of a pixel at its centre (the thresholds')."""
    grid = Grid.of(dataset)
    crs_wkt = dataset.GetProjection()
    srs = spatial_reference(crs_wkt) if crs_wkt else None
    measure = GroundMeasure(srs, grid.centre())
    x, y = grid.centre()
    return srs, measure, measure.rectangle_area_m2(x, y, x + grid.dx, y + grid.dy)


def sieve_threshold(dataset: gdal.Dataset, min_area_m2: float) -> int:
    """The sieve's size in pixels for this class raster: regions under it merge (none when under 2)."""
    return _threshold_px(min_area_m2, raster_ground(dataset)[2])


def _threshold_px(min_area_m2: float, pixel_area_m2: float) -> int:
    return int(math.ceil(min_area_m2 / pixel_area_m2 - 1e-9))


def _polygon(rings: Sequence[np.ndarray], grid: Grid) -> ogr.Geometry:
    """Pixel-coordinate rings -> an OGR polygon in map coordinates."""
    return pixel_polygon([np.column_stack([grid.x0 + ring[:, 0] * grid.dx,
                                           grid.y0 - ring[:, 1] * grid.dy]) for ring in rings])


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
