"""Read any GDAL raster window by window on the model's pixel grid, as 8-bit RGB plus a validity mask.

Decisions (quoted in the README):

* **Grid.** The raster is read in its own CRS (every output stays in it) on a grid whose pixels
  measure the model's resolution on the ground at the centre of the area classified (ground.py):
  in a national projected CRS near its origin that is the CRS's metre to within 0.1 %; a Web
  Mercator (EPSG:3857, every XYZ/WMTS service) pixel is 1/cos(latitude) Mercator metres; a
  geographic CRS gets pixels of different sizes in degrees along longitude and latitude. A
  north-up raster already within 1 % of that grid is read as it is, so outputs sit exactly on the
  input's pixels. Anything else (another resolution, non-square or rotated pixels) is resampled on
  the fly through a GDAL warped VRT: bilinear (GDAL widens the kernel when downsampling, so it also
  anti-aliases), keeping the input's top-left corner. Nothing is written to disk and only the window
  being read is computed.
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
* **Paletted rasters** (one band with a colour table, as QGIS shows them in colour) are expanded
  to RGBA on the fly (a GDAL VRT); palette entries that are nodata or transparent become invalid.
* **Nodata** that the raster does not declare can be given (`nodata`); a pixel is then invalid when
  every colour band holds it. **Edge collars** are masked (collars.py; `collars=False` keeps them).
* **Band mapping.** `bands=(r, g, b)` (1-based) wins; otherwise the bands whose colour
  interpretation is red, green and blue (so BGR or RGBI files labelled as such map correctly);
  otherwise a raster with exactly as many non-alpha bands as the model takes, in order. One- or
  two-band rasters and unlabelled multi-band rasters are refused with what to do.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from osgeo import gdal, ogr, osr

from .bands import choose_bands, white_point
from .collars import Collar, find_collar
from .errors import InputError, NoValidPixelsError
from .gdalio import call_gdal, close_dataset
from .mosaic import MOSAIC_VRT
from . import web
from .grid import Grid, pixel_bounds
from .ground import GroundMeasure, spatial_reference
from .limits import StreamLimits

SAME_GRID_TOLERANCE = 0.01      # relative pixel-size difference read without resampling


def _paletted(dataset: gdal.Dataset) -> bool:
    return dataset.RasterCount == 1 and dataset.GetRasterBand(1).GetColorInterpretation() == gdal.GCI_PaletteIndex


def ground_length(metres: float) -> str:
    """A length for an analyst: '25 cm', '1.2 m'."""
    return f"{metres * 100:.3g} cm" if metres < 1.0 else f"{metres:.3g} m"


def _centre(envelope: tuple[float, float, float, float]) -> tuple[float, float]:
    xmin, xmax, ymin, ymax = envelope
    return (xmin + xmax) / 2.0, (ymin + ymax) / 2.0


def _corners(geotransform: Sequence[float], width: int, height: int) -> np.ndarray:
    gt = geotransform
    cols = np.array([0, width, 0, width], float)
    rows = np.array([0, 0, height, height], float)
    return np.stack([gt[0] + cols * gt[1] + rows * gt[2], gt[3] + cols * gt[4] + rows * gt[5]], axis=1)


class RasterSource:
    """An input raster seen on the model's grid: windows of 0..255 float pixels plus validity."""

    def __init__(self, path: str, resolution_m: float, bands: Sequence[int] | None = None,
                 model_bands: int = 3, area: tuple[float, float, float, float] | None = None,
                 nodata: float | None = None, collars: bool = True, context_px: int = 0,
                 band_pixels: int = StreamLimits().band_pixels, scale_centre: tuple[float, float] | None = None,
                 progress: Callable[[str], None] | None = None, is_cancelled: Callable[[], bool] | None = None):
        """`path`: a file or any GDAL dataset name (a `<GDAL_WMS>` description, a `WMTS:` string).
        `area` (xmin, xmax, ymin, ymax in the raster's CRS): where the ground resolution is to be the
        model's (its centre; default the raster's) and, for a web service, what to read, with
        `context_px` model pixels around it. `nodata`: a value the raster does not declare.
        `collars`: look for edge collars (collars.py), reading `band_pixels` at a time. `scale_centre`
        (x, y): where to measure the ground resolution instead (a block of a larger run, which must
        share the whole run's grid). `progress(stage)` hears a long search for collars, `is_cancelled`
        stops it."""
        self.path = str(path)
        self._opened: list[gdal.Dataset] = [self._open()]
        first = self._opened[0]
        self.service = ""   # for a web service: what is read (web.describe)
        self.label = f"'{self.path}'"
        # what a failing file is part of, for a dataset made of others (a VRT; the mosaic of the sheets)
        self._part_of = "the mosaic of the sheets" if Path(self.path).name == MOSAIC_VRT else self.label
        self.crs_wkt = wkt = first.GetProjection()  # outputs keep it verbatim (a WKT without EPSG code too)
        if not wkt:
            raise InputError(f"{self.label} has no coordinate reference system; assign the right one "
                             "(QGIS: Layer Properties > Source, or gdal_edit.py -a_srs EPSG:<code>) and "
                             "try again.")
        geotransform = first.GetGeoTransform(can_return_null=True)
        if geotransform is None:
            raise InputError(f"{self.label} has a CRS but no georeferencing (pixel-to-map transform); "
                             "georeference it first (e.g. gdalwarp with its GCPs).")
        if geotransform[1] * geotransform[5] - geotransform[2] * geotransform[4] == 0:
            raise InputError(f"{self.label} has a pixel size of 0 (geotransform {tuple(geotransform)}): its "
                             "georeferencing is broken. Set it again, e.g. gdal_edit.py -a_ullr ULX ULY LRX LRY "
                             "(the corners' coordinates) or -tr XRES YRES, or with QGIS's Georeferencer.")
        self.srs = spatial_reference(wkt)
        if not (self.srs.IsProjected() or self.srs.IsGeographic() or self.srs.IsLocal()):
            raise InputError(f"{self.label} uses a CRS that is neither projected nor geographic; "
                             "reproject it to a projected CRS in metres (gdalwarp -t_srs EPSG:<code>).")
        centre = scale_centre or (_centre(area) if area else tuple(
            _corners(geotransform, first.RasterXSize, first.RasterYSize).mean(axis=0)))
        self.scale_centre = centre
        self.measure = GroundMeasure(self.srs, centre)
        dx, dy = self.measure.pixel_size(resolution_m, self.srs, SAME_GRID_TOLERANCE)
        if first.GetDriver().ShortName in web.WEB_DRIVERS:
            self._open_area_of_service(area, dx, context_px * max(dx, dy))
        if _paletted(self._opened[-1]):  # shown in colour by QGIS: expanded to RGBA on the fly alike
            self._opened.append(call_gdal(f"The colour table of {self.label} could not be expanded",
                                          gdal.Translate, "", self._opened[-1], format="VRT", rgbExpand="rgba"))
        if nodata is not None:
            self._opened.append(call_gdal(f"Nodata value {nodata!r} cannot be set on {self.label}",
                                          gdal.Translate, "", self._opened[-1], format="VRT", noData=nodata))
        self._source = source = self._opened[-1]
        geotransform = source.GetGeoTransform()
        self.bands = choose_bands(source, bands, model_bands, self.path)
        self.white_point = white_point(source, self.bands, self.path)
        native = (geotransform[2] == 0 and geotransform[4] == 0 and geotransform[5] < 0
                  and abs(geotransform[1] - dx) <= SAME_GRID_TOLERANCE * dx
                  and abs(-geotransform[5] - dy) <= SAME_GRID_TOLERANCE * dy)
        self.resampled = not native
        if native:
            self._dataset = source
            self.grid = Grid.of(source)
        else:
            corners = _corners(geotransform, source.RasterXSize, source.RasterYSize)
            self._dataset, self.grid = self._warped(source, corners, dx, dy)
            self._opened.append(self._dataset)
        kx, ky = self.measure.scale()
        self.pixel_size_m = math.sqrt(self.grid.dx * kx * self.grid.dy * ky)
        self._source_grid = geotransform
        self.collar = self._collar(band_pixels, progress, is_cancelled) if collars and not self.service else None
        if self.collar is not None and self.collar.everywhere:
            raise NoValidPixelsError(
                f"{self.label} is black (or white) everywhere, out to its edges: an empty raster, or a collar with "
                "no image inside; nothing to classify. If those pixels are real data, run with --no-collars.")
        band = self._dataset.GetRasterBand(self.bands[0])
        self._mask_flags = band.GetMaskFlags()
        self._nodata = [self._dataset.GetRasterBand(b).GetNoDataValue() for b in self.bands]

    def _open(self) -> gdal.Dataset:
        if not (os.path.exists(self.path) or web.is_dataset_description(self.path)):
            raise InputError(f"Input raster '{self.path}' does not exist; check the path.")
        return call_gdal(f"'{self.path}' is not a raster GDAL can read; it may be corrupt, truncated or "
                         "another kind of file", gdal.OpenEx, self.path, gdal.OF_RASTER | gdal.OF_READONLY)

    def _open_area_of_service(self, area: tuple[float, float, float, float] | None, pixel_size: float,
                              margin: float) -> None:
        """A web service at the zoom level for `pixel_size`, cut to the area plus `margin` (web.py)."""
        service = self._opened[0]
        url = web.service_url(self.path)
        self.label = f"The web service {url}"
        if area is None:
            raise InputError(f"{self.label} covers the whole world: give the area to classify (an extent, the "
                             "map canvas or polygons).")
        level = web.zoom_level(service, pixel_size)
        if level is not None:
            self._opened.append(call_gdal(f"{self.label} could not be opened at its zoom level", gdal.OpenEx,
                                          self.path, gdal.OF_RASTER | gdal.OF_READONLY,
                                          open_options=[f"OVERVIEW_LEVEL={level}"]))
        zoomed = self._opened[-1]
        xmin, xmax, ymin, ymax = area
        window = pixel_bounds(Grid.of(zoomed), (xmin - margin, xmax + margin, ymin - margin, ymax + margin))
        if window[0] >= window[2] or window[1] >= window[3]:
            raise InputError(f"The area to classify lies outside {self.label}.")
        area_dataset = call_gdal(f"{self.label} could not be cut to the area", gdal.Translate, "", zoomed,
                                 format="VRT", srcWin=[window[0], window[1], window[2] - window[0],
                                                       window[3] - window[1]])
        for index in range(1, service.RasterCount + 1):  # a zoom level's bands do not say their colours
            area_dataset.GetRasterBand(index).SetColorInterpretation(
                service.GetRasterBand(index).GetColorInterpretation())
        self._opened.append(area_dataset)
        self.service = web.describe(service, url, level, self.srs.GetAuthorityCode(None) == "3857")

    def _warped(self, source: gdal.Dataset, corners: np.ndarray, dx: float, dy: float) -> tuple[gdal.Dataset, Grid]:
        """A virtual (never materialised) warp of the input onto the model's grid, in the input's CRS:
        the input's top-left corner kept, the whole input covered."""
        left, top = corners[:, 0].min(), corners[:, 1].max()
        width = math.ceil((corners[:, 0].max() - left) / dx - 1e-6)
        height = math.ceil((top - corners[:, 1].min()) / dy - 1e-6)
        options = gdal.WarpOptions(format="VRT", xRes=dx, yRes=dy, resampleAlg="bilinear", dstAlpha=True,
                                   outputBounds=(left, top - height * dy, left + width * dx, top))
        warped = call_gdal(f"{self.label} could not be resampled to the model's grid", gdal.Warp, "", source,
                           options=options)
        return warped, Grid.of(warped)

    def _collar(self, band_pixels: int, progress: Callable[[str], None] | None,
                is_cancelled: Callable[[], bool] | None) -> Collar | None:
        """The edge collar of a raster that masks nothing itself, widened by the resampling kernel."""
        source, gt = self._source, self._source_grid
        band = source.GetRasterBand(self.bands[0])
        if band.GetMaskFlags() != gdal.GMF_ALL_VALID or gt[2] or gt[4]:
            return None
        full_scale = 255.0 if self.white_point is None else self.white_point
        heard = (lambda fraction: progress(f"Looking for edge collars ({fraction:.0%})")) if progress else None
        collar = find_collar(source, self.bands, full_scale, band_pixels, self._part_of, heard, is_cancelled)
        if collar is None or not self.resampled:
            return collar
        # The bilinear kernel reaches some max(1, scale) input pixels from a pixel's centre, its weight
        # falling to 0 there: the nearest of them, as many as the scale rounds to, are masked too.
        return collar.widened(max(1, round(self.grid.dx / gt[1])), max(1, round(self.grid.dy / -gt[5])))

    def describe(self) -> str:
        """How the raster is read, in plain words for summaries: the model's ground resolution against the
        ground size of the raster's own pixels (at the area's centre), e.g. "read at 25 cm on the ground
        from its 50 cm pixels"."""
        kx, ky = self.measure.scale()
        gt = self._source_grid
        own = math.sqrt(math.hypot(gt[1], gt[4]) * kx * math.hypot(gt[2], gt[5]) * ky)
        if self.resampled:
            kind = (" Web Mercator" if self.srs.GetAuthorityCode(None) == "3857" else
                    " geographic" if self.srs.IsGeographic() else "")
            how = f"read at {ground_length(self.pixel_size_m)} on the ground from its {ground_length(own)}{kind} pixels"
        else:
            how = f"read pixel for pixel, {ground_length(self.pixel_size_m)} on the ground"
        collar = "; an edge collar masked" if self.collar is not None else ""
        return f"{self.service}, {how}{collar}" if self.service else f"{how}{collar}"

    @property
    def width(self) -> int:
        return self.grid.width

    @property
    def height(self) -> int:
        return self.grid.height

    def read(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixels (len(rows), len(cols), bands) on 0..255 and validity (same rows, cols): 8-bit rasters
        stay uint8 (a quarter of the memory traffic), others become float32.

        `rows` and `cols` are grid indices, possibly repeated or reflected: the bounding window is
        read once and indexed (sliced when they run straight through it).
        """
        r0, r1 = int(rows.min()), int(rows.max()) + 1
        c0, c1 = int(cols.min()), int(cols.max()) + 1
        what = (f"{self.label} did not answer for its pixels {c0}..{c1} x {r0}..{r1}: it may be down, unreachable "
                "or refusing the requests; check the address and the connection" if self.service else
                f"{self.label} could not be read at pixels {c0}..{c1} x {r0}..{r1}; the file may be truncated or "
                "corrupt")
        data = call_gdal(what, self._dataset.ReadAsArray, c0, r0, c1 - c0, r1 - r0,
                         band_list=list(self.bands), part_of=self._part_of)
        data = data.reshape(len(self.bands), r1 - r0, c1 - c0)
        valid = self._validity(data, c0, r0, what)
        row_index, col_index = _index(rows, r0), _index(cols, c0)
        data, valid = data[:, row_index][:, :, col_index], valid[row_index][:, col_index]
        if self.collar is not None:
            valid &= ~self.collar.mask(*self._source_pixels(rows, cols))
        pixels = np.moveaxis(data, 0, -1)
        if pixels.dtype != np.uint8 or self.white_point is not None:
            pixels = pixels.astype(np.float32)
            if self.white_point is not None:
                pixels *= np.float32(255.0 / self.white_point)
                np.clip(pixels, 0.0, 255.0, out=pixels)
            nan = np.isnan(pixels).any(axis=-1)
            if nan.any():
                valid &= ~nan
        if not valid.all():
            fill = pixels[valid].mean(axis=0) if valid.any() else np.zeros(len(self.bands), np.float32)
            pixels = np.array(pixels)   # not a view of what GDAL read: filled below
            pixels[~valid] = np.rint(fill).astype(np.uint8) if pixels.dtype == np.uint8 else fill
        return pixels, valid

    def _source_pixels(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The input's pixels under the centres of these grid rows and columns (north-up input)."""
        if not self.resampled:
            return rows, cols
        gt, grid = self._source_grid, self.grid
        x = grid.x0 + (cols + 0.5) * grid.dx
        y = grid.y0 - (rows + 0.5) * grid.dy
        return np.floor((y - gt[3]) / gt[5]).astype(np.int64), np.floor((x - gt[0]) / gt[1]).astype(np.int64)

    def _validity(self, data: np.ndarray, c0: int, r0: int, what: str) -> np.ndarray:
        if self._mask_flags & gdal.GMF_NODATA:
            nodata = np.ones(data.shape[1:], bool)
            for values, value in zip(data, self._nodata):
                nodata &= (values == value) if value is not None and not math.isnan(value) else np.isnan(values)
            return ~nodata
        if self._mask_flags & gdal.GMF_ALL_VALID:
            return np.ones(data.shape[1:], bool)
        mask_band = self._dataset.GetRasterBand(self.bands[0]).GetMaskBand()
        mask = call_gdal(what, mask_band.ReadAsArray, c0, r0, data.shape[2], data.shape[1], part_of=self._part_of)
        return mask != 0

    def release_cache(self) -> None:
        """Drop the blocks GDAL cached for this reader (rows already passed would otherwise fill its
        block cache up to GDAL_CACHEMAX on large rasters)."""
        self._dataset.FlushCache()
        if self._source is not self._dataset:
            self._source.FlushCache()

    def close(self) -> None:
        """Close the input (and its virtual warp): this object holds the only references."""
        for dataset in reversed(self._opened):  # the warp and the expansion before what they read
            close_dataset(dataset)
        self._opened = []
        self._dataset = self._source = None

    def __enter__(self) -> "RasterSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _index(indices: np.ndarray, start: int) -> slice | np.ndarray:
    """Indices into a window read from `start`: a slice when they run straight through it."""
    if indices[-1] - indices[0] == len(indices) - 1 and np.all(np.diff(indices) == 1):
        return slice(int(indices[0]) - start, int(indices[-1]) - start + 1)
    return indices - start


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
