"""The Processing algorithm: processing.run, the modeler, loading styled results, and qgis_process."""
from __future__ import annotations

import functools
import json
from pathlib import Path

import processing
import pytest
from osgeo import gdal
from qgis.core import (QgsApplication, QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsFeature,
                       QgsGeometry, QgsProcessingException, QgsProcessingFeatureSourceDefinition, QgsProcessingFeedback,
                       QgsProcessingModelAlgorithm, QgsProcessingModelChildAlgorithm,
                       QgsProcessingModelChildParameterSource, QgsProcessingModelOutput,
                       QgsProcessingModelParameter, QgsProcessingParameterRasterLayer, QgsProject,
                       QgsRasterLayer, QgsRectangle, QgsVectorLayer)

from landcover_qgis_plugin.core.limits import StreamLimits
from landcover_qgis_plugin.core.options import OPTIONS
from landcover_qgis_plugin.core.vectorize import layer_name
from plugin_support import (EXPECTED_HA, SWISSIMAGE, qgis_process_env, real_data_model, rectangle_bounds,
                            run_qgis_process, swissimage_grid)

ALGORITHM = "landcover:segment"
FAST = {"MIN_AREA": 0, "FILL_HOLES": 0, "BATCH_SIZE": 8}




class RecordingFeedback(QgsProcessingFeedback):
    """Keeps what the algorithm reports, as the toolbox's log would show it."""

    def __init__(self):
        super().__init__()
        self.errors: list[str] = []
        self.infos: list[str] = []
        self.progress: list[float] = []
        self.progressChanged.connect(self.progress.append)

    def reportError(self, error: str, fatalError: bool = False) -> None:  # noqa: N802, N803
        self.errors.append(error)

    def pushInfo(self, info: str) -> None:  # noqa: N802
        self.infos.append(info)


def _run(parameters: dict, feedback: QgsProcessingFeedback | None = None) -> dict:
    return processing.run(ALGORITHM, parameters, feedback=feedback or QgsProcessingFeedback())


def _layer_areas(gpkg: str, result: dict) -> dict[str, float]:
    areas = {}
    for uri in result["LAYERS"]:
        layer = QgsVectorLayer(uri, "check", "ogr")
        assert layer.isValid(), uri
        assert layer.crs().authid() == "EPSG:2056"
        areas[uri.split("layername=")[1]] = sum(f.geometry().area() for f in layer.getFeatures())
    assert all(uri.startswith(gpkg + "|layername=") for uri in result["LAYERS"])
    return areas


def test_parameters_have_stable_ids_standard_types_and_expert_flags(provider):
    algorithm = QgsApplication.processingRegistry().algorithmById(ALGORITHM)
    types = {p.name(): p.type() for p in algorithm.parameterDefinitions()}
    assert types == {
        "INPUT": "raster", "MODEL": "file", "EXTENT": "extent", "MASK": "source", "BANDS": "band",
        "CLASSES": "enum", "NODATA": "number", "COLLARS": "boolean", "OVERLAP": "number", "BATCH_SIZE": "number",
        "DEVICE": "enum", "RUNTIME": "enum", "TTA": "boolean", "SIMPLIFY": "number", "MIN_AREA": "number",
        "FILL_HOLES": "number", "SQUARE_BUILDINGS": "boolean", "MAX_VERTICES": "number", "PRECISION": "enum",
        "WAIT": "boolean", "OUTPUT": "vectorDestination", "OUTPUT_RASTER": "rasterDestination",
        "OUTPUT_PROBABILITIES": "rasterDestination"}
    advanced = {p.name() for p in algorithm.parameterDefinitions() if p.flags() & p.FlagAdvanced}
    assert advanced == {"BANDS", "CLASSES", "NODATA", "COLLARS", "OVERLAP", "BATCH_SIZE", "DEVICE", "RUNTIME", "TTA",
                        "SIMPLIFY", "MIN_AREA", "FILL_HOLES", "SQUARE_BUILDINGS", "MAX_VERTICES", "PRECISION",
                        "WAIT", "OUTPUT_PROBABILITIES"}
    assert {o.name() for o in algorithm.outputDefinitions()} == {
        "OUTPUT", "OUTPUT_RASTER", "OUTPUT_PROBABILITIES", "LAYERS", "AREA_HA", "POLYGON_AREA_HA", "DEVICE_USED",
        "READING", "SECONDS", "TILES"}
    assert algorithm.flags() & algorithm.FlagSupportsBatch and algorithm.flags() & algorithm.FlagCanCancel
    assert not algorithm.flags() & algorithm.FlagHideFromModeler


