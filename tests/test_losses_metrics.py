"""Losses and IoU against values worked out by hand on tiny arrays."""
import math

import keras
import numpy as np
import pytest

from landcover_qgis_plugin.core.errors import InputError
from trainer.losses import (INVERSE_FREQUENCY_WEIGHTS, LOSS_NAMES, FocalCrossEntropy, get_loss,
                            inverse_frequency_weights, resolve_class_weights)
from trainer.metrics import (confusion_matrix, iou_from_confusion, miou_metric, tile_confusion_matrices,
                             tile_miou)

# One sample, one row of two pixels, two classes: truth [0, 1].
TRUTH = np.array([[[0, 1]]])
PROBS = np.array([[[[0.8, 0.2], [0.4, 0.6]]]], dtype=np.float32)
# A second sample, truth [1, 1], for batch behaviour.
TRUTH_2 = np.array([[[0, 1]], [[1, 1]]])
PROBS_2 = np.array([[[[0.8, 0.2], [0.4, 0.6]]], [[[0.3, 0.7], [0.5, 0.5]]]], dtype=np.float32)


def value(loss, y_true, y_pred) -> float:
    return float(keras.ops.convert_to_numpy(loss(y_true, y_pred)))


# ---- Dice ---------------------------------------------------------------------------------------

def test_dice_matches_the_reference_formula_by_hand():
    # class 0: 2·0.8 / (0.8² + 0.4² + 1); class 1: 2·0.6 / (0.2² + 0.6² + 1), each with the 1e-6 terms.
    score_0 = (2 * 0.8 + 1e-6) / (0.64 + 0.16 + 1 + 1e-6)
    score_1 = (2 * 0.6 + 1e-6) / (0.04 + 0.36 + 1 + 1e-6)
    assert value(get_loss("dice", 2), TRUTH, PROBS) == pytest.approx(1 - (score_0 + score_1) / 2, abs=1e-6)


def test_dice_smoothing_terms_decide_absent_classes():
    truth = np.array([[[0, 1]]])
    # Class 2 is absent from the truth and never predicted: (0 + 1e-6) / (0 + 1e-6) = 1, a perfect score.
    exact = np.array([[[[1.0, 0, 0], [0, 1.0, 0]]]], dtype=np.float32)
    assert value(get_loss("dice", 3), truth, exact) == pytest.approx(0.0, abs=1e-6)
    # A probability of 1e-3 for it gives Σp² = 1e-6, so its score is 1e-6 / (1e-6 + 1e-6) = 0.5.
    leak = np.array([[[[0.999, 0, 0.001], [0, 1.0, 0]]]], dtype=np.float32)
    score_0 = (2 * 0.999 + 1e-6) / (0.999 ** 2 + 1 + 1e-6)
    expected = 1 - (score_0 + 1.0 + 0.5) / 3
    assert value(get_loss("dice", 3), truth, leak) == pytest.approx(expected, rel=1e-4)


def test_dice_perfect_and_uniformly_wrong_predictions():
    truth = np.zeros((2, 4, 4), dtype=np.int32)
    truth[:, :, 2:] = 1
    perfect = np.eye(2, dtype=np.float32)[truth]
    wrong = np.eye(2, dtype=np.float32)[1 - truth]
    dice = get_loss("dice", 2)
    assert value(dice, truth, perfect) == pytest.approx(0.0, abs=1e-7)
    # Every class: Σp·y = 0 and Σp² + Σy² = 16, so each score is 1e-6 / (16 + 1e-6).
    assert value(dice, truth, wrong) == pytest.approx(1 - 1e-6 / (16 + 1e-6), abs=1e-7)


def test_dice_is_the_mean_over_samples_and_accepts_a_channel_axis():
    scores = [[(2 * 0.8 + 1e-6) / (0.64 + 0.16 + 1 + 1e-6), (2 * 0.6 + 1e-6) / (0.04 + 0.36 + 1 + 1e-6)],
              [(0 + 1e-6) / (0.09 + 0.25 + 1e-6), (2 * 1.2 + 1e-6) / (0.49 + 0.25 + 2 + 1e-6)]]
    expected = 1 - np.mean(scores)
    dice = get_loss("dice", 2)
    assert value(dice, TRUTH_2, PROBS_2) == pytest.approx(expected, abs=1e-6)
    assert value(dice, TRUTH_2[..., None], PROBS_2) == pytest.approx(expected, abs=1e-6)


# ---- cross-entropies ----------------------------------------------------------------------------

def test_sparse_cross_entropy_by_hand():
    expected = (-math.log(0.8) - math.log(0.6)) / 2
    assert value(get_loss("sparse_ce", 2), TRUTH, PROBS) == pytest.approx(expected, rel=1e-6)


