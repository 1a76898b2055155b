"""Segmentation losses of the reference runs, written with keras.ops so they run on any backend.

Every loss takes integer labels y_true (B, H, W) or (B, H, W, 1) and softmax probabilities
y_pred (B, H, W, C), computes in float32 whatever the mixed-precision policy, and returns one
value per sample; Keras' default reduction then averages over the batch. They are registered
Keras classes, so a compiled model saved with them loads again by name.
"""
from __future__ import annotations

from typing import Optional, Sequence, Union

import keras
from keras import ops

from landcover_qgis_plugin.core.errors import InputError

# The reference's Dice smoothing term, in numerator and denominator alike.
DICE_SMOOTH = 1e-6
# Probabilities are clipped before the log so a confident wrong pixel costs -log(1e-7), not inf.
PROBABILITY_FLOOR = 1e-7
# n / (C · count) over LandCover.ai's 7470 training tiles (seed-recipe.md), as the reference rounded them.
INVERSE_FREQUENCY_WEIGHTS = (0.3452, 23.3576, 0.6037, 3.0958, 12.3215)
LOSS_NAMES = ("dice", "sparse_ce", "weighted_ce", "focal", "dice_ce")
ClassWeights = Union[str, Sequence[float], None]


def inverse_frequency_weights(pixel_counts: Sequence[int]) -> list[float]:
    """Class weights n / (C · count): rare classes weigh more, a class at 1/C of the pixels weighs 1."""
    counts = [int(c) for c in pixel_counts]
    if not counts or min(counts) <= 0:
        raise InputError(f"Inverse-frequency weights need a positive pixel count for every class, got "
                         f"{counts}; a class that never occurs in the training tiles cannot be weighted.")
    total = sum(counts)
    return [total / (len(counts) * count) for count in counts]


def resolve_class_weights(class_weights: ClassWeights, num_classes: int) -> Optional[list[float]]:
    """Turn a config's class_weights (null, "inverse_frequency" or a list) into checked floats."""
    if class_weights is None:
        return None
    if isinstance(class_weights, str):
        if class_weights != "inverse_frequency":
            raise InputError(f"Unknown class_weights '{class_weights}'; use null, 'inverse_frequency' "
                             f"or a list of {num_classes} numbers.")
        if num_classes != len(INVERSE_FREQUENCY_WEIGHTS):
            raise InputError(f"class_weights 'inverse_frequency' holds LandCover.ai's "
                             f"{len(INVERSE_FREQUENCY_WEIGHTS)} classes but the model has {num_classes}; "
                             "give a list computed with trainer.losses.inverse_frequency_weights.")
        return list(INVERSE_FREQUENCY_WEIGHTS)
    try:
        weights = [float(w) for w in class_weights]
    except (TypeError, ValueError):      # a config value that is not a list of numbers
        weights = None
    if weights is None or len(weights) != num_classes or min(weights) <= 0:
        raise InputError(f"class_weights must be {num_classes} positive numbers (one per class), "
                         f"got {class_weights!r}.")
    return weights


def _labels(y_true):
    """Integer labels (B, H, W) from (B, H, W) or (B, H, W, 1) of any dtype."""
    labels = ops.convert_to_tensor(y_true)
    if len(labels.shape) == 4:
        labels = ops.squeeze(labels, axis=-1)
    return ops.cast(labels, "int32")


def soft_dice_per_sample(labels, probabilities, num_classes: int):
    """1 − mean over classes of (2·Σp·y + ε) / (Σp² + Σy² + ε), sums over H and W (the reference's Dice)."""
    probabilities = ops.cast(probabilities, "float32")
    one_hot = ops.one_hot(labels, num_classes, dtype="float32")
    intersection = ops.sum(probabilities * one_hot, axis=(1, 2))
    denominator = ops.sum(ops.square(probabilities), axis=(1, 2)) + ops.sum(ops.square(one_hot), axis=(1, 2))
    score = (2.0 * intersection + DICE_SMOOTH) / (denominator + DICE_SMOOTH)
    return 1.0 - ops.mean(score, axis=-1)


