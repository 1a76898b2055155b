"""Every segmentation option, declared once.

Each field of `SegmentationOptions` carries its declaration (kind, default, range, unit, label,
help, advanced or not). The engine validates with it, and each front-end derives its own form
from `OPTIONS`: the Processing parameters (`NAME`), the `trainer predict` flags (`--name`), the
dialog's widgets and its remembered settings (`landcover/name`). Adding an option is one field
here plus the engine code that uses it.

Labels and help texts are English; the plugin shows them through `tr()`, and tools/i18n.py
collects every literal passed to `translatable` for the translators.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from .errors import InputError
from .tiling import MAX_OVERLAP

# Kinds: how a value is typed, checked and shown.
NUMBER, INTEGER, FLAG, CHOICE = "number", "integer", "flag", "choice"
BANDS, CLASSES, EXTENT, POLYGON = "bands", "classes", "extent", "polygon"  # checked against the inputs
_SPEC = "landcover.option"


def translatable(text: str) -> str:
    """Mark a literal for the translators; the plugin translates it when it shows it."""
    return text


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class OptionSpec:
    """One option as every front-end sees it."""
    name: str                      # engine keyword and settings key; flag --name-with-dashes
    kind: str
    default: Any
    label: str
    help: str
    minimum: float | None = None
    maximum: float | None = None
    unit: str = ""                 # shown after numbers, e.g. "px", "m²"
    step: float = 1.0              # spin-box step
    decimals: int = 2
    choices: tuple[Choice, ...] = ()
    advanced: bool = True          # Processing: advanced parameter; dialog: in the advanced group
    processing: bool = True        # False: Processing has its own convention for it
    remembered: bool = True        # the dialog keeps the last value between runs
    parameter: str = ""            # Processing name when it is not NAME

    @property
    def parameter_name(self) -> str:
        return self.parameter or self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(choice.value for choice in self.choices)

    def check(self, value: Any) -> None:
        """Refuse a value of the wrong type or out of range, naming the option and what is allowed."""
        if value is None and self.default is None:
            return  # an optional option left unset
        if self.kind in (NUMBER, INTEGER):
            whole = self.kind == INTEGER
            number = isinstance(value, int) if whole else isinstance(value, (int, float)) and math.isfinite(value)
            if isinstance(value, bool) or not number or not self._in_range(value):
                raise InputError(f"{self.label} ({self.name}) {value!r} is out of range; use "
                                 f"{'a whole number' if whole else 'a number'} {self._range_text()} "
                                 f"(default {self.default}).")
        elif self.kind == FLAG and not isinstance(value, bool):
            raise InputError(f"{self.label} ({self.name}) must be true or false, got {value!r}.")
        elif self.kind == CHOICE and value not in self.values:
            raise InputError(f"{self.label} ({self.name}) {value!r} is unknown; use one of "
                             f"{', '.join(self.values)}.")

    @property
    def optional(self) -> bool:
        """A number the user may leave unset (None: the input decides)."""
        return self.kind in (NUMBER, INTEGER) and self.default is None

    def _in_range(self, value: float) -> bool:
        return ((self.minimum is None or value >= self.minimum)
                and (self.maximum is None or value <= self.maximum))

    def _range_text(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        if self.minimum is None:
            return unit.strip()
        if self.maximum is None:
            return f">= {self.minimum:g}{unit}"
        return f"from {self.minimum:g} to {self.maximum:g}{unit}"


def option(default: Any, kind: str, label: str, help: str, **declaration: Any) -> Any:
    """A dataclass field holding its own declaration."""
    return field(default=default, metadata={_SPEC: dict(kind=kind, label=label, help=help, **declaration)})


@dataclass(frozen=True)
class SegmentationOptions:
    """How to segment: the area, the model run and the cleaning of the polygons."""
    extent: tuple[float, float, float, float] | None = option(
        None, EXTENT, translatable("Extent"),
        translatable("Classify only this rectangle (xmin, ymin, xmax, ymax in the raster's CRS); "
                     "default: the whole raster."), advanced=False)
    mask_wkt: str | None = option(
        None, POLYGON, translatable("Only inside these polygons"),
        translatable("Classify only the pixels inside these polygons: WKT in the raster's CRS on the "
                     "command line; in QGIS a polygon layer (only its selected features, if so chosen)."),
        advanced=False, parameter="MASK")
    classes: tuple[str, ...] | None = option(
        None, CLASSES, translatable("Classes to vectorise"),
        translatable("Class names, comma separated; default: every class but background."))
    bands: tuple[int, ...] | None = option(
        None, BANDS, translatable("Red, green and blue bands"),
        translatable("The raster's 1-based bands holding red, green and blue; default: from the "
                     "raster's colour interpretation."))
    nodata: float | None = option(
        None, NUMBER, translatable("Nodata value"),
        translatable("A value that marks no data when every colour band holds it, for rasters that do not "
                     "declare one; default: as the raster says."))
    collars: bool = option(
        True, FLAG, translatable("Mask edge collars"),
        translatable("Leave out the uniform black or white borders that warping or exporting without a "
                     "nodata value leaves around an orthophoto (runs of such pixels from the edge)."))
    overlap: float = option(
        0.125, NUMBER, translatable("Tile overlap"),
        translatable("Fraction of a tile shared with each neighbour, 0 to 0.5; the tiles' predictions "
                     "are blended across it, so there are no seams. More is smoother and slower."),
        minimum=0.0, maximum=MAX_OVERLAP, step=0.025, decimals=3)
    batch_size: int = option(
        4, INTEGER, translatable("Batch size"),
        translatable("Tiles per model call; more is faster on a GPU and needs more memory."),
        minimum=1, maximum=256)
    device: str = option(
        "auto", CHOICE, translatable("Device"),
        translatable("Where the model runs; automatic takes the GPU when Keras sees one."),
        choices=(Choice("auto", translatable("Automatic")), Choice("cpu", translatable("CPU")),
                 Choice("gpu", translatable("GPU"))))
    runtime: str = option(
        "auto", CHOICE, translatable("Runtime"),
        translatable("What runs the model: automatic takes Keras for a .keras file and ONNX Runtime for an "
                     ".onnx file (ONNX Runtime alone is enough for those)."),
        choices=(Choice("auto", translatable("Automatic")), Choice("keras", "Keras"), Choice("onnx", "ONNX Runtime")))
    precision: str = option(
        "float32", CHOICE, translatable("Numeric precision"),
        translatable("bfloat16 and float16 run a Keras model in mixed precision; int8 runs an ONNX model's int8 "
                     "copy (FILE.int8.onnx beside it: python -m trainer export --int8); automatic measures the "
                     "faster of these against float32 on the first batch and keeps it if at least 99 % of its "
                     "pixels keep their class."),
        choices=(Choice("float32", "float32"), Choice("bfloat16", "bfloat16"), Choice("float16", "float16"),
                 Choice("int8", "int8"), Choice("auto", translatable("Automatic (measured)"))))
    tta: bool = option(
        False, FLAG, translatable("Test-time augmentation"),
        translatable("Average the predictions of each tile and its three flips: smoother, 4x slower."))
    simplify: float = option(
        1.0, NUMBER, translatable("Simplification tolerance"),
        translatable("Douglas-Peucker tolerance on the boundaries shared by neighbouring polygons, "
                     "so they still fit together; 0 keeps the pixel outlines."),
        minimum=0.0, maximum=100.0, step=0.25, unit=translatable("px"))
    min_area: float = option(
        2.0, NUMBER, translatable("Minimum polygon area"),
        translatable("Smaller regions merge into their largest neighbour, leaving no gap."),
        minimum=0.0, unit="m²", decimals=1)
    fill_holes: float = option(
        4.0, NUMBER, translatable("Fill holes smaller than"),
        translatable("Smaller holes in a polygon are filled."), minimum=0.0, unit="m²", decimals=1)
    square_buildings: bool = option(
        False, FLAG, translatable("Square building corners"),
        translatable("Snap building outlines to right angles along their main direction."))
    max_vertices: int = option(
        1_000_000, INTEGER, translatable("Split regions beyond this many vertices"),
        translatable("A region traced with more vertices is split along a row into several polygons "
                     "of its class, bounding memory on huge rasters; 0: never split."), minimum=0)
    overwrite: bool = option(
        False, FLAG, translatable("Overwrite existing files"),
        translatable("Replace outputs that exist; otherwise an existing file is never touched."),
        advanced=False, processing=False, remembered=False)
    wait: bool = option(
        False, FLAG, translatable("Wait for other runs writing the same outputs"),
        translatable("When another run is writing one of the outputs, wait until it has finished instead of "
                     "stopping; an output it wrote is then kept unless overwriting is allowed."),
        remembered=False)

    def check(self) -> None:
        """Every typed option in its range; the area, bands and classes are checked against the inputs."""
        for spec in OPTIONS:
            spec.check(getattr(self, spec.name))


OPTIONS: tuple[OptionSpec, ...] = tuple(
    OptionSpec(name=f.name, default=f.default, **f.metadata[_SPEC]) for f in dataclasses.fields(SegmentationOptions))
SPECS: dict[str, OptionSpec] = {spec.name: spec for spec in OPTIONS}
