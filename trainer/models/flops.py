"""Forward FLOPs of a functional Keras model for one input tile, counted layer by layer.

Convolutions and Dense count 2 FLOPs per multiply-add (dilation changes the receptive field, not
the work) plus one per bias; BatchNorm 2 per element (folded into a scale and a shift); ReLU-like
activations 1 and softmax 3 per element; Add one per element and extra input; bilinear resizing 7
per output element (4 taps); pooling one per input (average) or per window element (max).
Layers without arithmetic (input, padding, concat, dropout at inference) count 0; any other layer
type is an error rather than a silent zero.
"""
from __future__ import annotations

import math

import keras
from keras import layers

BILINEAR_PER_OUTPUT = 7
ACTIVATION_PER_ELEMENT = {"linear": 0, "softmax": 3}
FREE = (layers.InputLayer, layers.ZeroPadding2D, layers.Concatenate, layers.Dropout,
        layers.Reshape, layers.Flatten)


def _elements(shape) -> int:
    return math.prod(int(d) for d in shape[1:])


def _kernel_flops(layer) -> int:
    """Multiply-adds of the convolution / dense kernels, doubled, plus bias adds."""
    out = layer.output.shape
    in_channels = int(layer.input.shape[-1])
    if isinstance(layer, layers.Dense):
        total = 2 * _elements(layer.input.shape) * layer.units
    elif isinstance(layer, layers.DepthwiseConv2D):
        total = 2 * _elements(out) * math.prod(layer.kernel_size)
    elif isinstance(layer, layers.SeparableConv2D):
        depthwise_outputs = math.prod(int(d) for d in out[1:3]) * in_channels * layer.depth_multiplier
        total = 2 * depthwise_outputs * math.prod(layer.kernel_size)
        total += 2 * depthwise_outputs * int(out[-1])
    else:  # Conv2D
        total = 2 * _elements(out) * math.prod(layer.kernel_size) * in_channels // layer.groups
    return total + (_elements(out) if layer.use_bias else 0)


def _layer_flops(layer) -> int:
    if isinstance(layer, FREE):
        return 0
    if isinstance(layer, (layers.Conv2D, layers.DepthwiseConv2D, layers.SeparableConv2D,
                          layers.Dense)):
        return _kernel_flops(layer)
    out = _elements(layer.output.shape)
    if isinstance(layer, layers.BatchNormalization):
        return 2 * out
    if isinstance(layer, layers.Activation):
        name = getattr(layer.activation, "__name__", "")
        return ACTIVATION_PER_ELEMENT.get(name, 1) * out
    if isinstance(layer, layers.ReLU):
        return out
    if isinstance(layer, layers.Add):
        return (len(layer.input) - 1) * out
    if isinstance(layer, (layers.UpSampling2D, layers.Resizing)):
        return BILINEAR_PER_OUTPUT * out if layer.interpolation == "bilinear" else 0
    if isinstance(layer, (layers.GlobalAveragePooling2D, layers.AveragePooling2D)):
        return _elements(layer.input.shape)
    if isinstance(layer, layers.MaxPooling2D):
        return out * math.prod(layer.pool_size)
    raise ValueError(f"forward_flops has no rule for layer '{layer.name}' of type "
                     f"{type(layer).__name__}")


def forward_flops(model: keras.Model) -> int:
    """Forward FLOPs for one input (batch of 1) of a functional model with a fixed input size."""
    return sum(_layer_flops(layer) for layer in model.layers)
