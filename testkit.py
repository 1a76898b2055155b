"""Tiny real models whose output is a known function of the input, and images to feed them.

For the tests and benchmarks only (not shipped in the plugin): the
colour model is a real Keras network saved as a real model file, a 1x1 convolution + softmax that
labels every pixel with the class whose palette colour is nearest, so the expected class raster and
polygons of a painted GeoTIFF are known exactly. `blur` puts a box filter with zero padding in
front, which gives the network spatial context and the same tile-edge artefacts a real network has,
so stitching can be tested against a prediction of the whole image at once.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from landcover_qgis_plugin.core.modelfile import LANDCOVER_AI_CLASSES, ModelMetadata, Normalization, save_model

# Pure colours the colour model maps to LandCover.ai's classes (0 background .. 4 road).
PALETTE: dict[str, tuple[int, int, int]] = {
    "background": (128, 128, 128),
    "building": (255, 0, 0),
    "woodland": (0, 255, 0),
    "water": (0, 0, 255),
    "road": (255, 255, 0),
}

# Typical summer orthophoto colours: with these the colour model finds every class in real imagery.
NATURAL_PALETTE: dict[str, tuple[int, int, int]] = {
    "background": (150, 150, 120),
    "building": (160, 80, 70),
    "woodland": (50, 70, 40),
    "water": (40, 60, 80),
    "road": (110, 110, 110),
}


def colour_model(input_size: int = 64, resolution_cm: float = 50.0, blur: int = 0,
                 sharpness: float = 40.0, fixed_size: bool = False,
                 palette: Mapping[str, tuple[int, int, int]] = PALETTE):
    """(keras.Model, ModelMetadata): nearest palette colour wins, probabilities via softmax."""
    import keras

    prototypes = np.array([palette[c.name] for c in LANDCOVER_AI_CLASSES], np.float32) / 255.0
    size = (input_size, input_size) if fixed_size else (None, None)
    inputs = keras.Input((*size, 3))
    features = inputs
    if blur:
        features = keras.layers.DepthwiseConv2D(
            blur, padding="same", use_bias=False, name="box_blur",
            depthwise_initializer=keras.initializers.Constant(1.0 / blur ** 2))(features)
    # -k * |x - p|^2 = 2k p.x - k |p|^2 - k |x|^2; the last term is the same for every class.
    logits = keras.layers.Conv2D(
        len(prototypes), 1, name="nearest_colour",
        kernel_initializer=keras.initializers.Constant(2 * sharpness * prototypes.T[np.newaxis, np.newaxis]),
        bias_initializer=keras.initializers.Constant(-sharpness * (prototypes ** 2).sum(axis=1)))(features)
    outputs = keras.layers.Softmax(name="probabilities")(logits)
    model = keras.Model(inputs, outputs, name="colour_model")
    metadata = ModelMetadata(classes=LANDCOVER_AI_CLASSES, input_size=input_size, resolution_cm=resolution_cm,
                             normalization=Normalization.unit(), name="colour-model",
                             description="Nearest palette colour (test model)")
    return model, metadata


def save_colour_model(path: str | os.PathLike, **kwargs) -> Path:
    model, metadata = colour_model(**kwargs)
    return save_model(model, metadata, path)


def paint(height: int, width: int, shapes: Sequence[tuple[str, int, int, int, int]],
          fill: str = "background") -> np.ndarray:
    """(height, width, 3) uint8 image: `fill`, then rectangles (class, row0, row1, col0, col1)."""
    image = np.empty((height, width, 3), np.uint8)
    image[:] = PALETTE[fill]
    for name, r0, r1, c0, c1 in shapes:
        image[r0:r1, c0:c1] = PALETTE[name]
    return image
