"""The project's one GeoTIFF writer: synthetic datasets, the bundled sample, tests and benchmarks.

One writer means every GeoTIFF the project makes is tiled, compressed and georeferenced the same
way, is checked before GDAL sees it (GDAL's own errors name neither the array nor the argument),
and never appears half-written (it goes through `files.atomic_output`).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from .files import atomic_output

EPSG_PUWG1992 = 2180


def _spatial_reference(crs: int | str):
    """An osr.SpatialReference for an EPSG code or WKT, or ValueError saying which one GDAL refused."""
    from osgeo import osr

    reference = osr.SpatialReference()
    known = reference.ImportFromEPSG(crs) if isinstance(crs, int) else reference.ImportFromWkt(crs)
    if known != 0:
        name = f"EPSG:{crs}" if isinstance(crs, int) else f"WKT '{crs[:60]}'"
        raise ValueError(f"{name} is not a coordinate reference system GDAL knows.")
    return reference


def _creation_options(array: np.ndarray, colour_interpretation: Sequence[int] | None,
                      extra: Sequence[str]) -> list[str]:
    """Tiled DEFLATE, a predictor for integers, RGB photometry for plain 3-band bytes; `extra` wins."""
    options = {"TILED": "YES", "COMPRESS": "DEFLATE"}
    if np.issubdtype(array.dtype, np.integer):
        options["PREDICTOR"] = "2"
    if array.shape[2] == 3 and array.dtype == np.uint8 and colour_interpretation is None:
        options["PHOTOMETRIC"] = "RGB"      # would override an explicit band order such as BGR
    for option in extra:
        key, _, value = option.partition("=")
        options[key.upper()] = value
    return [f"{key}={value}" for key, value in options.items()]


def write_geotiff(path: str | os.PathLike, array: np.ndarray, origin: Sequence[float] | None = None,
                  resolution_m: float | None = None, crs: int | str | None = EPSG_PUWG1992, *,
                  transform: Sequence[float] | None = None, nodata: float | None = None,
                  colour_interpretation: Sequence[int] | None = None, creation_options: Sequence[str] = (),
                  overwrite: bool = False) -> Path:
    """Write a north-up GeoTIFF; nothing is left behind on failure.

    `array` is (rows, cols) or (rows, cols, bands). Georeferencing is either `origin` (x, y of
    the top-left corner) with `resolution_m`, or a GDAL geotransform `transform`. `crs` is an
    EPSG code, a WKT string, or 0/None for a raster without one (to test how readers cope).
    `colour_interpretation` holds a GDAL GCI_* constant per band; `creation_options` ("KEY=VALUE")
    replace the defaults of the same key.
    """
    from osgeo import gdal, gdal_array

    from .gdalio import WriteCheck

    array = np.asarray(array)
    if array.ndim == 2:
        array = array[..., np.newaxis]
    if array.ndim != 3:
        raise ValueError(f"Cannot write an array of shape {array.shape}; give (rows, cols) or (rows, cols, bands).")
    rows, cols, bands = array.shape
    if transform is None:
        if origin is None or resolution_m is None:
            raise ValueError("Give the raster's place: origin (x, y of its top-left corner) and resolution_m, "
                             "or a GDAL geotransform.")
        transform = (float(origin[0]), float(resolution_m), 0.0, float(origin[1]), 0.0, -float(resolution_m))
    elif origin is not None or resolution_m is not None:
        raise ValueError("Give either origin and resolution_m or a geotransform, not both.")
    if colour_interpretation is not None and len(colour_interpretation) != bands:
        raise ValueError(f"Give one colour interpretation per band: {len(colour_interpretation)} for {bands} bands.")
    data_type = gdal_array.NumericTypeCodeToGDALTypeCode(array.dtype)
    if data_type is None:
        raise ValueError(f"GeoTIFF cannot hold {array.dtype} values; convert the array to a numeric type.")
    reference = _spatial_reference(crs) if crs else None
    options = _creation_options(array, colour_interpretation, creation_options)
    with atomic_output(path, overwrite, sidecars=(".aux.xml",)) as temporary:
        check = WriteCheck(temporary)
        dataset = check.made(gdal.GetDriverByName("GTiff").Create, str(temporary), cols, rows, bands, data_type,
                             options)
        check.ok(dataset.SetGeoTransform, list(transform))
        if reference is not None:
            check.ok(dataset.SetProjection, reference.ExportToWkt())
        for index in range(bands):
            band = dataset.GetRasterBand(index + 1)
            check.ok(band.WriteArray, array[..., index])
            if nodata is not None:
                check.ok(band.SetNoDataValue, float(nodata))
            if colour_interpretation is not None:
                check.ok(band.SetColorInterpretation, colour_interpretation[index])
        del band
        with check:
            dataset.FlushCache()
            dataset = None   # the last reference: the file is closed here
    return Path(path)
