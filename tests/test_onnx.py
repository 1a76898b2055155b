"""ONNX models through ONNX Runtime: our export, Deepness-layout models (softmax and sigmoid), their
metadata read without a runtime, and a run where TensorFlow cannot be imported."""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from osgeo import gdal, ogr

import testkit
from conftest import REPO
from landcover_qgis_plugin.core.engine import SegmentationOptions, segment
from landcover_qgis_plugin.core.errors import InputError, ModelFileError
from landcover_qgis_plugin.core.geotiff import write_geotiff
from landcover_qgis_plugin.core.modelfile import LANDCOVER_AI_CLASSES, read_metadata, save_model

ORIGIN = (2_600_000.0, 1_200_096.0)
RES = 0.5
SHAPES = [("building", 20, 60, 30, 90), ("woodland", 100, 150, 10, 120), ("water", 150, 190, 150, 250),
          ("road", 0, 200, 130, 140)]
EXACT = SegmentationOptions(min_area=0, fill_holes=0)
DEEPNESS = {"model_type": "Segmentor", "resolution": 50, "tile_size": 64, "tiles_overlap": 15,
            "standardization_mean": [0.0, 0.0, 0.0], "standardization_std": [1.0, 1.0, 1.0]}


@pytest.fixture(scope="module")
def painted(tmp_path_factory):
    path = tmp_path_factory.mktemp("onnx") / "painted.tif"
    return str(write_geotiff(path, testkit.paint(200, 260, SHAPES), ORIGIN, RES, crs=2056))


def classes_of(path) -> np.ndarray:
    return gdal.Open(str(path)).ReadAsArray()


def test_our_onnx_export_gives_the_keras_result(tmp_path, painted):
    from trainer.onnx_export import export_onnx

    network, metadata = testkit.colour_model(input_size=64, fixed_size=True)
    keras_file = save_model(network, metadata, tmp_path / "colour.keras")
    onnx_file = export_onnx(network, metadata, tmp_path / "colour.onnx")
    # our whole metadata, read with no runtime (the .keras file adds its creation time when saved)
    assert read_metadata(onnx_file) == dataclasses.replace(read_metadata(keras_file), created="")
    by_keras = segment(painted, str(keras_file), raster_path=tmp_path / "keras.tif", options=EXACT)
    by_onnx = segment(painted, str(onnx_file), raster_path=tmp_path / "onnx.tif", options=EXACT)
    assert by_onnx.device == "CPU" and by_keras.device.startswith("CPU")
    np.testing.assert_array_equal(classes_of(tmp_path / "onnx.tif"), classes_of(tmp_path / "keras.tif"))


def test_a_deepness_model_runs_with_our_classes_colours_and_polygons(tmp_path, painted):
    names = {"0": "background", "1": "Buildings", "2": "forest", "3": "lake", "4": "roads"}
    model = testkit.colour_onnx(tmp_path / "deepness.onnx", {**DEEPNESS, "class_names": names})
    metadata = read_metadata(model)
    assert [c.name for c in metadata.classes] == list(names.values())
    colours = {c.name: c.color for c in LANDCOVER_AI_CLASSES}
    assert [c.color for c in metadata.classes][:3] == [colours["background"], colours["building"], colours["woodland"]]
    assert metadata.classes[3].color == read_metadata(model).classes[3].color not in colours.values()  # stable, own
    assert (metadata.resolution_cm, metadata.input_size) == (50.0, 64)
    result = segment(painted, str(model), tmp_path / "out.gpkg", tmp_path / "classes.tif", options=EXACT)
    assert set(result.layers) == {"Buildings", "forest", "lake", "roads"}
    assert result.area_ha["Buildings"] == pytest.approx(40 * 60 * RES ** 2 / 10_000, rel=1e-3)
    assert result.vector_area_ha["lake"] == pytest.approx(40 * 100 * RES ** 2 / 10_000, rel=1e-3)


def test_a_one_class_sigmoid_model_segments_that_class(tmp_path, painted):
    model = testkit.colour_onnx(tmp_path / "water.onnx", {**DEEPNESS, "class_names": {"0": "water"}},
                                classes=["water"])
    assert [c.name for c in read_metadata(model).classes] == ["background", "water"]
    result = segment(painted, str(model), tmp_path / "water.gpkg", options=EXACT)
    assert list(result.layers) == ["water"]
    assert result.vector_area_ha["water"] == pytest.approx(40 * 100 * RES ** 2 / 10_000, rel=1e-3)


@pytest.mark.parametrize("drop, match", [("resolution", "has no 'resolution'"), ("tile_size", "has no 'tile_size'"),
                                         ("model_type", "has no 'model_type'")])