def test_option_parameters_come_from_the_declarations_with_their_defaults(provider):
    algorithm = QgsApplication.processingRegistry().algorithmById(ALGORITHM)
    for spec in OPTIONS:
        parameter = algorithm.parameterDefinition(spec.parameter_name)
        if not spec.processing:  # Processing replaces the outputs the user names
            assert parameter is None
            continue
        assert parameter.help().startswith(spec.help), spec.name   # CLASSES adds the names it takes
        default = parameter.defaultValue()
        if spec.choices:
            default = spec.values[default]
        assert default == spec.default, spec.name
        if spec.minimum is not None:
            assert parameter.minimum() == spec.minimum and (spec.maximum is None or parameter.maximum() == spec.maximum)


def test_the_model_metadata_is_read_once_per_run(provider, scene, tmp_path, monkeypatch):
    from landcover_qgis_plugin import algorithm as algorithm_module
    from landcover_qgis_plugin.core import engine, modelfile

    reads = []

    def counting(path):
        reads.append(path)
        return modelfile.read_metadata(path)

    monkeypatch.setattr(algorithm_module, "read_metadata", counting)
    monkeypatch.setattr(engine, "read_metadata", counting)
    _run({"INPUT": str(scene.raster), "MODEL": str(scene.model), "OUTPUT": str(tmp_path / "once.gpkg"), **FAST})
    assert reads == [str(scene.model)]


def test_processing_run_writes_every_output(provider, scene, tmp_path):
    gpkg, tif, probabilities = (str(tmp_path / name) for name in ("out.gpkg", "classes.tif", "p.tif"))
    result = _run({"INPUT": str(scene.raster), "MODEL": str(scene.model), "OUTPUT": gpkg, "OUTPUT_RASTER": tif,
                   "OUTPUT_PROBABILITIES": probabilities, "CLASSES": ["building", "water"], **FAST})
    assert (result["OUTPUT"], result["OUTPUT_RASTER"], result["OUTPUT_PROBABILITIES"]) == (gpkg, tif, probabilities)
    areas = _layer_areas(gpkg, result)
    assert len(areas) == 2
    assert sorted(areas.values()) == pytest.approx(
        sorted([EXPECTED_HA["building"] * 10_000, EXPECTED_HA["water"] * 10_000]), rel=0.01)
    area_ha = json.loads(result["AREA_HA"])
    assert area_ha["building"] == pytest.approx(EXPECTED_HA["building"], rel=0.01)
    assert result["TILES"] > 0 and result["SECONDS"] > 0 and result["DEVICE_USED"]
    classes = gdal.Open(tif)
    assert (classes.RasterXSize, classes.RasterYSize) == (256, 192)
    assert gdal.Open(probabilities).RasterCount >= 1
    classes = None


