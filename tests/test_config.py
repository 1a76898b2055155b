"""Run configs: bases, merging, refused keys, and the bundled configs' resolved values."""
import json
from pathlib import Path

import pytest

from landcover_qgis_plugin.core.errors import InputError
from trainer.config import CONFIG_DIR, load_config

# Every bundled config as it resolved before the configs stated only what differs from a base.
RESOLVED = json.loads((Path(__file__).parent / "fixtures" / "resolved_configs.json").read_text())


@pytest.mark.parametrize("name", sorted(RESOLVED))
def test_bundled_configs_resolve_to_their_recorded_values(name):
    assert load_config(name).to_dict() == RESOLVED[name]


def test_every_bundled_config_is_recorded():
    assert sorted(path.stem for path in CONFIG_DIR.glob("*.yaml")) == sorted(RESOLVED)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


def test_a_file_states_only_what_differs_from_its_base(tmp_path):
    write(tmp_path, "parent", "base: run_5_8\nname: parent\noutput_dir: elsewhere\n"
                              "model:\n  width: 0.5\ntrain:\n  batch_size: 4\n")
    child = write(tmp_path, "child", "base: parent.yaml\nname: child\n"
                                     "model:\n  middle_units: 2\ntrain:\n  stages:\n    - epochs: 1\n")
    config = load_config(child)
    parent = load_config(tmp_path / "parent.yaml")
    assert (config.model.width, config.model.middle_units, config.train.batch_size) == (0.5, 2, 4)
    assert config.model.pretrained == parent.model.pretrained       # from run_5_10, two bases down
    assert config.train.loss == "dice" and config.name == "child"
    assert [(s.epochs, s.freeze) for s in config.train.stages] == [(1, "middle")]   # lists replace
    assert [s.freeze for s in parent.train.stages] == ["backbone", "backbone"]
    assert config.output_dir == "runs/child" and parent.output_dir == "elsewhere"   # not inherited
    assert load_config(child, {"train.batch_size": 16}).train.batch_size == 16


def test_unknown_keys_are_refused_naming_the_key_and_the_file(tmp_path):
    typo = write(tmp_path, "typo", "base: run_5_10\ntrain:\n  batch_sise: 4\n")
    with pytest.raises(InputError, match=r"typo\.yaml\.train: unknown key\(s\) \['batch_sise'\]"):
        load_config(typo)
    child = write(tmp_path, "child", "base: typo.yaml\n")
    with pytest.raises(InputError, match=r"typo\.yaml\.train: unknown key\(s\) \['batch_sise'\]"):
        load_config(child)
    stage = write(tmp_path, "stage", "train:\n  stages:\n    - learning_rte: 0.1\n")
    with pytest.raises(InputError, match=r"stage\.yaml\.train\.stages\[0\]: unknown key\(s\) \['learning_rte'\]"):
        load_config(stage)


def test_base_cycles_and_missing_bases_say_which_files(tmp_path):
    write(tmp_path, "a", "base: b.yaml\n")
    write(tmp_path, "b", "base: c.yaml\n")
    write(tmp_path, "c", "base: ./a.yaml\n")
    with pytest.raises(InputError, match=r"c\.yaml: its bases form a cycle: .*a\.yaml -> .*b\.yaml -> "
                                         r".*c\.yaml -> .*a\.yaml"):
        load_config(tmp_path / "a.yaml")
    write(tmp_path, "lost", "base: run_5_99\n")
    with pytest.raises(InputError, match=r"Base config 'run_5_99' of .*lost\.yaml not found.*run_5_10"):
        load_config(tmp_path / "lost.yaml")


def test_the_class_count_follows_data_classes_and_the_monitor_must_name_one_of_its_scores(tmp_path):
    roads = load_config("munet_gan_roads")
    assert (roads.data.classes, roads.model.num_classes, roads.train.monitor) == ("roads", 2, "road_iou")
    assert load_config("tiny").model.num_classes == 5
    clash = write(tmp_path, "clash", "base: tiny\ndata:\n  classes: roads\nmodel:\n  num_classes: 5\n")
    with pytest.raises(InputError, match="num_classes is 5 but data.classes 'roads' has 2 classes"):
        load_config(clash)
    with pytest.raises(InputError, match=r"train.monitor 'building_iou' is not a score of data.classes 'roads'; "
                                         r"use one of \['miou', 'background_iou', 'road_iou'\]"):
        load_config("munet_gan_roads", {"train.monitor": "building_iou"})
