"""The streamed sieve (vectorize/sieve.py): small regions merge into their largest neighbour,
exactly as GDAL's sieve filter does, whatever the bands."""
import numpy as np
import pytest
from osgeo import gdal
from scipy import ndimage

from landcover_qgis_plugin.core.errors import Cancelled
from landcover_qgis_plugin.core.limits import StreamLimits
from landcover_qgis_plugin.core.modelfile import LANDCOVER_AI_CLASSES
from landcover_qgis_plugin.core.vectorize import VectorOptions, vectorize
from landcover_qgis_plugin.core.vectorize.sieve import sieve
from vectorize_support import (BUILDING, PIXEL_M2, ROAD, WOODLAND, band_rows, pixel_box, polygons,
                               write_classes)


def test_regions_below_the_minimum_area_merge_into_their_neighbour(tmp_path):
    classes = np.zeros((100, 100), np.uint8)
    classes[10:50, 10:50] = WOODLAND
    classes[20:22, 20:22] = BUILDING      # 1 m² speck inside the woodland
    classes[60:62, 60:63] = ROAD          # 1.5 m² speck in the background
    classes[70:90, 70:90] = BUILDING      # a real building, 100 m²
    raster = write_classes(tmp_path / "classes.tif", classes)
    result = vectorize(raster, tmp_path / "out.gpkg", LANDCOVER_AI_CLASSES,
                       options=VectorOptions(simplify=0, min_area=2.0, fill_holes=0))
    found = polygons(tmp_path / "out.gpkg")
    (woodland,), (building,) = found["woodland"], found["building"]
    assert found["road"] == []
    assert woodland.equals(pixel_box(10, 50, 10, 50)) and not woodland.interiors
    assert building.equals(pixel_box(70, 90, 70, 90))
    assert result.area_ha["woodland"] * 10_000 == pytest.approx(40 * 40 * PIXEL_M2)


def mem_band(array, nodata=None):
    dataset = gdal.GetDriverByName("MEM").Create("", array.shape[1], array.shape[0], 1, gdal.GDT_Byte)
    dataset.GetRasterBand(1).WriteArray(array)
    if nodata is not None:
        dataset.GetRasterBand(1).SetNoDataValue(nodata)
    return dataset


@pytest.mark.parametrize("seed,sigma,threshold", [(0, 0.7, 3), (1, 1.0, 9), (2, 2.0, 40), (3, 0.5, 25)])
def test_streamed_sieve_is_gdals_sieve_pixel_for_pixel(seed, sigma, threshold):
    """Largest neighbour, ties to the first met in row order, chains through small neighbours,
    nodata left alone: whatever the bands, exactly what gdal.SieveFilter writes."""
    rng = np.random.default_rng(seed)
    classes = np.argmax(ndimage.gaussian_filter(rng.normal(size=(4, 70, 60)), (0, sigma, sigma)), axis=0)
    classes = classes.astype(np.uint8)
    classes[rng.random(classes.shape) < 0.03] = 255
    source = mem_band(classes, nodata=255)
    expected = mem_band(np.zeros_like(classes))
    band = source.GetRasterBand(1)
    gdal.SieveFilter(band, band.GetMaskBand(), expected.GetRasterBand(1), threshold, 4)
    expected = expected.GetRasterBand(1).ReadAsArray()
    assert (expected != classes).sum() > 50                     # the sieve had work to do
    for rows in (1, 3, 16, 70):
        target = mem_band(np.zeros_like(classes))
        sieve(band, target.GetRasterBand(1), threshold, limits=band_rows(rows, 60))
        np.testing.assert_array_equal(target.GetRasterBand(1).ReadAsArray(), expected, err_msg=f"{rows} rows")


def test_small_rasters_take_gdals_sieve_whole_and_get_the_same_pixels():
    """Up to `whole_sieve_pixels` the sieve is one gdal.SieveFilter call: same pixels as streamed,
    progress reported, and a cancel stops it."""
    rng = np.random.default_rng(7)
    classes = np.argmax(ndimage.gaussian_filter(rng.normal(size=(4, 80, 60)), (0, 0.8, 0.8)), axis=0)
    band = mem_band(classes.astype(np.uint8)).GetRasterBand(1)
    streamed, whole = mem_band(np.zeros_like(classes)), mem_band(np.zeros_like(classes))
    sieve(band, streamed.GetRasterBand(1), 12, limits=band_rows(9, 60))
    fractions = []
    sieve(band, whole.GetRasterBand(1), 12, progress=fractions.append, limits=StreamLimits())
    np.testing.assert_array_equal(whole.ReadAsArray(), streamed.ReadAsArray())
    assert (whole.ReadAsArray() != classes).sum() > 50 and fractions and fractions[-1] == pytest.approx(1.0)
    with pytest.raises(Cancelled):
        sieve(band, mem_band(np.zeros_like(classes)).GetRasterBand(1), 12, is_cancelled=lambda: True)
