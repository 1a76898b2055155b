"""DeepLabv3+ networks: architecture (parameter count from the paper-level description), output
shapes of every variant, saving, freezing, pretrained weights by name, FLOPs."""
import h5py
import keras
import numpy as np
import pytest

from landcover_qgis_plugin.core.errors import InputError, ModelFileError
from trainer.config import ModelConfig
from trainer.models import build_model, forward_flops, freeze, load_pretrained

TINY = dict(width=0.125, middle_units=1, input_size=64)


# --- closed-form parameter counts of the reference architecture (seed-recipe.md) ---------------
def bn(channels):             # gamma, beta (trainable) + moving mean, variance (not)
    return 4 * channels


def sep(cin, cout):           # 3x3 depthwise, BN, 1x1 pointwise, BN; no biases
    return 9 * cin + bn(cin) + cin * cout + bn(cout)


def conv_bn(cin, cout, k=1):
    return k * k * cin * cout + bn(cout)


def block(cin, depths, conv_shortcut):
    total = sep(cin, depths[0]) + sep(depths[0], depths[1]) + sep(depths[1], depths[2])
    return total + (conv_bn(cin, depths[2]) if conv_shortcut else 0)


def bn_channels_sep(cin, cout):
    return cin + cout


ENTRY = (conv_bn(3, 32, 3) + conv_bn(32, 64, 3) + block(64, [128] * 3, True)
         + block(128, [256] * 3, True) + block(256, [728] * 3, True))
MIDDLE = 16 * block(728, [728] * 3, False)
EXIT = block(728, [728, 1024, 1024], True) + block(1024, [1536, 1536, 2048], False)
HEAD = (conv_bn(2048, 256) + conv_bn(2048, 256) + 3 * sep(2048, 256) + conv_bn(5 * 256, 256)
        + conv_bn(256, 48) + sep(256 + 48, 256) + sep(256, 256) + 256 * 5 + 5)
# BatchNorm channels outside entry + middle (their moving statistics stay non-trainable)
EXIT_HEAD_BN_CHANNELS = (
    bn_channels_sep(728, 728) + bn_channels_sep(728, 1024) + bn_channels_sep(1024, 1024) + 1024
    + bn_channels_sep(1024, 1536) + bn_channels_sep(1536, 1536) + bn_channels_sep(1536, 2048)
    + 256 + 256 + 3 * bn_channels_sep(2048, 256) + 256 + 48
    + bn_channels_sep(304, 256) + bn_channels_sep(256, 256))


def run(model, images):
    """Eager inference: cheaper than predict() for one batch of a freshly built model."""
    return keras.ops.convert_to_numpy(model(images, training=False))


@pytest.fixture(scope="module")
def full_model():
    return build_model(ModelConfig())


def trainable_paths(model):
    return {v.path for v in model.trainable_weights}


def test_full_model_matches_the_reference_architecture(full_model):
    assert full_model.count_params() == ENTRY + MIDDLE + EXIT + HEAD == 41_254_101
    image = np.random.default_rng(0).normal(size=(1, 512, 512, 3)).astype("float32")
    probabilities = run(full_model, image)
    assert probabilities.shape == (1, 512, 512, 5)
    assert probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-5)
    skip = full_model.get_layer("feature_projection0").input
    assert tuple(skip.shape[1:]) == (128, 128, 256)            # low-level skip at 1/4
    assert tuple(full_model.get_layer("aspp0").input.shape[1:]) == (32, 32, 2048)


def test_freeze_middle_equals_reference_index_324(full_model):
    try:
        assert freeze(full_model, "middle") == 323                # input + entry + 16 middle units
        trainable = sum(int(np.prod(v.shape)) for v in full_model.trainable_weights)
        frozen = sum(int(np.prod(v.shape)) for v in full_model.non_trainable_weights)
        moving_statistics = 2 * EXIT_HEAD_BN_CHANNELS
        assert trainable == EXIT + HEAD - moving_statistics
        assert frozen == ENTRY + MIDDLE + moving_statistics
        by_stage = trainable_paths(full_model)

        freeze(full_model, 324)
        assert trainable_paths(full_model) == by_stage
        assert full_model.layers[322].name == "middle_flow_unit_16_add"
        assert not full_model.layers[323].weights              # exit flow's first ReLU
    finally:
        freeze(full_model, None)
    assert len(full_model.non_trainable_weights) == 2 * sum(
        isinstance(layer, keras.layers.BatchNormalization) for layer in full_model.layers)


def test_full_model_flops_close_to_reference(full_model):
    # the reference network is about 100 GFLOP per 512 px tile at output stride 16
    assert 95e9 < forward_flops(full_model) < 110e9


def test_forward_flops_counts_each_layer_kind():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, dilation_rate=2, padding="same")(inputs)    # bias
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Activation("relu")(x)
    x = keras.layers.DepthwiseConv2D(3, strides=2, padding="same", use_bias=False)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(5, activation=None)(x)
    model = keras.Model(inputs, outputs)
    expected = (2 * 64 * 4 * 27 + 64 * 4      # conv: 2 x MACs + bias, dilation adds no work
                + 2 * 256 + 256                # BN, ReLU
                + 2 * 16 * 4 * 9               # depthwise on the 4x4 output
                + 64                           # average pooling
                + 2 * 4 * 5 + 5)               # dense
    assert forward_flops(model) == expected