def test_max_vertices_reaches_the_vectoriser(provider, scene, tmp_path, monkeypatch):
    """Bands of 10 rows, so the rectangles span several cuts: capped at 4 traced vertices, each is
    cut into pieces along the cuts; same area, more polygons. (The algorithm does not expose the
    stream limits, so its engine call is given them; the default bands hold this raster in one.)"""
    from landcover_qgis_plugin.core import engine
    monkeypatch.setattr(engine, "segment", functools.partial(engine.segment,
                                                             limits=StreamLimits(band_pixels=10 * 256)))
    counts, areas = {}, {}
    for cap in (0, 4):
        gpkg = str(tmp_path / f"cap{cap}.gpkg")
        result = _run({"INPUT": str(scene.raster), "MODEL": str(scene.model), "OUTPUT": gpkg,
                       "MAX_VERTICES": cap, **FAST})
        areas[cap] = _layer_areas(gpkg, result)
        counts[cap] = {uri: QgsVectorLayer(uri, "", "ogr").featureCount() for uri in result["LAYERS"]}
    assert sum(counts[4].values()) > sum(counts[0].values()) + 3
    assert list(areas[4].values()) == pytest.approx(list(areas[0].values()))


def test_temporary_outputs_are_geopackage_and_geotiff_files(provider, scene):
    result = _run({"INPUT": str(scene.raster), "MODEL": str(scene.model), "OUTPUT": "TEMPORARY_OUTPUT",
                   "OUTPUT_RASTER": "TEMPORARY_OUTPUT", **FAST})
    assert result["OUTPUT"].endswith(".gpkg") and Path(result["OUTPUT"]).is_file()
    assert result["OUTPUT_RASTER"].endswith(".tif") and Path(result["OUTPUT_RASTER"]).is_file()


def test_extent_and_selected_mask_features_limit_the_work(provider, scene, tmp_path, clean_project):
    # The extent is given in another CRS (WGS 84): Processing reprojects it to the raster's.
    to_wgs84 = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:2056"),
                                      QgsCoordinateReferenceSystem("EPSG:4326"), QgsProject.instance())
    box = to_wgs84.transformBoundingBox(QgsRectangle(*rectangle_bounds("woodland")).buffered(2.0))
    result = _run({"INPUT": str(scene.raster), "MODEL": str(scene.model), "OUTPUT": str(tmp_path / "a.gpkg"),
                   "EXTENT": f"{box.xMinimum()},{box.xMaximum()},{box.yMinimum()},{box.yMaximum()} [EPSG:4326]",
                   **FAST})
    area_ha = json.loads(result["AREA_HA"])
    assert area_ha.get("woodland", 0) == pytest.approx(EXPECTED_HA["woodland"], rel=0.02)
    assert area_ha.get("water", 0) == 0 and area_ha.get("building", 0) == 0

    polygons = QgsVectorLayer("Polygon?crs=EPSG:2056", "areas", "memory")
    features = []
    for name in ("water", "building"):
        feature = QgsFeature()
        feature.setGeometry(QgsGeometry.fromRect(QgsRectangle(*rectangle_bounds(name)).buffered(1.0)))
        features.append(feature)
    polygons.dataProvider().addFeatures(features)
    clean_project.addMapLayer(polygons)
    polygons.selectByIds([polygons.getFeatures().__next__().id()])  # the water rectangle only
    result = _run({"INPUT": str(scene.raster), "MODEL": str(scene.model), "OUTPUT": str(tmp_path / "b.gpkg"),
                   "MASK": QgsProcessingFeatureSourceDefinition(polygons.id(), True), **FAST})
    area_ha = json.loads(result["AREA_HA"])
    assert area_ha.get("water", 0) == pytest.approx(EXPECTED_HA["water"], rel=0.02)
    assert area_ha.get("building", 0) == 0 and area_ha.get("woodland", 0) == 0


def test_bad_parameters_fail_with_a_clear_message(provider, scene, tmp_path):
    import testkit
    roads = testkit.colour_onnx(tmp_path.parent / "roads.onnx", {"model_type": "Segmentor", "resolution": 50,
                                                                  "tile_size": 64, "class_names": ["background", "road"]},
                                classes=["background", "road"])
    cases = [({"CLASSES": "meadow"}, "Incorrect parameter value for CLASSES"),   # not one of the names offered
             ({"CLASSES": ["building"], "MODEL": str(roads)}, "Unknown class(es) building; this model knows "
                                                              "background, road"),
             ({"MODEL": str(tmp_path / "missing.keras")}, "missing.keras' does not exist"),
             ({"OUTPUT": str(tmp_path / "o.shp")}, "GeoPackage")]
    for bad, message in cases:
        feedback = RecordingFeedback()
        with pytest.raises(QgsProcessingException) as caught:
            _run({"INPUT": str(scene.raster), "MODEL": str(scene.model), "OUTPUT": str(tmp_path / "o.gpkg"), **bad},
                 feedback)
        assert any(message in error for error in [*feedback.errors, str(caught.value)]), (message, feedback.errors)
    assert list(tmp_path.iterdir()) == []


