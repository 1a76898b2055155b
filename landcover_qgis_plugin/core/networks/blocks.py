"""Layer groups shared by the backbones and the DeepLabv3+ head.

Names follow the public Keras DeepLabv3+ port (bonlime/keras-deeplab-v3-plus, model.py) so its
Cityscapes / Pascal VOC weights load by layer name; layers the port leaves unnamed (ReLU, padding,
add, concat, resize) get readable names here, which no weights file depends on.
"""
from __future__ import annotations

from keras import layers

BACKBONE_EPSILON = 1e-3   # BatchNorm epsilon of the Xception backbone (the port's Keras default)
HEAD_EPSILON = 1e-5       # BatchNorm epsilon of ASPP and decoder


def scaled_channels(channels: int, width: float) -> int:
    """Channel count under a width multiplier, never below 1/8 of the original or 4 channels,
    so tiny test models keep enough capacity to learn."""
    return max(round(channels * width), channels // 8, 4)


def batch_norm(x, name: str, epsilon: float):
    return layers.BatchNormalization(epsilon=epsilon, name=name)(x)


def relu(x, name: str):
    return layers.Activation("relu", name=name)(x)


def pad_for_stride(x, name: str, kernel_size: int, rate: int = 1):
    """Symmetric zero padding before a strided 'valid' convolution, as in the port: Keras 'same'
    padding of a stride-2 conv pads one side only, which would shift pretrained features by a pixel.
    Also applied to 1x1 kernels (zero padding) so the layer sequence, and hence the reference's layer
    index 324, matches the port's."""
    effective = kernel_size + (kernel_size - 1) * (rate - 1)
    total = effective - 1
    return layers.ZeroPadding2D((total // 2, total - total // 2), name=name)(x)


def conv_bn_relu(x, filters: int, name: str, epsilon: float):
    """1x1 projection, BatchNorm, ReLU (ASPP branches, feature projections)."""
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=name)(x)
    x = batch_norm(x, name + "_BN", epsilon)
    return relu(x, name + "_relu")


def separable_conv_bn(x, filters: int, prefix: str, *, stride: int = 1, rate: int = 1,
                      depth_activation: bool = False, epsilon: float = BACKBONE_EPSILON):
    """3x3 depthwise conv, BN, 1x1 pointwise conv, BN (the port's SepConv_BN).

    depth_activation=False puts one ReLU before the depthwise conv (Xception blocks);
    True puts a ReLU after each BN instead (exit flow's last block, ASPP, decoder).
    """
    padding = "same"
    if stride > 1:
        x = pad_for_stride(x, prefix + "_depthwise_pad", 3, rate)
        padding = "valid"
    if not depth_activation:
        x = relu(x, prefix + "_relu")
    x = layers.DepthwiseConv2D(3, strides=stride, dilation_rate=rate, padding=padding,
                               use_bias=False, name=prefix + "_depthwise")(x)
    x = batch_norm(x, prefix + "_depthwise_BN", epsilon)
    if depth_activation:
        x = relu(x, prefix + "_depthwise_relu")
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=prefix + "_pointwise")(x)
    x = batch_norm(x, prefix + "_pointwise_BN", epsilon)
    if depth_activation:
        x = relu(x, prefix + "_pointwise_relu")
    return x


def resize_to(x, size: int, name: str):
    """Bilinear resize of a square feature map to size x size: UpSampling2D for whole factors, the
    Resizing layer otherwise (keras.applications' Xception grid is a pixel or two off 1/2 and 1/4);
    no layer at all when the size already fits.

    Keras resizes with half-pixel centres; the port used align_corners=True, a sub-pixel difference
    that fine-tuning absorbs.
    """
    current = x.shape[1]
    if current == size:
        return x
    if size % current == 0:
        return layers.UpSampling2D(size // current, interpolation="bilinear", name=name)(x)
    return layers.Resizing(size, size, interpolation="bilinear", name=name)(x)
