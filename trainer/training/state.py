"""Resumable training state: state.json, history.csv, best weights, and the callbacks that keep them.

What Keras 3 (3.15, read in its source) restores with keras.callbacks.BackupAndRestore: the model's
weights and the optimizer's variables (Adam's moments, its iteration count and its learning rate
all live in the same `.weights.h5`) and the epoch index (`model._initial_epoch`). It does NOT
restore: the position inside an epoch (it records the batch index but the interrupted epoch is
re-run from its first batch, from the weights of the last backup), any callback's state
(EarlyStopping's counters, ModelCheckpoint's best score), the metric accumulators, or the
data iterator. And with an integer `save_freq` it never saves at an epoch's end.

So this module keeps what Keras does not, in state.json, written after every epoch: the stage
reached, every epoch's logs, and the best monitored score (val mIoU unless `train.monitor` names a
class's IoU, as the roads-only GAN's val road IoU) with where it was reached. Early stopping is
recomputed from the logged scores rather than stored as counters, so an epoch that is re-run
after an interruption replaces its earlier record instead of counting twice.
"""
from __future__ import annotations

import csv
import io
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

import keras

from landcover_qgis_plugin.core.errors import InputError
from landcover_qgis_plugin.core.files import atomic_output, atomic_write_text

from ..config import StageConfig
from ..runs import RunPaths

STATE_VERSION = 1
# history.csv's leading columns; the model's logged metrics follow in alphabetical order.
HISTORY_COLUMNS = ("stage", "epoch", "stage_epoch", "step", "learning_rate", "seconds")


def save_model_weights(model: keras.Model, path: Path) -> None:
    """Save the network's weights alone (no optimizer state), atomically.

    model.save_weights() on a compiled model also stores the optimizer's variables, learning rate
    included, which a later load into a compiled model would restore too. A functional view of the
    same layers has no optimizer, so its file holds the layers' weights only (a third of the size
    with Adam) and loads into any model built from the same config.
    """
    from ..models.gan import network_of

    network = network_of(model)   # a GAN's generator: what is exported and evaluated
    path.parent.mkdir(parents=True, exist_ok=True)   # e.g. the backup folder, before its first backup
    with atomic_output(path, overwrite=True) as partial:
        keras.Model(network.inputs, network.outputs).save_weights(partial)


def monitored_log(monitor: str) -> str:
    """The Keras log key of a config's `train.monitor` ('miou', 'road_iou'): its validation value."""
    return f"val_{monitor}"


def _score(record: dict, monitor: str) -> float:
    value = record.get(monitor)
    return -math.inf if value is None or math.isnan(value) else float(value)


def _read_state(path: Path) -> dict:
    data = json.loads(path.read_text())
    if "best_miou" in data:      # written before train.monitor existed, when the score was val mIoU
        data["best_score"] = data.pop("best_miou")
    return data


def best_score_of(path: Path) -> tuple[str, Optional[float]]:
    """(monitored log, best score) of a run's state.json, for the scores an exported model carries."""
    data = _read_state(path)
    return data.get("monitor", RunState.monitor), data.get("best_score")


@dataclass
class StageRecord:
    """One stage's progress: its epochs' logs, and whether and how it ended."""
    epochs: list = field(default_factory=list)   # one dict of logs per epoch, in order
    done: bool = False
    stopped_early: bool = False


