"""Web map services on 127.0.0.1: the scene as an XYZ tile pyramid, read by the engine, by
`trainer predict` and by the Processing algorithm from a QGIS XYZ layer; the results match the file's."""
from __future__ import annotations

import json
from pathlib import Path

import processing
import pytest
from osgeo import ogr, osr
from qgis.core import (QgsCoordinateReferenceSystem, QgsProcessingException, QgsRasterLayer, QgsRectangle,
                       QgsReferencedRectangle)
from shapely import wkb
from shapely.ops import unary_union

from landcover_qgis_plugin.core import web
from landcover_qgis_plugin.core.engine import SegmentationOptions, segment
from landcover_qgis_plugin.core.errors import InputError
from plugin_support import EXPECTED_HA, HEIGHT, ORIGIN, RESOLUTION_M, WIDTH, qgis_process_env, run_qgis_process
from trainer import cli

EXACT = SegmentationOptions(min_area=0, fill_holes=0)
CLASSES = ("building", "woodland", "water", "road")


def scene_in_web_mercator() -> tuple[float, float, float, float]:
    """xmin, ymin, xmax, ymax of the scene (EPSG:2056) in EPSG:3857."""
    lv95, mercator = osr.SpatialReference(), osr.SpatialReference()
    lv95.ImportFromEPSG(2056)
    mercator.ImportFromEPSG(3857)
    for srs in (lv95, mercator):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    transform = osr.CoordinateTransformation(lv95, mercator)
    x0, y0 = ORIGIN
    corners = [transform.TransformPoint(x0 + dx, y0 - dy)[:2]
               for dx in (0, WIDTH * RESOLUTION_M) for dy in (0, HEIGHT * RESOLUTION_M)]
    xs, ys = zip(*corners)
    return min(xs), min(ys), max(xs), max(ys)


def xyz_layer(url: str) -> QgsRasterLayer:
    """A QGIS XYZ layer of the tile server, as the Data Source Manager makes it."""
    encoded = url.replace("{", "%7B").replace("}", "%7D")
    layer = QgsRasterLayer(f"type=xyz&url={encoded}&zmax=19&zmin=16", "tiles", "wms")
    assert layer.isValid() and layer.providerType() == "wms"
    return layer


def polygons(gpkg: Path, name: str):
    dataset = ogr.Open(str(gpkg))
    return [wkb.loads(bytes(f.GetGeometryRef().ExportToWkb())) for f in dataset.GetLayerByName(name)]


@pytest.fixture(scope="module")
def from_file(scene, tmp_path_factory):
    folder = tmp_path_factory.mktemp("file")
    return segment(str(scene.raster), str(scene.model), folder / "file.gpkg", options=EXACT), folder / "file.gpkg"


def test_an_xyz_service_gives_the_file_s_areas_and_polygons(scene, xyz_server, tmp_path, from_file):
    reference, reference_gpkg = from_file
    description = web.xyz_dataset(xyz_server, 19, cache=tmp_path / "cache")
    options = SegmentationOptions(min_area=0, fill_holes=0, extent=scene_in_web_mercator())
    result = segment(description, str(scene.model), tmp_path / "web.gpkg", options=options)
    # 0.5 m on the ground at 47° N is 0.73 Web Mercator metres: zoom 18 (0.6 m) is the coarsest fine enough.
    assert result.reading.startswith(f"web service {xyz_server.replace('${', '{')}, zoom level 18, read at 50 cm on "
                                     "the ground from its ")   # about 41 cm: Web Mercator's 0.6 m at 47° N
    assert result.pixel_size_m == pytest.approx(0.5, rel=0.01)
    for name in CLASSES:
        assert result.area_ha[name] == pytest.approx(EXPECTED_HA[name], rel=0.05), name
        assert result.vector_area_ha[name] == pytest.approx(reference.vector_area_ha[name], rel=0.05), name
    # Same places: the polygons from the service cover those from the file, up to a pixel's seam.
    lv95 = osr.SpatialReference()
    lv95.ImportFromEPSG(2056)
    dataset = ogr.Open(str(tmp_path / "web.gpkg"))
    for name in ("building", "water"):
        shapes = []
        for feature in dataset.GetLayerByName(name):
            geometry = feature.GetGeometryRef().Clone()
            geometry.TransformTo(lv95)
            shapes.append(wkb.loads(bytes(geometry.ExportToWkb())))
        expected = unary_union(polygons(reference_gpkg, name))
        assert unary_union(shapes).symmetric_difference(expected).area < 0.1 * expected.area, name
    assert (tmp_path / "cache").is_dir()   # GDAL's disk cache of the tiles


