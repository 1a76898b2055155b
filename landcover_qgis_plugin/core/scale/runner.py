"""A mosaic of any size on Dask: blocks classified, sieved and vectorised by workers through a run
folder into one class raster and one GeoPackage.

Decisions (quoted in the README):

* **Where it runs**: a `LocalCluster` of `workers` processes on this machine (ONNX Runtime in each
  gets its share of the cores), or an existing Dask scheduler (`tcp://host:8786`) whose workers see
  the same files at the same paths (a shared file system) and have this package installed.
* **Each worker loads the model once** and keeps it for every block it is given (on its GPU when it
  has one, as the engine does by itself), and caps GDAL's block cache at 256 MB unless GDAL_CACHEMAX
  is set (GDAL's default, 5 % of the memory per process, adds up over a node's workers).
* **Seamless**: blocks are windows of one mosaic on one grid, so the class raster put together from
  them is, pixel for pixel, that of a single run. The workers then apply the minimum area block by
  block, exactly as on the whole raster (block_sieve.py), and trace and clean the polygons stripe by
  stripe, regions crossing stripes joined exactly (block_vectors.py): the single run's polygons too.
* **Stopping**: a cancel, Ctrl-C or SIGTERM stops the running tasks at once, and so does the end of
  this process on its host (stopping.py); finished blocks stay.
* **Failures**: a block that fails is retried twice (on any worker), then reported with where it
  lies; the others go on, and the run ends with the list and the command that retries them. A block
  that cannot be written (the run folder's disk is full) stops the run at once with that one error.
* **Collars** are searched once, on the whole mosaic; one that is found is refused (a block cannot
  mask it alone) with the options that deal with it.
* **One grid**: the ground resolution is measured once, at the centre of the whole area, and every
  block is read on that grid, so a mosaic that must be resampled (Web Mercator, geographic, another
  resolution) is warped alike in every block, as a single run warps it. Web services are refused:
  their tiles would be fetched once per block.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib.util
import os
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

from osgeo import gdal

from ..engine import check_outputs, segment
from ..errors import Cancelled, InputError, LandcoverError, NoValidPixelsError, OutputError
from ..files import atomic_output, make_folder, remove_stale_temporaries
from ..gdalio import WriteCheck, call_gdal, close_dataset
from ..grid import pixel_bounds
from ..locks import locked_outputs
from ..modelfile import ModelMetadata, read_metadata
from ..options import SegmentationOptions
from ..outputs import CLASS_NODATA, atomic_raster, verify_raster
from ..raster import RasterSource
from ..runtime import Predictor
from ..tiling import TileGrid
from ..vectorize import VectorOptions, kept_classes, sieve_threshold
from ..mosaic import MOSAIC_VRT, build_mosaic
from .block_sieve import apply_block, decide_blocks, survey_block
from .block_vectors import vectorize_stripes
from .blocks import DEFAULT_BLOCK_PX, Block, plan_blocks
from .cluster import Cluster
from .run_folder import RunFolder, Steps, fingerprint, written_outputs
from .stopping import StopSignal

RETRIES = 2
POLL_SECONDS = 0.02   # how often finished tasks and a cancel are looked for while tasks run
WORKER_GDAL_CACHE_MB = 256   # a block streams windows: this is plenty (unless GDAL_CACHEMAX says otherwise)
CLASS_VRT = "classes.vrt"
SIEVED_VRT, SIEVED_FOLDER = "sieved.vrt", "sieved"   # the class raster after the minimum area (any min_area)
VECTORS_FOLDER = "vectors"   # the stripes' polygons while they are vectorised


class BlocksFailed(LandcoverError):
    """Some blocks failed after their retries; the rest are finished and kept."""


@dataclass
class ScaleResult:
    blocks: int
    reused: int                         # finished by an earlier run of the same command
    area_ha: dict[str, float]
    tiles: int
    seconds: float
    workers: int
    class_vrt: str
    mosaic: str = ""                    # how the sheets were put together ("" for one raster)
    vector_path: str | None = None
    raster_path: str | None = None
    layers: dict[str, str] = field(default_factory=dict)      # class name -> layer name in the GeoPackage
    polygons: dict[str, int] = field(default_factory=dict)
    vector_area_ha: dict[str, float] = field(default_factory=dict)
    reused_steps: int = 0               # sieving and vectorising tasks finished by an earlier run
    # wall seconds per step: classify, survey/decide/apply (the sieve), trace/join/clean/append (polygons);
    # decide, join and append run in this process, the others on the workers
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)   # what the user should know (a dead run's lock taken over)


def segment_many(sheets: Sequence[str], model_path: str, run_dir: str | Path,
                 vector_path: str | None = None, raster_path: str | None = None,
                 options: SegmentationOptions = SegmentationOptions(), workers: int = 1,
                 scheduler: str | None = None, restart: bool = False, block_px: int = DEFAULT_BLOCK_PX,
                 progress: Callable[[float, str], None] | None = None,
                 is_cancelled: Callable[[], bool] | None = None, processes: bool = True) -> ScaleResult:
    """Classify the sheets (expand_inputs' list) as one mosaic, block by block on Dask, into `run_dir`,
    then write the class raster (.tif, or .vrt referring to the run folder's blocks) and the GeoPackage.
    Raises the engine's errors, and BlocksFailed listing the blocks that failed. `processes=False`
    runs the local workers as threads of this process (inside QGIS, whose executable is no Python to
    start workers with; ONNX Runtime and GDAL release the GIL)."""
    started = time.perf_counter()
    report = _Progress(progress or (lambda percent, message: None))
    cancelled = is_cancelled or (lambda: False)
    options.check()
    if importlib.util.find_spec("distributed") is None:
        raise InputError("A distributed run needs Dask's distributed package: pip install distributed (Debian: "
                         "apt install python3-distributed).")
    run_dir = Path(run_dir)
    # outputs an earlier, killed run of this folder put in place are its own to replace (the run goes on)
    owned = written_outputs(run_dir)
    check = functools.partial(check_outputs, sheets[0], vector_path, raster_path, None, options.overwrite,
                              raster_suffixes=(".tif", ".tiff", ".vrt"), replaceable=owned)
    check()
    with locked_outputs([path for path in (vector_path, raster_path) if path], [run_dir], options.wait,
                        lambda message: report(0.0, message), cancelled) as held:
        if held.waited:
            check()
        result = _segment_many(sheets, model_path, run_dir, vector_path, raster_path, options, workers, scheduler,
                               restart, block_px, report, cancelled, processes, owned)
    result.notes = held.notes
    result.seconds = time.perf_counter() - started
    return result


def _segment_many(sheets: Sequence[str], model_path: str, run_dir: Path, vector_path: str | None,
                  raster_path: str | None, options: SegmentationOptions, workers: int, scheduler: str | None,
                  restart: bool, block_px: int, report: "_Progress", cancelled: Callable[[], bool],
                  processes: bool, owned: set[Path]) -> ScaleResult:
    metadata = read_metadata(model_path)
    kept = kept_classes(metadata.classes, options.classes)
    report(0.0, "Planning the blocks")
    folder = RunFolder(run_dir, fingerprint(sheets, model_path, options, block_px), restart)
    joined = build_mosaic(sheets, folder.path / MOSAIC_VRT)
    mosaic = joined.path
    area = None
    if options.extent is not None:
        xmin, ymin, xmax, ymax = (float(v) for v in options.extent)
        area = (xmin, xmax, ymin, ymax)
    with RasterSource(mosaic, metadata.resolution_m, options.bands, metadata.bands, area, options.nodata,
                      options.collars, progress=lambda stage: report(0.0, stage), is_cancelled=cancelled) as source:
        if source.service:
            raise InputError(f"{source.label} is a web service; a distributed run reads files (a web layer's tiles "
                             "would be fetched once per block): run it without --workers/--scheduler/--run-dir.")
        if source.collar is not None:
            raise InputError(
                f"The mosaic {source.label} has an edge collar (black or white borders without a nodata value); a "
                "distributed run cannot mask it block by block: declare the collar's value as nodata (--nodata 0 "
                "for black) or, if those pixels are real, use --no-collars.")
        grid, scale_centre = source.grid, source.scale_centre
    # searched once above for the whole mosaic: the blocks need not read its edges again
    options = dataclasses.replace(options, collars=False)
    window = (0, 0, grid.width, grid.height)
    if area is not None:
        window = pixel_bounds(grid, area)
        if window[0] >= window[2] or window[1] >= window[3]:
            raise InputError(f"The extent {options.extent!r} does not overlap the mosaic; give an area inside it, "
                             "in its CRS.")
    step = TileGrid.from_fraction(metadata.input_size, options.overlap).step
    blocks = plan_blocks(window, block_px, step)
    records = {block: folder.finished(block) for block in blocks}
    todo = [block for block, record in records.items() if record is None]
    reused = len(blocks) - len(todo)
    failed: list[str] = []
    stop = StopSignal.for_run(folder.path)   # tasks check it between batches: a cancel stops running blocks too
    stop.clear()
    with Cluster(workers, scheduler, processes, folder.path) as cluster:
        tick = time.perf_counter()
        if todo:
            report(0.0, f"Starting {workers} Dask worker{'s' * (workers != 1)}" if not scheduler
                   else f"Connecting to {scheduler}")
            threads = max(1, (os.cpu_count() or 1) // cluster.workers) if not scheduler else None
            futures = {cluster.client.submit(classify_block, mosaic, model_path, metadata, block.bounds(grid),
                                             options, str(folder.raster(block)), threads, stop, scale_centre,
                                             retries=RETRIES,
                                             pure=False, key=f"landcover-block-{block.name}-{os.getpid()}"): block
                       for block in todo}
            done = reused
            with _stopping_on_exit(cluster, futures, stop):
                for future in _completed(futures, cancelled):
                    block = futures[future]
                    if future.status == "error" and isinstance(future.exception(), OutputError):
                        raise future.exception()   # the run folder cannot be written (a full disk): no block can
                    if future.status == "error":
                        failed.append(_failure(block, grid, future.exception()))
                    else:
                        records[block] = future.result()
                        folder.finish(block, records[block])
                    done += 1
                    report(90.0 * done / len(blocks), f"Classified block {done} of {len(blocks)}")
        classify_seconds = time.perf_counter() - tick
        if failed:
            raise BlocksFailed(
                f"{len(failed)} of {len(blocks)} blocks failed (after {RETRIES} retries each): " + "; ".join(failed)
                + f". The {len(blocks) - len(failed)} others are finished and kept in '{folder.path}': run the same "
                "command again to retry the failed ones (or fix or leave out the sheets named).")
        rasters = {block: str(folder.raster(block)) for block, record in records.items() if not record.get("empty")}
        if not rasters:
            raise NoValidPixelsError("The mosaic has no valid pixels in the area to classify (all nodata or "
                                     "transparent); check the sheets' nodata values, extent or mask.")
        class_vrt = _class_vrt(folder.path / CLASS_VRT, list(rasters.values()), grid, window)
        result = ScaleResult(blocks=len(blocks), reused=reused,
                             tiles=sum(r.get("tiles", 0) for r in records.values()),
                             area_ha={c.name: sum(r.get("area_ha", {}).get(c.name, 0.0) for r in records.values())
                                      for c in metadata.classes},
                             seconds=0.0, workers=cluster.workers if cluster.started else workers,
                             class_vrt=str(class_vrt), mosaic=joined.note, timings={"classify": classify_seconds})
        if raster_path:
            report(90.0, "Writing the class raster")
            _write_class_raster(class_vrt, raster_path, list(rasters.values()), grid, window,
                                options.overwrite or _resolved(raster_path) in owned)
            folder.written(raster_path)
            result.raster_path = str(raster_path)
        if vector_path:
            vector_options = VectorOptions(options.simplify, options.min_area, options.fill_holes,
                                           options.square_buildings, options.max_vertices)
            steps = folder.steps({**dataclasses.asdict(vector_options), "classes": [c.name for c in kept]})
            run_map = _dask_map(cluster, stop, cancelled, steps, report)
            sieved = _sieve_blocks(run_map, class_vrt, rasters, window, grid, steps.path, options.min_area, report,
                                   result.timings)
            stripes = sorted({(b.y0 - window[1], b.y1 - window[1]) for b in blocks})
            with atomic_output(vector_path, options.overwrite or _resolved(vector_path) in owned) as tmp:
                vectors = vectorize_stripes(str(sieved), tmp, metadata.classes, [c.name for c in kept],
                                            vector_options, stripes, steps.path / VECTORS_FOLDER, run_map,
                                            lambda percent, message: report(93.0 + percent * 0.07, message),
                                            stop)
            result.vector_path, result.layers = str(vector_path), vectors.layers
            result.polygons, result.vector_area_ha = vectors.polygons, vectors.area_ha
            result.timings.update(vectors.timings)
            result.reused_steps = steps.reused
            folder.written(vector_path)
            folder.finish_steps()
    for part in (folder.path, folder.blocks, folder.path / SIEVED_FOLDER):   # a killed run's workers may have
        remove_stale_temporaries(part)                                      # outlived this run's first look
    report(100.0, "Done")
    return result


def _resolved(path: str) -> Path:
    return Path(path).resolve()


def _completed(futures, cancelled: Callable[[], bool]) -> Iterator:
    """The futures as they finish, looking for a cancel while waiting and between finished ones (a batch
    of ready ones can be long to handle)."""
    if not futures:
        return
    from distributed import as_completed
    queue = as_completed(futures)
    while not queue.is_empty():
        if cancelled():
            raise Cancelled()
        if not queue.has_ready():
            time.sleep(POLL_SECONDS)
            continue
        for future in queue.next_batch(block=False):
            if cancelled():
                raise Cancelled()
            yield future


@contextlib.contextmanager
def _stopping_on_exit(cluster: Cluster, futures, stop: StopSignal) -> Iterator[None]:
    """On Cancelled, Ctrl-C or SIGTERM the running tasks stop (the stop file) and the rest are dropped."""
    try:
        yield
    except BaseException:
        stop.request()
        cluster.client.cancel(list(futures))
        raise


class _Progress:
    """The caller's progress(percent, stage), remembering the last stage so that the tasks of a step can be
    counted under it: "Tracing polygons (stripe 3 of 8)"."""

    def __init__(self, report: Callable[[float, str], None]):
        self._report, self.percent, self.stage = report, 0.0, ""

    def __call__(self, percent: float, stage: str) -> None:
        self.percent, self.stage = percent, stage
        self._report(percent, stage)

    def task(self, kind: str, done: int, total: int) -> None:
        self._report(self.percent, f"{self.stage} ({kind} {done} of {total})")


# What the tasks of each sieving and vectorising step are called in the progress messages.
TASK_NAMES = {"survey_block": "survey", "apply_block": "merge", "trace_stripe": "stripe", "clean_part": "part"}


def _dask_map(cluster: Cluster, stop: StopSignal, cancelled: Callable[[], bool], steps: Steps,
              progress: _Progress):
    """block_vectors.RunMap on the cluster: each call a task (retried) unless `steps` holds its result
    from an earlier, stopped run of the same command; results in order, kept in `steps` as they come."""
    def run_map(function: Callable, calls: Sequence[tuple]) -> list:
        names = [f"{function.__name__}-{index:06d}" for index in range(len(calls))]
        results: list = [steps.get(name) for name in names]
        futures = {cluster.client.submit(function, *calls[index], retries=RETRIES, pure=False): index
                   for index, result in enumerate(results) if result is None}
        done = len(calls) - len(futures)
        with _stopping_on_exit(cluster, futures, stop):
            for future in _completed(futures, cancelled):
                index = futures[future]
                results[index] = future.result()
                steps.put(names[index], results[index])
                done += 1
                progress.task(TASK_NAMES.get(function.__name__, "task"), done, len(calls))
        return results
    return run_map


def _sieve_blocks(run_map, class_vrt: Path, rasters: dict[Block, str], window: tuple[int, int, int, int], grid,
                  folder: Path, min_area: float, report: Callable[[float, str], None],
                  timings: dict[str, float]) -> Path:
    """The class raster sieved block by block on the workers (block_sieve.py): its VRT in `folder`."""
    dataset = call_gdal(f"'{class_vrt}' could not be read", gdal.Open, str(class_vrt))
    threshold, width = sieve_threshold(dataset, min_area), dataset.RasterXSize
    close_dataset(dataset)
    if threshold < 2:
        return class_vrt
    report(90.0, "Merging regions smaller than the minimum area")
    wx, wy = window[0], window[1]
    rects = {(b.row, b.col): (b.x0 - wx, b.y0 - wy, b.x1 - wx, b.y1 - wy) for b in rasters}
    keys = list(rects)
    tick = time.perf_counter()
    surveys = dict(zip(keys, run_map(survey_block, [(str(class_vrt), rects[key], threshold) for key in keys])))
    timings["survey"], tick = time.perf_counter() - tick, time.perf_counter()
    changes = decide_blocks(surveys, rects, width, threshold)
    timings["decide"], tick = time.perf_counter() - tick, time.perf_counter()
    sieved_folder = folder / SIEVED_FOLDER
    make_folder(sieved_folder)
    block_at = {(b.row, b.col): b for b in rasters}
    sieved = {key: rasters[block] for key, block in block_at.items()}   # as classified unless changed
    changed = list(changes)
    written = run_map(apply_block, [(str(class_vrt), rects[key], changes[key],
                                     str(sieved_folder / f"{block_at[key].name}.tif")) for key in changed])
    sieved.update(zip(changed, written))
    timings["apply"] = time.perf_counter() - tick
    report(93.0, "Merging regions smaller than the minimum area")
    return _class_vrt(folder / SIEVED_VRT, list(sieved.values()), grid, window)


_PREDICTORS: dict[tuple, Predictor] = {}   # per worker process: each model loaded once


def classify_block(mosaic: str, model_path: str, metadata: ModelMetadata,
                   bounds: tuple[float, float, float, float], options: SegmentationOptions, out_path: str,
                   threads: int | None, stop: StopSignal, scale_centre: tuple[float, float]) -> dict:
    """One block on a worker (the model's `metadata` read once, by the run): its class GeoTIFF (moved
    into place when whole) and what it found; stops (Cancelled) as soon as `stop` says so.
    `scale_centre`: the whole run's, so every block is read on its grid (warped alike where the mosaic
    is resampled)."""
    if "GDAL_CACHEMAX" not in os.environ:   # GDAL's default, 5 % of the memory, in every worker adds up
        gdal.SetCacheMax(WORKER_GDAL_CACHE_MB * 2 ** 20)
    key = (str(Path(model_path).resolve()), os.stat(model_path).st_mtime_ns, options.runtime, options.device,
           options.precision, options.tta, threads)
    if key not in _PREDICTORS:
        _PREDICTORS[key] = Predictor(model_path, metadata, options, threads)
    block_options = dataclasses.replace(options, extent=bounds, overwrite=True)
    try:
        result = segment(mosaic, model_path, raster_path=out_path, options=block_options, metadata=metadata,
                         predictor=_PREDICTORS[key], is_cancelled=stop,
                         scale_centre=scale_centre, lock=False)   # the run holds its folder's lock
    except NoValidPixelsError:
        return {"empty": True, "tiles": 0, "area_ha": {}}
    return {"tiles": result.tiles, "skipped_tiles": result.skipped_tiles, "area_ha": result.area_ha,
            "seconds": result.seconds, "device": result.device, "worker": f"{socket.gethostname()}:{os.getpid()}",
            "worker_peak_rss_mb": _peak_rss_mb()}


def _peak_rss_mb() -> float | None:
    """The worker process's peak resident memory so far (None where the platform does not say). Linux's
    VmHWM starts afresh at exec; getrusage's maximum would include the parent's pages at fork."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    try:
        import resource
    except ImportError:   # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024.0 if sys.platform != "darwin" else peak / 2 ** 20   # KiB on Linux, bytes on macOS


def _failure(block: Block, grid, error: BaseException) -> str:
    xmin, ymin, xmax, ymax = block.bounds(grid)
    return (f"block {block.name} (pixels {block.x0}..{block.x1} x {block.y0}..{block.y1}; x {xmin:.2f}..{xmax:.2f}, "
            f"y {ymin:.2f}..{ymax:.2f}): {type(error).__name__}: {error}")


def _class_vrt(path: Path, rasters: list[str], grid, window: tuple[int, int, int, int]) -> Path:
    """The blocks as one class raster on the mosaic's grid (the area's window), with their colours."""
    xmin, ymin, xmax, ymax = grid.bounds(*window)
    options = gdal.BuildVRTOptions(outputBounds=(xmin, ymin, xmax, ymax), xRes=grid.dx, yRes=grid.dy,
                                   srcNodata=CLASS_NODATA, VRTNodata=CLASS_NODATA)
    vrt = call_gdal("The finished blocks could not be put together", gdal.BuildVRT, str(path), rasters,
                    options=options)
    first = call_gdal(f"Block '{rasters[0]}' could not be read", gdal.Open, rasters[0])
    band, source = vrt.GetRasterBand(1), first.GetRasterBand(1)
    check = WriteCheck(path)
    if source.GetColorTable() is not None:
        check.ok(band.SetColorTable, source.GetColorTable())
    if source.GetCategoryNames():
        check.ok(band.SetCategoryNames, source.GetCategoryNames())
    close_dataset(first)
    del band, source, first
    with check:   # a VRT is written as it closes
        close_dataset(vrt)
        del vrt
    return path


def _write_class_raster(class_vrt: Path, raster_path: str, rasters: list[str], grid,
                        window: tuple[int, int, int, int], overwrite: bool) -> None:
    if Path(raster_path).suffix.lower() == ".vrt":   # refers to the run folder's blocks: keep the folder
        with atomic_output(raster_path, overwrite) as tmp:
            _class_vrt(tmp, [os.path.abspath(r) for r in rasters], grid, window)
        return
    with atomic_raster(raster_path, overwrite) as tmp:
        check = WriteCheck(tmp)
        dataset = check.made(gdal.Translate, str(tmp), str(class_vrt),
                             creationOptions=["TILED=YES", "COMPRESS=DEFLATE", "BIGTIFF=IF_SAFER"])
        size = dataset.RasterXSize, dataset.RasterYSize
        with check:
            close_dataset(dataset)
            del dataset
        verify_raster(tmp, *size, 1)
