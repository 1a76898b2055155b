"""Where training runs: the tf.distribute strategy, which worker writes the run folder, precision.

Keras 3 on the TensorFlow backend trains under any tf.distribute strategy as long as the model,
its optimizer and its metrics are created inside `strategy.scope()`; batches from a tf.data
dataset are split across the replicas, so the dataset is batched with the GLOBAL batch size
(per-replica batch x replicas).
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Iterator

from landcover_qgis_plugin.core.errors import InputError

STRATEGIES = ("default", "one_device", "mirrored", "multi_worker")


def avoid_onednn_training_crash(width: float) -> None:
    """Train a reduced-width network on CPU with TensorFlow's own kernels, not oneDNN's, unless
    TF_ENABLE_ONEDNN_OPTS says otherwise; it takes effect only before TensorFlow is imported.

    TensorFlow 2.17's oneDNN filter-gradient convolution corrupts the heap ("double free or
    corruption", then a crash in the first epoch) at width 0.125 (middle flow: 91 channels):
    `fit --config tiny` crashed on every try on an AVX-512 AMD EPYC, width 0.25 did not. The
    reference width trains fine with oneDNN and 1.75x faster (1.41 against 0.81 tiles/s on
    2 cores), so it keeps it; GPUs are not affected.
    """
    if width < 1.0:
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def make_strategy(name: str):
    """The tf.distribute strategy a config names.

    default: TensorFlow's default (one device, no distribution machinery);
    one_device: everything placed on the first GPU, or the CPU when there is none;
    mirrored: synchronous data parallelism over all local GPUs (the CPU when there is none);
    multi_worker: synchronous data parallelism over several machines described by TF_CONFIG.
    """
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "one_device":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            print("Note: TF_CONFIG is not set, so multi_worker trains on this machine alone. Set TF_CONFIG "
                  "on every machine (cluster spec and this machine's task) to train on several.",
                  file=sys.stderr)
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise InputError(f"Unknown strategy '{name}'; use one of {', '.join(STRATEGIES)}.")


def worker_run_root(strategy, root: Path) -> Path:
    """The folder this worker writes: the run folder for the chief, a private sub-folder otherwise.

    Under multi-worker training every worker saves checkpoints (saving is collective), but only the
    chief's copy is the run; the others write beside it so that nobody overwrites the chief's files.
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    task_id = getattr(resolver, "task_id", None)
    if task_type in (None, "chief"):
        return root
    cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    if task_type == "worker" and task_id == 0 and "chief" not in cluster:
        return root
    return root / "workers" / f"{task_type}_{task_id}"


def has_gpu() -> bool:
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


@contextlib.contextmanager
def precision_policy(mixed: bool) -> Iterator[str]:
    """Keras' global dtype policy for the block: mixed_float16 on a GPU, mixed_bfloat16 on a CPU.

    Variables stay float32 under both (so checkpoints load in float32 later); float16 needs loss
    scaling, which Keras 3's compile() adds by itself (auto_scale_loss). The previous policy is
    restored afterwards, so one process can build float32 models again.
    """
    import keras

    previous = keras.config.dtype_policy()
    name = ("mixed_float16" if has_gpu() else "mixed_bfloat16") if mixed else previous.name
    keras.config.set_dtype_policy(name)
    try:
        yield name
    finally:
        keras.config.set_dtype_policy(previous)
