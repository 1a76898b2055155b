"""DeepLabv3+ networks of the trainer: build (the plugin's core/networks), freeze, load pretrained
weights, count FLOPs."""
from landcover_qgis_plugin.core.networks.deeplab import build_model

from .flops import forward_flops
from .freeze import freeze
from .pretrained import load_pretrained

__all__ = ["build_model", "forward_flops", "freeze", "load_pretrained"]