def test_tiles_the_server_lacks_are_nodata_not_errors(scene, xyz_server, tmp_path):
    xmin, ymin, xmax, ymax = scene_in_web_mercator()
    wider = (xmin - 200, ymin - 200, xmax + 200, ymax + 200)   # beyond the pyramid: 404s
    result = segment(web.xyz_dataset(xyz_server, 19), str(scene.model), raster_path=tmp_path / "wide.tif",
                     options=SegmentationOptions(extent=wider))
    # Only the scene is classified: the tiles around it are missing (404) or transparent.
    assert sum(result.area_ha.values()) == pytest.approx(WIDTH * HEIGHT * RESOLUTION_M ** 2 / 10_000, rel=0.05)
    assert result.skipped_tiles > 0


def test_a_server_that_is_down_is_one_error_naming_it_and_nothing_is_written(scene, tmp_path):
    down = "http://127.0.0.1:9/{z}/{x}/{y}.png"   # the discard port: nothing listens there
    with pytest.raises(InputError, match=r"The web service http://127\.0\.0\.1:9/\{z\}/\{x\}/\{y\}\.png did not "
                                         r"answer .* may be down"):
        segment(web.xyz_dataset(down, 19), str(scene.model), tmp_path / "down.gpkg", tmp_path / "down.tif",
                options=SegmentationOptions(extent=scene_in_web_mercator()))
    assert list(tmp_path.iterdir()) == []


def test_a_web_service_without_an_area_is_refused(scene, xyz_server, tmp_path):
    with pytest.raises(InputError, match="covers the whole world: give the area to classify"):
        segment(web.xyz_dataset(xyz_server, 19), str(scene.model), tmp_path / "world.gpkg")


