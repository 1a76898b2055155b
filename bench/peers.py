"""`python -m bench.peers` (part of `make bench`): the engine against a Deepness-style loop, same networks.

The loop is written here for the benchmark from Deepness' documented behaviour (not its code): the
whole image in memory, ONNX Runtime, one tile per call, tiles overlapping by 15 % with each tile's
centre kept (hard crop, no blending), the class mosaic traced into polygons (contours, no cleaning).
Both run the same ONNX network on the same held-out synthetic km² at 25 cm/px whose ground truth is
known, end to end (raster -> GeoPackage), one after the other in one process; mIoU against the ground
truth says whether the speed costs accuracy. Two networks: the bundled model (trained), and the
full reference network (untrained: speed only). Results: bench/results/peers.{json,md}.
"""
from __future__ import annotations

import argparse
import math
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


def compare(label: str, raster: Path, truth: np.ndarray, onnx_model: Path, int8_model: Path, work: Path,
            trained: bool) -> dict:
    from osgeo import gdal

    peer = deepness_style(raster, onnx_model, work / "peer.gpkg")
    runs = {"deepness_style": {key: peer[key] for key in ("seconds", "model_seconds", "tiles", "polygons")}}
    found = {"deepness_style": peer["classes"]}
    for name, model in (("engine_float32", onnx_model), ("engine_int8", int8_model)):
        tick = time.perf_counter()
        result = segment(str(raster), str(model), str(work / f"{name}.gpkg"), str(work / f"{name}.tif"),
                         options=SegmentationOptions(overwrite=True))
        runs[name] = {"seconds": time.perf_counter() - tick, "model_seconds": result.timings["model"],
                      "tiles": result.tiles, "polygons": sum(result.polygons.values())}
        found[name] = gdal.Open(str(work / f"{name}.tif")).ReadAsArray()
    for name, classes in found.items():
        runs[name]["miou"] = miou(truth, classes) if trained else None
        runs[name]["speedup"] = runs["deepness_style"]["seconds"] / runs[name]["seconds"]
    return {"label": label, "trained": trained, "runs": runs}


def networks(work: Path):
    """(label, .keras model, trained) for the two networks."""
    from trainer.config import ModelConfig
    from trainer.models import build_model

    config = ModelConfig()
    metadata = ModelMetadata(classes=LANDCOVER_AI_CLASSES, input_size=config.input_size, resolution_cm=25.0,
                             name="deeplabv3plus-reference-untrained")
    yield "bundled model (256 px tiles)", REPO / "resources" / "models" / "default.keras", True
    yield "full reference network (512 px, untrained)", save_model(build_model(config), metadata,
                                                                   work / "reference.keras"), False


def markdown(results: dict) -> str:
    host = results["machine"]
    lines = ["# The engine against a Deepness-style loop", "",
             f"Machine: {host['cpu']} ({host['cores']} cores), {host['python']}. Run: `{results['command']}` "
             f"({results['seconds'] / 60:.1f} min). Raster: a held-out synthetic {results['km2']:g} km² at 25 cm/px "
             f"({results['pixels']} px), end to end to a GeoPackage, the same ONNX network for all.", "",
             "| network | run | tiles | seconds (model) | speed-up over the loop | polygons | mIoU vs truth |",
             "|---|---|---|---|---|---|---|"]
    names = {"deepness_style": "Deepness-style loop (float32, 15 % overlap, centre crop, contours)",
             "engine_float32": "engine, float32 (25 % overlap, blended, cleaned)",
             "engine_int8": "engine, int8"}
    for case in results["cases"]:
        for name, run in case["runs"].items():
            score = f"{run['miou']:.3f}" if run["miou"] is not None else "(untrained)"
            lines.append(f"| {case['label']} | {names[name]} | {run['tiles']} | {run['seconds']:.1f} "
                         f"({run['model_seconds']:.1f}) | {run['speedup']:.2f}x | {run['polygons']} | {score} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from trainer.data.synth import generate_scene
    from trainer.export import convert_model
    from trainer.quantize import quantize

    parser = argparse.ArgumentParser(prog="python -m bench.peers", description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=4000, help="side of the scene in px (4000: 1 km² at 25 cm)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = {"command": " ".join(["python -m bench.peers", *(argv if argv is not None else sys.argv[1:])]),
               "machine": machine(), "km2": (args.side * 0.25 / 1000) ** 2, "pixels": f"{args.side} x {args.side}",
               "cases": []}
    with tempfile.TemporaryDirectory(prefix="landcover-peers-") as folder:
        work = Path(folder)
        rgb, truth = generate_scene(args.side, args.side, 0.25, seed=HELD_OUT_SEED)
        raster = write_geotiff(work / "scene.tif", rgb, ORIGIN, 0.25)
        for label, keras_model, trained in networks(work):
            print(f"{label} ...", flush=True)
            onnx_model = convert_model(keras_model, work / f"{keras_model.stem}.onnx", overwrite=True)
            int8_model = work / f"{keras_model.stem}.int8.onnx"
            quantize(onnx_model, int8_model, calibration_tiles=16, check_tiles=4, overwrite=True)
            results["cases"].append(compare(label, raster, truth, onnx_model, int8_model, work, trained))
    results["seconds"] = time.perf_counter() - started
    save_results(args.out, "peers", results, markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
