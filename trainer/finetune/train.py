"""The fine-tuning run: a model file's network trained further on labelled images, resumable, within a budget.

Decisions (quoted in the README):

* **What it optimises**: cross-entropy over the labelled pixels only, each class weighted by the square
  root of its rarity among them (so a few labelled roads count, without drowning the rest), with Adam
  at 1e-3 on chips of one tile, `wide` augmentation (flips and turns, zoom, other cameras' colour,
  blur and noise: trainer/data/pipeline.py), batch norm trained as in `fit`.
* **Epochs** of STEPS_PER_EPOCH batches; after each the validation blocks (chips.py) are scored
  (one confusion matrix, mIoU over the classes present); the best weights are kept and training
  stops after PATIENCE epochs without a better score, at the epoch budget, or when the time budget
  (minutes of this machine) is spent, whichever comes first.
* **Resume**: the work folder beside the output (`NEW.keras.finetune/`) keeps the last epoch's weights and
  optimizer (Keras' BackupAndRestore), the best weights and the record (elapsed time, scores); the same
  command goes on from there; other inputs or settings are refused by name (`--restart` starts over). It
  goes once the model file is written.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from landcover_qgis_plugin.core.errors import Cancelled, InputError
from landcover_qgis_plugin.core.files import atomic_write_text, make_folder
from landcover_qgis_plugin.core.modelfile import ModelMetadata

from ..metrics import confusion_matrix, iou_from_confusion
from .chips import ChipSampler, Split, validation_chips
from .labels import UNLABELLED, LabelledImage

STEPS_PER_EPOCH = 40
PATIENCE = 10
STATE_FILE = "state.json"


@dataclass(frozen=True)
class Settings:
    """How the network is trained (the record of a run: a resumed run must have the same)."""
    minutes: float | None = 5.0
    epochs: int | None = None
    batch_size: int = 8
    learning_rate: float = 1e-3
    augmentation: str = "wide"
    seed: int = 0


@dataclass
class Progress:
    """What a front-end hears after each epoch."""
    epoch: int
    seconds: float
    loss: float
    val_miou: float
    best_miou: float


@dataclass
class TrainingRecord:
    epochs: int = 0
    seconds: float = 0.0
    best_miou: float = -1.0
    best_epoch: int = 0
    stale: int = 0
    history: list[dict] = field(default_factory=list)


def class_weights(counts: np.ndarray) -> np.ndarray:
    """sqrt(labelled pixels / pixels of the class), mean 1 over the classes labelled; 0 for the others."""
    counts = np.asarray(counts, float)
    weights = np.where(counts > 0, np.sqrt(counts.sum() / np.maximum(counts, 1.0)), 0.0)
    return weights / weights[counts > 0].mean()


def masked_cross_entropy(weights: np.ndarray):
    """A Keras loss: class-weighted cross-entropy over the pixels that are labelled (not UNLABELLED)."""
    import keras

    table = keras.ops.convert_to_tensor(np.asarray(weights, np.float32))

    def loss(y_true, y_pred):
        labels = keras.ops.cast(y_true, "int32")
        labelled = keras.ops.cast(labels != UNLABELLED, "float32")
        labels = keras.ops.where(labels != UNLABELLED, labels, 0)
        pixel = keras.losses.sparse_categorical_crossentropy(labels, y_pred)
        weight = keras.ops.take(table, labels) * labelled
        return keras.ops.sum(pixel * weight) / (keras.ops.sum(labelled) + 1e-6)
    return loss


def score(network, pixels: np.ndarray, labels: np.ndarray, metadata: ModelMetadata, batch_size: int = 8) -> dict:
    """mIoU and per-class IoU of the network on labelled chips (one confusion matrix)."""
    classes = len(metadata.classes)
    total = np.zeros((classes, classes), np.int64)
    for start in range(0, len(pixels), batch_size):
        batch = metadata.normalization.apply(pixels[start:start + batch_size])
        predicted = np.asarray(network.predict_on_batch(batch)).argmax(axis=-1)
        truth = labels[start:start + batch_size]
        labelled = truth != UNLABELLED
        total += confusion_matrix(truth[labelled], predicted[labelled], classes)
    miou, per_class = iou_from_confusion(total)
    return {"miou": round(float(miou), 4),
            "per_class_iou": {info.name: (None if np.isnan(value) else round(float(value), 4))
                              for info, value in zip(metadata.classes, per_class)}}


def training_dataset(sampler: ChipSampler, metadata: ModelMetadata, settings: Settings, epoch: int):
    """An endless tf.data stream of augmented, normalised batches; its chips drawn afresh from `epoch` on."""
    import tensorflow as tf

    from ..data.pipeline import _flip, _widen

    tile, bands = sampler.tile, metadata.bands

    def chips():
        rng = np.random.default_rng([settings.seed, epoch])
        while True:
            pixels, labels = sampler.draw(rng)
            yield np.asarray(pixels, np.float32) / 255.0, labels.astype(np.int32), rng.integers(0, 2 ** 31, 2)

    dataset = tf.data.Dataset.from_generator(chips, output_signature=(
        tf.TensorSpec((tile, tile, bands), tf.float32), tf.TensorSpec((tile, tile), tf.int32),
        tf.TensorSpec((2,), tf.int64)))
    transform = _widen if settings.augmentation == "wide" else _flip
    scale, offset = (tf.constant(v, tf.float32) for v in metadata.normalization.scale_offset())

    def prepare(image, labels, seed):
        image, labels = transform(image, labels, seed)
        return image * 255.0 * scale + offset, labels

    return dataset.map(prepare, num_parallel_calls=tf.data.AUTOTUNE).batch(settings.batch_size).prefetch(2)


def run_training(network, metadata: ModelMetadata, images: Sequence[LabelledImage], parts: Split,
                 counts: np.ndarray, settings: Settings, work: Path, identity: dict, start_miou: float,
                 report: Callable[[Progress], None], is_cancelled: Callable[[], bool]) -> TrainingRecord:
    """Train `network` in place and leave it with its best weights, never worse on the validation blocks than
    it started (`start_miou`; see the module docstring)."""
    import keras

    record = _open_record(work, identity)
    val_pixels, val_labels = validation_chips(images, parts.validation, parts.tile)
    best = work / "best.weights.h5"
    if record.epochs == 0:
        record.best_miou = start_miou   # the start to beat
        network.save_weights(best)
    network.compile(optimizer=keras.optimizers.Adam(settings.learning_rate), loss=masked_cross_entropy(
        class_weights(counts)))
    sampler = ChipSampler(images, parts.training, parts.tile)
    started = time.monotonic() - record.seconds

    class Epochs(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if is_cancelled():
                self.model.stop_training = True
            elif settings.minutes is not None and time.monotonic() - started >= settings.minutes * 60:
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            if is_cancelled():
                return
            result = score(self.model, val_pixels, val_labels, metadata)
            record.epochs, record.seconds = epoch + 1, time.monotonic() - started
            record.history.append({"epoch": epoch + 1, "loss": float(logs.get("loss", np.nan)), **result})
            if result["miou"] > record.best_miou:
                record.best_miou, record.best_epoch, record.stale = result["miou"], epoch + 1, 0
                self.model.save_weights(best)
            else:
                record.stale += 1
            _save_record(work, identity, record)
            report(Progress(epoch + 1, record.seconds, float(logs.get("loss", np.nan)), result["miou"],
                            record.best_miou))
            if record.stale >= PATIENCE:
                self.model.stop_training = True

    epochs = settings.epochs or 10_000
    if record.epochs < epochs and record.stale < PATIENCE and not _time_spent(record, settings):
        network.fit(training_dataset(sampler, metadata, settings, record.epochs), epochs=epochs,
                    steps_per_epoch=STEPS_PER_EPOCH, verbose=0,
                    callbacks=[keras.callbacks.BackupAndRestore(str(work / "backup"), save_freq="epoch"), Epochs()])
    if is_cancelled():
        raise Cancelled()
    network.load_weights(best)
    return record


def _time_spent(record: TrainingRecord, settings: Settings) -> bool:
    return settings.minutes is not None and record.seconds >= settings.minutes * 60


def fingerprint(model: Path, sources: Sequence, settings: Settings) -> dict:
    """What a run is: the start model (its bytes), the labelled inputs (paths, sizes, times) and the settings
    (not the budget: a resumed run may be given more time or epochs)."""
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    inputs = []
    for source in sources:
        for path in (source.image, source.truth, source.polygons, source.area):
            if path:
                stat = Path(path).stat() if Path(path).exists() else None
                inputs.append([str(Path(path).resolve()), stat.st_size if stat else None,
                               stat.st_mtime_ns if stat else None])
        inputs.append(["class_field", source.class_field])
    trained = {key: value for key, value in dataclasses.asdict(settings).items() if key not in ("minutes", "epochs")}
    return {"model": digest, "inputs": inputs, "settings": trained}


def work_folder(out: Path, identity: dict, restart: bool) -> Path:
    """`NEW.keras.finetune/` beside the output: this run's, or an earlier run of the same command's."""
    work = out.with_name(out.name + ".finetune")
    if restart and work.exists():
        shutil.rmtree(work)
    state = work / STATE_FILE
    if state.is_file():
        stored = json.loads(state.read_text()).get("identity", {})
        changed = [key for key in ("model", "inputs", "settings") if stored.get(key) != identity.get(key)]
        if changed:
            raise InputError(f"'{work}' holds a fine-tuning run with another {', '.join(changed)}; run the same "
                             "command to continue it, or add --restart to start over.")
    return make_folder(work)


def _open_record(work: Path, identity: dict) -> TrainingRecord:
    state = work / STATE_FILE
    if not state.is_file():
        return TrainingRecord()
    return TrainingRecord(**json.loads(state.read_text())["record"])


def _save_record(work: Path, identity: dict, record: TrainingRecord) -> None:
    atomic_write_text(work / STATE_FILE, json.dumps({"identity": identity, "record": dataclasses.asdict(record)},
                                                    indent=1), overwrite=True)
