"""`python -m trainer evaluate`: score a model on a split the way the reference does, and show where it fails.

One pass over the tiles accumulates the global confusion matrix (the reference's mIoU) and
every tile's own mIoU together; only the k best and k worst tiles' arrays are kept, for the
sample figures. Tiles under the review threshold are listed, lowest first, in a file that
`fit --exclude-list` reads as it is (the reference's curation rule: tile mIoU < 0.25). The same pass
also sums the confusion matrix without the reference's curated tiles (data/curation.py), so the split
is scored both ways.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import hashlib
import heapq
import json
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from landcover_qgis_plugin.core.errors import InputError
from landcover_qgis_plugin.core.files import atomic_write_text
from landcover_qgis_plugin.core.modelfile import ClassInfo, Normalization
from landcover_qgis_plugin.core.reference import REFERENCE_5_10_IOU, REFERENCE_5_10_MIOU

from .data.classes import class_set
from .data.curation import REFERENCE, reference_tiles
from .data.tiles import read_id_list
from .figures import confusion_matrix_chart, per_class_iou_chart, tile_panel
from .metrics import iou_from_confusion, tile_confusion_matrices

REVIEW_LIST = "lowest_iou_tiles.txt"
METRICS_FILE = "metrics.json"
EXAMPLE_PATTERNS = ("best_*_miou*.png", "worst_*_miou*.png")
# Colours for classes of a run whose class names are not LandCover.ai's (matplotlib's tab10).
FALLBACK_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                   "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def _count(minimum: int):
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value
    return parse


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="score a model on a split: mIoU, per-class IoU, figures, tiles to review",
        description="Score a model on a split the way the reference does (mIoU of one global confusion "
                    "matrix), draw its best and worst tiles, and list the tiles to review.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", metavar="RUN_DIR", help="training run folder (its best weights and config)")
    source.add_argument("--model", metavar="FILE.keras", help="exported model file (normalisation from its metadata)")
    parser.add_argument("--split", default="test", choices=("train", "val", "test"))
    parser.add_argument("--data", metavar="ROOT", help="prepared tiles folder (default: the run config's "
                        "data.root; for --model: data/landcoverai)")
    parser.add_argument("--out", metavar="DIR", help="output folder (default: RUN_DIR/evaluation/SPLIT, "
                        "or MODEL_evaluation/SPLIT beside a model file)")
    parser.add_argument("--batch-size", type=_count(1), default=4, metavar="N", help="tiles per batch (default 4)")
    parser.add_argument("--examples", type=_count(0), default=4, metavar="K",
                        help="best and worst tiles drawn as input | truth | prediction (default 4 each)")
    parser.add_argument("--curated", default=REFERENCE, metavar="FILE|reference",
                        help="tiles also left out for a second score (default: the reference's curated "
                             "low-quality tiles of the split; a list file of tile ids instead)")
    parser.add_argument("--review-threshold", type=float, default=0.25, metavar="MIOU",
                        help=f"tiles with mIoU below this go to {REVIEW_LIST} (default 0.25, the reference's rule)")
    own = parser.add_argument_group("your own labelled area", "score --model on a georeferenced image and a raster of "
                                    "its true classes (any CRS and resolution), through the plugin's engine")
    own.add_argument("--raster", metavar="IMAGE", help="the orthophoto (any GDAL raster)")
    own.add_argument("--truth", metavar="MASK", help="its classes: a raster of the model's class indices")
    parser.set_defaults(func=run)


@dataclass
class LoadedModel:
    """A network with what scoring it needs: classes, input normalisation, defaults, provenance."""
    model: Any
    classes: tuple[ClassInfo, ...]
    normalization: Normalization
    default_out_dir: Path
    provenance: dict


def curated_tiles(curated: str, split: str) -> list[str]:
    """The tiles to leave out for the second score: the reference's of this split, or a list file's."""
    return reference_tiles(split) if curated == REFERENCE else read_id_list(curated)


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _classes_for(named: tuple[ClassInfo, ...], num_classes: int) -> tuple[ClassInfo, ...]:
    """A run's classes (data.classes) when the network has as many outputs, else numbered ones."""
    if num_classes == len(named):
        return named
    return tuple(ClassInfo(k, f"class_{k}", FALLBACK_COLORS[k % len(FALLBACK_COLORS)]) for k in range(num_classes))


