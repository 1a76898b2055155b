"""The trainer's networks by name: the reference DeepLabv3+ (core/networks) or MUNet (munet.py)."""
from __future__ import annotations

import keras

from landcover_qgis_plugin.core.errors import InputError
from landcover_qgis_plugin.core.networks.config import ARCHITECTURES, NetworkConfig


def build_model(config: NetworkConfig) -> keras.Model:
    """The network of `config.architecture`; pretrained weights are loaded separately (load_pretrained)."""
    if config.architecture == "deeplabv3plus":
        from landcover_qgis_plugin.core.networks.deeplab import build_model as build_deeplab
        return build_deeplab(config)
    if config.architecture == "munet":
        from .munet import build_munet
        return build_munet(config)
    raise InputError(f"model.architecture '{config.architecture}' is not one of {', '.join(ARCHITECTURES)}.")
