"""MUNet (trainer/models/munet.py), the GAN's generator: its layout, that it learns, and that its model
file runs in the engine like any other (standard layers only)."""
import numpy as np
import pytest

import testkit
from landcover_qgis_plugin.core.errors import InputError
from landcover_qgis_plugin.core.modelfile import LANDCOVER_AI_CLASSES, ModelMetadata, save_model
from trainer.config import ModelConfig
from trainer.models import build_model
from training_support import painted_tile, tiny_run_config

SMALL = dict(architecture="munet", input_size=64, width=0.125)


def test_munet_halves_five_times_and_gives_class_probabilities():
    model = build_model(ModelConfig(**SMALL))
    names = {layer.name for layer in model.layers}
    assert {"encoder1_conv", "encoder4_conv", "bottleneck_conv", "decoder4_deconv", "decoder1_skip"} <= names
    assert model.get_layer("bottleneck_conv").output.shape[1:3] == (2, 2)     # 64 / 32
    assert "encoder1_bn" not in names and "decoder4_dropout" in names and "decoder2_dropout" not in names
    probabilities = model.predict(np.random.default_rng(0).random((2, 64, 64, 3), np.float32), verbose=0)
    assert probabilities.shape == (2, 64, 64, 5)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-5)
    assert all(type(layer).__module__.startswith("keras.src.layers") for layer in model.layers)
    with pytest.raises(InputError, match="multiple of 32"):
        build_model(ModelConfig(**dict(SMALL, input_size=80)))


def test_munet_learns_a_painted_scene():
    """A few dozen steps on one painted tile take its pixel accuracy well above the majority class's."""
    import keras

    keras.utils.set_random_seed(0)
    image, classes = painted_tile()
    model = build_model(ModelConfig(**SMALL))
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    model.fit(np.repeat(image, 4, 0), np.repeat(classes, 4, 0), epochs=60, batch_size=4, verbose=0)
    found = model.predict(image, verbose=0).argmax(-1)
    majority = np.bincount(classes.ravel()).max() / classes.size
    assert (found == classes).mean() > max(0.9, majority + 0.3)


def test_a_munet_model_file_segments_a_raster_in_the_engine(tmp_path):
    from landcover_qgis_plugin.core.engine import segment
    from landcover_qgis_plugin.core.geotiff import write_geotiff

    model = build_model(ModelConfig(**SMALL))
    metadata = ModelMetadata(classes=LANDCOVER_AI_CLASSES, input_size=64, resolution_cm=50.0, name="munet-test",
                             architecture={"architecture": "munet", "width": 0.125})
    path = save_model(model, metadata, tmp_path / "munet.keras")
    raster = write_geotiff(tmp_path / "scene.tif", testkit.paint(150, 130, [("water", 10, 60, 10, 60)]),
                           (500_000.0, 600_000.0), 0.5)
    result = segment(str(raster), str(path), str(tmp_path / "out.gpkg"), str(tmp_path / "out.tif"))
    assert result.tiles > 0 and sum(result.area_ha.values()) == pytest.approx(150 * 130 * 0.25 / 10_000, rel=0.01)
    assert (tmp_path / "out.gpkg").is_file()


def test_fit_trains_the_munet_config_and_export_writes_a_model_file_that_says_so(tmp_path):
    """`fit --config munet_tiny` runs the usual two stages (best weights, state) and `export` writes MUNet
    with its architecture in the metadata, as an ONNX copy too."""
    from trainer.export import export_run
    from trainer.fit import fit

    config = tiny_run_config(tmp_path, "munet_tiny", 1)
    result = fit(config, verbose=0)
    assert result.epochs == 2 and result.best_score is not None
    path, metadata = export_run(tmp_path / "run", tmp_path / "munet.keras", onnx=tmp_path / "munet.onnx")
    assert metadata.architecture["architecture"] == "munet" and metadata.input_size == 64
    assert (tmp_path / "munet.onnx").stat().st_size > 0
