"""`python -m bench.peers` (part of `make bench`): the engine against a Deepness-style loop, same networks.

The loop is written here for the benchmark from Deepness' documented behaviour (not its code): the
whole image in memory, ONNX Runtime, one tile per call, tiles overlapping by 15 % with each tile's
centre kept (hard crop, no blending), the class mosaic traced into polygons (contours, no cleaning).
Both take the same ONNX file: the network as Keras' own ONNX export writes it (as other tools' files
are, Deepness' model zoo's included); the loop runs it as it is, the engine as it runs any file (its
softmax rewritten, core/onnxgraph.py). For transparency the loop also runs our export, which carries
that rewrite. Same held-out synthetic km² at 25 cm/px with known ground truth, end to end (raster ->
GeoPackage), one process, the runs interleaved and repeated, medians reported; mIoU against the ground
truth says whether the speed costs accuracy. Two networks: the bundled model (trained), and the full
reference network (untrained unless `--full-model` gives trained weights, e.g. `trainer
import-reference`'s: without them its classes are near ties, so only its speed means anything).
Results: bench/results/peers.{json,md}.
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.inference import machine, save_results, write_contours  # noqa: E402
from landcover_qgis_plugin.core.engine import SegmentationOptions, segment  # noqa: E402
from landcover_qgis_plugin.core.geotiff import write_geotiff  # noqa: E402
from landcover_qgis_plugin.core.modelfile import LANDCOVER_AI_CLASSES, ModelMetadata, read_metadata, save_model  # noqa: E402,E501

RESULTS = REPO / "bench" / "results"
ORIGIN = (500_000.0, 600_000.0)
HELD_OUT_SEED = 4242           # a scene neither the bundled model nor its calibration saw
DEEPNESS_OVERLAP = 0.15
RUNS = {   # name -> what the report calls it
    "deepness_style": "Deepness-style loop (float32, 15 % overlap, centre crop, contours) on the file",
    "deepness_style_our_export": "the same loop on our export of the network (softmax rewritten)",
    "engine_float32": f"engine, defaults (float32, {SegmentationOptions.overlap:g} overlap, blended, cleaned)",
    "engine_auto": "engine, --precision auto (the int8 copy beside the file, kept if 99 % of pixels agree)",
    "engine_int8": "engine, --precision int8",
}
BASELINE = "deepness_style"


def deepness_style(raster: Path, model: Path, out: Path) -> dict:
    """The loop described in the module docstring; returns seconds, tiles and the class mosaic."""
    import onnxruntime
    from osgeo import gdal

    started = time.perf_counter()
    metadata = read_metadata(model)
    session = onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    dataset = gdal.Open(str(raster))
    image = np.moveaxis(dataset.ReadAsArray(), 0, -1).astype(np.float32)
    height, width = image.shape[:2]
    size = metadata.input_size
    margin = round(DEEPNESS_OVERLAP * size) // 2
    stride = size - 2 * margin
    rows, cols = math.ceil(height / stride), math.ceil(width / stride)
    padded = np.zeros((rows * stride + 2 * margin, cols * stride + 2 * margin, 3), np.float32)
    padded[margin:margin + height, margin:margin + width] = image
    mosaic = np.zeros((rows * stride, cols * stride), np.uint8)
    model_seconds = 0.0
    for row in range(rows):
        for col in range(cols):
            tile = padded[row * stride:row * stride + size, col * stride:col * stride + size]
            tick = time.perf_counter()
            batch = metadata.normalization.apply(tile).transpose(2, 0, 1)[np.newaxis]
            probabilities = session.run(None, {name: np.ascontiguousarray(batch)})[0][0]
            model_seconds += time.perf_counter() - tick
            mosaic[row * stride:(row + 1) * stride, col * stride:(col + 1) * stride] = \
                probabilities.argmax(axis=0)[margin:margin + stride, margin:margin + stride]
    classes = mosaic[:height, :width]
    polygons = write_contours(classes, dataset, out)
    return {"seconds": time.perf_counter() - started, "model_seconds": model_seconds, "tiles": rows * cols,
            "polygons": polygons, "classes": classes}


def miou(truth: np.ndarray, predicted: np.ndarray) -> float:
    from trainer.metrics import confusion_matrix, iou_from_confusion
    return float(iou_from_confusion(confusion_matrix(truth, predicted, len(LANDCOVER_AI_CLASSES)))[0])


def compare(label: str, raster: Path, truth: np.ndarray, files: dict[str, Path], work: Path, trained: bool,
            repeat: int) -> dict:
    """Every run of RUNS on one network, `repeat` times interleaved; medians of the timings."""
    from osgeo import gdal

    timings: dict[str, list[dict]] = {name: [] for name in RUNS}
    found: dict[str, np.ndarray] = {}
    for _ in range(repeat):
        for name in RUNS:
            if name.startswith("deepness_style"):
                model = files["ours"] if name.endswith("our_export") else files["standard"]
                peer = deepness_style(raster, model, work / f"{name}.gpkg")
                timings[name].append({key: peer[key] for key in ("seconds", "model_seconds", "tiles", "polygons")})
                found[name] = peer["classes"]
                continue
            precision = name.split("_", 1)[1]
            tick = time.perf_counter()
            result = segment(str(raster), str(files["standard"]), str(work / f"{name}.gpkg"), str(work / f"{name}.tif"),
                             options=SegmentationOptions(overwrite=True, precision=precision))
            timings[name].append({"seconds": time.perf_counter() - tick, "model_seconds": result.timings["model"],
                                  "tiles": result.tiles, "polygons": sum(result.polygons.values()),
                                  "device": result.device})
            found[name] = gdal.Open(str(work / f"{name}.tif")).ReadAsArray()
    runs = {}
    for name, measured in timings.items():
        runs[name] = {**measured[-1], "seconds": statistics.median(m["seconds"] for m in measured),
                      "model_seconds": statistics.median(m["model_seconds"] for m in measured),
                      "all_seconds": [m["seconds"] for m in measured],
                      "miou": miou(truth, found[name]) if trained else None}
    for name, run in runs.items():
        run["speedup"] = runs[BASELINE]["seconds"] / run["seconds"]
        run["speedup_over_loop_on_our_export"] = runs["deepness_style_our_export"]["seconds"] / run["seconds"]
    return {"label": label, "trained": trained, "repeat": repeat, "runs": runs}


def networks(work: Path, full_model: Path | None):
    """(label, .keras model, trained) for the two networks."""
    from trainer.config import ModelConfig
    from trainer.models import build_model

    yield "bundled model (256 px tiles)", REPO / "resources" / "models" / "default.keras", True
    if full_model is not None:
        yield f"full reference network (512 px, {full_model.name})", full_model, True
        return
    config = ModelConfig()
    metadata = ModelMetadata(classes=LANDCOVER_AI_CLASSES, input_size=config.input_size, resolution_cm=25.0,
                             name="deeplabv3plus-reference-untrained")
    yield "full reference network (512 px, untrained)", save_model(build_model(config), metadata,
                                                                   work / "reference.keras"), False


def markdown(results: dict) -> str:
    host = results["machine"]
    lines = ["# The engine against a Deepness-style loop", "",
             f"Machine: {host['cpu']} ({host['cores']} cores; {', '.join(host['features']) or 'no listed'} vector "
             f"features), Python {host['python']}, ONNX Runtime {results['onnxruntime']}. Run: `{results['command']}` "
             f"({results['seconds'] / 60:.1f} min). Raster: a held-out synthetic {results['km2']:g} km² at 25 cm/px "
             f"({results['pixels']} px), end to end to a GeoPackage, the same ONNX file for every run; on the "
             f"bundled model each run {results['repeat']} times, interleaved, median seconds.", "",
             "| network | run | tiles | seconds (model) | speed-up over the loop | over the loop on our export | "
             "ran as | polygons | mIoU vs truth |",
             "|---|---|---|---|---|---|---|---|---|"]
    for case in results["cases"]:
        for name, run in case["runs"].items():
            score = f"{run['miou']:.3f}" if run["miou"] is not None else "(untrained)"
            lines.append(f"| {case['label']} | {RUNS[name]} | {run['tiles']} | {run['seconds']:.1f} "
                         f"({run['model_seconds']:.1f}) | {run['speedup']:.2f}x | "
                         f"{run['speedup_over_loop_on_our_export']:.2f}x | {run.get('device', 'cpu')} | "
                         f"{run['polygons']} | {score} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    import onnxruntime

    from trainer.data.synth import generate_scene
    from trainer.export import convert_model
    from trainer.quantize import quantize

    parser = argparse.ArgumentParser(prog="python -m bench.peers", description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=4000, help="side of the scene in px (4000: 1 km² at 25 cm)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind on the bundled model, interleaved "
                                                               "(median reported); the full network's run once")
    parser.add_argument("--full-model", type=Path, help="trained weights of the full network (.keras), e.g. from "
                                                        "'python -m trainer import-reference'")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = {"command": " ".join(["python -m bench.peers", *(argv if argv is not None else sys.argv[1:])]),
               "machine": machine(), "onnxruntime": onnxruntime.__version__, "repeat": args.repeat,
               "km2": (args.side * 0.25 / 1000) ** 2, "pixels": f"{args.side} x {args.side}", "cases": []}
    with tempfile.TemporaryDirectory(prefix="landcover-peers-") as folder:
        work = Path(folder)
        rgb, truth = generate_scene(args.side, args.side, 0.25, seed=HELD_OUT_SEED)
        raster = write_geotiff(work / "scene.tif", rgb, ORIGIN, 0.25)
        for label, keras_model, trained in networks(work, args.full_model):
            print(f"{label} ...", flush=True)
            files = {"standard": convert_model(keras_model, work / f"{keras_model.stem}.onnx", overwrite=True,
                                               fast_softmax=False),
                     "ours": convert_model(keras_model, work / f"{keras_model.stem}.ours.onnx", overwrite=True)}
            quantize(files["standard"], files["standard"].with_suffix(".int8.onnx"), calibration_tiles=16,
                     check_tiles=4, overwrite=True)
            repeat = args.repeat if keras_model.stem == "default" else 1
            results["cases"].append(compare(label, raster, truth, files, work, trained, repeat))
    results["seconds"] = time.perf_counter() - started
    save_results(args.out, "peers", results, markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
