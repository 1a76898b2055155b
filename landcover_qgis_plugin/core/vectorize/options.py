"""What a caller of the vectoriser chooses (cleaning options, classes kept) and what it gets back."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Sequence

from ..errors import InputError
from ..modelfile import BACKGROUND, ClassInfo
from ..options import SPECS


def _default(name: str):
    return SPECS[name].default


@dataclass(frozen=True)
class VectorOptions:
    """The cleaning options, with the defaults and ranges of their declaration (core/options.py)."""
    simplify: float = _default("simplify")           # tolerance in pixels; 0 keeps the pixel outlines
    min_area: float = _default("min_area")           # m²; smaller regions merge into their largest neighbour
    fill_holes: float = _default("fill_holes")       # m²; smaller holes are filled
    square_buildings: bool = _default("square_buildings")
    max_vertices: int = _default("max_vertices")     # traced vertices before a region is split; 0: never

    def __post_init__(self) -> None:
        for option in fields(self):
            SPECS[option.name].check(getattr(self, option.name))


@dataclass
class VectorResult:
    layers: dict[str, str]                      # class name -> layer name
    area_ha: dict[str, float]                   # class name -> hectares of its polygons
    polygons: dict[str, int] = field(default_factory=dict)
    collapsed: int = 0                          # slivers that simplification closed over
    timings: dict[str, float] = field(default_factory=dict)   # seconds per step, where the caller measures them


def layer_name(class_name: str) -> str:
    """A GeoPackage layer name for a class: letters, digits and underscores, not starting with a digit."""
    name = re.sub(r"[^0-9a-zA-Z_]+", "_", class_name.strip()).strip("_").lower()
    return name if name and not name[0].isdigit() else f"class_{name}"


def kept_classes(classes: Sequence[ClassInfo], keep: Sequence[str] | None) -> list[ClassInfo]:
    """The classes to vectorise, by name (None: all but background); unknown names are the caller's error."""
    if keep is None:
        return [c for c in classes if c.value != BACKGROUND]
    names = {c.name: c for c in classes}
    if not keep:
        raise InputError(f"No class to vectorise was named; give at least one of the model's classes {list(names)}, "
                         "or leave the option out for every class but background.")
    unknown = [k for k in keep if k not in names]
    if unknown:
        raise InputError(f"Unknown class name(s) {unknown}; the model's classes are {list(names)}.")
    return [names[k] for k in keep]
