"""ONNX copy of a model, laid out and labelled the way the Deepness QGIS plugin reads models.

Deepness feeds NCHW float tiles scaled to [0, 1] and standardised with `standardization_mean/std`,
and reads class names, resolution and tile size from the ONNX metadata; so the Keras NHWC network is
wrapped in two transposes, and our normalisation (already expressed on the [0, 1] scale) carries over.
The final softmax is written in the operations ONNX Runtime runs fastest (core/onnxgraph.py), which
speeds up every runtime that reads the file, Deepness included.
"""
from __future__ import annotations

import json
from pathlib import Path

from landcover_qgis_plugin.core.files import atomic_output
from landcover_qgis_plugin.core.modelfile import ModelMetadata
from landcover_qgis_plugin.core.onnxgraph import rewrite_channel_softmax
from landcover_qgis_plugin.core.options import SegmentationOptions

DEFAULT_OVERLAP_PERCENT = 100 * SegmentationOptions.overlap   # Deepness' overlap key: our default


def deepness_metadata(metadata: ModelMetadata, overlap_percent: float = DEFAULT_OVERLAP_PERCENT) -> dict[str, str]:
    """Deepness' metadata keys, every value JSON-encoded as Deepness decodes them."""
    values = {
        "model_type": "Segmentor",
        "class_names": {str(c.value): c.name for c in metadata.classes},
        "resolution": metadata.resolution_cm,
        # Deepness' docs name the key `tiles_size`, its code reads `tile_size`: write both.
        "tile_size": metadata.input_size,
        "tiles_size": metadata.input_size,
        "tiles_overlap": overlap_percent,
        "standardization_mean": list(metadata.normalization.mean),
        "standardization_std": list(metadata.normalization.std),
        "seg_thresh": 0.5,
        "seg_small_segment": 7,
    }
    encoded = {key: json.dumps(value) for key, value in values.items()}
    encoded["landcover_metadata"] = json.dumps(metadata.to_dict())
    return encoded


def update_onnx_metadata(path: str | Path, metadata: ModelMetadata) -> Path:
    """Replace an ONNX file's metadata (ours and Deepness' keys), its graph untouched, atomically."""
    import onnx

    path = Path(path)
    proto = onnx.load(str(path))
    del proto.metadata_props[:]
    for key, value in deepness_metadata(metadata).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    with atomic_output(path, overwrite=True) as tmp:
        onnx.save(proto, str(tmp))
    return path


def channels_first(model):
    """The same network taking (B, C, H, W) and returning (B, classes, H, W)."""
    import keras

    size, bands = square_input(model)
    inputs = keras.Input((bands, size, size), name="input_nchw")
    outputs = keras.layers.Permute((3, 1, 2), name="to_nchw")(model(keras.layers.Permute((2, 3, 1))(inputs)))
    return keras.Model(inputs, outputs, name=f"{model.name}_nchw")


def square_input(model) -> tuple[int, int]:
    _, height, width, bands = model.inputs[0].shape
    if height is None or height != width:
        raise ValueError("ONNX export needs a network with a fixed square input size.")
    return int(height), int(bands)


def export_onnx(model, metadata: ModelMetadata, path: str | Path, overwrite: bool = True,
                fast_softmax: bool = True) -> Path:
    """Write `model` as ONNX (dynamic batch, NCHW) with Deepness-readable metadata, atomically.
    `fast_softmax=False` keeps Keras' own graph (the benchmark's stand-in for other tools' files)."""
    import numpy as np
    import onnx

    path = Path(path)
    wrapped = channels_first(model)
    size, bands = square_input(model)
    wrapped(np.zeros((1, bands, size, size), np.float32))  # Keras exports only models that were called
    with atomic_output(path, overwrite=overwrite) as tmp:
        wrapped.export(str(tmp), format="onnx", verbose=False)
        proto = onnx.load(str(tmp))
        if fast_softmax:
            rewrite_channel_softmax(proto)
        del proto.metadata_props[:]
        for key, value in deepness_metadata(metadata).items():
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.save(proto, str(tmp))
    return path
