"""`python -m trainer fit`: train a run config in stages, resumable at any point.

The reference recipe (seed-recipe.md): stage 1 with Adam at lr 1e-4, stage 2 reloading the best
weights with a new Adam at lr 1e-5, each up to 30 epochs with early stopping on val mIoU
(patience 3, mode max); the best weights by val mIoU are kept across both stages. A config's
`train.monitor` may name a class's IoU instead (`road_iou`, as the roads-only MUNet GAN).

Interrupt it at any moment (Ctrl-C, a killed job, a lost machine) and run the same command again:
it goes on from the last backup (weights and optimizer state every --backup-every steps and at
each epoch's end, with Keras' BackupAndRestore) and from state.json (stage, epoch logs, best
score, early-stopping progress). The interrupted epoch is re-run from its first batch starting
from the weights of the last backup, so no finished epoch is lost and at most --backup-every
steps of work are. See trainer/training/state.py for what Keras restores and what we keep.
"""
from __future__ import annotations

import argparse
import math
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Union

import yaml

from landcover_qgis_plugin.core.errors import InputError, ModelFileError, OutputError, OutputExistsError
from landcover_qgis_plugin.core.files import atomic_write_text
from landcover_qgis_plugin.core.modelfile import Normalization

from .config import RunConfig, load_config
from .data.classes import class_set
from .data.curation import exclude_list_path
from .runs import RunPaths, load_run_config
from .training.hardware import STRATEGIES, avoid_onednn_training_crash

DEFAULT_BACKUP_EVERY = 500   # steps between backups: ~1 min of full-model training on a GPU
# Config keys that may change between an interrupted run and its resumption: where things are and
# how fast they run, not what is trained.
RESUMABLE_CHANGES = frozenset({"description", "output_dir", "data.root", "data.parallel_calls",
                               "model.pretrained", "train.mixed_precision"})
# Where the public weights the reference started from can be downloaded (fit never downloads).
KNOWN_WEIGHT_SOURCES = {
    "deeplabv3_xception_tf_dim_ordering_tf_kernels_cityscapes.h5":
        "https://github.com/bonlime/keras-deeplab-v3-plus/releases/download/1.2/"
        "deeplabv3_xception_tf_dim_ordering_tf_kernels_cityscapes.h5",
    "deeplabv3_xception_tf_dim_ordering_tf_kernels.h5":
        "https://github.com/bonlime/keras-deeplab-v3-plus/releases/download/1.1/"
        "deeplabv3_xception_tf_dim_ordering_tf_kernels.h5",
    "xception_weights_tf_dim_ordering_tf_kernels_notop.h5":
        "https://storage.googleapis.com/tensorflow/keras-applications/xception/"
        "xception_weights_tf_dim_ordering_tf_kernels_notop.h5",
}


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "fit", help="train a run config (two stages, early stopping, resumable)",
        description="Train a run config in stages with early stopping on val mIoU (or the config's train.monitor), "
                    "keeping the best weights. "
                    "Interrupted? Run the same command again: it resumes where it stopped.")
    parser.add_argument("--config", default="default",
                        help="YAML file or bundled config name (run_5_1 ... run_5_12, tiny); "
                             "default: reference run 5.10")
    parser.add_argument("--output-dir", help="run folder (default: the config's output_dir, runs/<name>)")
    parser.add_argument("--data", metavar="ROOT", help="prepared tiles folder (default: the config's data.root)")
    parser.add_argument("--exclude-list", metavar="FILE|reference",
                        help="tile ids to leave out of training and validation (e.g. evaluate's "
                             "lowest_iou_tiles.txt); 'reference': the reference's curated low-quality tiles "
                             "(bundled: 115 train, 35 val, 31 test)")
    parser.add_argument("--pretrained", metavar="FILE", help="weights file to start from, loaded by layer name")
    parser.add_argument("--mixed-precision", action="store_true",
                        help="mixed_float16 on a GPU, mixed_bfloat16 on a CPU")
    parser.add_argument("--strategy", choices=STRATEGIES,
                        help="tf.distribute strategy; mirrored: all local GPUs; multi_worker: machines "
                             "in TF_CONFIG. The config's batch size is per replica")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set train.batch_size=4 (YAML value)")
    parser.add_argument("--backup-every", type=int, default=DEFAULT_BACKUP_EVERY, metavar="STEPS",
                        help=f"steps between resume backups (default {DEFAULT_BACKUP_EVERY}; also at every "
                             "epoch's end)")
    parser.add_argument("--restart", action="store_true",
                        help="discard the run folder's training state and start over")
    parser.set_defaults(func=run)


