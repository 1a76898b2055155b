"""The vectoriser's three passes (sieve, trace, write; see the package docstring) over one raster."""
from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from osgeo import gdal, ogr, osr

from ..errors import InputError, SegmentationCancelled, release_frames
from ..files import atomic_output
from ..limits import StreamLimits
from ..modelfile import ClassInfo
from ..raster import Grid, call_gdal, crs_units_in_metres, gdal_errors
from .options import VectorOptions, VectorResult, kept_classes, layer_name
from .rings import pixel_polygon, pixel_rings, ring_area
from .scratch import TracedRegions, scratch_raster
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
        traced = scratch_raster(source, work / "sieved.tif")
        sieve(source.GetRasterBand(1), traced.GetRasterBand(1), threshold,
              lambda f: report(10.0 * f, "Merging regions smaller than the minimum area"), cancelled, limits)
    band = traced.GetRasterBand(1)
    report(10.0, "Tracing polygons")
    fill_px = options.fill_holes / pixel_area_m2
    store = TracedRegions(work, grid, fill_px, limits)
    split_rows = trace_regions(band, {c.value for c in kept}, store.add, options.max_vertices, limits.band_pixels,
                               lambda f: report(10.0 + 45.0 * f, "Tracing polygons"), cancelled)
    regions, holes = store.finish()
    report(55.0, "Writing polygons")
    writer = Writer(vector_path, srs, kept, metres)
    corners = CornerClasses(band, split_rows)
    squared = {c.value for c in kept if options.square_buildings and c.name in SQUARED_CLASSES}
    total = max(regions.GetFeatureCount(), 1)
    collapsed = 0
    for count, feature in enumerate(regions, 1):
        if count % 500 == 0:
            if cancelled():
                raise SegmentationCancelled()
            report(55.0 + 45.0 * count / total, "Writing polygons")
            drop_cached(band, *([holes.band] if holes is not None else []))
        value = feature.GetField(0)
        geometry = feature.GetGeometryRef()
        rings = pixel_rings(geometry)
        areas = [abs(ring_area(r)) for r in rings]
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


def _polygon(rings: Sequence[np.ndarray], grid: Grid) -> ogr.Geometry:
    """Pixel-coordinate rings -> an OGR polygon in map coordinates."""
    return pixel_polygon([np.column_stack([grid.x0 + ring[:, 0] * grid.resolution,
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
