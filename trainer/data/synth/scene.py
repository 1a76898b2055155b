"""One synthetic orthophoto and its mask: the features laid out, painted, lit and photographed."""
from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from landcover_qgis_plugin.core.errors import InputError

from .clutter import add_detail, standing_shadow
from .landscape import farmland, road_network, tree_potential, water_bodies
from .painting import paint_buildings, paint_lots, paint_roads, paint_trees, paint_water
from .primitives import BUILDING, WATER, WOODLAND, F32, Canvas, cast_shadow, noise, sweep
from .towns import generate_town
from .trees import place_trees
from .villages import place_buildings

_SHADOW = 0.5


def _camera(canvas: Canvas, rgb: np.ndarray) -> np.ndarray:
    """Flight-to-flight differences (exposure, white balance, haze) and sensor noise; to uint8."""
    rng = canvas.rng
    balance = (rng.uniform(0.92, 1.08) * rng.uniform(0.96, 1.04, 3)).astype(F32)
    haze = F32(rng.uniform(0.0, 0.08))
    rgb *= balance * (1 - haze)
    rgb += haze * F32(200.0) + canvas.grain.standard_normal(canvas.shape, dtype=F32)[..., None] * F32(2.5)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def _varied_sensor(canvas: Canvas, rgb: np.ndarray) -> np.ndarray:
    """What differs between real cameras and flights, wider than `_camera`: lens and resampling blur up to
    that of a 50 cm image at 25 cm/px, saturation, colour temperature, contrast, haze and noise."""
    rng = canvas.rng
    blur_px = canvas.px(rng.uniform(0.0, 0.35))
    if blur_px > 0.3:
        rgb = ndimage.gaussian_filter(rgb, (blur_px, blur_px, 0))
    grey = rgb.mean(axis=2, keepdims=True)
    rgb = grey + (rgb - grey) * F32(rng.uniform(0.7, 1.4))
    warmth = rng.uniform(-0.07, 0.07)
    rgb *= np.array([1 + warmth, 1.0, 1 - warmth], F32) * F32(rng.uniform(0.85, 1.15))
    rgb = F32(128.0) + (rgb - F32(128.0)) * F32(rng.uniform(0.8, 1.2))
    haze = F32(rng.uniform(0.0, 0.12))
    rgb = rgb * (1 - haze) + haze * F32(200.0)
    rgb += canvas.grain.standard_normal(canvas.shape, dtype=F32)[..., None] * F32(rng.uniform(1.5, 4.0))
    return np.clip(rgb, 0, 255).astype(np.uint8)


SCENE_KINDS = ("countryside", "town")
SENSORS = {"plain": _camera, "varied": _varied_sensor}


def generate_scene(width: int, height: int, resolution_m: float = 0.25, seed: int = 0,
                   kind: str = "countryside", sensor: str = "plain") -> tuple[np.ndarray, np.ndarray]:
    """A synthetic orthophoto and its LandCover.ai mask: Polish countryside, or a town (towns.py).

    Returns (rgb uint8 (height, width, 3), mask uint8 (height, width)) with values 0 background,
    1 building, 2 woodland, 3 water, 4 road. Deterministic for a seed; sizes are in metres, so a
    scene looks alike at 0.25 and 0.5 m/px. `sensor`: "plain" (small flight-to-flight differences)
    or "varied" (the range of real cameras: blur, colour, contrast, haze).
    """
    if width < 1 or height < 1 or not resolution_m > 0:
        raise InputError(f"A scene of {width}x{height} px at {resolution_m} m/px is not possible; "
                         "give a positive size and resolution.")
    if kind not in SCENE_KINDS or sensor not in SENSORS:
        raise InputError(f"Unknown scene kind '{kind}' or sensor '{sensor}'; use one of {list(SCENE_KINDS)} and "
                         f"{list(SENSORS)}.")
    canvas = make_canvas(width, height, resolution_m, seed)
    rgb, label = generate_town(canvas) if kind == "town" else _countryside(canvas)
    return SENSORS[sensor](canvas, rgb), label


def make_canvas(width: int, height: int, resolution_m: float, seed: int) -> Canvas:
    """A scene's canvas: its random streams and the sun (azimuth within 40 degrees of south, noon-ish height)."""
    rng = np.random.default_rng(seed)
    azimuth = rng.uniform(-0.7, 0.7)
    return Canvas(int(height), int(width), float(resolution_m), rng, np.random.default_rng([seed, 1]),
                  np.array([-math.cos(azimuth), math.sin(azimuth)]), float(rng.uniform(0.45, 0.75)))


def _countryside(canvas: Canvas) -> tuple[np.ndarray, np.ndarray]:
    """Fields, woods, water, roads and villages: (rgb float32 before the camera, mask)."""
    roads = road_network(canvas)
    rgb, woodlot = farmland(canvas)
    potential = tree_potential(canvas, woodlot)
    water, banks = water_bodies(canvas)
    riparian = banks & (noise(canvas, 40.0) > -0.3)
    potential[riparian] = np.maximum(potential[riparian], F32(0.05))
    # Villages avoid roads and water; their lots clear the forest.
    road_area = np.zeros(canvas.shape, bool)
    for road in roads:
        rows, cols, _, _ = sweep(road.points, canvas.px(road.width_m + 2.0), canvas.shape)
        road_area[rows, cols] = True
    buildings, lots = place_buildings(canvas, roads, road_area | water)
    yard = paint_lots(canvas, lots, buildings, rgb)
    potential[yard] = -1.0
    forest, trees, light, mix = place_trees(canvas, potential, lots, roads)
    wooded = forest | trees
    paint_trees(canvas, wooded, forest, light, mix, rgb)
    label = np.zeros(canvas.shape, np.uint8)
    label[wooded] = WOODLAND
    label[water] = WATER
    paint_water(canvas, water, rgb)
    paint_roads(canvas, roads, label, rgb)
    shadow = np.zeros(canvas.shape, bool)
    paint_buildings(canvas, buildings, rgb, label, shadow)
    shadow |= standing_shadow(canvas, add_detail(canvas, rgb, label, buildings))
    shadow |= cast_shadow(canvas, forest & (label == WOODLAND), 18.0)
    shadow |= cast_shadow(canvas, trees & (label == WOODLAND), 9.0)
    rgb[shadow & (label != WOODLAND) & (label != BUILDING)] *= F32(_SHADOW)
    return rgb, label
