"""The dialog driven through its widgets with QTest, down to a real run and remembered settings."""
from __future__ import annotations

import dataclasses

import pytest
from qgis.core import (QgsApplication, QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsFeature, QgsGeometry,
                       QgsProcessing, QgsProcessingContext, QgsProcessingFeedback, QgsProject, QgsRasterLayer,
                       QgsReferencedRectangle, QgsRectangle, QgsVectorLayer)
from qgis.PyQt.QtCore import QPoint, Qt
from qgis.PyQt.QtTest import QTest
from qgis.PyQt.QtWidgets import QDialogButtonBox

from landcover_qgis_plugin import dialog as dialog_module
from landcover_qgis_plugin.core.errors import InputError
from landcover_qgis_plugin.core.modelfile import ModelMetadata, metadata_for
from landcover_qgis_plugin.core.options import OPTIONS, SegmentationOptions
from landcover_qgis_plugin.dialog import AREA_CANVAS, AREA_SELECTION, SegmentationDialog
from landcover_qgis_plugin.model_summary import model_summary_html, score_lines
from landcover_qgis_plugin.dependencies import default_model_path
from landcover_qgis_plugin.plugin import LandCoverPlugin
from plugin_support import plain_text, rectangle_bounds, wait_for_task


@pytest.fixture
def plugin(qgis_iface, fresh_settings):
    plugin = LandCoverPlugin(qgis_iface)
    plugin.initGui()
    yield plugin
    plugin.unload()


def _type_into(line_edit, text: str) -> None:
    line_edit.clear()
    QTest.keyClicks(line_edit, text)
    QTest.keyClick(line_edit, Qt.Key.Key_Tab)


def _toggle_class(dialog: SegmentationDialog, label: str) -> None:
    """Space on the focused row toggles its tick, as a user would."""
    view = dialog.classes_list
    [item] = view.findItems(label, Qt.MatchFlag.MatchExactly)
    view.setCurrentItem(item)
    view.setFocus()
    QTest.keyClick(view.viewport(), Qt.Key.Key_Space)


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
    assert "colour-model" in dialog.model_info.text() and "read at 50 cm per pixel" in dialog.model_info.text()
    assert "test_miou" not in dialog.model_info.text()   # a bare developer score is not an analyst's
    assert [dialog.classes_list.item(row).text() for row in range(dialog.classes_list.count())] == [
        "Buildings", "Woodland", "Water", "Roads"]
    _toggle_class(dialog, "Roads")
    _type_into(dialog.output_widget.lineEdit(), str(tmp_path / "result.gpkg"))
    dialog.advanced_box.setCollapsed(False)
    options = dialog.options
    _type_into(options["min_area"].widget.lineEdit(), "0")
    _type_into(options["fill_holes"].widget.lineEdit(), "0")
    _type_into(options["overlap"].widget.lineEdit(), "0.3")
    _type_into(options["batch_size"].widget.lineEdit(), "6")
    options["device"].widget.setCurrentIndex(options["device"].widget.findData("cpu"))
    parameters = dialog.build_parameters()
    assert parameters["CLASSES"] == ["building", "woodland", "water"] and parameters["DEVICE"] == 1
    assert parameters["OVERLAP"] == pytest.approx(0.3) and parameters["BATCH_SIZE"] == 6
    assert "EXTENT" not in parameters and "MASK" not in parameters

    QTest.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert not dialog.isVisible(), dialog.notice.text()
    wait_for_task(plugin.job.task)

    assert (tmp_path / "result.gpkg").exists() and (tmp_path / "result_classes.tif").exists()
    group = clean_project.layerTreeRoot().findGroup("Land cover — scene")
    names = sorted(node.layer().name() for node in group.findLayers())
    assert names == ["Buildings", "Land-cover classes (raster)", "Water", "Woodland"]
    assert plugin.job.results["DEVICE_USED"].lower().startswith("cpu")

    reopened = SegmentationDialog(qgis_iface)
    assert reopened.model_widget.filePath() == str(scene.model)
    assert reopened.options["overlap"].value() == pytest.approx(0.3) and reopened.options["batch_size"].value() == 6
    assert reopened.options["device"].value() == "cpu"
    road = reopened.classes_list.findItems("Roads", Qt.MatchFlag.MatchExactly)[0]
    assert road.checkState() == Qt.CheckState.Unchecked
    assert reopened.output_widget.defaultRoot() == str(tmp_path)


