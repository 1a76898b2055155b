"""The scratch files between the passes: the sieved raster, the traced polygons and the mask of
the small holes being filled."""
from __future__ import annotations

import math
from pathlib import Path

from osgeo import gdal, ogr

from ..errors import OutputError
from ..limits import StreamLimits
from ..gdalio import WriteCheck, call_gdal, close_dataset, gdal_errors
from ..grid import Grid
from .streaming import drop_cached, row_bands
from .writer import Transactions


REGIONS_FILE, HOLES_FILE = "regions.gpkg", "holes.tif"


def scratch_raster(source: gdal.Dataset, check: WriteCheck) -> gdal.Dataset:
    """An empty copy of `source`'s grid, CRS, type and nodata at `check.path`."""
    band = source.GetRasterBand(1)
    target = check.made(gdal.GetDriverByName("GTiff").Create, str(check.path), source.RasterXSize,
                        source.RasterYSize, 1, band.DataType, ["TILED=YES", "COMPRESS=DEFLATE", "BIGTIFF=IF_SAFER"])
    check.ok(target.SetGeoTransform, source.GetGeoTransform())
    check.ok(target.SetProjection, source.GetProjection())
    nodata = band.GetNoDataValue()
    if nodata is not None:
        check.ok(target.GetRasterBand(1).SetNoDataValue, nodata)
    return target


class TracedRegions:
    """The traced polygons in a scratch GeoPackage (pixel coordinates), and the holes smaller than
    `fill_px` pixels they enclose, rasterised batch by batch (as `limits` says) into a scratch mask
    as they come."""

    def __init__(self, work: Path, grid: Grid, fill_px: float, limits: StreamLimits):
        self._work, self._grid, self._fill_px, self._limits = work, grid, fill_px, limits
        self._check = WriteCheck(work / REGIONS_FILE, "its temporary traced polygons")
        self._dataset = self._check.made(ogr.GetDriverByName("GPKG").CreateDataSource, str(self._check.path))
        self._layer = self._check.made(self._dataset.CreateLayer, "regions", geom_type=ogr.wkbPolygon,
                                       options=["SPATIAL_INDEX=NO"])
        self._check.ok(self._layer.CreateField, ogr.FieldDefn("value", ogr.OFTInteger))
        self._transactions = Transactions(self._dataset, self._check)
        self._mask_check = WriteCheck(work / HOLES_FILE, "its temporary mask of small holes")
        self._batch_dataset = ogr.GetDriverByName("Memory").CreateDataSource("holes")
        self._batch = self._batch_dataset.CreateLayer("holes", geom_type=ogr.wkbPolygon)
        self._mask: gdal.Dataset | None = None

    def add(self, value: int, geometry: ogr.Geometry) -> None:
        feature = ogr.Feature(self._layer.GetLayerDefn())
        feature.SetField(0, int(value))
        feature.SetGeometry(geometry)
        self._transactions.create(self._layer, feature)
        if self._fill_px > 0:
            for index in range(1, geometry.GetGeometryCount()):
                ring = geometry.GetGeometryRef(index)
                hole = ogr.Geometry(ogr.wkbPolygon)
                hole.AddGeometry(ring)
                if hole.GetArea() < self._fill_px:
                    out = ogr.Feature(self._batch.GetLayerDefn())
                    out.SetGeometry(hole)
                    self._batch.CreateFeature(out)
            if self._batch.GetFeatureCount() >= self._limits.holes_per_batch:
                self._rasterise_holes()

    def _rasterise_holes(self) -> None:
        """Burn the batch into the mask a band's worth of rows at a time (GDAL's rasterize would scan
        the whole mask for every batch, holding as much of it as its cache allows)."""
        check = self._mask_check
        if self._mask is None:
            self._mask = check.made(gdal.GetDriverByName("GTiff").Create, str(check.path), self._grid.width,
                                    self._grid.height, 1, gdal.GDT_Byte,
                                    ["TILED=YES", "COMPRESS=DEFLATE", "SPARSE_OK=YES", "BIGTIFF=IF_SAFER"])
        mask = self._mask.GetRasterBand(1)
        _, _, first_row, last_row = (int(v) for v in self._batch.GetExtent())
        for top, bottom in row_bands(self._grid.width, last_row - first_row, self._limits.band_pixels):
            top, bottom = first_row + top, first_row + bottom
            self._batch.SetSpatialFilterRect(0, top, self._grid.width, bottom)
            if not self._batch.GetFeatureCount():
                continue
            left, right, _, _ = (int(v) for v in self._batch.GetExtent())
            window = gdal.GetDriverByName("MEM").Create("", right - left, bottom - top, 1, gdal.GDT_Byte)
            window.SetGeoTransform((float(left), 1.0, 0.0, float(top), 0.0, 1.0))   # pixel coordinates
            with gdal_errors():
                error = gdal.RasterizeLayer(window, [1], self._batch, burn_values=[1])
            if error:
                raise OutputError(f"Filling small holes failed ({gdal_errors.last()}).")
            burnt = mask.ReadAsArray(left, top, right - left, bottom - top) | window.ReadAsArray()
            check.ok(mask.WriteArray, burnt, left, top)
            with check:
                drop_cached(mask)
        self._batch_dataset.DeleteLayer(0)
        self._batch = self._batch_dataset.CreateLayer("holes", geom_type=ogr.wkbPolygon)

    def finish(self) -> tuple[ogr.Layer, HoleMask | None]:
        """The polygons to write, and where the holes being filled are (None: no hole to fill)."""
        self._transactions.close()
        if self._batch.GetFeatureCount():
            self._rasterise_holes()
        if self._mask is not None:
            with self._mask_check:
                self._mask.FlushCache()
        return self._layer, HoleMask(self._mask.GetRasterBand(1)) if self._mask is not None else None

    def release(self) -> None:
        """Close the scratch files (this object holds the only references to them). Every write was
        checked as it was made; what closing a scratch file reports changes nothing (it is deleted)."""
        self._transactions.release()
        self._layer = self._batch = None
        for name in ("_dataset", "_batch_dataset", "_mask"):
            if getattr(self, name) is not None:
                with gdal_errors():
                    close_dataset(getattr(self, name))
                    setattr(self, name, None)


def open_traced(work: Path) -> tuple[ogr.DataSource, gdal.Dataset | None]:
    """The files a finished TracedRegions left in `work`, opened again (another step of a distributed
    run): the polygons' GeoPackage and the holes' mask (None: no hole to fill)."""
    regions = call_gdal(f"The traced polygons in '{work}' could not be read", ogr.Open, str(work / REGIONS_FILE))
    holes = work / HOLES_FILE
    mask = call_gdal(f"'{holes}' could not be read", gdal.Open, str(holes)) if holes.exists() else None
    return regions, mask


class HoleMask:
    """Pixels inside the holes being filled, read on demand from the scratch mask (owned by
    TracedRegions)."""

    def __init__(self, band: gdal.Band):
        self.band = band

    def covers(self, geometry: ogr.Geometry) -> bool:
        point = geometry.PointOnSurface()
        col, row = int(math.floor(point.GetX())), int(math.floor(point.GetY()))
        return bool(self.band.ReadAsArray(col, row, 1, 1)[0, 0])
