"""The small things that make real orthophotos busy between 1 and 5 m: on the ground, on roads, on roofs.

Measured at 25 cm/px (`mid_scale_detail`), the shared SWISSIMAGE photos vary three times as much at
that scale as the plain synthetic scenes on every class but woodland: real gardens, streets and
roofs 12-15, synthetic lawns, asphalt and roofs 4-7, crowns alike (9-14). A model trained on them
learns that only tree crowns and the edges of roofs are busy, and on real imagery draws buildings
over gardens and trees. So the gardens get beds, patios, sheds and play equipment, the ground worn
patches over metres; roads get repairs, stains and manholes; roofs get weathering, chimneys, skylights and
dormers, flat roofs patched membranes. None of it changes the mask: a shed under 5 x 5 m is background,
as in LandCover.ai's masks and the real ground truth (bench/ground_truth). Lawns stay smooth at a
metre or two (so are real ones: their detail is in the things on them), and there are no bushes: a dark
round crown labelled background contradicts the real truth, which calls such crowns trees.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import ndimage

from .primitives import BACKGROUND, BUILDING, ROAD, F32, Canvas, cast_shadow, nearby, noise
from .villages import Building, Rect, inside_rect, rect_window

# Garden things, with the height of their shadows (0: flat on the ground).
_BEDS = np.array([(112, 92, 70), (86, 74, 58), (132, 118, 92), (78, 96, 56)], F32)     # soil, mulch, vegetables
_PATIOS = np.array([(176, 172, 162), (150, 138, 124), (196, 190, 178), (128, 126, 122)], F32)
_SHEDS = np.array([(120, 92, 70), (150, 150, 148), (96, 60, 50), (200, 196, 188), (70, 84, 70)], F32)
_TOYS = np.array([(40, 44, 52), (60, 110, 170), (200, 70, 60), (220, 220, 210)], F32)
_SHED_HEIGHT_M = 2.5
_THINGS_PER_M2 = 1 / 200.0        # on background ground near houses: about one garden thing per 200 m²
_GARDEN_REACH_M = 30.0            # how far from a building gardens reach
_ROOF_THINGS_PER_M2 = 1 / 25.0    # chimneys, skylights, dormers on a pitched roof


def mid_scale_detail(rgb: np.ndarray, mask: np.ndarray, resolution_m: float) -> dict[int, float]:
    """How busy each class is between about 1 and 5 m: the mean absolute difference of the grey image
    averaged over 1.25 m and over 5.25 m boxes, per class present (at least 100 px)."""
    grey = rgb.astype(F32).mean(axis=2)
    fine = ndimage.uniform_filter(grey, max(int(round(1.25 / resolution_m)), 1))
    coarse = ndimage.uniform_filter(grey, max(int(round(5.25 / resolution_m)), 1))
    difference = np.abs(fine - coarse)
    return {value: float(difference[mask == value].mean()) for value in range(int(mask.max()) + 1)
            if (mask == value).sum() >= 100}


def add_detail(canvas: Canvas, rgb: np.ndarray, label: np.ndarray, buildings: list[Building]) -> np.ndarray:
    """Weathered roofs with their fittings, worn roads and garden things on the background (rgb in place).

    Returns the footprint of what stands on the ground (sheds), whose shadows the caller
    casts with the rest (`standing_shadow`). Its draws come from a stream of their own, so how many small
    things fall inside the scene, which differs a little with the resolution, leaves the rest of the
    scene and the camera as they are."""
    canvas = dataclasses.replace(canvas, rng=np.random.default_rng(canvas.rng.integers(2 ** 63)))
    _weather_roofs(canvas, buildings, rgb)
    _wear_roads(canvas, rgb, label == ROAD)
    return _garden_things(canvas, rgb, label == BACKGROUND, label == BUILDING)


def standing_shadow(canvas: Canvas, standing: np.ndarray) -> np.ndarray:
    """The ground shaded by `add_detail`'s sheds."""
    return cast_shadow(canvas, standing, _SHED_HEIGHT_M)