def parse_overrides(pairs: Sequence[str]) -> dict:
    """`key.sub=value` strings to {dotted key: YAML-parsed value}."""
    overrides = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key.strip():
            raise InputError(f"--set '{pair}': expected KEY=VALUE, e.g. train.batch_size=4")
        overrides[key.strip()] = yaml.safe_load(value)
    return overrides


def config_from_args(args: argparse.Namespace) -> RunConfig:
    overrides = parse_overrides(args.set)
    for value, key in ((args.output_dir, "output_dir"), (args.data, "data.root"),
                       (args.exclude_list, "data.exclude_list"), (args.pretrained, "model.pretrained"),
                       (args.strategy, "train.strategy"), (args.mixed_precision or None, "train.mixed_precision")):
        if value is not None:
            overrides[key] = value
    return load_config(args.config, overrides)


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    avoid_onednn_training_crash(config.model.width)
    fit(config, restart=args.restart, backup_every=args.backup_every)
    return 0


@dataclass
class FitResult:
    run_dir: Path
    monitor: str                    # the logged score best weights followed (val_miou, val_road_iou)
    best_score: Optional[float]
    best_stage: Optional[int]       # 1-based
    best_epoch: Optional[int]       # 1-based global epoch, as in history.csv
    epochs: int                     # epochs trained over all stages
    already_finished: bool          # nothing was trained: the run had finished before


@dataclass
class TrainingData:
    """The prepared tiles of a run, counted once, as tf.data datasets batched with the global batch."""
    config: RunConfig
    normalization: Normalization
    global_batch: int
    train_tiles: int
    val_tiles: int
    auto_shard_by_data: bool       # multi-worker: split batches across workers, not files

    @property
    def batches_per_pass(self) -> int:
        return math.ceil(self.train_tiles / self.global_batch)

    @property
    def steps_per_epoch(self) -> int:
        return self.config.train.steps_per_epoch or self.batches_per_pass

    def train(self, epochs_done: int):
        """Endless training batches from where an uninterrupted run would be after `epochs_done` epochs.

        Exactly there without shuffling; with it, at the same place in a (differently shuffled) pass.
        """
        dataset = self.dataset("train", shuffle=self.config.data.shuffle,
                               augmentation=self.config.data.augmentation, repeat=True)
        # Batches after which batch and pass boundaries meet again: skip less than that, not every batch.
        period = self.train_tiles // math.gcd(self.train_tiles, self.global_batch)
        return dataset.skip(epochs_done * self.steps_per_epoch % period)

    def validation(self):
        return self.dataset("val", shuffle=False, augmentation="none", repeat=False)

    def dataset(self, split: str, **options):
        """Batches of one split; `options` go to trainer.data.pipeline.tile_dataset."""
        import tensorflow as tf
        from .data.pipeline import tile_dataset

        data = self.config.data
        dataset = tile_dataset(data.root, split, self.global_batch, self.normalization,
                               exclude_list=data.exclude_list, max_tiles=data.max_tiles,
                               seed=self.config.train.seed, parallel_calls=data.parallel_calls,
                               classes=class_set(data.classes), **options)
        if self.auto_shard_by_data:
            dataset_options = tf.data.Options()
            dataset_options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
            dataset = dataset.with_options(dataset_options)
        return dataset


