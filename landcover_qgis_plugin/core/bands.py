"""Which bands of a raster are red, green and blue, and how its values map onto the model's 0..255
(see raster.py's decisions)."""
from __future__ import annotations

import math
from typing import Sequence

from osgeo import gdal

from .errors import InputError
from .gdalio import gdal_errors

FLOAT_NEGATIVE_TOLERANCE = 0.05  # share of the white point that negative floats may reach (noise)
INTEGER_BIT_DEPTHS = (8, 10, 12, 14, 16)
EXACT_RANGE_PIXELS = 50_000_000  # larger rasters get GDAL's sampled min/max instead of a full pass


def choose_bands(dataset: gdal.Dataset, requested: Sequence[int] | None, model_bands: int,
                  path: str) -> tuple[int, ...]:
    count = dataset.RasterCount
    interpretation = [dataset.GetRasterBand(i).GetColorInterpretation() for i in range(1, count + 1)]
    data_bands = [i for i in range(1, count + 1) if interpretation[i - 1] != gdal.GCI_AlphaBand]
    if requested:
        requested = tuple(int(b) for b in requested)
        if len(requested) != model_bands:
            raise InputError(f"Band choice {requested} for '{path}' must name {model_bands} bands "
                             f"(the model's inputs, e.g. red, green, blue).")
        bad = [b for b in requested if b not in data_bands]
        if bad:
            raise InputError(f"'{path}' has no colour band {bad}: it has {count} band(s), "
                             f"colour bands {data_bands}; pick among those.")
        return requested
    if len(data_bands) < model_bands:
        kind = {1: "one-band", 2: "two-band"}.get(len(data_bands), f"{len(data_bands)}-band")
        hint = (" Is it a class mask, an elevation model or a single-channel image? Give the RGB "
                "orthophoto instead.")
        raise InputError(f"'{path}' is a {kind} raster; the model needs {model_bands} colour bands "
                         f"(red, green, blue).{hint}")
    if model_bands == 3:
        rgb = [interpretation.index(c) + 1 if c in interpretation else None
               for c in (gdal.GCI_RedBand, gdal.GCI_GreenBand, gdal.GCI_BlueBand)]
        if None not in rgb:
            return tuple(rgb)  # type: ignore[arg-type]
    if len(data_bands) == model_bands:
        return tuple(data_bands)
    raise InputError(f"'{path}' has {len(data_bands)} bands without red/green/blue colour "
                     f"interpretation; say which {model_bands} bands to use in model order, "
                     f"e.g. --bands 1,2,3 (or 3,2,1 for BGR).")


def white_point(dataset: gdal.Dataset, bands: Sequence[int], path: str) -> float | None:
    """The source value that maps to 255, or None for 8-bit data (see the module docstring)."""
    data_type = dataset.GetRasterBand(bands[0]).DataType
    if data_type == gdal.GDT_Byte:
        return None
    type_name = gdal.GetDataTypeName(data_type)
    if data_type not in (gdal.GDT_UInt16, gdal.GDT_Int16, gdal.GDT_UInt32, gdal.GDT_Int32,
                         gdal.GDT_Float32, gdal.GDT_Float64):
        raise InputError(f"'{path}' holds {type_name} pixels; convert it to 8-bit, 16-bit or float "
                         "RGB (gdal_translate -ot Byte -scale ...).")
    low, high = math.inf, -math.inf
    approximate = dataset.RasterXSize * dataset.RasterYSize > EXACT_RANGE_PIXELS
    for index in bands:
        band = dataset.GetRasterBand(index)
        with gdal_errors():
            values = band.ComputeRasterMinMax(approximate)
            if values is None or any(math.isnan(v) for v in values):
                values = band.ComputeRasterMinMax(False)  # the sample missed the valid pixels
        if values is None or any(math.isnan(v) for v in values):
            raise InputError(f"'{path}' has no valid pixels (every pixel is nodata); "
                             "check the nodata value or pick another raster.")
        low, high = min(low, values[0]), max(high, values[1])
    hint = ("rescale it to 8-bit first, e.g. gdal_translate -ot Byte -scale LOW HIGH 0 255 "
            "(or assign the right nodata value)")
    if data_type in (gdal.GDT_Float32, gdal.GDT_Float64):
        white = 1.0 if high <= 1.0 else 255.0
        if high > 255.0 or low < -FLOAT_NEGATIVE_TOLERANCE * white:
            raise InputError(f"'{path}' is a float raster with values {low:g}..{high:g}; float imagery "
                             f"must be 0..1 (reflectance) or 0..255. {hint[0].upper() + hint[1:]}.")
        return white
    declared = dataset.GetRasterBand(bands[0]).GetMetadataItem("NBITS", "IMAGE_STRUCTURE")
    if low < 0:
        raise InputError(f"'{path}' is a {type_name} raster with negative values ({low:g}..{high:g}); "
                         f"imagery cannot be negative: {hint}.")
    if declared:
        return 2.0 ** int(declared) - 1
    bits = next((b for b in INTEGER_BIT_DEPTHS if high <= 2 ** b - 1), None)
    if bits is None:
        raise InputError(f"'{path}' is a {type_name} raster with values up to {high:g}, beyond 16 bits; "
                         f"{hint}.")
    return 2.0 ** bits - 1
