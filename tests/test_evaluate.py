"""`python -m trainer evaluate` on a real tile folder with a model whose answer is known in advance.

The model is a 1x1 convolution that gives each pixel the class of the nearest palette colour,
so painting a tile in 16 px blocks of palette colours (JPEG keeps them: blocks align with its
8 px DCT blocks and 2x2 chroma subsampling) fixes the prediction, and the confusion matrix
can be worked out by hand.
"""
import hashlib
import json

import keras
import numpy as np
import pytest
from osgeo import gdal

from landcover_qgis_plugin.core.modelfile import LANDCOVER_AI_CLASSES, Normalization, metadata_for, save_model
from trainer.cli import main
from trainer.evaluate import ExtremeTiles

TILE = 32
# Palette colour per predicted class; far apart, and not symmetric about mid-grey, so feeding the
# model x/255 where it expects [-1, 1] would change its answers.
PALETTE = np.array([(60, 60, 60), (200, 40, 40), (40, 160, 40), (40, 40, 200), (230, 230, 230)], np.uint8)
NORMALIZATION = Normalization.symmetric()


def colour_model(tile: int = TILE) -> keras.Model:
    """argmax of logits_k = 2·c_k·x − |c_k|² is the nearest palette colour c_k in the model's input space."""
    centres = NORMALIZATION.apply(PALETTE)
    inputs = keras.Input((tile, tile, 3))
    conv = keras.layers.Conv2D(len(PALETTE), 1)
    outputs = keras.layers.Activation("softmax", dtype="float32")(conv(inputs))
    model = keras.Model(inputs, outputs)
    conv.set_weights([10.0 * 2 * centres.T[None, None], -10.0 * (centres ** 2).sum(axis=1)])
    return model