def test_weighted_cross_entropy_is_the_weighted_mean_over_the_batch():
    # Pixels (truth, p_true): (0, .8), (1, .6), (1, .7), (1, .5); weights 1 and 3.
    weighted = 1 * -math.log(0.8) + 3 * (-math.log(0.6) - math.log(0.7) - math.log(0.5))
    expected = weighted / (1 + 3 + 3 + 3)
    assert value(get_loss("weighted_ce", 2, [1.0, 3.0]), TRUTH_2, PROBS_2) == pytest.approx(expected, rel=1e-6)
    # sparse_ce with class weights is the same loss (runs 5.3-5.7: "sparse CE, class weights yes").
    loss = get_loss("sparse_ce", 2, [1.0, 3.0])
    assert loss.name == "weighted_ce"
    assert value(loss, TRUTH_2, PROBS_2) == pytest.approx(expected, rel=1e-6)


def test_focal_by_hand_and_with_gamma_zero_equals_cross_entropy():
    pixels = [0.8, 0.6, 0.7, 0.5]
    expected = np.mean([(1 - p) ** 2 * -math.log(p) for p in pixels])
    assert value(get_loss("focal", 2), TRUTH_2, PROBS_2) == pytest.approx(expected, rel=1e-5)
    assert value(FocalCrossEntropy(2, gamma=0.0), TRUTH_2, PROBS_2) == pytest.approx(
        value(get_loss("sparse_ce", 2), TRUTH_2, PROBS_2), rel=1e-6)
    assert value(FocalCrossEntropy(2, gamma=0.0, class_weights=[1.0, 3.0]), TRUTH_2, PROBS_2) == pytest.approx(
        value(get_loss("weighted_ce", 2, [1.0, 3.0]), TRUTH_2, PROBS_2), rel=1e-6)


def test_dice_ce_is_the_sum_and_cross_entropy_stays_finite():
    total = value(get_loss("dice_ce", 2), TRUTH_2, PROBS_2)
    assert total == pytest.approx(value(get_loss("dice", 2), TRUTH_2, PROBS_2)
                                  + value(get_loss("sparse_ce", 2), TRUTH_2, PROBS_2), rel=1e-6)
    certain_and_wrong = np.array([[[[0.0, 1.0]]]], dtype=np.float32)
    assert value(get_loss("sparse_ce", 2), np.array([[[0]]]), certain_and_wrong) == pytest.approx(
        -math.log(1e-7), rel=1e-4)


def test_losses_compute_in_float32_under_mixed_precision():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        for name in LOSS_NAMES:
            loss = get_loss(name, 2, [1.0, 3.0] if name == "weighted_ce" else None)
            result = loss(TRUTH_2, PROBS_2.astype(np.float16))
            assert keras.backend.standardize_dtype(result.dtype) == "float32"
            assert float(result) == pytest.approx(value(loss, TRUTH_2, PROBS_2), rel=1e-3)
    finally:
        keras.config.set_dtype_policy(previous)


def test_inverse_frequency_weights_reproduce_the_reference_numbers():
    counts = [1_134_439_928, 16_767_238, 648_714_832, 126_508_305, 31_785_377]
    assert sum(counts) == 7470 * 512 ** 2
    assert [round(w, 4) for w in inverse_frequency_weights(counts)] == list(INVERSE_FREQUENCY_WEIGHTS)
    assert resolve_class_weights("inverse_frequency", 5) == list(INVERSE_FREQUENCY_WEIGHTS)
    assert get_loss("weighted_ce", 5, "inverse_frequency").class_weights == list(INVERSE_FREQUENCY_WEIGHTS)


@pytest.mark.parametrize("call, message", [
    (lambda: get_loss("hinge", 5), "Unknown loss 'hinge'"),
    (lambda: get_loss("weighted_ce", 5), "needs class_weights"),
    (lambda: get_loss("dice", 5, "inverse_frequency"), "takes no class weights"),
    (lambda: get_loss("focal", 3, "inverse_frequency"), "model has 3"),
    (lambda: get_loss("focal", 3, [1.0, 2.0]), "3 positive numbers"),
    (lambda: get_loss("focal", 2, ["rare", "common"]), "2 positive numbers"),
    (lambda: get_loss("focal", 2, 3), "2 positive numbers"),
    (lambda: get_loss("focal", 2, "balanced"), "Unknown class_weights"),
    (lambda: inverse_frequency_weights([10, 0, 5]), "never occurs"),
])
def test_bad_loss_settings_say_what_to_do(call, message):
    with pytest.raises(InputError, match=message):
        call()


def test_losses_are_named_and_round_trip_through_keras_serialisation():
    for name in LOSS_NAMES:
        loss = get_loss(name, 2, [1.0, 3.0] if name == "weighted_ce" else None)
        assert loss.name == name
        again = keras.losses.deserialize(keras.losses.serialize(loss))
        assert type(again) is type(loss) and again.get_config() == loss.get_config()
        assert value(again, TRUTH_2, PROBS_2) == pytest.approx(value(loss, TRUTH_2, PROBS_2), rel=1e-6)


