"""`python -m trainer export`: the single model file the plugin loads, optionally an ONNX copy (also of an
existing model file: `--model FILE.keras --onnx FILE.onnx`).

The file carries everything the plugin needs to use the network correctly (classes and colours,
tile size, ground resolution, input normalisation) and what a user needs to trust it (training
data, validation and test scores), so nothing has to be re-entered by hand.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Optional

from landcover_qgis_plugin.core.errors import InputError
from landcover_qgis_plugin.core.modelfile import (
    LANDCOVER_AI_RESOLUTION_CM, ModelMetadata, Normalization, load_model, save_model)
from landcover_qgis_plugin.core.networks.config import describe_architecture

from .config import RunConfig
from .data.classes import DEFAULT_CLASS_SET, class_set
from .data.curation import REFERENCE
from .runs import RunPaths


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "export", help="write the model file the plugin loads (and optionally ONNX)",
        description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", metavar="RUN_DIR", help="training run folder (from 'fit')")
    source.add_argument("--model", metavar="FILE.keras",
                        help="an existing model file to convert (with --onnx: its ONNX copy, same metadata)")
    parser.add_argument("--out", metavar="FILE.keras", help="model file to write (default RUN_DIR/model.keras)")
    parser.add_argument("--onnx", metavar="FILE.onnx", help="also write an ONNX model with Deepness metadata")
    parser.add_argument("--int8", metavar="FILE.onnx",
                        help="also an int8 copy of the ONNX model (static quantisation calibrated on synthetic "
                             "scenes; its agreement with float32 goes into its scores)")
    parser.add_argument("--resolution-cm", type=float, default=LANDCOVER_AI_RESOLUTION_CM, metavar="CM",
                        help="ground resolution the plugin resamples to, cm/px (default %(default)g)")
    parser.add_argument("--name", help="model name shown in the plugin (default: the run's name)")
    parser.add_argument("--description", default="", help="one line shown in the plugin")
    parser.add_argument("--training-data", metavar="TAG",
                        help="what the network was trained on (default: the run's data folder and its manifest)")
    parser.add_argument("--licence", default="", help="the weights' terms of use, shown in the plugin")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    parser.set_defaults(func=run)


def collect_scores(paths: RunPaths) -> dict:
    """The best monitored validation score seen while training, plus every split `evaluate` has scored."""
    from .training.state import best_score_of

    scores: dict = {}
    if paths.state.is_file():
        monitor, best = best_score_of(paths.state)
        if best is not None:
            scores[f"fit_best_{monitor}"] = best
    for metrics_file in sorted(paths.evaluation.glob("*/metrics.json")):
        metrics = json.loads(metrics_file.read_text())
        scores[metrics["split"]] = {"miou": metrics["miou"], "per_class_iou": metrics["per_class_iou"],
                                    "tiles": metrics["tiles"]}
    return scores


def describe_training_data(config: RunConfig) -> str:
    tag = f"tiles of {config.data.root} ({config.data.tile_size} px, run {config.name}"
    if config.data.classes != DEFAULT_CLASS_SET:
        tag += ", classes " + "/".join(info.name for info in class_set(config.data.classes))
    if config.data.exclude_list == REFERENCE:
        tag += ", excluding the reference's curated low-quality tiles"
    elif config.data.exclude_list:
        tag += f", excluding the tiles listed in {Path(config.data.exclude_list).name}"
    return tag + ")"


def build_metadata(config: RunConfig, paths: RunPaths, resolution_cm: float, name: Optional[str] = None,
                   description: str = "", training_data: Optional[str] = None, licence: str = "") -> ModelMetadata:
    classes = class_set(config.data.classes)
    if config.model.num_classes != len(classes):
        raise InputError(f"Run '{paths.root}' has {config.model.num_classes} classes but its data.classes "
                         f"'{config.data.classes}' names {len(classes)}; export needs their names and colours.")
    return ModelMetadata(
        classes=classes,
        input_size=config.model.input_size,
        resolution_cm=resolution_cm,
        normalization=Normalization.named(config.data.normalization),
        name=name or f"landcover-{config.name}",
        description=description or config.description,
        architecture={**describe_architecture(config.model), "run": config.name},
        training_data=training_data or describe_training_data(config),
        scores=collect_scores(paths),
        licence=licence,
    )


def export_run(run_dir: str | Path, out: Optional[str | Path] = None, onnx: Optional[str | Path] = None,
               resolution_cm: float = LANDCOVER_AI_RESOLUTION_CM, name: Optional[str] = None,
               description: str = "", training_data: Optional[str] = None,
               overwrite: bool = False, licence: str = "") -> tuple[Path, ModelMetadata]:
    """Write a run's best network with its metadata, then load it back to prove the file works."""
    from .runs import load_run_model

    paths = RunPaths(Path(run_dir))
    model, config = load_run_model(run_dir)
    metadata = build_metadata(config, paths, resolution_cm, name, description, training_data, licence)
    target = Path(out) if out else paths.root / "model.keras"
    save_model(model, metadata, target, overwrite=overwrite)
    _, metadata = load_model(target)
    if onnx:
        from .onnx_export import export_onnx
        export_onnx(model, metadata, onnx, overwrite=overwrite)
    return target, metadata


def convert_model(model_path: str | Path, onnx: str | Path, overwrite: bool = False,
                  fast_softmax: bool = True) -> Path:
    """The ONNX copy of an existing .keras model file, carrying its metadata (and Deepness' keys)."""
    from .onnx_export import export_onnx

    model, metadata = load_model(model_path)
    return export_onnx(model, metadata, onnx, overwrite=overwrite, fast_softmax=fast_softmax)


def run(args: argparse.Namespace) -> int:
    if args.int8 and not args.onnx:
        raise InputError("--int8 quantises the ONNX copy: give --onnx FILE.onnx too.")
    if args.model:
        if not args.onnx:
            raise InputError("--model converts an existing model file: give --onnx FILE.onnx for its ONNX copy.")
        target = convert_model(args.model, args.onnx, args.overwrite)
        print(f"Wrote {target} ({target.stat().st_size / 1e6:.1f} MB, ONNX with the metadata of {args.model} and "
              "Deepness' keys)")
        _write_int8(args)
        return 0
    target, metadata = export_run(args.run, args.out, args.onnx, args.resolution_cm, args.name,
                                  args.description, args.training_data, args.overwrite, args.licence)
    print(f"Wrote {target} ({target.stat().st_size / 1e6:.1f} MB): {metadata.name}, "
          f"{len(metadata.classes)} classes, {metadata.input_size} px tiles at {metadata.resolution_cm:g} cm/px")
    for split, value in metadata.scores.items():
        miou = value if isinstance(value, float) else value["miou"]
        print(f"  {split}: mIoU {miou:.4f}")
    if args.onnx:
        print(f"Wrote {args.onnx} (ONNX, Deepness metadata)")
    _write_int8(args)
    return 0


def _write_int8(args: argparse.Namespace) -> None:
    if not args.int8:
        return
    from .quantize import quantize

    agreement = quantize(args.onnx, args.int8, overwrite=args.overwrite)
    print(f"Wrote {args.int8} (int8): {agreement['pixel_agreement_with_float32'] * 100:.2f} % of pixels keep their "
          f"float32 class; synthetic mIoU {agreement['synthetic_miou_int8']:.3f} (float32 "
          f"{agreement['synthetic_miou_float32']:.3f})")