def test_forward_flops_refuses_unknown_layers():
    inputs = keras.Input((4, 4, 3))
    model = keras.Model(inputs, keras.layers.LayerNormalization()(inputs))
    with pytest.raises(ValueError, match="no rule for layer"):
        forward_flops(model)


@pytest.mark.parametrize("overrides, encoder_size", [
    (dict(TINY, middle_units=2, output_stride=8), 8),
    (dict(TINY, decoder="extra_skips"), 4),
    (dict(backbone="keras_xception", input_size=96), 6),
    (dict(backbone="keras_xception", input_size=96, output_stride=32, decoder="extra_skips"), 3),
])
def test_variants_output_shapes_and_skip_resolutions(overrides, encoder_size):
    config = ModelConfig(num_classes=3, **overrides)
    model = build_model(config)
    size = config.input_size
    image = np.random.default_rng(1).normal(size=(2, size, size, 3)).astype("float32")
    probabilities = run(model, image)
    assert probabilities.shape == (2, size, size, 3)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-5)
    assert model.get_layer("aspp0").input.shape[1] == encoder_size
    assert model.get_layer("feature_projection0").input.shape[1] == size // 4
    if config.decoder == "extra_skips":
        assert model.get_layer("feature_projection1").input.shape[1] == size // 2
        assert model.get_layer("feature_projection1").filters == (16 if config.width == 1 else 4)
        assert model.get_layer("decoder_conv3_pointwise").filters == (64 if config.width == 1 else 8)
        assert model.get_layer("logits_semantic").output.shape[1] == size // 2


def test_width_scales_channels_with_a_floor():
    model = build_model(ModelConfig(**dict(TINY, width=0.05)))     # floors: 1/8 and 4 channels
    assert model.get_layer("entry_flow_conv1_1").filters == 4            # 32 / 8
    assert model.get_layer("exit_flow_block2_separable_conv3_pointwise").filters == 256
    assert model.get_layer("concat_projection").filters == 32
    assert sum(name.startswith("middle_flow_unit_") and name.endswith("_add")
               for name in (layer.name for layer in model.layers)) == 1


@pytest.mark.parametrize("overrides, message", [
    (dict(backbone="resnet"), "backbone"),
    (dict(output_stride=32), "output_stride"),
    (dict(backbone="keras_xception", output_stride=8), "output_stride"),
    (dict(decoder="unet"), "decoder"),
    (dict(input_size=100), "multiple"),
    (dict(backbone="keras_xception", width=0.5), "fixed layout"),
    (dict(num_classes=1), "num_classes"),
])
def test_invalid_configs_are_explained(overrides, message):
    with pytest.raises(InputError, match=message):
        build_model(ModelConfig(**overrides))


def test_keras_file_round_trip_loads_safely(tmp_path):
    model = build_model(ModelConfig(**TINY))
    image = np.random.default_rng(2).normal(size=(2, 64, 64, 3)).astype("float32")
    expected = run(model, image)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(run(loaded, image), expected)


def test_output_stays_float32_under_mixed_precision():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = build_model(ModelConfig(**TINY))
    finally:
        keras.config.set_dtype_policy(previous)
    assert model.get_layer("logits_semantic").compute_dtype == "bfloat16"
    assert model.output.dtype == "float32"


def test_freeze_by_stage_and_index():
    model = build_model(ModelConfig(**dict(TINY, middle_units=2)))
    encoder_layers = [layer for layer in model.layers if layer.name.startswith(("entry", "middle", "exit"))]

    freeze(model, "entry")
    frozen = {layer.name for layer in model.layers if layer.weights and not layer.trainable}
    assert frozen and all(name.startswith("entry_flow") for name in frozen)
    assert "entry_flow_block3_separable_conv3_pointwise_BN" in frozen     # BatchNorm frozen along

    freeze(model, "middle")
    assert not model.get_layer("middle_flow_unit_2_separable_conv3_depthwise").trainable
    assert model.get_layer("exit_flow_block1_separable_conv1_depthwise").trainable

    freeze(model, "backbone")
    assert not any(layer.trainable for layer in encoder_layers)
    assert all(layer.trainable for layer in model.layers
               if layer.weights and not layer.name.startswith(("entry", "middle", "exit")))

    assert freeze(model, 5) == 5
    assert [layer.trainable for layer in model.layers[:6]] == [False] * 5 + [True]
    freeze(model, "none")
    assert all(layer.trainable for layer in model.layers)


def test_freeze_keras_xception_stages():
    model = build_model(ModelConfig(backbone="keras_xception", input_size=96))
    freeze(model, "middle")
    assert not model.get_layer("block12_sepconv3_bn").trainable
    assert not model.get_layer("block4_shortcut").trainable
    assert model.get_layer("block13_sepconv1").trainable
    freeze(model, "entry")
    assert not model.get_layer("block4_add").trainable
    assert model.get_layer("block5_sepconv1").trainable