def halves(left, right):
    tile = np.empty((TILE, TILE), np.uint8)
    tile[:, :TILE // 2], tile[:, TILE // 2:] = left, right
    return tile


def quarters(top, bottom_left, bottom_right):
    tile = np.full((TILE, TILE), top, np.uint8)
    tile[TILE // 2:, :TILE // 2], tile[TILE // 2:, TILE // 2:] = bottom_left, bottom_right
    return tile


# id: (truth, predicted class map painted into the image)
TILES = {
    "scene_0": (np.full((TILE, TILE), 2), np.full((TILE, TILE), 2)),   # all woodland, right: tile mIoU 1
    "scene_1": (halves(0, 3), np.full((TILE, TILE), 0)),               # IoU0 1/2, IoU3 0: 0.25
    "scene_2": (np.full((TILE, TILE), 1), np.full((TILE, TILE), 4)),   # building called road: 0
    "scene_3": (quarters(1, 3, 2), quarters(1, 3, 3)),                 # IoU1 1, IoU3 1/2, IoU2 0: 0.5
}
TILE_MIOU = {"scene_0": 1.0, "scene_1": 0.25, "scene_2": 0.0, "scene_3": 0.5}
# Summed over the four tiles (rows truth, columns prediction), in pixels:
EXPECTED_CM = np.zeros((5, 5), np.int64)
for (row, column), pixels in {(0, 0): 512, (3, 0): 512, (2, 2): 1024, (1, 4): 1024, (1, 1): 512,
                              (3, 3): 256, (2, 3): 256}.items():
    EXPECTED_CM[row, column] = pixels
# IoU = TP / (truth + predicted − TP): 512/1024, 512/1536, 1024/1280, 256/1024, 0/1024
EXPECTED_IOU = {"background": 0.5, "building": 1 / 3, "woodland": 0.8, "water": 0.25, "road": 0.0}
EXPECTED_MIOU = (0.5 + 1 / 3 + 0.8 + 0.25 + 0.0) / 5


def write_png_or_jpeg(path, array, driver, options=()):
    bands = 1 if array.ndim == 2 else array.shape[2]
    memory = gdal.GetDriverByName("MEM").Create("", array.shape[1], array.shape[0], bands, gdal.GDT_Byte)
    for band in range(bands):
        memory.GetRasterBand(band + 1).WriteArray(array if bands == 1 else array[:, :, band])
    gdal.GetDriverByName(driver).CreateCopy(str(path), memory, options=list(options))
    memory = None


@pytest.fixture(scope="module")
def tiles_root(tmp_path_factory):
    """A prepared-tiles folder as `python -m trainer data` writes it: output/{id}.jpg, output/{id}_m.png, lists."""
    root = tmp_path_factory.mktemp("tiles")
    (root / "output").mkdir()
    for tile_id, (truth, predicted) in TILES.items():
        write_png_or_jpeg(root / "output" / f"{tile_id}.jpg", PALETTE[predicted], "JPEG", ["QUALITY=95"])
        write_png_or_jpeg(root / "output" / f"{tile_id}_m.png", truth.astype(np.uint8), "PNG")
    (root / "test.txt").write_text("".join(f"{tile_id}\n" for tile_id in TILES))
    (root / "train.txt").write_text("scene_0\n")
    (root / "val.txt").write_text("scene_1\n")
    return root


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "colour.keras"
    metadata = metadata_for(LANDCOVER_AI_CLASSES, input_size=TILE, resolution_cm=25.0,
                            normalization=NORMALIZATION, name="colour-test")
    return save_model(colour_model(), metadata, path)


@pytest.fixture(scope="module")
def evaluated(tiles_root, model_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("evaluation")
    code = main(["evaluate", "--model", str(model_file), "--data", str(tiles_root), "--out", str(out),
                 "--batch-size", "3", "--examples", "2"])
    assert code == 0
    return out


def test_metrics_json_holds_the_hand_computed_scores_and_provenance(evaluated, tiles_root, model_file):
    metrics = json.loads((evaluated / "metrics.json").read_text())
    assert metrics["split"] == "test" and metrics["tiles"] == 4
    np.testing.assert_array_equal(metrics["confusion_matrix"], EXPECTED_CM)
    assert metrics["miou"] == pytest.approx(EXPECTED_MIOU, abs=1e-6)
    assert metrics["per_class_iou"] == pytest.approx(EXPECTED_IOU, abs=1e-6)
    assert list(metrics["per_class_iou"]) == [c.name for c in LANDCOVER_AI_CLASSES]
    assert metrics["model"]["path"] == str(model_file.resolve())
    assert metrics["model"]["sha256"] == hashlib.sha256(model_file.read_bytes()).hexdigest()
    assert metrics["model"]["name"] == "colour-test"
    assert metrics["data"]["root"] == str(tiles_root.resolve())
    assert metrics["data"]["normalization"] == {"mean": [0.5] * 3, "std": [0.5] * 3}
    assert metrics["reference_5_10"]["per_class_iou"]["road"] == 0.497


def test_figures_are_real_images(evaluated):
    names = sorted(p.name for p in evaluated.glob("*.png"))
    # Best first and worst first, each named by its tile mIoU and id.
    assert names == ["best_1_miou1.000_scene_0.png", "best_2_miou0.500_scene_3.png", "confusion_matrix.png",
                     "per_class_iou.png", "worst_1_miou0.000_scene_2.png", "worst_2_miou0.250_scene_1.png"]
    for name in names:
        image = gdal.Open(str(evaluated / name))
        pixels = image.ReadAsArray()
        assert image.RasterXSize >= 400 and image.RasterYSize >= 300, name
        assert pixels.std() > 10, f"{name} is blank"
        image = None


def test_tile_panel_draws_input_truth_and_prediction_in_class_colours(evaluated):
    image = gdal.Open(str(evaluated / "worst_1_miou0.000_scene_2.png"))
    pixels = image.ReadAsArray()[:3].reshape(3, -1).T
    image = None
    colours = {tuple(int(v) for v in row) for row in np.unique(pixels, axis=0)}
    # The truth panel is all building, the prediction all road, the input the palette's light grey
    # (denormalised from [-1, 1] back to 0..255, give or take JPEG).
    assert LANDCOVER_AI_CLASSES[1].rgb in colours and LANDCOVER_AI_CLASSES[4].rgb in colours
    assert any(max(abs(c - 230) for c in colour) <= 3 for colour in colours)


def test_review_list_ranks_tiles_below_the_threshold_and_the_pipeline_reads_it(evaluated, tiles_root):
    from trainer.data.pipeline import read_split_ids

    lines = (evaluated / "lowest_iou_tiles.txt").read_text().splitlines()
    assert lines[0].startswith("#") and lines[1] == "# id\tmiou"
    assert lines[2:] == ["scene_2\t0.0000"]  # scene_1 scores exactly 0.25: not below the threshold
    kept = read_split_ids(tiles_root, "test", exclude_list=evaluated / "lowest_iou_tiles.txt")
    assert kept == ["scene_0", "scene_1", "scene_3"]


def test_summary_is_printed_and_a_rerun_replaces_old_examples(tiles_root, model_file, tmp_path, capsys):
    out = tmp_path / "evaluation"
    common = ["evaluate", "--model", str(model_file), "--data", str(tiles_root), "--out", str(out)]
    assert main(common + ["--examples", "2", "--review-threshold", "0.6"]) == 0
    printed = capsys.readouterr().out
    assert f"mIoU {EXPECTED_MIOU:.4f}" in printed and "woodland        0.8000" in printed
    lines = (out / "lowest_iou_tiles.txt").read_text().splitlines()[2:]
    assert lines == ["scene_2\t0.0000", "scene_1\t0.2500", "scene_3\t0.5000"]
    assert main(common + ["--examples", "1"]) == 0
    assert sorted(p.name for p in out.glob("*_miou*.png")) == ["best_1_miou1.000_scene_0.png",
                                                                "worst_1_miou0.000_scene_2.png"]


def test_run_folder_gives_model_data_root_and_normalisation(tiles_root, tmp_path):
    """A run folder: the network rebuilt from config.yaml with its best weights, tiles from data.root."""
    import yaml

    from trainer.config import RunConfig
    from trainer.models import build_model
    from trainer.runs import RunPaths

    config = RunConfig(name="tiny-eval")
    config.data.root, config.data.tile_size = str(tiles_root), TILE
    config.model.input_size, config.model.width, config.model.middle_units = TILE, 0.125, 1
    paths = RunPaths(tmp_path / "run")
    paths.root.mkdir()
    paths.config.write_text(yaml.safe_dump(config.to_dict()))
    build_model(config.model).save_weights(paths.best_weights)
    assert main(["evaluate", "--run", str(paths.root), "--examples", "0"]) == 0
    metrics = json.loads((paths.evaluation / "test" / "metrics.json").read_text())
    assert metrics["model"]["kind"] == "run" and metrics["model"]["config"] == "tiny-eval"
    assert metrics["model"]["weights_sha256"] == hashlib.sha256(paths.best_weights.read_bytes()).hexdigest()
    assert metrics["data"]["root"] == str(tiles_root.resolve())
    assert metrics["data"]["normalization"] == {"mean": [0.0] * 3, "std": [1.0] * 3}  # config: unit
    # Whatever the untrained network predicts, each row of the matrix holds that class's true pixels.
    np.testing.assert_array_equal(np.sum(metrics["confusion_matrix"], axis=1), EXPECTED_CM.sum(axis=1))
    assert not list((paths.evaluation / "test").glob("*_miou*.png"))  # --examples 0


def test_user_errors_are_one_clear_line(tiles_root, model_file, tmp_path, capsys):
    assert main(["evaluate", "--model", str(model_file), "--data", str(tmp_path / "nowhere")]) == 2
    assert "Data folder" in capsys.readouterr().err
    assert main(["evaluate", "--model", str(tmp_path / "missing.keras"), "--data", str(tiles_root)]) == 2
    assert "does not exist" in capsys.readouterr().err
    bigger = tmp_path / "bigger.keras"
    save_model(colour_model(64), metadata_for(input_size=64, resolution_cm=25.0, normalization=NORMALIZATION),
               bigger)
    assert main(["evaluate", "--model", str(bigger), "--data", str(tiles_root), "--out", str(tmp_path)]) == 2
    assert "takes 64x64 px tiles but the data has 32x32" in capsys.readouterr().err


def test_extreme_tiles_keep_k_best_and_worst_and_earlier_tiles_win_ties():
    extremes = ExtremeTiles(2)
    blank = np.zeros((2, 2), np.uint8)
    rendered = []
    for tile_id, score in [("a", 0.5), ("b", 0.9), ("c", 0.1), ("d", 0.9), ("e", 0.3), ("f", 0.5)]:
        extremes.offer(tile_id, score, lambda: rendered.append(tile_id) or blank, blank, blank)
    assert [t.tile_id for t in extremes.best] == ["b", "d"]
    assert [t.tile_id for t in extremes.worst] == ["c", "e"]
    assert "f" not in rendered  # a tile that makes neither list is never rendered


def test_the_score_without_curated_tiles_sums_only_the_other_tiles(tiles_root, model_file, tmp_path, capsys):
    from trainer.metrics import iou_from_confusion

    curated = tmp_path / "curated.txt"
    curated.write_text("scene_2\nnot_in_this_split\n")
    out = tmp_path / "evaluation"
    assert main(["evaluate", "--model", str(model_file), "--data", str(tiles_root), "--out", str(out),
                 "--curated", str(curated), "--examples", "0"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["tiles"] == 4 and metrics["miou"] == pytest.approx(EXPECTED_MIOU, abs=1e-6)   # all tiles
    without = metrics["without_curated"]
    assert (without["tiles"], without["left_out"], without["left_out_tiles"]) == (3, 1, ["scene_2"])
    # scene_2 (all building, predicted road) is the worst tile: without it the score rises
    kept = EXPECTED_CM.copy()
    kept[1, 4] -= TILE * TILE   # scene_2's pixels
    assert without["miou"] == pytest.approx(iou_from_confusion(kept)[0], abs=1e-6) and without["miou"] > EXPECTED_MIOU
    assert f"without the 1 curated low-quality tiles: 3 tiles, mIoU {without['miou']:.4f}" in capsys.readouterr().out
    # by default the reference's list, none of whose tiles are in this synthetic split: no second score
    assert main(["evaluate", "--model", str(model_file), "--data", str(tiles_root), "--out", str(out),
                 "--examples", "0"]) == 0
    assert json.loads((out / "metrics.json").read_text())["without_curated"] is None


def test_the_reference_curated_list_is_bundled_and_runs_can_name_it(tmp_path, shared_data):
    from trainer.config import load_config
    from trainer.data.curation import REFERENCE_LIST, reference_tiles
    from trainer.data.pipeline import read_split_ids

    assert [len(reference_tiles(split)) for split in ("train", "val", "test")] == [115, 35, 31]
    shared = [line.split("\t")[::-1] for line in (shared_data / "seed_low_quality_tiles.tsv").read_text().splitlines()
              if line and not line.startswith("#")]
    bundled = [line.split("\t") for line in REFERENCE_LIST.read_text().splitlines() if not line.startswith("#")]
    assert bundled == shared   # the reference's list, id first
    assert load_config("run_5_10_curated").data.exclude_list == "reference"
    root = tmp_path / "tiles"
    (root / "output").mkdir(parents=True)
    ids = [reference_tiles("train")[0], "M-33-00-A-a-1-1_0"]
    for tile in ids:
        (root / "output" / f"{tile}.jpg").write_bytes(b"")
        (root / "output" / f"{tile}_m.png").write_bytes(b"")
    (root / "train.txt").write_text("\n".join(ids) + "\n")
    assert read_split_ids(root, "train", exclude_list="reference") == ["M-33-00-A-a-1-1_0"]


def test_a_model_is_scored_on_an_image_and_its_truth_in_another_crs(tmp_path, capsys):
    import testkit
    from landcover_qgis_plugin.core.geotiff import write_geotiff

    shapes = [("building", 20, 60, 30, 90), ("woodland", 100, 150, 10, 120), ("water", 150, 190, 150, 250),
              ("road", 0, 200, 130, 140)]
    origin, resolution = (500_000.0, 600_000.0), 0.5
    image = write_geotiff(tmp_path / "image.tif", testkit.paint(200, 260, shapes), origin, resolution)
    codes = {c.name: c.value for c in LANDCOVER_AI_CLASSES}
    truth = np.zeros((200, 260), np.uint8)
    for name, r0, r1, c0, c1 in shapes:
        truth[r0:r1, c0:c1] = codes[name]
    model = testkit.save_colour_model(tmp_path / "colour.keras", input_size=64)
    exact = write_geotiff(tmp_path / "truth.tif", truth, origin, resolution)
    assert main(["evaluate", "--model", str(model), "--raster", str(image), "--truth", str(exact),
                 "--out", str(tmp_path / "exact")]) == 0
    metrics = json.loads((tmp_path / "exact" / "metrics.json").read_text())
    assert metrics["miou"] == 1.0 and metrics["pixels"] == 200 * 260
    assert "mIoU 1.0000" in capsys.readouterr().out
    # The same truth with the building labelled road: building IoU 0, road IoU road / (road + building)
    wrong = truth.copy()
    wrong[wrong == codes["building"]] = codes["road"]
    write_geotiff(tmp_path / "wrong.tif", wrong, origin, resolution)
    assert main(["evaluate", "--model", str(model), "--raster", str(image), "--truth", str(tmp_path / "wrong.tif"),
                 "--out", str(tmp_path / "wrong")]) == 0
    metrics = json.loads((tmp_path / "wrong" / "metrics.json").read_text())
    road, building = (truth == codes["road"]).sum(), (truth == codes["building"]).sum()
    assert metrics["per_class_iou"]["building"] == 0.0
    assert metrics["per_class_iou"]["road"] == pytest.approx(road / (road + building), abs=1e-6)
    # Truth in Web Mercator at another resolution is put on the image's grid (nearest): edges only differ
    mercator = tmp_path / "truth_3857.tif"
    gdal.Warp(str(mercator), str(exact), dstSRS="EPSG:3857", xRes=0.6, yRes=0.6, resampleAlg="near", dstNodata=255)
    assert main(["evaluate", "--model", str(model), "--raster", str(image), "--truth", str(mercator),
                 "--out", str(tmp_path / "mercator")]) == 0
    assert json.loads((tmp_path / "mercator" / "metrics.json").read_text())["miou"] > 0.85
    assert main(["evaluate", "--model", str(model), "--raster", str(image)]) == 2
    assert "takes --model FILE, --raster IMAGE and --truth MASK together" in capsys.readouterr().err
