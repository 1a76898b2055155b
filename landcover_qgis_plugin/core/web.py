"""Web map services (XYZ/TMS tiles, WMS, WMTS) as GDAL datasets the engine streams like files.

Decisions (quoted in the README):

* **GDAL's WMS driver reads them**, window by window, with its disk cache: an XYZ/TMS service is a
  `<GDAL_WMS>` description of its tile pyramid, a WMS one of its GetMap requests over the area, a
  WMTS service a `WMTS:` connection string. QGIS's own layer object is never used from the worker
  thread; the plugin turns the layer's source into such a description (`qgis_sources.py`).
* **The zoom level** (for a WMS, the request resolution) is the coarsest whose pixels are still at
  least as fine as the model's ground resolution at the area's centre, so no tile is fetched finer
  than needed and nothing is upsampled when the service has the detail.
* **Only the area is read**: a service covers the world, so an area (extent or polygons) is
  required, and the dataset is cut to it plus half a model tile of context all round.
* **Missing tiles** (HTTP 404 or 204) are empty (nodata), not errors; a server that is down,
  unreachable or refuses is one error naming the service.
"""
from __future__ import annotations

import math
import re
import tempfile
from pathlib import Path
from typing import Sequence
from xml.sax.saxutils import escape

from osgeo import gdal

WEB_DRIVERS = ("WMS", "WMTS")
WEB_MERCATOR_HALF_WORLD = 20037508.342789244
WEB_MERCATOR_ZOOM0_RESOLUTION = 2 * WEB_MERCATOR_HALF_WORLD / 256  # metres per pixel of a 256 px tile at zoom 0
MISSING_TILE_HTTP_CODES = "204,404"


def default_cache() -> Path:
    """Where tiles are cached when the caller names no folder (GDAL's own default is the working folder)."""
    return Path(tempfile.gettempdir()) / "landcover_web_tiles"


def _cache_xml(cache: str | Path | None) -> str:
    return f"<Cache><Path>{escape(str(cache or default_cache()))}</Path></Cache>"


def xyz_dataset(url: str, max_zoom: int, cache: str | Path | None = None, bands: int = 4,
                tile_size: int = 256) -> str:
    """A GDAL WMS description of an XYZ (Web Mercator) tile service: `url` with {x}, {y} (or {-y}
    for TMS numbering) and {z}, as QGIS writes it, or with GDAL's ${x} ${y} ${z}."""
    y_origin = "bottom" if "{-y}" in url else "top"
    template = re.sub(r"\$?\{(-?)([xyz])\}", lambda match: "${" + match.group(2) + "}", url)
    return (f"<GDAL_WMS><Service name=\"TMS\"><ServerUrl>{escape(template)}</ServerUrl></Service>"
            f"<DataWindow><UpperLeftX>{-WEB_MERCATOR_HALF_WORLD}</UpperLeftX>"
            f"<UpperLeftY>{WEB_MERCATOR_HALF_WORLD}</UpperLeftY><LowerRightX>{WEB_MERCATOR_HALF_WORLD}</LowerRightX>"
            f"<LowerRightY>{-WEB_MERCATOR_HALF_WORLD}</LowerRightY><TileLevel>{int(max_zoom)}</TileLevel>"
            f"<TileCountX>1</TileCountX><TileCountY>1</TileCountY><YOrigin>{y_origin}</YOrigin></DataWindow>"
            f"<Projection>EPSG:3857</Projection><BlockSizeX>{tile_size}</BlockSizeX>"
            f"<BlockSizeY>{tile_size}</BlockSizeY><BandsCount>{bands}</BandsCount>"
            f"<ZeroBlockHttpCodes>{MISSING_TILE_HTTP_CODES}</ZeroBlockHttpCodes>{_cache_xml(cache)}</GDAL_WMS>")


