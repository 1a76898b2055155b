"""`python -m bench.inference` (`make bench`): speed, memory and reduced precision of the engine.

(a) The full reference network (trainer.models.build_model(ModelConfig()), untrained weights:
    speed does not depend on them) on a synthetic 1 km² orthophoto at 25 cm/px. To keep the default
    run short on a small CPU it classifies a `--crop` px square of that km² (`--full`: all of it) and
    reports per-tile numbers alongside: end-to-end and model-only Mpx/s, the share of time spent
    reading, running the model, blending, writing and vectorising, and the ratio against a naive
    baseline run on the same pixels in the same process (whole image in memory, non-overlapping
    tiles, one tile per call, contour tracing, no cleaning). Also: how many tiles other overlaps
    need, and bfloat16 against float32 on a few tiles (time and agreement).
(b) A tiny model (the colour model of core/testing.py with a 5x5 blur) on synthetic rasters of
    1, 4, 16 and 64 km² at 50 cm/px: VRT mosaics of one 1 km² scene, so they cost no disk. Each size
    runs in its own process; its peak RSS (the kernel's VmHWM) after classifying and after
    vectorising, and the time per km², show whether memory stays flat and time linear. GDAL's
    block cache is capped at 256 MB for these runs.

Results: bench/results/inference.json and inference.md; a run that skips a part (--skip) keeps that
part's numbers from the files already there.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import testkit  # noqa: E402
from landcover_qgis_plugin.core.engine import SegmentationOptions, segment  # noqa: E402
from landcover_qgis_plugin.core.runtime import with_precision  # noqa: E402
from landcover_qgis_plugin.core.geotiff import write_geotiff  # noqa: E402
from landcover_qgis_plugin.core.modelfile import (LANDCOVER_AI_CLASSES, ModelMetadata, load_model,  # noqa: E402
                                                  save_model)
from landcover_qgis_plugin.core.limits import StreamLimits  # noqa: E402
from landcover_qgis_plugin.core.tiling import TileGrid  # noqa: E402
from landcover_qgis_plugin.core.vectorize import VectorOptions, vectorize  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
ORIGIN = (500_000.0, 600_000.0)    # EPSG:2180 metres
KM = 1000.0
SCALING_CACHE_MB = 256
TINY_BLUR = 5
PARTS = {"full-network": "full_network", "scaling": "scaling", "runtimes": "runtimes"}   # --skip name -> key


def scene(path: Path, side_px: int, resolution_m: float, crop_px: int | None = None) -> Path:
    """A synthetic orthophoto of `side_px` squared (optionally its top-left crop) as a GeoTIFF."""
    from trainer.data.synth import generate_scene
    rgb, _ = generate_scene(side_px, side_px, resolution_m, seed=0)
    if crop_px:
        rgb = rgb[:crop_px, :crop_px]
    return write_geotiff(path, rgb, ORIGIN, resolution_m)


def naive_baseline(raster: Path, model_path: Path, out: Path) -> dict:
    """What a first attempt does: whole image in RAM, tiles side by side, one per call, contours."""
    from osgeo import gdal

    started = time.perf_counter()
    model, metadata = load_model(model_path)
    dataset = gdal.Open(str(raster))
    image = np.moveaxis(dataset.ReadAsArray(), 0, -1).astype(np.float32)
    size = metadata.input_size
    height, width = image.shape[:2]
    padded = np.zeros((math.ceil(height / size) * size, math.ceil(width / size) * size, 3), np.float32)
    padded[:height, :width] = image
    classes = np.zeros(padded.shape[:2], np.uint8)
    model_seconds, tiles = 0.0, 0
    for row in range(0, padded.shape[0], size):
        for col in range(0, padded.shape[1], size):
            tick = time.perf_counter()
            batch = metadata.normalization.apply(padded[row:row + size, col:col + size])[np.newaxis]
            classes[row:row + size, col:col + size] = np.argmax(model.predict_on_batch(batch)[0], axis=-1)
            model_seconds += time.perf_counter() - tick
            tiles += 1
    classes = classes[:height, :width]
    polygons = write_contours(classes, dataset, out)
    return {"seconds": time.perf_counter() - started, "model_seconds": model_seconds, "tiles": tiles,
            "polygons": polygons}


def write_contours(classes: np.ndarray, dataset, out: Path) -> int:
    """Each class's outlines traced as contours (what baselines do: no cleaning), one layer per class."""
    import contourpy
    from osgeo import ogr, osr

    x0, resolution, _, y0, _, _ = dataset.GetGeoTransform()
    srs = osr.SpatialReference(dataset.GetProjection())
    target = ogr.GetDriverByName("GPKG").CreateDataSource(str(out))
    polygons = 0
    for info in LANDCOVER_AI_CLASSES[1:]:
        layer = target.CreateLayer(info.name, srs=srs, geom_type=ogr.wkbPolygon)
        layer.StartTransaction()
        mask = np.pad((classes == info.value).astype(float), 1)
        for line in contourpy.contour_generator(z=mask).lines(0.5):
            if len(line) < 4:
                continue
            ring = ogr.Geometry(ogr.wkbLinearRing)
            for x, y in line:
                ring.AddPoint_2D(x0 + (x - 0.5) * resolution, y0 - (y - 0.5) * resolution)
            polygon = ogr.Geometry(ogr.wkbPolygon)
            polygon.AddGeometry(ring)
            feature = ogr.Feature(layer.GetLayerDefn())
            feature.SetGeometry(polygon)
            layer.CreateFeature(feature)
            polygons += 1
        layer.CommitTransaction()
    target = None
    return polygons


