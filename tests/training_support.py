"""Small training set-ups shared by the MUNet and GAN tests (plain helpers)."""
import numpy as np

import testkit
from landcover_qgis_plugin.core.modelfile import LANDCOVER_AI_CLASSES

SHAPES = [("woodland", 0, 30, 0, 40), ("road", 30, 36, 0, 64), ("building", 40, 60, 10, 30),
          ("water", 40, 64, 40, 64)]


def painted_tile():
    """One 64 px painted tile, normalised (1, 64, 64, 3), and its classes (1, 64, 64)."""
    image = testkit.paint(64, 64, SHAPES).astype(np.float32)[np.newaxis] / 255.0
    names = [c.name for c in LANDCOVER_AI_CLASSES]
    classes = np.zeros((1, 64, 64), np.int64)
    for name, r0, r1, c0, c1 in SHAPES:
        classes[0, r0:r1, c0:c1] = names.index(name)
    return image, classes


def tiny_run_config(tmp_path, name: str, first_stage_epochs: int, **settings):
    """Bundled config `name` on freshly prepared 64 px synthetic tiles: 4 steps an epoch, two short stages;
    `settings` are further overrides, as `{"data.classes": "roads"}`."""
    from trainer.config import load_config
    from trainer.data.landcoverai import prepare
    from trainer.data.synth import write_dataset

    synth = write_dataset(tmp_path / "synth", seed=4, images=2, size=256, tile_size=64)
    prepare(str(synth), tmp_path / "tiles", tile_size=64)
    stages = [{"learning_rate": 3e-3, "epochs": first_stage_epochs, "patience": first_stage_epochs, "freeze": None},
              {"learning_rate": 3e-4, "epochs": 1, "patience": 1, "freeze": None, "reload_best": True}]
    return load_config(name, {"data.root": str(tmp_path / "tiles"), "data.tile_size": 64, "model.input_size": 64,
                              "train.steps_per_epoch": 4, "output_dir": str(tmp_path / "run"),
                              "train.stages": stages, **settings})