def open_training_data(config: RunConfig, strategy) -> TrainingData:
    """Check the prepared tiles are there and fit the model, and count them."""
    import tensorflow as tf
    from .data.pipeline import read_split_ids

    data = config.data
    try:
        normalization = Normalization.named(data.normalization)
    except ValueError as error:
        raise InputError(f"data.normalization: {error}") from None
    root = Path(data.root)
    for split in ("train", "val"):
        if not (root / f"{split}.txt").is_file():
            raise InputError(
                f"No prepared tiles in '{root}' ({split}.txt is missing). Prepare LandCover.ai with "
                f"'python -m trainer data --root {root}', or a synthetic set with 'python -m trainer synth "
                f"--out data/synth' then 'python -m trainer data --source data/synth --root {root} "
                f"--tile-size {config.model.input_size}'; or pass --data ROOT.")
    if data.exclude_list and not exclude_list_path(data.exclude_list).is_file():
        raise InputError(f"Exclude list '{data.exclude_list}' not found; give a file of tile ids, "
                         "one per line (e.g. evaluate's lowest_iou_tiles.txt).")
    counts = {}
    for split in ("train", "val"):
        ids = read_split_ids(root, split, exclude_list=data.exclude_list, max_tiles=data.max_tiles)
        if not ids:
            raise InputError(f"The {split} split of '{root}' has no tiles left (after the exclude list "
                             "and max_tiles); check the list files.")
        counts[split] = ids
    first_tile = root / "output" / f"{counts['train'][0]}.jpg"
    height, width, _ = tf.image.extract_jpeg_shape(tf.io.read_file(str(first_tile))).numpy()
    if (height, width) != (config.model.input_size,) * 2:
        raise InputError(f"Tiles in '{root}' are {width}x{height} px but the model takes "
                         f"{config.model.input_size} px; prepare tiles of that size (python -m trainer data "
                         f"--tile-size {config.model.input_size}) or set model.input_size.")
    copies = 2 if data.augmentation == "double" else 1   # run 5.11: every tile plus an augmented copy
    replicas = strategy.num_replicas_in_sync
    return TrainingData(config, normalization, global_batch=config.train.batch_size * replicas,
                        train_tiles=len(counts["train"]) * copies, val_tiles=len(counts["val"]),
                        auto_shard_by_data=isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy))


def fit(config: RunConfig, *, restart: bool = False, backup_every: int = DEFAULT_BACKUP_EVERY,
        callbacks: Sequence = (), verbose: Union[int, str] = "auto") -> FitResult:
    """Train (or resume) the run of `config` in config.output_dir; `callbacks` are extra Keras callbacks."""
    import keras
    from .training.hardware import make_strategy, precision_policy, worker_run_root

    if keras.backend.backend() != "tensorflow":
        raise InputError(f"fit trains with a tf.data pipeline and needs the TensorFlow Keras backend, not "
                         f"'{keras.backend.backend()}'; unset KERAS_BACKEND or set it to tensorflow.")
    if backup_every < 1:
        raise InputError(f"--backup-every must be a positive number of steps, got {backup_every}.")
    if config.train.gan_lambda is not None and config.train.mixed_precision:
        raise InputError("train.gan_lambda (adversarial training) runs in float32: leave out --mixed-precision "
                         "(its loss scaling is for one loss, the GAN has two).")
    strategy = make_strategy(config.train.strategy)
    paths = RunPaths(worker_run_root(strategy, Path(config.output_dir)))
    if restart:
        clear_run(paths)
    state = open_run(paths, config)
    if state.finished:
        print(f"Run '{paths.root}' is already finished: best {_format_best(state)}. "
              "Pass --restart to train it again, or --output-dir for a new run.")
        return _result(paths, state, already_finished=True)

    data = open_training_data(config, strategy)
    try:
        paths.root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"The run folder '{paths.root}' cannot be created ({error.strerror}); choose another "
                          "output_dir (--output-dir).") from None
    atomic_write_text(paths.config, yaml.safe_dump(config.to_dict(), sort_keys=False), overwrite=True)
    keras.utils.set_random_seed(config.train.seed)
    first_stage = state.current_stage if state.current_stage is not None else len(state.stages)
    if first_stage or state.stages[0].epochs:
        print(f"Resuming '{paths.root}' at stage {first_stage + 1} after {state.epochs_before(len(state.stages))} "
              f"epochs (best so far {_format_best(state)}).")
    with precision_policy(config.train.mixed_precision) as policy:
        print(f"Run {config.name} -> {paths.root}: {data.train_tiles} training tiles, {data.val_tiles} "
              f"validation tiles, {strategy.num_replicas_in_sync} replica(s) x batch "
              f"{config.train.batch_size} = {data.global_batch}, {data.steps_per_epoch} steps/epoch, "
              f"precision {policy}.")
        for index in range(first_stage, len(config.train.stages)):
            run_stage(index, config, paths, state, data, strategy, backup_every, callbacks, verbose)
    state.finished = True
    state.save(paths.state)
    shutil.rmtree(paths.backup_dir, ignore_errors=True)
    print(f"Finished: best {_format_best(state)}; weights {paths.best_weights}")
    return _result(paths, state, already_finished=False)