def load_for_evaluation(run_dir: Optional[str], model_file: Optional[str], split: str) -> LoadedModel:
    """Open a run folder's best weights or an exported model file."""
    if run_dir is not None:
        from .runs import RunPaths, load_run_model

        model, config = load_run_model(run_dir)
        paths = RunPaths(Path(run_dir))
        weights = paths.best_weights
        provenance = {"kind": "run", "run": str(paths.root.resolve()), "config": config.name,
                      "weights": str(weights.resolve()), "weights_sha256": _file_digest(weights),
                      "weights_modified": _dt.datetime.fromtimestamp(weights.stat().st_mtime, _dt.timezone.utc)
                      .isoformat(timespec="seconds"),
                      "architecture": dataclasses.asdict(config.model)}
        return LoadedModel(model, _classes_for(class_set(config.data.classes), int(model.outputs[0].shape[-1])),
                           Normalization.named(config.data.normalization), paths.evaluation / split, provenance)
    from landcover_qgis_plugin.core.modelfile import load_model

    path = Path(model_file)
    model, metadata = load_model(path)
    provenance = {"kind": "model_file", "path": str(path.resolve()), "sha256": _file_digest(path),
                  "name": metadata.name, "created": metadata.created, "architecture": metadata.architecture,
                  "training_data": metadata.training_data}
    return LoadedModel(model, metadata.classes, metadata.normalization, path.parent / f"{path.stem}_evaluation" / split, provenance)


@dataclass(order=True)
class TileExample:
    """A tile kept for a figure; ordered by score, then by arrival (earlier wins a tie)."""
    rank_key: tuple
    tile_id: str = field(compare=False)
    miou: float = field(compare=False)
    image: np.ndarray = field(compare=False, repr=False)
    truth: np.ndarray = field(compare=False, repr=False)
    prediction: np.ndarray = field(compare=False, repr=False)


class ExtremeTiles:
    """The k highest-scoring and k lowest-scoring tiles seen so far, in two bounded heaps."""

    def __init__(self, k: int):
        self.k = k
        self._best: list[TileExample] = []
        self._worst: list[TileExample] = []
        self._seen = 0

    def offer(self, tile_id: str, miou: float, image_fn, truth: np.ndarray, prediction: np.ndarray) -> None:
        """Keep the tile if it is among the k best or worst; `image_fn` renders its input only then."""
        self._seen += 1
        candidates = ((self._best, (miou, -self._seen)), (self._worst, (-miou, -self._seen)))
        for heap, key in candidates:
            if self.k == 0 or (len(heap) == self.k and key <= heap[0].rank_key):
                continue
            example = TileExample(key, tile_id, miou, image_fn(), truth.copy(), prediction.copy())
            if len(heap) < self.k:
                heapq.heappush(heap, example)
            else:
                heapq.heapreplace(heap, example)

    @property
    def best(self) -> list[TileExample]:
        return sorted(self._best, reverse=True)

    @property
    def worst(self) -> list[TileExample]:
        return sorted(self._worst, reverse=True)


@dataclass
class Evaluation:
    confusion: np.ndarray                      # (C, C) int64, summed over every tile
    tile_scores: list[tuple[str, float]]       # (tile id, tile mIoU) in data order
    best: list[TileExample]
    worst: list[TileExample]
    kept_confusion: Optional[np.ndarray] = None   # summed over the tiles not in the leave-out list
    left_out: list[str] = field(default_factory=list)   # the tiles of the leave-out list that were seen

    @property
    def miou(self) -> float:
        return iou_from_confusion(self.confusion)[0]

    @property
    def per_class_iou(self) -> np.ndarray:
        return iou_from_confusion(self.confusion)[1]


def _to_pixels(images: np.ndarray, normalization: Normalization) -> np.ndarray:
    """Undo the input normalisation, for drawing the input panel."""
    scale, offset = normalization.scale_offset()
    pixels = (images - np.float32(offset)) / np.float32(scale)
    return np.clip(np.rint(pixels), 0, 255).astype(np.uint8)


