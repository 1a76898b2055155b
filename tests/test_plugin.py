"""The plugin in real QGIS (offscreen): loading, the background task, cancel, failures, a real orthophoto."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
import qgis.utils
from osgeo import gdal
from qgis.core import (Qgis, QgsApplication, QgsPalettedRasterRenderer, QgsProcessingOutputLayerDefinition,
                       QgsRasterLayer, QgsVectorLayer)
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QColor
from qgis.PyQt.QtWidgets import QToolBar

from conftest import REPO
from landcover_qgis_plugin import dependencies
from landcover_qgis_plugin.core import modelfile
from landcover_qgis_plugin.job import SegmentationJob
from plugin_support import (EXPECTED_HA, SWISSIMAGE, bar_texts, open_details, plain_text, real_data_model, rectangle_bounds,
                            swissimage_grid, wait_for_task)

PLUGIN = "landcover_qgis_plugin"
COLORS = {info.name: info.color for info in modelfile.LANDCOVER_AI_CLASSES}
FAST = {"MIN_AREA": 0.0, "FILL_HOLES": 0.0, "SIMPLIFY": 1.0, "BATCH_SIZE": 8}




@pytest.fixture
def loaded_plugin(qgis_iface):
    """The plugin started the way QGIS starts it, unloaded again afterwards."""
    plugin_paths = qgis.utils.plugin_paths
    qgis.utils.plugin_paths = [str(REPO)]
    qgis.utils.updateAvailablePlugins()
    assert qgis.utils.loadPlugin(PLUGIN)
    assert qgis.utils.startPlugin(PLUGIN)
    plugin = qgis.utils.plugins[PLUGIN]
    yield plugin
    qgis.utils.plugin_paths = plugin_paths
    plugin.unload()
    # qgis.utils.unloadPlugin would also purge landcover_qgis_plugin.* from sys.modules under the
    # other tests' feet; unload() plus forgetting the instance is what matters here.
    del qgis.utils.plugins[PLUGIN]
    qgis.utils.active_plugins.remove(PLUGIN)


def test_plugin_loads_through_qgis_utils_with_toolbar_menu_and_provider(loaded_plugin, qgis_iface):
    assert qgis.utils.pluginMetadata(PLUGIN, "name") == "Land Cover Segmentation"
    assert qgis.utils.pluginMetadata(PLUGIN, "hasProcessingProvider") == "yes"
    action = loaded_plugin.action
    assert action.objectName() == "landcoverSegmentAction" and not action.icon().isNull()
    toolbar = qgis_iface.mainWindow().findChild(QToolBar, "landcoverToolbar")
    assert toolbar is not None and action in toolbar.actions()
    qgis_iface.addPluginToRasterMenu.assert_any_call("Land cover", action)
    registry = QgsApplication.processingRegistry()
    assert registry.providerById("landcover") is not None
    algorithm = registry.algorithmById("landcover:segment")
    assert algorithm is not None and algorithm.displayName() == "Segment land cover"

    action.trigger()
    assert loaded_plugin.dialog.isVisible()
    loaded_plugin.unload()
    assert registry.providerById("landcover") is None
    assert action not in toolbar.actions()
    loaded_plugin.initGui()  # the fixture unloads once more


LOAD_SCRIPT = r"""
import json, sys
from qgis.core import Qgis, QgsApplication
from qgis.gui import QgsMapCanvas
from qgis.PyQt.QtWidgets import QApplication, QMainWindow
from pytest_qgis.mock_qgis_classes import MockMessageBar
from pytest_qgis.qgis_interface import QgisInterface
for hidden in sys.argv[1].split(",")[1:]:  # what QGIS's Python looks like without these installed
    sys.modules[hidden] = None