def _mottle(canvas: Canvas, feature_m: float, strength: float) -> np.ndarray:
    """A brightness factor around 1 varying over `feature_m` and finer (three octaves)."""
    return 1 + F32(strength) * np.clip(noise(canvas, feature_m, octaves=3), -2.5, 2.5)


def _garden_things(canvas: Canvas, rgb: np.ndarray, ground: np.ndarray, buildings: np.ndarray) -> np.ndarray:
    """Worn patches over the ground and, in the gardens round buildings, things scattered on it: beds, patios,
    sheds and play equipment, each only where the ground is background."""
    rng = canvas.rng
    rgb[ground] *= _mottle(canvas, 10.0, 0.08)[ground][:, None]
    standing = np.zeros(canvas.shape, bool)
    gardens = ground & nearby(buildings, canvas.px(_GARDEN_REACH_M), max(int(canvas.px(2.0)), 1))
    count = rng.poisson(canvas.area_m2 * _THINGS_PER_M2)              # those outside the gardens are dropped
    rows = rng.uniform(0, canvas.height, count)
    cols = rng.uniform(0, canvas.width, count)
    kinds = rng.choice(4, count, p=[0.4, 0.32, 0.2, 0.08])
    for row, col, kind in zip(rows, cols, kinds):
        if not gardens[int(row), int(col)]:
            continue
        if kind == 3:                                        # a trampoline, a paddling pool, a sandpit
            _paint_round(canvas, rgb, ground, (row, col), canvas.px(rng.uniform(0.8, 2.0)),
                         _TOYS[int(rng.integers(len(_TOYS)))])
            continue
        size = {0: (2.0, 8.0), 1: (2.5, 6.0), 2: (1.8, 4.5)}[int(kind)]
        rect = Rect(np.array([row, col]), canvas.px(rng.uniform(*size)), canvas.px(rng.uniform(size[0], size[1] * 0.7)),
                    rng.uniform(0, math.pi))
        window = rect_window(canvas, rect, 0.0)
        if window is None:
            continue
        (wr, wc), r, c = window
        inside, u, _v = inside_rect(rect, r, c)
        inside &= ground[wr, wc]
        palette = (_BEDS, _PATIOS, _SHEDS)[int(kind)]
        colour = palette[int(rng.integers(len(palette)))] * F32(rng.uniform(0.88, 1.12))
        if kind == 0:                                        # beds in rows
            colour = colour * np.where(np.mod(u * canvas.res, 1.2) < 0.5, F32(0.85), F32(1.05))[..., None]
        elif kind == 2:                                      # a shed: ridge across, half its roof in the sun
            colour = colour * np.where(u > 0, F32(1.08), F32(0.86))[..., None]
            standing[wr, wc] |= inside
        rgb[wr, wc] = np.where(inside[..., None], colour, rgb[wr, wc])
    return standing


def _paint_round(canvas: Canvas, rgb: np.ndarray, ground: np.ndarray, centre, radius: float,
                 colour: np.ndarray) -> None:
    """A round thing on `ground`, lit from the sun's side."""
    top, left = max(int(centre[0] - radius), 0), max(int(centre[1] - radius), 0)
    bottom, right = min(int(centre[0] + radius) + 2, canvas.height), min(int(centre[1] + radius) + 2, canvas.width)
    if bottom <= top or right <= left:
        return
    dr = (np.arange(top, bottom, dtype=F32)[:, None] - F32(centre[0])) / F32(radius)
    dc = (np.arange(left, right, dtype=F32)[None, :] - F32(centre[1])) / F32(radius)
    window = (slice(top, bottom), slice(left, right))
    inside = (dr ** 2 + dc ** 2 < 1) & ground[window]
    sun = canvas.sun()
    light = (0.8 + 0.35 * np.clip(dr * sun[0] + dc * sun[1], -1, 1)).astype(F32)
    rgb[window] = np.where(inside[..., None], colour * light[..., None], rgb[window])