def precision_agreement(model_path: Path, raster: Path, tiles: int) -> dict:
    """bfloat16 against float32 on the first `tiles` tiles of the raster: time per tile, agreement.

    Compared before the softmax: an untrained network's class scores are near ties, so its class
    agreement says little, while the relative error of the scores is what decides for a trained
    network whose top two scores are typically units apart.
    """
    import keras
    from osgeo import gdal

    model, metadata = load_model(model_path)
    size = metadata.input_size
    image = np.moveaxis(gdal.Open(str(raster)).ReadAsArray(), 0, -1).astype(np.float32)
    batch = np.stack([image[r:r + size, c:c + size]
                      for r in range(0, image.shape[0] - size + 1, size)
                      for c in range(0, image.shape[1] - size + 1, size)][:tiles])
    inputs = metadata.normalization.apply(batch)
    found = {}
    for precision in ("float32", "bfloat16"):
        network = with_precision(model, precision)
        head = network.layers[-1]
        if isinstance(head, (keras.layers.Activation, keras.layers.Softmax)):
            network = keras.Model(network.inputs, head.input)   # class scores before the softmax
        network.predict_on_batch(inputs[:1])   # trace outside the timing
        tick = time.perf_counter()
        scores = np.concatenate([np.asarray(network.predict_on_batch(inputs[i:i + 1]), np.float32)
                                 for i in range(len(inputs))])
        found[precision] = (scores, (time.perf_counter() - tick) / len(inputs))
    full, reduced = found["float32"][0], found["bfloat16"][0]
    ranked = np.sort(full, axis=-1)
    return {"tiles": len(inputs),
            "float32_seconds_per_tile": found["float32"][1],
            "bfloat16_seconds_per_tile": found["bfloat16"][1],
            "score_relative_rms_error": float(np.sqrt(np.mean((full - reduced) ** 2)) / full.std()),
            "float32_median_top2_margin": float(np.median(ranked[..., -1] - ranked[..., -2])),
            "bfloat16_rms_score_error": float(np.sqrt(np.mean((full - reduced) ** 2))),
            "class_agreement": float((full.argmax(-1) == reduced.argmax(-1)).mean())}


