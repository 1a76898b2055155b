"""The sieve over a distributed run's blocks (core/scale/block_sieve.py): surveyed block by block,
decided once, applied block by block, it writes exactly what gdal.SieveFilter writes on the whole raster."""
import numpy as np
import pytest
from osgeo import gdal
from scipy import ndimage

from landcover_qgis_plugin.core.scale.block_sieve import apply_block, decide_blocks, survey_block
from vectorize_support import write_classes


def sieve_in_blocks(raster, side, threshold, folder):
    dataset = gdal.Open(raster)
    width, height = dataset.RasterXSize, dataset.RasterYSize
    rects = {(r // side, c // side): (c, r, min(c + side, width), min(r + side, height))
             for r in range(0, height, side) for c in range(0, width, side)}
    surveys = {key: survey_block(raster, rect, threshold) for key, rect in rects.items()}
    changes = decide_blocks(surveys, rects, width, threshold)
    result = dataset.ReadAsArray()
    for key, change in changes.items():
        x0, y0, x1, y1 = rects[key]
        out = apply_block(raster, rects[key], change, str(folder / f"block_{key[0]}_{key[1]}.tif"))
        block = gdal.Open(out)
        assert block.GetGeoTransform()[0] == pytest.approx(dataset.GetGeoTransform()[0] + x0 * 0.5)
        result[y0:y1, x0:x1] = block.ReadAsArray()
    return result, changes


@pytest.mark.parametrize("seed,sigma,threshold,side", [(0, 0.7, 3, 7), (1, 1.0, 9, 16), (2, 2.0, 40, 13),
                                                       (3, 0.5, 25, 5), (4, 1.5, 60, 1000)])
def test_blocks_give_gdals_sieve_on_the_whole_raster(tmp_path, seed, sigma, threshold, side):
    """Regions crossing block borders and corners, ties, chains of small regions and nodata: the
    whole raster's sizes decide, as they do for GDAL."""
    rng = np.random.default_rng(seed)
    classes = np.argmax(ndimage.gaussian_filter(rng.normal(size=(4, 70, 60)), (0, sigma, sigma)), axis=0)
    classes = classes.astype(np.uint8)
    classes[rng.random(classes.shape) < 0.03] = 255
    raster = write_classes(tmp_path / "classes.tif", classes)
    dataset = gdal.Open(raster)
    band = dataset.GetRasterBand(1)
    expected = gdal.GetDriverByName("MEM").Create("", 60, 70, 1, gdal.GDT_Byte)
    gdal.SieveFilter(band, band.GetMaskBand(), expected.GetRasterBand(1), threshold, 4)
    expected = expected.ReadAsArray()
    expected[classes == 255] = 255
    assert (expected != classes).sum() > 50                     # the sieve had work to do
    found, changes = sieve_in_blocks(raster, side, threshold, tmp_path)
    np.testing.assert_array_equal(found, expected)


def test_a_region_small_in_each_block_but_large_in_all_is_kept(tmp_path):
    """A road crossing four blocks, 6 px in each: small in every block, 24 px in all, over a threshold of 10."""
    classes = np.zeros((20, 20), np.uint8)
    classes[9, 4:16] = 4
    classes[10, 4:16] = 4
    classes[2, 2] = 1                                            # a 1 px speck, merged
    raster = write_classes(tmp_path / "classes.tif", classes)
    found, changes = sieve_in_blocks(raster, 10, 10, tmp_path)
    expected = classes.copy()
    expected[2, 2] = 0
    np.testing.assert_array_equal(found, expected)
    assert list(changes) == [(0, 0)]                             # only the speck's block is rewritten
