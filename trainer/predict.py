"""`python -m trainer predict`: an orthophoto -> land-cover polygons (GeoPackage) and class raster.

Runs the plugin's own engine (landcover_qgis_plugin.core.engine) headless, with a progress bar and
a summary of the area per class and the time taken.
"""
from __future__ import annotations

import argparse
import sys

from landcover_qgis_plugin.core.engine import SegmentationResult
from landcover_qgis_plugin.core.options import (BANDS, CHOICE, CLASSES, EXTENT, FLAG, INTEGER, NUMBER, OPTIONS,
                                                POLYGON, OptionSpec, SegmentationOptions)
from landcover_qgis_plugin.core.scale.blocks import DEFAULT_BLOCK_PX


def _numbers(kind, count: int):
    def parse(text: str):
        try:
            values = tuple(kind(v) for v in text.replace(" ", "").split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of numbers") from None
        if len(values) != count:
            raise argparse.ArgumentTypeError(f"'{text}' must have {count} comma-separated numbers")
        return values
    return parse


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


# How each kind of option reads from the command line.
_ARGUMENTS = {
    NUMBER: lambda spec: dict(type=float),
    INTEGER: lambda spec: dict(type=int),
    FLAG: lambda spec: dict(action=argparse.BooleanOptionalAction if spec.default else "store_true"),
    CHOICE: lambda spec: dict(choices=spec.values),
    BANDS: lambda spec: dict(type=_numbers(int, 3), metavar="R,G,B"),
    CLASSES: lambda spec: dict(type=_names, metavar="NAME,..."),
    EXTENT: lambda spec: dict(type=_numbers(float, 4), metavar="XMIN,YMIN,XMAX,YMAX"),
    POLYGON: lambda spec: dict(metavar="WKT"),
}


def _add_option(parser: argparse.ArgumentParser, spec: OptionSpec) -> None:
    unit = f" {spec.unit}" if spec.unit else ""
    default = f" [default: %(default)s{unit}]" if spec.default not in (None, False) else ""
    text = spec.help.replace("%", "%%")   # argparse formats help with %: "99 %" would break --help
    parser.add_argument(spec.flag, dest=spec.name, default=spec.default, help=f"{text}{default}",
                        **_ARGUMENTS[spec.kind](spec))


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "predict", help="classify an orthophoto into per-class polygons and a class raster",
        description=__doc__.splitlines()[0])
    parser.add_argument("input", nargs="+",
                        help="georeferenced RGB raster (any GDAL format, any size); several rasters, folders, globs, "
                             "list files (.txt) or tile indexes (gdaltindex) are read as one seamless mosaic")
    parser.add_argument("--model", required=True, help="model file (.keras with landcover metadata)")
    parser.add_argument("--out", help="GeoPackage for the polygons, one layer per class (.gpkg)")
    parser.add_argument("--raster", help="class raster GeoTIFF (styled with the model's colours)")
    parser.add_argument("--probabilities", help="probability GeoTIFF, one band per class in percent")
    for spec in OPTIONS:
        _add_option(parser, spec)
    scale = parser.add_argument_group(
        "distributed runs", "blocks of the mosaic classified by Dask workers into a run folder that a killed run "
        "continues from; any of these options makes a run distributed")
    scale.add_argument("--workers", type=int, help="Dask worker processes on this machine (a LocalCluster)")
    scale.add_argument("--scheduler", metavar="tcp://HOST:8786", help="an existing Dask scheduler to run on")
    scale.add_argument("--run-dir", help="the run folder (default: OUT.run beside the first output)")
    scale.add_argument("--restart", action="store_true", help="start the run over, deleting its finished blocks")
    scale.add_argument("--block-size", type=int, default=DEFAULT_BLOCK_PX, metavar="PX",
                       help="side of a block in model pixels, rounded to whole tile steps [default: %(default)s]")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import contextlib
    from pathlib import Path

    from tqdm import tqdm

    from landcover_qgis_plugin.core.engine import segment
    from landcover_qgis_plugin.core.errors import OutputError
    from landcover_qgis_plugin.core.files import temporary_folder
    from landcover_qgis_plugin.core.mosaic import MOSAIC_VRT, build_mosaic, expand_inputs

    outputs = [path for path in (args.out, args.raster, args.probabilities) if path]
    if not outputs:
        raise OutputError("Nothing to write: give --out OUT.gpkg and/or --raster OUT.tif.")
    options = SegmentationOptions(**{spec.name: getattr(args, spec.name) for spec in OPTIONS})
    sheets = expand_inputs(args.input)
    clashes = {str(Path(path).resolve()) for path in outputs} & {str(Path(sheet).resolve()) for sheet in sheets}
    if clashes:
        raise OutputError(f"Output '{sorted(clashes)[0]}' is also an input sheet; give each output its own path.")
    bar = tqdm(total=100.0, unit="%", disable=args.quiet, file=sys.stderr,
               bar_format="{desc:<34} {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")

    def progress(percent: float, message: str) -> None:
        bar.set_description_str(message[:34], refresh=False)
        bar.update(max(percent - bar.n, 0.0))

    distributed = args.workers is not None or args.scheduler or args.run_dir
    if distributed and args.probabilities:
        raise OutputError("A distributed run writes the class raster and the polygons, not --probabilities; "
                          "leave it out, or run without --workers/--scheduler/--run-dir.")
    if distributed:
        from landcover_qgis_plugin.core.scale.runner import segment_many
        try:
            result = segment_many(sheets, args.model, args.run_dir or Path(outputs[0]).with_suffix(".run"),
                                  args.out, args.raster, options, args.workers or 1, args.scheduler, args.restart,
                                  args.block_size, progress)
        finally:
            bar.close()
        print(scale_summary(result.mosaic or sheets[0], result))
        return 0
    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(temporary_folder(outputs[0]))) if len(sheets) > 1 else Path(".")
        mosaic = build_mosaic(sheets, scratch / MOSAIC_VRT)
        try:
            result = segment(mosaic.path, args.model, args.out, args.raster, args.probabilities, options, progress)
        finally:
            bar.close()
    print(summary(mosaic.note or mosaic.path, result))
    return 0


