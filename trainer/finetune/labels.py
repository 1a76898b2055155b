"""An image and its labels on the model's grid: what fine-tuning learns from (see the package docstring)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from landcover_qgis_plugin.core.errors import InputError
from landcover_qgis_plugin.core.grid import Grid, pixel_bounds
from landcover_qgis_plugin.core.modelfile import BACKGROUND, ModelMetadata
from landcover_qgis_plugin.core.raster import RasterSource

UNLABELLED = 255


@dataclass(frozen=True)
class LabelSource:
    """Where one image's labels come from: a class raster (`truth`), or polygons (`polygons` with their
    `class_field`, optionally a labelled `area`)."""
    image: str
    truth: str | None = None
    polygons: str | None = None
    class_field: str | None = None
    area: str | None = None


@dataclass
class LabelledImage:
    """The labelled part of an image as the engine reads it, with a class (or UNLABELLED) per pixel."""
    image: str
    pixels: np.ndarray      # (h, w, bands) on 0..255
    labels: np.ndarray      # (h, w) uint8
    grid: Grid              # the model's grid of this window (the image's CRS)
    crs_wkt: str

    def labelled_pixels(self, classes: int) -> np.ndarray:
        """Labelled pixels per class value."""
        return np.bincount(self.labels[self.labels != UNLABELLED].ravel(), minlength=classes)[:classes]


def read_labelled(source: LabelSource, metadata: ModelMetadata) -> LabelledImage:
    """The image's labelled window at the model's resolution and its labels on the same grid."""
    from osgeo import gdal

    with RasterSource(source.image, metadata.resolution_m, None, metadata.bands) as raster:
        window = _labelled_window(source, raster)
        x0, y0, x1, y1 = window
        pixels, valid = raster.read(np.arange(y0, y1), np.arange(x0, x1))
        grid = raster.grid.window(*window)
        target = gdal.GetDriverByName("MEM").Create("", grid.width, grid.height, 1, gdal.GDT_Byte)
        target.SetGeoTransform(grid.geotransform)
        target.SetProjection(raster.crs_wkt)
        target.GetRasterBand(1).Fill(UNLABELLED)
        if source.truth:
            _warp_truth(source.truth, target)
        else:
            _burn_polygons(source, target, raster.crs_wkt, metadata)
        labels = target.GetRasterBand(1).ReadAsArray()
        target = None
        crs_wkt = raster.crs_wkt
    known = len(metadata.classes)
    labels[~valid | ((labels >= known) & (labels != UNLABELLED))] = UNLABELLED
    return LabelledImage(source.image, pixels, labels, grid, crs_wkt)


def _labelled_window(source: LabelSource, raster: RasterSource) -> tuple[int, int, int, int]:
    """The raster's pixels under the labels (a truth raster's bounds, the polygons' and the area's extent)."""
    extents = []
    for path, kind in ((source.truth, "raster"), (source.polygons, "vector"), (source.area, "vector")):
        if path:
            extents.append(_extent_in(path, kind, raster.srs))
    xmin, xmax = min(e[0] for e in extents), max(e[1] for e in extents)
    ymin, ymax = min(e[2] for e in extents), max(e[3] for e in extents)
    x0, y0, x1, y1 = pixel_bounds(raster.grid, (xmin, xmax, ymin, ymax))
    if x0 >= x1 or y0 >= y1:
        labels = source.truth or source.polygons
        raise InputError(f"The labels '{labels}' do not overlap the image '{source.image}'; label the image's area "
                         "(both are read in their own CRS).")
    return x0, y0, x1, y1


def _extent_in(path: str, kind: str, srs) -> tuple[float, float, float, float]:
    """xmin, xmax, ymin, ymax of a raster's or a vector file's extent, in `srs`."""
    from osgeo import gdal, ogr, osr

    if kind == "raster":
        dataset = gdal.Open(path)
        if dataset is None:
            raise InputError(f"The class raster '{path}' could not be opened; give a GeoTIFF of class values.")
        gt, width, height = dataset.GetGeoTransform(), dataset.RasterXSize, dataset.RasterYSize
        own = osr.SpatialReference(dataset.GetProjection()) if dataset.GetProjection() else None
        corners = [(gt[0] + c * gt[1] + r * gt[2], gt[3] + c * gt[4] + r * gt[5])
                   for c, r in ((0, 0), (width, 0), (0, height), (width, height))]
    else:
        dataset = ogr.Open(path)
        if dataset is None or not dataset.GetLayerCount():
            raise InputError(f"The polygons '{path}' could not be opened as a vector file (GeoPackage, GeoJSON, "
                             "shapefile...).")
        layer = dataset.GetLayer(0)
        xmin, xmax, ymin, ymax = layer.GetExtent()
        own = layer.GetSpatialRef()
        corners = [(xmin, ymin), (xmax, ymin), (xmin, ymax), (xmax, ymax)]
    if own is None:
        raise InputError(f"'{path}' has no CRS; give it the CRS it was drawn in.")
    own.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    target = srs.Clone()
    target.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    transform = osr.CoordinateTransformation(own, target)
    points = [transform.TransformPoint(x, y)[:2] for x, y in corners]
    return (min(p[0] for p in points), max(p[0] for p in points), min(p[1] for p in points),
            max(p[1] for p in points))


def _warp_truth(truth: str, target) -> None:
    """The class raster onto the target grid by nearest neighbour, its nodata staying unlabelled."""
    from osgeo import gdal

    dataset = gdal.Open(truth)
    nodata = dataset.GetRasterBand(1).GetNoDataValue()
    dataset = None
    options = gdal.WarpOptions(resampleAlg="near", srcNodata=nodata, dstNodata=UNLABELLED)
    if gdal.Warp(target, truth, options=options) is None:
        raise InputError(f"The class raster '{truth}' could not be put on the image's grid "
                         f"({gdal.GetLastErrorMsg()}).")


def _burn_polygons(source: LabelSource, target, crs_wkt: str, metadata: ModelMetadata) -> None:
    """The labelled area as background, then each polygon as its class (values read from the class field)."""
    from osgeo import ogr, osr

    srs = osr.SpatialReference(crs_wkt)
    if source.area:
        _rasterise(source.area, target, srs, lambda feature: BACKGROUND)
    values = _class_values(metadata)
    field = source.class_field

    def value_of(feature) -> int:
        raw = feature.GetField(field)
        text = str(raw).strip() if raw is not None else ""
        if text in values:
            return values[text]
        raise InputError(f"Polygon {feature.GetFID()} of '{source.polygons}' has class {text!r} in field '{field}', "
                         f"which the model does not have; use one of its classes "
                         f"{[c.name for c in metadata.classes]} (names or values 0..{len(metadata.classes) - 1}).")

    dataset = ogr.Open(source.polygons)   # held while its layer is looked at
    definition = dataset.GetLayer(0).GetLayerDefn()
    names = [definition.GetFieldDefn(i).GetName() for i in range(definition.GetFieldCount())]
    dataset = None
    if field not in names:
        raise InputError(f"'{source.polygons}' has no class field {field!r}; its fields are {names}: name the one "
                         "holding each polygon's class (--class-field).")
    _rasterise(source.polygons, target, srs, value_of)


def _class_values(metadata: ModelMetadata) -> dict[str, int]:
    """What a class field may hold: a class name, or its value as a number."""
    values = {info.name: info.value for info in metadata.classes}
    values.update({str(info.value): info.value for info in metadata.classes})
    return values


def _rasterise(path: str, target, srs, value_of) -> None:
    """Burn each polygon of the file's first layer with value_of(feature), in the target's CRS."""
    from osgeo import gdal, ogr, osr

    dataset = ogr.Open(path)
    layer = dataset.GetLayer(0)
    memory = ogr.GetDriverByName("Memory").CreateDataSource("labels")
    burnt = memory.CreateLayer("labels", srs=srs, geom_type=ogr.wkbMultiPolygon)
    burnt.CreateField(ogr.FieldDefn("value", ogr.OFTInteger))
    own = layer.GetSpatialRef()
    if own is None:
        raise InputError(f"'{path}' has no CRS; give it the CRS it was drawn in.")
    own.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    target_srs = srs.Clone()
    target_srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    transform = osr.CoordinateTransformation(own, target_srs)
    for feature in layer:
        geometry = feature.GetGeometryRef()
        if geometry is None or geometry.GetDimension() != 2:
            continue
        geometry = geometry.Clone()
        geometry.Transform(transform)
        out = ogr.Feature(burnt.GetLayerDefn())
        out.SetField("value", int(value_of(feature)))
        out.SetGeometry(geometry)
        burnt.CreateFeature(out)
    if gdal.RasterizeLayer(target, [1], burnt, options=["ATTRIBUTE=value"]) != 0:
        raise InputError(f"The polygons of '{path}' could not be burnt onto the image's grid "
                         f"({gdal.GetLastErrorMsg()}).")


def check_enough(images: Sequence[LabelledImage], metadata: ModelMetadata, minimum_px: int) -> np.ndarray:
    """Labelled pixels per class over all images; too few in all is an error saying how many are needed."""
    counts = sum(image.labelled_pixels(len(metadata.classes)) for image in images)
    if counts.sum() < minimum_px:
        side = int(round(minimum_px ** 0.5 * metadata.resolution_m))
        raise InputError(f"Only {int(counts.sum())} labelled pixels at the model's {metadata.resolution_cm:g} cm/px "
                         f"(at least {minimum_px}, about {side} m x {side} m, are needed); label a larger area.")
    return counts
