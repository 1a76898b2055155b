"""The class sets a run can learn, and how the prepared tiles' LandCover.ai labels map onto them.

Prepared tiles always carry LandCover.ai's labels (0 background, 1 building, 2 woodland, 3 water,
4 road). A run on another set, such as `data.classes: roads` (background/road, the MUNet GAN paper's
task), remaps them as the masks are read, so one prepared folder serves every set and nothing is cut
twice. Classes map by name; the LandCover.ai classes a set lacks become its background.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from landcover_qgis_plugin.core.errors import InputError
from landcover_qgis_plugin.core.modelfile import BACKGROUND, LANDCOVER_AI_CLASSES, ClassInfo


def _subset(*names: str) -> tuple[ClassInfo, ...]:
    """LandCover.ai's classes of these names, numbered from 0 in LandCover.ai's order, colours kept."""
    kept = [info for info in LANDCOVER_AI_CLASSES if info.name in names]
    return tuple(ClassInfo(value, info.name, info.color) for value, info in enumerate(kept))


CLASS_SETS: dict[str, tuple[ClassInfo, ...]] = {
    "landcover": LANDCOVER_AI_CLASSES,
    "roads": _subset("background", "road"),
}
DEFAULT_CLASS_SET = "landcover"


def class_set(name: str) -> tuple[ClassInfo, ...]:
    """The classes of a run's `data.classes`."""
    if name not in CLASS_SETS:
        raise InputError(f"Unknown data.classes '{name}'; use one of {sorted(CLASS_SETS)}.")
    return CLASS_SETS[name]


def label_lookup(classes: Sequence[ClassInfo]) -> Optional[np.ndarray]:
    """The table taking a LandCover.ai label to its value in `classes` (int32, indexed by label), or None
    when the labels need no change: `classes` are LandCover.ai's, or not named after them at all (a run
    with numbered classes, scored on tiles labelled for it)."""
    names = [info.name for info in classes]
    landcover = [info.name for info in LANDCOVER_AI_CLASSES]
    if names == landcover or not set(names) <= set(landcover):
        return None
    value_of = {info.name: info.value for info in classes}
    background = value_of.get(landcover[BACKGROUND])
    if background is None:
        raise InputError(f"Classes {names} have no '{landcover[BACKGROUND]}' for the LandCover.ai classes they "
                         "leave out; add it as their class 0.")
    return np.array([value_of.get(name, background) for name in landcover], np.int32)
