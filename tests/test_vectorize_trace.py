"""Streamed tracing (vectorize/trace.py): one polygon per connected region, and the same polygons
whatever the bands, regions too big being split along cuts into parts that still tile."""
import numpy as np
import pytest
from scipy import ndimage
from shapely.ops import unary_union

from landcover_qgis_plugin.core.modelfile import LANDCOVER_AI_CLASSES
from landcover_qgis_plugin.core.vectorize import VectorOptions, vectorize
from vectorize_support import (ALL, BUILDING, ORIGIN, PIXEL_M2, PIXEL_OUTLINES, RES, ROAD, WATER, band_rows,
                               blobs, pixel_box, polygons, write_classes)


def test_pixel_outlines_match_pixel_counts_and_components(tmp_path):
    classes = blobs(200, 230, seed=1)
    raster = write_classes(tmp_path / "classes.tif", classes)
    result = vectorize(raster, tmp_path / "out.gpkg", LANDCOVER_AI_CLASSES, options=PIXEL_OUTLINES)
    assert list(result.layers) == ["building", "woodland", "water", "road"]
    found = polygons(tmp_path / "out.gpkg")
    assert found["background"] is None
    for info in LANDCOVER_AI_CLASSES[1:]:
        assert result.area_ha[info.name] * 10_000 == pytest.approx((classes == info.value).sum() * PIXEL_M2)
        _, components = ndimage.label(classes == info.value)
        assert len(found[info.name]) == components == result.polygons[info.name]


def horizontal_edges(polygon):
    """(row, first col, last col) of each horizontal edge of a polygon in pixel coordinates."""
    for ring in (polygon.exterior, *polygon.interiors):
        xy = np.asarray(ring.coords)
        cols, rows = np.rint((xy[:, 0] - ORIGIN[0]) / RES).astype(int), np.rint((ORIGIN[1] - xy[:, 1]) / RES).astype(int)
        for i in np.flatnonzero(rows[:-1] == rows[1:]):
            yield rows[i], min(cols[i], cols[i + 1]), max(cols[i], cols[i + 1])


@pytest.mark.parametrize("options", [PIXEL_OUTLINES, VectorOptions(),
                                     VectorOptions(square_buildings=True, fill_holes=10.0)],
                         ids=["outlines", "default", "squared"])
def test_tiny_bands_give_the_one_band_polygons(tmp_path, options):
    classes = blobs(150, 140, seed=4)
    classes[120:, :30] = 255
    classes[60:62, 40:110] = 255
    # A building ring whose 3 m² hole (a water speck) only closes in the band below the cut at 21.
    classes[14:24, 100:110] = BUILDING
    classes[17:21, 103:106] = WATER
    # Another whose hole (water) touches the outside only at a corner, on the cut at 35: a hole all the same.
    classes[26:42, 8:24] = 0
    classes[28:40, 10:20] = BUILDING
    classes[32:35, 13:16] = WATER
    classes[35, 16:22] = 0
    raster = write_classes(tmp_path / "classes.tif", classes)
    one = vectorize(raster, tmp_path / "one.gpkg", LANDCOVER_AI_CLASSES, ALL, options)
    banded = vectorize(raster, tmp_path / "banded.gpkg", LANDCOVER_AI_CLASSES, ALL, options,
                       limits=band_rows(7, 140, holes_per_batch=2))
    assert banded.polygons == one.polygons
    assert banded.area_ha == pytest.approx(one.area_ha, abs=1e-12)
    expected, found = polygons(tmp_path / "one.gpkg"), polygons(tmp_path / "banded.gpkg")
    for hole, hole_m2 in ((pixel_box(17, 21, 103, 106), 3.0), (pixel_box(32, 35, 13, 16), 2.25)):
        speck = sum(p.intersection(hole).area for p in found["water"])
        assert speck == pytest.approx(0 if options.fill_holes > hole_m2 else hole_m2)   # filled, speck dropped
    for name in ALL:
        unmatched = list(expected[name])
        for polygon in found[name]:
            twin = next(p for p in unmatched if p.symmetric_difference(polygon).area < 1e-6)
            unmatched.remove(twin)
            if options == PIXEL_OUTLINES:   # same vertices: no seam or extra corner along the cuts
                assert len(polygon.exterior.coords) == len(twin.exterior.coords)
                for row, first, last in horizontal_edges(polygon):
                    inside = slice(first, last)
                    assert 0 < row < 150 and np.all(classes[row - 1, inside] != classes[row, inside]) or \
                        row in (0, 150)


@pytest.mark.parametrize("options", [PIXEL_OUTLINES, VectorOptions()], ids=["outlines", "default"])
def test_huge_regions_are_split_along_cuts_and_the_parts_still_tile(tmp_path, options):
    """A road network spanning the raster: capped, it comes out as several polygons that cover
    what the one polygon covers (exactly, as pixel outlines) and, simplified, still fit their
    neighbours with no gap or overlap."""
    classes = blobs(160, 120, seed=6)
    classes[:, 58:62] = ROAD
    classes[::20, :] = ROAD
    classes[::20][:, ::2] = ROAD
    raster = write_classes(tmp_path / "classes.tif", classes)
    limits = band_rows(9, 120)
    whole = vectorize(raster, tmp_path / "whole.gpkg", LANDCOVER_AI_CLASSES, ALL,
                      VectorOptions(options.simplify, options.min_area, options.fill_holes, max_vertices=0),
                      limits=limits)
    capped = VectorOptions(options.simplify, options.min_area, options.fill_holes, max_vertices=300)
    split = vectorize(raster, tmp_path / "split.gpkg", LANDCOVER_AI_CLASSES, ALL, capped, limits=limits)
    assert split.polygons["road"] > whole.polygons["road"] + 3
    expected, found = polygons(tmp_path / "whole.gpkg"), polygons(tmp_path / "split.gpkg")
    biggest = max(expected["road"], key=lambda p: p.area)
    assert biggest.bounds[3] - biggest.bounds[1] == pytest.approx(160 * RES)   # one network, top to bottom
    # Pixel outlines: exactly the same coverage. Simplified: the split rows' vertices stay put, so
    # arcs crossing them simplify a little differently.
    exact = options.simplify == 0
    for name in ALL:
        moved = unary_union(found[name]).symmetric_difference(unary_union(expected[name])).area
        assert moved < (1e-6 if exact else 0.02 * whole.area_ha[name] * 10_000)
        assert split.area_ha[name] == pytest.approx(whole.area_ha[name], rel=1e-7 if exact else 0.01)
    everything = [p for layer in found.values() for p in layer]
    valid_m2 = classes.size * PIXEL_M2
    assert all(p.is_valid for p in everything)
    assert sum(p.area for p in everything) == pytest.approx(valid_m2, abs=1e-6)    # no overlaps
    assert unary_union(everything).area == pytest.approx(valid_m2, abs=1e-6)       # no gaps
