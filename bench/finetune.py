"""`python -m bench.finetune [--minutes 5]`: the bundled model fine-tuned on part of a real photo, scored on the rest.

For each shared SWISSIMAGE orthophoto with its hand-made truth (bench/ground_truth): `trainer finetune` on the
left half (and on its left quarter, to see how the gain grows with the labelled area), then
`trainer evaluate --raster --truth` on the unseen right half, before and after, and the fine-tuned model on
the other orthophoto (does it still hold there?). Minutes of this machine's CPU, labelled hectares, per-class
IoU. Results: bench/results/finetune.{json,md}.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.inference import machine, save_results  # noqa: E402
from bench.real import DEFAULT_MODEL, IMAGE_NAMES, RESULTS, truth_pairs  # noqa: E402

SHARES = {"left half": 0.5, "left quarter": 0.25}


def cut(image: Path, truth: Path, folder: Path, start: float, end: float) -> tuple[Path, Path]:
    """The image's and the truth's columns from `start` to `end` (fractions of the width)."""
    from osgeo import gdal

    dataset = gdal.Open(str(image))
    width, height, gt = dataset.RasterXSize, dataset.RasterYSize, dataset.GetGeoTransform()
    dataset = None
    c0, c1 = round(start * width), round(end * width)
    bounds = [gt[0] + c0 * gt[1], gt[3], gt[0] + c1 * gt[1], gt[3] + height * gt[5]]
    name = f"{image.stem}_{start:.2f}_{end:.2f}"
    parts = folder / f"{name}.tif", folder / f"{name}.truth.tif"
    gdal.Translate(str(parts[0]), str(image), projWin=bounds)
    gdal.Translate(str(parts[1]), str(truth), projWin=bounds)
    return parts


def run_image(image: Path, truth: Path, other: tuple[Path, Path] | None, minutes: float, work: Path) -> dict:
    from trainer.finetune.command import finetune
    from trainer.finetune.labels import LabelSource
    from trainer.finetune.train import Settings
    from trainer.raster_score import score_raster

    unseen = cut(image, truth, work, 0.5, 1.0)
    results = {"before": score_raster(str(DEFAULT_MODEL), str(unseen[0]), str(unseen[1]), work / "before")}
    for label, share in SHARES.items():
        labelled = cut(image, truth, work, 0.0, share)
        out = work / f"{image.stem}_{share:.2f}.keras"
        tick = time.perf_counter()
        tuned = finetune(DEFAULT_MODEL, [LabelSource(str(labelled[0]), truth=str(labelled[1]))], out,
                         settings=Settings(minutes=minutes), overwrite=True, restart=True)
        entry = {"minutes": round((time.perf_counter() - tick) / 60, 2),
                 "labelled_ha": round(tuned.labelled_ha, 3),
                 "epochs": tuned.epochs, "validation": {"before": tuned.before, "after": tuned.after},
                 "unseen": score_raster(str(out), str(unseen[0]), str(unseen[1]), work / f"after_{share}")}
        if other is not None:
            entry["other_image"] = score_raster(str(out), str(other[0]), str(other[1]), work / f"other_{share}")
        results[label] = entry
    return results


def markdown(results: dict) -> str:
    classes = results["classes"]
    lines = ["# Fine-tuning on part of a real orthophoto (bench.finetune)", "",
             f"The bundled model fine-tuned for {results['minutes']:g} minutes (`trainer finetune`, defaults) on "
             "part of each shared SWISSIMAGE orthophoto, scored on its unseen right half against the hand-made truth "
             "(`trainer evaluate --raster --truth`); `other image`: the same fine-tuned model on the other "
             "orthophoto, whole.", "",
             "| image | labels | ha | epochs | min | mIoU | " + " | ".join(classes) + " |",
             "|---|---|---|---|---|---|" + "---|" * len(classes)]
    for image, result in results["images"].items():
        rows = [("before (bundled)", None, result["before"])]
        rows += [(label, result[label], result[label]["unseen"]) for label in SHARES]
        rows += [(f"{label}, other image", result[label], result[label]["other_image"]) for label in SHARES
                 if "other_image" in result[label]]
        for label, entry, score in rows:
            per_class = [f"{score['per_class_iou'][name]:.3f}" if score["per_class_iou"][name] is not None
                         else "-" for name in classes]
            ha = f"{entry['labelled_ha']:.2f}" if entry else "-"
            epochs = str(entry["epochs"]) if entry else "-"
            spent = f"{entry['minutes']:.1f}" if entry else "-"
            lines.append(f"| {IMAGE_NAMES.get(image, image)} | {label} | {ha} | {epochs} | {spent} | "
                         f"**{score['miou']:.3f}** | " + " | ".join(per_class) + " |")
    host = results["machine"]
    lines += ["", f"Machine: {host['cpu']} ({host['cores']} cores). Run: `{results['command']}`.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    # Before TensorFlow loads (the scoring loads it first): the small network trains without oneDNN (fit's caveat)
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="training budget per fine-tune")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder (default bench/results)")
    args = parser.parse_args(argv)
    pairs = truth_pairs()
    command = "python -m bench.finetune" + (f" --minutes {args.minutes:g}" if args.minutes != 5 else "")
    results: dict = {"machine": machine(), "minutes": args.minutes, "images": {}, "command": command}
    with tempfile.TemporaryDirectory() as work:
        for index, (image, truth) in enumerate(pairs):
            other = pairs[1 - index] if len(pairs) == 2 else None
            results["images"][image.stem] = run_image(image, truth, other, args.minutes, Path(work))
    first = next(iter(results["images"].values()))
    results["classes"] = list(first["before"]["per_class_iou"])
    save_results(args.out, "finetune", results, markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
