"""Fine-tuning on the analyst's own labels: the labels read onto the model's grid, as analysts digitise them."""
from __future__ import annotations

import json

import numpy as np
import pytest
from osgeo import osr

import testkit
from landcover_qgis_plugin.core.errors import InputError
from landcover_qgis_plugin.core.geotiff import write_geotiff
from landcover_qgis_plugin.core.modelfile import metadata_for
from trainer.finetune.labels import UNLABELLED, LabelSource, check_enough, read_labelled

ORIGIN, RES = (2_600_000.0, 1_200_000.0), 0.5
SHAPES = [("building", 10, 30, 10, 40), ("water", 50, 80, 60, 100)]   # rows, then columns
METADATA = metadata_for(input_size=64, resolution_cm=50.0)


@pytest.fixture
def image(tmp_path):
    return str(write_geotiff(tmp_path / "image.tif", testkit.paint(100, 120, SHAPES), ORIGIN, RES, crs=2056))


def _truth(tmp_path, resolution=RES, nodata_rows=0):
    classes = np.zeros((round(100 * RES / resolution), round(120 * RES / resolution)), np.uint8)
    scale = RES / resolution
    for name, r0, r1, c0, c1 in SHAPES:
        value = {"building": 1, "water": 3}[name]
        classes[round(r0 * scale):round(r1 * scale), round(c0 * scale):round(c1 * scale)] = value
    classes[:nodata_rows] = 200
    return str(write_geotiff(tmp_path / f"truth_{resolution}.tif", classes, ORIGIN, resolution, crs=2056,
                             nodata=200))


def _polygons(tmp_path, features, name="labels.geojson", epsg=2056):
    collection = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": f"EPSG:{epsg}"}},
                  "features": [{"type": "Feature", "properties": properties,
                                "geometry": {"type": "Polygon", "coordinates": [ring]}}
                               for properties, ring in features]}
    path = tmp_path / name
    path.write_text(json.dumps(collection))
    return str(path)


def _box(c0, r0, c1, r1):
    """A ring around pixel columns c0..c1, rows r0..r1 of the image, in EPSG:2056."""
    x0, y0 = ORIGIN
    xs, ys = (x0 + c0 * RES, x0 + c1 * RES), (y0 - r0 * RES, y0 - r1 * RES)
    return [[xs[0], ys[0]], [xs[1], ys[0]], [xs[1], ys[1]], [xs[0], ys[1]], [xs[0], ys[0]]]


def test_a_class_raster_gives_the_labels_and_its_nodata_stays_unlabelled(image, tmp_path):
    labelled = read_labelled(LabelSource(image, truth=_truth(tmp_path, nodata_rows=5)), METADATA)
    assert labelled.pixels.shape == (100, 120, 3) and labelled.grid.dx == RES
    assert (labelled.labels[10:30, 10:40] == 1).all() and (labelled.labels[50:80, 60:100] == 3).all()
    assert (labelled.labels[:5] == UNLABELLED).all() and (labelled.labels[5:10] == 0).all()
    assert labelled.labelled_pixels(5).tolist() == [100 * 120 - 5 * 120 - 600 - 1200, 600, 0, 1200, 0]


def test_a_coarser_class_raster_is_put_on_the_model_grid_by_nearest_neighbour(image, tmp_path):
    labelled = read_labelled(LabelSource(image, truth=_truth(tmp_path, resolution=1.0)), METADATA)
    assert labelled.labels.shape == (100, 120) and (labelled.labels[10:30, 10:40] == 1).all()


def test_polygons_inside_a_labelled_area_leave_the_rest_of_it_background(image, tmp_path):
    labels = _polygons(tmp_path, [({"class": "building"}, _box(10, 10, 40, 30)),
                                  ({"class": "3"}, _box(60, 50, 100, 80))])
    area = _polygons(tmp_path, [({}, _box(0, 0, 110, 90))], "area.geojson")
    labelled = read_labelled(LabelSource(image, polygons=labels, class_field="class", area=area), METADATA)
    assert labelled.labels.shape == (90, 110)   # the labelled area's window of the image
    assert (labelled.labels[10:30, 10:40] == 1).all() and (labelled.labels[50:80, 60:100] == 3).all()
    assert (labelled.labels[0:10] == 0).all()   # in the area, under no polygon: background
    without_area = read_labelled(LabelSource(image, polygons=labels, class_field="class"), METADATA)
    assert without_area.labels.shape == (70, 90)   # the polygons' window
    assert set(np.unique(without_area.labels)) == {1, 3, UNLABELLED}


