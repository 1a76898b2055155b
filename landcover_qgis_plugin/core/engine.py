"""Orthophoto -> class raster, probability raster and per-class polygons: the one inference engine.

The plugin, its Processing algorithm and `python -m trainer predict` all call `segment()`. It
never imports QGIS and never calls TensorFlow directly (the model runs through Keras, so any
Keras backend works). The raster is streamed: tiles are read, predicted in batches, blended and
written strip by strip, row by row (see tiling.py), so memory does not grow with the raster.
Every output is written to a temporary file beside its destination and moved into place only when
the whole run succeeded: a failure or a cancel leaves nothing half-written, and an existing
output is kept unless `overwrite` is set.
"""
from __future__ import annotations

import contextlib
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Collection

import numpy as np
from osgeo import ogr

from .errors import Cancelled, InputError, NoValidPixelsError, OutputError
from .files import atomic_output, check_writable, temporary_folder
from .gdalio import call_gdal
from .grid import pixel_bounds, reflect_indices
from .limits import StreamLimits
from .locks import locked_outputs
from .modelfile import ModelMetadata, read_metadata
from .options import SegmentationOptions
from .outputs import CLASS_NODATA, OutputRasters, StripWriter, atomic_raster, probabilities_to_percent
from .raster import AreaMask, RasterSource
from .runtime import Predictor
from .tiling import TileGrid, strips
from .vectorize import VectorOptions, kept_classes, write_vectors

__all__ = ["SegmentationOptions", "SegmentationResult", "segment"]

VECTOR_SUFFIXES = (".gpkg",)
RASTER_SUFFIXES = (".tif", ".tiff")
INFERENCE_SHARE = 90.0  # percent of the progress bar before vectorising
# Smaller rasters than one tile are mirrored out to the tile (tiling.py); below this there is too
# little of the scene for the model to recognise anything.
MIN_RASTER_PX = 8


@dataclass
class SegmentationResult:
    vector_path: str | None
    raster_path: str | None
    probabilities_path: str | None
    layers: dict[str, str]         # class name -> layer name in the GeoPackage
    area_ha: dict[str, float]      # class name -> true ground hectares classified as it (every class, pixels)
    device: str                    # the Keras device that ran the model, e.g. "cpu:0", "gpu:0"
    seconds: float
    tiles: int                     # tiles run through the model (each counted once, flips not counted)
    skipped_tiles: int             # tiles with no valid pixel in the area, never run
    crs_wkt: str                   # CRS of every output (the input's; UTM for a geographic input)
    pixel_size_m: float            # ground metres per output pixel at the area's centre
    vector_area_ha: dict[str, float] = field(default_factory=dict)  # class -> hectares of its polygons
    polygons: dict[str, int] = field(default_factory=dict)          # class -> number of polygons
    width: int = 0                 # output raster size in pixels
    height: int = 0
    timings: dict[str, float] = field(default_factory=dict)  # seconds: read, model, blend, write, vectorize
    reading: str = ""              # how the raster was read: its grid against the model's ground resolution
    notes: list[str] = field(default_factory=list)   # what the user should know (a dead run's lock taken over)