def run_stage(index: int, config: RunConfig, paths: RunPaths, state, data: TrainingData, strategy,
              backup_every: int, callbacks: Sequence, verbose) -> None:
    """One stage: a fresh model and optimizer, fitted until its epochs run out or it stops early."""
    import keras
    from .losses import get_loss
    from .metrics import training_metrics
    from .models import build_model, freeze
    from .models.gan import CollapseWatch, SegmentationGAN, build_discriminator, network_of
    from .training.state import RunTracker, StepAndEpochBackup, has_backup

    stage = config.train.stages[index]
    record = state.stages[index]
    backup_dir = paths.backup_dir / f"stage-{index + 1}"
    resuming = has_backup(backup_dir)
    if record.epochs and not resuming:
        print(f"Stage {index + 1} has no backup in {backup_dir}; it starts over.", file=sys.stderr)
        record.epochs = []
    offset, done = state.epochs_before(index), len(record.epochs)
    stopped = bool(done) and state.epochs_without_improvement(index) >= stage.patience
    if done < stage.epochs and not stopped:
        print(f"\nStage {index + 1}/{len(config.train.stages)}: {stage.optimizer} lr {stage.learning_rate:g}, "
              f"up to {stage.epochs} epochs (early stopping patience {stage.patience}), freeze {stage.freeze}.")
        adversarial = config.train.gan_lambda is not None
        with strategy.scope():
            model = build_model(config.model)
            if adversarial:   # both networks and optimizers in one model: one backup, one fit
                model = SegmentationGAN(model, build_discriminator(config.model), config.train.gan_lambda)
            settle_batch_norm_within_epoch(model, data.steps_per_epoch)
            if not resuming:        # else BackupAndRestore loads the stage's own last weights
                load_initial_weights(network_of(model), index, config, paths)
            freeze(network_of(model), stage.freeze)
            extra = ({"discriminator_optimizer": make_optimizer(stage.optimizer, stage.learning_rate)}
                     if adversarial else {})
            model.compile(optimizer=make_optimizer(stage.optimizer, stage.learning_rate),
                          loss=get_loss(config.train.loss, config.model.num_classes, config.train.class_weights),
                          metrics=training_metrics(class_set(config.data.classes)), **extra)
        following = config.train.stages[index + 1] if index + 1 < len(config.train.stages) else None
        final_weights = None if following is None or following.reload_best else _end_of_stage_weights(paths, index)
        stage_callbacks = [
            RunTracker(paths, state, index, stage, final_weights),   # before the backup: see RunTracker
            StepAndEpochBackup(str(backup_dir), save_freq=backup_every, delete_checkpoint=False),
            keras.callbacks.TensorBoard(str(paths.tensorboard), write_graph=False),
            *([CollapseWatch()] if adversarial else []),
            *callbacks,
        ]
        model.fit(data.train(done), validation_data=data.validation(), epochs=offset + stage.epochs,
                  initial_epoch=offset + done, steps_per_epoch=data.steps_per_epoch, shuffle=False,
                  validation_steps=config.train.validation_steps, callbacks=stage_callbacks, verbose=verbose)
    record.done = True
    state.save(paths.state)
    shutil.rmtree(backup_dir, ignore_errors=True)


def settle_batch_norm_within_epoch(model, steps_per_epoch: int) -> None:
    """Lower BatchNorm momentum where needed so its moving averages forget their start within one epoch.

    Validation runs BatchNorm on its moving averages, which start at mean 0, variance 1 and keep
    momentum^steps of that start. With the network's 0.99 that is 1% after 459 steps: nothing
    changes for the reference runs (3735 steps per epoch), but after a short epoch of a smoke run
    the averages are still mostly their start and val mIoU says nothing. So momentum is capped at
    0.01^(1/steps_per_epoch): whatever the epoch length, its end sees at most 1% of the start.
    """
    import keras

    cap = 0.01 ** (1.0 / steps_per_epoch)

    def batch_norms(layer):
        for inner in getattr(layer, "layers", ()):
            yield from batch_norms(inner)
        if isinstance(layer, keras.layers.BatchNormalization):
            yield layer

    lowered = [layer for layer in batch_norms(model) if layer.momentum > cap]
    if lowered:
        print(f"BatchNorm momentum {cap:.3f} (was {max(layer.momentum for layer in lowered):g}) in "
              f"{len(lowered)} layers, so that moving averages settle within one {steps_per_epoch}-step epoch.")
    for layer in lowered:
        layer.momentum = cap


