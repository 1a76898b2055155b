"""What a run will do, told before it starts: the area on the ground, the tiles, the device and, for
a web layer, the service and its zoom level. Main thread; nothing heavy is loaded."""
from __future__ import annotations

import math
from dataclasses import dataclass

from osgeo import gdal
from qgis.core import QgsRasterLayer, QgsRectangle

from .core import web
from .core.errors import LandcoverError
from .core.gdalio import gdal_errors
from .core.ground import GroundMeasure, spatial_reference
from .core.modelfile import ModelMetadata
from .core.tiling import tile_count
from .i18n import tr
from .layer_sources import SAME_GRID_TOLERANCE, layer_source

LARGE_RUN_TILES = 10_000   # the dialog asks to confirm a run of more (hours on a CPU)


@dataclass(frozen=True)
class RunPlan:
    area_m2: float
    tiles: int
    resolution_cm: float
    tile_px: int
    device: str
    service: str = ""       # a web layer: its address and zoom level

    def text(self) -> str:
        hectares = self.area_m2 / 10_000
        size = tr("{km2} km²").format(km2=f"{hectares / 100:,.2f}") if hectares >= 100 else \
            tr("{ha} ha").format(ha=f"{hectares:,.2f}")
        text = tr("Up to {size} at {cm} cm/px: about {tiles} tiles of {px} px, on {device}").format(
            size=size, cm=f"{self.resolution_cm:g}", tiles=f"{self.tiles:,}", px=self.tile_px, device=self.device)
        return f"{text}; {self.service}" if self.service else text


def run_plan(layer: QgsRasterLayer, area: QgsRectangle | None, metadata: ModelMetadata, overlap: float,
             device: str) -> RunPlan | None:
    """The plan for `area` (the layer's CRS; None: the whole layer), or None when it cannot be told
    (a web layer without an area, a layer without a CRS)."""
    web_layer = layer.providerType() == "wms"
    if area is None and web_layer:
        return None
    area = area if area is not None else layer.extent()
    if area.isEmpty() or not layer.crs().isValid():
        return None
    srs = spatial_reference(layer.crs().toWkt())
    measure = GroundMeasure(srs, (area.center().x(), area.center().y()))
    area_m2 = measure.rectangle_area_m2(area.xMinimum(), area.yMinimum(), area.xMaximum(), area.yMaximum())
    dx, dy = measure.pixel_size(metadata.resolution_m, srs, SAME_GRID_TOLERANCE)
    tiles = tile_count(math.ceil(area.width() / dx), math.ceil(area.height() / dy), metadata.input_size, overlap)
    service = _service(layer, area, metadata, dx) if web_layer else ""
    return RunPlan(area_m2, tiles, metadata.resolution_cm, metadata.input_size, device, service)


def _service(layer: QgsRasterLayer, area: QgsRectangle, metadata: ModelMetadata, pixel_size: float) -> str:
    """The service and zoom level, read from its GDAL description (opening one fetches nothing)."""
    try:
        dataset_name = layer_source(layer, area, metadata.resolution_m).dataset
    except LandcoverError:
        return ""
    if dataset_name.startswith("WMTS:"):   # opening it would fetch the capabilities here
        return tr("web service {url}").format(url=web.service_url(dataset_name))
    with gdal_errors():
        dataset = gdal.OpenEx(dataset_name, gdal.OF_RASTER | gdal.OF_READONLY)
    if dataset is None:
        return ""
    level = web.zoom_level(dataset, pixel_size)
    return web.describe(dataset, web.service_url(dataset_name), level, "3857" in layer.crs().authid())