def test_cancel_through_the_feedback_leaves_no_output(provider, scene, tmp_path, clean_project):
    """A cancel is said once and returns nothing, as QGIS's own algorithms do; no layer is opened."""
    feedback = RecordingFeedback()
    feedback.progressChanged.connect(lambda value: value > 0 and feedback.cancel())
    results = processing.runAndLoadResults(ALGORITHM, {
        "INPUT": str(scene.raster), "MODEL": str(scene.model), "OUTPUT": str(tmp_path / "c.gpkg"),
        "OUTPUT_RASTER": str(tmp_path / "c.tif"), **FAST, "BATCH_SIZE": 1}, feedback=feedback)
    assert not results.get("OUTPUT") and clean_project.count() == 0 and not feedback.errors
    assert [info for info in feedback.infos if info.startswith("Cancel")] == ["Cancelled; nothing was written."]
    assert any(0 < value < 100 for value in feedback.progress)
    assert list(tmp_path.iterdir()) == []


def test_run_and_load_results_opens_styled_class_layers(provider, scene, tmp_path, clean_project):
    result = processing.runAndLoadResults(ALGORITHM, {
        "INPUT": str(scene.raster), "MODEL": str(scene.model), "OUTPUT": str(tmp_path / "loaded.gpkg"),
        "OUTPUT_RASTER": str(tmp_path / "loaded.tif"), **FAST})
    layers = {layer.name(): layer for layer in clean_project.mapLayers().values()}
    assert {"Buildings", "Woodland", "Water", "Roads"} <= set(layers)
    fill = layers["Water"].renderer().symbol().symbolLayers()[0].fillColor()
    assert fill.name() == "#2b83ba"
    [raster] = [layer for layer in layers.values() if isinstance(layer, QgsRasterLayer)]
    assert raster.renderer().type() == "paletted"
    assert Path(result["OUTPUT"]).exists()


def test_algorithm_runs_inside_a_graphical_model(provider, scene, tmp_path):
    model = QgsProcessingModelAlgorithm("Segment in a model", "tests")
    model.addModelParameter(QgsProcessingParameterRasterLayer("ortho", "Orthophoto"),
                            QgsProcessingModelParameter("ortho"))
    child = QgsProcessingModelChildAlgorithm(ALGORITHM)
    child.setChildId("segment")
    child.addParameterSources("INPUT", [QgsProcessingModelChildParameterSource.fromModelParameter("ortho")])
    for name, value in {"MODEL": str(scene.model), **FAST}.items():
        child.addParameterSources(name, [QgsProcessingModelChildParameterSource.fromStaticValue(value)])
    output = QgsProcessingModelOutput("polygons")
    output.setChildId("segment")
    output.setChildOutputName("OUTPUT")
    child.setModelOutputs({"polygons": output})
    model.addChildAlgorithm(child)
    gpkg = str(tmp_path / "modelled.gpkg")
    result = processing.run(model, {"ortho": str(scene.raster), "segment:polygons": gpkg})
    assert result["segment:polygons"] == gpkg
    layer = QgsVectorLayer(f"{gpkg}|layername={layer_name('building')}", "b", "ogr")
    assert sum(f.geometry().area() for f in layer.getFeatures()) == pytest.approx(
        EXPECTED_HA["building"] * 10_000, rel=0.01)