app = QgsApplication([], True)
app.initQgis()
window = QMainWindow()
iface = QgisInterface(QgsMapCanvas(window), MockMessageBar(), window)
import qgis.utils
qgis.utils.iface = iface
qgis.utils.plugin_paths = [sys.argv[2]]
qgis.utils.updateAvailablePlugins()
ok = qgis.utils.loadPlugin("landcover_qgis_plugin") and qgis.utils.startPlugin("landcover_qgis_plugin")
provider = QgsApplication.processingRegistry().providerById("landcover")
state = {
    "started": bool(ok),
    "algorithms": [algorithm.id() for algorithm in provider.algorithms()] if provider else None,
    "heavy_modules": [m for m in ("tensorflow", "keras", "torch") if sys.modules.get(m) is not None],
    "modal": QApplication.activeModalWidget() is not None,
    "warnings": list(iface.messageBar().get_messages(Qgis.Warning)),
}
plugin = qgis.utils.plugins["landcover_qgis_plugin"]
plugin.action.trigger()
state["dialog"] = plugin.dialog is not None and plugin.dialog.isVisible()
state["warnings_after_click"] = iface.messageBar().get_messages(Qgis.Warning)[len(state["warnings"]):]
print(json.dumps(state))
plugin.unload()
app.exitQgis()
"""


ALGORITHMS = ["landcover:segment", "landcover:segmentmany"]


def _load_in_fresh_qgis(hidden_modules: tuple[str, ...] = ()) -> dict:
    """A fresh QGIS process, so the imports the plugin triggers are the only ones there."""
    completed = subprocess.run([sys.executable, "-c", LOAD_SCRIPT, ",".join(("hide", *hidden_modules)), str(REPO)],
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_loading_imports_no_deep_learning_runtime_and_stays_silent():
    state = _load_in_fresh_qgis()
    assert state == {"started": True, "algorithms": ALGORITHMS, "heavy_modules": [], "modal": False,
                     "warnings": [], "dialog": True, "warnings_after_click": []}


def test_without_tensorflow_onnx_runtime_is_enough_and_nothing_is_reported():
    state = _load_in_fresh_qgis(("tensorflow", "keras"))
    assert state["started"] and state["algorithms"] == ALGORITHMS and not state["modal"]
    assert state["warnings"] == [] and state["dialog"]


def test_without_any_runtime_the_light_install_is_offered_first():
    state = _load_in_fresh_qgis(("tensorflow", "keras", "onnxruntime"))
    assert state["started"] and state["algorithms"] == ALGORITHMS and not state["modal"]
    [warning] = state["warnings"]
    assert "needs onnxruntime, which" in warning and "-m pip install" in warning
    light, keras = warning.split("For .keras model files")
    assert f'"onnxruntime=={dependencies.ONNXRUNTIME_VERSION}"' in light and "tensorflow" not in light
    assert f"tensorflow-cpu=={dependencies.TENSORFLOW_VERSION}" in keras
    assert state["dialog"]  # the dialog opens and repeats the warning there; Run refuses until installed


@pytest.mark.parametrize("missing", ["shapely", "scipy"])
def test_a_missing_vectoriser_dependency_keeps_the_plugin_usable_and_says_what_to_install(missing):
    """The algorithm and the dialog load without the engine's dependencies; running names them."""
    state = _load_in_fresh_qgis((missing,))
    assert state["started"] and state["algorithms"] == ALGORITHMS and not state["modal"]
    [warning] = state["warnings"]
    assert f"needs {missing}" in warning and "-m pip install" in warning and f" {missing}" in warning.split("install")[-1]
    assert state["dialog"]


def test_every_third_party_module_the_plugin_imports_is_in_the_dependency_check():
    shipped_with_qgis = {"qgis", "osgeo", "numpy"}
    imported = set()
    for path in (REPO / PLUGIN).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - shipped_with_qgis - {"__future__"}
    # h5py comes with keras; the plugin only loads it early (dependencies.load_hdf5_bindings). TensorFlow
    # is Keras' backend, and core/reference.py reads the reference's tf.keras 2 checkpoint with it.
    assert third_party - {"h5py"} == set(dependencies.RUNTIME_MODULES)
    light, full = dependencies.install_command("linux"), dependencies.install_command("linux", keras=True)
    for module in dependencies.ENGINE_MODULES:
        assert f" {module}" in light and f" {module}" in full
    assert '"onnxruntime==' in light and '"onnx==' in light and '"tensorflow-cpu==' in full and '"keras==' in full


def test_install_command_fits_each_platform():
    assert dependencies.install_command("linux").split(" -m pip install ")[1].startswith("--user")
    assert '"onnxruntime==1.26.0"' in dependencies.install_command("linux")
    assert '"tensorflow-cpu==2.17.1"' in dependencies.install_command("linux", keras=True)
    windows = dependencies.install_command("win32", keras=True)
    assert windows.startswith("python -m pip install ") and '"tensorflow==2.17.1"' in windows
    assert '"numpy<2"' in dependencies.install_command("darwin")


def _parameters(raster: Path, model: Path, folder: Path, project, stem: str = "scene", **overrides) -> dict:
    """What the dialog passes: layers to open in the project when done."""
    return {"INPUT": str(raster), "MODEL": str(model), **FAST,
            "OUTPUT": QgsProcessingOutputLayerDefinition(str(folder / f"{stem}.gpkg"), project),
            "OUTPUT_RASTER": QgsProcessingOutputLayerDefinition(str(folder / f"{stem}_classes.tif"), project),
            **overrides}