@dataclass
class RunState:
    """What resuming needs beyond Keras' backup; saved as state.json after every epoch."""
    stages: list
    monitor: str = monitored_log("miou")           # the logged score best weights and early stopping follow
    best_score: Optional[float] = None
    best_stage: Optional[int] = None               # 1-based, as printed
    best_epoch: Optional[int] = None               # 1-based global epoch, as in history.csv
    finished: bool = False
    version: int = STATE_VERSION

    @classmethod
    def fresh(cls, stage_count: int, monitor: str) -> "RunState":
        return cls(stages=[StageRecord() for _ in range(stage_count)], monitor=monitor)

    @classmethod
    def load(cls, path: Path, stage_count: int, monitor: str) -> "RunState":
        if not path.is_file():
            return cls.fresh(stage_count, monitor)
        try:
            data = _read_state(path)
            state = cls(**{**data, "stages": [StageRecord(**s) for s in data["stages"]]})
        except (ValueError, TypeError, KeyError) as error:
            raise InputError(f"{path} is not a readable training state ({error}); start the run over "
                             "with --restart.") from None
        if len(state.stages) != stage_count:
            raise InputError(f"{path} records {len(state.stages)} stages but the config has {stage_count}; "
                             "resume with the config the run started with, or pass --restart.")
        return state

    def save(self, path: Path) -> None:
        atomic_write_text(path, json.dumps(asdict(self), indent=1), overwrite=True)

    @property
    def current_stage(self) -> Optional[int]:
        """0-based index of the first unfinished stage; None when every stage is done."""
        return next((i for i, stage in enumerate(self.stages) if not stage.done), None)

    def epochs_before(self, stage_index: int) -> int:
        """Epochs run by the earlier stages: where this stage's global epoch numbering starts."""
        return sum(len(stage.epochs) for stage in self.stages[:stage_index])

    def forget_epochs_from(self, stage_index: int, epoch: int) -> None:
        """Drop records of global 0-based epochs >= epoch: Keras is about to run them (again)."""
        stage = self.stages[stage_index]
        stage.epochs = [record for record in stage.epochs if record["epoch"] <= epoch]

    def improves(self, score: float) -> bool:
        return not math.isnan(score) and (self.best_score is None or score > self.best_score)

    def epochs_without_improvement(self, stage_index: int) -> int:
        """Keras EarlyStopping's `wait` for one stage (each stage watches its own best, as the reference)."""
        scores = [_score(record, self.monitor) for record in self.stages[stage_index].epochs]
        if not scores:
            return 0
        return len(scores) - 1 - scores.index(max(scores))

    def write_history(self, path: Path) -> None:
        records = [record for stage in self.stages for record in stage.epochs]
        metrics = sorted({key for record in records for key in record} - set(HISTORY_COLUMNS))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=[*HISTORY_COLUMNS, *metrics], lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        atomic_write_text(path, buffer.getvalue(), overwrite=True)


class RunTracker(keras.callbacks.Callback):
    """After each epoch: keep the best weights by the monitored score, stop early, write state.json and
    history.csv.

    Place it BEFORE the backup callback: the epoch's record and best weights are then on disk before
    the backup says the epoch is done, and a kill in between only makes Keras re-run that epoch.
    """

    def __init__(self, paths: RunPaths, state: RunState, stage_index: int, stage: StageConfig,
                 final_weights: Optional[Path] = None):
        """`final_weights`: where to save the weights when the stage ends, for a next stage to start from."""
        super().__init__()
        self.paths, self.state = paths, state
        self.stage_index, self.stage = stage_index, stage
        self.final_weights = final_weights
        self.stage_offset = state.epochs_before(stage_index)
        self._first_epoch = True
        self._epoch_start = 0.0

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        if self._first_epoch:   # where Keras resumes (after BackupAndRestore) overrides any later record
            self.state.forget_epochs_from(self.stage_index, epoch)
            self._first_epoch = False
        self._epoch_start = time.monotonic()

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        optimizer = self.model.optimizer
        record = {
            "stage": self.stage_index + 1,
            "epoch": epoch + 1,
            "stage_epoch": epoch + 1 - self.stage_offset,
            "step": int(optimizer.iterations.numpy()),           # (a MirroredVariable under mirrored)
            "learning_rate": float(optimizer.learning_rate.numpy()),
            "seconds": round(time.monotonic() - self._epoch_start, 2),
            **{key: float(value) for key, value in (logs or {}).items()},
        }
        monitor = self.state.monitor
        score = record[monitor]
        if self.state.improves(score):
            save_model_weights(self.model, self.paths.best_weights)
            self.state.best_score, self.state.best_stage, self.state.best_epoch = score, record["stage"], epoch + 1
            print(f"\n{monitor} improved to {score:.4f}: saved {self.paths.best_weights}")
        stage = self.state.stages[self.stage_index]
        stage.epochs.append(record)
        if self.state.epochs_without_improvement(self.stage_index) >= self.stage.patience:
            stage.stopped_early = True
            self.model.stop_training = True
            print(f"\nEarly stopping: no {monitor} improvement in {self.stage.patience} epochs of stage "
                  f"{self.stage_index + 1}.")
        if self.final_weights and (stage.stopped_early or len(stage.epochs) >= self.stage.epochs):
            save_model_weights(self.model, self.final_weights)
        self.state.save(self.paths.state)
        self.state.write_history(self.paths.history)


class StepAndEpochBackup(keras.callbacks.BackupAndRestore):
    """BackupAndRestore that saves every `save_freq` steps and also at the end of every epoch.

    With an integer save_freq Keras only saves on step counts, so a kill just after an epoch ended
    would re-run that whole epoch; saving at the epoch's end as well makes the next epoch the
    resume point.
    """

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        super().on_epoch_end(epoch, logs)
        self._batches_seen_since_last_saving = 0
        self._save_model()


def has_backup(backup_dir: Path) -> bool:
    return backup_dir.is_dir() and any(backup_dir.iterdir())