def test_loss_and_metric_train_a_real_model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 3))
    outputs = keras.layers.Conv2D(3, 1, activation="softmax")(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=get_loss("dice_ce", 3), metrics=[miou_metric(3)])
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=(8, 8, 8))
    images = np.eye(3, dtype=np.float32)[labels]  # the colour is the class: learnable by a 1x1 conv
    history = model.fit(images, labels, validation_data=(images, labels), epochs=15, batch_size=4, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["val_miou"][-1] > 0.9


# ---- confusion matrix and IoU -------------------------------------------------------------------

# truth 0 0 0 1 1 2, prediction 0 0 1 1 2 2:
#   cm = [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
#   IoU0 = 2 / (3 + 2 - 2) = 2/3, IoU1 = 1 / (2 + 2 - 1) = 1/3, IoU2 = 1 / (1 + 2 - 1) = 1/2, mIoU = 1/2
HAND_TRUTH = np.array([[0, 0, 0], [1, 1, 2]])
HAND_PRED = np.array([[0, 0, 1], [1, 2, 2]])


def test_confusion_matrix_and_iou_by_hand():
    cm = confusion_matrix(HAND_TRUTH, HAND_PRED, 3)
    np.testing.assert_array_equal(cm, [[2, 1, 0], [0, 1, 1], [0, 0, 1]])
    miou, per_class = iou_from_confusion(cm)
    np.testing.assert_allclose(per_class, [2 / 3, 1 / 3, 1 / 2])
    assert miou == pytest.approx(0.5)


def test_absent_class_is_left_out_of_the_mean_but_a_missed_class_counts():
    miou, per_class = iou_from_confusion(confusion_matrix(HAND_TRUTH, HAND_PRED, 4))
    assert math.isnan(per_class[3]) and miou == pytest.approx(0.5)
    # Class 3 predicted but never true: IoU 0, and it pulls the mean down; classes 1 and 2 have no IoU.
    miou, per_class = iou_from_confusion(confusion_matrix([0, 0], [0, 3], 4))
    np.testing.assert_array_equal(np.isnan(per_class), [False, True, True, False])
    assert per_class[0] == 0.5 and per_class[3] == 0 and miou == pytest.approx(0.25)
    assert math.isnan(iou_from_confusion(np.zeros((3, 3)))[0])


def test_per_tile_matrices_and_scores():
    truth = np.stack([HAND_TRUTH, np.full((2, 3), 2)])
    prediction = np.stack([HAND_PRED, np.full((2, 3), 2)])
    matrices = tile_confusion_matrices(truth, prediction, 3)
    np.testing.assert_array_equal(matrices[0], confusion_matrix(HAND_TRUTH, HAND_PRED, 3))
    np.testing.assert_array_equal(matrices.sum(axis=0), confusion_matrix(truth, prediction, 3))
    np.testing.assert_allclose(tile_miou(truth, prediction, 3), [0.5, 1.0])  # all woodland, all right: 1


def test_labels_outside_the_classes_are_refused():
    with pytest.raises(InputError, match="class values 0..5"):
        confusion_matrix([[0, 5]], [[0, 1]], 5)
    with pytest.raises(ValueError, match="shapes differ"):
        confusion_matrix([0, 1], [0, 1, 1], 5)


def test_keras_metric_accumulates_one_global_matrix_over_batches():
    # Batch 1 alone: all background, all right (mIoU 1). Batch 2 alone: truth 0 1, prediction 1 1
    # (IoU0 0, IoU1 1/2: mIoU 1/4). Mean of batches 0.625; global matrix [[4, 1], [0, 1]]: (4/5 + 1/2) / 2 = 0.65.
    batches = [(np.zeros((1, 2, 2), np.int32), np.zeros((1, 2, 2), np.int64)),
               (np.array([[[0, 1]]], np.int32), np.array([[[1, 1]]], np.int64))]
    metric = miou_metric(2)
    assert metric.name == "miou"
    for truth, predicted in batches:
        probabilities = np.where(np.eye(2, dtype=bool)[predicted], 0.7, 0.3).astype(np.float32)
        metric.update_state(truth, probabilities)
    truth_all = np.concatenate([b[0].ravel() for b in batches])
    predicted_all = np.concatenate([b[1].ravel() for b in batches])
    expected = iou_from_confusion(confusion_matrix(truth_all, predicted_all, 2))[0]
    assert expected == pytest.approx(0.65)
    assert float(metric.result()) == pytest.approx(expected, abs=1e-6)
    metric.reset_state()
    assert float(metric.result()) == 0.0


def test_confusion_matrix_on_a_real_mask_is_exact(shared_data):
    """19.4 Mpx of real LandCover.ai labels against the same labels shifted 3 px: the edges disagree."""

    from osgeo import gdal

    dataset = gdal.Open(str(shared_data / "landcoverai_mask_N-33-60-D-c-4-2.tif"))
    truth = dataset.GetRasterBand(1).ReadAsArray()
    dataset = None
    prediction = np.roll(truth, 3, axis=1)
    cm = confusion_matrix(truth, prediction, 5)
    expected = np.array([[np.count_nonzero((truth == t) & (prediction == p)) for p in range(5)] for t in range(5)])
    np.testing.assert_array_equal(cm, expected)
    np.testing.assert_array_equal(cm.sum(axis=1), np.bincount(truth.ravel(), minlength=5))
    miou, per_class = iou_from_confusion(cm)
    assert 0.5 < miou < 1.0 and per_class.argmin() in (1, 4)  # thin buildings and roads suffer most