def _wear_roads(canvas: Canvas, rgb: np.ndarray, road: np.ndarray) -> None:
    """Uneven asphalt: repairs lighter or darker over metres, stains and manholes."""
    if not road.any():
        return
    rng = canvas.rng
    factor = _mottle(canvas, 3.0, 0.08)
    patches = noise(canvas, 8.0, octaves=2)
    factor = np.where(patches > 1.1, factor * F32(rng.uniform(0.78, 0.9)), factor)
    factor = np.where(patches < -1.3, factor * F32(rng.uniform(1.08, 1.2)), factor)
    rgb[road] *= factor[road][:, None]
    count = rng.poisson(canvas.area_m2 / 150.0)                    # one per 150 m² of road
    for row, col in zip(rng.uniform(0, canvas.height, count), rng.uniform(0, canvas.width, count)):
        if road[int(row), int(col)]:
            dark = np.array((60, 60, 62), F32) * F32(rng.uniform(0.8, 1.4))
            _paint_round(canvas, rgb, road, (row, col), canvas.px(rng.uniform(0.35, 1.2)), dark)


def _weather_roofs(canvas: Canvas, buildings: list[Building], rgb: np.ndarray) -> None:
    """Dirt and moss over each roof, sections of different age along long roofs, and fittings: chimneys and
    dormers with their shadows, dark skylights; flat roofs patched membranes and vents."""
    if not buildings:
        return
    rng = canvas.rng
    weathering = _mottle(canvas, 2.5, 0.1)
    for building in buildings:
        window = rect_window(canvas, building, 0.0)
        if window is None:
            continue
        (wr, wc), r, c = window
        inside, u, v = inside_rect(building, r, c)
        if not inside.any():
            continue
        sections = max(int(building.length * canvas.res / rng.uniform(8.0, 20.0)), 1)
        tone = 1 + F32(0.06) * rng.standard_normal(sections + 1).astype(F32)
        section = np.clip(((u / building.length + 0.5) * sections).astype(np.int32), 0, sections)
        factor = weathering[wr, wc] * tone[section]
        rgb[wr, wc] = np.where(inside[..., None], rgb[wr, wc] * factor[..., None], rgb[wr, wc])
        area_m2 = building.length * building.width * canvas.res ** 2
        for _ in range(rng.poisson(area_m2 * _ROOF_THINGS_PER_M2)):
            du = rng.uniform(-0.42, 0.42) * building.length
            dv = rng.uniform(-0.38, 0.38) * building.width
            if building.flat:
                size_u, size_v = canvas.px(rng.uniform(0.8, 6.0)), canvas.px(rng.uniform(0.8, 4.0))
                colour = F32(rng.uniform(0.7, 1.25)) * building.roof
            elif rng.random() < 0.5:                          # a skylight or a window
                size_u, size_v = canvas.px(rng.uniform(0.6, 1.4)), canvas.px(rng.uniform(0.8, 1.3))
                colour = np.array((48, 54, 62), F32) * F32(rng.uniform(0.8, 1.5))
            else:                                             # a chimney or a dormer, darker on its north side
                size_u, size_v = canvas.px(rng.uniform(0.5, 2.5)), canvas.px(rng.uniform(0.5, 1.5))
                colour = building.roof * F32(rng.uniform(0.55, 1.3))
            fitting = inside & (np.abs(u - du) < size_u / 2) & (np.abs(v - dv) < size_v / 2)
            rgb[wr, wc] = np.where(fitting[..., None], colour, rgb[wr, wc])
            if not building.flat:                             # its shadow on the roof, 1 m high
                shift_u, shift_v = _along_and_across(building, canvas.shadow_dir * canvas.px(canvas.shadow_per_m))
                shade = inside & ~fitting & (np.abs(u - du - shift_u) < size_u / 2) \
                    & (np.abs(v - dv - shift_v) < size_v / 2)
                rgb[wr, wc] = np.where(shade[..., None], rgb[wr, wc] * F32(0.6), rgb[wr, wc])


def _along_and_across(rect: Rect, offset: np.ndarray) -> tuple[float, float]:
    """A (row, col) offset in the rectangle's own coordinates (as `inside_rect`'s u, v)."""
    sin, cos = math.sin(rect.axis), math.cos(rect.axis)
    return offset[0] * sin + offset[1] * cos, offset[1] * sin - offset[0] * cos