def test_polygons_drawn_in_another_crs_land_where_they_belong(image, tmp_path):
    to_wgs84 = osr.CoordinateTransformation(_srs(2056), _srs(4326))
    ring = [list(to_wgs84.TransformPoint(x, y)[:2]) for x, y in _box(10, 10, 40, 30)]
    labels = _polygons(tmp_path, [({"class": "building"}, ring)], epsg=4326)
    labelled = read_labelled(LabelSource(image, polygons=labels, class_field="class"), METADATA)
    assert (labelled.labels == 1).sum() == pytest.approx(600, rel=0.1)


def _srs(epsg):
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def test_bad_labels_are_one_clear_error(image, tmp_path):
    meadow = _polygons(tmp_path, [({"class": "meadow"}, _box(10, 10, 40, 30))])
    with pytest.raises(InputError, match="has class 'meadow' in field 'class', which the model does not have"):
        read_labelled(LabelSource(image, polygons=meadow, class_field="class"), METADATA)
    with pytest.raises(InputError, match=r"has no class field 'kind'; its fields are \['class'\]"):
        read_labelled(LabelSource(image, polygons=meadow, class_field="kind"), METADATA)
    far = [[c[0] + 10_000, c[1]] for c in _box(10, 10, 40, 30)]
    elsewhere = _polygons(tmp_path, [({"class": "building"}, far)], "far.geojson")
    with pytest.raises(InputError, match="do not overlap the image"):
        read_labelled(LabelSource(image, polygons=elsewhere, class_field="class"), METADATA)
    small = read_labelled(LabelSource(image, polygons=_polygons(tmp_path, [({"class": "building"}, _box(0, 0, 4, 4))],
                                                                "small.geojson"), class_field="class"), METADATA)
    with pytest.raises(InputError, match="Only 16 labelled pixels at the model's 50 cm/px"):
        check_enough([small], METADATA, 64 * 64)


