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

from .errors import OutputError
from .files import atomic_output
from .modelfile import ClassInfo
from .gdalio import call_gdal, close_dataset
from .grid import Grid

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


class OutputRasters:
    """The class and probability GeoTIFFs of one run, open while the tiles come in.

    This object holds the only references to the GDAL datasets, so closing it (on leaving the
    `with` block, error or not) closes them, before their temporary files are moved or removed.
    """

    def __init__(self, class_path: str | os.PathLike | None, probability_path: str | os.PathLike | None,
                 grid: Grid, crs_wkt: str, classes: Sequence[ClassInfo]):
        self.has_classes = class_path is not None
        self.has_probabilities = probability_path is not None
        self._paths = [str(p) for p in (class_path, probability_path) if p is not None]
        self._datasets: list[gdal.Dataset] = []
        if class_path is not None:
            self._datasets.append(_class_raster(class_path, grid, crs_wkt, classes))
        if probability_path is not None:
            self._datasets.append(_probability_raster(probability_path, grid, crs_wkt, classes))

    def __enter__(self) -> "OutputRasters":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for dataset in self._datasets:
            close_dataset(dataset)
        self._datasets = []

    @property
    def count(self) -> int:
        """How many rasters are written (class raster first)."""
        return len(self._paths)

    def strip(self, x0: int) -> "StripWriter":
        """A writer for the vertical strip starting at output column x0."""
        return StripWriter(self, x0)

    def write(self, index: int, array: np.ndarray, x0: int, y0: int) -> None:
        """(bands, h, w) rows into output `index` (classes first), then out of GDAL's block cache."""
        if self._datasets[index].WriteArray(array, x0, y0):
            raise OutputError(f"Writing '{self._paths[index]}' failed "
                              f"({gdal.GetLastErrorMsg() or 'disk full?'}).")
        self._datasets[index].FlushCache()  # these blocks are complete: to disk, out of the cache


def _create(path: str | os.PathLike, grid: Grid, crs_wkt: str, bands: int, nodata: int,
            interleave: str) -> gdal.Dataset:
    driver = gdal.GetDriverByName("GTiff")
    dataset = call_gdal(f"Could not create '{path}'", driver.Create, str(path), grid.width, grid.height,
                        bands, gdal.GDT_Byte, [*GTIFF_OPTIONS, f"INTERLEAVE={interleave}"], error=OutputError)
    dataset.SetGeoTransform(grid.geotransform)
    dataset.SetProjection(crs_wkt)
    for index in range(1, bands + 1):
        dataset.GetRasterBand(index).SetNoDataValue(nodata)
    return dataset


def _class_raster(path: str | os.PathLike, grid: Grid, crs_wkt: str, classes: Sequence[ClassInfo]) -> gdal.Dataset:
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


def _probability_raster(path: str | os.PathLike, grid: Grid, crs_wkt: str,
                        classes: Sequence[ClassInfo]) -> gdal.Dataset:
    dataset = _create(path, grid, crs_wkt, len(classes), PROBABILITY_NODATA, "PIXEL")
    for info in classes:
        dataset.GetRasterBand(info.value + 1).SetDescription(f"{info.name} probability (%)")
    return dataset


def probabilities_to_percent(probabilities: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(C, h, w) probabilities -> (C, h, w) Byte percent with nodata outside `valid`."""
    percent = np.rint(np.clip(probabilities, 0.0, 1.0) * 100.0).astype(np.uint8)
    percent[:, ~valid] = PROBABILITY_NODATA
    return percent


class StripWriter:
    """Writes one vertical strip of the outputs top to bottom, a whole row of blocks at a time."""

    def __init__(self, outputs: OutputRasters, x0: int):
        self._outputs = outputs
        self.has_probabilities = outputs.has_probabilities
        self._x0 = x0
        self._pending: list[list[np.ndarray]] = [[] for _ in range(outputs.count)]
        self._pending_rows = 0
        self._y0 = 0  # first row not yet written

    def write(self, class_rows: np.ndarray, probability_rows: np.ndarray | None) -> None:
        """Append rows: classes (h, w) and probabilities (C, h, w) as produced."""
        arrays = ([class_rows[np.newaxis]] if self._outputs.has_classes else []) + \
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
        for index, pending in enumerate(self._pending):
            stacked = np.concatenate(pending, axis=1)
            self._outputs.write(index, stacked[:, :rows], self._x0, self._y0)
            self._pending[index] = [stacked[:, rows:]] if rows < stacked.shape[1] else []
        self._y0 += rows
        self._pending_rows -= rows