def _start(parameters: dict, name: str, project, iface) -> SegmentationJob:
    job = SegmentationJob(parameters, name, project, iface.messageBar())
    assert job.prepared, job.error
    job.start()
    return job


def _polygon_area_and_bounds(layer: QgsVectorLayer) -> tuple[int, float, tuple]:
    features = list(layer.getFeatures())
    area = sum(feature.geometry().area() for feature in features)
    box = layer.extent()
    return len(features), area, (box.xMinimum(), box.yMinimum(), box.xMaximum(), box.yMaximum())


def test_job_runs_in_the_task_manager_and_adds_styled_layers(provider, scene, tmp_path, clean_project, qgis_iface):
    qgis_iface.messageBar().clearWidgets()
    job = SegmentationJob(_parameters(scene.raster, scene.model, tmp_path, clean_project), "scene", clean_project,
                          qgis_iface.messageBar())
    stages = []
    job.feedback.stageChanged.connect(stages.append)
    job.start()
    wait_for_task(job.task)

    group = clean_project.layerTreeRoot().findGroup("Land cover — scene")
    assert group is not None and clean_project.layerTreeRoot().children()[0] == group
    layers = [node.layer() for node in group.findLayers()]
    vectors = {layer.name(): layer for layer in layers if isinstance(layer, QgsVectorLayer)}
    assert set(vectors) == {"Buildings", "Woodland", "Water", "Roads"}
    for class_name, label in (("building", "Buildings"), ("woodland", "Woodland"), ("water", "Water"),
                              ("road", "Roads")):
        layer = vectors[label]
        count, area, bounds = _polygon_area_and_bounds(layer)
        assert count == 1, class_name
        assert area == pytest.approx(EXPECTED_HA[class_name] * 10_000, rel=0.01)
        assert bounds == pytest.approx(rectangle_bounds(class_name), abs=0.51)
        symbol_layer = layer.renderer().symbol().symbolLayers()[0]
        assert symbol_layer.fillColor().name() == COLORS[class_name]
        assert 0 < symbol_layer.fillColor().alpha() < 255  # the QML's transparency is kept
        assert symbol_layer.strokeColor() == QColor(COLORS[class_name]).darker(160)
    [raster] = [layer for layer in layers if isinstance(layer, QgsRasterLayer)]
    renderer = raster.renderer()
    assert isinstance(renderer, QgsPalettedRasterRenderer)
    assert [(c.value, c.color.name()) for c in renderer.classes()] == [
        (info.value, info.color) for info in modelfile.LANDCOVER_AI_CLASSES]
    # Over the imagery: background transparent, the classes translucent, polygons above the raster.
    assert [c.color.alpha() for c in renderer.classes()] == [0, 255, 255, 255, 255]
    assert 0 < renderer.opacity() < 1
    assert isinstance(layers[-1], QgsRasterLayer)
    assert (raster.width(), raster.height()) == (256, 192)

    # The summary stays in the message bar, its Details… the whole of it.
    [item] = [item for item in qgis_iface.messageBar().items() if item.level() == Qgis.Success]
    assert item.duration() == 0
    assert plain_text(item.text()).startswith("scene: Buildings 0.03 ha, Woodland 0.20 ha, Water 0.12 ha, Roads 0.05 ha "
                                              "— 20 tiles on CPU in ")
    details = open_details(item)
    assert details.splitlines()[1:4] == [
        "Raster: read pixel for pixel, 50 cm on the ground.",
        "Area per class, as polygons after cleaning and in the class raster:",
        "Background: – as polygons, 0.83 ha in the class raster"]
    assert "Buildings: 0.03 ha as polygons, 0.03 ha in the class raster" in details
    assert f"Written: {tmp_path / 'scene.gpkg'}" in details
    qgis_iface.messageBar().clearWidgets()
    assert json.loads(job.results["AREA_HA"])["building"] == pytest.approx(EXPECTED_HA["building"], rel=0.01)
    # The engine's stages reached the task's description.
    assert stages[:2] == ["Opening the raster", "Loading the model"] and "Tracing polygons" in stages
    assert job.stage == "Done"


def test_cancel_within_a_batch_leaves_no_file_and_no_layer(provider, scene, tmp_path, clean_project, qgis_iface):
    qgis_iface.messageBar().clear_messages()
    logged = []
    QgsApplication.messageLog().messageReceived.connect(lambda message, tag, level: logged.append(message))
    job = SegmentationJob(_parameters(scene.raster, scene.model, tmp_path, clean_project, BATCH_SIZE=1), "scene",
                          clean_project, qgis_iface.messageBar())
    task = job.task
    progress_seen = []

    def cancel_on_first_progress(value: float) -> None:  # runs on the worker thread, inside a batch
        if value > 0 and not progress_seen:
            progress_seen.append(value)
            task.cancel()

    task.progressChanged.connect(cancel_on_first_progress, Qt.ConnectionType.DirectConnection)
    job.start()
    wait_for_task(task)
    assert progress_seen and progress_seen[0] < 100
    assert list(tmp_path.iterdir()) == []
    assert clean_project.count() == 0 and clean_project.layerTreeRoot().children() == []
    assert qgis_iface.messageBar().get_messages(Qgis.Info) == ["Land cover:Cancelled; nothing was written."]
    assert [message for message in logged if "ancel" in message] == ["Cancelled; nothing was written."]   # once


