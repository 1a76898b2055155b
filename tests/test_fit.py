"""`python -m trainer fit`: learning, the two-stage schedule, resume after a kill, configs, exclusions.

One real run is shared by several tests (building TensorFlow's training graph costs far more than
the training itself on 2 cores): a tiny network on 64 px synthetic tiles is trained in a
subprocess that is killed mid-epoch in stage 2, then resumed by the CLI until it finishes.
"""
import csv
import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import yaml

from landcover_qgis_plugin.core.errors import InputError, OutputExistsError
from trainer.config import CONFIG_DIR, RunConfig, load_config
from trainer.fit import (clear_run, config_from_args, open_training_data, parse_overrides,
                         pretrained_file)
from trainer.runs import RunPaths

REPO = Path(__file__).resolve().parents[1]
TILE = 64
STEPS = 25                 # per epoch, batch 4 (fit caps BatchNorm momentum at 0.01^(1/25) = 0.83 for it)
STAGE1_EPOCHS = 6
STAGE2_EPOCHS = 3
BACKUP_EVERY = 10          # steps; the kill comes 13 steps into an epoch, 3 after a backup
KILL_EPOCH, KILL_BATCH = STAGE1_EPOCHS + 1, 12  # 0-based global epoch (stage 2's second) and batch

KILLER = textwrap.dedent("""
    import os, sys
    import keras
    from trainer.config import load_config
    from trainer.fit import fit

    class Kill(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
        def on_train_batch_end(self, batch, logs=None):
            if (self.epoch, batch) == ({epoch}, {batch}):
                sys.stdout.flush()
                os._exit(17)            # a hard kill: no Python clean-up, no Keras on_train_end

    fit(load_config(sys.argv[1]), backup_every={every}, callbacks=[Kill()], verbose=0)
""")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _history(paths: RunPaths) -> list[dict]:
    with paths.history.open() as file:
        return list(csv.DictReader(file))


@pytest.fixture(scope="module")
def tiles(tmp_path_factory) -> Path:
    """Prepared 64 px tiles of a small synthetic LandCover.ai-shaped dataset, as `trainer data` cuts them."""
    from trainer.data.landcoverai import prepare
    from trainer.data.synth import write_dataset

    base = tmp_path_factory.mktemp("fit-data")
    synth = write_dataset(base / "synth", seed=3, images=4, size=512, tile_size=TILE)
    summary = prepare(str(synth), base / "tiles", tile_size=TILE)
    assert not summary["missing"]
    return base / "tiles"


def _tiny_overrides(tiles: Path, output_dir: Path) -> dict:
    return {
        "output_dir": str(output_dir), "data.root": str(tiles), "data.tile_size": TILE,
        "model.input_size": TILE, "train.batch_size": 4, "train.steps_per_epoch": STEPS,
        "train.strategy": "mirrored",
        "train.stages": [
            {"learning_rate": 3e-3, "epochs": STAGE1_EPOCHS, "patience": STAGE1_EPOCHS, "freeze": None},
            {"learning_rate": 3e-4, "epochs": STAGE2_EPOCHS, "patience": 3, "freeze": "entry",
             "reload_best": True},
        ],
    }


@pytest.fixture(scope="module")
def run(tiles, tmp_path_factory):
    """Train, kill mid-epoch in stage 2, resume through the CLI; what each left behind."""
    from trainer.cli import main

    base = tmp_path_factory.mktemp("fit-run")
    config = load_config("tiny", _tiny_overrides(tiles, base / "run"))
    config_file = base / "config.yaml"
    config_file.write_text(yaml.safe_dump(config.to_dict()))
    paths = RunPaths(base / "run")

    killer = KILLER.format(epoch=KILL_EPOCH, batch=KILL_BATCH, every=BACKUP_EVERY)
    killed = subprocess.run([sys.executable, "-c", killer, str(config_file)], cwd=REPO, capture_output=True,
                            text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=600)
    assert killed.returncode == 17, killed.stderr[-3000:]
    before = {"state": json.loads(paths.state.read_text()), "history": _history(paths),
              "best_sha": _sha(paths.best_weights), "backups": sorted(p.name for p in paths.backup_dir.iterdir())}

    assert main(["fit", "--config", str(config_file), "--backup-every", str(BACKUP_EVERY)]) == 0
    return SimpleNamespace(paths=paths, config=config, config_file=config_file, before=before,
                           state=json.loads(paths.state.read_text()), history=_history(paths))


