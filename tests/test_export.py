"""Export writes one self-describing model file (and ONNX) that loads back to the same predictions."""
import dataclasses
import json
import zipfile

import numpy as np
import pytest
import yaml

from landcover_qgis_plugin.core.errors import InputError, OutputExistsError
from landcover_qgis_plugin.core.modelfile import (
    LANDCOVER_AI_CLASSES, METADATA_MEMBER, ModelFileError, load_model, read_metadata, save_model, metadata_for)
from trainer.config import RunConfig, ModelConfig, DataConfig
from trainer.export import build_metadata, export_run
from trainer.runs import RunPaths


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A run folder as `fit` leaves it: resolved config, best weights, state and one evaluation."""
    from trainer.models import build_model

    root = tmp_path_factory.mktemp("run")
    config = RunConfig(name="tiny-export", output_dir=str(root),
                       data=DataConfig(root="data/tiny", tile_size=64, normalization="symmetric"),
                       model=ModelConfig(input_size=64, width=0.125, middle_units=1))
    paths = RunPaths(root)
    paths.config.write_text(yaml.safe_dump(config.to_dict()))
    model = build_model(config.model)
    model.save_weights(paths.best_weights)
    paths.state.write_text(json.dumps({"best_miou": 0.61, "stages": []}))
    (paths.evaluation / "val").mkdir(parents=True)
    (paths.evaluation / "val" / "metrics.json").write_text(json.dumps(
        {"split": "val", "miou": 0.6, "tiles": 3, "per_class_iou": {"background": 0.9}}))
    return root, model


def test_export_round_trip_gives_identical_predictions(run_dir, tmp_path):
    root, model = run_dir
    target, metadata = export_run(root, tmp_path / "model.keras", resolution_cm=50.0, licence="CC0-1.0")
    loaded, read_back = load_model(target)
    x = np.random.default_rng(0).normal(size=(2, 64, 64, 3)).astype(np.float32)
    np.testing.assert_array_equal(model.predict_on_batch(x), loaded.predict_on_batch(x))
    assert read_back == metadata
    assert read_back.class_names == ["background", "building", "woodland", "water", "road"]
    assert read_back.input_size == 64 and read_back.resolution_cm == 50.0
    assert read_back.normalization.mean == (0.5, 0.5, 0.5)
    assert read_back.scores["fit_best_val_miou"] == 0.61 and read_back.scores["val"]["miou"] == 0.6
    assert read_back.architecture["width"] == 0.125
    assert "tiny-export" in read_back.training_data and read_back.licence == "CC0-1.0"
    # Its metadata alone can be replaced, the network kept bit for bit (bench.real --record does).
    from landcover_qgis_plugin.core.modelfile import update_metadata
    update_metadata(target, dataclasses.replace(read_back, description="now described"))
    again, described = load_model(target)
    assert described.description == "now described" and described.scores == read_back.scores
    np.testing.assert_array_equal(loaded.predict_on_batch(x), again.predict_on_batch(x))


def test_export_keeps_an_existing_file_unless_told(run_dir, tmp_path):
    root, _ = run_dir
    target = tmp_path / "model.keras"
    target.write_bytes(b"precious")
    with pytest.raises(OutputExistsError, match="already exists"):
        export_run(root, target)
    assert target.read_bytes() == b"precious"
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left behind
    export_run(root, target, overwrite=True)
    assert read_metadata(target).input_size == 64


def test_export_refuses_a_run_whose_classes_it_cannot_name(tmp_path):
    config = RunConfig(model=ModelConfig(num_classes=3))
    with pytest.raises(InputError, match="has 3 classes but its data.classes 'landcover' names 5"):
        build_metadata(config, RunPaths(tmp_path), resolution_cm=25.0)


def test_a_roads_run_exports_background_and_road_with_their_colours(tmp_path):
    config = RunConfig(data=DataConfig(classes="roads"), model=ModelConfig(num_classes=2))
    metadata = build_metadata(config, RunPaths(tmp_path), resolution_cm=25.0)
    road = next(info for info in LANDCOVER_AI_CLASSES if info.name == "road")
    assert [(c.value, c.name) for c in metadata.classes] == [(0, "background"), (1, "road")]
    assert metadata.classes[1].color == road.color and "classes background/road" in metadata.training_data


def test_onnx_export_matches_keras_and_carries_deepness_metadata(run_dir, tmp_path):
    import onnx
    import onnxruntime

    root, model = run_dir
    _, metadata = export_run(root, tmp_path / "m.keras", onnx=tmp_path / "m.onnx")
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"))
    meta = session.get_modelmeta().custom_metadata_map
    assert json.loads(meta["model_type"]) == "Segmentor"
    assert json.loads(meta["class_names"]) == {"0": "background", "1": "building", "2": "woodland",
                                               "3": "water", "4": "road"}
    assert json.loads(meta["resolution"]) == 25.0 and json.loads(meta["tile_size"]) == 64
    assert json.loads(meta["standardization_mean"]) == [0.5, 0.5, 0.5]
    x = np.random.default_rng(1).uniform(size=(2, 64, 64, 3)).astype(np.float32)
    nchw = session.run(None, {session.get_inputs()[0].name: x.transpose(0, 3, 1, 2)})[0]
    assert nchw.shape == (2, 5, 64, 64)
    np.testing.assert_allclose(nchw.transpose(0, 2, 3, 1), model.predict_on_batch(x), atol=1e-4)
    # the channel softmax is written as element-wise operations (core/onnxgraph.py)
    assert "Softmax" not in {node.op_type for node in onnx.load(str(tmp_path / "m.onnx")).graph.node}


def _tiny_keras_file(path):
    import keras

    inputs = keras.Input((32, 32, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(5, 1, activation="softmax")(inputs))
    model.save(path)
    return model


def test_model_file_errors_name_the_file_and_the_fix(tmp_path):
    missing = tmp_path / "missing.keras"
    with pytest.raises(ModelFileError, match="does not exist"):
        read_metadata(missing)
    corrupt = tmp_path / "corrupt.keras"
    corrupt.write_bytes(b"not a zip at all")
    with pytest.raises(ModelFileError, match="corrupt"):
        load_model(corrupt)
    plain = tmp_path / "plain.keras"
    _tiny_keras_file(plain)
    with pytest.raises(ModelFileError, match="no landcover metadata"):
        load_model(plain)
    wrong = tmp_path / "wrong.keras"
    save_model(_tiny_keras_file(tmp_path / "x.keras"), metadata_for(input_size=32, resolution_cm=25.0), wrong)
    with zipfile.ZipFile(wrong) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    data = json.loads(members[METADATA_MEMBER])
    data["classes"] = data["classes"][:3]  # three names for a five-class network
    members[METADATA_MEMBER] = json.dumps(data).encode()
    with zipfile.ZipFile(wrong, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    with pytest.raises(ModelFileError, match="outputs 5 classes but its metadata lists 3"):
        load_model(wrong)
    data["schema_version"] = 99
    with pytest.raises(ModelFileError, match="newer than this plugin"):
        from landcover_qgis_plugin.core.modelfile import ModelMetadata
        ModelMetadata.from_dict(data)