def test_missing_deepness_keys_are_named(tmp_path, drop, match):
    metadata = {key: value for key, value in {**DEEPNESS, "class_names": ["a", "b"]}.items() if key != drop}
    with pytest.raises(ModelFileError, match=match):
        read_metadata(testkit.colour_onnx(tmp_path / "bad.onnx", metadata, classes=["water"]))


def test_contradictory_metadata_is_refused(tmp_path, painted):
    detector = {**DEEPNESS, "model_type": "Detector", "class_names": ["car"]}
    with pytest.raises(ModelFileError, match="a Deepness 'Detector' model"):
        read_metadata(testkit.colour_onnx(tmp_path / "detector.onnx", detector, classes=["water"]))
    gaps = {**DEEPNESS, "class_names": {"0": "a", "2": "b"}}
    with pytest.raises(ModelFileError, match="without gaps"):
        read_metadata(testkit.colour_onnx(tmp_path / "gaps.onnx", gaps, classes=["water"]))
    three = testkit.colour_onnx(tmp_path / "three.onnx", {**DEEPNESS, "class_names": ["a", "b", "c"]})  # 5 outputs
    with pytest.raises(ModelFileError, match="outputs 5 channels but its metadata names 3 classes"):
        segment(painted, str(three), raster_path=tmp_path / "three.tif")
    (tmp_path / "text.onnx").write_text("not a model")
    with pytest.raises(ModelFileError, match="not an ONNX model|truncated"):
        read_metadata(tmp_path / "text.onnx")


def test_runtime_choice_is_checked_against_the_model_file(tmp_path, painted):
    model = testkit.colour_onnx(tmp_path / "m.onnx", {**DEEPNESS, "class_names": ["a", "b", "c", "d", "e"]})
    with pytest.raises(InputError, match="Runtime 'keras' cannot run .* an ONNX model file"):
        segment(painted, str(model), raster_path=tmp_path / "x.tif", options=SegmentationOptions(runtime="keras"))
    with pytest.raises(InputError, match="Precision .bfloat16. runs through Keras; an ONNX model runs in float32"):
        segment(painted, str(model), raster_path=tmp_path / "x.tif", options=SegmentationOptions(precision="bfloat16"))


def test_predict_runs_an_onnx_model_where_tensorflow_cannot_be_imported(tmp_path, painted):
    names = [c.name for c in LANDCOVER_AI_CLASSES]
    model = testkit.colour_onnx(tmp_path / "m.onnx", {**DEEPNESS, "class_names": names})
    script = ("import sys; sys.modules['tensorflow'] = None; sys.modules['keras'] = None\n"
              "from trainer import cli\n"
              f"code = cli.main(['predict', {painted!r}, '--model', {str(model)!r}, '--out', "
              f"{str(tmp_path / 'noTF.gpkg')!r}, '--quiet', '--min-area', '0', '--fill-holes', '0'])\n"
              "assert 'tensorflow' not in sys.modules or sys.modules['tensorflow'] is None\n"
              "sys.exit(code)\n")
    completed = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "on CPU" in completed.stdout
    dataset = ogr.Open(str(tmp_path / "noTF.gpkg"))
    assert sum(f.GetField("area_m2") for f in dataset.GetLayerByName("building")) == pytest.approx(600.0, rel=1e-3)


NO_TENSORFLOW = r"""
import sys
sys.modules["tensorflow"] = None   # as on a QGIS where only ONNX Runtime is installed
sys.modules["keras"] = None
sys.path.insert(0, "/usr/share/qgis/python/plugins")
from qgis.core import QgsApplication
app = QgsApplication([], False)
app.initQgis()
from processing.core.Processing import Processing
Processing.initialize()
import processing
from landcover_qgis_plugin.provider import LandCoverProvider
provider = LandCoverProvider()
QgsApplication.processingRegistry().addProvider(provider)
result = processing.run("landcover:segment", {"INPUT": sys.argv[1], "MODEL": sys.argv[2], "OUTPUT": sys.argv[3],
                                              "MIN_AREA": 0, "FILL_HOLES": 0})
print(result["POLYGON_AREA_HA"])
assert sys.modules["tensorflow"] is None
app.exitQgis()
"""


