"""Villages along the roads: farmsteads of houses, wings and barns, large halls, and their lots."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .landscape import PAVED_ROADS
from .primitives import BUILDING, CLASS_FRACTIONS, STEP_M, F32, Canvas, CentreLine

ROOF_COLOURS = np.array([
    (156, 74, 56), (172, 94, 66), (122, 66, 52), (98, 80, 72), (74, 74, 80),
    (106, 108, 114), (150, 150, 152), (184, 182, 178), (84, 98, 118), (78, 100, 80),
], F32)


@dataclass
@dataclass
class Rect:
    centre: np.ndarray        # (row, col) px
    length: float             # px along `axis`
    width: float              # px across it
    axis: float               # direction of the long side: radians in (row, col) space


@dataclass
class Building(Rect):
    height_m: float
    roof: np.ndarray          # rgb
    hip: bool = False
    flat: bool = False


def rect_window(canvas: Canvas, rect: Rect, reach: float):
    """Slices around a rectangle (plus `reach` px) and its pixels' offsets from the centre."""
    half = 0.5 * math.hypot(rect.length, rect.width) + reach + 1
    top, left = max(int(rect.centre[0] - half), 0), max(int(rect.centre[1] - half), 0)
    bottom = min(int(rect.centre[0] + half) + 1, canvas.height)
    right = min(int(rect.centre[1] + half) + 1, canvas.width)
    if bottom <= top or right <= left:
        return None
    r = np.arange(top, bottom, dtype=F32)[:, None] - F32(rect.centre[0])
    c = np.arange(left, right, dtype=F32)[None, :] - F32(rect.centre[1])
    return (slice(top, bottom), slice(left, right)), r, c


def inside_rect(rect: Rect, r: np.ndarray, c: np.ndarray, margin: float = 0.0):
    """Pixels inside the rectangle, and their coordinates along and across its axis."""
    sin, cos = F32(math.sin(rect.axis)), F32(math.cos(rect.axis))
    u, v = r * sin + c * cos, c * sin - r * cos
    return (np.abs(u) <= rect.length / 2 + margin) & (np.abs(v) <= rect.width / 2 + margin), u, v


def place_buildings(canvas: Canvas, roads: list[CentreLine], occupied: np.ndarray):
    """Villages along roads: houses near the road, barns behind, a few large halls; with their lots.

    Returns (buildings, lots); `occupied` is updated so nothing overlaps.
    """
    rng = canvas.rng
    target_area = canvas.area_m2 * CLASS_FRACTIONS[BUILDING] * rng.uniform(0.7, 1.3)
    buildings: list[Building] = []
    lots: list[Rect] = []
    area = 0.0
    streets = [road for road in roads if road.kind in PAVED_ROADS and len(road.points) > 4] or \
              [road for road in roads if len(road.points) > 4]
    for _attempt in range(400):
        if area >= target_area or not streets:
            break
        road = streets[int(rng.integers(len(streets)))]
        middle = int(rng.integers(1, len(road.points) - 1))
        span = int(rng.integers(15, 60))
        index = max(middle - span, 1)
        while index < min(middle + span, len(road.points) - 1) and area < target_area:
            spacing = int(rng.integers(5, 9))          # lots 20-36 m wide
            direction = road.points[index + 1] - road.points[index - 1]
            axis = math.atan2(direction[0], direction[1])
            side = rng.choice([-1.0, 1.0])
            normal = np.array([math.cos(axis), -math.sin(axis)]) * side
            lot_depth = rng.uniform(35, 60)
            front = road.width_m / 2 + 1.0
            lot = Rect(road.points[index] + normal * canvas.px(front + lot_depth / 2),
                       canvas.px(spacing * STEP_M * 0.95), canvas.px(lot_depth), axis)
            placed = _farmstead(canvas, road.points[index], normal, axis, front, lot_depth, occupied)
            if placed:
                buildings.extend(placed)
                lots.append(lot)
                area += sum(b.length * b.width for b in placed) * canvas.res ** 2
            index += spacing
    return buildings, lots


def _farmstead(canvas: Canvas, at: np.ndarray, normal: np.ndarray, axis: float, front: float,
               lot_depth: float, occupied: np.ndarray) -> list[Building]:
    """A house facing the road (sometimes L-shaped), maybe a barn behind, or a large flat hall."""
    rng = canvas.rng
    hall = rng.random() < 0.06
    if hall:
        length, width = rng.uniform(30, 60), rng.uniform(14, 22)
    else:
        length, width = rng.uniform(10, 16), rng.uniform(8, 11)
    turned = not hall and rng.random() < 0.35
    depth = front + rng.uniform(5, 10) + (length if turned else width) / 2
    house = Building(at + normal * canvas.px(depth), canvas.px(length), canvas.px(width),
                     axis + (math.pi / 2 if turned else 0.0) + rng.normal(0, 0.03),
                     rng.uniform(8, 12) if hall else rng.uniform(5, 9),
                     ROOF_COLOURS[int(rng.integers(len(ROOF_COLOURS)))] * rng.uniform(0.9, 1.1),
                     hip=bool(rng.random() < 0.35), flat=hall)
    parts = [house]
    if not hall and rng.random() < 0.25:       # a wing makes an L
        sin, cos = math.sin(house.axis), math.cos(house.axis)
        along, across = np.array([sin, cos]), np.array([-cos, sin]) * rng.choice([-1.0, 1.0])
        wing = house.width * rng.uniform(1.2, 1.8)
        centre = (house.centre + along * rng.choice([-1.0, 1.0]) * (house.length - house.width) / 2
                  + across * (house.width + wing) / 2 * 0.95)
        parts.append(Building(centre, wing, house.width * 0.9, house.axis + math.pi / 2,
                              house.height_m, house.roof, house.hip))
    if not hall and rng.random() < 0.5 and depth + 30 < front + lot_depth:   # a barn behind
        barn_length = rng.uniform(14, 30)
        parts.append(Building(at + normal * canvas.px(depth + rng.uniform(16, 24)), canvas.px(barn_length),
                              canvas.px(rng.uniform(8, 12)), axis + rng.normal(0, 0.03), rng.uniform(6, 9),
                              ROOF_COLOURS[int(rng.integers(len(ROOF_COLOURS)))] * rng.uniform(0.9, 1.1),
                              hip=bool(rng.random() < 0.2)))
    margin = canvas.px(2.0)
    for part in parts:
        window = rect_window(canvas, part, margin)
        if window is None:
            return []
        (rows, cols), r, c = window
        inside = inside_rect(part, r, c, margin)[0]
        if (occupied[rows, cols] & inside).any() or inside.sum() < 0.8 * part.length * part.width:
            return []
    for part in parts:
        (rows, cols), r, c = rect_window(canvas, part, margin)
        occupied[rows, cols] |= inside_rect(part, r, c, margin)[0]
    return parts
