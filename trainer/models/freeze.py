"""Partial freezing, by encoder stage or by layer index as the reference did (index < 324).

On the full-width OS16 modified Xception, model.layers holds the input, the entry flow and the 16
middle units at indices 0-322 (7 + 3 x 20 + 16 x 16 layers, the port's count), and index 323 is the
weightless ReLU opening the exit flow; so freezing index < 324 and freezing stage "middle" leave
the same weights trainable, as tests/test_models.py checks. At output stride 8 entry block 3 has no
padding layers (321 layers up to the middle flow's end), so name the stage there rather than 324.
"""
from __future__ import annotations

from typing import Optional, Union

import keras

from landcover_qgis_plugin.core.errors import InputError

STAGES = ("entry", "middle", "backbone")
HEAD_INPUT = "aspp0"   # its input is the encoder output, whichever the backbone

FreezeSpec = Optional[Union[str, int]]
# Per backbone (recognised by its first layer): for each stage, the first layer after it, whose
# input is the stage's output. "middle" means entry + middle flow, as the reference froze them.
STAGE_SUCCESSORS = {
    "entry_flow_conv1_1": {"entry": "middle_flow_unit_1_separable_conv1_relu",
                           "middle": "exit_flow_block1_separable_conv1_relu"},
    "block1_conv1": {"entry": "block5_sepconv1_act",
                     "middle": "block13_sepconv1_act"},
}


def _stage_successor(model: keras.Model, stage: str) -> str:
    if stage == "backbone":
        return HEAD_INPUT
    names = {layer.name for layer in model.layers}
    for first_layer, successors in STAGE_SUCCESSORS.items():
        if first_layer in names:
            return successors[stage]
    raise ValueError(f"Model '{model.name}' has no known Xception backbone; freeze it by layer "
                     "index instead of by stage name")


def stage_layer_names(model: keras.Model, stage: str) -> set[str]:
    """Names of the layers the stage's output depends on (input layer included)."""
    successor = model.get_layer(_stage_successor(model, stage))
    return {layer.name for layer in keras.Model(model.inputs, successor.input).layers}


def _frozen_names(model: keras.Model, spec: FreezeSpec) -> set[str]:
    if spec is None or (isinstance(spec, str) and spec.strip().lower() in ("none", "")):
        return set()
    if isinstance(spec, str) and spec.strip().isdigit():
        spec = int(spec)
    if isinstance(spec, int) and not isinstance(spec, bool):
        if not 0 <= spec <= len(model.layers):
            raise InputError(f"freeze index {spec} is outside the model's 0..{len(model.layers)} "
                             "layers")
        return {layer.name for layer in model.layers[:spec]}
    if isinstance(spec, str) and spec.strip().lower() in STAGES:
        return stage_layer_names(model, spec.strip().lower())
    raise InputError(f"freeze {spec!r} is not understood; use one of {list(STAGES)}, a layer index "
                     "(layers below it are frozen, e.g. 324) or none")


def freeze(model: keras.Model, spec: FreezeSpec) -> int:
    """Freeze the layers `spec` names (BatchNorm layers too, which then run in inference mode)
    and unfreeze all others; returns how many layers are frozen. Recompile the model afterwards."""
    frozen = _frozen_names(model, spec)
    model.trainable = True
    for layer in model.layers:
        layer.trainable = layer.name not in frozen
    return len(frozen)
