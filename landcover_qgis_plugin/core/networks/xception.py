"""The two encoders: the modified (aligned) Xception of DeepLabv3+ and the plain Keras Xception.

Each returns the encoder output plus the 1/4- and 1/2-resolution features the decoders use.

modified_xception (reference runs 5.4-5.12), as in the public Keras port:
  entry flow   conv 32 3x3 /2, conv 64 3x3, blocks [128]x3 /2, [256]x3 /2, [728]x3 /2 (/1 at OS 8),
               each with a 1x1 conv shortcut;
  middle flow  `middle_units` (16) residual units [728]x3, rate 1 (2 at OS 8);
  exit flow    [728, 1024, 1024] with conv shortcut, rate 1 (2 at OS 8), then [1536, 1536, 2048],
               no shortcut, ReLU between depthwise and pointwise, rate 2 (4 at OS 8).
  1/4 skip     entry_flow_block2_separable_conv2_pointwise_BN (2nd separable conv of the 256 block,
               before its stride); 1/2 skip: entry_flow_block1_separable_conv2_pointwise_BN (same place
               in the 128 block).

keras_xception (reference runs 5.1-5.3): keras.applications.Xception, fixed widths, no dilation.
  OS 16        encoder output block13_sepconv2_bn (the last 1/16 feature, 1024 channels; block13's
               pooling and block14 run at 1/32 and are left out, as DeepLab does with plain backbones);
  OS 32        the whole network, block14_sepconv2_act (2048 channels).
  1/4 skip     block3_sepconv2_bn (2nd separable conv of the 256 block before its max pooling, like the
               modified Xception's); 1/2 skip: block2_sepconv2_bn. Its unpadded first convolutions put
               these on grids of S/4-1 and S/2-3 pixels; the decoder resizes them to S/4 and S/2.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import keras
from keras import layers

from .blocks import (BACKBONE_EPSILON, batch_norm, pad_for_stride, relu, scaled_channels,
                     separable_conv_bn)

KERAS_XCEPTION_SHORTCUT_BLOCKS = (2, 3, 4, 13)
KERAS_XCEPTION_RESIDUAL_BLOCKS = tuple(range(2, 14))


@dataclass
class BackboneFeatures:
    encoder: keras.KerasTensor   # input of ASPP, at 1/output_stride
    quarter: keras.KerasTensor   # low-level skip, about 1/4 of the input size
    half: keras.KerasTensor      # extra skip of the extra_skips decoder, about 1/2


def _xception_block(x, depths, prefix: str, shortcut: str, *, stride: int = 1, rate: int = 1,
                    depth_activation: bool = False):
    """Three separable convs (the last one strided) plus a 'conv', 'sum' or 'none' shortcut;
    returns the block output and the output of the 2nd separable conv (the decoder skips)."""
    inputs = x
    for index, depth in enumerate(depths):
        x = separable_conv_bn(x, depth, f"{prefix}_separable_conv{index + 1}",
                              stride=stride if index == 2 else 1, rate=rate,
                              depth_activation=depth_activation, epsilon=BACKBONE_EPSILON)
        if index == 1:
            skip = x
    if shortcut == "conv":
        padding = "same"
        if stride > 1:
            inputs = pad_for_stride(inputs, prefix + "_shortcut_pad", 1)
            padding = "valid"
        residual = layers.Conv2D(depths[-1], 1, strides=stride, padding=padding, use_bias=False,
                                 name=prefix + "_shortcut")(inputs)
        residual = batch_norm(residual, prefix + "_shortcut_BN", BACKBONE_EPSILON)
        x = layers.Add(name=prefix + "_add")([x, residual])
    elif shortcut == "sum":
        x = layers.Add(name=prefix + "_add")([x, inputs])
    return x, skip


def modified_xception(inputs, output_stride: int, width: float = 1.0,
                      middle_units: int = 16) -> BackboneFeatures:
    if output_stride == 16:
        entry3_stride, middle_rate, exit_rates = 2, 1, (1, 2)
    else:  # 8: entry block 3 keeps its resolution, later blocks dilate instead (as the port)
        entry3_stride, middle_rate, exit_rates = 1, 2, (2, 4)

    def channels(*counts):
        return [scaled_channels(c, width) for c in counts]

    x = layers.Conv2D(channels(32)[0], 3, strides=2, padding="same", use_bias=False,
                      name="entry_flow_conv1_1")(inputs)
    x = relu(batch_norm(x, "entry_flow_conv1_1_BN", BACKBONE_EPSILON), "entry_flow_conv1_1_relu")
    x = layers.Conv2D(channels(64)[0], 3, padding="same", use_bias=False,
                      name="entry_flow_conv1_2")(x)
    x = relu(batch_norm(x, "entry_flow_conv1_2_BN", BACKBONE_EPSILON), "entry_flow_conv1_2_relu")

    x, half = _xception_block(x, channels(128, 128, 128), "entry_flow_block1", "conv", stride=2)
    x, quarter = _xception_block(x, channels(256, 256, 256), "entry_flow_block2", "conv", stride=2)
    x, _ = _xception_block(x, channels(728, 728, 728), "entry_flow_block3", "conv",
                           stride=entry3_stride)
    for unit in range(1, middle_units + 1):
        x, _ = _xception_block(x, channels(728, 728, 728), f"middle_flow_unit_{unit}", "sum",
                               rate=middle_rate)
    x, _ = _xception_block(x, channels(728, 1024, 1024), "exit_flow_block1", "conv",
                           rate=exit_rates[0])
    x, _ = _xception_block(x, channels(1536, 1536, 2048), "exit_flow_block2", "none",
                           rate=exit_rates[1], depth_activation=True)
    return BackboneFeatures(encoder=x, quarter=quarter, half=half)


def _name_unnamed_layers(application: keras.Model) -> None:
    """Give keras.applications.Xception's auto-named shortcut layers fixed names.

    Keras numbers unnamed layers per session (conv2d_3, add_17, ...), so the same network could
    otherwise get different names in two processes and by-name weight loading would go wrong.
    """
    unnamed = {"Conv2D": [], "BatchNormalization": [], "Add": []}
    for layer in application.layers:
        if not layer.name.startswith("block") and type(layer).__name__ in unnamed:
            unnamed[type(layer).__name__].append(layer)
    expected = {"Conv2D": KERAS_XCEPTION_SHORTCUT_BLOCKS,
                "BatchNormalization": KERAS_XCEPTION_SHORTCUT_BLOCKS,
                "Add": KERAS_XCEPTION_RESIDUAL_BLOCKS}
    if any(len(unnamed[kind]) != len(blocks) for kind, blocks in expected.items()):
        raise RuntimeError("keras.applications.Xception has an unexpected structure in this Keras "
                           f"version ({ {k: len(v) for k, v in unnamed.items()} } unnamed layers)")
    suffixes = {"Conv2D": "shortcut", "BatchNormalization": "shortcut_bn", "Add": "add"}
    for kind, blocks in expected.items():
        for layer, block in zip(unnamed[kind], blocks):
            layer.name = f"block{block}_{suffixes[kind]}"


def keras_xception_application(inputs=None, weights: Optional[str] = None) -> keras.Model:
    """keras.applications.Xception without its classifier, with deterministic layer names.

    `weights` is a local ImageNet 'notop' weights file (loaded by Keras in layer order) or None.
    """
    application = keras.applications.Xception(include_top=False, weights=weights,
                                              input_tensor=inputs)
    _name_unnamed_layers(application)
    return application


def keras_xception(inputs, output_stride: int) -> BackboneFeatures:
    application = keras_xception_application(inputs)
    encoder_layer = "block13_sepconv2_bn" if output_stride == 16 else "block14_sepconv2_act"
    return BackboneFeatures(encoder=application.get_layer(encoder_layer).output,
                            quarter=application.get_layer("block3_sepconv2_bn").output,
                            half=application.get_layer("block2_sepconv2_bn").output)
