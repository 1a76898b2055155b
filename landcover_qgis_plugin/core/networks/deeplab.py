"""DeepLabv3+ (ASPP + decoder) on an Xception encoder, from standard Keras 3 layers only.

The saved model loads with keras.saving.load_model(safe_mode=True) and no custom objects on the
TensorFlow, JAX or PyTorch backend. Input: (S, S, 3) float32, already normalised; output:
(B, S, S, num_classes) softmax probabilities in float32 (also under a mixed-precision policy).

ASPP      image pooling (global average, 1x1 conv 256, BN, ReLU, resize back), 1x1 conv 256 ("aspp0"),
          separable convs 256 at rates 6, 12, 18 x 16 / output_stride ("aspp1".."aspp3"), concat,
          1x1 conv 256 ("concat_projection"), BN, ReLU, dropout 0.1. BN epsilon 1e-5 from here on.
standard  upsample to 1/4; 1/4 skip -> 1x1 conv 48 ("feature_projection0"), BN, ReLU; concat; two
          separable convs 256 ("decoder_conv0", "decoder_conv1"); 1x1 conv to the classes
          ("logits_semantic"); bilinear upsample to the input size; softmax.
extra_skips  the standard decoder up to decoder_conv1, then: upsample x2 to 1/2; 1/2 skip -> 1x1 conv
          16 ("feature_projection1"), BN, ReLU; concat; two separable convs 64 ("decoder_conv2",
          "decoder_conv3"); logits_semantic at 1/2; upsample x2; softmax. (The reference's future-work
          decoder: an added 1/2-resolution skip projected to 16 channels, then two 64-channel
          separable convs.)
"""
from __future__ import annotations

import keras
from keras import layers

from ..errors import InputError
from .blocks import HEAD_EPSILON, conv_bn_relu, resize_to, scaled_channels, separable_conv_bn
from .config import NetworkConfig
from .xception import BackboneFeatures, keras_xception, modified_xception

OUTPUT_STRIDES = {"modified_xception": (16, 8), "keras_xception": (16, 32)}
DECODERS = ("standard", "extra_skips")
ATROUS_RATES_AT_OS16 = (6, 12, 18)
DROPOUT = 0.1


def _check(config: NetworkConfig) -> None:
    if config.backbone not in OUTPUT_STRIDES:
        raise InputError(f"model.backbone '{config.backbone}' is unknown; "
                         f"use one of {sorted(OUTPUT_STRIDES)}")
    strides = OUTPUT_STRIDES[config.backbone]
    if config.output_stride not in strides:
        raise InputError(f"model.output_stride {config.output_stride} is not available with "
                         f"backbone {config.backbone}; use one of {list(strides)}")
    if config.decoder not in DECODERS:
        raise InputError(f"model.decoder '{config.decoder}' is unknown; use one of {list(DECODERS)}")
    if config.num_classes < 2:
        raise InputError(f"model.num_classes must be at least 2, got {config.num_classes}")
    if config.input_size <= 0 or config.input_size % config.output_stride:
        raise InputError(f"model.input_size {config.input_size} must be a positive multiple of the "
                         f"output stride {config.output_stride}")
    if config.width <= 0:
        raise InputError(f"model.width must be positive, got {config.width}")
    if config.backbone == "modified_xception" and config.middle_units < 1:
        raise InputError(f"model.middle_units must be at least 1, got {config.middle_units}")
    if config.backbone == "keras_xception" and (config.width != 1.0 or config.middle_units != 16):
        raise InputError("backbone keras_xception has the fixed layout of keras.applications."
                         "Xception: leave model.width at 1.0 and model.middle_units at 16, or use "
                         "backbone modified_xception for smaller networks")


def _aspp(x, output_stride: int, channels: int):
    size = x.shape[1]
    pooled = layers.GlobalAveragePooling2D(keepdims=True, name="image_pooling_average")(x)
    pooled = conv_bn_relu(pooled, channels, "image_pooling", HEAD_EPSILON)
    branches = [resize_to(pooled, size, "image_pooling_resize"),
                conv_bn_relu(x, channels, "aspp0", HEAD_EPSILON)]
    for index, rate in enumerate(ATROUS_RATES_AT_OS16, start=1):
        branches.append(separable_conv_bn(x, channels, f"aspp{index}", rate=rate * 16 // output_stride,
                                          depth_activation=True, epsilon=HEAD_EPSILON))
    x = layers.Concatenate(name="aspp_concat")(branches)
    x = conv_bn_relu(x, channels, "concat_projection", HEAD_EPSILON)
    return layers.Dropout(DROPOUT, name="concat_projection_dropout")(x)


def _decoder_stage(x, skip, size: int, level: int, skip_channels: int, channels: int,
                   first_conv: int):
    """Upsample to `size`, concat the projected skip, two separable convs (one decoder level)."""
    x = resize_to(x, size, f"decoder_upsample{level}")
    skip = resize_to(skip, size, f"feature_projection{level}_resize")
    skip = conv_bn_relu(skip, skip_channels, f"feature_projection{level}", HEAD_EPSILON)
    x = layers.Concatenate(name=f"decoder_concat{level}")([x, skip])
    for index in (first_conv, first_conv + 1):
        x = separable_conv_bn(x, channels, f"decoder_conv{index}", depth_activation=True,
                              epsilon=HEAD_EPSILON)
    return x


def _backbone(inputs, config: NetworkConfig) -> BackboneFeatures:
    if config.backbone == "keras_xception":
        return keras_xception(inputs, config.output_stride)
    return modified_xception(inputs, config.output_stride, config.width, config.middle_units)


def build_model(config: NetworkConfig) -> keras.Model:
    """DeepLabv3+ for one NetworkConfig; pretrained weights are loaded separately (load_pretrained)."""
    _check(config)
    size = config.input_size
    inputs = keras.Input((size, size, 3), name="image")
    features = _backbone(inputs, config)

    def channels(count):
        return scaled_channels(count, config.width)

    x = _aspp(features.encoder, config.output_stride, channels(256))
    x = _decoder_stage(x, features.quarter, size // 4, 0, channels(48), channels(256), 0)
    if config.decoder == "extra_skips":
        x = _decoder_stage(x, features.half, size // 2, 1, channels(16), channels(64), 2)
    x = layers.Conv2D(config.num_classes, 1, padding="same", name="logits_semantic")(x)
    x = resize_to(x, size, "logits_upsample")
    outputs = layers.Activation("softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="deeplabv3plus")
