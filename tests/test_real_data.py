"""Real data from ../shared/data: the LandCover.ai ground-truth mask and SWISSIMAGE orthophotos."""
import numpy as np
import pytest
from conftest import REPO
from osgeo import gdal, ogr, osr
from shapely import wkb
from shapely.ops import unary_union

import testkit
from testkit import SHARED_DATA
from landcover_qgis_plugin.core.engine import segment
from landcover_qgis_plugin.core.modelfile import LANDCOVER_AI_CLASSES
from landcover_qgis_plugin.core.vectorize import VectorOptions, vectorize
from trainer import cli

MASK = SHARED_DATA / "landcoverai_mask_N-33-60-D-c-4-2.tif"
ORTHOPHOTOS = sorted(SHARED_DATA.glob("swissimage_*.tif"))
ALL = [c.name for c in LANDCOVER_AI_CLASSES]
SAME = ["IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES"]


@pytest.fixture
def mask_pixels(shared_data):
    dataset = gdal.Open(str(MASK))
    counts = np.bincount(dataset.ReadAsArray().ravel(), minlength=5)
    pixel_m2 = abs(dataset.GetGeoTransform()[1] * dataset.GetGeoTransform()[5])
    return counts, pixel_m2, dataset.GetProjection()


def layer_polygons(gpkg):
    dataset = ogr.Open(str(gpkg))
    return {name: [wkb.loads(bytes(f.GetGeometryRef().ExportToWkb())) for f in dataset.GetLayerByName(name)]
            for name in ALL if dataset.GetLayerByName(name)}


def test_real_mask_polygons_match_its_pixel_counts_and_crs(tmp_path, mask_pixels):
    counts, pixel_m2, crs_wkt = mask_pixels
    result = vectorize(MASK, tmp_path / "mask.gpkg", LANDCOVER_AI_CLASSES,
                       options=VectorOptions(simplify=0, min_area=0, fill_holes=0))
    assert list(result.layers) == ["building", "woodland", "water", "road"]
    # True ground areas: the mask lies some 180 km east of EPSG:2180's central meridian, where the
    # projection's scale is k = k0 (1 + x'^2 / 2R^2) > 1, so a map square metre is 1/k^2 on the ground.
    gt = gdal.Open(str(MASK)).GetGeoTransform()
    east = gt[0] + 4136 / 2 * gt[1] - 500_000.0
    k = 0.9993 * (1 + east ** 2 / (2 * 6_381_000.0 ** 2))
    for info in LANDCOVER_AI_CLASSES[1:]:
        assert result.area_ha[info.name] * 10_000 == pytest.approx(counts[info.value] * pixel_m2 / k ** 2, rel=2e-4)
    # The CRS is the mask's own WKT (no EPSG code): kept as it is, not guessed or replaced.
    dataset = ogr.Open(str(tmp_path / "mask.gpkg"))
    layer_srs = dataset.GetLayerByName("woodland").GetSpatialRef()
    assert layer_srs.IsSame(osr.SpatialReference(crs_wkt), SAME)
    assert layer_srs.GetAuthorityCode(None) is None
    assert layer_srs.GetProjParm(osr.SRS_PP_CENTRAL_MERIDIAN) == 19 and \
        layer_srs.GetProjParm(osr.SRS_PP_SCALE_FACTOR) == pytest.approx(0.9993)
    origin = gdal.Open(str(MASK)).GetGeoTransform()
    xmin, _, _, ymax = dataset.GetLayerByName("woodland").GetExtent()
    assert xmin == pytest.approx(origin[0], abs=0.01) and ymax == pytest.approx(origin[3], abs=0.01)


def test_real_mask_cleaned_layers_keep_areas_and_cover_it_exactly(tmp_path, mask_pixels):
    counts, pixel_m2, _ = mask_pixels
    result = vectorize(MASK, tmp_path / "mask.gpkg", LANDCOVER_AI_CLASSES, keep=ALL)   # default cleaning
    for info in LANDCOVER_AI_CLASSES:
        assert result.area_ha[info.name] * 10_000 == pytest.approx(counts[info.value] * pixel_m2, rel=0.01)
    polygons = [p for layer in layer_polygons(tmp_path / "mask.gpkg").values() for p in layer]
    assert all(p.is_valid for p in polygons)
    total_m2 = counts.sum() * pixel_m2
    assert sum(p.area for p in polygons) == pytest.approx(total_m2, abs=1e-3)      # no overlaps
    assert unary_union(polygons).area == pytest.approx(total_m2, abs=1e-3)         # no gaps
    assert sum(result.polygons.values()) < 0.9 * sum(
        vectorize(MASK, tmp_path / "outlines.gpkg", LANDCOVER_AI_CLASSES, keep=ALL,
                  options=VectorOptions(simplify=0, min_area=0, fill_holes=0)).polygons.values())


