"""Networks of the trainer: build (DeepLabv3+ from the plugin's core/networks, or MUNet), freeze, load
pretrained weights, count FLOPs."""
from .build import build_model

from .flops import forward_flops
from .freeze import freeze
from .pretrained import load_pretrained

__all__ = ["build_model", "forward_flops", "freeze", "load_pretrained"]
