"""Start a network from weights trained elsewhere, matched by layer name.

Understood files:
- HDF5 weights keyed by layer name (Keras 2 `save_weights`, or `model_weights` of a legacy `.h5`
  model): the Cityscapes / Pascal VOC files of the public Keras DeepLabv3+ port, and weights saved
  from these networks. Layers whose weight shapes differ (the logits when the class count differs)
  are skipped.
- keras.applications Xception ImageNet weights (the 'notop' file, for backbone keras_xception): Keras
  loads them in layer order into its own Xception, and they are copied over from there by name.
- Keras 3 `.weights.h5` files: their entries are keyed by position, not name, so they load only into
  the very same architecture (Keras' own strict loader).
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Union

import h5py
import keras
import numpy as np

from landcover_qgis_plugin.core.errors import ModelFileError
from landcover_qgis_plugin.core.networks.xception import keras_xception_application


def _read_by_name(group: h5py.Group) -> dict[str, list[np.ndarray]]:
    weights = {}
    for raw in group.attrs["layer_names"]:
        name = raw.decode() if isinstance(raw, bytes) else str(raw)
        layer_group = group[name]
        weight_names = [w.decode() if isinstance(w, bytes) else str(w)
                        for w in layer_group.attrs.get("weight_names", [])]
        if weight_names:
            weights[name] = [np.asarray(layer_group[w]) for w in weight_names]
    return weights


def _is_keras_application_xception(weights: dict) -> bool:
    """keras.applications' own file: its layer names, without the fixed shortcut names given here."""
    return "block1_conv1" in weights and "block2_shortcut" not in weights


def _imagenet_xception_weights(path: Path) -> dict[str, list[np.ndarray]]:
    try:
        application = keras_xception_application(weights=str(path))
    except ValueError as error:
        raise ModelFileError(f"'{path}' looks like keras.applications Xception weights but does not fit "
                             f"its convolutional base ({error}); use the ImageNet 'notop' file "
                             "xception_weights_tf_dim_ordering_tf_kernels_notop.h5") from None
    return {layer.name: layer.get_weights() for layer in application.layers if layer.weights}


def _assign_by_name(model: keras.Model, weights: dict, path: Path) -> dict:
    matched, skipped, missing = [], [], []
    for layer in model.layers:
        if not layer.weights:
            continue
        arrays = weights.get(layer.name)
        if arrays is None:
            missing.append(layer.name)
        elif [a.shape for a in arrays] != [tuple(w.shape) for w in layer.weights]:
            skipped.append(layer.name)
        else:
            layer.set_weights(arrays)
            matched.append(layer.name)
    if not matched:
        raise ModelFileError(f"No layer of this network matches '{path}' by name and shape: the file holds "
                             f"{len(weights)} layers such as {sorted(weights)[:3]}. Use the keras-deeplab-"
                             "v3-plus Xception weights (modified_xception) or the Keras Xception ImageNet "
                             "'notop' file (keras_xception)")
    return {"matched": len(matched), "skipped": len(skipped), "missing": len(missing),
            "skipped_layers": skipped, "missing_layers": missing}


def _load_same_architecture(model: keras.Model, path: Path) -> dict:
    try:
        with warnings.catch_warnings():
            # Keras 3.15 warns about the functional model's internal by-depth view of its layers,
            # whose weights it has just loaded through model.layers; the warning is misleading here.
            warnings.filterwarnings("ignore", message="Skipping nested container at "
                                                      "'_operations_by_depth")
            model.load_weights(path)
    except ValueError as error:
        raise ModelFileError(f"'{path}' is a Keras 3 weights file of a different network ({error}). Such "
                             "files load only into the same model configuration; to start a different "
                             "one from it, load it into its own model and save that with "
                             "model.save('weights.h5'), which keys weights by layer name") from None
    count = sum(1 for layer in model.layers if layer.weights)
    return {"matched": count, "skipped": 0, "missing": 0, "skipped_layers": [], "missing_layers": []}


def load_pretrained(model: keras.Model, path: Union[str, Path]) -> dict:
    """Load weights into `model` by layer name; returns matched / skipped (shape differs) / missing
    (not in the file) layer counts and the skipped and missing layer names."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"Pretrained weights '{path}' not found. This tool downloads nothing: "
                             "fetch the keras-deeplab-v3-plus Cityscapes / Pascal VOC Xception .h5 "
                             "(or the Keras Xception ImageNet 'notop' .h5) on a machine with network "
                             "access and give its local path")
    try:
        with h5py.File(path, "r") as file:
            group = file["model_weights"] if "model_weights" in file else file
            keyed_by_name = "layer_names" in group.attrs
            keyed_by_position = "layers" in file or "vars" in file
            weights = _read_by_name(group) if keyed_by_name else {}
    except OSError as error:
        raise ModelFileError(f"'{path}' is not a readable HDF5 weights file ({error})") from None
    if not keyed_by_name:
        if keyed_by_position:
            return _load_same_architecture(model, path)
        raise ModelFileError(f"'{path}' is an HDF5 file but holds no Keras weights")
    if _is_keras_application_xception(weights):
        weights = _imagenet_xception_weights(path)
    return _assign_by_name(model, weights, path)
