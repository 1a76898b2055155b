"""Building squaring (vectorize/squaring.py): a ragged rotated rectangle comes out a rectangle."""
import numpy as np
import pytest
from scipy import ndimage
from shapely import affinity
from shapely.geometry import box
from shapely.vectorized import contains

from landcover_qgis_plugin.core.modelfile import LANDCOVER_AI_CLASSES
from landcover_qgis_plugin.core.vectorize import VectorOptions, vectorize
from vectorize_support import BUILDING, ORIGIN, RES, polygons, write_classes


def test_buildings_get_right_angles(tmp_path):
    outline = affinity.rotate(box(-20, -10, 20, 10), 23, origin=(0, 0))   # 40 m x 20 m, rotated
    outline = affinity.translate(outline, ORIGIN[0] + 50, ORIGIN[1] - 50)
    rows, cols = np.mgrid[0:200, 0:200]
    inside = contains(outline, ORIGIN[0] + (cols + 0.5) * RES, ORIGIN[1] - (rows + 0.5) * RES)
    edge = inside & ~ndimage.binary_erosion(inside)
    inside[edge & (np.random.default_rng(0).random(inside.shape) < 0.4)] = False   # a ragged outline
    raster = write_classes(tmp_path / "classes.tif", np.where(inside, BUILDING, 0))

    def corner_angles(polygon):
        ring = np.asarray(polygon.exterior.coords)[:-1]
        before, after = ring - np.roll(ring, 1, axis=0), np.roll(ring, -1, axis=0) - ring
        cosine = (before * after).sum(1) / np.hypot(*before.T) / np.hypot(*after.T)
        return np.degrees(np.arccos(np.clip(cosine, -1, 1)))

    vectorize(raster, tmp_path / "plain.gpkg", LANDCOVER_AI_CLASSES)
    vectorize(raster, tmp_path / "squared.gpkg", LANDCOVER_AI_CLASSES,
              options=VectorOptions(square_buildings=True))
    (plain,) = polygons(tmp_path / "plain.gpkg")["building"]
    (squared,) = polygons(tmp_path / "squared.gpkg")["building"]
    assert np.abs(corner_angles(plain) - 90).max() > 10
    assert len(squared.exterior.coords) == 5          # the ragged rectangle is a rectangle again
    assert np.abs(corner_angles(squared) - 90).max() < 0.01
    assert squared.area == pytest.approx(outline.area, rel=0.05)
    assert squared.symmetric_difference(outline).area < 0.05 * outline.area