def full_network(work: Path, crop_px: int, full: bool, precision_tiles: int) -> dict:
    from trainer.config import ModelConfig
    from trainer.models import build_model, forward_flops

    resolution = 0.25
    side = int(KM / resolution)
    raster = scene(work / "km2_25cm.tif", side, resolution, None if full else crop_px)
    config = ModelConfig()
    network = build_model(config)
    flops = forward_flops(network)
    metadata = ModelMetadata(classes=LANDCOVER_AI_CLASSES, input_size=config.input_size,
                             resolution_cm=resolution * 100, name="deeplabv3plus-reference-untrained")
    model_path = save_model(network, metadata, work / "reference.keras")
    del network
    options = SegmentationOptions()
    tick = time.perf_counter()
    result = segment(str(raster), str(model_path), str(work / "engine.gpkg"), str(work / "engine.tif"),
                     options=options)
    engine_seconds = time.perf_counter() - tick
    tick = time.perf_counter()
    plain = segment(str(raster), str(model_path), str(work / "plain.gpkg"), str(work / "plain.tif"),
                    options=SegmentationOptions(overlap=0.0))
    plain_seconds = time.perf_counter() - tick
    naive = naive_baseline(raster, model_path, work / "naive.gpkg")
    megapixels = result.width * result.height / 1e6
    tile_megapixels = config.input_size ** 2 / 1e6
    stages = {k: v / engine_seconds for k, v in result.timings.items()}
    stages["other (model loading, set-up)"] = 1.0 - sum(stages.values())
    overlaps = {}
    for overlap in (0.0, 0.125, 0.25, 0.5):
        grid = TileGrid.from_fraction(config.input_size, overlap)
        count = len(grid.starts(0, result.height)) * len(grid.starts(0, result.width))
        overlaps[str(overlap)] = {"tiles": count,
                                  "model_pixels_per_output_pixel": count * tile_megapixels / megapixels}
    return {
        "area_km2": megapixels * resolution ** 2,
        "pixels": [result.width, result.height],
        "resolution_m": resolution,
        "whole_km2": full,
        "forward_gflop_per_tile": flops / 1e9,
        "engine": {"seconds": engine_seconds, "tiles": result.tiles, "skipped_tiles": result.skipped_tiles,
                   "overlap": options.overlap, "batch_size": options.batch_size, "device": result.device,
                   "end_to_end_mpx_per_s": megapixels / engine_seconds,
                   "model_only_mpx_per_s": megapixels / result.timings["model"],
                   "model_seconds_per_tile": result.timings["model"] / result.tiles,
                   "model_gflop_per_s": flops * result.tiles / result.timings["model"] / 1e9,
                   "stage_shares": stages, "polygons": result.polygons},
        "engine_without_overlap": {"seconds": plain_seconds, "tiles": plain.tiles,
                                   "end_to_end_mpx_per_s": megapixels / plain_seconds,
                                   "model_seconds_per_tile": plain.timings["model"] / plain.tiles},
        "naive": {**naive, "end_to_end_mpx_per_s": megapixels / naive["seconds"],
                  "model_seconds_per_tile": naive["model_seconds"] / naive["tiles"]},
        "engine_speed_vs_naive": naive["seconds"] / engine_seconds,
        "engine_without_overlap_speed_vs_naive": naive["seconds"] / plain_seconds,
        "projected_1km2_engine_seconds": (KM / resolution) ** 2 / 1e6 / (megapixels / engine_seconds),
        "overlap_tiles": overlaps,
        "precision": precision_agreement(model_path, raster, precision_tiles),
    }


def peak_rss_mb() -> float:
    """This process's peak resident memory since it started (VmHWM; exec resets it, fork does not)."""
    line = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM"))
    return int(line.split()[1]) / 1024


def run_child(raster: str, model: str, out: str) -> None:
    """One scaling measurement, in its own process so its peak memory is its own.

    The same work as segment() with a GeoPackage output, in its two stages so that the peak memory
    of each shows: classifying into the class raster, then vectorising that raster.
    """
    classes = Path(out) / "out.tif"
    result = segment(raster, model, raster_path=str(classes))
    raster_peak = peak_rss_mb()
    tick = time.perf_counter()
    vectors = vectorize(classes, Path(out) / "out.gpkg", LANDCOVER_AI_CLASSES)
    vector_seconds = time.perf_counter() - tick
    print(json.dumps({"seconds": result.seconds + vector_seconds, "tiles": result.tiles,
                      "timings": {**result.timings, "vectorize": vector_seconds},
                      "pixels": [result.width, result.height], "peak_rss_classify_mb": raster_peak,
                      "peak_rss_mb": peak_rss_mb(), "polygons": sum(vectors.polygons.values())}))