def test_kill_left_stage_one_done_and_stage_two_started(run):
    state = run.before["state"]
    assert state["stages"][0]["done"] and len(state["stages"][0]["epochs"]) == STAGE1_EPOCHS
    assert not state["stages"][1]["done"] and len(state["stages"][1]["epochs"]) == 1
    assert not state["finished"]
    assert run.before["backups"] == ["stage-2"]


def test_resume_continues_the_epoch_count_and_the_optimizer(run):
    epochs = [int(row["epoch"]) for row in run.history]
    assert epochs == list(range(1, STAGE1_EPOCHS + STAGE2_EPOCHS + 1))
    # The epochs finished before the kill were not run again: their rows are unchanged.
    assert run.history[:KILL_EPOCH] == run.before["history"]
    # The interrupted epoch was re-run from the backup taken BACKUP_EVERY steps into it, with the
    # optimizer's state and step count restored: an uninterrupted run would show 2 * STEPS here.
    resumed = run.history[KILL_EPOCH]
    assert int(resumed["step"]) == 2 * STEPS + BACKUP_EVERY
    assert int(run.history[-1]["step"]) == STAGE2_EPOCHS * STEPS + BACKUP_EVERY


def test_best_weights_survive_the_kill(run):
    before, after = run.before["state"], run.state
    assert after["best_score"] >= before["best_score"]
    if after["best_epoch"] == before["best_epoch"]:      # not beaten after the resume: the very same file
        assert _sha(run.paths.best_weights) == run.before["best_sha"]
    best_row = run.history[after["best_epoch"] - 1]
    assert float(best_row["val_miou"]) == pytest.approx(after["best_score"])
    assert after["best_score"] == pytest.approx(max(float(row["val_miou"]) for row in run.history))


def test_two_stages_with_their_own_learning_rates(run):
    stages = [int(row["stage"]) for row in run.history]
    assert stages == [1] * STAGE1_EPOCHS + [2] * STAGE2_EPOCHS
    rates = {int(row["stage"]): float(row["learning_rate"]) for row in run.history}
    assert rates == {1: pytest.approx(3e-3), 2: pytest.approx(3e-4)}
    # Stage 2 has a fresh optimizer: its step count starts again from zero.
    assert int(run.history[STAGE1_EPOCHS]["step"]) == STEPS
    assert run.state["finished"] and all(stage["done"] for stage in run.state["stages"])
    assert not run.paths.backup_dir.exists()


def test_run_folder_holds_the_resolved_config_and_tensorboard_logs(run):
    assert load_config(run.paths.config).to_dict() == run.config.to_dict()
    assert {p.parent.name for p in run.paths.tensorboard.rglob("events.out.tfevents.*")} == {"train", "validation"}


def test_fit_learns_well_above_a_broken_pipeline(run, tiles):
    """Held-out test tiles, best weights: mIoU from one global confusion matrix.

    Predicting background everywhere scores background's pixel share / 5 (about 0.09 on these tiles:
    background IoU = its share, every other class 0); so does a network that learned nothing, and a
    wrong normalisation, label mapping or loss sign stays at or near that. 0.3 is over three times
    that floor and needs at least three classes segmented fairly well; this run reaches about 0.44.
    """
    from trainer.data.pipeline import tile_dataset
    from trainer.metrics import confusion_matrix, iou_from_confusion
    from trainer.runs import load_run_model

    model, config = load_run_model(run.paths.root)
    matrix = np.zeros((5, 5), np.int64)
    for images, masks in tile_dataset(tiles, "test", 16, config.data.normalization):
        matrix += confusion_matrix(masks.numpy(), model.predict_on_batch(images).argmax(-1), 5)
    miou, _ = iou_from_confusion(matrix)
    all_background = np.zeros_like(matrix)
    all_background[:, 0] = matrix.sum(axis=1)
    floor, _ = iou_from_confusion(all_background)
    assert floor < 0.2
    assert miou > 0.3, f"held-out mIoU {miou:.3f} (all-background {floor:.3f})"


def test_finished_run_says_so_and_refuses_a_different_recipe(run, capsys):
    from trainer.fit import fit

    result = fit(load_config(run.config_file))
    assert result.already_finished and result.best_score == pytest.approx(run.state["best_score"])
    assert "already finished" in capsys.readouterr().out
    assert _history(run.paths) == run.history
    with pytest.raises(OutputExistsError, match="different config.*train.batch_size.*--restart"):
        fit(load_config(run.config_file, {"train.batch_size": 8}))


