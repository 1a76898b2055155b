"""The vectoriser on class rasters written with GDAL: gap-free layers, the cleaning options, streaming."""
import tracemalloc

import numpy as np
import pytest
from osgeo import gdal, ogr, osr
from scipy import ndimage
from shapely import affinity, wkb
from shapely.geometry import Polygon, box
from shapely.ops import unary_union
from shapely.vectorized import contains

from landcover_qgis_plugin.core.errors import InputError, SegmentationCancelled
from landcover_qgis_plugin.core.geotiff import write_geotiff
from landcover_qgis_plugin.core.modelfile import LANDCOVER_AI_CLASSES
from landcover_qgis_plugin.core import vectorize as vectorize_module
from landcover_qgis_plugin.core.vectorize import VectorOptions, sieve, vectorize

ORIGIN = (400_000.0, 500_000.0)
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


def test_layers_fields_and_crs(tmp_path):
    classes = np.zeros((60, 60), np.uint8)
    classes[5:15, 5:25] = BUILDING
    raster = write_classes(tmp_path / "classes.tif", classes)
    result = vectorize(raster, tmp_path / "out.gpkg", LANDCOVER_AI_CLASSES, keep=("building", "water"))
    assert result.layers == {"building": "building", "water": "water"}
    dataset = ogr.Open(str(tmp_path / "out.gpkg"))
    names = sorted(dataset.GetLayer(i).GetName() for i in range(dataset.GetLayerCount()))
    assert names == ["building", "water"]
    water, building = dataset.GetLayerByName("water"), dataset.GetLayerByName("building")
    assert water.GetFeatureCount() == 0 and building.GetFeatureCount() == 1
    feature = building.GetNextFeature()
    assert (feature.GetField("class"), feature.GetField("value"), feature.GetField("area_m2")) == \
        ("building", 1, 10 * 20 * PIXEL_M2)
    same = ["IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES"]
    assert building.GetSpatialRef().IsSame(osr.SpatialReference(gdal.Open(raster).GetProjection()), same)
    with pytest.raises(InputError, match="Unknown class name"):
        vectorize(raster, tmp_path / "bad.gpkg", LANDCOVER_AI_CLASSES, keep=("buildings",))
    with pytest.raises(FileExistsError):
        vectorize(raster, tmp_path / "out.gpkg", LANDCOVER_AI_CLASSES)


def test_cancel_leaves_no_file(tmp_path):
    raster = write_classes(tmp_path / "classes.tif", blobs(200, 200))
    with pytest.raises(SegmentationCancelled):
        vectorize(raster, tmp_path / "out.gpkg", LANDCOVER_AI_CLASSES, is_cancelled=lambda: True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["classes.tif"]


@pytest.fixture
def band_rows(monkeypatch):
    """Force bands of `rows` rows on a raster `width` pixels wide (the default fits small rasters in one)."""
    def force(rows, width):
        monkeypatch.setattr(vectorize_module, "BAND_PIXELS", rows * width)
    return force


def mem_band(array, nodata=None):
    dataset = gdal.GetDriverByName("MEM").Create("", array.shape[1], array.shape[0], 1, gdal.GDT_Byte)
    dataset.GetRasterBand(1).WriteArray(array)
    if nodata is not None:
        dataset.GetRasterBand(1).SetNoDataValue(nodata)
    return dataset


@pytest.mark.parametrize("seed,sigma,threshold", [(0, 0.7, 3), (1, 1.0, 9), (2, 2.0, 40), (3, 0.5, 25)])
def test_streamed_sieve_is_gdals_sieve_pixel_for_pixel(band_rows, seed, sigma, threshold):
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
        band_rows(rows, 60)
        target = mem_band(np.zeros_like(classes))
        sieve(band, target.GetRasterBand(1), threshold)
        np.testing.assert_array_equal(target.GetRasterBand(1).ReadAsArray(), expected, err_msg=f"{rows} rows")


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
def test_tiny_bands_give_the_one_band_polygons(tmp_path, band_rows, monkeypatch, options):
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
    band_rows(7, 140)
    monkeypatch.setattr(vectorize_module, "HOLES_PER_BATCH", 2)
    banded = vectorize(raster, tmp_path / "banded.gpkg", LANDCOVER_AI_CLASSES, ALL, options)
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
def test_huge_regions_are_split_along_cuts_and_the_parts_still_tile(tmp_path, band_rows, options):
    """A road network spanning the raster: capped, it comes out as several polygons that cover
    what the one polygon covers (exactly, as pixel outlines) and, simplified, still fit their
    neighbours with no gap or overlap."""
    classes = blobs(160, 120, seed=6)
    classes[:, 58:62] = ROAD
    classes[::20, :] = ROAD
    classes[::20][:, ::2] = ROAD
    raster = write_classes(tmp_path / "classes.tif", classes)
    band_rows(9, 120)
    whole = vectorize(raster, tmp_path / "whole.gpkg", LANDCOVER_AI_CLASSES, ALL,
                      VectorOptions(options.simplify, options.min_area, options.fill_holes, max_vertices=0))
    capped = VectorOptions(options.simplify, options.min_area, options.fill_holes, max_vertices=300)
    split = vectorize(raster, tmp_path / "split.gpkg", LANDCOVER_AI_CLASSES, ALL, capped)
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
        assert split.area_ha[name] == pytest.approx(whole.area_ha[name], abs=1e-12 if exact else None,
                                                     rel=None if exact else 0.01)
    everything = [p for layer in found.values() for p in layer]
    valid_m2 = classes.size * PIXEL_M2
    assert all(p.is_valid for p in everything)
    assert sum(p.area for p in everything) == pytest.approx(valid_m2, abs=1e-6)    # no overlaps
    assert unary_union(everything).area == pytest.approx(valid_m2, abs=1e-6)       # no gaps


def test_streaming_memory_does_not_grow_with_the_raster_height(tmp_path, band_rows):
    """Sieving and tracing hold one band and what crosses its cut (Python-side, numpy included)."""
    tile = blobs(100, 120, seed=3)
    band_rows(40, 120)
    peaks = []
    for repeat in (2, 16):
        raster = write_classes(tmp_path / f"classes_{repeat}.tif", np.tile(tile, (repeat, 1)))
        seen = {}
        tracemalloc.start()
        try:
            result = vectorize(raster, tmp_path / f"out_{repeat}.gpkg", LANDCOVER_AI_CLASSES,
                               progress=lambda percent, message: seen.setdefault(
                                   message, tracemalloc.get_traced_memory()[1]))
        finally:
            tracemalloc.stop()
        peaks.append(seen["Writing polygons"])   # peak through sieving and tracing
    assert sum(result.polygons.values()) > 1000
    assert peaks[1] < 1.3 * peaks[0]
