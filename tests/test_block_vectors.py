"""Vectorising in stripes (core/scale/block_vectors.py), as a distributed run's workers do, gives the
polygons of one pass over the whole raster: regions crossing stripes joined exactly, holes across
stripe edges filled, shared boundaries simplified alike."""
import pytest
from shapely.ops import unary_union

from landcover_qgis_plugin.core.modelfile import LANDCOVER_AI_CLASSES
from landcover_qgis_plugin.core.scale.block_vectors import vectorize_stripes
from landcover_qgis_plugin.core.vectorize import VectorOptions, vectorize
from vectorize_support import ALL, BUILDING, PIXEL_OUTLINES, ROAD, WATER, blobs, pixel_box, polygons, write_classes


def in_process(function, calls):
    return [function(*call) for call in calls]


def scene():
    classes = blobs(150, 140, seed=6)
    classes[:, 60:64] = ROAD                     # crosses every stripe
    classes[120:, :30] = 255
    classes[35:47, 90:104] = BUILDING            # a building whose 3 m² hole straddles the cut at 40
    classes[38:42, 95:98] = WATER
    classes[75:90, 110:125] = BUILDING           # one across the cut at 80 whose hole lies below it
    classes[82:85, 115:118] = WATER
    return classes


@pytest.mark.parametrize("options", [PIXEL_OUTLINES, VectorOptions(min_area=0),
                                     VectorOptions(min_area=0, square_buildings=True, fill_holes=10.0)],
                         ids=["outlines", "default", "squared"])
@pytest.mark.parametrize("stripes", [[(0, 40), (40, 80), (80, 120), (120, 150)], [(0, 150)],
                                     [(r, min(r + 7, 150)) for r in range(0, 150, 7)]], ids=["4", "1", "22"])
def test_stripes_give_the_single_pass_polygons(tmp_path, options, stripes):
    raster = write_classes(tmp_path / "classes.tif", scene())
    one = vectorize(raster, tmp_path / "one.gpkg", LANDCOVER_AI_CLASSES, ALL, options)
    many = vectorize_stripes(raster, tmp_path / "many.gpkg", LANDCOVER_AI_CLASSES, ALL, options, stripes,
                             tmp_path / "work", in_process)
    assert many.polygons == one.polygons and many.collapsed == one.collapsed
    assert many.area_ha == pytest.approx(one.area_ha, abs=1e-12)
    expected, found = polygons(tmp_path / "one.gpkg"), polygons(tmp_path / "many.gpkg")
    for name in ALL:
        key = lambda p: (round(p.centroid.x, 6), round(p.centroid.y, 6), round(p.area, 6))
        for a, b in zip(sorted(found[name], key=key), sorted(expected[name], key=key)):
            assert a.equals(b), name
    road = [p for p in found["road"] if p.intersects(pixel_box(0, 150, 61, 63))]
    assert len(road) == 1 and road[0].bounds[3] - road[0].bounds[1] == pytest.approx(150 * 0.5)   # one, through all
    building = unary_union(found["building"])
    for hole, hole_m2 in ((pixel_box(38, 42, 95, 98), 3.0), (pixel_box(82, 85, 115, 118), 2.25)):
        speck = sum(p.intersection(hole).area for p in found["water"])
        assert speck == pytest.approx(0 if options.fill_holes > hole_m2 else hole_m2)   # filled, speck dropped
        assert building.contains(hole) == (options.fill_holes > hole_m2)


def test_a_region_over_max_vertices_is_split_at_stripe_edges_and_the_parts_tile(tmp_path):
    """A road network through every stripe, capped: several polygons, split where stripes meet, that
    cover exactly what the one polygon covers, with no gap or overlap."""
    classes = blobs(160, 120, seed=6)
    classes[:, 58:62] = ROAD
    classes[::20, :] = ROAD
    raster = write_classes(tmp_path / "classes.tif", classes)
    stripes = [(r, r + 32) for r in range(0, 160, 32)]
    whole = vectorize(raster, tmp_path / "whole.gpkg", LANDCOVER_AI_CLASSES, ALL, PIXEL_OUTLINES)
    capped = VectorOptions(simplify=0, min_area=0, fill_holes=0, max_vertices=300)
    split = vectorize_stripes(raster, tmp_path / "split.gpkg", LANDCOVER_AI_CLASSES, ALL, capped, stripes,
                              tmp_path / "work", in_process)
    assert split.polygons["road"] > whole.polygons["road"] + 3
    expected, found = polygons(tmp_path / "whole.gpkg"), polygons(tmp_path / "split.gpkg")
    for name in ALL:
        assert unary_union(found[name]).symmetric_difference(unary_union(expected[name])).area < 1e-6
    everything = [p for layer in found.values() for p in layer]
    assert all(p.is_valid for p in everything)
    assert sum(p.area for p in everything) == pytest.approx(classes.size * 0.25, abs=1e-6)   # no overlaps