def mosaic(tile: Path, repeat: int, path: Path) -> Path:
    """A VRT repeating `tile` repeat x repeat times: a large raster that costs no disk."""
    from osgeo import gdal
    source = gdal.Open(str(tile))
    width, height = source.RasterXSize, source.RasterYSize
    x0, resolution, _, y0, _, _ = source.GetGeoTransform()
    bands = []
    for band in range(1, 4):
        sources = "".join(
            f'<SimpleSource><SourceFilename relativeToVRT="0">{tile}</SourceFilename>'
            f"<SourceBand>{band}</SourceBand>"
            f'<SrcRect xOff="0" yOff="0" xSize="{width}" ySize="{height}"/>'
            f'<DstRect xOff="{c * width}" yOff="{r * height}" xSize="{width}" ySize="{height}"/></SimpleSource>'
            for r in range(repeat) for c in range(repeat))
        interpretation = ("Red", "Green", "Blue")[band - 1]
        bands.append(f'<VRTRasterBand dataType="Byte" band="{band}"><ColorInterp>{interpretation}</ColorInterp>'
                     f"{sources}</VRTRasterBand>")
    path.write_text(
        f'<VRTDataset rasterXSize="{width * repeat}" rasterYSize="{height * repeat}">'
        f"<SRS>{source.GetProjection().replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}</SRS>"
        f"<GeoTransform>{x0}, {resolution}, 0, {y0}, 0, {-resolution}</GeoTransform>"
        f"{''.join(bands)}</VRTDataset>")
    return path


def runtimes(work: Path, crop_px: int) -> dict:
    """Keras against ONNX Runtime, end to end (raster -> GeoPackage), the same network and raster: the
    bundled default model on the bundled sample, and the full reference network (untrained) on a
    `crop_px` square of the synthetic km²; class agreement of the two class rasters."""
    from osgeo import gdal

    from trainer.config import ModelConfig
    from trainer.export import convert_model
    from trainer.models import build_model
    from trainer.quantize import quantize

    config = ModelConfig()
    metadata = ModelMetadata(classes=LANDCOVER_AI_CLASSES, input_size=config.input_size, resolution_cm=25.0,
                             name="deeplabv3plus-reference-untrained")
    reference = save_model(build_model(config), metadata, work / "reference.keras")
    bundled = (REPO / "resources" / "models" / "default.keras", REPO / "resources" / "sample" / "sample_orthophoto.tif")
    cases = {"bundled model, bundled sample (1600 x 1600 px)": bundled,
             f"full network, {crop_px} x {crop_px} px": (reference, scene(work / "crop.tif", crop_px, 0.25))}
    found = {}
    for label, (keras_model, raster) in cases.items():
        onnx_model = convert_model(keras_model, work / f"{keras_model.stem}.onnx", overwrite=True)
        int8_model = work / f"{keras_model.stem}.int8.onnx"
        calibration = quantize(onnx_model, int8_model, calibration_tiles=16, check_tiles=8, overwrite=True)
        runs = {}
        for runtime, model in (("keras", keras_model), ("onnx", onnx_model), ("int8", int8_model)):
            tick = time.perf_counter()
            result = segment(str(raster), str(model), str(work / f"{runtime}.gpkg"), str(work / f"{runtime}.tif"),
                             options=SegmentationOptions(overwrite=True))
            runs[runtime] = {"seconds": time.perf_counter() - tick, "tiles": result.tiles,
                             "model_seconds": result.timings["model"]}
        classes = {runtime: gdal.Open(str(work / f"{runtime}.tif")).ReadAsArray() for runtime in runs}
        found[label] = {**runs, "speedup": runs["keras"]["seconds"] / runs["onnx"]["seconds"],
                        "int8_speedup": runs["keras"]["seconds"] / runs["int8"]["seconds"],
                        "class_agreement": float((classes["keras"] == classes["onnx"]).mean()),
                        "int8_class_agreement": float((classes["keras"] == classes["int8"]).mean()),
                        "int8_calibration": calibration}
    import onnxruntime
    return {"onnxruntime": onnxruntime.__version__, "cases": found}