def _labelled_image(height=768, width=1024, seed=0):
    from landcover_qgis_plugin.core.grid import Grid
    from trainer.finetune.labels import LabelledImage

    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 5, (height // 16, width // 16)).repeat(16, 0).repeat(16, 1).astype(np.uint8)
    labels[:, width - 100:] = UNLABELLED   # a strip nobody labelled
    pixels = np.zeros((height, width, 3), np.uint8)
    return LabelledImage("image.tif", pixels, labels, Grid(0.0, 0.0, 0.25, 0.25, width, height), "")


def test_validation_blocks_are_apart_and_never_reach_training():
    from trainer.finetune.chips import ChipSampler, split, validation_chips

    image = _labelled_image()
    tile = 128
    parts = split([image], tile, seed=3)
    labelled = int((image.labels != UNLABELLED).sum())
    kept = sum(int((image.labels[b.row:b.row + tile, b.col:b.col + tile] != UNLABELLED).sum())
               for b in parts.validation)
    assert 0.2 <= kept / labelled < 0.2 + tile * tile / labelled   # a fifth, to the block
    for a in parts.validation:   # none touching another
        assert all(a == b or abs(a.row - b.row) > tile or abs(a.col - b.col) > tile for b in parts.validation)
        margin = tile // 4
        around = parts.training[0][max(a.row - margin, 0):a.row + tile + margin,
                                   max(a.col - margin, 0):a.col + tile + margin]
        assert (around == UNLABELLED).all()
    sampler = ChipSampler([image], parts.training, tile)
    rng = np.random.default_rng(0)
    for _ in range(50):
        pixels, chip = sampler.draw(rng)
        assert pixels.shape == (tile, tile, 3) and (chip != UNLABELLED).mean() >= 0.25
    pixels, labels = validation_chips([image], parts.validation, tile)
    assert pixels.shape == (len(parts.validation), tile, tile, 3) and (labels != UNLABELLED).any()


def test_too_small_a_labelled_area_to_keep_some_for_validation_is_refused():
    from trainer.finetune.chips import split

    with pytest.raises(InputError, match=r"The labels cover 1 tile\(s\) of 128 x 128 px"):
        split([_labelled_image(128, 228)], 128)


# The run: the colour model (1x1 convolution) taught that blue is woodland here, from a class raster or polygons.

def _relabelled_scene(tmp_path):
    rng = np.random.default_rng(1)
    names = list(testkit.PALETTE)
    cells = rng.integers(0, 5, (24, 24))
    image = np.kron(np.array([testkit.PALETTE[names[v]] for v in cells.ravel()], np.uint8).reshape(24, 24, 3),
                    np.ones((16, 16, 1), np.uint8))
    truth = np.kron(np.where(cells == 3, 2, cells), np.ones((16, 16), int)).astype(np.uint8)   # water -> woodland
    raster = write_geotiff(tmp_path / "scene.tif", image, ORIGIN, RES, crs=2056)
    truth_path = write_geotiff(tmp_path / "truth.tif", truth, ORIGIN, RES, crs=2056)
    model = testkit.save_colour_model(tmp_path / "colours.keras", input_size=64, resolution_cm=50.0, fixed_size=True,
                                      sharpness=2.0)   # soft enough for Adam to move in a few epochs
    return raster, truth_path, model


def test_a_tiny_fine_tune_learns_the_analysts_classes_and_says_what_it_is(tmp_path):
    from landcover_qgis_plugin.core.modelfile import read_metadata
    from trainer import cli

    raster, truth, model = _relabelled_scene(tmp_path)
    out = tmp_path / "mine.keras"
    assert cli.main(["finetune", "--model", str(model), "--raster", str(raster), "--truth", str(truth),
                     "--out", str(out), "--onnx", str(out.with_suffix(".onnx")), "--epochs", "4",
                     "--learning-rate", "0.05", "--quiet"]) == 0
    scores = read_metadata(out).scores["finetune"]
    assert scores["after"]["miou"] > scores["before"]["miou"] + 0.1, scores
    assert scores["parent"]["name"] == "colour-model" and scores["labelled_ha"] == pytest.approx(384 * 384 * 0.25 / 1e4)
    assert read_metadata(out.with_suffix(".onnx")).scores == read_metadata(out).scores
    assert not (tmp_path / "mine.keras.finetune").exists()   # the work folder goes with success


def test_polygon_labels_fine_tune_end_to_end(tmp_path):
    from landcover_qgis_plugin.core.modelfile import read_metadata
    from trainer.finetune.command import finetune
    from trainer.finetune.labels import LabelSource
    from trainer.finetune.train import Settings

    raster, _, model = _relabelled_scene(tmp_path)
    cells = [(r, c) for r in range(24) for c in range(24)
             if (gdal_pixel(raster, c * 16 + 8, r * 16 + 8) == testkit.PALETTE["water"]).all()]
    blue = _polygons(tmp_path, [({"class": "woodland"}, _box(c * 16, r * 16, c * 16 + 16, r * 16 + 16))
                                for r, c in cells])   # the water the analyst calls woodland
    area = _polygons(tmp_path, [({}, _box(0, 0, 384, 384))], "area.geojson")
    result = finetune(model, [LabelSource(str(raster), polygons=blue, class_field="class", area=area)],
                      tmp_path / "mine.keras", settings=Settings(minutes=None, epochs=3, learning_rate=0.05))
    assert result.after["per_class_iou"]["woodland"] > result.before["per_class_iou"]["woodland"]
    assert read_metadata(tmp_path / "mine.keras").scores["finetune"]["labelled_pixels"]["background"] > 0


def gdal_pixel(raster, col, row):
    from osgeo import gdal
    return gdal.Open(str(raster)).ReadAsArray(col, row, 1, 1)[:, 0, 0]


def test_a_killed_fine_tune_goes_on_with_the_same_command(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from conftest import REPO
    from trainer.finetune.command import finetune
    from trainer.finetune.labels import LabelSource
    from trainer.finetune.train import Settings

    raster, truth, model = _relabelled_scene(tmp_path)
    out = tmp_path / "mine.keras"
    command = [sys.executable, "-m", "trainer", "finetune", "--model", str(model), "--raster", str(raster),
               "--truth", str(truth), "--out", str(out), "--epochs", "500", "--learning-rate", "0.001", "--quiet"]
    run = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    state = tmp_path / "mine.keras.finetune" / "state.json"
    deadline = time.monotonic() + 120
    while run.poll() is None and time.monotonic() < deadline:
        if state.is_file() and json.loads(state.read_text())["record"]["epochs"] >= 2:
            break
        time.sleep(0.1)
    os.kill(run.pid, signal.SIGKILL)
    run.communicate(timeout=60)
    done = json.loads(state.read_text())["record"]["epochs"]
    assert done >= 2 and not out.exists()
    heard = []
    result = finetune(model, [LabelSource(str(raster), truth=str(truth))], out,
                      settings=Settings(minutes=None, epochs=done + 1, learning_rate=0.001), report=heard.append)
    assert [progress.epoch for progress in heard] == [done + 1]   # one more epoch, from where it was killed
    assert result.epochs == done + 1 and out.exists()
