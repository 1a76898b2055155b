"""A QGIS raster layer as the GDAL dataset the engine opens itself in the worker thread.

Files (the `gdal` provider) are their own source. Web layers (the `wms` provider: XYZ/TMS, WMS,
WMTS) become GDAL WMS descriptions of the same service (core/web.py), so the worker streams the
tiles itself instead of rendering through the layer object. Main thread only.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

from qgis.core import QgsApplication, QgsRasterLayer, QgsRectangle

from .core import web
from .core.errors import InputError
from .core.ground import GroundMeasure, spatial_reference
from .i18n import tr

DEFAULT_XYZ_MAX_ZOOM = 19   # what QGIS assumes when an XYZ source names none
SAME_GRID_TOLERANCE = 0.01


@dataclass(frozen=True)
class LayerSource:
    dataset: str        # a file path or a GDAL dataset description
    web: bool           # a web service: an area must be chosen


def tile_cache() -> str:
    """GDAL's disk cache of the tiles, kept in the QGIS profile beside QGIS's own caches."""
    return str(Path(QgsApplication.qgisSettingsDirPath()) / "cache" / "landcover_web_tiles")


def layer_source(layer: QgsRasterLayer, area: QgsRectangle | None, resolution_m: float,
                 context_px: int = 0) -> LayerSource:
    """The dataset for `layer`; a WMS is requested over `area` (in the layer's CRS) and `context_px`
    pixels around it, at the model's ground resolution `resolution_m`."""
    provider = layer.providerType()
    if provider == "gdal":
        return LayerSource(layer.source(), False)
    if provider != "wms":
        raise InputError(tr("'{name}' comes from the '{provider}' data provider, which the segmentation cannot "
                            "read; save it as a GeoTIFF first (Export ▸ Save As…) and segment that.").format(
            name=layer.name(), provider=provider))
    parameters = parse_qsl(layer.source(), keep_blank_values=True)
    values = dict(parameters)
    url = values.get("url", "")
    if values.get("type") == "xyz":
        return LayerSource(web.xyz_dataset(url, int(values.get("zmax") or DEFAULT_XYZ_MAX_ZOOM), tile_cache()), True)
    layers = [value for key, value in parameters if key == "layers"]
    styles = [value for key, value in parameters if key == "styles"]
    if "tileMatrixSet" in values:
        return LayerSource(web.wmts_dataset(url, layers[0] if layers else "", values["tileMatrixSet"],
                                            styles[0] if styles else ""), True)
    if area is None or area.isEmpty():
        raise InputError(tr("'{name}' is a web layer: choose the area to classify (an extent, the map canvas or "
                            "polygons).").format(name=layer.name()))
    crs = values.get("crs") or layer.crs().authid()
    measure = GroundMeasure(spatial_reference(layer.crs().toWkt()), (area.center().x(), area.center().y()))
    pixel_size = measure.pixel_size(resolution_m, spatial_reference(layer.crs().toWkt()), SAME_GRID_TOLERANCE)
    margin_x, margin_y = context_px * pixel_size[0], context_px * pixel_size[1]
    bounds = (area.xMinimum() - margin_x, area.yMinimum() - margin_y, area.xMaximum() + margin_x,
              area.yMaximum() + margin_y)
    return LayerSource(web.wms_dataset(url, layers, styles, crs, values.get("format", "image/png"), bounds,
                                       pixel_size, tile_cache()), True)
