"""What a network is: the fields the builders (`deeplab.build_model`, the trainer's MUNet) build from,
without importing Keras."""
from __future__ import annotations

from dataclasses import dataclass


ARCHITECTURES = ("deeplabv3plus", "munet")


@dataclass
class NetworkConfig:
    """One network's layout; the defaults are the reference run 5.10's (its published checkpoint's).
    MUNet uses only num_classes, input_size and width."""
    architecture: str = "deeplabv3plus"   # deeplabv3plus | munet (the GAN's generator, trainer/models/munet.py)
    backbone: str = "modified_xception"   # modified_xception | keras_xception
    output_stride: int = 16               # 16 or 8 (modified_xception); 16 or 32 (keras_xception)
    decoder: str = "standard"             # standard | extra_skips
    num_classes: int = 5
    input_size: int = 512
    width: float = 1.0                    # multiplies every channel count; small values give tiny test models
    middle_units: int = 16


def describe_architecture(network: NetworkConfig) -> dict:
    """The network's configuration as a model file's `architecture` metadata records it."""
    if network.architecture != "deeplabv3plus":
        return {"architecture": network.architecture, "width": network.width}
    return {"backbone": network.backbone, "output_stride": network.output_stride, "decoder": network.decoder,
            "width": network.width, "middle_units": network.middle_units}
