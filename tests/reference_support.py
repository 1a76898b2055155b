"""A tiny stand-in for the reference's published weights: the public Keras DeepLabv3+ port's network in
tf.keras 2, with random weights, saved as the reference's zip of `save_weights` checkpoints.

The tf.keras 2 network here is written from the port's architecture (seed-recipe.md) and its layer
layout: layers left unnamed, a ReLU layer before each depthwise conv of the Xception blocks, symmetric
ZeroPadding2D before every strided conv (the 1x1 shortcut's too, with zero padding), a Reshape after
image pooling's global average, Resizing layers, and a softmax Activation at the end. It is the
full network's layout; the tests build it at 1/8 of every channel count and with 2 of the 16
identical middle units (TINY), whose layer order, and so the mapping under test, is the full network's
(the other 14 units would only repeat a unit's 12 layers with weights).
"""
from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from landcover_qgis_plugin.core.modelfile import LANDCOVER_AI_CLASSES
from landcover_qgis_plugin.core.reference import CHECKPOINTS, DEFAULT_REVISION, REFERENCE_MODEL

SIZE = 128
MIDDLE_UNITS = 2
TINY = dataclasses.replace(REFERENCE_MODEL, width=1 / 8, middle_units=MIDDLE_UNITS, input_size=SIZE)
ATOL = 1e-5