def wms_dataset(url: str, layers: Sequence[str], styles: Sequence[str], crs: str, image_format: str,
                bounds: tuple[float, float, float, float], pixel_size: tuple[float, float],
                cache: str | Path | None = None, version: str = "1.3.0") -> str:
    """A GDAL WMS description of a WMS service's GetMap requests over `bounds` (xmin, ymin, xmax,
    ymax in `crs`, an authority code such as EPSG:2056) at `pixel_size` CRS units per pixel."""
    xmin, ymin, xmax, ymax = bounds
    width = max(1, math.ceil((xmax - xmin) / pixel_size[0]))
    height = max(1, math.ceil((ymax - ymin) / pixel_size[1]))
    bands = 4 if "png" in image_format.lower() else 3
    return (f"<GDAL_WMS><Service name=\"WMS\"><Version>{escape(version)}</Version>"
            f"<ServerUrl>{escape(url)}</ServerUrl><CRS>{escape(crs)}</CRS>"
            f"<ImageFormat>{escape(image_format)}</ImageFormat><Layers>{escape(','.join(layers))}</Layers>"
            f"<Styles>{escape(','.join(styles))}</Styles><Transparent>TRUE</Transparent></Service>"
            f"<DataWindow><UpperLeftX>{xmin}</UpperLeftX><UpperLeftY>{ymax}</UpperLeftY>"
            f"<LowerRightX>{xmin + width * pixel_size[0]}</LowerRightX>"
            f"<LowerRightY>{ymax - height * pixel_size[1]}</LowerRightY>"
            f"<SizeX>{width}</SizeX><SizeY>{height}</SizeY></DataWindow>"
            f"<Projection>{escape(crs)}</Projection><BlockSizeX>512</BlockSizeX><BlockSizeY>512</BlockSizeY>"
            f"<BandsCount>{bands}</BandsCount><ZeroBlockHttpCodes>{MISSING_TILE_HTTP_CODES}</ZeroBlockHttpCodes>"
            f"{_cache_xml(cache)}</GDAL_WMS>")


def wmts_dataset(capabilities_url: str, layer: str, tile_matrix_set: str, style: str = "") -> str:
    """GDAL's WMTS connection string for one layer and tile matrix set of a WMTS service."""
    parts = [f"WMTS:{capabilities_url}", f"layer={layer}", f"tilematrixset={tile_matrix_set}"]
    if style:
        parts.append(f"style={style}")
    return ",".join(parts)


def is_dataset_description(name: str) -> bool:
    """A GDAL dataset given by its description or connection string rather than a file path."""
    return name.lstrip().startswith("<") or bool(re.match(r"^[A-Z][A-Z0-9_]*:(?![\\/])", name))


def service_url(name: str) -> str:
    """The address to name in messages: the server's, not the XML (given inline or as a file)."""
    text = Path(name).read_text(errors="replace") if not is_dataset_description(name) and Path(name).is_file() \
        else name
    match = re.search(r"<ServerUrl>(.*?)</ServerUrl>", text) or re.search(r"^WMTS:([^,]+)", text)
    url = (match.group(1) if match else name).replace("&amp;", "&")
    return re.sub(r"\$\{([xyz])\}", r"{\1}", url)


def zoom_level(dataset: gdal.Dataset, pixel_size: float) -> int | None:
    """The overview to read (None: the full resolution): the coarsest one still at least as fine as
    `pixel_size` CRS units, with 1 % of slack."""
    band = dataset.GetRasterBand(1)
    base = dataset.GetGeoTransform()[1]
    chosen = None
    for index in range(band.GetOverviewCount()):
        resolution = base * dataset.RasterXSize / band.GetOverview(index).XSize
        if resolution <= pixel_size * 1.01:
            chosen = index
    return chosen


def describe(dataset: gdal.Dataset, url: str, level: int | None, web_mercator: bool) -> str:
    """What is read, for summaries: the service's address and zoom level (or request resolution)."""
    resolution = dataset.GetGeoTransform()[1]
    if level is not None:
        resolution *= dataset.RasterXSize / dataset.GetRasterBand(1).GetOverview(level).XSize
    if web_mercator:
        zoom = round(math.log2(WEB_MERCATOR_ZOOM0_RESOLUTION / resolution))
        return f"web service {url}, zoom level {zoom}"
    return f"web service {url}"