def scaling(work: Path, sizes: list[int]) -> dict:
    resolution = 0.5
    tile = scene(work / "km2_50cm.tif", int(KM / resolution), resolution)
    model = testkit.save_colour_model(work / "tiny.keras", input_size=512, resolution_cm=resolution * 100,
                                      blur=TINY_BLUR, palette=testkit.NATURAL_PALETTE)
    environment = {**os.environ, "GDAL_CACHEMAX": str(SCALING_CACHE_MB), "TF_CPP_MIN_LOG_LEVEL": "2"}
    runs = []
    for km2 in sizes:
        repeat = math.isqrt(km2)
        if repeat * repeat != km2:
            raise SystemExit(f"--sizes takes square numbers of km² (1, 4, 16, 64), got {km2}")
        raster = mosaic(tile, repeat, work / f"mosaic_{km2}.vrt")
        out = work / f"run_{km2}"
        out.mkdir()
        tick = time.perf_counter()
        child = subprocess.run([sys.executable, "-m", "bench.inference", "--child", str(raster), str(model),
                                str(out)], cwd=REPO, env=environment, stdout=subprocess.PIPE, text=True)
        if child.returncode:
            raise SystemExit(f"the {km2} km² run failed (exit {child.returncode})")
        measured = json.loads(child.stdout.strip().splitlines()[-1])
        runs.append({"km2": km2, **measured, "process_seconds": time.perf_counter() - tick,
                     "seconds_per_km2": measured["seconds"] / km2})
        print(f"  {km2:>3} km²: {measured['seconds']:.1f} s, peak RSS "
              f"{measured['peak_rss_classify_mb']:.0f} MB classifying, {measured['peak_rss_mb']:.0f} MB "
              "with vectorising", flush=True)
        for file in out.iterdir():
            file.unlink()
    return {"resolution_m": resolution, "model": f"colour model, {TINY_BLUR}x{TINY_BLUR} blur, 512 px tiles",
            "gdal_cachemax_mb": SCALING_CACHE_MB, "runs": runs}