def scale_summary(input_label: str, result) -> str:
    """A distributed run in a few lines: blocks, workers, time, area per class, files written."""
    steps = f", {result.reused_steps} sieving/vectorising tasks" if result.reused_steps else ""
    head = (f"{input_label}: {result.blocks} blocks ({result.reused} finished before{steps}), {result.tiles} tiles "
            f"on {result.workers} worker{'s' * (result.workers != 1)} in {result.seconds:.1f} s")
    return "\n".join([head, *_class_lines(result.area_ha, result.polygons, result.vector_area_ha),
                      *_written((("polygons", result.vector_path), ("class raster", result.raster_path),
                                 ("blocks", result.class_vrt))), *_notes(result.notes)])


def summary(input_path: str, result: SegmentationResult) -> str:
    """The run in a few lines: size, speed, device, area per class, files written."""
    megapixels = result.width * result.height / 1e6
    head = [f"{input_path}: {result.width} x {result.height} px at {result.pixel_size_m:.3g} m/px on the ground "
            f"({sum(result.area_ha.values()) / 100:.3f} km² classified), {result.tiles} tiles "
            f"({result.skipped_tiles} empty skipped) on {result.device} in {result.seconds:.1f} s "
            f"({megapixels / max(result.seconds, 1e-9):.2f} Mpx/s)",
            f"raster {result.reading}"]
    return "\n".join([*head, *_class_lines(result.area_ha, result.polygons, result.vector_area_ha),
                      *_written((("polygons", result.vector_path), ("class raster", result.raster_path),
                                 ("probabilities", result.probabilities_path))), *_notes(result.notes)])


def _class_lines(area_ha: dict[str, float], polygons: dict[str, int], polygon_ha: dict[str, float]) -> list[str]:
    lines = [f"{'class':<14}{'raster ha':>12}{'polygons':>10}{'polygon ha':>12}   (true ground areas)"]
    for name, hectares in area_ha.items():
        if name in polygons:
            lines.append(f"{name:<14}{hectares:>12.4f}{polygons[name]:>10d}{polygon_ha[name]:>12.4f}")
        else:
            lines.append(f"{name:<14}{hectares:>12.4f}{'-':>10}{'-':>12}")
    return lines


def _notes(notes: list[str]) -> list[str]:
    return [f"note: {note}" for note in notes]


def _written(outputs) -> list[str]:
    return [f"wrote {label}: {path}" for label, path in outputs if path]