def cross_entropy_per_sample(labels, probabilities, num_classes: int, gamma: float = 0.0,
                             class_weights: Optional[Sequence[float]] = None):
    """Focal cross-entropy −(1−p)^γ·log p of each pixel's true class; γ = 0 is plain cross-entropy.

    With class weights the batch value is the weighted mean Σ w·ce / Σ w (as PyTorch's weighted
    cross-entropy), so the loss keeps the scale of plain cross-entropy whatever the weights.
    """
    probabilities = ops.cast(probabilities, "float32")
    one_hot = ops.one_hot(labels, num_classes, dtype="float32")
    true_probability = ops.clip(ops.sum(probabilities * one_hot, axis=-1), PROBABILITY_FLOOR, 1.0)
    pixel_loss = -ops.log(true_probability)
    if gamma:
        pixel_loss = pixel_loss * ops.power(1.0 - true_probability, gamma)
    if class_weights is None:
        return ops.mean(pixel_loss, axis=(1, 2))
    pixel_weight = ops.take(ops.convert_to_tensor(class_weights, dtype="float32"), labels)
    weighted_sum = ops.sum(pixel_loss * pixel_weight, axis=(1, 2))
    # Each sample's share of Σ w·ce, scaled so that the mean over the batch is Σ w·ce / Σ w.
    batch_size = ops.cast(ops.shape(weighted_sum)[0], "float32")
    return weighted_sum * batch_size / ops.sum(pixel_weight)


class _SegmentationLoss(keras.losses.Loss):
    """Shared plumbing: float32 computation, label shape handling and config round trip."""

    def __init__(self, num_classes: int, name: str, reduction: str = "sum_over_batch_size",
                 dtype: str = "float32"):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.num_classes = int(num_classes)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_classes": self.num_classes}


@keras.saving.register_keras_serializable(package="landcover")
class SoftDiceLoss(_SegmentationLoss):
    """Soft Dice on one-hot targets, per sample and class, background included (run 5.10's loss)."""

    def __init__(self, num_classes: int, name: str = "dice", **kwargs):
        super().__init__(num_classes, name=name, **kwargs)

    def call(self, y_true, y_pred):
        return soft_dice_per_sample(_labels(y_true), y_pred, self.num_classes)


@keras.saving.register_keras_serializable(package="landcover")
class FocalCrossEntropy(_SegmentationLoss):
    """Sparse cross-entropy on probabilities; optional class weights (alpha) and focusing gamma."""

    def __init__(self, num_classes: int, gamma: float = 0.0, class_weights: Optional[Sequence[float]] = None,
                 name: str = "sparse_ce", **kwargs):
        super().__init__(num_classes, name=name, **kwargs)
        self.gamma = float(gamma)
        self.class_weights = resolve_class_weights(class_weights, self.num_classes)

    def call(self, y_true, y_pred):
        return cross_entropy_per_sample(_labels(y_true), y_pred, self.num_classes, self.gamma,
                                        self.class_weights)

    def get_config(self) -> dict:
        return {**super().get_config(), "gamma": self.gamma, "class_weights": self.class_weights}


@keras.saving.register_keras_serializable(package="landcover")
class DiceCrossEntropy(_SegmentationLoss):
    """Soft Dice plus (optionally class-weighted) cross-entropy: Dice for overlap, CE for calibration."""

    def __init__(self, num_classes: int, class_weights: Optional[Sequence[float]] = None,
                 name: str = "dice_ce", **kwargs):
        super().__init__(num_classes, name=name, **kwargs)
        self.class_weights = resolve_class_weights(class_weights, self.num_classes)

    def call(self, y_true, y_pred):
        labels = _labels(y_true)
        return (soft_dice_per_sample(labels, y_pred, self.num_classes)
                + cross_entropy_per_sample(labels, y_pred, self.num_classes, 0.0, self.class_weights))

    def get_config(self) -> dict:
        return {**super().get_config(), "class_weights": self.class_weights}


def get_loss(name: str, num_classes: int, class_weights: ClassWeights = None) -> keras.losses.Loss:
    """The loss a run config names.

    sparse_ce with class weights is weighted_ce (runs 5.3–5.7 are "sparse CE, class weights yes");
    for focal the weights are its alpha; dice takes none.
    """
    weights = resolve_class_weights(class_weights, num_classes)
    if name == "dice":
        if weights is not None:
            raise InputError("Loss 'dice' takes no class weights; set class_weights to null or use "
                             "'dice_ce' (whose cross-entropy part is weighted).")
        return SoftDiceLoss(num_classes)
    if name == "sparse_ce":
        return FocalCrossEntropy(num_classes, class_weights=weights,
                                 name="sparse_ce" if weights is None else "weighted_ce")
    if name == "weighted_ce":
        if weights is None:
            raise InputError("Loss 'weighted_ce' needs class_weights: 'inverse_frequency' or a list of "
                             f"{num_classes} numbers.")
        return FocalCrossEntropy(num_classes, class_weights=weights, name="weighted_ce")
    if name == "focal":
        return FocalCrossEntropy(num_classes, gamma=2.0, class_weights=weights, name="focal")
    if name == "dice_ce":
        return DiceCrossEntropy(num_classes, class_weights=weights)
    raise InputError(f"Unknown loss '{name}'; use one of {', '.join(LOSS_NAMES)}.")
