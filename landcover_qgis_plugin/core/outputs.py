"""GeoTIFF outputs written while the tiles come in: the class raster and the probability raster.

Both are tiled (256 px), DEFLATE-compressed, BigTIFF when needed, on the classified area's grid.
The class raster is one Byte band: class values, 255 = nodata, the model's colours as a colour
table and its class names as category names, so QGIS shows it styled. The probability raster has
one Byte band per class holding the blended probability in percent (0..100, 255 = nodata), each
band named after its class. Rows are buffered until a whole row of blocks is complete, so every
compressed block is written exactly once (no re-compression, no wasted space in the file), and
then flushed, so written blocks do not pile up in GDAL's block cache as the raster grows.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
from osgeo import gdal

from .files import atomic_output
from .modelfile import ClassInfo
from .raster import Grid, call_gdal

BLOCK = 256
CLASS_NODATA = 255
PROBABILITY_NODATA = 255
GTIFF_OPTIONS = ("TILED=YES", f"BLOCKXSIZE={BLOCK}", f"BLOCKYSIZE={BLOCK}", "COMPRESS=DEFLATE",
                 "BIGTIFF=IF_SAFER")
SIDECAR = ".aux.xml"  # GDAL keeps category names (and band descriptions) of a GeoTIFF there


@contextlib.contextmanager
def atomic_raster(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """files.atomic_output for a GeoTIFF, moving GDAL's .aux.xml sidecar along with it."""
    final = Path(path)
    with atomic_output(final, overwrite) as tmp:
        sidecar = Path(str(tmp) + SIDECAR)
        try:
            yield tmp
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                sidecar.unlink()
            raise
    final_sidecar = Path(str(final) + SIDECAR)
    if sidecar.exists():
        os.replace(sidecar, final_sidecar)
    else:
        with contextlib.suppress(FileNotFoundError):
            final_sidecar.unlink()  # left by an overwritten older output


def _create(path: str | os.PathLike, grid: Grid, crs_wkt: str, bands: int, nodata: int,
            interleave: str) -> gdal.Dataset:
    driver = gdal.GetDriverByName("GTiff")
    dataset = call_gdal(f"Could not create '{path}'", driver.Create, str(path), grid.width, grid.height,
                        bands, gdal.GDT_Byte, [*GTIFF_OPTIONS, f"INTERLEAVE={interleave}"])
    dataset.SetGeoTransform(grid.geotransform)
    dataset.SetProjection(crs_wkt)
    for index in range(1, bands + 1):
        dataset.GetRasterBand(index).SetNoDataValue(nodata)
    return dataset


def create_class_raster(path: str | os.PathLike, grid: Grid, crs_wkt: str,
                        classes: Sequence[ClassInfo]) -> gdal.Dataset:
    dataset = _create(path, grid, crs_wkt, 1, CLASS_NODATA, "BAND")
    band = dataset.GetRasterBand(1)
    band.SetDescription("class")
    table = gdal.ColorTable()
    for info in classes:
        table.SetColorEntry(info.value, (*info.rgb, 255))
    table.SetColorEntry(CLASS_NODATA, (0, 0, 0, 0))
    band.SetColorTable(table)
    band.SetColorInterpretation(gdal.GCI_PaletteIndex)
    band.SetCategoryNames([info.name for info in classes])
    return dataset


def create_probability_raster(path: str | os.PathLike, grid: Grid, crs_wkt: str,
                              classes: Sequence[ClassInfo]) -> gdal.Dataset:
    dataset = _create(path, grid, crs_wkt, len(classes), PROBABILITY_NODATA, "PIXEL")
    for info in classes:
        dataset.GetRasterBand(info.value + 1).SetDescription(f"{info.name} probability (%)")
    return dataset


def probabilities_to_percent(probabilities: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(h, w, C) probabilities -> (C, h, w) Byte percent with nodata outside `valid`."""
    percent = np.rint(np.clip(probabilities, 0.0, 1.0) * 100.0).astype(np.uint8)
    percent[~valid] = PROBABILITY_NODATA
    return np.moveaxis(percent, -1, 0)


class StripWriter:
    """Writes one vertical strip of the outputs top to bottom, a whole row of blocks at a time."""

    def __init__(self, classes_dataset: gdal.Dataset | None, probabilities_dataset: gdal.Dataset | None,
                 x0: int, path_for_errors: str):
        self._targets = [d for d in (classes_dataset, probabilities_dataset) if d is not None]
        self._has_classes = classes_dataset is not None
        self.has_probabilities = probabilities_dataset is not None
        self._x0 = x0
        self._path = path_for_errors
        self._pending: list[list[np.ndarray]] = [[] for _ in self._targets]
        self._pending_rows = 0
        self._y0 = 0  # first row not yet written

    def write(self, class_rows: np.ndarray, probability_rows: np.ndarray | None) -> None:
        """Append rows: classes (h, w) and probabilities (C, h, w) as produced."""
        arrays = ([class_rows[np.newaxis]] if self._has_classes else []) + \
                 ([probability_rows] if probability_rows is not None else [])
        for pending, array in zip(self._pending, arrays):
            pending.append(array)
        self._pending_rows += class_rows.shape[0]
        complete = (self._y0 + self._pending_rows) // BLOCK * BLOCK - self._y0
        if complete > 0:
            self._flush(complete)

    def close(self) -> None:
        if self._pending_rows:
            self._flush(self._pending_rows)

    def _flush(self, rows: int) -> None:
        for index, (dataset, pending) in enumerate(zip(self._targets, self._pending)):
            stacked = np.concatenate(pending, axis=1)
            error = dataset.WriteArray(stacked[:, :rows], self._x0, self._y0)
            if error:
                raise OSError(f"Writing '{self._path}' failed ({gdal.GetLastErrorMsg() or 'disk full?'}).")
            dataset.FlushCache()   # these blocks are complete: to disk, and out of GDAL's block cache
            self._pending[index] = [stacked[:, rows:]] if rows < stacked.shape[1] else []
        self._y0 += rows
        self._pending_rows -= rows