def evaluate_batches(model, batches, num_classes: int, normalization: Normalization,
                     examples: int = 4, leave_out: Sequence[str] = ()) -> Evaluation:
    """One pass over (images, masks, ids) batches: global confusion matrix, per-tile mIoU, extreme tiles,
    and the confusion matrix without the `leave_out` tiles (the curated ones)."""
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    kept = np.zeros_like(confusion)
    leave_out, left_out = set(leave_out), []
    tile_scores: list[tuple[str, float]] = []
    extremes = ExtremeTiles(examples)
    expected_size = tuple(model.inputs[0].shape[1:3])
    for images, masks, ids in batches:
        if None not in expected_size and tuple(images.shape[1:3]) != expected_size:
            raise InputError(f"The model takes {expected_size[0]}x{expected_size[1]} px tiles but the data has "
                             f"{images.shape[1]}x{images.shape[2]} px tiles; prepare tiles of the model's size "
                             "('python -m trainer data --tile-size ...') or pick the matching model.")
        prediction = np.argmax(np.asarray(model.predict_on_batch(images)), axis=-1).astype(np.uint8)
        tile_matrices = tile_confusion_matrices(masks, prediction, num_classes)
        confusion += tile_matrices.sum(axis=0)
        for index, score in enumerate(iou_from_confusion(tile_matrices)[0]):
            tile_id = ids[index].decode() if isinstance(ids[index], bytes) else str(ids[index])
            tile_scores.append((tile_id, float(score)))
            if tile_id in leave_out:
                left_out.append(tile_id)
            else:
                kept += tile_matrices[index]
            extremes.offer(tile_id, float(score), lambda: _to_pixels(images[index], normalization),
                           masks[index], prediction[index])
    return Evaluation(confusion, tile_scores, extremes.best, extremes.worst, kept, left_out)


def _json_number(value: float) -> Optional[float]:
    return None if math.isnan(value) else round(float(value), 6)


_NUMBER_LIST = re.compile(r"\[[-+.\deE,\s]+\]")


def _readable_json(data: dict) -> str:
    """Indented JSON with each list of numbers (a confusion-matrix row) on one line."""
    def one_line(match: re.Match) -> str:
        return "[" + ", ".join(item.strip() for item in match.group(0)[1:-1].split(",")) + "]"
    return _NUMBER_LIST.sub(one_line, json.dumps(data, indent=2))


def write_review_list(path: Path, tile_scores: Sequence[tuple[str, float]], threshold: float, split: str,
                      data_root: str) -> list[tuple[str, float]]:
    """Tiles below the threshold, lowest first, as `id<TAB>miou` lines under a `#` header."""
    flagged = sorted(((i, s) for i, s in tile_scores if s < threshold), key=lambda item: (item[1], item[0]))
    header = (f"# {len(flagged)} of {len(tile_scores)} '{split}' tiles of {data_root} with tile mIoU < "
              f"{threshold} (lowest first); check them by eye, then pass this file to "
              "'python -m trainer fit --exclude-list'\n# id\tmiou\n")
    atomic_write_text(path, header + "".join(f"{tile_id}\t{score:.4f}\n" for tile_id, score in flagged), overwrite=True)
    return flagged


