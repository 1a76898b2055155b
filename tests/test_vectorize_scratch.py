"""Small holes (vectorize/scratch.py's hole mask): filled, and whatever lay inside them dropped."""
import numpy as np
import pytest
from shapely.geometry import Polygon

from landcover_qgis_plugin.core.modelfile import LANDCOVER_AI_CLASSES
from landcover_qgis_plugin.core.vectorize import VectorOptions, vectorize
from vectorize_support import BUILDING, PIXEL_M2, WATER, WOODLAND, pixel_box, polygons, write_classes


def test_small_holes_are_filled_and_what_was_inside_dropped(tmp_path):
    classes = np.zeros((100, 100), np.uint8)
    classes[10:40, 10:40] = BUILDING
    classes[15:17, 15:17] = 0             # 1 m² background hole: filled
    classes[25:27, 25:27] = WOODLAND      # 1 m² woodland hole: filled, the speck dropped
    classes[30:35, 15:20] = WATER         # 6.25 m² hole: kept
    classes[60:80, 60:80] = WOODLAND      # woodland elsewhere stays
    raster = write_classes(tmp_path / "classes.tif", classes)
    vectorize(raster, tmp_path / "out.gpkg", LANDCOVER_AI_CLASSES,
              options=VectorOptions(simplify=0, min_area=0, fill_holes=4.0))
    found = polygons(tmp_path / "out.gpkg")
    (building,) = found["building"]
    assert len(building.interiors) == 1
    assert Polygon(building.interiors[0]).equals(pixel_box(30, 35, 15, 20))
    assert building.area == pytest.approx((30 * 30 - 25) * PIXEL_M2)
    assert [p.bounds for p in found["woodland"]] == [pixel_box(60, 80, 60, 80).bounds]
    assert len(found["water"]) == 1
