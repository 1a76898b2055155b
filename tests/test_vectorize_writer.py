"""The output GeoPackage (vectorize/writer.py): layers, fields, CRS, and refusing bad requests."""
import numpy as np
import pytest
from osgeo import gdal, ogr, osr

from landcover_qgis_plugin.core.errors import InputError
from landcover_qgis_plugin.core.modelfile import LANDCOVER_AI_CLASSES
from landcover_qgis_plugin.core.vectorize import vectorize
from vectorize_support import BUILDING, PIXEL_M2, write_classes


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
    assert (feature.GetField("class"), feature.GetField("value")) == ("building", 1)
    assert feature.GetField("area_m2") == pytest.approx(10 * 20 * PIXEL_M2, rel=1e-5)  # where the CRS's scale is 1
    same = ["IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES"]
    assert building.GetSpatialRef().IsSame(osr.SpatialReference(gdal.Open(raster).GetProjection()), same)
    with pytest.raises(InputError, match="Unknown class name"):
        vectorize(raster, tmp_path / "bad.gpkg", LANDCOVER_AI_CLASSES, keep=("buildings",))
    with pytest.raises(FileExistsError):
        vectorize(raster, tmp_path / "out.gpkg", LANDCOVER_AI_CLASSES)