def test_every_bundled_config_loads_and_builds():
    """Each YAML parses into RunConfig; its network builds (at 64 px) and takes each stage's freeze spec."""
    from trainer.losses import get_loss
    from trainer.models import build_model, freeze

    files = sorted(CONFIG_DIR.glob("*.yaml"))
    runs = {f"run_5_{i}.yaml" for i in range(1, 13)}
    assert runs | {"default.yaml", "tiny.yaml"} <= {f.name for f in files}
    built = {}
    for file in files:
        config = load_config(file)
        assert isinstance(config, RunConfig) and len(config.train.stages) == 2
        if file.name in runs:
            assert config.name == file.stem[4:].replace("_", ".")
            assert f"Run {config.name}:" in config.description and "Published test mIoU 0." in config.description
            assert config.train.batch_size == 2 and not config.data.shuffle
            assert config.model.pretrained.startswith("weights/")
        get_loss(config.train.loss, config.model.num_classes, config.train.class_weights)
        model_config = load_config(file, {"model.input_size": 64}).model
        key = json.dumps(vars(model_config), sort_keys=True)
        if key not in built:
            built[key] = build_model(model_config)
        for stage in config.train.stages:
            freeze(built[key], stage.freeze)
    assert load_config("default").to_dict() == load_config("run_5_10").to_dict()
    assert load_config("run_5_10").description.endswith("Published test mIoU 0.718.")


def test_exclude_list_removes_tiles(tiles, tmp_path):
    import tensorflow as tf

    config = load_config("tiny", {"data.root": str(tiles), "model.input_size": TILE, "train.batch_size": 4})
    strategy = tf.distribute.get_strategy()
    full = open_training_data(config, strategy)
    train_ids = (tiles / "train.txt").read_text().split()
    val_ids = (tiles / "val.txt").read_text().split()
    excluded = tmp_path / "lowest_iou_tiles.txt"          # evaluate's format: header, id<TAB>miou
    excluded.write_text(f"# id\tmiou\n{train_ids[0]}\t0.11\n{train_ids[5]}\t0.2\n{val_ids[1]}\t0.24\n")
    args = SimpleNamespace(config="tiny", set=[f"data.root={tiles}", f"model.input_size={TILE}",
                                               "train.batch_size=4"],
                           output_dir=None, data=None, exclude_list=str(excluded), pretrained=None,
                           strategy=None, mixed_precision=False)
    reduced = open_training_data(config_from_args(args), strategy)
    assert (full.train_tiles, full.val_tiles) == (len(train_ids), len(val_ids))
    assert (reduced.train_tiles, reduced.val_tiles) == (len(train_ids) - 2, len(val_ids) - 1)
    seen = set()
    for _image, _mask, tile in reduced.dataset("train", shuffle=False, augmentation="none", repeat=False,
                                                with_ids=True):
        seen.update(t.decode() for t in tile.numpy())
    assert seen == set(train_ids) - {train_ids[0], train_ids[5]}