def segment(input_path: str, model_path: str, vector_path: str | None = None,
            raster_path: str | None = None, probabilities_path: str | None = None,
            options: SegmentationOptions = SegmentationOptions(),
            progress: Callable[[float, str], None] | None = None,
            is_cancelled: Callable[[], bool] | None = None,
            metadata: ModelMetadata | None = None,
            limits: StreamLimits = StreamLimits(),
            predictor: Predictor | None = None,
            scale_centre: tuple[float, float] | None = None,
            lock: bool = True) -> SegmentationResult:
    """Classify `input_path` with the model file and write the requested outputs.

    `progress(percent, stage)` hears every stage ("Opening the raster", "Classifying tile 3 of
    81", "Tracing polygons", ...). `metadata`, when the caller has already read the model file's,
    saves reading it again; `predictor`, one already loaded for this model and options (a worker
    classifying many blocks), loading the model again; `scale_centre`, where the ground resolution is
    measured (default: the area's centre), so that blocks of one run share its grid. `limits`: how
    much of the raster is held at a time (strip width for classifying, the rest for vectorising); the
    defaults suit every raster, smaller ones only cut the work finer. `lock`: hold the outputs' locks
    for the run (locks.py); False for a caller holding a lock over them already (a distributed run's
    blocks in its folder). Raises the errors of core.errors: InputError, ModelFileError, OutputError
    (OutputExistsError, OutputLockedError), Cancelled; anything else is a bug.
    """
    report = progress or (lambda percent, message: None)
    cancelled = is_cancelled or (lambda: False)
    options.check()
    outputs = [path for path in (vector_path, raster_path, probabilities_path) if path]
    check_outputs(input_path, vector_path, raster_path, probabilities_path, options.overwrite)
    with locked_outputs(outputs if lock else [], wait=options.wait, report=lambda message: report(0.0, message),
                        is_cancelled=cancelled) as held:
        if held.waited:   # the other run may have written them meanwhile
            check_outputs(input_path, vector_path, raster_path, probabilities_path, options.overwrite)
        result = _segment(input_path, model_path, vector_path, raster_path, probabilities_path, options, report,
                          cancelled, metadata, limits, predictor, scale_centre)
    result.notes = held.notes
    return result


def _segment(input_path: str, model_path: str, vector_path: str | None, raster_path: str | None,
             probabilities_path: str | None, options: SegmentationOptions, report: Callable[[float, str], None],
             cancelled: Callable[[], bool], metadata: ModelMetadata | None, limits: StreamLimits,
             predictor: Predictor | None, scale_centre: tuple[float, float] | None) -> SegmentationResult:
    started = time.perf_counter()
    vector_options = _vector_options(options)
    metadata = metadata or read_metadata(model_path)
    kept = kept_classes(metadata.classes, options.classes)
    requested = _requested_area(options)
    report(0.0, "Opening the raster")
    area = requested.GetEnvelope() if requested is not None else None
    with RasterSource(input_path, metadata.resolution_m, options.bands, metadata.bands, area, options.nodata,
                      options.collars, metadata.input_size // 2, limits.band_pixels, scale_centre,
                      lambda stage: report(0.0, stage), cancelled) as source:
        if min(source.width, source.height) < MIN_RASTER_PX:
            raise InputError(
                f"{source.label} is {source.width} x {source.height} px at the model's "
                f"{metadata.resolution_cm:g} cm/px; at least {MIN_RASTER_PX} x {MIN_RASTER_PX} px "
                f"({MIN_RASTER_PX * metadata.resolution_m:g} m x {MIN_RASTER_PX * metadata.resolution_m:g} m) "
                "are needed to classify anything. Use a larger raster or area.")
        window, mask = _area(source, requested, options.mask_wkt is not None)
        report(0.0, "Loading the model")
        predictor = predictor or Predictor(model_path, metadata, options)
        out_grid = source.grid.window(*window)
        with contextlib.ExitStack() as stack:
            class_path = (stack.enter_context(atomic_raster(raster_path, options.overwrite)) if raster_path
                          else None)
            if vector_path and not class_path:
                scratch = stack.enter_context(temporary_folder(vector_path))
                class_path = Path(scratch) / "classes.tif"
            probability_tmp = (stack.enter_context(atomic_raster(probabilities_path, options.overwrite))
                               if probabilities_path else None)
            vector_tmp = (stack.enter_context(atomic_output(vector_path, options.overwrite)) if vector_path
                          else None)
            share = INFERENCE_SHARE if vector_path else 100.0
            classifier = _Classifier(source, window, mask, predictor, metadata, options, limits.strip_width,
                                     lambda f, message: report(share * f, message), cancelled)
            # Closed on leaving the block, error or not: flushed before vectorising or moving.
            with OutputRasters(class_path, probability_tmp, out_grid, source.crs_wkt, metadata.classes) as rasters:
                classifier.run(rasters)
            timings = {**classifier.timings, "vectorize": 0.0}
            if not classifier.tiles:
                raise NoValidPixelsError(f"{source.label} has no valid pixels in the area to classify (all "
                                         "nodata or transparent); check its nodata value, alpha band, extent or "
                                         "mask.")
            vectors = None
            if vector_path:
                tick = time.perf_counter()
                vectors = write_vectors(
                    class_path, vector_tmp, metadata.classes, [c.name for c in kept], vector_options,
                    lambda percent, message: report(share + (100.0 - share) * percent / 100.0, message),
                    cancelled, limits)
                timings["vectorize"] = time.perf_counter() - tick
        report(100.0, "Done")
        return SegmentationResult(
            vector_path=str(vector_path) if vector_path else None,
            raster_path=str(raster_path) if raster_path else None,
            probabilities_path=str(probabilities_path) if probabilities_path else None,
            layers=vectors.layers if vectors else {},
            area_ha={c.name: float(classifier.area_m2[c.value]) / 10_000.0 for c in metadata.classes},
            device=predictor.device, seconds=time.perf_counter() - started, tiles=classifier.tiles,
            skipped_tiles=classifier.skipped, crs_wkt=source.crs_wkt, pixel_size_m=source.pixel_size_m,
            vector_area_ha=vectors.area_ha if vectors else {},
            polygons=vectors.polygons if vectors else {},
            width=out_grid.width, height=out_grid.height, timings=timings, reading=source.describe())


