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

import os
from pathlib import Path
from typing import Sequence

import numpy as np
from osgeo import gdal

from .errors import OutputError
from .files import atomic_output
from .modelfile import ClassInfo
from .gdalio import WriteCheck, close_dataset, let_go
from .grid import Grid

BLOCK = 256
CLASS_NODATA = 255
PROBABILITY_NODATA = 255
GTIFF_OPTIONS = ("TILED=YES", f"BLOCKXSIZE={BLOCK}", f"BLOCKYSIZE={BLOCK}", "COMPRESS=DEFLATE",
                 "BIGTIFF=IF_SAFER")
SIDECAR = ".aux.xml"  # GDAL keeps category names (and band descriptions) of a GeoTIFF there
# GDAL metadata item naming what an output raster is, so that the plugin never offers its own class or
# probability raster as an orthophoto to classify
OUTPUT_KIND = "LANDCOVER_OUTPUT"


def atomic_raster(path: str | os.PathLike, overwrite: bool = False):
    """files.atomic_output for a GeoTIFF, moving GDAL's .aux.xml sidecar along with it."""
    return atomic_output(path, overwrite, sidecars=(SIDECAR,))


class OutputRasters:
    """The class and probability GeoTIFFs of one run, open while the tiles come in.

    This object holds the only references to the GDAL datasets, so closing it (on leaving the
    `with` block, error or not) closes them, before their temporary files are moved or removed.
    Every write is checked (gdalio.WriteCheck); after a successful close each file is opened again
    and its size and last blocks read, so a file that cannot be read back is never moved into place.
    """

    def __init__(self, class_path: str | os.PathLike | None, probability_path: str | os.PathLike | None,
                 grid: Grid, crs_wkt: str, classes: Sequence[ClassInfo]):
        self.has_classes = class_path is not None
        self.has_probabilities = probability_path is not None
        self._grid = grid
        self._outputs: list[tuple[WriteCheck, gdal.Dataset]] = []
        self._written: list[tuple[Path, int]] = []
        try:
            if class_path is not None:
                self._open(class_path, 1, _class_raster, crs_wkt, classes)
            if probability_path is not None:
                self._open(probability_path, len(classes), _probability_raster, crs_wkt, classes)
        except BaseException:
            self.close(failed=True)
            raise

    def _open(self, path, bands: int, make, crs_wkt: str, classes: Sequence[ClassInfo]) -> None:
        check = WriteCheck(path)
        self._outputs.append((check, make(check, self._grid, crs_wkt, classes)))
        self._written.append((Path(path), bands))

    def __enter__(self) -> "OutputRasters":
        return self

    def __exit__(self, kind, error, trace) -> None:
        let_go(trace)
        self.close(failed=kind is not None)

    def close(self, failed: bool = False) -> None:
        """Close the files (writing their last blocks and directories), then check them, unless the run
        `failed` (the files are discarded: nothing more to report)."""
        while self._outputs:
            check, dataset = self._outputs.pop(0)
            try:
                with check:
                    close_dataset(dataset)
                    del dataset   # the last reference: GDAL before 3.8 closes the file here
            except OutputError:
                if not failed:
                    self.close(failed=True)
                    raise
        if not failed:
            for path, bands in self._written:
                verify_raster(path, self._grid.width, self._grid.height, bands)
        self._written = []

    @property
    def count(self) -> int:
        """How many rasters are written (class raster first)."""
        return len(self._written)

    def strip(self, x0: int) -> "StripWriter":
        """A writer for the vertical strip starting at output column x0."""
        return StripWriter(self, x0)

    def write(self, index: int, array: np.ndarray, x0: int, y0: int) -> None:
        """(bands, h, w) rows into output `index` (classes first), then out of GDAL's block cache."""
        check, dataset = self._outputs[index]
        check.ok(dataset.WriteArray, array, x0, y0)
        check.ok(dataset.FlushCache)  # these blocks are complete: to disk, out of the cache


def verify_raster(path: str | os.PathLike, width: int, height: int, bands: int) -> None:
    """Open a raster just written and read its first and last blocks: a file GDAL cannot read back whole is
    a failed write, never an output."""
    with WriteCheck(path) as check:
        dataset = gdal.OpenEx(str(path), gdal.OF_RASTER)
        if dataset is None:
            check.fail("it cannot be opened again")
        if (dataset.RasterXSize, dataset.RasterYSize, dataset.RasterCount) != (width, height, bands):
            check.fail(f"it reads back as {dataset.RasterXSize} x {dataset.RasterYSize} px, {dataset.RasterCount} "
                       f"bands instead of {width} x {height} px, {bands}")
        for x, y in ((0, 0), (max(width - BLOCK, 0), max(height - BLOCK, 0))):
            if dataset.ReadRaster(x, y, min(BLOCK, width), min(BLOCK, height)) is None:
                check.fail("its blocks cannot be read back")
        dataset = None


def _create(check: WriteCheck, grid: Grid, crs_wkt: str, bands: int, nodata: int, interleave: str) -> gdal.Dataset:
    driver = gdal.GetDriverByName("GTiff")
    dataset = check.made(driver.Create, str(check.path), grid.width, grid.height, bands, gdal.GDT_Byte,
                         [*GTIFF_OPTIONS, f"INTERLEAVE={interleave}"])
    check.ok(dataset.SetGeoTransform, grid.geotransform)
    check.ok(dataset.SetProjection, crs_wkt)
    for index in range(1, bands + 1):
        check.ok(dataset.GetRasterBand(index).SetNoDataValue, nodata)
    return dataset


def _class_raster(check: WriteCheck, grid: Grid, crs_wkt: str, classes: Sequence[ClassInfo]) -> gdal.Dataset:
    dataset = _create(check, grid, crs_wkt, 1, CLASS_NODATA, "BAND")
    check.ok(dataset.SetMetadataItem, OUTPUT_KIND, "classes")
    band = dataset.GetRasterBand(1)
    band.SetDescription("class")
    table = gdal.ColorTable()
    for info in classes:
        table.SetColorEntry(info.value, (*info.rgb, 255))
    table.SetColorEntry(CLASS_NODATA, (0, 0, 0, 0))
    check.ok(band.SetColorTable, table)
    check.ok(band.SetColorInterpretation, gdal.GCI_PaletteIndex)
    check.ok(band.SetCategoryNames, [info.name for info in classes])
    return dataset


def _probability_raster(check: WriteCheck, grid: Grid, crs_wkt: str, classes: Sequence[ClassInfo]) -> gdal.Dataset:
    dataset = _create(check, grid, crs_wkt, len(classes), PROBABILITY_NODATA, "PIXEL")
    check.ok(dataset.SetMetadataItem, OUTPUT_KIND, "probabilities")
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
