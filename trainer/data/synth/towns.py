"""Towns: what real orthophotos of built-up land show and the countryside scenes lack.

Measured against the real SWISSIMAGE truths (bench.real), a model trained on villages and fields
took tree groups for roofs and missed streets. So a town has a street grid with pavements, lane
markings, tram tracks and cars; blocks of housing slabs with long shadows, flat-roofed halls with
gravel, green roofs, solar panels and rooftop plant, villas in gardens, car parks (background, as
in LandCover.ai), mown lawns crossed by footpaths, park trees and hedges, sometimes a railway
(background too) and a lake shore. Sizes are in metres, as everywhere in `synth`.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from .clutter import add_detail, standing_shadow
from .painting import paint_buildings, paint_trees
from .primitives import (BUILDING, ROAD, STEP_M, WATER, WOODLAND, F32, Canvas, CentreLine, cast_shadow, edge_start,
                         noise, sweep, wander)
from .trees import place_trees
from .villages import Building, Rect, inside_rect, rect_window

_LAWN = np.array([(104, 132, 76), (118, 140, 84), (96, 122, 70)], F32)
_GARDEN = np.array((92, 108, 66), F32)
_PAVEMENT = np.array((172, 170, 164), F32)
_ASPHALT = np.array([(108, 108, 110), (124, 122, 120), (92, 94, 98), (140, 138, 134), (152, 152, 148)], F32)
_FOOTPATH = np.array((184, 178, 162), F32)
_BALLAST = np.array((128, 118, 104), F32)
_CARS = np.array([(228, 228, 226), (30, 32, 36), (120, 122, 126), (168, 40, 36), (40, 60, 120), (190, 190, 196)],
                 F32)
# Town roofs: brown and dark tiles of slabs and villas, grey and gravel flat roofs, green roofs.
_TILES = np.array([(132, 88, 70), (110, 80, 66), (96, 84, 80), (150, 100, 76), (170, 96, 70), (84, 84, 88)], F32)
_FLAT = np.array([(176, 174, 168), (150, 150, 148), (190, 180, 160), (126, 128, 104), (136, 126, 112)], F32)
_PLANT = np.array((208, 208, 204), F32)
_SOLAR = np.array((54, 62, 82), F32)
# Shade lit by the blue sky alone: darker than the countryside's grey half-light, and bluish, as the long
# shadows of town blocks on SWISSIMAGE (which a model must not take for water).
_SKYLIGHT = np.array((0.32, 0.36, 0.46), F32)
MAIN_STREET, STREET, RAILWAY = 0, 1, -2   # CentreLine kinds here (rivers are -1)


def generate_town(canvas: Canvas) -> tuple[np.ndarray, np.ndarray]:
    """A town scene: (rgb float32 (H, W, 3) before the camera, mask uint8 (H, W))."""
    rng = canvas.rng
    rgb = _lawns(canvas)
    label = np.zeros(canvas.shape, np.uint8)
    angle = rng.uniform(0, math.pi)
    lake = _lake_shore(canvas) if rng.random() < 0.2 else np.zeros(canvas.shape, bool)
    streets = _street_grid(canvas, angle)
    taken = lake.copy()
    for street in streets:
        rows, cols, _, _ = sweep(street.points, canvas.px(street.width_m + 5.0), canvas.shape)
        taken[rows, cols] = True
    railway = _railway(canvas, angle) if rng.random() < 0.3 else None
    if railway is not None:
        rows, cols, _, _ = sweep(railway.points, canvas.px(railway.width_m + 4.0), canvas.shape)
        taken[rows, cols] = True
    buildings, lots, car_parks = _blocks(canvas, angle, taken)
    _paint_ground(canvas, rgb, lots, car_parks)
    _footpaths(canvas, rgb, taken)
    if railway is not None:
        _paint_railway(canvas, railway, rgb)
    _paint_streets(canvas, streets, rgb, label)
    _cars(canvas, rgb, streets, car_parks)
    if lake.any():
        _paint_lake(canvas, lake, rgb)
        label[lake] = WATER
    potential = noise(canvas, 60.0, octaves=3) - F32(0.7)
    potential[taken] = -1.0
    forest, trees, light, mix = place_trees(canvas, potential, lots, [s for s in streets if s.kind == STREET])
    wooded = (forest | trees) & ~lake           # street trees overhang the road, as on real photos
    paint_trees(canvas, wooded, forest, light, mix, rgb)
    label[wooded] = WOODLAND
    shadow = np.zeros(canvas.shape, bool)
    paint_buildings(canvas, buildings, rgb, label, shadow)
    _roof_details(canvas, buildings, rgb)
    shadow |= standing_shadow(canvas, add_detail(canvas, rgb, label, buildings) & ~lake)
    shadow |= cast_shadow(canvas, forest & (label == WOODLAND), 14.0)
    shadow |= cast_shadow(canvas, trees & (label == WOODLAND), 9.0)
    rgb[shadow & ~lake & (label != WOODLAND) & (label != BUILDING)] *= _SKYLIGHT
    return rgb, label


def _lawns(canvas: Canvas) -> np.ndarray:
    """Mown lawns, smooth and bright, patched with darker garden beds."""
    rng = canvas.rng
    base = _LAWN[int(rng.integers(len(_LAWN)))]
    patches = (noise(canvas, 40.0, octaves=2) > 0.35)[..., None]
    texture = (1 + F32(0.05) * noise(canvas, 4.0))[..., None]
    return (np.where(patches, _GARDEN, base) * texture).astype(F32)


def _line(canvas: Canvas, angle: float, offset_px: float) -> np.ndarray:
    """Centre-line points of a straight line at `angle` through the scene, `offset_px` from its centre."""
    direction = np.array([math.sin(angle), math.cos(angle)])
    normal = np.array([-direction[1], direction[0]])
    centre = np.array(canvas.shape, float) / 2 + normal * offset_px
    half = math.hypot(*canvas.shape) / 2 + canvas.px(30.0)
    steps = np.arange(-half, half, canvas.px(STEP_M))
    return centre + steps[:, None] * direction


def _street_grid(canvas: Canvas, angle: float) -> list[CentreLine]:
    """Two families of parallel streets, blocks 60-140 m apart; one may be a main street with tram tracks."""
    rng = canvas.rng
    streets = []
    extent = math.hypot(*canvas.shape) / 2
    for family in (angle, angle + math.pi / 2):
        offset = -extent + canvas.px(rng.uniform(0, 80))
        while offset < extent:
            main = not streets and rng.random() < 0.7
            width = rng.uniform(12, 16) if main else rng.uniform(6, 9)
            streets.append(CentreLine(_line(canvas, family + rng.normal(0, 0.02), offset),
                                      MAIN_STREET if main else STREET, width))
            offset += canvas.px(rng.uniform(60, 140))
    return streets


def _railway(canvas: Canvas, angle: float) -> CentreLine:
    return CentreLine(_line(canvas, angle + canvas.rng.uniform(-0.4, 0.4),
                            canvas.px(canvas.rng.uniform(-200, 200))), RAILWAY, canvas.rng.uniform(7, 11))


def _blocks(canvas: Canvas, angle: float, street_area: np.ndarray):
    """Buildings on the free ground, laid out in the grid's directions: slabs, halls or villas by district.

    Returns (buildings, garden lots, car parks)."""
    rng = canvas.rng
    occupied = street_area.copy()
    district = noise(canvas, 150.0)
    buildings: list[Building] = []
    lots: list[Rect] = []
    car_parks: list[Rect] = []
    for _attempt in range(int(canvas.area_m2 / 25.0)):
        if len(buildings) > canvas.area_m2 / 120.0:
            break
        centre = rng.uniform(0, 1, 2) * np.array(canvas.shape)
        kind = district[int(min(centre[0], canvas.height - 1)), int(min(centre[1], canvas.width - 1))]
        turn = angle + (math.pi / 2 if rng.random() < 0.5 else 0.0) + rng.normal(0, 0.02)
        if kind > 0.25:          # housing slabs: long, tall, tiled or flat
            flat = rng.random() < 0.35
            building = Building(centre, canvas.px(rng.uniform(40, 90)), canvas.px(rng.uniform(11, 16)), turn,
                                rng.uniform(12, 25), _pick(rng, _FLAT if flat else _TILES), flat=flat)
        elif kind > -0.1:        # halls, schools, shops: large and flat
            building = Building(centre, canvas.px(rng.uniform(30, 70)), canvas.px(rng.uniform(20, 45)), turn,
                                rng.uniform(8, 16), _pick(rng, _FLAT), flat=True)
        else:                    # villas in gardens
            flat = rng.random() < 0.15
            building = Building(centre, canvas.px(rng.uniform(10, 18)), canvas.px(rng.uniform(8, 13)), turn,
                                rng.uniform(6, 10), _pick(rng, _FLAT if flat else _TILES),
                                hip=bool(rng.random() < 0.4), flat=flat)
        if not _claim(canvas, building, canvas.px(rng.uniform(8, 14) if kind > -0.1 else 4.0), occupied):
            continue
        buildings.append(building)
        if kind <= -0.1:
            lots.append(Rect(centre, building.length + canvas.px(14), building.width + canvas.px(14), turn))
        elif rng.random() < 0.4:
            side = np.array([math.cos(turn), -math.sin(turn)]) * rng.choice([-1.0, 1.0])
            park = Rect(centre + side * (building.width / 2 + canvas.px(14)), building.length, canvas.px(20), turn)
            if _claim(canvas, park, 0.0, occupied):
                car_parks.append(park)
    return buildings, lots, car_parks


def _pick(rng: np.random.Generator, colours: np.ndarray) -> np.ndarray:
    return colours[int(rng.integers(len(colours)))] * F32(rng.uniform(0.88, 1.12))


def _claim(canvas: Canvas, rect: Rect, margin: float, occupied: np.ndarray) -> bool:
    """Take the rectangle (with a free margin round it) if it is inside the scene and nothing is there."""
    window = rect_window(canvas, rect, margin)
    if window is None:
        return False
    (rows, cols), r, c = window
    around = inside_rect(rect, r, c, margin)[0]
    if (occupied[rows, cols] & around).any() or inside_rect(rect, r, c)[0].sum() < 0.7 * rect.length * rect.width:
        return False
    occupied[rows, cols] |= inside_rect(rect, r, c, min(margin, canvas.px(3.0)))[0]
    return True


def _covered(canvas: Canvas, rects, margin: float = 0.0):
    """Each rectangle that reaches into the scene, with its window and its pixels there: inside it (grown
    by `margin` px), and their coordinates along and across it."""
    for rect in rects:
        window = rect_window(canvas, rect, max(margin, 0.0))
        if window is None:
            continue
        (rows, cols), r, c = window
        inside, u, v = inside_rect(rect, r, c, margin)
        yield rect, (rows, cols), inside, u, v


def _paint_ground(canvas: Canvas, rgb: np.ndarray, lots: list[Rect], car_parks: list[Rect]) -> None:
    """Gardens round villas (with a hedge along their edge) and asphalt car parks with bay lines."""
    texture = (1 + F32(0.06) * noise(canvas, 3.0))[..., None]
    hedge_m = canvas.px(1.2)
    for lot, window, inside, u, v in _covered(canvas, lots):
        hedge = inside & ((np.abs(u) > lot.length / 2 - hedge_m) | (np.abs(v) > lot.width / 2 - hedge_m))
        garden = np.where(hedge[..., None], F32(0.7) * _GARDEN, _GARDEN * texture[window])
        rgb[window] = np.where(inside[..., None], garden, rgb[window])
    for _park, window, inside, u, v in _covered(canvas, car_parks):
        bays = (np.abs(np.mod(u * canvas.res, 2.5) - 1.25) < 0.06 + canvas.res / 2) & (np.abs(v) > canvas.px(2.5))
        colour = np.where(bays[..., None], _PAVEMENT * F32(1.2), _ASPHALT[0] * texture[window])
        rgb[window] = np.where(inside[..., None], colour, rgb[window])


def _footpaths(canvas: Canvas, rgb: np.ndarray, street_area: np.ndarray) -> None:
    """Light paths winding across the lawns (background, as in LandCover.ai)."""
    for _ in range(int(canvas.rng.integers(1, 5))):
        start, heading = edge_start(canvas)
        points = wander(canvas, start, heading, canvas.rng.uniform(100, 400), 0.08)
        rows, cols, _, _ = sweep(points, canvas.px(canvas.rng.uniform(2.0, 3.5)), canvas.shape)
        keep = ~street_area[rows, cols]
        rgb[rows[keep], cols[keep]] = _FOOTPATH


def _paint_railway(canvas: Canvas, railway: CentreLine, rgb: np.ndarray) -> None:
    """A ballast bed with two tracks of dark rails and sleepers (background, not road)."""
    rows, cols, across, along = sweep(railway.points, canvas.px(railway.width_m), canvas.shape)
    half = railway.width_m / 2
    metres = np.abs(across) * half
    rail = np.zeros(len(rows), bool)
    for track in (-half / 2, half / 2):
        distance = np.abs(across * half - track)
        rail |= np.abs(distance - 0.72) < 0.05 + canvas.res / 2
    sleepers = (np.mod(along * canvas.res, 0.6) < 0.25) & (metres > 0.5)
    colour = _BALLAST * np.where(sleepers, F32(0.85), F32(1.0))[:, None]
    rgb[rows, cols] = np.where(rail[:, None], F32(0.45) * _BALLAST, colour)


def _lake_shore(canvas: Canvas) -> np.ndarray:
    """A lake filling one side of the scene behind a wavy shore."""
    rng = canvas.rng
    direction = rng.uniform(0, 2 * math.pi)
    r = (np.arange(canvas.height, dtype=F32)[:, None] - canvas.height / 2) * F32(math.sin(direction))
    c = (np.arange(canvas.width, dtype=F32)[None, :] - canvas.width / 2) * F32(math.cos(direction))
    reach = math.hypot(*canvas.shape) / 2
    return (r + c) / F32(reach) + F32(0.15) * noise(canvas, 80.0, octaves=3) > F32(rng.uniform(0.3, 0.7))


def _paint_lake(canvas: Canvas, lake: np.ndarray, rgb: np.ndarray) -> None:
    """Deep teal water, turquoise over the shallows near the shore, as alpine lakes look from above."""
    depth = np.minimum(ndimage.distance_transform_edt(lake) * canvas.res / 40.0, 1.0).astype(F32)
    deep = np.array((34, 64, 66), F32) * F32(canvas.rng.uniform(0.85, 1.15))
    shallow = np.array((70, 128, 116), F32)
    ripple = 1 + F32(0.05) * noise(canvas, 30.0, octaves=2)
    part = depth[lake][:, None]
    rgb[lake] = (shallow * (1 - part) + deep * part) * ripple[lake][:, None]


def _paint_streets(canvas: Canvas, streets: list[CentreLine], rgb: np.ndarray, label: np.ndarray) -> None:
    """Pavements (background), asphalt carriageways (road) with lane markings, and tram tracks on main streets."""
    rng = canvas.rng
    for street in streets:
        rows, cols, _, _ = sweep(street.points, canvas.px(street.width_m + 2 * rng.uniform(1.5, 3.0)), canvas.shape)
        rgb[rows, cols] = _PAVEMENT
    for street in streets:
        rows, cols, across, along = sweep(street.points, canvas.px(street.width_m), canvas.shape)
        half = street.width_m / 2
        metres = across * half
        colour = _ASPHALT[int(rng.integers(len(_ASPHALT)))] * F32(rng.uniform(0.92, 1.08))
        line = canvas.res / 2 + 0.06
        marking = (np.abs(metres) < line) & (np.mod(along * canvas.res, 9.0) < 3.0)
        marking |= np.abs(np.abs(metres) - (half - 0.4)) < line
        shade = np.ones(len(rows), F32)
        if street.kind == MAIN_STREET:        # tram tracks in the middle of a main street
            for track in (-1.6, 1.6):
                distance = np.abs(metres - track)
                shade = np.where(np.abs(distance - 0.72) < line, F32(0.6), shade)
        rgb[rows, cols] = np.where(marking[:, None], F32(225.0), colour * shade[:, None])
        label[rows, cols] = ROAD


def _cars(canvas: Canvas, rgb: np.ndarray, streets: list[CentreLine], car_parks: list[Rect]) -> None:
    """Cars parked along the kerbs (on the road, labelled road) and in the car parks (background)."""
    rng = canvas.rng
    spots = []
    for street in streets:
        points = street.points[rng.random(len(street.points)) < 0.25]
        direction = street.points[-1] - street.points[0]
        axis = math.atan2(direction[0], direction[1])
        normal = np.array([math.cos(axis), -math.sin(axis)])
        for point in points:
            side = rng.choice([-1.0, 1.0]) * canvas.px(street.width_m / 2 - 1.3)
            spots.append(Rect(point + normal * side, canvas.px(4.4), canvas.px(1.8), axis))
    for park in car_parks:
        sin, cos = math.sin(park.axis), math.cos(park.axis)
        for along in np.arange(-park.length / 2 + canvas.px(1.25), park.length / 2, canvas.px(2.5)):
            for across in (-1.0, 1.0):
                if rng.random() < 0.6:
                    centre = (park.centre + along * np.array([sin, cos])
                              + across * canvas.px(5.0) * np.array([-cos, sin]))
                    spots.append(Rect(centre, canvas.px(4.4), canvas.px(1.8), park.axis + math.pi / 2))
    for car, window, inside, u, _v in _covered(canvas, spots):
        body = _CARS[int(rng.integers(len(_CARS)))]
        glass = inside & (np.abs(u) < car.length * 0.22)
        colour = np.where(glass[..., None], F32(0.35) * body + 20, body)
        rgb[window] = np.where(inside[..., None], colour, rgb[window])


def _roof_details(canvas: Canvas, buildings: list[Building], rgb: np.ndarray) -> None:
    """Rooftop plant and solar panels on flat roofs."""
    rng = canvas.rng
    flat = [building for building in buildings if building.flat]
    for building, window, inside, u, v in _covered(canvas, flat, -canvas.px(1.0)):
        for _ in range(int(rng.integers(0, 6))):
            du, dv = rng.uniform(-0.4, 0.4) * building.length, rng.uniform(-0.4, 0.4) * building.width
            size = canvas.px(rng.uniform(1.5, 4.0))
            unit = inside & (np.abs(u - du) < size) & (np.abs(v - dv) < size * 0.7)
            rgb[window] = np.where(unit[..., None], _PLANT, rgb[window])
        if rng.random() < 0.3:
            panels = inside & (np.mod(v * canvas.res, 2.2) < 1.4) & (u > 0)
            rgb[window] = np.where(panels[..., None], _SOLAR, rgb[window])