def markdown(results: dict) -> str:
    lines = ["# Inference benchmark", ""]
    a = results.get("full_network")
    if a:
        e, o, n, p = a["engine"], a["engine_without_overlap"], a["naive"], a["precision"]
        lines += [
            "## (a) Full reference network, synthetic orthophoto at 25 cm/px", "", provenance(a["run"]), "",
            f"DeepLabv3+ (modified Xception, output stride 16), {a['forward_gflop_per_tile']:.0f} GFLOP per "
            f"512 px tile; {a['pixels'][0]} x {a['pixels'][1]} px = {a['area_km2']:.3f} km² "
            f"{'(the whole km²)' if a['whole_km2'] else '(a crop of the km²; `--full` runs all of it)'}; "
            f"device {e['device']}.", "",
            f"| | engine (default: overlap {e['overlap']:g}, blended) | engine, overlap 0 | naive baseline |",
            "|---|---|---|---|",
            f"| tiles run | {e['tiles']} | {o['tiles']} | {n['tiles']} |",
            f"| end to end | {e['seconds']:.1f} s, {e['end_to_end_mpx_per_s']:.3f} Mpx/s | "
            f"{o['seconds']:.1f} s, {o['end_to_end_mpx_per_s']:.3f} Mpx/s | "
            f"{n['seconds']:.1f} s, {n['end_to_end_mpx_per_s']:.3f} Mpx/s |",
            f"| model per tile | {e['model_seconds_per_tile']:.2f} s ({e['model_gflop_per_s']:.0f} GFLOP/s) | "
            f"{o['model_seconds_per_tile']:.2f} s | {n['model_seconds_per_tile']:.2f} s |",
            f"| model-only throughput | {e['model_only_mpx_per_s']:.3f} Mpx/s of output | | |",
            f"| speed / naive speed | **{a['engine_speed_vs_naive']:.2f}x** | "
            f"**{a['engine_without_overlap_speed_vs_naive']:.2f}x** | 1 |",
            f"| polygons | {sum(e['polygons'].values())} (cleaned, simplified) | | "
            f"{n['polygons']} (raw contours) |",
            "", f"Projected default engine time for the whole km²: "
            f"{a['projected_1km2_engine_seconds'] / 60:.1f} min.", "",
            "Where the engine's time goes: " + ", ".join(
                f"{name} {share * 100:.1f} %" for name, share in e["stage_shares"].items()) + ".", "",
            "Model work per output pixel by overlap (tiles for this area; time is proportional on CPU):", "",
            "| overlap | tiles | model pixels per output pixel |", "|---|---|---|"]
        lines += [f"| {k} | {v['tiles']} | {v['model_pixels_per_output_pixel']:.2f} |"
                  for k, v in a["overlap_tiles"].items()]
        lines += ["", f"Reduced precision (Keras mixed_bfloat16) on {p['tiles']} tiles: float32 "
                  f"{p['float32_seconds_per_tile']:.2f} s/tile, bfloat16 "
                  f"{p['bfloat16_seconds_per_tile']:.2f} s/tile. Class scores before the softmax differ by "
                  f"{p['score_relative_rms_error'] * 100:.2f} % of their spread (RMS "
                  f"{p['bfloat16_rms_score_error']:.2g}); the untrained network's top two scores are only "
                  f"{p['float32_median_top2_margin']:.2g} apart (median), so its class agreement "
                  f"({p['class_agreement'] * 100:.1f} %) measures ties, not what a trained model would "
                  "see.", ""]
    b = results.get("scaling")
    if b:
        lines += ["## (b) Tiny model, growing rasters (VRT mosaics at 50 cm/px)", "", provenance(b["run"]), "",
                  f"{b['model']}; GDAL_CACHEMAX {b['gdal_cachemax_mb']} MB; one process per size.", "",
                  "| km² | pixels | tiles | polygons | seconds (classify + vectorise) | s per km² | "
                  "vectorising s per km² | peak RSS classifying | peak RSS with vectorising |",
                  "|---|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r['km2']} | {r['pixels'][0]} x {r['pixels'][1]} | {r['tiles']} | {r['polygons']} | "
                  f"{r['seconds']:.1f} ({r['seconds'] - r['timings']['vectorize']:.1f} + "
                  f"{r['timings']['vectorize']:.1f}) | {r['seconds_per_km2']:.2f} | "
                  f"{r['timings']['vectorize'] / r['km2']:.2f} | "
                  f"{r['peak_rss_classify_mb']:.0f} MB | {r['peak_rss_mb']:.0f} MB |" for r in b["runs"]]
        limits = StreamLimits()
        lines += ["", f"Classifying streams: its buffers (one tile row of a strip of at most {limits.strip_width} px) "
                  "stop growing once the raster is one strip wide, and the blocks GDAL caches are released "
                  "row by row, so its peak is flat from there on. Vectorising streams too: sieving and "
                  f"tracing read bands of {limits.band_pixels / 1e6:g} Mpx, hold only the regions crossing one "
                  "band's cut, and release GDAL's cached blocks band by band; cleaning takes one polygon at "
                  f"a time, and a region that would trace to more than {VectorOptions().max_vertices:,} vertices (here "
                  "the mosaic's road network, which joins up across all the repeated tiles) is split along a "
                  "cut. (Run on the whole raster, GDAL 3.6's polygonize held every polygon it traced: 1825 MB "
                  "peak and 275 s to vectorise 64 km² in an earlier version; without the split, the one road "
                  "polygon of 64 km², 1.5 million vertices and 51,753 holes, took the peak to 1667 MB.)", ""]
    c = results.get("runtimes")
    if c:
        lines += ["## (c) Keras against ONNX Runtime, float32 and int8 (the same network, end to end: raster -> "
                  "GeoPackage)", "", provenance(c["run"]) + f" ONNX Runtime {c['onnxruntime']}.", "",
                  "| case | tiles | Keras s (model s) | ONNX Runtime s (model s) | int8 s (model s) | speed-up "
                  "ONNX, int8 | same classes as Keras: ONNX, int8 |", "|---|---|---|---|---|---|---|"]
        lines += [f"| {label} | {r['onnx']['tiles']} | " + " | ".join(
                  f"{r[k]['seconds']:.1f} ({r[k]['model_seconds']:.1f})" for k in ("keras", "onnx", "int8"))
                  + f" | {r['speedup']:.2f}x, {r['int8_speedup']:.2f}x | {r['class_agreement'] * 100:.2f} %, "
                  f"{r['int8_class_agreement'] * 100:.2f} % |" for label, r in c["cases"].items()]
        lines += ["", "int8: ONNX Runtime static quantisation (QDQ, per-channel weights) calibrated on 16 synthetic "
                  "tiles. The untrained full network's class scores are near ties everywhere, so any rounding "
                  "flips its argmax nearly everywhere: its agreement says nothing, its speed is what it measures; "
                  "the trained bundled model's agreement is int8's quality."]
        lines += [""]
    return "\n".join(lines)


