"""`python -m bench.real [--model FILE ...]`: models scored on real orthophotos against hand-made ground truth.

The truths in bench/ground_truth/ (how they were made: its README) label the shared SWISSIMAGE
orthophotos (../shared/data); each model goes through `trainer evaluate --raster --truth`, the
plugin's own engine at the model's resolution, and its per-class IoU is reported side by side.
Without models named, the bundled default. Results: bench/results/real.{json,md}. `--record` also writes
each `.keras` model's real check into its own metadata (`scores["real_check"]`), which the plugin's
model panel shows as such.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.inference import machine, save_results  # noqa: E402
from testkit import SHARED_DATA  # noqa: E402

GROUND_TRUTH = REPO / "bench" / "ground_truth"
DEFAULT_MODEL = REPO / "resources" / "models" / "default.keras"
RESULTS = REPO / "bench" / "results"
# What each truth shows, in the words the model panel and README use
IMAGE_NAMES = {"swissimage_1091-322_00": "a housing estate", "swissimage_ref-img": "a lake shore"}
TRUTH = ("two SWISSIMAGE orthophotos of one Swiss town (50 cm pixels, read at the model's resolution) with hand-drawn "
         "buildings, roads and water and trees by a colour rule; bench/results/real.md")


def truth_pairs(images: Path = SHARED_DATA) -> list[tuple[Path, Path]]:
    """(image, truth) for every committed truth whose image is at hand."""
    pairs = []
    for truth in sorted(GROUND_TRUTH.glob("*.truth.tif")):
        image = images / truth.name.replace(".truth.tif", ".tif")
        if not image.is_file():
            raise SystemExit(f"The image of {truth.name} is missing: expected {image} (the shared real data).")
        pairs.append((image, truth))
    return pairs


def score_models(models: list[Path], pairs: list[tuple[Path, Path]]) -> dict:
    from trainer.raster_score import score_raster

    scores: dict = {}
    with tempfile.TemporaryDirectory() as work:
        for model in models:
            scores[model_label(model, models)] = {
                image.stem: score_raster(str(model), str(image), str(truth), Path(work) / image.stem)
                for image, truth in pairs}
    return scores


def model_label(model: Path, models: list[Path]) -> str:
    """The file name, or its path where two models share a name (a model and its retrained successor)."""
    return model.name if sum(other.name == model.name for other in models) == 1 else str(model)


def markdown(results: dict) -> str:
    lines = ["# Models on real orthophotos (bench.real)", "",
             "Per-class IoU against the hand-made truths of bench/ground_truth/ (README there), through the "
             "plugin's engine; `-`: the class is in neither truth nor prediction.", ""]
    for image in results["images"]:
        lines += [f"## {image}", "", "| model | mIoU | " + " | ".join(results["classes"]) + " |",
                  "|---" * (len(results["classes"]) + 2) + "|"]
        for model, per_image in results["scores"].items():
            metrics = per_image[image]
            cells = ["-" if metrics["per_class_iou"].get(name) is None else f"{metrics['per_class_iou'][name]:.3f}"
                     for name in results["classes"]]
            lines.append(f"| {model} | {metrics['miou']:.3f} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", type=Path, metavar="FILE",
                        help="a model file to score (repeat for several; default: the bundled default)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder (default bench/results)")
    parser.add_argument("--record", action="store_true",
                        help="write each .keras model's scores into its own metadata (scores.real_check)")
    args = parser.parse_args(argv)
    pairs = truth_pairs()
    models = args.model or [DEFAULT_MODEL]
    scores = score_models(models, pairs)
    first = next(iter(scores.values()))
    results = {"machine": machine(), "images": [image.stem for image, _ in pairs],
               "classes": list(next(iter(first.values()))["per_class_iou"]), "scores": scores}
    save_results(args.out, "real", results, markdown(results))
    if args.record:
        for model in models:
            record(model, scores[model_label(model, models)])
    return 0


def record(model: Path, scores: dict) -> None:
    """The real check in the model file's metadata and in its ONNX copy beside it (their networks untouched)."""
    import dataclasses

    from landcover_qgis_plugin.core.modelfile import read_metadata, update_metadata
    from trainer.onnx_export import update_onnx_metadata

    metadata = read_metadata(model)
    check = {"truth": TRUTH, "images": {IMAGE_NAMES.get(image, image): {
        "miou": round(score["miou"], 3), "per_class_iou": {name: round(iou, 3) for name, iou in
                                                           score["per_class_iou"].items()
                                                           if score["truth_pixels_per_class"][name]}}
        for image, score in scores.items()}}
    metadata = dataclasses.replace(metadata, scores={**metadata.scores, "real_check": check})
    update_metadata(model, metadata)
    if model.with_suffix(".onnx").is_file():
        update_onnx_metadata(model.with_suffix(".onnx"), read_metadata(model))


if __name__ == "__main__":
    sys.exit(main())
