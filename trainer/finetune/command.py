"""`python -m trainer finetune`: a model fine-tuned on labelled images of your own area, as a new model file.

    finetune --model START --raster IMAGE --truth MASK [--raster IMAGE2 --truth MASK2 ...] --out NEW.keras
    finetune --model START --raster IMAGE --labels POLYGONS --class-field FIELD [--area AREA] --out NEW.keras

The new file says what it is (its parent, the images and labelled hectares, the validation scores before
and after, the parent's licence) and runs in the plugin unchanged; `--onnx` adds its ONNX copy.
"""
from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from landcover_qgis_plugin.core.errors import InputError, ModelFileError
from landcover_qgis_plugin.core.files import check_writable
from landcover_qgis_plugin.core.modelfile import ModelMetadata, load_network, read_metadata, save_model

from .labels import LabelSource

RUN_NAME = "finetune"


@dataclass
class FinetuneResult:
    model: Path
    onnx: Path | None
    metadata: ModelMetadata
    before: dict
    after: dict
    epochs: int
    seconds: float
    labelled_ha: float


def add_parser(subparsers) -> None:
    from .train import Settings

    defaults = Settings()
    parser = subparsers.add_parser(
        RUN_NAME, help="fine-tune a model file on labelled images of your own area",
        description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, metavar="START.keras",
                        help="the model file to start from (ours: the bundled default, an exported run, the "
                             "reference's); an .onnx file is replaced by the .keras beside it")
    parser.add_argument("--raster", action="append", required=True, metavar="IMAGE",
                        help="a labelled orthophoto (repeat, each with its --truth or --labels)")
    parser.add_argument("--truth", action="append", metavar="MASK",
                        help="its class raster: the model's class values, nodata = unlabelled")
    parser.add_argument("--labels", action="append", metavar="POLYGONS",
                        help="its label polygons (any vector file), their class in --class-field")
    parser.add_argument("--class-field", default="class", help="the polygons' field holding class names or values "
                                                               "[default: %(default)s]")
    parser.add_argument("--area", action="append", metavar="POLYGONS",
                        help="the area labelled with --labels: inside it, what no label covers is background")
    parser.add_argument("--out", required=True, metavar="NEW.keras", help="the new model file")
    parser.add_argument("--onnx", metavar="NEW.onnx", help="also its ONNX copy")
    parser.add_argument("--minutes", type=float, default=defaults.minutes,
                        help="time budget of the training, minutes [default: %(default)s]")
    parser.add_argument("--epochs", type=int, help="at most this many epochs (of 40 batches) instead of a time budget")
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate,
                        help="Adam's learning rate [default: %(default)s]")
    parser.add_argument("--name", help="the new model's name [default: the start's, '-finetuned']")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    parser.add_argument("--restart", action="store_true", help="start over, not from an interrupted run's epochs")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def sources_of(args: argparse.Namespace) -> list[LabelSource]:
    """The --raster arguments, each with its --truth or its --labels (and --area), in order."""
    rasters, truths, labels, areas = args.raster, args.truth or [], args.labels or [], args.area or []
    if truths and labels or len(truths or labels) != len(rasters):
        raise InputError(f"Give each --raster its --truth (a class raster) or, for all of them, its --labels "
                         f"(polygons): {len(rasters)} raster(s), {len(truths)} --truth, {len(labels)} --labels.")
    if areas and len(areas) != len(labels):
        raise InputError(f"Give each --labels its --area, or none: {len(labels)} --labels, {len(areas)} --area.")
    if truths:
        return [LabelSource(raster, truth=truth) for raster, truth in zip(rasters, truths)]
    return [LabelSource(raster, polygons=polygons, class_field=args.class_field, area=area)
            for raster, polygons, area in zip(rasters, labels, areas or [None] * len(labels))]


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .train import Settings

    settings = Settings(minutes=None if args.epochs else args.minutes, epochs=args.epochs,
                        learning_rate=args.learning_rate)
    bar = tqdm(total=settings.epochs, disable=args.quiet, file=sys.stderr, unit="epoch",
               bar_format="{desc} {n_fmt} epochs {elapsed}")

    def heard(progress) -> None:
        bar.set_description_str(f"loss {progress.loss:.3f}, val mIoU {progress.val_miou:.3f} "
                                f"(best {progress.best_miou:.3f})", refresh=False)
        bar.update(1)

    try:
        result = finetune(args.model, sources_of(args), args.out, args.onnx, settings, args.name, args.overwrite,
                          args.restart, heard)
    finally:
        bar.close()
    print(f"{result.model}: fine-tuned from {args.model} on {result.labelled_ha:.2f} ha in {result.epochs} epochs "
          f"({result.seconds / 60:.1f} min); validation mIoU {result.before['miou']:.3f} -> {result.after['miou']:.3f}")
    if result.onnx:
        print(f"wrote {result.onnx}")
    return 0