def test_processing_and_qgis_process_run_an_onnx_model_where_tensorflow_cannot_be_imported(scene, tmp_path):
    from plugin_support import EXPECTED_HA, qgis_process_env, run_qgis_process

    completed = subprocess.run([sys.executable, "-c", NO_TENSORFLOW, str(scene.raster), str(scene.onnx_model),
                                str(tmp_path / "processing.gpkg")], cwd=REPO, capture_output=True, text=True,
                               timeout=300, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert completed.returncode == 0, completed.stderr[-3000:]
    areas = json.loads(completed.stdout.strip().splitlines()[-1])
    assert areas == pytest.approx({name: EXPECTED_HA[name] for name in areas}, rel=1e-3)

    # qgis_process, with TensorFlow and Keras shadowed by packages that refuse to import.
    shadow = tmp_path / "shadow"
    for name in ("tensorflow", "keras"):
        (shadow / name).mkdir(parents=True)
        (shadow / name / "__init__.py").write_text(f"raise ImportError('{name} is not installed here')\n")
    env = qgis_process_env(tmp_path / "profile")
    env["PYTHONPATH"] = f"{shadow}:{env['PYTHONPATH']}"
    assert run_qgis_process(["plugins", "enable", "landcover_qgis_plugin"], env).returncode == 0
    run = run_qgis_process(["--json", "run", "landcover:segment", "--", f"INPUT={scene.raster}",
                            f"MODEL={scene.onnx_model}", f"OUTPUT={tmp_path / 'cli.gpkg'}", "MIN_AREA=0",
                            "FILL_HOLES=0"], env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    outputs = json.loads(run.stdout[run.stdout.index("{"):])["results"]
    assert outputs["DEVICE_USED"] == "CPU"
    assert json.loads(outputs["POLYGON_AREA_HA"])["water"] == pytest.approx(EXPECTED_HA["water"], rel=1e-3)


def test_int8_and_automatic_precision_use_the_models_int8_copy(tmp_path, painted):
    from trainer.quantize import quantize

    names = [c.name for c in LANDCOVER_AI_CLASSES]
    model = testkit.colour_onnx(tmp_path / "m.onnx", {**DEEPNESS, "class_names": names})
    with pytest.raises(InputError, match=r"int8 copy '.*m\.int8\.onnx', which does not exist; make it with"):
        segment(painted, str(model), raster_path=tmp_path / "x.tif", options=SegmentationOptions(precision="int8"))
    quantize(model, tmp_path / "m.int8.onnx", calibration_tiles=4, check_tiles=2)
    reference = segment(painted, str(model), raster_path=tmp_path / "float32.tif", options=EXACT)
    int8 = segment(painted, str(model), raster_path=tmp_path / "int8.tif",
                   options=dataclasses.replace(EXACT, precision="int8"))
    auto = segment(painted, str(model), raster_path=tmp_path / "auto.tif",
                   options=dataclasses.replace(EXACT, precision="auto"))
    assert (reference.device, int8.device) == ("CPU", "CPU (int8)") and auto.device in ("CPU", "CPU (int8)")
    for name in ("int8.tif", "auto.tif"):
        assert np.mean(classes_of(tmp_path / name) == classes_of(tmp_path / "float32.tif")) > 0.99


def test_int8_needs_an_onnx_model(tmp_path, painted, scene):
    with pytest.raises(InputError, match="Precision int8 runs an ONNX model's int8 copy"):
        segment(painted, str(scene.model), raster_path=tmp_path / "x.tif", options=SegmentationOptions(precision="int8"))


@pytest.mark.parametrize("opset", [13, 18])
def test_the_channel_softmax_is_rewritten_into_the_same_function(tmp_path, opset):
    import onnx
    import onnxruntime

    from landcover_qgis_plugin.core.onnxgraph import faster_model_bytes, rewrite_channel_softmax

    path = testkit.colour_onnx(tmp_path / "deepness.onnx", DEEPNESS)
    model = onnx.load(str(path))
    model.opset_import[0].version = opset
    onnx.save(model, str(path))
    rewritten = onnx.load(str(path))
    assert rewrite_channel_softmax(rewritten) == 1
    onnx.checker.check_model(rewritten, full_check=True)
    assert "Softmax" not in {node.op_type for node in rewritten.graph.node}
    pixels = np.random.default_rng(3).uniform(size=(2, 3, 64, 64)).astype(np.float32)
    original = onnxruntime.InferenceSession(str(path)).run(None, {"input": pixels})[0]
    faster = onnxruntime.InferenceSession(faster_model_bytes(str(path))).run(None, {"input": pixels})[0]
    np.testing.assert_allclose(faster, original, atol=1e-6)
    assert original.argmax(axis=1).min() != original.argmax(axis=1).max()   # more than one class: a real test


def test_a_softmax_whose_meaning_differs_before_opset_13_is_left_alone(tmp_path):
    import onnx

    from landcover_qgis_plugin.core.onnxgraph import rewrite_channel_softmax

    model = onnx.load(str(testkit.colour_onnx(tmp_path / "old.onnx", DEEPNESS)))
    model.opset_import[0].version = 12   # Softmax(axis=1) normalised over C x H x W then
    assert rewrite_channel_softmax(model) == 0
    assert "Softmax" in {node.op_type for node in model.graph.node}
