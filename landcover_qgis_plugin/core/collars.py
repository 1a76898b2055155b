"""Edge collars: the uniform black or white borders that warping or exporting an orthophoto without a
nodata value leaves around it, which a model would otherwise call water or buildings.

Decision (quoted in the README): only a raster with no nodata value, alpha band or mask is searched,
and only when its outermost rows or columns hold collar pixels. A collar pixel holds 0 in every colour
band (black) or the full-scale value in every colour band (white: 255 for 8-bit, the white point
otherwise), and lies in an unbroken run of such pixels from the raster's edge along its row or its
column, so the wedges a rotated or reprojected image leaves are found and a black roof or a white
car inside the image is not. The runs come from one streamed pass over the raster (memory: four
integers per row and column); they are widened by the resampling kernel where the raster is
resampled, so no blended seam survives at a collar's edge.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from osgeo import gdal

from .errors import Cancelled
from .gdalio import call_gdal


@dataclass(frozen=True)
class Collar:
    """Run lengths of collar pixels from each edge: per row from the left and right, per column from
    the top and bottom (source pixels)."""
    left: np.ndarray
    right: np.ndarray
    top: np.ndarray
    bottom: np.ndarray

    @property
    def everywhere(self) -> bool:
        """Every pixel is collar: the raster is black (or white) to its edges throughout."""
        return bool((self.left >= len(self.top)).all())

    @property
    def pixels(self) -> int:
        """An upper bound of the collar's size, for summaries (rows and columns may overlap)."""
        return int(self.left.sum() + self.right.sum() + self.top.sum() + self.bottom.sum())

    def widened(self, across: int, down: int) -> "Collar":
        """Each run that exists longer, by `across` pixels along rows and `down` along columns (where
        resampling blends the collar into its neighbours)."""
        def grow(run: np.ndarray, by: int) -> np.ndarray:
            return np.where(run > 0, run + by, 0)
        return Collar(grow(self.left, across), grow(self.right, across), grow(self.top, down),
                      grow(self.bottom, down))

    def mask(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """(len(rows), len(cols)) True where source pixel (row, col) lies in the collar."""
        width, height = len(self.top), len(self.left)
        rows, cols = np.clip(rows, 0, height - 1), np.clip(cols, 0, width - 1)
        c, r = cols[np.newaxis, :], rows[:, np.newaxis]
        return ((c < self.left[r]) | (c >= width - self.right[r])
                | (r < self.top[c]) | (r >= height - self.bottom[c]))


def find_collar(dataset: gdal.Dataset, bands: Sequence[int], full_scale: float, band_pixels: int,
                label: str, progress: Callable[[float], None] | None = None,
                is_cancelled: Callable[[], bool] | None = None) -> Collar | None:
    """The collar of an unmasked raster, or None when its border shows none. `label`: the raster as the
    user knows it. On a raster whose border is collar the search reads it all: `progress(fraction)`
    hears how far it is, and `is_cancelled` stops it (Cancelled)."""
    width, height = dataset.RasterXSize, dataset.RasterYSize
    what = f"{label} could not be read (looking for edge collars); the file may be truncated or corrupt"

    def collar_pixels(x: int, y: int, w: int, h: int) -> np.ndarray:
        data = call_gdal(what, dataset.ReadAsArray, x, y, w, h, band_list=list(bands),
                         part_of=label).reshape(len(bands), h, w)
        return (data == 0).all(axis=0) | (data == full_scale).all(axis=0)

    border = [collar_pixels(0, 0, width, 1), collar_pixels(0, height - 1, width, 1),
              collar_pixels(0, 0, 1, height), collar_pixels(width - 1, 0, 1, height)]
    if not any(edge.any() for edge in border):
        return None
    left, right = np.zeros(height, np.int64), np.zeros(height, np.int64)
    top, bottom = np.zeros(width, np.int64), np.zeros(width, np.int64)
    open_top = np.ones(width, bool)     # columns whose run from the top has not been broken yet
    rows_per_band = max(1, band_pixels // max(width, 1))
    for y in range(0, height, rows_per_band):
        if is_cancelled is not None and is_cancelled():
            raise Cancelled()
        if progress is not None:
            progress(y / height)
        block = collar_pixels(0, y, width, min(rows_per_band, height - y))
        left[y:y + len(block)] = _leading_run(block)
        right[y:y + len(block)] = _leading_run(block[:, ::-1])
        broken = (~block).any(axis=0)   # columns whose run is interrupted in this band of rows
        top += np.where(open_top, _leading_run(block.T), 0)
        open_top &= ~broken
        bottom = np.where(broken, _leading_run(block[::-1].T), bottom + len(block))
        for band in bands:
            dataset.GetRasterBand(band).FlushCache()
    return Collar(left, right, top, bottom)


def _leading_run(block: np.ndarray) -> np.ndarray:
    """Per row, how many True values it starts with."""
    broken = ~block
    return np.where(broken.any(axis=1), broken.argmax(axis=1), block.shape[1])