def write_report(evaluation: Evaluation, out_dir: Path, classes: Sequence[ClassInfo], split: str,
                 review_threshold: float, provenance: dict) -> dict:
    """metrics.json, the two charts, the best/worst tile panels and the review list.

    `provenance` ({"model": ..., "data": {"root": ..., ...}, ...}) goes into metrics.json as it is.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    names = [c.name for c in classes]
    per_class = {name: _json_number(v) for name, v in zip(names, evaluation.per_class_iou)}
    is_landcover_ai = names == list(REFERENCE_5_10_IOU)
    flagged = write_review_list(out_dir / REVIEW_LIST, evaluation.tile_scores, review_threshold, split,
                                provenance["data"]["root"])
    confusion = evaluation.confusion
    metrics = {
        "split": split,
        "tiles": len(evaluation.tile_scores),
        "miou": _json_number(evaluation.miou),
        "per_class_iou": per_class,
        "pixel_accuracy": _json_number(np.trace(confusion) / max(confusion.sum(), 1)),
        "class_names": names,
        "confusion_matrix": confusion.tolist(),
        "confusion_matrix_axes": "rows: truth, columns: prediction (pixels)",
        "review_threshold": review_threshold,
        "tiles_below_review_threshold": len(flagged),
        "without_curated": _without_curated(evaluation, names),
        "reference_5_10": ({"miou": REFERENCE_5_10_MIOU, "per_class_iou": REFERENCE_5_10_IOU}
                           if is_landcover_ai else None),
        **provenance,
    }
    atomic_write_text(out_dir / METRICS_FILE, _readable_json(metrics), overwrite=True)
    colors = {c.name: c.color for c in classes}
    per_class_iou_chart(per_class, evaluation.miou, out_dir / "per_class_iou.png", colors,
                        REFERENCE_5_10_IOU if is_landcover_ai else None,
                        REFERENCE_5_10_MIOU if is_landcover_ai else None,
                        title=f"Per-class IoU, {split} split ({len(evaluation.tile_scores)} tiles)")
    confusion_matrix_chart(confusion, names, out_dir / "confusion_matrix.png")
    for pattern in EXAMPLE_PATTERNS:  # a previous evaluation's examples would mix with this one's
        for stale in out_dir.glob(pattern):
            stale.unlink()
    for prefix, examples in (("best", evaluation.best), ("worst", evaluation.worst)):
        for rank, example in enumerate(examples, start=1):
            tile_panel(example.image, example.truth, example.prediction, classes,
                       f"{prefix} {rank}: tile {example.tile_id}, mIoU {example.miou:.3f}",
                       out_dir / f"{prefix}_{rank}_miou{example.miou:.3f}_{example.tile_id}.png")
    return metrics


def _without_curated(evaluation: Evaluation, names: Sequence[str]) -> Optional[dict]:
    """The scores on the tiles outside the curated list (None when none of its tiles was there)."""
    if not evaluation.left_out or evaluation.kept_confusion is None:
        return None
    miou, per_class = iou_from_confusion(evaluation.kept_confusion)
    return {"tiles": len(evaluation.tile_scores) - len(evaluation.left_out), "left_out": len(evaluation.left_out),
            "left_out_tiles": sorted(evaluation.left_out), "miou": _json_number(miou),
            "per_class_iou": {name: _json_number(v) for name, v in zip(names, per_class)}}


def print_summary(metrics: dict) -> None:
    reference = metrics["reference_5_10"]
    print(f"\n{metrics['split']} split: {metrics['tiles']} tiles, mIoU {metrics['miou']:.4f}"
          + (f" (reference run 5.10: {reference['miou']:.3f})" if reference else ""))
    print(f"{'class':<14}{'IoU':>8}" + (f"{'reference':>11}" if reference else ""))
    for name, value in metrics["per_class_iou"].items():
        shown = "n/a" if value is None else f"{value:.4f}"
        print(f"{name:<14}{shown:>8}" + (f"{reference['per_class_iou'][name]:>11.3f}" if reference else ""))
    curated = metrics.get("without_curated")
    if curated:
        print(f"without the {curated['left_out']} curated low-quality tiles: {curated['tiles']} tiles, "
              f"mIoU {curated['miou']:.4f}")
    print(f"{metrics['tiles_below_review_threshold']} tiles below mIoU {metrics['review_threshold']} "
          f"listed in {REVIEW_LIST}")


def run(args: argparse.Namespace) -> int:
    if args.raster or args.truth:
        return _run_on_raster(args)
    from tqdm import tqdm

    from .config import DataConfig
    from .data.pipeline import read_split_ids, tile_dataset
    from .runs import load_run_config

    started = time.perf_counter()
    # The data is checked before the (slow) model load, so a wrong path fails at once.
    data_root = args.data or (load_run_config(args.run).data.root if args.run else DataConfig().root)
    if not Path(data_root).is_dir():
        raise InputError(f"Data folder '{data_root}' does not exist; prepare tiles with "
                         f"'python -m trainer data --root {data_root}' or pass --data ROOT.")
    tile_count = len(read_split_ids(data_root, args.split))
    loaded = load_for_evaluation(args.run, args.model, args.split)
    dataset = tile_dataset(data_root, args.split, args.batch_size, loaded.normalization, with_ids=True,
                           classes=loaded.classes)   # masks in the model's classes (roads: background/road)
    batches = tqdm(dataset.as_numpy_iterator(), total=math.ceil(tile_count / args.batch_size),
                   desc=f"evaluate {args.split}", unit="batch")
    evaluation = evaluate_batches(loaded.model, batches, len(loaded.classes), loaded.normalization, args.examples,
                                  curated_tiles(args.curated, args.split))
    out_dir = Path(args.out) if args.out else loaded.default_out_dir
    normalization = loaded.normalization
    provenance = {
        "model": loaded.provenance,
        "data": {"root": str(Path(data_root).resolve()), "split": args.split,
                 "split_file": str((Path(data_root) / f"{args.split}.txt").resolve()),
                 "normalization": {"mean": list(normalization.mean), "std": list(normalization.std)}},
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 2),
    }
    metrics = write_report(evaluation, out_dir, loaded.classes, args.split, args.review_threshold, provenance)
    print_summary(metrics)
    print(f"Results in {out_dir}")
    return 0


def _run_on_raster(args: argparse.Namespace) -> int:
    from .raster_score import print_raster_summary, score_raster

    if not (args.raster and args.truth and args.model):
        raise InputError("Scoring your own area takes --model FILE, --raster IMAGE and --truth MASK together.")
    out = Path(args.out) if args.out else Path(args.model).with_name(
        f"{Path(args.model).stem}_evaluation") / Path(args.raster).stem
    print_raster_summary(score_raster(args.model, args.raster, args.truth, out))
    print(f"Results in {out}")
    return 0
