"""The dialog driven through its widgets with QTest, down to a real run and remembered settings."""
from __future__ import annotations

from pathlib import Path

import pytest
from qgis.core import (QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsFeature, QgsGeometry, QgsRasterLayer,
                       QgsRectangle, QgsSettings, QgsVectorLayer)
from qgis.PyQt.QtCore import QPoint, Qt
from qgis.PyQt.QtTest import QTest
from qgis.PyQt.QtWidgets import QDialogButtonBox

from landcover_qgis_plugin import dialog as dialog_module
from landcover_qgis_plugin.dialog import AREA_CANVAS, AREA_SELECTION, SegmentationDialog, score_lines
from landcover_qgis_plugin.paths import DEFAULT_MODEL_PATH
from landcover_qgis_plugin.plugin import LandCoverPlugin
from test_plugin_support import clean_project, rectangle_bounds, scene, wait_for_task  # noqa: F401


@pytest.fixture
def fresh_settings():
    settings = QgsSettings()
    settings.remove("landcover")
    yield settings
    settings.remove("landcover")


@pytest.fixture
def plugin(qgis_iface, fresh_settings):
    plugin = LandCoverPlugin(qgis_iface)
    plugin.initGui()
    yield plugin
    plugin.unload()


def _type_into(line_edit, text: str) -> None:
    line_edit.clear()
    QTest.keyClicks(line_edit, text)
    QTest.keyClick(line_edit, Qt.Key_Tab)


def _toggle_class(dialog: SegmentationDialog, label: str) -> None:
    """Space on the focused row toggles its tick, as a user would."""
    view = dialog.classes_list
    [item] = view.findItems(label, Qt.MatchExactly)
    view.setCurrentItem(item)
    view.setFocus()
    QTest.keyClick(view.viewport(), Qt.Key_Space)


def _add_scene_layer(project, scene) -> QgsRasterLayer:
    layer = QgsRasterLayer(str(scene.raster), "scene")
    assert layer.isValid()
    project.addMapLayer(layer)
    return layer


def test_widgets_drive_a_real_run_and_settings_are_remembered(plugin, scene, tmp_path, clean_project, qgis_iface):
    raster = _add_scene_layer(clean_project, scene)
    qgis_iface.messageBar().clear_messages()
    plugin.action.trigger()
    dialog = plugin.dialog
    assert dialog.isVisible()
    dialog.input_combo.setLayer(raster)
    _type_into(dialog.model_widget.lineEdit(), str(scene.model))
    assert "colour-model" in dialog.model_info.text() and "50 cm/px" in dialog.model_info.text()
    assert "test_miou 0.500" in dialog.model_info.text()
    assert [dialog.classes_list.item(row).text() for row in range(dialog.classes_list.count())] == [
        "Buildings", "Woodland", "Water", "Roads"]
    _toggle_class(dialog, "Roads")
    _type_into(dialog.output_widget.lineEdit(), str(tmp_path / "result.gpkg"))
    dialog.advanced_box.setCollapsed(False)
    _type_into(dialog.min_area_spin.lineEdit(), "0")
    _type_into(dialog.fill_holes_spin.lineEdit(), "0")
    _type_into(dialog.overlap_spin.lineEdit(), "0.3")
    _type_into(dialog.batch_spin.lineEdit(), "6")
    dialog.device_combo.setCurrentIndex(dialog.device_combo.findData("cpu"))

    QTest.mouseClick(dialog.buttons.button(QDialogButtonBox.Ok), Qt.LeftButton)
    assert not dialog.isVisible(), dialog.message_bar.currentItem() and dialog.message_bar.currentItem().text()
    request = dialog.request
    assert request.options["classes"] == ("building", "woodland", "water")
    assert request.options["overlap"] == pytest.approx(0.3) and request.options["batch_size"] == 6
    assert request.options["device"] == "cpu" and request.options["extent"] is None
    wait_for_task(plugin.task)

    assert (tmp_path / "result.gpkg").exists() and (tmp_path / "result_classes.tif").exists()
    group = clean_project.layerTreeRoot().findGroup("Land cover — scene")
    names = sorted(node.layer().name() for node in group.findLayers())
    assert names == ["Buildings", "Land-cover classes (raster)", "Water", "Woodland"]
    assert plugin.task.result.device.lower().startswith("cpu")

    reopened = SegmentationDialog(qgis_iface)
    assert reopened.model_widget.filePath() == str(scene.model)
    assert reopened.overlap_spin.value() == pytest.approx(0.3) and reopened.batch_spin.value() == 6
    assert reopened.device_combo.currentData() == "cpu"
    road = reopened.classes_list.findItems("Roads", Qt.MatchExactly)[0]
    assert road.checkState() == Qt.Unchecked
    assert reopened.output_widget.defaultRoot() == str(tmp_path)


def test_exported_scores_are_shown_per_split_and_class():
    scores = {"fit_best_val_miou": 0.7012, "test": {"miou": 0.718, "per_class_iou": {"background": 0.857,
                                                                                     "road": 0.497, "water": None},
                                                     "tiles": 1602}}
    assert score_lines(scores) == ["Scores: fit_best_val_miou 0.701",
                                   "test: mIoU 0.718 (background 0.86, road 0.50)"]