def load_initial_weights(model, index: int, config: RunConfig, paths: RunPaths) -> None:
    """Stage 1 starts from the pretrained file (when there is one); later stages from earlier ones."""
    from .models import load_pretrained

    stage = config.train.stages[index]
    if index == 0:
        pretrained = pretrained_file(config.model.pretrained)
        if pretrained is not None:
            report = load_pretrained(model, pretrained)
            print(f"Pretrained weights from {pretrained}: {report['matched']} layers loaded, {report['skipped']} "
                  f"skipped (other shape), {report['missing']} not in the file.")
    elif stage.reload_best:
        if not paths.best_weights.is_file():
            raise ModelFileError(f"Stage {index + 1} reloads the best weights but {paths.best_weights} is "
                                 "missing; start the run over with --restart.")
        model.load_weights(paths.best_weights)   # before compile: the network's weights only
        print(f"Stage {index + 1} starts from the best weights so far ({paths.best_weights}).")
    else:
        model.load_weights(_end_of_stage_weights(paths, index - 1))


def _end_of_stage_weights(paths: RunPaths, index: int) -> Path:
    """Where stage `index` leaves its last weights for a next stage that does not reload the best."""
    return paths.backup_dir / f"end-of-stage-{index + 1}.weights.h5"


def pretrained_file(path: Optional[str]) -> Optional[Path]:
    """The pretrained weights file, or None (with a note on how to get it) to train from scratch."""
    if not path:
        return None
    file = Path(path)
    if file.is_file():
        return file
    source = KNOWN_WEIGHT_SOURCES.get(file.name)
    how = f"download {source} and save it as {file}" if source else f"put the weights file at {file}"
    print(f"Pretrained weights '{file}' not found: training from scratch (random initialisation). To start "
          f"from them as the reference did, {how}, or pass --pretrained FILE. Nothing is downloaded.",
          file=sys.stderr)
    return None


def make_optimizer(name: str, learning_rate: float):
    import keras

    try:
        return keras.optimizers.get({"class_name": name, "config": {"learning_rate": learning_rate}})
    except ValueError:
        raise InputError(f"Unknown optimizer '{name}' in the config's stages; use a Keras optimizer name "
                         "such as adam, adamw, sgd or rmsprop.") from None


def open_run(paths: RunPaths, config: RunConfig):
    """The run folder's training state (fresh if there is none); refuses to resume with another recipe."""
    from .training.state import RunState, monitored_log

    resumable = paths.state.is_file() or paths.backup_dir.is_dir()
    if resumable and paths.config.is_file():
        changed = config_differences(load_run_config(paths.root), config) - RESUMABLE_CHANGES
        if changed:
            raise OutputExistsError(f"'{paths.root}' holds a run started with a different config (differs in "
                                    f"{', '.join(sorted(changed))}). Resume it with the same settings, pass "
                                    "--restart to start it over, or use another --output-dir.")
    return RunState.load(paths.state, len(config.train.stages), monitored_log(config.train.monitor))


def clear_run(paths: RunPaths) -> None:
    """Forget a run's training: state, backups, weights, logs and evaluations (other files stay)."""
    for folder in (paths.backup_dir, paths.tensorboard, paths.evaluation):
        shutil.rmtree(folder, ignore_errors=True)
    for file in (paths.state, paths.history, paths.best_weights, paths.config):
        file.unlink(missing_ok=True)


def config_differences(old: RunConfig, new: RunConfig) -> set[str]:
    """Dotted keys whose values differ between two configs."""
    def flatten(value, prefix=""):
        if isinstance(value, dict):
            return {k: v for key, item in value.items() for k, v in flatten(item, f"{prefix}{key}.").items()}
        return {prefix.rstrip("."): value}

    before, after = flatten(old.to_dict()), flatten(new.to_dict())
    return {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}


def _format_best(state) -> str:
    if state.best_score is None:
        return f"{state.monitor}: none yet"
    return f"{state.monitor} {state.best_score:.4f} (stage {state.best_stage}, epoch {state.best_epoch})"


def _result(paths: RunPaths, state, already_finished: bool) -> FitResult:
    return FitResult(paths.root, state.monitor, state.best_score, state.best_stage, state.best_epoch,
                     state.epochs_before(len(state.stages)), already_finished)
