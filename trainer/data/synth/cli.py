"""`python -m trainer synth`: a LandCover.ai-shaped dataset of synthetic Polish countryside and towns."""
from __future__ import annotations

import argparse

from ..tiles import TILE_SIZE
from .dataset import write_dataset, write_layout_dataset
from .scene import SENSORS


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "synth", help="write a synthetic LandCover.ai-shaped dataset (no download needed)",
        description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="data/synth", help="output folder (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same dataset")
    parser.add_argument("--images", type=int, default=6, help="number of orthophotos (default: %(default)s)")
    parser.add_argument("--size", type=int, default=2048,
                        help="width in pixels of the 25 cm/px orthophotos (default: %(default)s; real: ~9000)")
    parser.add_argument("--tile-size", type=int, default=TILE_SIZE,
                        help="tile size the split lists are numbered for (default: %(default)s, as the real lists)")
    parser.add_argument("--towns", type=float, default=0.0, metavar="SHARE",
                        help="share of the orthophotos that are towns (street grids, housing slabs, halls, villas, "
                             "car parks) instead of countryside (default: %(default)s)")
    parser.add_argument("--sensor", choices=sorted(SENSORS), default="plain",
                        help="plain: small flight-to-flight colour differences; varied: the range of real cameras "
                             "(blur up to a 50 cm image's, saturation, colour temperature, contrast, haze; "
                             "default: %(default)s)")
    parser.add_argument("--layout", metavar="MASK.tif",
                        help="paint the orthophotos over this class raster (LandCover.ai values 0-4, e.g. a real mask) "
                             "instead of generating scenes: its geometry, grid and CRS; --images, --size and --towns "
                             "do not apply")
    parser.add_argument("--copies", type=int, default=2,
                        help="with --layout: how many differently painted orthophotos (default: %(default)s)")
    parser.add_argument("--overwrite", action="store_true", help="replace what the output folder holds")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.layout:
        out = write_layout_dataset(args.out, args.layout, args.copies, args.seed, args.tile_size, args.overwrite,
                                   args.sensor)
    else:
        out = write_dataset(args.out, args.seed, args.images, args.size, args.tile_size, args.overwrite, args.towns,
                            args.sensor)
    counts = {split: len((out / f"{split}.txt").read_text().split()) for split in ("train", "val", "test")}
    images = args.copies if args.layout else args.images
    print(f"Synthetic dataset in {out}: {images} orthophotos; tiles train {counts['train']}, "
          f"val {counts['val']}, test {counts['test']}. Cut the tiles with 'python -m trainer data "
          f"--source {out}" + (f" --tile-size {args.tile_size}" if args.tile_size != TILE_SIZE else "") + "'.")
    return 0