def start_model(path: str | Path) -> Path:
    """The .keras file training starts from (an ONNX copy stands for the .keras beside it)."""
    path = Path(path)
    if path.suffix.lower() == ".onnx":
        keras_file = path.with_suffix(".keras")
        if not keras_file.is_file():
            raise ModelFileError(f"Fine-tuning trains the Keras network: '{path}' is ONNX and no '{keras_file}' is "
                                 "beside it; give the .keras model file.")
        return keras_file
    read_metadata(path)
    return path


def finetune(model: str | Path, sources: Sequence[LabelSource], out: str | Path, onnx: str | Path | None = None,
             settings=None, name: str | None = None, overwrite: bool = False, restart: bool = False,
             report: Callable | None = None, is_cancelled: Callable[[], bool] | None = None) -> FinetuneResult:
    """Fine-tune `model` on the labelled `sources` into the model file `out` (see train.py)."""
    from ..training.hardware import avoid_onednn_training_crash
    from .chips import split, validation_chips
    from .labels import check_enough, read_labelled
    from .train import Settings, fingerprint, run_training, score, work_folder

    settings = settings or Settings()
    out = check_writable(out, overwrite)
    if onnx:
        check_writable(onnx, overwrite)
    start = start_model(model)
    parent = read_metadata(start)
    images = [read_labelled(source, parent) for source in sources]
    counts = check_enough(images, parent, parent.input_size ** 2)
    parts = split(images, parent.input_size, settings.seed)
    identity = fingerprint(start, sources, settings)
    work = work_folder(out, identity, restart)
    avoid_onednn_training_crash(float(parent.architecture.get("width", 1.0) or 1.0))
    network = load_network(start, parent)
    val_pixels, val_labels = validation_chips(images, parts.validation, parts.tile)
    before = score(network, val_pixels, val_labels, parent)   # the parent's weights: a resumed run restores its own
    record = run_training(network, parent, images, parts, counts, settings, work, identity, before["miou"],
                          report or (lambda progress: None), is_cancelled or (lambda: False))
    after = score(network, val_pixels, val_labels, parent)
    pixel_m2 = parent.resolution_m ** 2
    labelled_ha = float(counts.sum()) * pixel_m2 / 10_000
    metadata = describe(parent, start, sources, counts, labelled_ha, before, after, record, parts, name)
    save_model(network, metadata, out, overwrite=overwrite)
    onnx_path = None
    if onnx:
        from ..onnx_export import export_onnx
        onnx_path = export_onnx(network, read_metadata(out), onnx, overwrite=overwrite)
    shutil.rmtree(work, ignore_errors=True)
    return FinetuneResult(out, onnx_path, metadata, before, after, record.epochs, record.seconds, labelled_ha)


def describe(parent: ModelMetadata, start: Path, sources: Sequence[LabelSource], counts, labelled_ha: float,
             before: dict, after: dict, record, parts, name: str | None) -> ModelMetadata:
    """The new file's metadata: its parent, what it learned from, its scores before and after, the licence."""
    images = ", ".join(Path(source.image).name for source in sources)
    finetuned = {"parent": {"name": parent.name, "file": str(start), "scores": parent.scores},
                 "images": [source.image for source in sources], "labelled_ha": round(labelled_ha, 4),
                 "labelled_pixels": {info.name: int(n) for info, n in zip(parent.classes, counts)},
                 "validation_blocks": len(parts.validation), "before": before, "after": after,
                 "epochs": record.epochs, "minutes": round(record.seconds / 60, 2)}
    licence = parent.licence and f"{parent.licence} (inherited from {parent.name}, which it was fine-tuned from)"
    return dataclasses.replace(
        parent, name=name or f"{parent.name}-finetuned",
        description=f"{parent.name} fine-tuned on {images} ({labelled_ha:.2f} ha labelled).",
        training_data=f"fine-tuned on {images} ({labelled_ha:.2f} ha labelled), from {parent.name} "
                      f"(trained on {parent.training_data or 'data it does not name'})",
        scores={"finetune": finetuned}, created="", licence=licence)