def test_scores_are_said_with_what_they_were_measured_on():
    synthetic = metadata_for(input_size=256, resolution_cm=25.0, training_data="synthetic scenes: trainer synth ...",
                             scores={"fit_best_val_miou": 0.86, "val": {"miou": 0.859},
                                     "test": {"miou": 0.861, "per_class_iou": {"building": 0.752, "road": 0.827,
                                                                               "water": None}},
                                     "real_check": {"truth": "hand-drawn", "images": {
                                         "a housing estate": {"miou": 0.213}, "a lake shore": {"miou": 0.416}}}})
    assert score_lines(synthetic) == [
        "On held-out synthetic tiles: mIoU 0.86 (Buildings 0.75, Roads 0.83)",   # no developer's fit_best_val_*
        "On real photos (mIoU): 0.21 on a housing estate, 0.42 on a lake shore; truth: hand-drawn"]
    reference = dataclasses.replace(synthetic, training_data="LandCover.ai v1 (41 orthophotos)",
                                    scores={"test": {"miou": 0.718}, "int8": {"pixel_agreement_with_float32": 0.9819}})
    assert score_lines(reference) == ["On LandCover.ai's test tiles: mIoU 0.72",
                                      "int8 copy: 98.2 % of pixels keep their float32 class"]
    tuned = dataclasses.replace(synthetic, training_data="fine-tuned on mine.tif (2.10 ha labelled), from ...",
                                scores={"finetune": {"labelled_ha": 2.1, "before": {"miou": 0.21},
                                                     "after": {"miou": 0.47, "per_class_iou": {"road": 0.3}}}})
    assert score_lines(tuned) == ["On validation blocks of the labels it was fine-tuned on (2.10 ha): mIoU 0.47 "
                                  "(0.21 before) (Roads 0.30)"]
    panel = plain_text(model_summary_html(synthetic))
    assert "Finds Buildings, Woodland, Water and Roads in orthophotos, read at 25 cm per pixel" in panel
    assert "Trained on synthetic scenes only: on real photos expect" in panel and "trainer synth" not in panel
    assert "Trained on: LandCover.ai v1" in plain_text(model_summary_html(reference))


def test_a_licence_in_the_metadata_is_shown_and_older_files_without_one_still_load():
    metadata = metadata_for(input_size=512, resolution_cm=25.0, licence="CC BY-NC-SA 4.0")
    assert model_summary_html(metadata).endswith("<br>Licence: CC BY-NC-SA 4.0")
    older = metadata.to_dict()
    del older["licence"]
    assert ModelMetadata.from_dict(older).licence == ""
    assert model_summary_html(ModelMetadata.from_dict(older)).endswith("<br>Licence: not stated in the model file")
    assert ModelMetadata.from_dict(metadata.to_dict()) == metadata


def test_the_bundled_models_panel_speaks_an_analysts_words(qgis_iface, fresh_settings):
    if not default_model_path().is_file():
        pytest.skip("no bundled model (make default-model)")
    dialog = SegmentationDialog(qgis_iface)
    panel = plain_text(dialog.model_info.text())
    assert "Finds Buildings, Woodland, Water and Roads in orthophotos, read at 25 cm per pixel" in panel
    assert "On held-out synthetic tiles: mIoU 0.86" in panel
    assert "On real photos (mIoU): 0.21 on a housing estate, 0.42 on a lake shore; truth: two SWISSIMAGE" in panel
    assert "Trained on synthetic scenes only" in panel and "Licence: GPL-2.0-or-later" in panel
    assert "fit_best_val" not in panel and "--seed" not in panel


def test_bundled_model_is_preselected(qgis_iface, fresh_settings):
    dialog = SegmentationDialog(qgis_iface)
    assert dialog.model_widget.filePath() == str(default_model_path())
    assert default_model_path().suffix == ".onnx"   # ONNX Runtime is installed: the faster copy
    if default_model_path().is_file():
        assert "cm per pixel" in dialog.model_info.text() and dialog.classes_list.count() == 4
    else:
        assert "does not exist" in dialog.model_info.text()


def test_run_is_refused_with_the_install_command_while_the_runtime_is_missing(scene, clean_project, qgis_iface,
                                                                               fresh_settings, monkeypatch):
    message = "Land cover segmentation needs tensorflow, keras ... python3 -m pip install ..."
    monkeypatch.setattr(dialog_module, "missing_runtime_message", lambda: message)
    dialog = SegmentationDialog(qgis_iface)
    dialog.show()
    assert dialog.notice.text() == message  # said as soon as the dialog opens
    dialog.input_combo.setLayer(_add_scene_layer(clean_project, scene))
    dialog.model_widget.setFilePath(str(scene.model))
    QTest.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.job is None
    assert dialog.notice.text() == message


