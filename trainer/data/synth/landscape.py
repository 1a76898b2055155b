"""The open land of a scene: the road network, strip-field farmland, where woods grow, and water."""
from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from .primitives import (CLASS_FRACTIONS, ROAD, STEP_M, WOODLAND, F32, Canvas, CentreLine, edge_start, noise,
                         nearby, sweep, wander)

# Field crops at summer noon: RGB, share of parcels, tramline, furrow and mowing-band strength.
_CROPS = np.array([
    (192, 176, 124, 0.16, 0.10, 0.00, 0.00),   # ripe cereal
    (204, 192, 154, 0.10, 0.06, 0.05, 0.00),   # stubble
    (108, 134, 66, 0.13, 0.12, 0.00, 0.00),    # green cereal
    (76, 106, 52, 0.08, 0.06, 0.03, 0.00),     # maize
    (128, 148, 88, 0.10, 0.08, 0.00, 0.00),    # young crop
    (114, 138, 76, 0.15, 0.00, 0.00, 0.06),    # meadow
    (156, 156, 108, 0.08, 0.00, 0.00, 0.05),   # dry grass
    (124, 104, 84, 0.10, 0.00, 0.14, 0.00),    # ploughed soil
    (168, 148, 120, 0.10, 0.00, 0.07, 0.00),   # bare light soil
], F32)
_GRASS = np.array((110, 136, 72), F32)
# Road kinds: width range (m), colour, share of the roads drawn.
ROAD_KINDS = (
    ("main", (6.0, 8.0), (96, 96, 98), 0.25),
    ("local", (3.5, 5.5), (118, 116, 114), 0.45),
    ("gravel", (3.0, 4.5), (166, 156, 136), 0.20),
    ("dirt", (2.5, 3.5), (144, 128, 102), 0.10),
)
PAVED_ROADS = (0, 1)
_BAND_ROWS = 128                  # per-pixel work in bands of rows: cache-sized arrays run much faster


def _inside_length_m(canvas: Canvas, points: np.ndarray) -> float:
    inside = ((points[:, 0] >= 0) & (points[:, 0] < canvas.height)
              & (points[:, 1] >= 0) & (points[:, 1] < canvas.width))
    return float(inside.sum()) * STEP_M


