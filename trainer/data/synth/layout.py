"""An orthophoto painted over a given class layout, such as a real LandCover.ai mask.

Generated scenes draw their own geometry; real label layouts have shapes no generator invents (ragged
forest edges, farm tracks, river oxbows, terraced houses). Painting the synthetic textures over a
real mask gives training images with that geometry and a mask that is exactly the given one:
fields under the background, crowns over woodland, shallows along water, asphalt or gravel on each
road, a roof on each building with its facets lit from the sun and its shadow, then the camera.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from landcover_qgis_plugin.core.errors import InputError

from .landscape import farmland
from .painting import paint_trees, paint_water
from .primitives import BUILDING, ROAD, WATER, WOODLAND, F32, Canvas, cast_shadow, noise
from .scene import SENSORS, make_canvas
from .trees import place_trees
from .villages import ROOF_COLOURS

_SURFACES = np.array([(100, 100, 102), (120, 118, 116), (166, 156, 136), (144, 128, 102)], F32)


def paint_layout(mask: np.ndarray, resolution_m: float, seed: int, sensor: str = "plain") -> np.ndarray:
    """RGB uint8 (H, W, 3) of a scene whose classes are `mask` (LandCover.ai values 0-4, uint8)."""
    if mask.ndim != 2 or mask.size == 0 or int(mask.max()) > ROAD:
        raise InputError(f"A layout must be one band of LandCover.ai classes 0-{ROAD}; got shape {mask.shape}, "
                         f"values up to {int(mask.max()) if mask.size else None}.")
    canvas = make_canvas(mask.shape[1], mask.shape[0], resolution_m, seed)
    rgb, _ = farmland(canvas)
    woodland = mask == WOODLAND
    potential = np.where(woodland, F32(1.0), F32(-1.0))
    forest, _, light, mix = place_trees(canvas, potential, [], [])
    paint_trees(canvas, woodland, woodland, light, mix, rgb)
    paint_water(canvas, mask == WATER, rgb)
    _paint_surfaces(canvas, mask == ROAD, rgb)
    buildings = mask == BUILDING
    _paint_roofs(canvas, buildings, rgb)
    shadow = cast_shadow(canvas, buildings, 7.0) | cast_shadow(canvas, forest & woodland, 18.0)
    rgb[shadow & (mask != WOODLAND) & (mask != BUILDING)] *= F32(0.5)
    return SENSORS[sensor](canvas, rgb)


def _paint_surfaces(canvas: Canvas, roads: np.ndarray, rgb: np.ndarray) -> None:
    """Each connected road its own surface (asphalt, concrete, gravel or dirt), darker at its edges."""
    labels, count = ndimage.label(roads)
    if not count:
        return
    surfaces = _SURFACES[canvas.rng.integers(len(_SURFACES), size=count + 1)]
    edge = np.minimum(ndimage.distance_transform_edt(roads) * canvas.res / 1.5, 1.0).astype(F32)
    texture = 1 + F32(0.05) * noise(canvas, 2.0)
    rgb[roads] = surfaces[labels[roads]] * ((0.9 + 0.1 * edge[roads]) * texture[roads])[:, None]


def _paint_roofs(canvas: Canvas, buildings: np.ndarray, rgb: np.ndarray) -> None:
    """A roof per building: its colour, and gable facets along its long axis lit by the sun (some flat)."""
    labels, count = ndimage.label(buildings)
    sun = canvas.sun()
    for index, window in enumerate(ndimage.find_objects(labels), start=1):
        inside = labels[window] == index
        rows, cols = np.nonzero(inside)
        roof = ROOF_COLOURS[int(canvas.rng.integers(len(ROOF_COLOURS)))] * F32(canvas.rng.uniform(0.9, 1.1))
        if canvas.rng.random() < 0.25 or len(rows) < 8:
            light = np.full(len(rows), F32(1.0))
        else:
            r, c = rows - rows.mean(), cols - cols.mean()
            axis = 0.5 * math.atan2(2 * (r * c).mean(), (c * c).mean() - (r * r).mean())   # long side's direction
            across = c * math.sin(axis) - r * math.cos(axis)
            toward_sun = -math.cos(axis) * sun[0] + math.sin(axis) * sun[1]
            light = (0.88 + 0.45 * np.sign(across) * toward_sun).astype(F32)
        block = rgb[window]
        block[rows, cols] = roof * light[:, None]

