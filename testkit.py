"""Tiny real models whose output is a known function of the input, images to feed them, and where the
shared real data lies.

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

# The real rasters and lists from outside the repository (../shared/data); a clone without them skips the
# tests and benchmarks that need them (tests: the `shared_data` fixture).
SHARED_DATA = Path(__file__).resolve().parent.parent / "shared" / "data"

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


def colour_onnx(path: str | os.PathLike, metadata: Mapping[str, object], palette: Mapping[str, tuple[int, int, int]]
                = PALETTE, classes: Sequence[str] | None = None, sharpness: float = 40.0, tile: int = 64,
                batch: int | str = "batch") -> Path:
    """The colour model as a hand-built ONNX graph in Deepness' layout (NCHW in, class probabilities
    out), with `metadata` as its metadata (values JSON-encoded unless strings). One class gives a
    sigmoid model for that class against the rest (a pure primary colour: its channel above 0.65)."""
    import json

    import onnx
    from onnx import TensorProto, helper

    names = list(classes or [c.name for c in LANDCOVER_AI_CLASSES])
    prototypes = np.array([palette[name] for name in names], np.float32) / 255.0
    weights = (2 * sharpness * prototypes)[:, :, np.newaxis, np.newaxis]
    bias = -sharpness * (prototypes ** 2).sum(axis=1)
    nodes = [helper.make_node("Conv", ["input", "weights", "bias"], ["logits"])]
    if len(names) == 1:   # one class against the rest: its colour channel above 0.65 -> 1 (pure colours)
        bias = bias - sharpness * 0.3
        nodes.append(helper.make_node("Sigmoid", ["logits"], ["probabilities"]))
    else:
        nodes.append(helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1))
    graph = helper.make_graph(
        nodes, "colour_model",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 3, tile, tile])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [batch, len(names), tile, tile])],
        initializer=[helper.make_tensor("weights", TensorProto.FLOAT, weights.shape, weights.ravel()),
                     helper.make_tensor("bias", TensorProto.FLOAT, bias.shape, bias.ravel())])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value if isinstance(value, str) else json.dumps(value)
    onnx.save(model, str(path))
    return Path(path)
