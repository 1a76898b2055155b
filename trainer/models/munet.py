"""MUNet (Abdollahi et al. 2021, the GAN's generator): a U-Net without pooling, from standard Keras layers.

Encoder: 4x4 convolutions of stride 2 (32, 64, 128, 256 channels, then a 512-channel bottleneck), each
with batch normalisation (not the first, as in pix2pix-style generators) and LeakyReLU 0.2. Decoder:
4x4 transposed convolutions of stride 2 back up (256 to 32 channels) with batch normalisation, dropout
0.5 on the deepest two (the paper's dropout) and ReLU, each joined to the encoder output of its size;
a last transposed convolution to one channel per class and a softmax. A two-class (background, road)
softmax is the paper's one-channel sigmoid written for the engine, which takes class probabilities.
The input side must be a multiple of 32 (five halvings).
"""
from __future__ import annotations

import keras
from keras import layers

from landcover_qgis_plugin.core.errors import InputError
from landcover_qgis_plugin.core.networks.blocks import scaled_channels
from landcover_qgis_plugin.core.networks.config import NetworkConfig

ENCODER = (32, 64, 128, 256)
BOTTLENECK = 512
DECODER_DROPOUT = 0.5
DROPOUT_LEVELS = 2          # the deepest decoder levels that drop out
KERNEL = 4


def _down(x, channels: int, name: str, normalise: bool = True):
    x = layers.Conv2D(channels, KERNEL, strides=2, padding="same", use_bias=not normalise, name=f"{name}_conv")(x)
    if normalise:
        x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.LeakyReLU(0.2, name=f"{name}_lrelu")(x)


def _up(x, skip, channels: int, name: str, dropout: float):
    x = layers.Conv2DTranspose(channels, KERNEL, strides=2, padding="same", use_bias=False, name=f"{name}_deconv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    if dropout:
        x = layers.Dropout(dropout, name=f"{name}_dropout")(x)
    x = layers.ReLU(name=f"{name}_relu")(x)
    return layers.Concatenate(name=f"{name}_skip")([x, skip])


def build_munet(config: NetworkConfig) -> keras.Model:
    """The generator for one NetworkConfig (its input_size, num_classes and width are used)."""
    size = config.input_size
    if size % 32:
        raise InputError(f"MUNet halves its input five times: model.input_size must be a multiple of 32, got {size}.")
    inputs = keras.Input((size, size, 3), name="image")
    skips, x = [], inputs
    for level, channels in enumerate(ENCODER):
        x = _down(x, scaled_channels(channels, config.width), f"encoder{level + 1}", normalise=level > 0)
        skips.append(x)
    x = _down(x, scaled_channels(BOTTLENECK, config.width), "bottleneck")
    for depth, (channels, skip) in enumerate(zip(reversed(ENCODER), reversed(skips))):
        x = _up(x, skip, scaled_channels(channels, config.width), f"decoder{len(ENCODER) - depth}",
                DECODER_DROPOUT if depth < DROPOUT_LEVELS else 0.0)
    x = layers.Conv2DTranspose(config.num_classes, KERNEL, strides=2, padding="same", name="logits_semantic")(x)
    outputs = layers.Activation("softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="munet")