@pytest.mark.parametrize("spec", ["exit", -1, 10_000, 2.5])
def test_freeze_rejects_unknown_specs(spec):
    model = build_model(ModelConfig(**TINY))
    with pytest.raises(InputError, match="freeze"):
        freeze(model, spec)


def write_port_weights(model, path):
    """HDF5 weights laid out like the port's released files (Keras 2 save_weights, by layer name)."""
    with h5py.File(path, "w") as file:
        names = [layer.name for layer in model.layers]
        file.attrs["layer_names"] = [name.encode() for name in names]
        for layer in model.layers:
            group = file.create_group(layer.name)
            weight_names = [f"{layer.name}/{v.name}:0" for v in layer.weights]
            group.attrs["weight_names"] = [name.encode() for name in weight_names]
            for name, value in zip(weight_names, layer.get_weights()):
                group.create_dataset(name, data=value)


def test_load_pretrained_by_name_round_trip(tmp_path):
    source = build_model(ModelConfig(**TINY))
    path = tmp_path / "deeplabv3_xception_cityscapes.h5"
    write_port_weights(source, path)
    image = np.random.default_rng(3).normal(size=(1, 64, 64, 3)).astype("float32")

    target = build_model(ModelConfig(**TINY))
    report = load_pretrained(target, path)
    assert report["matched"] == sum(1 for layer in target.layers if layer.weights)
    assert report["skipped"] == report["missing"] == 0
    np.testing.assert_array_equal(run(target, image), run(source, image))

    other_classes = build_model(ModelConfig(**dict(TINY, num_classes=19, decoder="extra_skips")))
    report = load_pretrained(other_classes, path)
    assert report["skipped_layers"] == ["logits_semantic"]
    assert set(report["missing_layers"]) == {
        "feature_projection1", "feature_projection1_BN", "decoder_conv2_depthwise",
        "decoder_conv2_depthwise_BN", "decoder_conv2_pointwise", "decoder_conv2_pointwise_BN",
        "decoder_conv3_depthwise", "decoder_conv3_depthwise_BN", "decoder_conv3_pointwise",
        "decoder_conv3_pointwise_BN"}
    np.testing.assert_array_equal(other_classes.get_layer("aspp1_pointwise").get_weights()[0],
                                  source.get_layer("aspp1_pointwise").get_weights()[0])


def test_load_pretrained_keras_imagenet_xception(tmp_path):
    application = keras.applications.Xception(include_top=False, weights=None, input_shape=(96, 96, 3))
    path = tmp_path / "xception_weights_tf_dim_ordering_tf_kernels_notop.h5"
    application.save(path)            # Keras' own layer-ordered file, auto-named shortcut layers
    model = build_model(ModelConfig(backbone="keras_xception", input_size=96))
    report = load_pretrained(model, path)
    backbone = [layer for layer in model.layers if layer.weights and layer.name.startswith("block")]
    assert report["matched"] == len(backbone)
    first_shortcut = next(layer for layer in application.layers
                          if isinstance(layer, keras.layers.Conv2D) and not layer.name.startswith("block"))
    np.testing.assert_array_equal(model.get_layer("block2_shortcut").get_weights()[0],
                                  first_shortcut.get_weights()[0])
    np.testing.assert_array_equal(model.get_layer("block13_sepconv2").get_weights()[1],
                                  application.get_layer("block13_sepconv2").get_weights()[1])


def test_load_pretrained_keras3_weights_file(tmp_path):
    source = build_model(ModelConfig(**TINY))
    path = tmp_path / "best.weights.h5"
    source.save_weights(path)
    target = build_model(ModelConfig(**TINY))
    assert load_pretrained(target, path)["skipped"] == 0
    image = np.random.default_rng(4).normal(size=(1, 64, 64, 3)).astype("float32")
    np.testing.assert_array_equal(run(target, image), run(source, image))
    with pytest.raises(ModelFileError, match="same model configuration"):
        load_pretrained(build_model(ModelConfig(**dict(TINY, num_classes=3))), path)


def test_load_pretrained_errors(tmp_path):
    model = build_model(ModelConfig(**TINY))
    with pytest.raises(ModelFileError, match="downloads nothing"):
        load_pretrained(model, tmp_path / "absent.h5")

    not_hdf5 = tmp_path / "weights.h5"
    not_hdf5.write_text("not weights")
    with pytest.raises(ModelFileError, match="not a readable HDF5"):
        load_pretrained(model, not_hdf5)

    unrelated_inputs = keras.Input((8, 8, 3))
    unrelated = keras.Model(unrelated_inputs, keras.layers.Dense(2, name="head")(unrelated_inputs))
    unrelated_path = tmp_path / "unrelated.h5"
    write_port_weights(unrelated, unrelated_path)
    with pytest.raises(ModelFileError, match="No layer of this network matches"):
        load_pretrained(model, unrelated_path)