def port_network(size: int, middle_units: int, divisor: int):
    """The port's DeepLabv3+ (modified Xception, output stride 16, 5 classes, softmax) in tf.keras 2,
    every channel count divided by `divisor`."""
    import tensorflow as tf
    import tf_keras

    K = tf_keras.layers

    def narrow(channels):
        return channels // divisor

    def separable(x, filters, stride=1, rate=1, inner_relu=False, epsilon=1e-3):
        """Depthwise 3x3 + BN + pointwise 1x1 + BN; ReLU before it, or after each BN (inner_relu)."""
        if stride == 1:
            padding = "same"
        else:
            span = 2 * rate                       # effective kernel size - 1
            x = K.ZeroPadding2D((span // 2, span - span // 2))(x)
            padding = "valid"
        if not inner_relu:
            x = K.Activation(tf.nn.relu)(x)
        for step in (K.DepthwiseConv2D(3, strides=stride, dilation_rate=rate, padding=padding, use_bias=False),
                     K.Conv2D(filters, 1, padding="same", use_bias=False)):
            x = K.BatchNormalization(epsilon=epsilon)(step(x))
            if inner_relu:
                x = K.Activation(tf.nn.relu)(x)
        return x

    image = K.Input((size, size, 3))
    x = image
    for filters, stride in ((32, 2), (64, 1)):
        x = K.Conv2D(narrow(filters), 3, strides=stride, padding="same", use_bias=False)(x)
        x = K.Activation(tf.nn.relu)(K.BatchNormalization()(x))
    # Xception units: (depths, shortcut, stride of the last conv, dilation, ReLU after each BN)
    units = [((128,) * 3, "conv", 2, 1, False), ((256,) * 3, "conv", 2, 1, False),
             ((728,) * 3, "conv", 2, 1, False), *[((728,) * 3, "sum", 1, 1, False)] * middle_units,
             ((728, 1024, 1024), "conv", 1, 1, False), ((1536, 1536, 2048), "none", 1, 2, True)]
    for number, (depths, shortcut, stride, rate, inner_relu) in enumerate(units):
        unit_input = x
        for position, depth in enumerate(depths):
            x = separable(x, narrow(depth), stride if position == 2 else 1, rate, inner_relu)
            if number == 1 and position == 1:
                low_level = x                     # 1/4 of the input: the decoder's skip
        if shortcut == "conv":
            side = unit_input
            if stride > 1:
                side = K.ZeroPadding2D((0, 0))(side)
            side = K.Conv2D(narrow(depths[-1]), 1, strides=stride, padding="valid" if stride > 1 else "same",
                            use_bias=False)(side)
            x = tf_keras.layers.add([x, K.BatchNormalization()(side)])
        elif shortcut == "sum":
            x = tf_keras.layers.add([x, unit_input])

    def projection(tensor, filters):
        tensor = K.Conv2D(filters, 1, padding="same", use_bias=False)(tensor)
        return K.Activation(tf.nn.relu)(K.BatchNormalization(epsilon=1e-5)(tensor))

    pooled = K.Reshape((1, 1, narrow(2048)))(K.GlobalAveragePooling2D()(x))
    branches = [K.Resizing(x.shape[1], x.shape[2], interpolation="bilinear")(projection(pooled, narrow(256))),
                projection(x, narrow(256))]
    branches += [separable(x, narrow(256), rate=rate, inner_relu=True, epsilon=1e-5) for rate in (6, 12, 18)]
    x = K.Dropout(0.1)(projection(K.Concatenate()(branches), narrow(256)))
    x = K.Resizing(low_level.shape[1], low_level.shape[2], interpolation="bilinear")(x)
    x = K.Concatenate()([x, projection(low_level, narrow(48))])
    for _ in range(2):
        x = separable(x, narrow(256), inner_relu=True, epsilon=1e-5)
    x = K.Conv2D(len(LANDCOVER_AI_CLASSES), 1, padding="same")(x)
    x = K.Activation("softmax")(K.Resizing(size, size, interpolation="bilinear")(x))
    network = tf_keras.Model(image, x)
    network.compile(optimizer=tf_keras.optimizers.Adam(), loss="categorical_crossentropy")
    network.optimizer.build(network.trainable_variables)   # a training run's checkpoint holds its slots too
    return network


def randomise(network, seed: int) -> None:
    """Random values in every variable, BatchNorm statistics included, so that each one counts; kernels
    scaled by their fan-in so that activations stay finite through the full-size network too."""
    rng = np.random.default_rng(seed)
    for variable in network.weights:
        shape = tuple(variable.shape)
        if "moving_variance" in variable.name:
            value = rng.uniform(0.5, 2.0, shape)
        elif "gamma" in variable.name:
            value = rng.uniform(0.5, 1.5, shape)
        elif "kernel" in variable.name:
            fan_in = np.prod(shape[:2] if "depthwise" in variable.name else shape[:-1])
            value = rng.normal(0.0, 1.5 / np.sqrt(fan_in), shape)
        else:
            value = rng.normal(0.0, 0.5, shape)
        variable.assign(value.astype(np.float32))


def soften(network, tiles: np.ndarray) -> None:
    """Scale the logits conv to logits of spread 1 on `tiles`: probabilities far from 0 and 1, where a
    wrong weight anywhere shows (saturated ones would hide it)."""
    import tf_keras

    logits_layer = next(layer for layer in reversed(network.layers) if layer.weights)
    spread = tf_keras.Model(network.inputs, logits_layer.output)(tiles, training=False).numpy().std()
    logits_layer.set_weights([w / spread for w in logits_layer.get_weights()])


def make_checkpoints(root: Path) -> SimpleNamespace:
    """The reference's zip layout, {revision}/best_miou/ and best_loss/, with two random weight sets of
    the port's network at TINY's size, and the probabilities each gives on random tiles."""
    network = port_network(SIZE, MIDDLE_UNITS, divisor=8)
    tiles = np.random.default_rng(0).uniform(0.0, 1.0, (2, SIZE, SIZE, 3)).astype(np.float32)
    expected = {}
    for seed, best in enumerate(CHECKPOINTS):
        randomise(network, seed)
        soften(network, tiles)
        network.save_weights(str(root / "unpacked" / DEFAULT_REVISION / f"best_{best}" / "checkpoint"))
        expected[best] = network(tiles, training=False).numpy()
    archive = root / f"{DEFAULT_REVISION}.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted((root / "unpacked").rglob("*")):
            zipped.write(path, path.relative_to(root / "unpacked").as_posix())
    return SimpleNamespace(archive=archive, folder=root / "unpacked", tiles=tiles, expected=expected)
