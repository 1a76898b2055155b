"""Read any GDAL raster window by window on the model's pixel grid, as 8-bit RGB plus a validity mask.

Decisions (quoted in the README):

* **Grid.** A north-up raster in a projected CRS whose pixel size is within 1 % of the model's
  resolution is read as it is, so outputs sit exactly on the input's pixels. Anything else (other
  resolution, non-square or rotated pixels) is resampled on the fly through a GDAL warped VRT:
  bilinear (GDAL widens the kernel when downsampling, so it also anti-aliases), on a grid that keeps
  the input's top-left corner at the model's resolution. Nothing is written to disk and only the
  window being read is computed.
* **Geographic CRS** (degrees): reprojected on the fly to the WGS 84 / UTM zone of the raster's
  centre (EPSG:326xx north, 327xx south) at the model's resolution in metres; outputs are in that
  UTM CRS and `SegmentationResult.crs_wkt` says so. Pixels in degrees are never treated as if they
  were square metres. CRS units other than metres (e.g. US feet) are converted.
* **Scaling to the model's 0..255 scale.** 8-bit: as is. Integer rasters wider than 8 bits: one
  linear scale for the whole raster, value * 255 / (2^bits - 1), where bits is the band's declared
  NBITS (e.g. 12 for many aerial cameras) or else the smallest of 8, 10, 12, 14, 16 that holds the
  raster's maximum (exact up to 50 Mpx, GDAL's sampled min/max beyond). Float rasters: 0..1
  (reflectance) when the maximum is at most 1, else 0..255. A fixed scale per raster keeps colours
  identical across tiles (a per-tile stretch would draw seams) and close to the 8-bit imagery the
  models are trained on. Out of range (negative integers, integers above 16 bits, floats above 255
  or below -5 % of the white point) is an error with a `gdal_translate -scale` hint; values past
  the white point are clipped.
* **Validity.** An alpha band, an internal mask, or a nodata value shared by all colour bands (a
  pixel is nodata only when every colour band holds the nodata value, GDAL's convention), and NaN.
  Invalid pixels are filled with the window's mean colour before they reach the model (so borders
  of valid data are not pulled towards black) and stay nodata in every output.
* **Band mapping.** `bands=(r, g, b)` (1-based) wins; otherwise the bands whose colour
  interpretation is red, green and blue (so BGR or RGBI files labelled as such map correctly);
  otherwise a raster with exactly as many non-alpha bands as the model takes, in order. One- or
  two-band rasters and unlabelled multi-band rasters are refused with what to do.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from osgeo import gdal, ogr, osr

from .errors import InputError, LandcoverError

SAME_GRID_TOLERANCE = 0.01      # relative pixel-size difference read without resampling
FLOAT_NEGATIVE_TOLERANCE = 0.05  # share of the white point that negative floats may reach (noise)
INTEGER_BIT_DEPTHS = (8, 10, 12, 14, 16)
EXACT_RANGE_PIXELS = 50_000_000  # larger rasters get GDAL's sampled min/max instead of a full pass


@dataclass(frozen=True)
class Grid:
    """A north-up pixel grid: `width` x `height` pixels of `resolution` CRS units from (x0, y0)."""
    x0: float
    y0: float
    resolution: float
    width: int
    height: int

    @property
    def geotransform(self) -> tuple[float, float, float, float, float, float]:
        return (self.x0, self.resolution, 0.0, self.y0, 0.0, -self.resolution)

    def window(self, x0: int, y0: int, x1: int, y1: int) -> "Grid":
        """The sub-grid of pixel columns x0..x1 and rows y0..y1 (exclusive ends)."""
        return Grid(self.x0 + x0 * self.resolution, self.y0 - y0 * self.resolution,
                    self.resolution, x1 - x0, y1 - y0)


class gdal_errors:
    """Collect GDAL's messages for this thread instead of printing them, whatever the global mode.

    QGIS shares the GDAL bindings with every plugin, so the global exception switch is left alone;
    the error handler stack is per thread.
    """

    def __enter__(self) -> "gdal_errors":
        gdal.PushErrorHandler("CPLQuietErrorHandler")
        gdal.ErrorReset()
        return self

    def __exit__(self, *exc) -> None:
        gdal.PopErrorHandler()

    @staticmethod
    def last() -> str:
        return gdal.GetLastErrorMsg().strip() or "no details from GDAL"


def call_gdal(what: str, function, *args, error: type[LandcoverError] = InputError, **kwargs):
    """Run a GDAL call that signals failure by None or by RuntimeError, as `error` about `what`."""
    with gdal_errors():
        try:
            result = function(*args, **kwargs)
        except RuntimeError as failure:
            raise error(f"{what} ({failure}).") from None
        if result is None:
            raise error(f"{what} ({gdal_errors.last()}).")
        return result


def close_dataset(dataset) -> None:
    """Close a GDAL raster or OGR vector dataset now, whoever else still refers to it.

    GDAL 3.8 and newer give every dataset Close(); older OGR data sources have Destroy(). An older
    raster dataset closes when its last reference goes, so the object owning it holds the only one
    (nothing keeps it in a local variable a traceback could hold on to).
    """
    for name in ("Close", "Destroy"):
        close = getattr(dataset, name, None)
        if close is not None:
            close()
            return


def reflect_indices(start: int, stop: int, size: int) -> np.ndarray:
    """Indices start..stop-1 folded into 0..size-1 by mirror reflection (no edge pixel repeated)."""
    indices = np.arange(start, stop)
    if size == 1:
        return np.zeros_like(indices)
    period = 2 * size - 2
    folded = np.mod(indices, period)
    return np.where(folded < size, folded, period - folded)


def crs_units_in_metres(srs: osr.SpatialReference) -> float:
    return float(srs.GetLinearUnits()) or 1.0


def _utm_for(lon: float, lat: float) -> osr.SpatialReference:
    """The WGS 84 / UTM zone holding a point."""
    zone = int(math.floor((lon + 180.0) / 6.0)) % 60 + 1
    utm = osr.SpatialReference()
    utm.ImportFromEPSG((32600 if lat >= 0 else 32700) + zone)
    utm.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return utm


def _srs(wkt: str) -> osr.SpatialReference:
    srs = osr.SpatialReference()
    srs.ImportFromWkt(wkt)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def _corners(geotransform: Sequence[float], width: int, height: int) -> np.ndarray:
    gt = geotransform
    cols = np.array([0, width, 0, width], float)
    rows = np.array([0, 0, height, height], float)
    return np.stack([gt[0] + cols * gt[1] + rows * gt[2], gt[3] + cols * gt[4] + rows * gt[5]], axis=1)


def _centre_lon_lat(srs: osr.SpatialReference, geotransform, width: int, height: int) -> tuple[float, float]:
    x, y = _corners(geotransform, width, height).mean(axis=0)
    wgs84 = osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    wgs84.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    lon, lat, _ = osr.CoordinateTransformation(srs, wgs84).TransformPoint(float(x), float(y))
    return lon, lat


def _choose_bands(dataset: gdal.Dataset, requested: Sequence[int] | None, model_bands: int,
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
        hint = (" It is a paletted image: expand it first with 'gdal_translate -expand rgb'."
                if interpretation[0] == gdal.GCI_PaletteIndex else
                " Is it a class mask, an elevation model or a single-channel image? Give the RGB "
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


def _white_point(dataset: gdal.Dataset, bands: Sequence[int], path: str) -> float | None:
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


class RasterSource:
    """An input raster seen on the model's grid: windows of 0..255 float pixels plus validity."""

    def __init__(self, path: str, resolution_m: float, bands: Sequence[int] | None = None,
                 model_bands: int = 3):
        self.path = str(path)
        if not os.path.exists(self.path):
            raise InputError(f"Input raster '{self.path}' does not exist; check the path.")
        self._source = call_gdal(
            f"'{self.path}' is not a raster GDAL can read; it may be corrupt, truncated or "
            "another kind of file", gdal.OpenEx, self.path, gdal.OF_RASTER | gdal.OF_READONLY)
        source = self._source
        wkt = source.GetProjection()
        if not wkt:
            raise InputError(f"'{self.path}' has no coordinate reference system; assign the right one "
                             "(QGIS: Layer Properties > Source, or gdal_edit.py -a_srs EPSG:<code>) and "
                             "try again.")
        geotransform = source.GetGeoTransform(can_return_null=True)
        if geotransform is None:
            raise InputError(f"'{self.path}' has a CRS but no georeferencing (pixel-to-map transform); "
                             "georeference it first (e.g. gdalwarp with its GCPs).")
        self.bands = _choose_bands(source, bands, model_bands, self.path)
        self.white_point = _white_point(source, self.bands, self.path)
        self.input_srs = _srs(wkt)
        if self.input_srs.IsGeographic():
            srs = _utm_for(*_centre_lon_lat(self.input_srs, geotransform, source.RasterXSize,
                                            source.RasterYSize))
            self.crs_wkt = srs.ExportToWkt()
        elif self.input_srs.IsProjected() or self.input_srs.IsLocal():
            srs = self.input_srs
            self.crs_wkt = wkt  # kept verbatim, e.g. a WKT without an EPSG code stays as it was
        else:
            raise InputError(f"'{self.path}' uses a CRS that is neither projected nor geographic; "
                             "reproject it to a projected CRS in metres (gdalwarp -t_srs EPSG:<code>).")
        self.srs = srs
        self.units_in_metres = crs_units_in_metres(srs)
        resolution = resolution_m / self.units_in_metres
        self.reprojected = srs is not self.input_srs
        native = (geotransform[2] == 0 and geotransform[4] == 0 and geotransform[5] < 0
                  and abs(geotransform[1] - resolution) <= SAME_GRID_TOLERANCE * resolution
                  and abs(-geotransform[5] - resolution) <= SAME_GRID_TOLERANCE * resolution)
        self.resampled = self.reprojected or not native
        if not self.resampled:
            self._dataset = source
            self.grid = Grid(geotransform[0], geotransform[3], geotransform[1],
                             source.RasterXSize, source.RasterYSize)
        else:
            self._dataset, self.grid = self._warped(source, geotransform, resolution)
        self.pixel_size_m = self.grid.resolution * self.units_in_metres
        band = self._dataset.GetRasterBand(self.bands[0])
        self._mask_flags = band.GetMaskFlags()
        self._nodata = [self._dataset.GetRasterBand(b).GetNoDataValue() for b in self.bands]

    def _warped(self, source: gdal.Dataset, geotransform, resolution: float) -> tuple[gdal.Dataset, Grid]:
        """A virtual (never materialised) warp of the input onto the model's grid."""
        options = dict(format="VRT", xRes=resolution, yRes=resolution, resampleAlg="bilinear",
                       dstAlpha=True)
        if self.reprojected:
            options.update(dstSRS=self.crs_wkt, targetAlignedPixels=True)
        else:  # same CRS: keep the input's top-left corner, cover the whole input
            corners = _corners(geotransform, source.RasterXSize, source.RasterYSize)
            left, top = corners[:, 0].min(), corners[:, 1].max()
            width = math.ceil((corners[:, 0].max() - left) / resolution - 1e-6)
            height = math.ceil((top - corners[:, 1].min()) / resolution - 1e-6)
            options.update(outputBounds=(left, top - height * resolution, left + width * resolution, top))
        warped = call_gdal(f"'{self.path}' could not be resampled to the model's grid",
                           gdal.Warp, "", source, options=gdal.WarpOptions(**options))
        gt = warped.GetGeoTransform()
        return warped, Grid(gt[0], gt[3], gt[1], warped.RasterXSize, warped.RasterYSize)

    @property
    def width(self) -> int:
        return self.grid.width

    @property
    def height(self) -> int:
        return self.grid.height

    def read(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixels (len(rows), len(cols), bands) float32 on 0..255 and validity (same rows, cols).

        `rows` and `cols` are grid indices, possibly repeated or reflected: the bounding window is
        read once and indexed.
        """
        r0, r1 = int(rows.min()), int(rows.max()) + 1
        c0, c1 = int(cols.min()), int(cols.max()) + 1
        what = (f"'{self.path}' could not be read at pixels {c0}..{c1} x {r0}..{r1}; the file may be "
                "truncated or corrupt")
        data = call_gdal(what, self._dataset.ReadAsArray, c0, r0, c1 - c0, r1 - r0,
                         band_list=list(self.bands))
        data = data.reshape(len(self.bands), r1 - r0, c1 - c0)
        valid = self._validity(data, c0, r0, what)
        data, valid = data[:, rows - r0][:, :, cols - c0], valid[rows - r0][:, cols - c0]
        pixels = np.moveaxis(data, 0, -1).astype(np.float32)
        if self.white_point is not None:
            pixels *= np.float32(255.0 / self.white_point)
            np.clip(pixels, 0.0, 255.0, out=pixels)
        nan = np.isnan(pixels).any(axis=-1)
        if nan.any():
            valid &= ~nan
        if not valid.all():
            fill = pixels[valid].mean(axis=0) if valid.any() else np.zeros(len(self.bands), np.float32)
            pixels[~valid] = fill
        return pixels, valid

    def _validity(self, data: np.ndarray, c0: int, r0: int, what: str) -> np.ndarray:
        if self._mask_flags & gdal.GMF_NODATA:
            nodata = np.ones(data.shape[1:], bool)
            for values, value in zip(data, self._nodata):
                nodata &= (values == value) if value is not None and not math.isnan(value) else np.isnan(values)
            return ~nodata
        if self._mask_flags & gdal.GMF_ALL_VALID:
            return np.ones(data.shape[1:], bool)
        mask_band = self._dataset.GetRasterBand(self.bands[0]).GetMaskBand()
        mask = call_gdal(what, mask_band.ReadAsArray, c0, r0, data.shape[2], data.shape[1])
        return mask != 0

    def release_cache(self) -> None:
        """Drop the blocks GDAL cached for this reader (rows already passed would otherwise fill its
        block cache up to GDAL_CACHEMAX on large rasters)."""
        self._dataset.FlushCache()
        if self._source is not self._dataset:
            self._source.FlushCache()

    def to_working_crs(self, geometry: ogr.Geometry) -> ogr.Geometry:
        """A geometry in the input's CRS, on the working grid's CRS (densified when reprojecting)."""
        geometry = geometry.Clone()
        if self.reprojected:
            envelope = geometry.GetEnvelope()
            geometry.Segmentize(max(envelope[1] - envelope[0], envelope[3] - envelope[2]) / 64 or 1)
            geometry.Transform(osr.CoordinateTransformation(self.input_srs, self.srs))
        return geometry

    def close(self) -> None:
        """Close the input (and its virtual warp): this object holds the only references."""
        for dataset in {id(d): d for d in (self._dataset, self._source) if d is not None}.values():
            close_dataset(dataset)
        self._dataset = self._source = None

    def __enter__(self) -> "RasterSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def pixel_bounds(grid: Grid, envelope: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    """Pixel window (x0, y0, x1, y1) of the grid covering a (xmin, xmax, ymin, ymax) envelope, clipped."""
    xmin, xmax, ymin, ymax = envelope
    x0 = math.floor((xmin - grid.x0) / grid.resolution + 1e-9)
    x1 = math.ceil((xmax - grid.x0) / grid.resolution - 1e-9)
    y0 = math.floor((grid.y0 - ymax) / grid.resolution + 1e-9)
    y1 = math.ceil((grid.y0 - ymin) / grid.resolution - 1e-9)
    return max(x0, 0), max(y0, 0), min(x1, grid.width), min(y1, grid.height)


class AreaMask:
    """A polygon rasterised window by window: which grid pixels lie inside it (pixel centres)."""

    def __init__(self, geometry: ogr.Geometry, grid: Grid, srs: osr.SpatialReference):
        self._grid = grid
        self._memory = ogr.GetDriverByName("Memory").CreateDataSource("mask")
        self._layer = self._memory.CreateLayer("mask", srs=srs, geom_type=ogr.wkbUnknown)
        feature = ogr.Feature(self._layer.GetLayerDefn())
        feature.SetGeometry(geometry)
        self._layer.CreateFeature(feature)

    def window(self, x0: int, y0: int, width: int, height: int) -> np.ndarray:
        target = gdal.GetDriverByName("MEM").Create("", width, height, 1, gdal.GDT_Byte)
        target.SetGeoTransform(self._grid.window(x0, y0, x0 + width, y0 + height).geotransform)
        gdal.RasterizeLayer(target, [1], self._layer, burn_values=[1])
        return target.ReadAsArray().astype(bool)
