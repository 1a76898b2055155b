"""Vectorising a distributed run's (sieved) class raster on the workers, into the polygons one pass gives.

Decisions (quoted in the README):

* **Stripes**: the raster's rows are cut where the block rows are; each worker traces a stripe with
  the vectoriser's streamed trace and keeps the polygons inside it, and sends back what reaches the
  stripe's top or bottom, already joined within the stripe. One serial step joins those across the
  stripes with the same exact join as across band cuts (vectorize/trace.py), so every region is one
  polygon, ring for ring the one a single pass traces. Only regions crossing a stripe edge travel.
* **Cleaning** (small holes, simplification, squaring) needs a polygon, the sieved raster around it
  and the small holes of the polygons around it: once the joined polygons' holes are known, workers
  clean the stripes' polygons and the joined ones into GeoPackages, which are appended into the output.
* **Splitting** (`max_vertices`): a region crossing stripes is split only at stripe edges, where a
  single pass splits at its band cuts: the polygons are the single pass's unless a region is split.
"""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from osgeo import gdal, ogr

from ..errors import Cancelled
from ..gdalio import WriteCheck, call_gdal, close_dataset
from ..grid import Grid
from ..limits import StreamLimits
from ..modelfile import ClassInfo
from ..vectorize.options import VectorOptions, VectorResult, kept_classes, layer_name
from ..vectorize.pipeline import raster_ground, write_regions
from ..vectorize.scratch import HoleMask, TracedRegions, open_traced
from ..vectorize.trace import join_stripes, trace_regions
from ..vectorize.writer import Writer, verify_geopackage

# map(function, argument tuples) -> results in order: on Dask workers (runner.py) or in this process.
RunMap = Callable[[Callable, Sequence[tuple]], list]


@dataclass
class StripeTrace:
    rows: tuple[int, int]
    held: list[tuple[int, bytes]]   # (class value, WKB in pixel coordinates): regions reaching the stripe's edges
    split_rows: set[int]


Stop = Callable[[], bool]   # whether a task should stop (stopping.StopSignal); None: never


def _stopped(stop: Stop | None) -> Stop:
    return stop or (lambda: False)


def _open_classes(class_raster: str) -> gdal.Dataset:
    return call_gdal(f"The class raster '{class_raster}' could not be read", gdal.Open, class_raster)


def _fill_px(dataset: gdal.Dataset, options: VectorOptions) -> float:
    return options.fill_holes / raster_ground(dataset)[2]


def trace_stripe(class_raster: str, rows: tuple[int, int], kept: set[int], options: VectorOptions, work: str,
                 stop: Stop | None = None, limits: StreamLimits = StreamLimits()) -> StripeTrace:
    """A worker's trace of one stripe: its own polygons (and their small holes) into `work`."""
    dataset = _open_classes(class_raster)
    _empty_folder(Path(work))   # a stopped run may have left part of it
    store = TracedRegions(Path(work), Grid.of(dataset), _fill_px(dataset, options), limits)
    held: list[tuple[int, bytes]] = []
    try:
        split_rows = trace_regions(dataset.GetRasterBand(1), kept, store.add, options.max_vertices,
                                   limits.band_pixels, lambda fraction: None, _stopped(stop), rows=rows,
                                   hold=lambda value, geometry: held.append((value, bytes(geometry.ExportToWkb()))))
        store.finish()
    finally:
        store.release()
        close_dataset(dataset)
    return StripeTrace(tuple(rows), held, split_rows)


def join_traces(class_raster: str, traces: Sequence[StripeTrace], options: VectorOptions, work: Path,
                limits: StreamLimits = StreamLimits()) -> set[int]:
    """The serial step: the regions the stripes held, joined across them into `work`; returns split rows."""
    dataset = _open_classes(class_raster)
    _empty_folder(work)
    store = TracedRegions(work, Grid.of(dataset), _fill_px(dataset, options), limits)
    stripes = [(trace.rows[0], trace.rows[1], ((value, ogr.CreateGeometryFromWkb(wkb)) for value, wkb in trace.held))
               for trace in sorted(traces, key=lambda trace: trace.rows)]
    try:
        split_rows = join_stripes(stripes, dataset.RasterXSize, dataset.RasterYSize, store.add, options.max_vertices)
        store.finish()
    finally:
        store.release()
        close_dataset(dataset)
    return split_rows


