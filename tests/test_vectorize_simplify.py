"""Shared-boundary simplification (vectorize/simplify.py): simplified layers still tile the raster."""
import pytest
from shapely.ops import unary_union

from landcover_qgis_plugin.core.modelfile import LANDCOVER_AI_CLASSES
from landcover_qgis_plugin.core.vectorize import vectorize
from vectorize_support import ALL, PIXEL_M2, PIXEL_OUTLINES, blobs, pixel_box, polygons, write_classes


def test_simplified_layers_tile_the_raster_without_gaps_or_overlaps(tmp_path):
    classes = blobs(300, 280)
    classes[250:, :40] = 255
    raster = write_classes(tmp_path / "classes.tif", classes)
    vectorize(raster, tmp_path / "outlines.gpkg", LANDCOVER_AI_CLASSES, ALL, PIXEL_OUTLINES)
    result = vectorize(raster, tmp_path / "simplified.gpkg", LANDCOVER_AI_CLASSES, ALL)
    simplified = [p for layer in polygons(tmp_path / "simplified.gpkg").values() for p in layer]
    outlines = [p for layer in polygons(tmp_path / "outlines.gpkg").values() for p in layer]
    valid_m2 = (classes != 255).sum() * PIXEL_M2
    union = unary_union(simplified)
    assert all(p.is_valid for p in simplified)
    assert sum(p.area for p in simplified) == pytest.approx(valid_m2, abs=1e-6)   # no overlaps
    assert union.area == pytest.approx(valid_m2, abs=1e-6)                         # no gaps
    assert union.intersection(pixel_box(250, 300, 0, 40)).area == pytest.approx(0, abs=1e-9)
    vertices = sum(len(p.exterior.coords) for p in simplified)
    assert vertices < 0.6 * sum(len(p.exterior.coords) for p in outlines)          # it did simplify
    assert sum(result.area_ha.values()) * 10_000 == pytest.approx(valid_m2)