def test_bundled_model_is_preselected(qgis_iface, fresh_settings):
    dialog = SegmentationDialog(qgis_iface)
    assert dialog.model_widget.filePath() == str(DEFAULT_MODEL_PATH)
    if DEFAULT_MODEL_PATH.is_file():
        assert "cm/px" in dialog.model_info.text() and dialog.classes_list.count() == 4
    else:
        assert "does not exist" in dialog.model_info.text()


def test_run_is_refused_with_the_install_command_while_the_runtime_is_missing(scene, clean_project, qgis_iface,
                                                                               fresh_settings, monkeypatch):
    message = "Land cover segmentation needs tensorflow, keras ... python3 -m pip install ..."
    monkeypatch.setattr(dialog_module, "missing_runtime_message", lambda: message)
    dialog = SegmentationDialog(qgis_iface)
    dialog.show()
    assert dialog.message_bar.currentItem().text() == message  # said as soon as the dialog opens
    dialog.input_combo.setLayer(_add_scene_layer(clean_project, scene))
    dialog.model_widget.setFilePath(str(scene.model))
    QTest.mouseClick(dialog.buttons.button(QDialogButtonBox.Ok), Qt.LeftButton)
    assert dialog.isVisible() and dialog.request is None
    assert dialog.message_bar.currentItem().text() == message


def test_an_existing_output_keeps_the_dialog_open_until_overwrite_is_ticked(scene, tmp_path, clean_project,
                                                                             qgis_iface, fresh_settings):
    raster = _add_scene_layer(clean_project, scene)
    (tmp_path / "taken.gpkg").write_bytes(b"")
    dialog = SegmentationDialog(qgis_iface)
    dialog.show()
    dialog.input_combo.setLayer(raster)
    dialog.model_widget.setFilePath(str(scene.model))
    _type_into(dialog.output_widget.lineEdit(), str(tmp_path / "taken.gpkg"))
    QTest.mouseClick(dialog.buttons.button(QDialogButtonBox.Ok), Qt.LeftButton)
    assert dialog.isVisible() and dialog.request is None
    assert "taken.gpkg" in dialog.message_bar.currentItem().text()
    QTest.mouseClick(dialog.overwrite_check, Qt.LeftButton, pos=QPoint(6, dialog.overwrite_check.height() // 2))
    QTest.mouseClick(dialog.buttons.button(QDialogButtonBox.Ok), Qt.LeftButton)
    assert not dialog.isVisible() and dialog.request.options["overwrite"] is True


def test_canvas_extent_and_selected_features_become_raster_crs_extent_and_mask(scene, clean_project, qgis_iface,
                                                                               fresh_settings):
    raster = _add_scene_layer(clean_project, scene)
    dialog = SegmentationDialog(qgis_iface)
    dialog.input_combo.setLayer(raster)
    dialog.model_widget.setFilePath(str(scene.model))

    canvas = qgis_iface.mapCanvas()
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:2056"))
    xmin, ymin, xmax, ymax = rectangle_bounds("woodland")
    canvas.setExtent(QgsRectangle(xmin, ymin, xmax, ymax))
    dialog.area_combo.setCurrentIndex(AREA_CANVAS)
    request = dialog.build_request()
    # No output file chosen: a fresh temporary folder holds both outputs.
    folder = Path(request.temporary_dir)
    assert folder.is_dir() and not any(folder.iterdir())
    assert (request.vector_path, request.raster_path) == (str(folder / "scene.gpkg"),
                                                          str(folder / "scene_classes.tif"))
    extent = request.options["extent"]
    visible = canvas.extent()  # the canvas keeps its aspect ratio, so it shows at least the woodland
    assert extent == pytest.approx((max(visible.xMinimum(), 2_600_000.0), max(visible.yMinimum(), 1_200_000.0),
                                    min(visible.xMaximum(), 2_600_128.0), min(visible.yMaximum(), 1_200_096.0)))

    polygons = QgsVectorLayer("Polygon?crs=EPSG:4326", "areas", "memory")
    water = QgsGeometry.fromRect(QgsRectangle(*rectangle_bounds("water")))
    water.transform(QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:2056"),
                                           QgsCoordinateReferenceSystem("EPSG:4326"), clean_project))
    feature = QgsFeature()
    feature.setGeometry(water)
    polygons.dataProvider().addFeatures([feature])
    clean_project.addMapLayer(polygons)
    dialog.area_combo.setCurrentIndex(AREA_SELECTION)
    dialog.mask_combo.setLayer(polygons)
    assert dialog.mask_combo.isEnabled()
    with pytest.raises(ValueError, match="No feature of 'areas' is selected"):
        dialog.build_request()
    polygons.selectAll()
    options = dialog.build_request().options
    box = QgsGeometry.fromWkt(options["mask_wkt"]).boundingBox()
    # Back from WGS 84 to LV95: the same rectangle to a centimetre.
    assert (box.xMinimum(), box.yMinimum(), box.xMaximum(), box.yMaximum()) == pytest.approx(
        rectangle_bounds("water"), abs=0.01)
    assert options["extent"] == pytest.approx(rectangle_bounds("water"), abs=0.01)