def test_failure_goes_to_the_message_bar_and_the_log(provider, scene, tmp_path, clean_project, qgis_iface):
    qgis_iface.messageBar().clearWidgets()
    logged = []
    QgsApplication.messageLog().messageReceived.connect(
        lambda message, tag, level: logged.append((message, tag, level)))
    # An ASCII grid without a CRS: QGIS opens it as a layer, the engine refuses it at run time.
    not_a_raster = tmp_path / "notes.tif"
    not_a_raster.write_text("ncols 2\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 2\n")
    job = _start(_parameters(not_a_raster, scene.model, tmp_path, clean_project, stem="out"), "notes",
                 clean_project, qgis_iface)
    wait_for_task(job.task)
    [critical] = bar_texts(qgis_iface.messageBar(), Qgis.Critical)
    assert "notes.tif" in critical
    assert any(tag == "Land cover" and level == Qgis.Critical and "notes.tif" in message
               for message, tag, level in logged)
    assert clean_project.count() == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.tif"]


def test_a_bug_keeps_its_traceback_in_the_log(provider, scene, tmp_path, clean_project, qgis_iface, monkeypatch):
    """Only the project's own errors become one-line messages; anything else is a bug, logged whole."""
    from landcover_qgis_plugin.core import engine

    def broken(*args, **kwargs):
        return {}["no such key"]

    monkeypatch.setattr(engine, "segment", broken)
    qgis_iface.messageBar().clearWidgets()
    logged = []
    QgsApplication.messageLog().messageReceived.connect(
        lambda message, tag, level: logged.append((message, tag, level)))
    job = _start(_parameters(scene.raster, scene.model, tmp_path, clean_project), "scene", clean_project, qgis_iface)
    wait_for_task(job.task)
    [critical] = bar_texts(qgis_iface.messageBar(), Qgis.Critical)
    assert "Unexpected error (KeyError: 'no such key')" in critical and "log" in critical
    [(message, _, _)] = [entry for entry in logged if entry[1] == "Land cover"]
    assert "KeyError" in message and "Traceback" in message and "in broken" in message
    assert clean_project.count() == 0


@pytest.mark.skipif(not SWISSIMAGE.exists(), reason=f"real orthophoto {SWISSIMAGE} is absent")
def test_real_orthophoto_goes_through_the_job(provider, scene, tmp_path, clean_project, qgis_iface):
    model = real_data_model(scene)
    job = _start(_parameters(SWISSIMAGE, model, tmp_path, clean_project, stem="swiss"), "swissimage",
                 clean_project, qgis_iface)
    wait_for_task(job.task)
    assert job.error is None, job.error
    group = clean_project.layerTreeRoot().findGroup(f"Land cover — {SWISSIMAGE.stem}")
    layers = [node.layer() for node in group.findLayers()]
    assert len(layers) == 5 and all(layer.isValid() for layer in layers)
    assert all(layer.crs().authid() == "EPSG:2056" for layer in layers)
    raster = gdal.Open(str(tmp_path / "swiss_classes.tif"))
    assert (raster.RasterXSize, raster.RasterYSize) == swissimage_grid(model)
    raster = None
    # Every pixel of the real raster is classified: no border dropped, no tile lost.
    area_ha = json.loads(job.results["AREA_HA"])
    assert sum(area_ha.values()) == pytest.approx(875 * 600 * 0.25 / 10_000, rel=1e-3)
    if model != scene.model:  # a trained model finds more than one class in a real village scene
        assert sum(area > 0 for area in area_ha.values()) >= 2


def test_the_versions_the_plugin_asks_for_are_the_pinned_ones():
    pinned = dict(line.split("==") for line in (REPO / "requirements.txt").read_text().splitlines()
                  if "==" in line and not line.startswith("#"))
    assert (pinned["tensorflow-cpu"], pinned["keras"], pinned["onnxruntime"], pinned["onnx"]) == (
        dependencies.TENSORFLOW_VERSION, dependencies.KERAS_VERSION, dependencies.ONNXRUNTIME_VERSION,
        dependencies.ONNX_VERSION)
