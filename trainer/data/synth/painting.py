"""Colours of what the features cover: water, roads, roofs with their shadows, yards, crowns."""
from __future__ import annotations

import math

import numpy as np

from .landscape import PAVED_ROADS, ROAD_KINDS
from .primitives import BUILDING, ROAD, F32, Canvas, CentreLine, noise, soften, sweep
from .villages import Building, Rect, inside_rect, rect_window

_YARDS = np.array([(100, 128, 64), (118, 138, 82), (92, 116, 60), (138, 138, 112)], F32)
_PAVING = np.array((150, 146, 136), F32)
# Bright and dark crowns, broadleaved and conifer: blue close to red, as leaves reflect both alike.
_LEAVES = np.array([(104, 128, 84), (56, 80, 58)], F32)
_NEEDLES = np.array([(66, 86, 66), (36, 54, 46)], F32)
# Water: (deep, shallows, how far the shallows reach in m): murky ponds and rivers, then clear lakes.
_WATERS = (((42, 56, 54), (80, 94, 70), 2.5), ((36, 50, 62), (80, 94, 70), 2.5), ((52, 66, 54), (80, 94, 70), 2.5),
           ((30, 62, 66), (64, 116, 106), 5.0), ((26, 54, 68), (80, 124, 114), 4.0))


def paint_water(canvas: Canvas, water: np.ndarray, rgb: np.ndarray) -> None:
    """Dark water, lighter in the shallows along the shore: murky and olive, or clear, teal and turquoise
    over shallows several metres wide."""
    if not water.any():
        return
    rng = canvas.rng
    rows, cols = np.nonzero(water)
    pad = int(canvas.px(12.0)) + 2
    window = (slice(max(rows.min() - pad, 0), rows.max() + pad + 1), slice(max(cols.min() - pad, 0), cols.max() + pad + 1))
    inner = water[window]
    deep, shallows, reach_m = _WATERS[int(rng.integers(len(_WATERS)))]
    shallow = np.clip((1 - soften(inner, canvas.px(reach_m))[inner]) * 1.6, 0, 0.7)[:, None]
    ripple = (1 + F32(0.06) * noise(canvas, 60.0, octaves=2)[window][inner])[:, None]
    part = rgb[window]
    part[inner] = (np.array(deep, F32) * (1 - shallow) + np.array(shallows, F32) * shallow) * ripple


def paint_roads(canvas: Canvas, roads: list[CentreLine], label: np.ndarray, rgb: np.ndarray) -> None:
    """Asphalt with centre dashes on main roads, gravel and dirt with wheel tracks."""
    rng = canvas.rng
    for road in sorted(roads, key=lambda item: -item.kind):       # main roads last, on top
        rows, cols, across, along = sweep(road.points, canvas.px(road.width_m), canvas.shape)
        colour = np.array(ROAD_KINDS[road.kind][2], F32) * F32(rng.uniform(0.9, 1.1))
        shade = 1 - 0.1 * np.abs(across) ** 4
        if road.kind == 0:
            dash = ((np.abs(across) * road.width_m / 2 < 0.1 + canvas.res / 2)
                    & ((along * canvas.res) % 12.0 < 4.0))
            shade = np.where(dash, F32(1.9), shade)
        elif road.kind not in PAVED_ROADS:
            shade = shade * (1 - 0.08 * np.cos(across * F32(2 * math.pi)))
        rgb[rows, cols] = colour * shade[:, None]
        label[rows, cols] = ROAD