@pytest.mark.skipif(not SWISSIMAGE.exists(), reason=f"real orthophoto {SWISSIMAGE} is absent")
def test_real_orthophoto_through_processing_run(provider, scene, tmp_path):
    feedback = RecordingFeedback()
    model = real_data_model(scene)
    result = _run({"INPUT": str(SWISSIMAGE), "MODEL": str(model),
                   "OUTPUT": str(tmp_path / "swiss.gpkg"), "OUTPUT_RASTER": str(tmp_path / "swiss.tif"), **FAST},
                  feedback)
    area_ha = json.loads(result["AREA_HA"])
    assert set(area_ha) == {"background", "building", "woodland", "water", "road"}
    assert sum(area_ha.values()) == pytest.approx(875 * 600 * 0.25 / 10_000, rel=1e-3)  # every pixel classified
    assert len(result["LAYERS"]) == 4 and all(QgsVectorLayer(uri, "l", "ogr").isValid() for uri in result["LAYERS"])
    raster = QgsRasterLayer(result["OUTPUT_RASTER"], "classes")
    assert raster.crs().authid() == "EPSG:2056" and (raster.width(), raster.height()) == swissimage_grid(model)
    assert feedback.progress and feedback.progress[-1] == 100 and feedback.progress == sorted(feedback.progress)
    [summary] = [info for info in feedback.infos if info.startswith("swissimage_1091-322_00: ")]   # once
    assert "\nRaster: read at " in summary and "\nBackground: – as polygons, " in summary


def test_qgis_process_runs_the_algorithm_from_the_repository(scene, tmp_path):
    env = qgis_process_env(tmp_path / "profile")
    enabled = run_qgis_process(["plugins", "enable", "landcover_qgis_plugin"], env)
    assert enabled.returncode == 0, enabled.stdout + enabled.stderr
    gpkg, tif = tmp_path / "cli.gpkg", tmp_path / "cli.tif"
    completed = run_qgis_process(["--json", "run", ALGORITHM, "--", f"INPUT={scene.raster}",
                                  f"MODEL={scene.model}", f"OUTPUT={gpkg}", f"OUTPUT_RASTER={tif}",
                                  "MIN_AREA=0", "FILL_HOLES=0", "DEVICE=1", "CLASSES=building", "CLASSES=road"], env)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    outputs = json.loads(completed.stdout[completed.stdout.index("{"):])["results"]
    assert outputs["OUTPUT"] == str(gpkg) and outputs["OUTPUT_RASTER"] == str(tif)
    assert outputs["DEVICE_USED"].lower().startswith("cpu")
    area_ha = json.loads(outputs["AREA_HA"])
    for name, expected in EXPECTED_HA.items():
        assert area_ha[name] == pytest.approx(expected, rel=0.01), name
    assert _layer_areas(str(gpkg), outputs) == pytest.approx(   # the classes asked for, by name
        {"building": EXPECTED_HA["building"] * 10_000, "road": EXPECTED_HA["road"] * 10_000}, rel=0.01)


def test_the_algorithm_explains_itself(provider):
    from landcover_qgis_plugin.paths import README_PLUGIN_SECTION

    algorithm = QgsApplication.processingRegistry().algorithmById(ALGORITHM)
    help_text = algorithm.shortHelpString()
    assert "A web layer (XYZ, WMS, WMTS) covers the whole world: give it an extent or polygons." in help_text
    assert "qgis_process run landcover:segment -- INPUT=ortho.tif OUTPUT=landcover.gpkg" in help_text
    assert algorithm.helpUrl() == "https://github.com/r-seed-40e32d85/landcover#the-plugin"
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert "\n## The plugin\n" in readme and README_PLUGIN_SECTION == "#the-plugin"   # where the link leads
    classes = algorithm.parameterDefinition("CLASSES")
    assert classes.options() == ["background", "building", "woodland", "water", "road"] and classes.allowMultiple()
    assert classes.help().endswith("Classes: background, building, woodland, water, road.")