def provenance(run: dict) -> str:
    """Where a part's numbers come from: parts run separately keep their own machine and command."""
    host = run["machine"]
    return (f"Machine: {host['cpu']} ({host['cores']} cores), {host['python']}, TensorFlow {host['tensorflow']}, "
            f"Keras {host['keras']}. Run: `{run['command']}` ({run['seconds'] / 60:.1f} min in all).")


def kept_parts(path: Path, skipped: list[str]) -> dict:
    """The sections of the parts skipped now, from the results file a previous run wrote (if any),
    so that running one part leaves the other's numbers in place."""
    if not path.exists():
        return {}
    previous = json.loads(path.read_text())
    run = {"command": previous.get("command"), "seconds": previous.get("seconds"), "machine": previous.get("machine")}
    return {PARTS[part]: {"run": run, **previous[PARTS[part]]} for part in skipped if PARTS[part] in previous}


def machine() -> dict:
    import keras
    import tensorflow as tf
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "tensorflow": tf.__version__, "keras": keras.__version__, "features": cpu_features()}


SPEED_FEATURES = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8",
                  "asimd", "sve")   # what reduced-precision kernels use (x86 and Arm)


def cpu_features() -> list[str]:
    """The CPU's vector and reduced-precision instruction sets, as Linux names them."""
    try:
        flags = next(line.split(":", 1)[1].split() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith(("flags", "Features")))
    except (OSError, StopIteration):
        return []
    return [feature for feature in SPEED_FEATURES if feature in flags]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inference", description=__doc__.splitlines()[0])
    parser.add_argument("--crop", type=int, default=2048, help="side of the square classified in (a), px")
    parser.add_argument("--full", action="store_true",
                        help="(a) on the whole km² (make bench does; 2.4 min on 2 cores)")
    parser.add_argument("--precision-tiles", type=int, default=4)
    parser.add_argument("--sizes", default="1,4,16,64", help="km² for (b), square numbers")
    parser.add_argument("--skip", choices=tuple(PARTS), action="append", default=[],
                        help="leave a part out; its numbers already in --out stay as they are")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--child", nargs=3, metavar=("RASTER", "MODEL", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_child(*args.child)
        return 0
    started = time.perf_counter()
    given = argv if argv is not None else sys.argv[1:]
    results = {"command": " ".join(["python -m bench.inference", *given]), "machine": machine()}
    measured = []
    with tempfile.TemporaryDirectory(prefix="landcover-bench-") as folder:
        work = Path(folder)
        if "full-network" not in args.skip:
            print("(a) full reference network ...", flush=True)
            results["full_network"] = full_network(work, args.crop, args.full, args.precision_tiles)
            measured.append("full_network")
        if "scaling" not in args.skip:
            print("(b) tiny model on growing rasters ...", flush=True)
            results["scaling"] = scaling(work, [int(v) for v in args.sizes.split(",")])
            measured.append("scaling")
        if "runtimes" not in args.skip:
            print("(c) Keras against ONNX Runtime ...", flush=True)
            results["runtimes"] = runtimes(work, args.crop)
            measured.append("runtimes")
    results["seconds"] = time.perf_counter() - started
    run = {"command": results["command"], "seconds": results["seconds"], "machine": results["machine"]}
    for part in measured:
        results[part] = {"run": run, **results[part]}
    results.update(kept_parts(args.out / "inference.json", args.skip))
    save_results(args.out, "inference", results, markdown(results))
    return 0


def save_results(folder: Path, name: str, results: dict, text: str) -> None:
    """A benchmark's numbers as NAME.json and its report as NAME.md (printed too)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    (folder / f"{name}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