def _vector_options(options: SegmentationOptions) -> VectorOptions:
    return VectorOptions(options.simplify, options.min_area, options.fill_holes, options.square_buildings,
                         options.max_vertices)


def check_outputs(input_path: str, vector_path, raster_path, probabilities_path, overwrite: bool,
                  raster_suffixes: tuple[str, ...] = RASTER_SUFFIXES, replaceable: Collection[Path] = ()) -> None:
    """All output problems surface before any work: wrong kind, clashes, existing files, folders.
    `replaceable`: resolved paths that may exist without `overwrite` (a resumed run's own outputs)."""
    named = [("vector", vector_path, VECTOR_SUFFIXES), ("class raster", raster_path, raster_suffixes),
             ("probability raster", probabilities_path, RASTER_SUFFIXES)]
    given = [(kind, Path(path), suffixes) for kind, path, suffixes in named if path]
    if not given:
        raise OutputError("Nothing to write: give a GeoPackage (.gpkg) for the polygons, a GeoTIFF for the "
                          "class raster, or both.")
    seen = {Path(input_path).resolve()}
    for kind, path, suffixes in given:
        if path.suffix.lower() not in suffixes:
            raise OutputError(f"The {kind} output '{path}' must end in {' or '.join(suffixes)}.")
        if path.resolve() in seen:
            raise OutputError(f"The {kind} output '{path}' is also used as another input or output; "
                              "give each output its own path.")
        seen.add(path.resolve())
        check_writable(path, overwrite or path.resolve() in replaceable)
        try:  # permissions alone do not tell (root, read-only mounts, network shares)
            with tempfile.TemporaryFile(dir=path.parent if str(path.parent) else "."):
                pass
        except OSError as error:
            raise OutputError(f"Output folder '{path.parent}' is not writable ({error.strerror}); "
                              "pick a folder you can write to.") from None


def _requested_area(options: SegmentationOptions) -> ogr.Geometry | None:
    """The extent and the mask as one polygon in the raster's CRS, or None for the whole raster."""
    area = None
    if options.extent is not None:
        try:
            xmin, ymin, xmax, ymax = (float(v) for v in options.extent)
        except (TypeError, ValueError):
            raise InputError(f"Extent {options.extent!r} must be four numbers: xmin, ymin, xmax, "
                             "ymax.") from None
        if not (xmin < xmax and ymin < ymax):
            raise InputError(f"Extent {options.extent!r} is empty; give xmin < xmax and ymin < ymax "
                             "in the raster's CRS.")
        area = ogr.CreateGeometryFromWkt(f"POLYGON(({xmin} {ymin},{xmax} {ymin},{xmax} {ymax},{xmin} {ymax},"
                                         f"{xmin} {ymin}))")
    if options.mask_wkt:
        not_polygon = "The mask is not a polygon in WKT (e.g. 'POLYGON((x y, ...))' in the raster's CRS)"
        mask = call_gdal(not_polygon, ogr.CreateGeometryFromWkt, options.mask_wkt)
        if mask.IsEmpty() or mask.GetDimension() != 2:
            raise InputError(f"{not_polygon}.")
        area = mask if area is None else mask.Intersection(area)
    return area


