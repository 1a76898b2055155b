"""Intersection over union the way the reference scores its runs: one global confusion matrix.

The mIoU of a split is the mean of the class IoUs of the confusion matrix summed over every
tile, background included: not a mean of per-tile or per-batch scores, which weigh small
tiles and rare classes differently.

A class absent from both the truth and the prediction has no IoU (0/0): its entry is NaN and
it is left out of the mean, as keras.metrics.MeanIoU does. A class present in either one but
never predicted right has IoU 0 and counts. So a tile that is all woodland, predicted all
woodland, scores 1.0.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from landcover_qgis_plugin.core.errors import InputError
from landcover_qgis_plugin.core.modelfile import ClassInfo


def _validated_labels(y_true, y_pred, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    truth = np.asarray(y_true)
    prediction = np.asarray(y_pred)
    if truth.shape != prediction.shape:
        raise ValueError(f"Truth and prediction shapes differ: {truth.shape} vs {prediction.shape}.")
    for what, labels in (("truth", truth), ("prediction", prediction)):
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise InputError(f"The {what} holds class values {labels.min()}..{labels.max()} but only "
                             f"0..{num_classes - 1} are classes; check the masks and the model's class count.")
    return truth, prediction


def _bin_counts(truth: np.ndarray, prediction: np.ndarray, num_classes: int, groups: int = 1,
                group_index=0) -> np.ndarray:
    """bincount of (group, truth, prediction) triples, indexed in the smallest integer type that fits.

    Bytes instead of int64 for 5 classes: a 512 px tile batch or a whole orthophoto's mask stays cheap.
    """
    bins = groups * num_classes ** 2
    index_type = np.min_scalar_type(bins - 1)
    index = (np.asarray(group_index, index_type) * num_classes + truth.astype(index_type)) * num_classes
    index += prediction.astype(index_type)
    return np.bincount(index.ravel(), minlength=bins).astype(np.int64)


def confusion_matrix(y_true, y_pred, num_classes: int) -> np.ndarray:
    """int64 (C, C) counts, rows = truth, columns = prediction, over arrays of any (equal) shape."""
    truth, prediction = _validated_labels(y_true, y_pred, num_classes)
    return _bin_counts(truth, prediction, num_classes).reshape(num_classes, num_classes)


def tile_confusion_matrices(y_true, y_pred, num_classes: int) -> np.ndarray:
    """int64 (B, C, C): one confusion matrix per tile of a batch (B, H, W), from a single bincount."""
    truth, prediction = _validated_labels(y_true, y_pred, num_classes)
    tiles = truth.shape[0]
    tile_index = np.arange(tiles).reshape((tiles,) + (1,) * (truth.ndim - 1))
    counts = _bin_counts(truth, prediction, num_classes, tiles, tile_index)
    return counts.reshape(tiles, num_classes, num_classes)


def iou_from_confusion(cm: np.ndarray):
    """(mIoU, per-class IoU) of a confusion matrix (C, C); a stack (..., C, C) gives arrays of both.

    IoU_c = TP / (TP + FP + FN); NaN for a class absent from truth and prediction, which the
    mean leaves out (the mean is NaN only when the matrix is empty).
    """
    cm = np.asarray(cm, dtype=np.float64)
    true_positives = np.diagonal(cm, axis1=-2, axis2=-1)
    union = cm.sum(axis=-1) + cm.sum(axis=-2) - true_positives
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(union > 0, true_positives / union, np.nan)
        present = np.count_nonzero(union > 0, axis=-1)
        miou = np.where(present > 0, np.nansum(per_class, axis=-1) / present, np.nan)
    if miou.ndim == 0:
        return float(miou), per_class
    return miou, per_class


def tile_miou(y_true, y_pred, num_classes: int) -> np.ndarray:
    """mIoU of each tile of a batch (B, H, W), to rank tiles (e.g. the reference's < 0.25 review rule)."""
    return iou_from_confusion(tile_confusion_matrices(y_true, y_pred, num_classes))[0]


def miou_metric(num_classes: int):
    """Keras metric "miou": a global confusion matrix over the epoch from argmax(y_pred), background included.

    keras.metrics.MeanIoU does exactly that (integer confusion matrix accumulated across batches,
    absent classes left out of the mean like iou_from_confusion), and it serialises by name.
    """
    import keras

    return keras.metrics.MeanIoU(num_classes=num_classes, name="miou", sparse_y_true=True,
                                 sparse_y_pred=False)


def training_metrics(classes: Sequence[ClassInfo]) -> list:
    """What `fit` logs: "miou" and each class's IoU ("road_iou", ...), any of which `train.monitor` may follow."""
    import keras

    return [miou_metric(len(classes)), *(
        keras.metrics.IoU(num_classes=len(classes), target_class_ids=[info.value], name=f"{info.name}_iou",
                          sparse_y_true=True, sparse_y_pred=False) for info in classes)]