def test_an_existing_output_keeps_the_dialog_open_until_overwrite_is_ticked(plugin, scene, tmp_path, clean_project,
                                                                             qgis_iface):
    raster = _add_scene_layer(clean_project, scene)
    (tmp_path / "taken.gpkg").write_bytes(b"")
    dialog = SegmentationDialog(qgis_iface)
    dialog.show()
    dialog.input_combo.setLayer(raster)
    dialog.model_widget.setFilePath(str(scene.model))
    _type_into(dialog.output_widget.lineEdit(), str(tmp_path / "taken.gpkg"))
    QTest.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.job is None
    assert "taken.gpkg" in dialog.notice.text()
    overwrite = dialog.options["overwrite"].widget
    QTest.mouseClick(overwrite, Qt.MouseButton.LeftButton, pos=QPoint(6, overwrite.height() // 2))
    QTest.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert not dialog.isVisible() and dialog.job is not None and dialog.job.prepared


def _prepared_job(parameters: dict) -> dict:
    """What the algorithm makes of the dialog's parameters (its prepareAlgorithm, as the job runs it)."""
    algorithm = QgsApplication.processingRegistry().createAlgorithmById("landcover:segment")
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    feedback = QgsProcessingFeedback()
    assert algorithm.prepare(parameters, context, feedback)
    return algorithm._job


def test_canvas_extent_and_selected_features_become_raster_crs_extent_and_mask(plugin, scene, clean_project,
                                                                               qgis_iface):
    raster = _add_scene_layer(clean_project, scene)
    dialog = SegmentationDialog(qgis_iface)
    dialog.input_combo.setLayer(raster)
    dialog.model_widget.setFilePath(str(scene.model))

    canvas = qgis_iface.mapCanvas()
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:2056"))
    xmin, ymin, xmax, ymax = rectangle_bounds("woodland")
    canvas.setExtent(QgsRectangle(xmin, ymin, xmax, ymax))
    dialog.area_combo.setCurrentIndex(AREA_CANVAS)
    parameters = dialog.build_parameters()
    # No output file chosen: temporary files, opened in the project when done.
    assert parameters["OUTPUT"].sink.staticValue() == QgsProcessing.TEMPORARY_OUTPUT
    assert parameters["OUTPUT_RASTER"].sink.staticValue() == QgsProcessing.TEMPORARY_OUTPUT
    assert isinstance(parameters["EXTENT"], QgsReferencedRectangle)
    extent = _prepared_job(parameters)["options"]["extent"]
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
    with pytest.raises(InputError, match="No feature of 'areas' is selected"):
        dialog.build_parameters()
    polygons.selectAll()
    options = _prepared_job(dialog.build_parameters())["options"]
    box = QgsGeometry.fromWkt(options["mask_wkt"]).boundingBox()
    # Back from WGS 84 to LV95: the same rectangle to a centimetre.
    assert (box.xMinimum(), box.yMinimum(), box.xMaximum(), box.yMaximum()) == pytest.approx(
        rectangle_bounds("water"), abs=0.01)
    assert options["extent"] is None


def test_every_engine_option_is_in_the_dialog_with_its_default_and_reaches_the_algorithm(plugin, scene, tmp_path,
                                                                                          clean_project, qgis_iface):
    dialog = SegmentationDialog(qgis_iface)
    dialog.input_combo.setLayer(_add_scene_layer(clean_project, scene))
    dialog.model_widget.setFilePath(str(scene.model))
    by_kind = {"extent": dialog.area_combo, "polygon": dialog.mask_combo, "classes": dialog.classes_list,
               "bands": dialog.band_combos[0]}
    for spec in OPTIONS:
        if spec.name in dialog.options:
            assert dialog.options[spec.name].value() == spec.default, spec.name
        else:
            assert by_kind[spec.kind] is not None, spec.name
    defaults = _prepared_job(dialog.build_parameters())["options"]
    assert SegmentationOptions(**defaults) == SegmentationOptions(classes=("building", "woodland", "water", "road"),
                                                                  overwrite=True)

    changed = {"nodata": 7.0, "collars": False, "overlap": 0.1, "batch_size": 2, "device": "cpu", "runtime": "keras",
               "precision": "bfloat16", "tta": True,
               "simplify": 0.5, "min_area": 1.0, "fill_holes": 0.0, "square_buildings": True, "max_vertices": 50}
    for name, value in changed.items():
        dialog.options[name].set_value(value)
    for combo, band in zip(dialog.band_combos, (3, 2, 1)):
        combo.setBand(band)
    dialog.probabilities_check.setChecked(True)
    dialog.output_widget.setFilePath(str(tmp_path / "all.gpkg"))
    parameters = dialog.build_parameters()
    assert parameters["OUTPUT_PROBABILITIES"] == str(tmp_path / "all_probabilities.tif")
    options = _prepared_job(parameters)["options"]
    assert {name: options[name] for name in changed} == pytest.approx(changed)
    assert options["bands"] == (3, 2, 1)


def test_a_choice_the_algorithm_refuses_keeps_the_dialog_open_with_its_reason(plugin, scene, clean_project,
                                                                               qgis_iface):
    dialog = SegmentationDialog(qgis_iface)
    dialog.show()
    dialog.input_combo.setLayer(_add_scene_layer(clean_project, scene))
    dialog.model_widget.setFilePath(str(scene.model))
    canvas = qgis_iface.mapCanvas()
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:2056"))
    canvas.setExtent(QgsRectangle(2_700_000, 1_100_000, 2_700_100, 1_100_100))  # far from the scene
    dialog.area_combo.setCurrentIndex(AREA_CANVAS)
    QTest.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.job is None
    assert "The extent does not overlap 'scene'" in dialog.notice.text()


def test_the_dialog_tells_what_the_run_will_do_and_asks_before_a_large_one(plugin, scene, clean_project, qgis_iface):
    dialog = SegmentationDialog(qgis_iface)
    dialog.show()
    dialog.input_combo.setLayer(_add_scene_layer(clean_project, scene))
    dialog.model_widget.setFilePath(str(scene.model))
    # 256 x 192 px of 0.5 m; 64 px tiles overlapping by an eighth: 5 x 4 tiles, as the engine runs them.
    assert dialog.plan_label.text() == "Up to 1.23 ha at 50 cm/px: about 20 tiles of 64 px, on Automatic"
    dialog.options["overlap"].set_value(0.0)
    assert "about 12 tiles" in dialog.plan_label.text()   # 4 x 3
    asked = []
    dialog.confirm_large_run = lambda plan: asked.append(plan.tiles) or False
    dialog.large_run_tiles = 10
    QTest.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert asked == [12] and dialog.isVisible() and dialog.job is None
    dialog.large_run_tiles = 1000
    QTest.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert asked == [12] and not dialog.isVisible() and dialog.job is not None


def test_the_dialog_fits_the_screen_open_or_closed_and_wraps_a_long_notice(qgis_iface, fresh_settings):
    from qgis.core import Qgis

    dialog = SegmentationDialog(qgis_iface)
    dialog.show()
    screen = dialog.screen().availableGeometry()
    closed = dialog.height()
    dialog.advanced_box.setCollapsed(False)
    text = "; ".join(f"/a/long/path/number/{n}/landcover.gpkg already exists" for n in range(12))
    dialog._tell(Qgis.MessageLevel.Warning, "Check the settings", text)
    QgsApplication.processEvents()
    assert closed <= dialog.height() <= screen.height()
    assert dialog.rect().contains(dialog.buttons.geometry())   # Run is never cut off
    label = dialog.notice.label
    assert label.height() >= label.heightForWidth(label.width()) > 3 * label.fontMetrics().height()   # wrapped
    dialog.notice.clear()
    dialog.advanced_box.setCollapsed(True)
    assert dialog.height() == closed   # shrinks back when Advanced closes


def test_the_active_raster_is_preselected_and_the_plugins_own_outputs_never_offered(
        plugin, scene, tmp_path, clean_project, qgis_iface):
    first, second = _add_scene_layer(clean_project, scene), _add_scene_layer(clean_project, scene)
    classes = tmp_path / "classes.tif"
    from landcover_qgis_plugin.core.engine import segment
    segment(str(scene.raster), str(scene.onnx_model), raster_path=str(classes))
    opened = QgsRasterLayer(str(classes), "classes opened by hand")
    clean_project.addMapLayer(opened)
    qgis_iface.setActiveLayer(second)
    plugin.action.trigger()
    dialog = plugin.dialog
    assert dialog.input_combo.currentLayer() == second
    offered = [dialog.input_combo.layer(row) for row in range(dialog.input_combo.count())]
    assert first in offered and second in offered and opened not in offered
    dialog.close()
    qgis_iface.setActiveLayer(opened)   # our own output active: the choice stays a real orthophoto
    plugin.action.trigger()
    assert plugin.dialog.input_combo.currentLayer() in (first, second)
