"""The committed ground truth of the shared real orthophotos (bench/ground_truth): rebuilt exactly from its
hand-drawn labels by tools/make_ground_truth.py, on the images' grids, and scored through bench.real."""
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO
from osgeo import gdal

from landcover_qgis_plugin.core.modelfile import LANDCOVER_AI_CLASSES

sys.path.insert(0, str(REPO / "tools"))
import make_ground_truth  # noqa: E402

from bench.real import GROUND_TRUTH, model_label, score_models, truth_pairs  # noqa: E402
TRUTHS = sorted(GROUND_TRUTH.glob("*.truth.tif"))
# The bundled model of commit 8e2880f (24 countryside scenes), per class present in each truth.
SCORES_BEFORE_ISSUE_12 = {
    "swissimage_1091-322_00": {"background": 0.394, "building": 0.120, "woodland": 0.149, "road": 0.012},
    "swissimage_ref-img": {"background": 0.196, "building": 0.085, "woodland": 0.110, "water": 0.751, "road": 0.097},
}


def read(path):
    dataset = gdal.Open(str(path))
    return dataset.ReadAsArray(), dataset.GetGeoTransform(), dataset.GetProjection()


@pytest.mark.parametrize("truth", TRUTHS, ids=lambda path: path.name)
def test_each_truth_is_rebuilt_from_its_labels_on_its_image_grid(truth, tmp_path, shared_data):
    image = shared_data / truth.name.replace(".truth.tif", ".tif")
    labels = truth.with_name(truth.name.replace(".truth.tif", ".labels.geojson"))
    assert make_ground_truth.main([str(image), str(labels), str(tmp_path / "rebuilt.tif")]) == 0
    committed, transform, projection = read(truth)
    rebuilt, _, _ = read(tmp_path / "rebuilt.tif")
    np.testing.assert_array_equal(rebuilt, committed)
    pixels, image_transform, image_projection = read(image)
    assert committed.shape == pixels.shape[1:] and transform == image_transform and projection == image_projection
    assert set(np.unique(committed)) <= {c.value for c in LANDCOVER_AI_CLASSES}
    shares = np.bincount(committed.ravel(), minlength=5) / committed.size
    assert shares[1] > 0.02 and shares[4] > 0.02          # every truth has buildings and roads drawn


def test_the_bundled_model_is_scored_on_every_truth(tmp_path, shared_data):
    pairs = truth_pairs()
    assert [truth for _, truth in pairs] == TRUTHS
    scores = score_models([REPO / "resources" / "models" / "default.keras"], pairs)["default.keras"]
    for image, truth in pairs:
        metrics = scores[image.stem]
        labels, transform, _ = read(truth)     # scored on the engine's grid: the model's 25 cm, 4 px per truth px
        per_truth_pixel = round((transform[1] / metrics["pixel_size_m"]) ** 2)
        assert per_truth_pixel == 4 and metrics["pixels"] == labels.size * per_truth_pixel
        counts = np.bincount(labels.ravel(), minlength=5) * per_truth_pixel
        assert list(metrics["truth_pixels_per_class"].values()) == counts.tolist()
    for image, before in SCORES_BEFORE_ISSUE_12.items():     # the retrained model is better on every class there
        now = scores[image]["per_class_iou"]
        assert all(now[name] > iou for name, iou in before.items()), (image, now)


def test_the_real_check_is_recorded_in_a_model_file_and_its_onnx_copy(tmp_path, shared_data):
    """What the model panel shows as the real check: written into both files, their networks untouched."""
    import shutil
    import zipfile

    import onnx

    from bench.real import DEFAULT_MODEL, main
    from landcover_qgis_plugin.core.modelfile import METADATA_MEMBER, read_metadata

    model = tmp_path / "default.keras"
    shutil.copy(DEFAULT_MODEL, model)
    shutil.copy(DEFAULT_MODEL.with_suffix(".onnx"), model.with_suffix(".onnx"))
    assert all("real_check" in read_metadata(path).scores for path in (model, model.with_suffix(".onnx")))   # shipped
    assert main(["--model", str(model), "--record", "--out", str(tmp_path / "results")]) == 0
    for path in (model, model.with_suffix(".onnx")):
        check = read_metadata(path).scores["real_check"]
        assert check["images"]["a housing estate"]["miou"] == pytest.approx(0.213, abs=0.002)
        assert "water" not in check["images"]["a housing estate"]["per_class_iou"]   # not in that truth
        assert check["truth"].startswith("two SWISSIMAGE orthophotos")
    with zipfile.ZipFile(DEFAULT_MODEL) as before, zipfile.ZipFile(model) as after:
        assert {name: before.read(name) for name in before.namelist() if name != METADATA_MEMBER} == \
               {name: after.read(name) for name in after.namelist() if name != METADATA_MEMBER}
    assert onnx.load(str(model.with_suffix(".onnx"))).graph == onnx.load(str(DEFAULT_MODEL.with_suffix(".onnx"))).graph


def test_models_sharing_a_file_name_are_told_apart_by_their_paths():
    before, after = Path("before/default.keras"), Path("resources/models/default.keras")
    assert model_label(after, [before, after]) == str(after) and model_label(before, [before]) == "default.keras"
