"""What a caller of the vectoriser chooses (cleaning options, classes kept) and what it gets back."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Sequence

from ..errors import InputError
from ..modelfile import BACKGROUND, ClassInfo

DEFAULT_SIMPLIFY_PX = 1.0
DEFAULT_MIN_AREA_M2 = 2.0
DEFAULT_FILL_HOLES_M2 = 4.0
DEFAULT_MAX_VERTICES = 1_000_000


@dataclass(frozen=True)
class VectorOptions:
    simplify: float = DEFAULT_SIMPLIFY_PX     # tolerance in pixels; 0 keeps the pixel outlines
    min_area: float = DEFAULT_MIN_AREA_M2     # m²; smaller regions merge into their largest neighbour
    fill_holes: float = DEFAULT_FILL_HOLES_M2  # m²; smaller holes are filled
    square_buildings: bool = False
    max_vertices: int = DEFAULT_MAX_VERTICES  # traced vertices before a region is split; 0: never

    def __post_init__(self) -> None:
        for name in ("simplify", "min_area", "fill_holes"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a number >= 0, got {value!r}.")
        if not (isinstance(self.max_vertices, int) and self.max_vertices >= 0):
            raise ValueError(f"max_vertices must be a whole number >= 0, got {self.max_vertices!r}.")


@dataclass
class VectorResult:
    layers: dict[str, str]                      # class name -> layer name
    area_ha: dict[str, float]                   # class name -> hectares of its polygons
    polygons: dict[str, int] = field(default_factory=dict)
    collapsed: int = 0                          # slivers that simplification closed over


def layer_name(class_name: str) -> str:
    """A GeoPackage layer name for a class: letters, digits and underscores, not starting with a digit."""
    name = re.sub(r"[^0-9a-zA-Z_]+", "_", class_name.strip()).strip("_").lower()
    return name if name and not name[0].isdigit() else f"class_{name}"


def kept_classes(classes: Sequence[ClassInfo], keep: Sequence[str] | None) -> list[ClassInfo]:
    """The classes to vectorise, by name (None: all but background); unknown names are the caller's error."""
    if keep is None:
        return [c for c in classes if c.value != BACKGROUND]
    names = {c.name: c for c in classes}
    unknown = [k for k in keep if k not in names]
    if unknown:
        raise InputError(f"Unknown class name(s) {unknown}; the model's classes are {list(names)}.")
    return [names[k] for k in keep]