def clean_part(class_raster: str, work: str, more_holes: Sequence[str], split_rows: set[int],
               kept: Sequence[ClassInfo], options: VectorOptions, out_path: str,
               stop: Stop | None = None) -> dict:
    """A worker's cleaning of the polygons traced into `work` (any hole of theirs or of the polygons
    in `more_holes` being filled), written to a new GeoPackage at `out_path`."""
    dataset = _open_classes(class_raster)
    srs, measure, pixel_area_m2 = raster_ground(dataset)
    regions, own_holes = open_traced(Path(work))
    masks = [own_holes] + [open_traced(Path(other))[1] for other in more_holes]
    Path(out_path).unlink(missing_ok=True)   # left by a run killed while writing it
    writer = Writer(out_path, srs, kept, measure)
    try:
        collapsed = write_regions(regions.GetLayer(0), [HoleMask(m.GetRasterBand(1)) for m in masks if m is not None],
                                  dataset.GetRasterBand(1), split_rows, kept, options, writer, Grid.of(dataset),
                                  options.fill_holes / pixel_area_m2, lambda fraction: None, _stopped(stop))
        writer.close()
    finally:
        writer.release()
        for opened in (regions, *masks, dataset):
            if opened is not None:
                close_dataset(opened)
    return {"area_m2": writer.area_m2, "count": writer.count, "collapsed": collapsed}


def vectorize_stripes(class_raster: str, vector_path: str | os.PathLike, classes: Sequence[ClassInfo],
                      keep: Sequence[str] | None, options: VectorOptions, stripes: Sequence[tuple[int, int]],
                      work: Path, run_map: RunMap, report: Callable[[float, str], None] | None = None,
                      stop: Stop | None = None) -> VectorResult:
    """The sieved `class_raster` traced in `stripes` (row ranges covering it, top to bottom), joined,
    cleaned and written to a new GeoPackage at `vector_path`; `work` holds the parts (the caller's to remove)."""
    report = report or (lambda percent, message: None)
    kept = kept_classes(classes, keep)
    timings, tick = {}, time.perf_counter()
    report(0.0, "Tracing polygons")
    folders = [work / f"stripe_{index:05d}" for index in range(len(stripes))]
    traces = run_map(trace_stripe, [(class_raster, rows, {c.value for c in kept}, options, str(folder), stop)
                                    for rows, folder in zip(stripes, folders)])
    tick = _lap(timings, "trace", tick)
    report(45.0, "Joining polygons across stripes")
    joined = work / "joined"
    split_rows = join_traces(class_raster, traces, options, joined).union(*(trace.split_rows for trace in traces))
    if _stopped(stop)():
        raise Cancelled()
    tick = _lap(timings, "join", tick)
    report(55.0, "Writing polygons")
    parts = [*folders, joined]
    outputs = [str(work / f"{folder.name}.gpkg") for folder in parts]
    written = run_map(clean_part, [(class_raster, str(folder), [] if folder == joined else [str(joined)], split_rows,
                                    kept, options, out, stop) for folder, out in zip(parts, outputs)])
    tick = _lap(timings, "clean", tick)
    report(95.0, "Writing polygons (appending the parts)")
    _append(class_raster, vector_path, kept, outputs, written)
    _lap(timings, "append", tick)
    report(100.0, "Polygons written")
    return VectorResult(layers={c.name: layer_name(c.name) for c in kept},
                        area_ha={c.name: sum(w["area_m2"][c.value] for w in written) / 10_000.0 for c in kept},
                        polygons={c.name: sum(w["count"][c.value] for w in written) for c in kept},
                        collapsed=sum(w["collapsed"] for w in written), timings=timings)


def _empty_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)


def _lap(timings: dict[str, float], step: str, tick: float) -> float:
    now = time.perf_counter()
    timings[step] = now - tick
    return now


def _append(class_raster: str, vector_path: str | os.PathLike, kept: Sequence[ClassInfo], parts: Sequence[str],
            written: Sequence[dict]) -> None:
    """The output's layers (every kept class, empty or not), then every part's polygons appended, and the
    whole read back (each layer with the polygons of its parts)."""
    dataset = _open_classes(class_raster)
    srs, measure, _ = raster_ground(dataset)
    close_dataset(dataset)
    Writer(vector_path, srs, kept, measure).close()
    check = WriteCheck(vector_path)
    for part in parts:
        appended = check.made(gdal.VectorTranslate, str(vector_path), part, accessMode="append")
        with check:
            close_dataset(appended)
            del appended
    verify_geopackage(vector_path, {layer_name(c.name): sum(w["count"][c.value] for w in written) for c in kept})