def paint_buildings(canvas: Canvas, buildings: list[Building], rgb: np.ndarray, label: np.ndarray,
                    shadow: np.ndarray) -> None:
    """Roofs, their label and the shadow each building casts."""
    for building in buildings:
        length = canvas.px(building.height_m * canvas.shadow_per_m)
        window = rect_window(canvas, building, length)
        if window is None:
            continue
        (rows, cols), r, c = window
        inside, u, v = inside_rect(building, r, c)
        roof = building.roof * _roof_light(canvas, building, u, v)[..., None]
        rgb[rows, cols] = np.where(inside[..., None], roof, rgb[rows, cols])
        label[rows, cols] = np.where(inside, BUILDING, label[rows, cols])
        cast = np.zeros_like(inside)
        for fraction in np.linspace(0.0, 1.0, max(int(length / 2), 2)):
            offset = canvas.shadow_dir * length * fraction
            cast |= inside_rect(building, r - F32(offset[0]), c - F32(offset[1]))[0]
        shadow[rows, cols] |= cast & ~inside


def paint_lots(canvas: Canvas, lots: list[Rect], buildings: list[Building], rgb: np.ndarray) -> np.ndarray:
    """Yards of the village lots (lawn, garden or gravel) with paving round the buildings."""
    rng = canvas.rng
    yard = np.zeros(canvas.shape, bool)
    texture = 1 + F32(0.08) * noise(canvas, 8.0, octaves=2)
    for lot in lots:
        window = rect_window(canvas, lot, 0)
        if window is None:
            continue
        (rows, cols), r, c = window
        inside = inside_rect(lot, r, c)[0]
        colour = _YARDS[int(rng.integers(len(_YARDS)))]
        rgb[rows, cols] = np.where(inside[..., None], colour * texture[rows, cols][..., None], rgb[rows, cols])
        yard[rows, cols] |= inside
    margin = canvas.px(3.0)
    for building in buildings:
        window = rect_window(canvas, building, margin)
        if window is None:
            continue
        (rows, cols), r, c = window
        paved = inside_rect(building, r, c, margin)[0] & yard[rows, cols]
        rgb[rows, cols] = np.where(paved[..., None], _PAVING * texture[rows, cols][..., None], rgb[rows, cols])
    return yard


def _roof_light(canvas: Canvas, building: Building, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Brightness of each roof facet from its slope towards the sun: gable, hip or flat."""
    if building.flat:
        rim = np.maximum(np.abs(u) - building.length / 2, np.abs(v) - building.width / 2) > -canvas.px(0.6)
        return np.where(rim, F32(0.85), F32(1.0))
    sun = canvas.sun()
    sin, cos = math.sin(building.axis), math.cos(building.axis)
    toward_sun_across = -cos * sun[0] + sin * sun[1]
    toward_sun_along = sin * sun[0] + cos * sun[1]
    facing = np.sign(v) * F32(toward_sun_across)
    if building.hip:
        end = np.abs(u) - (building.length - building.width) / 2 > np.abs(v)
        facing = np.where(end, np.sign(u) * F32(toward_sun_along), facing)
    eave = np.maximum(np.abs(u) - building.length / 2, np.abs(v) - building.width / 2) > -canvas.px(0.3)
    return (0.88 + 0.45 * facing - 0.12 * eave).astype(F32)


def paint_trees(canvas: Canvas, wooded: np.ndarray, forest: np.ndarray, light: np.ndarray,
                mix: np.ndarray, rgb: np.ndarray) -> None:
    """Crown colours: conifer stands darker than broadleaved woods, each crown its own shade."""
    conifer = ((noise(canvas, 200.0, octaves=2) > 0.3) & forest)[wooded][:, None]
    bright = np.where(conifer, _NEEDLES[0], _LEAVES[0])
    dark = np.where(conifer, _NEEDLES[1], _LEAVES[1])
    variation = 1 + F32(0.08) * noise(canvas, 25.0, octaves=2)[wooded]
    clumps = noise(canvas, 1.5, octaves=2)[wooded]                          # sunlit clumps of leaves, dark gaps
    clumps = np.where(clumps < -0.9, F32(0.5), 1 + F32(0.22) * clumps)
    leaves = canvas.grain.uniform(0.88, 1.12, len(variation)).astype(F32)     # pixel-sized leaf clusters
    rgb[wooded] = (dark + (bright - dark) * mix[wooded][:, None]) * (light[wooded] * variation * clumps
                                                                      * leaves)[:, None]
