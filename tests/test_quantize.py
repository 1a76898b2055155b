"""int8 copies of ONNX models (trainer/quantize.py): calibrated on synthetic scenes, agreement measured."""
import numpy as np
import pytest
from osgeo import gdal

from conftest import REPO
from landcover_qgis_plugin.core.engine import segment
from landcover_qgis_plugin.core.modelfile import read_metadata
from trainer.quantize import quantize

DEFAULT_ONNX = REPO / "resources" / "models" / "default.onnx"
SAMPLE = REPO / "resources" / "sample" / "sample_orthophoto.tif"


@pytest.mark.skipif(not DEFAULT_ONNX.is_file(), reason="no bundled ONNX model")
def test_the_int8_copy_keeps_the_classes_and_says_how_well(tmp_path):
    int8 = tmp_path / "default.int8.onnx"
    agreement = quantize(DEFAULT_ONNX, int8, calibration_tiles=8, check_tiles=4)
    assert agreement["pixel_agreement_with_float32"] > 0.9
    metadata = read_metadata(int8)
    assert metadata.name.endswith("(int8)") and metadata.scores["int8"] == agreement
    assert metadata.classes == read_metadata(DEFAULT_ONNX).classes
    crop = tmp_path / "crop.tif"
    gdal.Translate(str(crop), str(SAMPLE), srcWin=[0, 0, 600, 600])
    segment(str(crop), str(DEFAULT_ONNX), raster_path=tmp_path / "float32.tif")
    segment(str(crop), str(int8), raster_path=tmp_path / "int8.tif")
    full, reduced = (gdal.Open(str(tmp_path / name)).ReadAsArray() for name in ("float32.tif", "int8.tif"))
    assert np.mean(full == reduced) > 0.95
