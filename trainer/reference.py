"""`python -m trainer import-reference`: the reference work's published DeepLabv3+ weights as our model file.

The conversion itself (the checkpoint read with `tf.train.load_checkpoint` and mapped layer by layer
onto our DeepLabv3+, the metadata, the licence) is the plugin's `core/reference.py`, which the
dialog's "Get a LandCover.ai model…" runs too; this module is its command line: the source (the
published URL by default, fetched by `python -m trainer data`'s resumable downloader with a progress
bar into --cache-dir, so a second run downloads nothing; or the zip on disk; or a folder holding the
unpacked checkpoint), the output file and an optional ONNX copy.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Optional

from landcover_qgis_plugin.core.files import check_writable
from landcover_qgis_plugin.core.modelfile import ModelMetadata
from landcover_qgis_plugin.core.networks.config import NetworkConfig
from landcover_qgis_plugin.core.reference import (  # noqa: F401 (re-exported for the tests)
    CHECKPOINTS, DEFAULT_REVISION, REFERENCE_MODEL, WEIGHTS_ARCHIVE, assign_in_order, read_checkpoint, reference_url)
from landcover_qgis_plugin.core.reference import import_reference as convert

from .data.landcoverai import download

DEFAULT_CACHE_DIR = "data/reference"


def _fetch(url: str, destination: Path) -> Path:
    return download(url, destination, what=WEIGHTS_ARCHIVE)


def import_reference(out: str | Path, source: Optional[str] = None, revision: str = DEFAULT_REVISION,
                     best: str = "miou", onnx: Optional[str | Path] = None, overwrite: bool = False,
                     cache_dir: str | Path = DEFAULT_CACHE_DIR,
                     model: NetworkConfig = REFERENCE_MODEL) -> tuple[Path, ModelMetadata]:
    """Write the reference's weights as our model file (and optionally ONNX); returns its path and metadata.

    `model` is the network the checkpoint must fit: the reference's, or a smaller one in tests.
    """
    if onnx:
        check_writable(onnx, overwrite)   # before a long download, not after it
    network, target, metadata = convert(out, _fetch, cache_dir, source, revision, best, overwrite, model)
    if onnx:
        from .onnx_export import export_onnx
        export_onnx(network, metadata, onnx, overwrite=overwrite)
    return target, metadata


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "import-reference", help="convert the reference work's published weights into a model file",
        description=__doc__.splitlines()[0])
    parser.add_argument("--revision", default=DEFAULT_REVISION,
                        help="the reference's model revision (default: %(default)s, test mIoU 0.718)")
    parser.add_argument("--source", metavar="URL|ZIP|FOLDER",
                        help=f"where the weights are (default: {reference_url('{revision}')}), a downloaded "
                             "zip or the folder it unpacks to")
    parser.add_argument("--best", choices=CHECKPOINTS, default="miou",
                        help="which checkpoint: best validation mIoU (default, the one with published scores) "
                             "or best validation loss")
    parser.add_argument("--out", required=True, metavar="FILE.keras", help="model file to write")
    parser.add_argument("--onnx", metavar="FILE.onnx", help="also write an ONNX model with Deepness metadata")
    parser.add_argument("--cache-dir", default=DEFAULT_CACHE_DIR,
                        help="where the downloaded zip and the unpacked checkpoint go (default: %(default)s)")
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    target, metadata = import_reference(args.out, args.source, args.revision, args.best, args.onnx,
                                        args.overwrite, args.cache_dir)
    print(f"Wrote {target} ({target.stat().st_size / 1e6:.1f} MB): {metadata.name}, "
          f"{metadata.input_size} px tiles at {metadata.resolution_cm:g} cm/px, input x/255")
    test = metadata.scores.get("test")
    if test:
        print(f"  published test mIoU {test['miou']:.3f}")
    if args.onnx:
        print(f"Wrote {args.onnx} (ONNX, Deepness metadata)")
    print(f"Licence: {metadata.licence}")
    return 0
