"""The MUNet GAN (trainer/models/gan.py): it learns where a broken balance does not, a collapse is
reported, and `fit --config munet_gan_tiny` trains, resumes with both optimizers, and exports a
generator that segments the sample through `predict`."""
import numpy as np
import pytest
from osgeo import ogr

from conftest import REPO
from trainer.config import ModelConfig
from trainer.models import build_model
from trainer.models.gan import CollapseWatch, SegmentationGAN, build_discriminator
from training_support import painted_tile, tiny_run_config

SAMPLE = str(REPO / "resources" / "sample" / "sample_orthophoto.tif")
ROAD = 4


def road_iou_after_training(gan_lambda: float) -> float:
    import keras

    from trainer.metrics import miou_metric

    keras.utils.set_random_seed(0)
    config = ModelConfig(architecture="munet", input_size=64, width=0.125)
    gan = SegmentationGAN(build_model(config), build_discriminator(config), gan_lambda)
    gan.compile(optimizer=keras.optimizers.Adam(3e-3), discriminator_optimizer=keras.optimizers.Adam(3e-3),
                loss="sparse_categorical_crossentropy", metrics=[miou_metric(5)])
    image, classes = painted_tile()
    history = gan.fit(np.repeat(image, 4, 0), np.repeat(classes, 4, 0), epochs=60, batch_size=4, verbose=0)
    assert {"discriminator_loss", "adversarial_loss", "foreground_ratio", "loss", "miou"} <= set(history.history)
    found = gan.predict(image, verbose=0).argmax(-1)
    return float(((found == ROAD) & (classes == ROAD)).sum() / ((found == ROAD) | (classes == ROAD)).sum())


def test_the_gan_learns_the_road_where_a_broken_balance_does_not():
    """60 steps on one painted tile. The bar, road IoU 0.5: a generator collapsed to background scores 0,
    and so, near enough, does one driven by the discriminator alone (lambda 0: measured 0.02); lambda 10
    reached 0.67."""
    assert road_iou_after_training(10.0) > 0.5
    assert road_iou_after_training(0.0) < 0.2


def test_a_collapse_to_background_is_reported(capsys):
    watch = CollapseWatch()
    watch.on_epoch_end(3, {"foreground_ratio": 0.004})
    assert "GAN collapse: in epoch 4 the generator drew 0.4%" in capsys.readouterr().err
    watch.on_epoch_end(4, {"foreground_ratio": 0.8})
    assert capsys.readouterr().err == ""


def test_fit_trains_resumes_and_exports_the_gan(tmp_path, capsys):
    import keras

    from trainer.cli import main
    from trainer.export import export_run
    from trainer.fit import fit

    config = tiny_run_config(tmp_path, "munet_gan_tiny", 2)

    class Interrupt(keras.callbacks.Callback):   # Ctrl-C in stage 1's second epoch, just after a backup
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if (self.epoch, batch) == (1, 2):
                raise KeyboardInterrupt

    class Restored(keras.callbacks.Callback):
        found = []

        def on_train_begin(self, logs=None):
            self.found.append((int(self.model.optimizer.iterations.numpy()),
                               int(self.model.discriminator_optimizer.iterations.numpy())))

    with pytest.raises(KeyboardInterrupt):
        fit(config, backup_every=3, callbacks=[Interrupt()], verbose=0)
    result = fit(config, backup_every=3, callbacks=[Restored()], verbose=0)
    assert "Resuming" in capsys.readouterr().out
    assert Restored.found[0] == (7, 7)          # both networks' optimizers back at the backup's step
    assert result.epochs == 3 and result.best_score is not None
    path, metadata = export_run(tmp_path / "run", tmp_path / "gan.keras")
    assert metadata.architecture["architecture"] == "munet"
    assert main(["predict", SAMPLE, "--model", str(path), "--out", str(tmp_path / "sample.gpkg"),
                 "--quiet"]) == 0
    assert (tmp_path / "sample.gpkg").stat().st_size > 0


def test_the_roads_only_gan_keeps_its_best_road_iou_and_exports_background_and_road(tmp_path):
    """munet_gan_roads' recipe (data.classes roads, train.monitor road_iou) on the tiny GAN: the masks are
    read as background/road, best weights follow val road IoU, and the model file and its scores are
    two-class."""
    import csv
    import json

    from trainer.cli import main
    from trainer.export import export_run
    from trainer.fit import fit

    roads = {"data.classes": "roads", "train.monitor": "road_iou"}
    config = tiny_run_config(tmp_path, "munet_gan_tiny", 2, **roads)
    assert config.model.num_classes == 2
    result = fit(config, verbose=0)
    assert result.monitor == "val_road_iou"
    with open(tmp_path / "run" / "history.csv") as handle:
        history = list(csv.DictReader(handle))
    road_scores = [float(row["val_road_iou"]) for row in history]
    assert result.best_score == pytest.approx(max(road_scores))
    best = history[result.best_epoch - 1]
    assert float(best["val_road_iou"]) == pytest.approx(result.best_score)
    assert main(["evaluate", "--run", str(tmp_path / "run"), "--split", "test", "--examples", "0"]) == 0
    metrics = json.loads((tmp_path / "run" / "evaluation" / "test" / "metrics.json").read_text())
    assert metrics["class_names"] == ["background", "road"] and len(metrics["confusion_matrix"]) == 2
    path, metadata = export_run(tmp_path / "run", tmp_path / "roads.keras")
    assert metadata.class_names == ["background", "road"]
    assert metadata.scores["fit_best_val_road_iou"] == pytest.approx(result.best_score)
    assert metadata.scores["test"]["per_class_iou"].keys() == {"background", "road"}
    assert main(["predict", SAMPLE, "--model", str(path), "--out", str(tmp_path / "roads.gpkg"), "--quiet"]) == 0
    vectors = ogr.Open(str(tmp_path / "roads.gpkg"))
    assert [vectors.GetLayer(i).GetName() for i in range(vectors.GetLayerCount())] == ["road"]