def test_global_batch_is_per_replica_batch_times_replicas(tiles):
    config = load_config("tiny", {"data.root": str(tiles), "model.input_size": TILE, "train.batch_size": 4,
                                  "train.steps_per_epoch": None})
    data = open_training_data(config, SimpleNamespace(num_replicas_in_sync=2))
    assert data.global_batch == 8
    assert data.steps_per_epoch == -(-data.train_tiles // 8)


def test_missing_data_and_weights_say_what_to_do(tmp_path, capsys):
    import tensorflow as tf

    config = load_config("tiny", {"data.root": str(tmp_path / "nowhere")})
    with pytest.raises(InputError, match="python -m trainer data"):
        open_training_data(config, tf.distribute.get_strategy())
    config.data.normalization = "imagenet"
    with pytest.raises(InputError, match="data.normalization: Unknown normalisation 'imagenet'"):
        open_training_data(config, tf.distribute.get_strategy())
    missing = "weights/deeplabv3_xception_tf_dim_ordering_tf_kernels_cityscapes.h5"
    assert pretrained_file(str(tmp_path / missing)) is None
    message = capsys.readouterr().err
    assert "training from scratch" in message and "releases/download/1.2/" in message
    present = tmp_path / "present.h5"
    present.write_bytes(b"")
    assert pretrained_file(str(present)) == present


def test_overrides_and_restart(tmp_path):
    assert parse_overrides(["train.batch_size=4", "train.stages=[]", "model.pretrained=null"]) == {
        "train.batch_size": 4, "train.stages": [], "model.pretrained": None}
    with pytest.raises(InputError, match="KEY=VALUE"):
        parse_overrides(["train.batch_size"])
    paths = RunPaths(tmp_path)
    for folder in (paths.backup_dir, paths.tensorboard, paths.evaluation):
        folder.mkdir()
    for file in (paths.state, paths.history, paths.best_weights, paths.config, tmp_path / "notes.txt"):
        file.write_text("x")
    clear_run(paths)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_precision_policy_is_mixed_bfloat16_on_cpu_and_restored():
    import keras
    from trainer.training.hardware import precision_policy

    with precision_policy(True) as name:
        assert name == "mixed_bfloat16" == keras.config.dtype_policy().name
        layer = keras.layers.Dense(2)
        layer.build((None, 3))
        assert layer.compute_dtype == "bfloat16" and layer.variable_dtype == "float32"
    assert keras.config.dtype_policy().name == "float32"
    with precision_policy(False) as name:
        assert name == "float32"


def test_batch_norm_momentum_is_capped_only_for_short_epochs():
    import keras
    from trainer.fit import settle_batch_norm_within_epoch
    from trainer.models import build_model

    model = build_model(load_config("tiny", {"model.input_size": TILE}).model)
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    settle_batch_norm_within_epoch(model, 3735)          # the reference's epoch: the network's 0.99 stays
    assert norms and all(layer.momentum == 0.99 for layer in norms)
    settle_batch_norm_within_epoch(model, 25)
    assert all(layer.momentum == pytest.approx(0.01 ** (1 / 25)) for layer in norms)


def test_only_the_chief_worker_writes_the_run_folder(tmp_path, monkeypatch):
    from trainer.training.hardware import worker_run_root

    def strategy(task_type, task_id):
        return SimpleNamespace(cluster_resolver=SimpleNamespace(task_type=task_type, task_id=task_id))

    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["a:1", "b:1"]},
                                                "task": {"type": "worker", "index": 0}}))
    assert worker_run_root(SimpleNamespace(), tmp_path) == tmp_path          # no cluster at all
    assert worker_run_root(strategy("worker", 0), tmp_path) == tmp_path      # worker 0 leads without a chief
    assert worker_run_root(strategy("worker", 1), tmp_path) == tmp_path / "workers" / "worker_1"
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"chief": ["c:1"], "worker": ["a:1"]},
                                                "task": {"type": "worker", "index": 0}}))
    assert worker_run_root(strategy("chief", 0), tmp_path) == tmp_path
    assert worker_run_root(strategy("worker", 0), tmp_path) == tmp_path / "workers" / "worker_0"


def test_readme_round_trip_through_the_command_line_on_the_tiny_config(tmp_path):
    """synth, data, fit --config tiny (its own 128 px tiles and width, schedule cut short), evaluate
    and export as the README runs them, each a fresh `python -m trainer` process: each prints its
    mIoU. (On AVX-512 CPUs this fit crashed in oneDNN until reduced widths trained without it, and
    a one-epoch stage 1 handing its last weights to stage 2 found no backup folder to write to.)"""
    def trainer(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "trainer", *args], cwd=tmp_path, capture_output=True,
                              text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    trainer("synth", "--out", "synth", "--seed", "5", "--images", "2", "--size", "512", "--tile-size", "128")
    trainer("data", "--source", "synth", "--root", "tiles", "--tile-size", "128")
    stages = "[{learning_rate: 0.003, epochs: 1, patience: 1}, {learning_rate: 0.0003, epochs: 1, patience: 1}]"
    fitted = trainer("fit", "--config", "tiny", "--set", "data.root=tiles", "--set", "output_dir=run",
                     "--set", "train.steps_per_epoch=6", "--set", f"train.stages={stages}")
    assert "Finished: best val_miou 0." in fitted
    evaluated = trainer("evaluate", "--run", "run", "--split", "test")
    assert " mIoU 0." in evaluated and (tmp_path / "run" / "evaluation" / "test" / "metrics.json").exists()
    exported = trainer("export", "--run", "run", "--out", "tiny.keras")
    assert "test: mIoU 0." in exported and (tmp_path / "tiny.keras").stat().st_size > 0


def test_a_state_written_before_train_monitor_reads_as_val_miou(tmp_path):
    from trainer.training.state import RunState, best_score_of

    legacy = tmp_path / "state.json"
    legacy.write_text(json.dumps({"stages": [{"epochs": [{"val_miou": 0.4}, {"val_miou": 0.5}]}],
                                  "best_miou": 0.5, "best_stage": 1, "best_epoch": 2}))
    state = RunState.load(legacy, 1, "val_miou")
    assert (state.monitor, state.best_score, state.epochs_without_improvement(0)) == ("val_miou", 0.5, 0)
    assert best_score_of(legacy) == ("val_miou", 0.5)
