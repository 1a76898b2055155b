"""`python -m bench.scale` (part of `make bench`): many sheets on Dask, and what a country would take.

A synthetic km² at 25 cm/px is cut into 16 sheets (a folder of GeoTIFFs); the bundled model (ONNX)
classifies them as one mosaic on a LocalCluster of 1 and of 2 workers (fresh run folders, blocks of
`--block-size` px), and the same pixels as one raster in one process: the seamless check (the class
rasters compared pixel for pixel, the polygons counted and measured). From the measured seconds per
block and step a country-scale plan follows: km²/h per worker, the serial steps' share, and the workers
Poland (312,700 km²) would need to be classified and vectorised in a day, on CPU (here) and on GPU (when
bench/results holds GPU figures; none yet).
Results: bench/results/scale.{json,md}.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.inference import machine, save_results  # noqa: E402
from landcover_qgis_plugin.core.engine import SegmentationOptions, segment  # noqa: E402

RESULTS = REPO / "bench" / "results"
POLAND_KM2 = 312_700
ORIGIN = (500_000.0, 600_000.0)
SEED = 4343
WORKER_STEPS = ("survey", "apply", "trace", "clean")   # vectorising steps run on the workers
SERIAL_STEPS = ("decide", "join", "append")             # and in the calling process
STEPS = ("classify", "survey", "decide", "apply", "trace", "join", "clean", "append")


def sheets_of(scene: Path, folder: Path, per_side: int) -> list[Path]:
    """The scene cut into per_side x per_side GeoTIFF sheets."""
    from osgeo import gdal
    dataset = gdal.Open(str(scene))
    side = dataset.RasterXSize // per_side
    folder.mkdir()
    paths = []
    for row in range(per_side):
        for col in range(per_side):
            path = folder / f"sheet_{row:02d}_{col:02d}.tif"
            gdal.Translate(str(path), dataset, srcWin=[col * side, row * side, side, side])
            paths.append(path)
    return paths


def polygon_summary(gpkg: Path) -> dict:
    from osgeo import ogr
    dataset = ogr.Open(str(gpkg))
    return {layer.GetName(): [layer.GetFeatureCount(), round(sum(f.GetGeometryRef().GetArea() for f in layer), 3)]
            for layer in dataset}


def run_workers(sheets: list[Path], model: Path, work: Path, workers: int, block_px: int) -> dict:
    from landcover_qgis_plugin.core.scale.runner import segment_many
    out = work / f"workers{workers}"
    tick = time.perf_counter()
    result = segment_many([str(p) for p in sheets], str(model), f"{out}.run", f"{out}.gpkg", f"{out}.tif",
                          SegmentationOptions(overwrite=True), workers=workers, block_px=block_px)
    seconds = time.perf_counter() - tick
    records = [json.loads(p.read_text()) for p in sorted(Path(f"{out}.run", "blocks").glob("*.json"))]
    per_block = [r["seconds"] for r in records if "seconds" in r]
    return {"workers": workers, "seconds": seconds, "blocks": result.blocks, "tiles": result.tiles,
            "block_seconds_median": statistics.median(per_block), "block_seconds_sum": sum(per_block),
            "peak_rss_mb_per_worker": max(r.get("worker_peak_rss_mb") or 0.0 for r in records),
            "timings": result.timings,
            "polygons": polygon_summary(Path(f"{out}.gpkg")), "raster": f"{out}.tif"}


def markdown(results: dict) -> str:
    host, runs, single, plan = results["machine"], results["workers"], results["single"], results["plan"]
    lines = ["# Many sheets on Dask", "",
             f"Machine: {host['cpu']} ({host['cores']} cores), Python {host['python']}. Run: `{results['command']}` "
             f"({results['seconds'] / 60:.1f} min). Mosaic: {results['sheets']} sheets of {results['sheet_px']} x "
             f"{results['sheet_px']} px at 25 cm/px ({results['km2']:g} km²), the bundled model (ONNX), blocks of "
             f"{results['block_px']} px, fresh run folders.", "",
             "| run | seconds | speed-up | blocks | tiles | block s (median) | peak RSS per worker | same classes as one raster |",
             "|---|---|---|---|---|---|---|---|",
             f"| one raster, one process | {single['seconds']:.1f} | 1.00x | - | {single['tiles']} | - | - | - |"]
    for run in runs:
        lines.append(f"| 16 sheets, {run['workers']} worker{'s' * (run['workers'] != 1)} | {run['seconds']:.1f} | "
                     f"{single['seconds'] / run['seconds']:.2f}x | {run['blocks']} | {run['tiles']} | "
                     f"{run['block_seconds_median']:.2f} | {run['peak_rss_mb_per_worker']:.0f} MB | "
                     f"{run['same_pixels'] * 100:.4f} %, polygons {'equal' if run['same_polygons'] else 'DIFFER'} |")
    lines += ["", "Wall seconds per step (workers: classify, survey and apply are the sieve's, trace, clean; this "
              "process: decide, join, append):", "",
              "| run | " + " | ".join(STEPS) + " |", "|---|" + "---|" * len(STEPS)]
    for run in runs:
        lines.append(f"| {run['workers']} worker{'s' * (run['workers'] != 1)} | "
                     + " | ".join(f"{run['timings'].get(step, 0.0):.2f}" for step in STEPS) + " |")
    lines += ["", "## A country-scale plan from these figures", "",
              f"Per CPU worker ({plan['worker_cores']} core{'s' * (plan['worker_cores'] != 1)}, from the 1-worker "
              f"run): classifying {plan['km2_per_hour_per_worker']:.1f} km²/h (block time only), the workers' share "
              f"of vectorising {plan['vector_worker_s_per_km2']:.2f} s/km²; this process's share (deciding small "
              f"regions, joining across stripes, appending) {plan['vector_serial_s_per_km2']:.3f} s/km², against "
              f"{plan['vectorise_s_per_km2']:.2f} s/km² for the single process's whole vectoriser.", "",
              f"Poland, {POLAND_KM2:,} km² in 24 h: **{plan['poland_cpu_workers']:,} CPU workers** "
              f"({plan['poland_blocks']:,} blocks of {results['block_px']} px), classifying and vectorising, with "
              f"{plan['poland_serial_hours']:,.1f} h of serial steps (scaled by area: they grow with the regions "
              f"that cross borders, not with pixels); a single vectorising process would take "
              f"{plan['poland_vectorise_hours']:,.0f} h. On GPU: {plan['gpu']}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from osgeo import gdal

    from trainer.data.synth import generate_scene
    from landcover_qgis_plugin.core.geotiff import write_geotiff

    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=4000, help="side of the scene in px (4000: 1 km² at 25 cm)")
    parser.add_argument("--block-size", type=int, default=2048, help="block side in px")
    parser.add_argument("--model", type=Path, default=REPO / "resources" / "models" / "default.onnx")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    per_side = 4
    results = {"command": " ".join(["python -m bench.scale", *(argv if argv is not None else sys.argv[1:])]),
               "machine": machine(), "sheets": per_side ** 2, "sheet_px": args.side // per_side,
               "km2": (args.side // per_side * per_side * 0.25 / 1000) ** 2, "block_px": args.block_size}
    with tempfile.TemporaryDirectory(prefix="landcover-scale-") as folder:
        work = Path(folder)
        side = args.side // per_side * per_side
        rgb, _ = generate_scene(side, side, 0.25, seed=SEED)
        scene = write_geotiff(work / "scene.tif", rgb, ORIGIN, 0.25)
        sheets = sheets_of(scene, work / "sheets", per_side)
        tick = time.perf_counter()
        single = segment(str(scene), str(args.model), str(work / "one.gpkg"), str(work / "one.tif"),
                         options=SegmentationOptions(overwrite=True))
        results["single"] = {"seconds": time.perf_counter() - tick, "tiles": single.tiles,
                             "vectorise_seconds": single.timings["vectorize"],
                             "polygons": polygon_summary(work / "one.gpkg")}
        expected = gdal.Open(str(work / "one.tif")).ReadAsArray()
        results["workers"] = []
        for workers in (1, 2):
            print(f"{workers} worker(s) ...", flush=True)
            run = run_workers(sheets, args.model, work, workers, args.block_size)
            run["same_pixels"] = float(np.mean(gdal.Open(run.pop("raster")).ReadAsArray() == expected))
            run["same_polygons"] = run["polygons"] == results["single"]["polygons"]
            results["workers"].append(run)
    one = results["workers"][0]
    cores = max(1, (results["machine"]["cores"] or 1))
    km2_per_hour = results["km2"] / one["block_seconds_sum"] * 3600
    vectorise = results["single"]["vectorise_seconds"] / results["km2"]
    worker_vector = sum(one["timings"].get(step, 0.0) for step in WORKER_STEPS) / results["km2"]
    serial = sum(one["timings"].get(step, 0.0) for step in SERIAL_STEPS) / results["km2"]
    worker_seconds = POLAND_KM2 * (3600 / km2_per_hour + worker_vector)
    serial_seconds = POLAND_KM2 * serial
    block_km2 = (args.block_size * 0.25 / 1000) ** 2
    results["plan"] = {"km2_per_hour_per_worker": km2_per_hour, "worker_cores": cores,
                       "vector_worker_s_per_km2": worker_vector, "vector_serial_s_per_km2": serial,
                       "poland_serial_hours": serial_seconds / 3600,
                       "poland_cpu_workers": int(np.ceil(worker_seconds / max(24 * 3600 - serial_seconds, 1.0))),
                       "poland_blocks": int(np.ceil(POLAND_KM2 / block_km2)),
                       "vectorise_s_per_km2": vectorise, "poland_vectorise_hours": POLAND_KM2 * vectorise / 3600,
                       "gpu": "not measured: no GPU was lent to this project's sessions yet (bench/results has no "
                              "GPU throughput to plan from)"}
    results["seconds"] = time.perf_counter() - started
    save_results(args.out, "scale", results, markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
