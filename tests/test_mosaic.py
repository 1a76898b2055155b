"""Many sheets, one mosaic: the result equals that of one raster of the same pixels, whatever names the sheets."""
from __future__ import annotations

import os

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

import testkit
from landcover_qgis_plugin.core.errors import InputError
from landcover_qgis_plugin.core.geotiff import write_geotiff
from landcover_qgis_plugin.core.mosaic import build_mosaic, expand_inputs
from trainer import cli

ORIGIN, RES, SIDE, HALF = (500_000.0, 600_000.0), 0.5, 256, 128
# a field across the corner the four sheets share, a road across one border, a building inside one sheet
SHAPES = [("woodland", 90, 170, 80, 160), ("road", 0, 256, 60, 66), ("building", 20, 50, 180, 230),
          ("water", 200, 250, 150, 240)]
QUIET = ["--quiet", "--min-area", "0", "--fill-holes", "0", "--simplify", "0"]


@pytest.fixture(scope="module")
def sheets(tmp_path_factory):
    """The whole scene, and the same pixels as four sheets in a folder (the blur model looks 3 px across)."""
    folder = tmp_path_factory.mktemp("mosaic")
    whole = write_geotiff(folder / "whole.tif", testkit.paint(SIDE, SIDE, SHAPES), ORIGIN, RES)
    (folder / "sheets").mkdir()
    paths = []
    for row in (0, HALF):
        for col in (0, HALF):
            path = folder / "sheets" / f"sheet_{row}_{col}.tif"
            gdal.Translate(str(path), str(whole), srcWin=[col, row, HALF, HALF])
            paths.append(path)
    model = testkit.save_colour_model(folder / "blur.keras", input_size=64, blur=7)
    return whole, paths, model


def classes(path) -> np.ndarray:
    return gdal.Open(str(path)).ReadAsArray()


def layer_polygons(path, name):
    dataset = ogr.Open(str(path))
    return [feature.GetGeometryRef().Clone() for feature in dataset.GetLayerByName(name)]


def predict(inputs, model, out, *options):
    assert cli.main(["predict", *map(str, inputs), "--model", str(model), "--out", str(out.with_suffix(".gpkg")),
                     "--raster", str(out.with_suffix(".tif")), *QUIET, *options]) == 0


def test_four_sheets_give_the_result_of_one_raster(sheets, tmp_path, capsys):
    whole, paths, model = sheets
    predict([whole], model, tmp_path / "one")
    predict([paths[0].parent], model, tmp_path / "many")
    assert "4 sheets as one mosaic" in capsys.readouterr().out
    np.testing.assert_array_equal(classes(tmp_path / "many.tif"), classes(tmp_path / "one.tif"))
    for name in ("woodland", "road", "building", "water"):
        one, many = (layer_polygons(tmp_path / f"{run}.gpkg", name) for run in ("one", "many"))
        assert len(many) == len(one)
        assert sum(p.GetArea() for p in many) == pytest.approx(sum(p.GetArea() for p in one), abs=1e-6)
    corner = ogr.CreateGeometryFromWkt(f"POINT({ORIGIN[0] + HALF * RES} {ORIGIN[1] - HALF * RES})")
    fields = layer_polygons(tmp_path / "many.gpkg", "woodland")
    assert len(fields) == 1 and fields[0].Contains(corner)   # one polygon across all four sheets
    assert fields[0].GetArea() == pytest.approx(80 * 80 * RES ** 2, rel=0.02)
    assert list(tmp_path.glob(".*")) == []   # the mosaic's VRT went with its scratch folder


def test_sheets_can_be_named_by_glob_list_file_or_tile_index(sheets, tmp_path):
    _, paths, _ = sheets
    folder = paths[0].parent
    listing = tmp_path / "sheets.txt"
    listing.write_text("# the four sheets, relative to the list\n" + "\n".join(os.path.relpath(p, tmp_path)
                                                                            for p in paths) + "\n")
    index = tmp_path / "index.gpkg"
    dataset = ogr.GetDriverByName("GPKG").CreateDataSource(str(index))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(2180)
    layer = dataset.CreateLayer("index", srs=srs, geom_type=ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("location", ogr.OFTString))
    for path in paths:
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("location", str(path))
        layer.CreateFeature(feature)
    dataset = None
    expected = [str(p) for p in sorted(paths)]
    assert expand_inputs([str(folder / "*.tif")]) == expected
    assert expand_inputs([str(folder)]) == expected
    assert expand_inputs([str(listing)]) == [str(p) for p in paths]
    assert expand_inputs([str(index)]) == [str(p) for p in paths]
    assert expand_inputs([str(paths[0]), str(folder)]) == [str(paths[0])] + [p for p in expected if p != str(paths[0])]


def test_mixed_crs_is_refused_naming_the_sheet_and_mixed_resolutions_are_mosaicked(tmp_path):
    image = testkit.paint(64, 64, [])
    a = write_geotiff(tmp_path / "a.tif", image, ORIGIN, RES)
    b = write_geotiff(tmp_path / "b.tif", image, (ORIGIN[0] + 32, ORIGIN[1]), RES, crs=2056)
    with pytest.raises(InputError, match=r"Sheet '.*b\.tif' is in .*EPSG:2056.*one CRS.*gdalwarp -t_srs EPSG:2180"):
        build_mosaic([str(a), str(b)], tmp_path / "m.vrt")
    coarse = write_geotiff(tmp_path / "c.tif", image[::2, ::2], (ORIGIN[0] + 32, ORIGIN[1]), 2 * RES)
    mosaic = build_mosaic([str(a), str(coarse)], tmp_path / "m.vrt")
    assert "finest of 2 resolutions" in mosaic.note
    vrt = gdal.Open(mosaic.path)
    assert vrt.GetGeoTransform()[1] == RES and (vrt.RasterXSize, vrt.RasterYSize) == (128, 64)


def test_nothing_to_mosaic_is_one_clear_error(tmp_path):
    with pytest.raises(InputError, match="No raster found"):
        expand_inputs([str(tmp_path)])
    with pytest.raises(InputError, match="matches no file"):
        expand_inputs([str(tmp_path / "*.tif")])
