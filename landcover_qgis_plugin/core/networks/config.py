"""What a DeepLabv3+ network is: the fields `deeplab.build_model` builds from, without importing Keras."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class NetworkConfig:
    """One network's layout; the defaults are the reference run 5.10's (its published checkpoint's)."""
    backbone: str = "modified_xception"   # modified_xception | keras_xception
    output_stride: int = 16               # 16 or 8 (modified_xception); 16 or 32 (keras_xception)
    decoder: str = "standard"             # standard | extra_skips
    num_classes: int = 5
    input_size: int = 512
    width: float = 1.0                    # multiplies every channel count; small values give tiny test models
    middle_units: int = 16


def describe_architecture(network: NetworkConfig) -> dict:
    """The network's configuration as a model file's `architecture` metadata records it."""
    return {"backbone": network.backbone, "output_stride": network.output_stride, "decoder": network.decoder,
            "width": network.width, "middle_units": network.middle_units}