def _area(source: RasterSource, requested: ogr.Geometry | None,
          masked: bool) -> tuple[tuple[int, int, int, int], AreaMask | None]:
    """The pixel window to classify (x0, y0, x1, y1) and, for a mask, which pixels inside it count."""
    window = (0, 0, source.width, source.height)
    if requested is None:
        return window, None
    window = _intersect(window, pixel_bounds(source.grid, requested.GetEnvelope()))
    if requested.IsEmpty() or window[0] >= window[2] or window[1] >= window[3]:
        raise InputError(f"The extent or mask does not overlap {source.label}; give an area inside the "
                         "raster, in the raster's CRS.")
    return window, AreaMask(requested, source.grid, source.srs) if masked else None


def _intersect(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    return max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])


class _Classifier:
    """Streams the tiles of an area through the model into the output rasters.

    Per vertical strip (tiling.py), tile row by tile row: tiles are read a batch at a time (so only
    the blending accumulator spans the strip's width), empty ones are skipped, the rest predicted
    and blended, and the rows no later tile touches are classified and written.
    """

    def __init__(self, source: RasterSource, window: tuple[int, int, int, int], mask: AreaMask | None,
                 predictor: Predictor, metadata: ModelMetadata, options: SegmentationOptions, strip_width: int,
                 report: Callable[[float, str], None], cancelled: Callable[[], bool]):
        self.source, self.window, self.mask, self.predictor = source, window, mask, predictor
        self.strip_width = strip_width
        self.grid = TileGrid.from_fraction(metadata.input_size, options.overlap)
        self.weights = self.grid.window()
        self.num_classes = len(metadata.classes)
        self.batch_size = options.batch_size
        self.report, self.cancelled = report, cancelled
        self.area_m2 = np.zeros(self.num_classes)   # true ground area per class
        self.tiles = self.skipped = 0
        self.timings = {"read": 0.0, "model": 0.0, "blend": 0.0, "write": 0.0}
        self._total = 1   # tiles in the area, known once run() has planned the strips

    def run(self, rasters: OutputRasters) -> None:
        x0, y0, x1, y1 = self.window
        rows = self.grid.starts(y0, y1)
        plan = [(a, b, self.grid.starts(a, b)) for a, b in strips(x0, x1, self.strip_width)]
        self._total = max(len(rows) * sum(len(starts) for *_, starts in plan), 1)
        for strip0, strip1, columns in plan:
            writer = rasters.strip(strip0 - x0)
            self._strip(strip0, strip1, [int(c) for c in columns], [int(r) for r in rows], writer)
            tick = time.perf_counter()
            writer.close()
            self.timings["write"] += time.perf_counter() - tick

    def _strip(self, strip0: int, strip1: int, columns: list[int], rows: list[int],
               writer: StripWriter) -> None:
        size, step = self.grid.tile, self.grid.step
        accumulator = np.zeros((self.num_classes, size, strip1 - strip0), np.float32)   # a plane per class
        for top in rows:
            inside = np.zeros((size, strip1 - strip0), bool)   # valid, in the area, in the mask
            for first in range(0, len(columns), self.batch_size):
                if self.cancelled():
                    raise Cancelled()
                batch = columns[first:first + self.batch_size]
                self._batch(top, batch, strip0, strip1, accumulator, inside)
            tick = time.perf_counter()
            y0, y1 = self.window[1], self.window[3]
            first_row, end_row = max(top, y0), min(top + step, y1)
            if end_row > first_row:
                self._emit(accumulator[:, first_row - top:end_row - top], inside[first_row - top:end_row - top],
                           writer, tick, (strip0, first_row, strip1, end_row))
            accumulator[:, :size - step] = accumulator[:, step:]
            accumulator[:, size - step:] = 0.0
            self.source.release_cache()

    def _batch(self, top: int, batch: list[int], strip0: int, strip1: int, accumulator: np.ndarray,
               inside: np.ndarray) -> None:
        size = self.grid.tile
        tick = time.perf_counter()
        left, right = batch[0], batch[-1] + size
        pixels, usable = self._read(top, left, right)
        a, b = max(left, strip0), min(right, strip1)
        inside[:, a - strip0:b - strip0] = usable[:, a - left:b - left]
        self.timings["read"] += time.perf_counter() - tick
        todo = [tx for tx in batch if usable[:, tx - left:tx - left + size].any()]
        self.skipped += len(batch) - len(todo)
        if todo:
            tick = time.perf_counter()
            probabilities = self.predictor(np.stack([pixels[:, tx - left:tx - left + size] for tx in todo]))
            self.timings["model"] += time.perf_counter() - tick
            tick = time.perf_counter()
            for tx, tile in zip(todo, probabilities):
                a, b = max(tx, strip0), min(tx + size, strip1)
                weighted = np.multiply(tile[:, :, a - tx:b - tx], self.weights[:, a - tx:b - tx],
                                       out=tile[:, :, a - tx:b - tx])
                accumulator[:, :, a - strip0:b - strip0] += weighted
            self.timings["blend"] += time.perf_counter() - tick
            self.tiles += len(todo)
        done = self.tiles + self.skipped
        self.report(done / self._total, f"Classifying tile {done} of {self._total}")

    def _read(self, top: int, left: int, right: int) -> tuple[np.ndarray, np.ndarray]:
        """Pixels of a window of the tile grid (mirrored beyond the raster) and which of them are
        valid data inside the area and the mask."""
        source, size = self.source, self.grid.tile
        pixels, valid = source.read(reflect_indices(top, top + size, source.height),
                                    reflect_indices(left, right, source.width))
        x0, y0, x1, y1 = self.window
        r0, r1, c0, c1 = max(top, y0), min(top + size, y1), max(left, x0), min(right, x1)
        inside = np.zeros(valid.shape, bool)
        if r1 > r0 and c1 > c0:
            area = valid[r0 - top:r1 - top, c0 - left:c1 - left]
            if self.mask is not None:
                area = area & self.mask.window(c0, r0, c1 - c0, r1 - r0)
            inside[r0 - top:r1 - top, c0 - left:c1 - left] = area
        return pixels, inside

    def _emit(self, probabilities: np.ndarray, valid: np.ndarray, writer: StripWriter, tick: float,
              pixels: tuple[int, int, int, int]) -> None:
        """Classify finished rows (the `pixels` x0, y0, x1, y1 of the grid), add up their classes' true
        areas (the ground area of these rows, shared out by pixel: the scale hardly varies within
        them) and hand them to the writer."""
        classes = most_probable(probabilities)
        classes[~valid] = CLASS_NODATA
        pixel_m2 = self.source.measure.rectangle_area_m2(*self.source.grid.bounds(*pixels)) / classes.size
        self.area_m2 += np.bincount(classes[valid], minlength=self.num_classes)[:self.num_classes] * pixel_m2
        percent = probabilities_to_percent(probabilities, valid) if writer.has_probabilities else None
        self.timings["blend"] += time.perf_counter() - tick
        tick = time.perf_counter()
        writer.write(classes, percent)
        self.timings["write"] += time.perf_counter() - tick


def most_probable(probabilities: np.ndarray) -> np.ndarray:
    """(C, h, w) -> (h, w) uint8 class of the highest plane, the first on a tie (as argmax): a few
    passes over contiguous planes, several times faster than argmax across a short last axis."""
    best = probabilities[0].copy()
    classes = np.zeros(best.shape, np.uint8)
    for value in range(1, len(probabilities)):
        higher = probabilities[value] > best
        np.copyto(classes, np.uint8(value), where=higher)
        np.maximum(best, probabilities[value], out=best)
    return classes