@pytest.mark.parametrize("orthophoto", ORTHOPHOTOS, ids=[p.name for p in ORTHOPHOTOS])
def test_predict_runs_real_orthophotos_end_to_end(tmp_path, capsys, orthophoto):
    model = testkit.save_colour_model(tmp_path / "colour.keras", input_size=256, resolution_cm=50,
                                      palette=testkit.NATURAL_PALETTE)
    status = cli.main(["predict", str(orthophoto), "--model", str(model), "--out", str(tmp_path / "out.gpkg"),
                       "--raster", str(tmp_path / "classes.tif"), "--quiet"])
    assert status == 0
    printed = capsys.readouterr().out
    assert "tiles" in printed and all(name in printed for name in ALL)
    source, classes = gdal.Open(str(orthophoto)), gdal.Open(str(tmp_path / "classes.tif"))
    assert classes.GetGeoTransform() == pytest.approx(source.GetGeoTransform())
    assert (classes.RasterXSize, classes.RasterYSize) == (source.RasterXSize, source.RasterYSize)
    values = classes.ReadAsArray()
    assert values.max() < 5 and len(np.unique(values)) >= 4
    dataset = ogr.Open(str(tmp_path / "out.gpkg"))
    assert sorted(dataset.GetLayer(i).GetName() for i in range(dataset.GetLayerCount())) == \
        sorted(["building", "woodland", "water", "road"])
    srs = dataset.GetLayerByName("woodland").GetSpatialRef()
    assert srs.GetAuthorityCode(None) == "2056"
    hectares = sum(f.GetField("area_m2") for name in ("woodland", "road", "building", "water")
                   for f in dataset.GetLayerByName(name)) / 10_000
    covered = (values > 0).sum() * 0.25 / 10_000
    assert hectares == pytest.approx(covered, rel=0.05)
    # A second run without --overwrite keeps the first result and says why, in one line.
    assert cli.main(["predict", str(orthophoto), "--model", str(model), "--out", str(tmp_path / "out.gpkg"),
                     "--quiet"]) == 2
    assert "already exists" in capsys.readouterr().err


@pytest.mark.parametrize("orthophoto", ORTHOPHOTOS, ids=[p.name for p in ORTHOPHOTOS])
def test_a_40_m_chip_of_a_real_orthophoto_runs_through_predict(tmp_path, capsys, orthophoto):
    """80 x 80 px, far smaller than the model's 256 px tile: mirrored out, classified, every pixel kept."""
    chip = tmp_path / "chip.tif"
    gdal.Translate(str(chip), str(orthophoto), srcWin=[300, 200, 80, 80])
    model = testkit.save_colour_model(tmp_path / "colour.keras", input_size=256, resolution_cm=50,
                                      palette=testkit.NATURAL_PALETTE)
    assert cli.main(["predict", str(chip), "--model", str(model), "--out", str(tmp_path / "chip.gpkg"),
                     "--raster", str(tmp_path / "chip_classes.tif"), "--quiet"]) == 0
    assert "0.002 km² classified" in capsys.readouterr().out   # 40 m x 40 m
    classes = gdal.Open(str(tmp_path / "chip_classes.tif"))
    assert (classes.RasterXSize, classes.RasterYSize) == (80, 80) and classes.ReadAsArray().max() < 5
    dataset = ogr.Open(str(tmp_path / "chip.gpkg"))
    square_metres = sum(f.GetField("area_m2") for i in range(dataset.GetLayerCount()) for f in dataset.GetLayer(i))
    assert 0 < square_metres <= 40 * 40 * 1.001


def test_the_bundled_sample_in_web_mercator_measures_its_true_16_ha(tmp_path):
    """1600 x 1600 px of 25 cm: 16.0 ha. Read as 0.25 Mercator metres it would be 43.9 ha."""
    sample = REPO / "resources" / "sample" / "sample_orthophoto.tif"
    mercator = tmp_path / "sample_3857.tif"
    gdal.Warp(str(mercator), str(sample), dstSRS="EPSG:3857", dstAlpha=True)
    model = testkit.save_colour_model(tmp_path / "colour.keras", input_size=256, resolution_cm=25,
                                      palette=testkit.NATURAL_PALETTE)
    result = segment(str(mercator), str(model), raster_path=tmp_path / "classes.tif")
    assert sum(result.area_ha.values()) == pytest.approx(16.0, rel=0.03)
    assert result.pixel_size_m == pytest.approx(0.25, rel=0.01)