def road_network(canvas: Canvas) -> list[CentreLine]:
    """Roads crossing the scene and branching off each other, up to about the real road area.

    A candidate running alongside an existing road (not just crossing or leaving it) is dropped.
    """
    rng = canvas.rng
    shares = np.array([kind[3] for kind in ROAD_KINDS])
    mean_width = sum(np.mean(kind[1]) * kind[3] for kind in ROAD_KINDS)
    target_length = canvas.area_m2 * CLASS_FRACTIONS[ROAD] * rng.uniform(0.55, 0.9) / mean_width
    diagonal_m = math.hypot(*canvas.shape) * canvas.res
    cell = canvas.px(15.0)
    taken = np.zeros((int(canvas.height / cell) + 3, int(canvas.width / cell) + 3), bool)

    def cells(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        index = np.clip((points / cell).astype(int) + 1, 0, np.array(taken.shape) - 1)
        return index[:, 0], index[:, 1]

    roads: list[CentreLine] = []
    length = 0.0
    for _attempt in range(100):
        if length >= target_length and len(roads) >= 2:
            break
        remaining = max(target_length - length, 0.3 * diagonal_m)
        kind = 0 if not roads else int(rng.choice(len(ROAD_KINDS), p=shares / shares.sum()))
        parent = roads[int(rng.integers(len(roads)))] if roads else None
        if parent is not None and len(parent.points) > 8 and (remaining < diagonal_m or rng.random() < 0.6):
            at = int(rng.integers(2, len(parent.points) - 2))
            direction = parent.points[at + 1] - parent.points[at - 1]
            heading = math.atan2(direction[0], direction[1]) + rng.choice([-1, 1]) * rng.uniform(1.1, 2.0)
            points = wander(canvas, parent.points[at], heading,
                            min(rng.uniform(0.3, 1.0) * diagonal_m, remaining), 0.03)
            own = points[int(30.0 / STEP_M):]          # its first metres leave the parent road
        else:
            start, heading = edge_start(canvas)
            points = own = wander(canvas, start, heading, 2 * diagonal_m, 0.02 if kind == 0 else 0.035)
        near = ndimage.binary_dilation(taken, iterations=1)
        if len(own) and near[cells(own)].mean() > 0.15:
            continue
        taken[cells(points)] = True
        roads.append(CentreLine(points, kind, rng.uniform(*ROAD_KINDS[kind][1])))
        length += _inside_length_m(canvas, points)
    return roads


def farmland(canvas: Canvas) -> tuple[np.ndarray, np.ndarray]:
    """Farmland colour: blocks of strip fields with crops, tramlines, furrows and grass balks.

    Returns (rgb float32 (H, W, 3), mask of the parcels that are wood lots).
    """
    rng, res = canvas.rng, canvas.res
    size_m = np.array(canvas.shape) * res
    # Farm blocks (Voronoi cells), each with its own field direction and strip width.
    blocks = int(rng.integers(2, 5))
    seeds = rng.uniform(0, 1, (blocks, 2)) * size_m
    angles = rng.uniform(0, math.pi, blocks)
    strip_m = np.where(rng.random(blocks) < 0.6, rng.uniform(18, 40, blocks), rng.uniform(70, 160, blocks))
    cos, sin, unit = (values.astype(F32) for values in (np.cos(angles), np.sin(angles), 1.0 / strip_m))
    corners = np.array([(0, 0), (0, size_m[1]), (size_m[0], 0), tuple(size_m)], F32)
    across_corners = (corners[:, 1:] * cos + corners[:, :1] * sin) * unit
    along_reach = float(np.abs((corners[:, :1] * cos - corners[:, 1:] * sin) * unit).max()) + 14.0
    # Strips of random widths (edges in strip units, found through a fine lookup table), each cut
    # into fields of random lengths; every (block, strip, field) is a parcel with its own crop.
    low, high = float(across_corners.min()) - 1.0, float(across_corners.max()) + 1.0
    edges = low + np.concatenate([[0.0], np.cumsum(rng.lognormal(0.0, 0.45, int((high - low) * 3) + 8))])
    fine = 16
    lookup = np.searchsorted(edges, low + (np.arange(int((high - low) * fine) + 2) + 0.5) / fine, side="right") - 1
    lookup = np.clip(lookup, 0, len(edges) - 2).astype(np.int32)
    edges = edges.astype(F32)
    lengths = rng.uniform(4, 14, len(edges)).astype(F32)
    shifts = rng.uniform(0, 14, len(edges)).astype(F32)
    first = int(math.floor(-along_reach / 4)) - 1
    segments = int(math.ceil(along_reach / 4)) - first + 2
    count = blocks * len(edges) * segments
    crop = np.minimum(np.searchsorted(np.cumsum(_CROPS[:, 3]) / _CROPS[:, 3].sum(), rng.random(count)),
                      len(_CROPS) - 1)
    colour = _CROPS[crop, :3] * rng.uniform(0.9, 1.1, (count, 1)).astype(F32)
    tram_strength, furrow_strength, mowing_strength = (_CROPS[crop, i].copy() for i in (4, 5, 6))
    tram_period = rng.uniform(18, 24, count).astype(F32)
    tram_phase = rng.uniform(0, 50, count).astype(F32)
    furrow_period = rng.uniform(1.2, 2.2, count).astype(F32)
    furrow_strength *= np.clip((furrow_period / F32(res) - 2) / 4, 0, 1)   # fade what pixels cannot show
    mowing_period = rng.uniform(6, 10, count).astype(F32)
    balk_width = rng.uniform(0.8, 2.5, count).astype(F32)
    woodlot = rng.random(count) < 0.04
    grain = noise(canvas, 2.5)
    variation = 1 + F32(0.06) * noise(canvas, 40.0, octaves=4) + F32(0.025) * grain
    grass = 1 + F32(0.1) * grain
    rgb = np.empty(canvas.shape + (3,), F32)
    woodlot_mask = np.empty(canvas.shape, bool)
    cols = (np.arange(canvas.width, dtype=F32) * F32(res))[None, :]
    tram_half_width = max(0.35, res * 0.6)
    for top in range(0, canvas.height, _BAND_ROWS):
        band = slice(top, min(top + _BAND_ROWS, canvas.height))
        rows = (np.arange(band.start, band.stop, dtype=F32) * F32(res))[:, None]
        nearest = np.full((band.stop - band.start, canvas.width), np.inf, F32)
        block = np.zeros(nearest.shape, np.int32)
        for index, (seed_row, seed_col) in enumerate(seeds.astype(F32)):
            distance = (rows - seed_row) ** 2 + (cols - seed_col) ** 2
            block[distance < nearest] = index
            np.minimum(nearest, distance, out=nearest)
        b_cos, b_sin, b_unit = cos[block], sin[block], unit[block]
        across_m = cols * b_cos + rows * b_sin
        across = across_m * b_unit
        along = (rows * b_cos - cols * b_sin) * b_unit
        strip = lookup[((across - F32(low)) * F32(fine)).astype(np.int32)]
        strip_length = lengths[strip]
        position = (along + shifts[strip]) / strip_length
        segment = np.floor(position)
        parcel = (block * len(edges) + strip) * segments + (segment.astype(np.int32) - first)
        period = tram_period[parcel]
        tram = (across_m + tram_phase[parcel]) / period
        tram = np.abs(tram - np.floor(tram) - 0.5) * period > period / 2 - tram_half_width
        shade = (variation[band] - tram_strength[parcel] * tram * 2
                 + furrow_strength[parcel] * np.sin(across_m * F32(2 * math.pi) / furrow_period[parcel])
                 + mowing_strength[parcel] * np.sign(np.sin(across_m * F32(2 * math.pi) / mowing_period[parcel])))
        edge_distance = np.minimum(np.minimum(across - edges[strip], edges[strip + 1] - across),
                                   np.minimum(position - segment, segment + 1 - position) * strip_length) / b_unit
        balk = edge_distance < balk_width[parcel]
        rgb[band] = np.where(balk[..., None], _GRASS * grass[band][..., None], colour[parcel] * shade[..., None])
        woodlot_mask[band] = woodlot[parcel]
    return rgb, woodlot_mask


def _quantile_threshold(field: np.ndarray, fraction: float) -> float:
    """Value above which `fraction` of the field lies, from a subsample (fast on big scenes)."""
    return float(np.quantile(field[::4, ::4], 1.0 - min(max(fraction, 0.0), 1.0)))


def tree_potential(canvas: Canvas, woodlot: np.ndarray) -> np.ndarray:
    """Positive where trees grow: forests with ragged edges, whole wood lots, small copses."""
    rng = canvas.rng
    fraction = float(np.clip(rng.normal(CLASS_FRACTIONS[WOODLAND], 0.08), 0.08, 0.45))
    forest = noise(canvas, 260.0, octaves=5, gain=0.55)
    forest -= _quantile_threshold(forest, fraction)
    copses = noise(canvas, 30.0, octaves=2)
    copses -= _quantile_threshold(copses, 0.012)
    return np.maximum(np.maximum(forest, copses * 0.1), np.where(woodlot, F32(0.05), F32(-1.0)))


def water_bodies(canvas: Canvas) -> tuple[np.ndarray, np.ndarray]:
    """Lakes with irregular shores, sometimes a meandering river, always a few ponds.

    Returns (water, river banks): trees like to grow along the banks.
    """
    rng = canvas.rng
    water = np.zeros(canvas.shape, bool)
    banks = np.zeros(canvas.shape, bool)
    if rng.random() < 0.5:
        centre = rng.uniform(0, 1, 2) * np.array(canvas.shape)
        radius = math.hypot(*canvas.shape) * rng.uniform(0.25, 0.45)
        r = ((np.arange(canvas.height) - centre[0]) / radius).astype(F32)[:, None]
        c = ((np.arange(canvas.width) - centre[1]) / radius).astype(F32)[None, :]
        field = noise(canvas, 120.0, octaves=4) * F32(0.35) - (r ** 2 + c ** 2)
        water |= field > _quantile_threshold(field, rng.uniform(0.06, 0.22))
    if rng.random() < 0.4:
        start, heading = edge_start(canvas)
        points = wander(canvas, start, heading, 2 * math.hypot(*canvas.shape) * canvas.res, 0.07)
        wobble = ndimage.gaussian_filter1d(rng.standard_normal(len(points)), 3, mode="nearest")
        width_m = rng.uniform(10.0, 30.0) * (1 + 0.5 * wobble)
        rows, cols, _, _ = sweep(points, canvas.px(width_m), canvas.shape)
        river = np.zeros(canvas.shape, bool)
        river[rows, cols] = True
        water |= river
        banks = nearby(river, canvas.px(20.0), max(int(canvas.px(2.0)), 1))
    for _ in range(int(rng.integers(1, 4))):     # ponds: ellipses with wavy shores
        centre = rng.uniform(0.05, 0.95, 2) * np.array(canvas.shape)
        radii = canvas.px(rng.uniform(8, 30, 2))
        top = np.maximum((centre - radii * 1.5).astype(int), 0)
        bottom = np.minimum((centre + radii * 1.5).astype(int) + 1, canvas.shape)
        r = (np.arange(top[0], bottom[0])[:, None] - centre[0]) / radii[0]
        c = (np.arange(top[1], bottom[1])[None, :] - centre[1]) / radii[1]
        angle = np.arctan2(r, c)
        shore = 1 + sum(rng.uniform(0, 0.12) * np.cos(k * angle + rng.uniform(0, 2 * math.pi)) for k in (2, 3, 5))
        water[top[0]:bottom[0], top[1]:bottom[1]] |= np.hypot(r, c) < shore
    return water, banks & ~water
