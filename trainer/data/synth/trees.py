"""Tree crowns: forests of packed crowns with sunlit sides, garden trees and roadside alleys."""
from __future__ import annotations

import math

import numpy as np

from .landscape import PAVED_ROADS
from .primitives import F32, Canvas, CentreLine, nearby
from .villages import Rect

_CHUNK = 1 << 18                  # the same for long 1-D pixel lists
_LOBES = 4                        # lobes round the main one of a garden or roadside crown


def _crown_light(canvas: Canvas, dr: np.ndarray, dc: np.ndarray, distance2: np.ndarray) -> np.ndarray:
    """Brightness of a round crown at offsets (dr, dc) from its centre, in crown radii (sphere shading)."""
    sun = canvas.sun()
    up = np.sqrt(np.clip(1 - distance2, 0, 1))
    lambert = np.clip(dr * sun[0] + dc * sun[1] + up * sun[2], 0, 1)
    return np.where(distance2 < 1, 0.45 + 0.8 * lambert, F32(0.32)).astype(F32)


def _forest_crowns(canvas: Canvas, potential: np.ndarray, candidates: np.ndarray):
    """Crowns on a jittered grid (cellular noise) over the candidate pixels.

    Each pixel belongs to its nearest crown (among the 3x3 neighbouring grid cells); where two
    crowns meet there is a dark crevice. A pixel is woodland when its crown's centre lies where
    trees grow, so forest edges follow whole crowns as on real photos. Returns (woodland,
    brightness, colour mix) for the candidate pixels in np.nonzero order.
    """
    rng = canvas.rng
    spacing = F32(canvas.px(rng.uniform(4.0, 5.5)))
    grid = (int(canvas.height / spacing) + 3, int(canvas.width / spacing) + 3)
    # Crown centres in grid units, one per cell; grid indices carry a margin of one cell.
    index = np.arange(grid[0] * grid[1])
    centre_r = (index // grid[1] - 1 + rng.uniform(0.15, 0.85, len(index))).astype(F32)
    centre_c = (index % grid[1] - 1 + rng.uniform(0.15, 0.85, len(index))).astype(F32)
    radius = rng.uniform(0.55, 0.75, grid[0] * grid[1]).astype(F32)
    mix = rng.random(grid[0] * grid[1], dtype=F32)
    tint = rng.uniform(0.85, 1.15, grid[0] * grid[1]).astype(F32)
    all_rows, all_cols = np.nonzero(candidates)
    woody = np.empty(len(all_rows), bool)
    light = np.empty(len(all_rows), F32)
    colour_mix = np.empty(len(all_rows), F32)
    for start in range(0, len(all_rows), _CHUNK):
        part = slice(start, start + _CHUNK)
        rows, cols = all_rows[part], all_cols[part]
        cell_r, cell_c = rows.astype(F32) / spacing, cols.astype(F32) / spacing
        base = cell_r.astype(np.int32) * grid[1] + cell_c.astype(np.int32)
        best = np.full(rows.shape, np.inf, F32)
        second = np.full(rows.shape, np.inf, F32)
        best_dr, best_dc = np.zeros(rows.shape, F32), np.zeros(rows.shape, F32)
        best_cell = np.zeros(rows.shape, np.int32)
        for step in (0, 1, 2, grid[1], grid[1] + 1, grid[1] + 2, 2 * grid[1], 2 * grid[1] + 1, 2 * grid[1] + 2):
            cell = base + step                       # the 3x3 cells around the pixel
            size = radius[cell]
            offset_r = (cell_r - centre_r[cell]) / size
            offset_c = (cell_c - centre_c[cell]) / size
            distance2 = offset_r * offset_r + offset_c * offset_c
            closer = distance2 < best
            second = np.where(closer, best, np.minimum(second, distance2))
            best = np.where(closer, distance2, best)
            best_dr = np.where(closer, offset_r, best_dr)
            best_dc = np.where(closer, offset_c, best_dc)
            best_cell = np.where(closer, cell, best_cell)
        at_r = np.clip((centre_r[best_cell] * spacing).astype(np.int32), 0, canvas.height - 1)
        at_c = np.clip((centre_c[best_cell] * spacing).astype(np.int32), 0, canvas.width - 1)
        woody[part] = np.where(best < 1, potential[at_r, at_c] > 0, potential[rows, cols] > 0)
        crevice = np.clip((np.sqrt(second) - np.sqrt(best)) * 3.0 + 0.7, 0.7, 1.0)
        light[part] = _crown_light(canvas, best_dr, best_dc, best) * crevice * tint[best_cell]
        colour_mix[part] = mix[best_cell]
    return woody, light, colour_mix


def _solitary_trees(canvas: Canvas, centres: np.ndarray, radii_px: np.ndarray):
    """Garden and roadside trees: (mask, brightness, colour mix) over the scene.

    A real crown is not a ball: each is a main lobe and `_LOBES` smaller ones round it, every pixel
    lit as the highest lobe over it, so crowns have ragged outlines and a bright and a dark side per lobe.
    """
    rng = canvas.rng
    count = len(centres)
    angles = rng.uniform(0, 2 * math.pi, (count, _LOBES))
    reach = rng.uniform(0.3, 0.6, (count, _LOBES))
    sizes = rng.uniform(0.4, 0.7, (count, _LOBES))
    tree_mix = rng.random(count, dtype=F32)
    mask = np.zeros(canvas.shape, bool)
    light = np.zeros(canvas.shape, F32)
    mix = np.zeros(canvas.shape, F32)
    for tree, ((row, col), radius) in enumerate(zip(centres, radii_px)):
        extent = 1.1 * radius                              # the farthest a lobe reaches
        top, left = max(int(row - extent), 0), max(int(col - extent), 0)
        bottom, right = min(int(row + extent) + 2, canvas.height), min(int(col + extent) + 2, canvas.width)
        if bottom <= top or right <= left:
            continue
        r = (np.arange(top, bottom, dtype=F32)[:, None] - F32(row)) / F32(radius)
        c = (np.arange(left, right, dtype=F32)[None, :] - F32(col)) / F32(radius)
        lobes = [(F32(0.0), F32(0.0), F32(0.65))] + [
            (F32(reach[tree, k] * math.sin(angles[tree, k])), F32(reach[tree, k] * math.cos(angles[tree, k])),
             F32(sizes[tree, k] * 0.65)) for k in range(_LOBES)]
        height = np.full(r.shape, -1.0, F32)
        crown_light = np.zeros(r.shape, F32)
        for lobe_r, lobe_c, size in lobes:
            dr, dc = (r - lobe_r) / size, (c - lobe_c) / size
            distance2 = dr ** 2 + dc ** 2
            lobe_height = np.where(distance2 < 1, size * np.sqrt(np.clip(1 - distance2, 0, 1)), F32(-1.0))
            higher = lobe_height > height
            crown_light = np.where(higher, _crown_light(canvas, dr, dc, distance2), crown_light)
            height = np.maximum(height, lobe_height)
        crown = height >= 0
        window = (slice(top, bottom), slice(left, right))
        light[window] = np.where(crown, crown_light, light[window])
        mix[window] = np.where(crown, tree_mix[tree], mix[window])
        mask[window] |= crown
    return mask, light, mix


def _garden_tree_centres(canvas: Canvas, lots: list[Rect]) -> tuple[np.ndarray, np.ndarray]:
    """A few trees in each village lot, about one per 400 m²."""
    rng = canvas.rng
    centres, radii = [np.zeros((0, 2))], [np.zeros(0)]
    for lot in lots:
        count = rng.poisson(lot.length * lot.width * canvas.res ** 2 / 400.0)
        along = rng.uniform(-0.5, 0.5, count) * lot.length
        across = rng.uniform(-0.5, 0.5, count) * lot.width
        sin, cos = math.sin(lot.axis), math.cos(lot.axis)
        centres.append(lot.centre + along[:, None] * np.array([sin, cos]) + across[:, None] * np.array([-cos, sin]))
        radii.append(canvas.px(rng.uniform(2.5, 6.0, count)))
    return np.concatenate(centres), np.concatenate(radii)


def _roadside_tree_centres(canvas: Canvas, roads: list[CentreLine]) -> tuple[np.ndarray, np.ndarray]:
    """Tree alleys along some paved roads, a common sight in the Polish countryside."""
    rng = canvas.rng
    centres, radii = [np.zeros((0, 2))], [np.zeros(0)]
    for road in roads:
        if road.kind not in PAVED_ROADS or len(road.points) < 3 or rng.random() > 0.4:
            continue
        direction = np.gradient(road.points, axis=0)
        direction /= np.maximum(np.hypot(*direction.T), 1e-9)[:, None]
        normal = np.stack([-direction[:, 1], direction[:, 0]], axis=1)
        offset = canvas.px(road.width_m / 2 + rng.uniform(2.5, 4.0))
        for side in (-1.0, 1.0):
            chosen = np.arange(0, len(road.points), int(rng.integers(2, 4)))
            chosen = chosen[rng.random(len(chosen)) < 0.85]
            centres.append(road.points[chosen] + side * offset * normal[chosen])
            radii.append(canvas.px(rng.uniform(3.0, 5.5, len(chosen))))
    return np.concatenate(centres), np.concatenate(radii)


def place_trees(canvas: Canvas, potential: np.ndarray, lots: list[Rect], roads: list[CentreLine]):
    """Forest crowns where trees grow, garden trees in the lots, alleys along roads.

    Returns (forest mask, solitary-tree mask, crown brightness, crown colour mix).
    """
    candidates = nearby(potential > 0, canvas.px(6.0), max(int(canvas.px(1.0)), 1))
    woody, crown_light, crown_mix = _forest_crowns(canvas, potential, candidates)
    forest = np.zeros(canvas.shape, bool)
    forest[candidates] = woody
    garden, garden_radii = _garden_tree_centres(canvas, lots)
    alley, alley_radii = _roadside_tree_centres(canvas, roads)
    trees, light, mix = _solitary_trees(canvas, np.concatenate([garden, alley]),
                                        np.concatenate([garden_radii, alley_radii]))
    light[candidates] = np.where(woody, crown_light, light[candidates])
    mix[candidates] = np.where(woody, crown_mix, mix[candidates])
    return forest, trees, light, mix