def test_predict_reads_a_gdal_wms_file(scene, xyz_server, tmp_path, capsys):
    description = tmp_path / "service.xml"
    description.write_text(web.xyz_dataset(xyz_server, 19))
    extent = ",".join(f"{v:.3f}" for v in scene_in_web_mercator())
    assert cli.main(["predict", str(description), "--model", str(scene.model), "--out", str(tmp_path / "p.gpkg"),
                     "--extent", extent, "--min-area", "0", "--fill-holes", "0", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "web service http://127.0.0.1" in printed and "zoom level 18" in printed


def test_processing_segments_a_qgis_xyz_layer(provider, scene, xyz_server, tmp_path, clean_project):
    layer = xyz_layer(xyz_server)
    clean_project.addMapLayer(layer)
    xmin, ymin, xmax, ymax = scene_in_web_mercator()
    extent = QgsReferencedRectangle(QgsRectangle(xmin, ymin, xmax, ymax), QgsCoordinateReferenceSystem("EPSG:3857"))
    result = processing.run("landcover:segment", {"INPUT": layer.id(), "MODEL": str(scene.model), "EXTENT": extent,
                                                  "OUTPUT": str(tmp_path / "xyz.gpkg"), "MIN_AREA": 0,
                                                  "FILL_HOLES": 0})
    assert "zoom level 18" in result["READING"]
    area_ha = json.loads(result["POLYGON_AREA_HA"])
    for name in CLASSES:
        assert area_ha[name] == pytest.approx(EXPECTED_HA[name], rel=0.05), name
    with pytest.raises(QgsProcessingException):   # a web layer needs an area
        processing.run("landcover:segment", {"INPUT": layer.id(), "MODEL": str(scene.model),
                                             "OUTPUT": str(tmp_path / "world.gpkg")})
    assert not (tmp_path / "world.gpkg").exists()


def test_qgis_process_segments_a_service_described_in_a_gdal_wms_file(scene, xyz_server, tmp_path):
    description = tmp_path / "service.xml"
    description.write_text(web.xyz_dataset(xyz_server, 19))
    env = qgis_process_env(tmp_path / "profile")
    assert run_qgis_process(["plugins", "enable", "landcover_qgis_plugin"], env).returncode == 0
    xmin, ymin, xmax, ymax = scene_in_web_mercator()
    completed = run_qgis_process(["--json", "run", "landcover:segment", "--", f"INPUT={description}",
                                  f"MODEL={scene.model}", f"OUTPUT={tmp_path / 'cli.gpkg'}",
                                  f"EXTENT={xmin},{xmax},{ymin},{ymax} [EPSG:3857]", "MIN_AREA=0", "FILL_HOLES=0"],
                                 env)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    outputs = json.loads(completed.stdout[completed.stdout.index("{"):])["results"]
    assert "zoom level 18" in outputs["READING"]
    area_ha = json.loads(outputs["POLYGON_AREA_HA"])
    for name in CLASSES:
        assert area_ha[name] == pytest.approx(EXPECTED_HA[name], rel=0.05), name


def test_the_dialog_s_job_on_a_web_layer_names_the_service_in_its_summary(provider, scene, xyz_server, tmp_path,
                                                                         clean_project, qgis_iface):
    from landcover_qgis_plugin.job import SegmentationJob
    from plugin_support import wait_for_task
    from qgis.core import Qgis, QgsProcessingOutputLayerDefinition

    layer = xyz_layer(xyz_server)
    clean_project.addMapLayer(layer)
    qgis_iface.messageBar().clearWidgets()
    xmin, ymin, xmax, ymax = scene_in_web_mercator()
    job = SegmentationJob({"INPUT": layer.id(), "MODEL": str(scene.model),
                           "EXTENT": QgsReferencedRectangle(QgsRectangle(xmin, ymin, xmax, ymax),
                                                            QgsCoordinateReferenceSystem("EPSG:3857")),
                           "OUTPUT": QgsProcessingOutputLayerDefinition(str(tmp_path / "web.gpkg"), clean_project)},
                          "tiles", clean_project, qgis_iface.messageBar())
    assert job.prepared, job.error
    job.start()
    wait_for_task(job.task)
    from plugin_support import open_details
    [item] = [item for item in qgis_iface.messageBar().items() if item.level() == Qgis.Success]
    details = open_details(item)
    qgis_iface.messageBar().clearWidgets()
    assert details.count("web service http://127.0.0.1") == 1 and "zoom level 18, read at 50 cm on the" in details
    assert clean_project.layerTreeRoot().findGroup("Land cover — tiles") is not None


def test_processing_segments_a_wms_layer_of_qgis_server(provider, scene, wms_server, tmp_path, clean_project,
                                                        from_file):
    layer = QgsRasterLayer(f"crs=EPSG:2056&format=image/png&layers=scene&styles=&url={wms_server}", "wms", "wms")
    assert layer.isValid(), layer.error().summary()
    clean_project.addMapLayer(layer)
    x0, y0 = ORIGIN
    extent = QgsReferencedRectangle(QgsRectangle(x0, y0 - HEIGHT * RESOLUTION_M, x0 + WIDTH * RESOLUTION_M, y0),
                                    QgsCoordinateReferenceSystem("EPSG:2056"))
    result = processing.run("landcover:segment", {"INPUT": layer.id(), "MODEL": str(scene.model), "EXTENT": extent,
                                                  "OUTPUT": str(tmp_path / "wms.gpkg"), "MIN_AREA": 0,
                                                  "FILL_HOLES": 0})
    assert f"web service {wms_server}" in result["READING"]
    reference, reference_gpkg = from_file
    area_ha = json.loads(result["POLYGON_AREA_HA"])
    for name in CLASSES:
        assert area_ha[name] == pytest.approx(reference.vector_area_ha[name], rel=0.02), name
        moved = unary_union(polygons(tmp_path / "wms.gpkg", name)).symmetric_difference(
            unary_union(polygons(reference_gpkg, name))).area
        assert moved < 0.05 * reference.vector_area_ha[name] * 10_000, name


def test_the_dialog_tells_the_service_and_zoom_level_before_it_runs(scene, xyz_server, clean_project, qgis_iface):
    from landcover_qgis_plugin.dialog import AREA_CANVAS, SegmentationDialog

    layer = xyz_layer(xyz_server)
    clean_project.addMapLayer(layer)
    dialog = SegmentationDialog(qgis_iface)
    dialog.input_combo.setLayer(layer)
    dialog.model_widget.setFilePath(str(scene.model))
    assert dialog.plan_label.text().startswith("A web layer: choose the area")
    canvas = qgis_iface.mapCanvas()
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    canvas.setExtent(QgsRectangle(*scene_in_web_mercator()))
    dialog.area_combo.setCurrentIndex(AREA_CANVAS)
    text = dialog.plan_label.text()
    assert "zoom level 18" in text and "web service http://127.0.0.1" in text and " ha at 50 cm/px" in text
