"""`python -m trainer predict`: an orthophoto -> land-cover polygons (GeoPackage) and class raster.

Runs the plugin's own engine (landcover_qgis_plugin.core.engine) headless, with a progress bar and
a summary of the area per class and the time taken.
"""
from __future__ import annotations

import argparse
import sys

from landcover_qgis_plugin.core.engine import DEVICES, PRECISIONS, SegmentationOptions, SegmentationResult

DEFAULTS = SegmentationOptions()


def _numbers(kind, count: int | None = None):
    def parse(text: str):
        try:
            values = tuple(kind(v) for v in text.replace(" ", "").split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of numbers") from None
        if count is not None and len(values) != count:
            raise argparse.ArgumentTypeError(f"'{text}' must have {count} comma-separated numbers")
        return values
    return parse


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "predict", help="classify an orthophoto into per-class polygons and a class raster",
        description=__doc__.splitlines()[0])
    parser.add_argument("input", help="georeferenced RGB raster (any GDAL format, any size)")
    parser.add_argument("--model", required=True, help="model file (.keras with landcover metadata)")
    parser.add_argument("--out", help="GeoPackage for the polygons, one layer per class (.gpkg)")
    parser.add_argument("--raster", help="class raster GeoTIFF (styled with the model's colours)")
    parser.add_argument("--probabilities", help="probability GeoTIFF, one band per class in percent")
    parser.add_argument("--overlap", type=float, default=DEFAULTS.overlap,
                        help="fraction of a tile shared with each neighbour, 0..0.5 (default %(default)s)")
    parser.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size,
                        help="tiles per model call (default %(default)s)")
    parser.add_argument("--device", choices=DEVICES, default=DEFAULTS.device)
    parser.add_argument("--precision", choices=tuple(PRECISIONS), default=DEFAULTS.precision,
                        help="bfloat16/float16: Keras mixed precision, faster on hardware that has it")
    parser.add_argument("--tta", action="store_true", help="average over flips (4x slower, smoother)")
    parser.add_argument("--bands", type=_numbers(int, 3), metavar="R,G,B",
                        help="1-based source bands for red, green, blue (default: colour interpretation)")
    parser.add_argument("--extent", type=_numbers(float, 4), metavar="XMIN,YMIN,XMAX,YMAX",
                        help="classify only this rectangle (raster CRS)")
    parser.add_argument("--mask-wkt", metavar="WKT", help="classify only inside this polygon (raster CRS)")
    parser.add_argument("--classes", type=_names, metavar="NAME,...",
                        help="classes to vectorise (default: all but background)")
    parser.add_argument("--simplify", type=float, default=DEFAULTS.simplify,
                        help="simplification tolerance in pixels, 0 = pixel outlines (default %(default)s)")
    parser.add_argument("--min-area", type=float, default=DEFAULTS.min_area,
                        help="m²; smaller regions merge into their neighbour (default %(default)s)")
    parser.add_argument("--fill-holes", type=float, default=DEFAULTS.fill_holes,
                        help="m²; smaller holes are filled (default %(default)s)")
    parser.add_argument("--square-buildings", action="store_true", help="right angles for building outlines")
    parser.add_argument("--max-vertices", type=int, default=DEFAULTS.max_vertices,
                        help="a region traced with more vertices is split along a row into several "
                             "polygons, bounding memory; 0 = never split (default %(default)s)")
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from landcover_qgis_plugin.core.engine import segment

    if not (args.out or args.raster or args.probabilities):
        raise ValueError("Nothing to write: give --out OUT.gpkg and/or --raster OUT.tif.")
    options = SegmentationOptions(
        overlap=args.overlap, batch_size=args.batch_size, device=args.device, tta=args.tta,
        extent=args.extent, mask_wkt=args.mask_wkt, bands=args.bands, classes=args.classes,
        simplify=args.simplify, min_area=args.min_area, fill_holes=args.fill_holes,
        square_buildings=args.square_buildings, max_vertices=args.max_vertices,
        overwrite=args.overwrite, precision=args.precision)
    bar = tqdm(total=100.0, unit="%", disable=args.quiet, file=sys.stderr,
               bar_format="{desc:<34} {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")

    def progress(percent: float, message: str) -> None:
        bar.set_description_str(message[:34], refresh=False)
        bar.update(max(percent - bar.n, 0.0))

    try:
        result = segment(args.input, args.model, args.out, args.raster, args.probabilities, options, progress)
    finally:
        bar.close()
    print(summary(args.input, result))
    return 0


def summary(input_path: str, result: SegmentationResult) -> str:
    """The run in a few lines: size, speed, device, area per class, files written."""
    megapixels = result.width * result.height / 1e6
    lines = [f"{input_path}: {result.width} x {result.height} px at {result.pixel_size_m:g} m/px "
             f"({megapixels * result.pixel_size_m ** 2:.3f} km²), {result.tiles} tiles "
             f"({result.skipped_tiles} empty skipped) on {result.device} in {result.seconds:.1f} s "
             f"({megapixels / max(result.seconds, 1e-9):.2f} Mpx/s)",
             f"{'class':<14}{'raster ha':>12}{'polygons':>10}{'polygon ha':>12}"]
    for name, hectares in result.area_ha.items():
        if name in result.layers:
            lines.append(f"{name:<14}{hectares:>12.4f}{result.polygons[name]:>10d}"
                         f"{result.vector_area_ha[name]:>12.4f}")
        else:
            lines.append(f"{name:<14}{hectares:>12.4f}{'-':>10}{'-':>12}")
    for label, path in (("polygons", result.vector_path), ("class raster", result.raster_path),
                        ("probabilities", result.probabilities_path)):
        if path:
            lines.append(f"wrote {label}: {path}")
    return "\n".join(lines)
