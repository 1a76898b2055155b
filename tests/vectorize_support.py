"""Class rasters for the vectoriser's tests, and reading their GeoPackages back (shared by the
tests/test_vectorize*.py files; plain helpers, so they can be used in parametrize lists)."""
import numpy as np
from osgeo import ogr
from scipy import ndimage
from shapely import wkb
from shapely.geometry import box

from landcover_qgis_plugin.core.geotiff import write_geotiff
from landcover_qgis_plugin.core.limits import StreamLimits
from landcover_qgis_plugin.core.modelfile import LANDCOVER_AI_CLASSES
from landcover_qgis_plugin.core.vectorize import VectorOptions

ORIGIN = (738_777.0, 600_000.0)  # EPSG:2180 metres where its scale factor is 1: planar areas are ground areas
RES = 0.5
PIXEL_M2 = RES * RES
ALL = [c.name for c in LANDCOVER_AI_CLASSES]
PIXEL_OUTLINES = VectorOptions(simplify=0, min_area=0, fill_holes=0)
BUILDING, WOODLAND, WATER, ROAD = 1, 2, 3, 4


def write_classes(path, classes, nodata=255):
    return str(write_geotiff(path, classes.astype(np.uint8), ORIGIN, RES, nodata=nodata))


def blobs(height, width, seed=0):
    """Random regions of all five classes, small specks included."""
    rng = np.random.default_rng(seed)
    fields = ndimage.gaussian_filter(rng.normal(size=(5, height, width)), (0, 3, 3))
    return np.argmax(fields, axis=0).astype(np.uint8)


def polygons(gpkg, layers=ALL):
    dataset = ogr.Open(str(gpkg))
    found = {}
    for name in layers:
        layer = dataset.GetLayerByName(name)
        found[name] = [wkb.loads(bytes(f.GetGeometryRef().ExportToWkb())) for f in layer] if layer else None
    return found


def pixel_box(r0, r1, c0, c1):
    return box(ORIGIN[0] + c0 * RES, ORIGIN[1] - r1 * RES, ORIGIN[0] + c1 * RES, ORIGIN[1] - r0 * RES)


def band_rows(rows, width, **limits):
    """Bands of `rows` rows on a raster `width` pixels wide, streamed even where GDAL's own sieve
    would take a raster this small whole."""
    return StreamLimits(band_pixels=rows * width, whole_sieve_pixels=1, **limits)
