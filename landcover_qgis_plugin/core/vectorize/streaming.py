"""The row bands every streamed pass reads, and releasing what GDAL cached for them."""
from __future__ import annotations

from osgeo import gdal


def row_bands(width: int, height: int, band_pixels: int) -> list[tuple[int, int]]:
    """Row ranges of the streamed passes: `band_pixels` pixels each, whole rows, at least one."""
    rows = max(1, band_pixels // max(width, 1))
    return [(top, min(top + rows, height)) for top in range(0, height, rows)]


def drop_cached(*bands: gdal.Band) -> None:
    """Write and release the blocks GDAL cached for these bands and their masks: the streamed
    passes never come back to most of them, and kept they would fill GDAL's block cache up to
    GDAL_CACHEMAX, so memory would grow with the raster up to that cap."""
    for band in bands:
        band.FlushCache()
        band.GetMaskBand().FlushCache()
