"""`python -m trainer synth`: a LandCover.ai-shaped dataset of synthetic Polish countryside.

The real archive cannot be downloaded everywhere (CI, offline machines), yet every stage of the
project needs orthophotos with ground truth: tests, benchmarks, the plugin's sample and the demo.
The scenes imitate what the real classes look like from above: strip fields with tramlines and
balks, forests of sunlit crowns casting shadows, dark lakes and rivers with lighter shallows,
asphalt and gravel roads that branch and cross, villages of gable and hip roofs along the roads
with yards and garden trees. Every size is in metres, so a scene looks alike at 25 and 50 cm/px,
and class areas follow the real dataset's proportions. Everything is vectorised numpy/scipy.
"""
from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from scipy import ndimage

from landcover_qgis_plugin.core.geotiff import write_geotiff

from .tiles import TILE_SIZE, tile_ids

BACKGROUND, BUILDING, WOODLAND, WATER, ROAD = range(5)
# Real LandCover.ai mask fractions (seed recipe): what the scenes aim for on average.
CLASS_FRACTIONS = (0.641, 0.018, 0.245, 0.077, 0.019)
# Easting and northing ranges well inside Poland in EPSG:2180 (PUWG 1992), metres.
POLAND_BOX_M = ((300_000.0, 740_000.0), (290_000.0, 690_000.0))
SPLIT_FRACTIONS = (0.70, 0.15, 0.15)   # 7470 / 1602 / 1602 tiles in the real lists
COARSE_EVERY = 5                       # 33 of the 41 real orthophotos are 25 cm/px, 8 are 50 cm/px
GENERATOR_VERSION = 1
MANIFEST = "synth.json"

_F32 = np.float32
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
], _F32)
_ROOFS = np.array([
    (156, 74, 56), (172, 94, 66), (122, 66, 52), (98, 80, 72), (74, 74, 80),
    (106, 108, 114), (150, 150, 152), (184, 182, 178), (84, 98, 118), (78, 100, 80),
], _F32)
_YARDS = np.array([(100, 128, 64), (118, 138, 82), (92, 116, 60), (138, 138, 112)], _F32)
_PAVING = np.array((150, 146, 136), _F32)
_GRASS = np.array((110, 136, 72), _F32)
_LEAVES = np.array([(98, 118, 62), (58, 86, 46)], _F32)    # bright and dark broadleaved crowns
_NEEDLES = np.array([(62, 80, 52), (36, 54, 40)], _F32)    # bright and dark conifer crowns
# Road kinds: width range (m), colour, share of the roads drawn.
_ROAD_KINDS = (
    ("main", (6.0, 8.0), (96, 96, 98), 0.25),
    ("local", (3.5, 5.5), (118, 116, 114), 0.45),
    ("gravel", (3.0, 4.5), (166, 156, 136), 0.20),
    ("dirt", (2.5, 3.5), (144, 128, 102), 0.10),
)
_PAVED_ROADS = (0, 1)
_SHADOW = 0.5
_STEP_M = 4.0                     # spacing of road and river centre-line points
_BAND_ROWS = 128                  # per-pixel work in bands of rows: cache-sized arrays run much faster
_CHUNK = 1 << 18                  # the same for long 1-D pixel lists
_SAMPLE_PX = 0.7                  # centre-line sampling: every pixel within 0.5 px of a sample


@dataclass
class _Canvas:
    height: int
    width: int
    res: float
    rng: np.random.Generator      # the landscape: draws whose number does not depend on the pixel count
    grain: np.random.Generator    # per-pixel draws, apart so the landscape is the same at any resolution
    shadow_dir: np.ndarray        # unit (drow, dcol) where shadows fall: roughly north
    shadow_per_m: float           # shadow length per metre of height

    @property
    def shape(self) -> tuple[int, int]:
        return self.height, self.width

    @property
    def area_m2(self) -> float:
        return self.height * self.width * self.res ** 2

    def px(self, metres):
        return metres / self.res

    def sun(self) -> np.ndarray:
        """Unit vector towards the sun, (drow, dcol, up)."""
        elevation = math.atan(1.0 / self.shadow_per_m)
        horizontal = -self.shadow_dir * math.cos(elevation)
        return np.array([horizontal[0], horizontal[1], math.sin(elevation)], _F32)


# ---------------------------------------------------------------------------------------------
# Noise and small raster tools


def _spline_matrix(n_out: int, cell_px: float) -> np.ndarray:
    """(n_out, n_in) cubic B-spline weights from a lattice of `cell_px` spacing to pixels."""
    n_in = int(math.ceil(n_out / cell_px)) + 4
    position = np.arange(n_out) / cell_px + 1.5
    base = np.floor(position).astype(np.intp)
    f = position - base
    weights = ((1 - f) ** 3 / 6, (3 * f ** 3 - 6 * f ** 2 + 4) / 6, (-3 * f ** 3 + 3 * f ** 2 + 3 * f + 1) / 6, f ** 3 / 6)
    matrix = np.zeros((n_out, n_in), _F32)
    for offset, weight in enumerate(weights):
        matrix[np.arange(n_out), base - 1 + offset] = weight
    return matrix


def _noise(canvas: _Canvas, feature_m: float, octaves: int = 1, gain: float = 0.5) -> np.ndarray:
    """Smooth fractal noise with features of `feature_m` metres, zero mean, unit std.

    A random lattice is interpolated with separable B-spline matrices: two matrix products,
    far cheaper than filtering a full-size image.
    """
    total = np.zeros(canvas.shape, _F32)
    amplitude = 1.0
    for octave in range(octaves):
        cell = max(canvas.px(feature_m / 2 ** octave), 1.0)
        rows, cols = _spline_matrix(canvas.height, cell), _spline_matrix(canvas.width, cell)
        lattice = canvas.rng.standard_normal((rows.shape[1], cols.shape[1]), dtype=_F32)
        total += _F32(amplitude) * (rows @ lattice @ cols.T)
        amplitude *= gain
    sample = total[::4, ::4]
    total -= sample.mean()
    total *= _F32(1.0 / (sample.std() + 1e-6))
    return total


def _soften(mask: np.ndarray, radius_px: float) -> np.ndarray:
    """A mask blurred over about `radius_px`: two box passes, on a coarser grid for wide radii."""
    every = max(int(radius_px // 4), 1)
    size = max(int(round(radius_px / every)), 1) * 2 + 1
    soft = ndimage.uniform_filter(mask[::every, ::every].astype(_F32), size, mode="nearest")
    soft = ndimage.uniform_filter(soft, size, mode="nearest")
    if every > 1:
        soft = np.repeat(np.repeat(soft, every, axis=0), every, axis=1)[: mask.shape[0], : mask.shape[1]]
    return soft


def _near(mask: np.ndarray, radius_px: float, every: int) -> np.ndarray:
    """Pixels within about `radius_px` of `mask`, found on a grid `every` pixels apart (cheap)."""
    coarse = mask[::every, ::every]
    grown = ndimage.maximum_filter(coarse, size=2 * int(math.ceil(radius_px / every)) + 3)
    full = np.repeat(np.repeat(grown, every, axis=0), every, axis=1)
    return full[: mask.shape[0], : mask.shape[1]]


def _shift(mask: np.ndarray, offset: Sequence[float]) -> np.ndarray:
    """`mask` moved by a whole-pixel (rows, cols) offset; what moves in from outside is False."""
    dr, dc = (int(round(v)) for v in offset)
    height, width = mask.shape
    shifted = np.zeros_like(mask)
    source = mask[max(-dr, 0):height - max(dr, 0), max(-dc, 0):width - max(dc, 0)]
    shifted[max(dr, 0):max(dr, 0) + source.shape[0], max(dc, 0):max(dc, 0) + source.shape[1]] = source
    return shifted


def _cast_shadow(canvas: _Canvas, mask: np.ndarray, height_m: float) -> np.ndarray:
    """Ground shaded by things of `height_m` standing on `mask`: the mask swept along the shadow."""
    length = canvas.px(height_m * canvas.shadow_per_m)
    shadow = np.zeros_like(mask)
    steps = max(int(length / 2), 1)
    for step in range(1, steps + 1):
        shadow |= _shift(mask, canvas.shadow_dir * length * step / steps)
    return shadow & ~mask


# ---------------------------------------------------------------------------------------------
# Roads and rivers: centre lines swept to a width


@dataclass
class _Path:
    points: np.ndarray        # (N, 2) (row, col) pixels, _STEP_M apart
    kind: int                 # index into _ROAD_KINDS; -1 for a river
    width_m: float


def _wander(canvas: _Canvas, start: np.ndarray, heading: float, length_m: float, curviness: float) -> np.ndarray:
    """A smoothly curving centre line, cut where it leaves the scene."""
    steps = max(int(length_m / _STEP_M), 2)
    turn = ndimage.gaussian_filter1d(canvas.rng.standard_normal(steps) * curviness, 6, mode="nearest")
    headings = heading + np.cumsum(turn)
    moves = np.stack([np.sin(headings), np.cos(headings)], axis=1) * canvas.px(_STEP_M)
    points = start + np.concatenate([[[0.0, 0.0]], np.cumsum(moves, axis=0)])
    margin = canvas.px(20.0)
    outside = ((points[:, 0] < -margin) | (points[:, 0] > canvas.height + margin)
               | (points[:, 1] < -margin) | (points[:, 1] > canvas.width + margin))
    leaving = np.flatnonzero(outside[1:]) + 1
    return points[: leaving[0] + 1] if len(leaving) else points


def _edge_start(canvas: _Canvas) -> tuple[np.ndarray, float]:
    """A point on the scene border and a heading pointing inwards."""
    rng = canvas.rng
    along = rng.uniform(0.1, 0.9)
    height, width = canvas.shape
    start, inward = (
        ((0.0, along * width), math.pi / 2),
        ((height, along * width), -math.pi / 2),
        ((along * height, 0.0), 0.0),
        ((along * height, width), math.pi),
    )[int(rng.integers(4))]
    return np.array(start), inward + rng.uniform(-0.5, 0.5)


def _sweep(points: np.ndarray, width_px, shape: tuple[int, int]):
    """Pixels a centre line covers: (rows, cols, across in [-1, 1], along in px).

    `width_px` is one width or one per centre-line point (rivers widen and narrow).
    """
    distance = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(points, axis=0).T))])
    along = np.arange(0.0, distance[-1], _SAMPLE_PX)
    if len(along) < 2:
        empty = np.zeros(0, np.intp)
        return empty, empty, np.zeros(0, _F32), np.zeros(0, _F32)
    centre = np.stack([np.interp(along, distance, points[:, i]) for i in (0, 1)], axis=1)
    half = np.interp(along, distance, np.broadcast_to(np.asarray(width_px, float), len(points))) / 2
    tangent = np.gradient(centre, axis=0)
    tangent /= np.maximum(np.hypot(*tangent.T), 1e-9)[:, None]
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
    across = np.linspace(-1.0, 1.0, int(half.max() * 2 / _SAMPLE_PX) + 2)
    covered = centre[:, None, :] + (across[None, :] * half[:, None])[..., None] * normal[:, None, :]
    rows = np.rint(covered[..., 0]).astype(np.intp).ravel()
    cols = np.rint(covered[..., 1]).astype(np.intp).ravel()
    across = np.broadcast_to(across, covered.shape[:2]).ravel()
    along_px = np.broadcast_to(along[:, None], covered.shape[:2]).ravel()
    inside = (rows >= 0) & (rows < shape[0]) & (cols >= 0) & (cols < shape[1])
    return rows[inside], cols[inside], across[inside].astype(_F32), along_px[inside].astype(_F32)


def _inside_length_m(canvas: _Canvas, points: np.ndarray) -> float:
    inside = ((points[:, 0] >= 0) & (points[:, 0] < canvas.height)
              & (points[:, 1] >= 0) & (points[:, 1] < canvas.width))
    return float(inside.sum()) * _STEP_M


def _road_network(canvas: _Canvas) -> list[_Path]:
    """Roads crossing the scene and branching off each other, up to about the real road area.

    A candidate running alongside an existing road (not just crossing or leaving it) is dropped.
    """
    rng = canvas.rng
    shares = np.array([kind[3] for kind in _ROAD_KINDS])
    mean_width = sum(np.mean(kind[1]) * kind[3] for kind in _ROAD_KINDS)
    target_length = canvas.area_m2 * CLASS_FRACTIONS[ROAD] * rng.uniform(0.55, 0.9) / mean_width
    diagonal_m = math.hypot(*canvas.shape) * canvas.res
    cell = canvas.px(15.0)
    taken = np.zeros((int(canvas.height / cell) + 3, int(canvas.width / cell) + 3), bool)

    def cells(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        index = np.clip((points / cell).astype(int) + 1, 0, np.array(taken.shape) - 1)
        return index[:, 0], index[:, 1]

    roads: list[_Path] = []
    length = 0.0
    for _attempt in range(100):
        if length >= target_length and len(roads) >= 2:
            break
        remaining = max(target_length - length, 0.3 * diagonal_m)
        kind = 0 if not roads else int(rng.choice(len(_ROAD_KINDS), p=shares / shares.sum()))
        parent = roads[int(rng.integers(len(roads)))] if roads else None
        if parent is not None and len(parent.points) > 8 and (remaining < diagonal_m or rng.random() < 0.6):
            at = int(rng.integers(2, len(parent.points) - 2))
            direction = parent.points[at + 1] - parent.points[at - 1]
            heading = math.atan2(direction[0], direction[1]) + rng.choice([-1, 1]) * rng.uniform(1.1, 2.0)
            points = _wander(canvas, parent.points[at], heading,
                             min(rng.uniform(0.3, 1.0) * diagonal_m, remaining), 0.03)
            own = points[int(30.0 / _STEP_M):]          # its first metres leave the parent road
        else:
            start, heading = _edge_start(canvas)
            points = own = _wander(canvas, start, heading, 2 * diagonal_m, 0.02 if kind == 0 else 0.035)
        near = ndimage.binary_dilation(taken, iterations=1)
        if len(own) and near[cells(own)].mean() > 0.15:
            continue
        taken[cells(points)] = True
        roads.append(_Path(points, kind, rng.uniform(*_ROAD_KINDS[kind][1])))
        length += _inside_length_m(canvas, points)
    return roads


# ---------------------------------------------------------------------------------------------
# Farmland, woodland, water


def _fields(canvas: _Canvas) -> tuple[np.ndarray, np.ndarray]:
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
    cos, sin, unit = (values.astype(_F32) for values in (np.cos(angles), np.sin(angles), 1.0 / strip_m))
    corners = np.array([(0, 0), (0, size_m[1]), (size_m[0], 0), tuple(size_m)], _F32)
    across_corners = (corners[:, 1:] * cos + corners[:, :1] * sin) * unit
    along_reach = float(np.abs((corners[:, :1] * cos - corners[:, 1:] * sin) * unit).max()) + 14.0
    # Strips of random widths (edges in strip units, found through a fine lookup table), each cut
    # into fields of random lengths; every (block, strip, field) is a parcel with its own crop.
    low, high = float(across_corners.min()) - 1.0, float(across_corners.max()) + 1.0
    edges = low + np.concatenate([[0.0], np.cumsum(rng.lognormal(0.0, 0.45, int((high - low) * 3) + 8))])
    fine = 16
    lookup = np.searchsorted(edges, low + (np.arange(int((high - low) * fine) + 2) + 0.5) / fine, side="right") - 1
    lookup = np.clip(lookup, 0, len(edges) - 2).astype(np.int32)
    edges = edges.astype(_F32)
    lengths = rng.uniform(4, 14, len(edges)).astype(_F32)
    shifts = rng.uniform(0, 14, len(edges)).astype(_F32)
    first = int(math.floor(-along_reach / 4)) - 1
    segments = int(math.ceil(along_reach / 4)) - first + 2
    count = blocks * len(edges) * segments
    crop = np.minimum(np.searchsorted(np.cumsum(_CROPS[:, 3]) / _CROPS[:, 3].sum(), rng.random(count)),
                      len(_CROPS) - 1)
    colour = _CROPS[crop, :3] * rng.uniform(0.9, 1.1, (count, 1)).astype(_F32)
    tram_strength, furrow_strength, mowing_strength = (_CROPS[crop, i].copy() for i in (4, 5, 6))
    tram_period = rng.uniform(18, 24, count).astype(_F32)
    tram_phase = rng.uniform(0, 50, count).astype(_F32)
    furrow_period = rng.uniform(1.2, 2.2, count).astype(_F32)
    furrow_strength *= np.clip((furrow_period / _F32(res) - 2) / 4, 0, 1)   # fade what pixels cannot show
    mowing_period = rng.uniform(6, 10, count).astype(_F32)
    balk_width = rng.uniform(0.8, 2.5, count).astype(_F32)
    woodlot = rng.random(count) < 0.04
    grain = _noise(canvas, 2.5)
    variation = 1 + _F32(0.06) * _noise(canvas, 40.0, octaves=4) + _F32(0.025) * grain
    grass = 1 + _F32(0.1) * grain
    rgb = np.empty(canvas.shape + (3,), _F32)
    woodlot_mask = np.empty(canvas.shape, bool)
    cols = (np.arange(canvas.width, dtype=_F32) * _F32(res))[None, :]
    tram_half_width = max(0.35, res * 0.6)
    for top in range(0, canvas.height, _BAND_ROWS):
        band = slice(top, min(top + _BAND_ROWS, canvas.height))
        rows = (np.arange(band.start, band.stop, dtype=_F32) * _F32(res))[:, None]
        nearest = np.full((band.stop - band.start, canvas.width), np.inf, _F32)
        block = np.zeros(nearest.shape, np.int32)
        for index, (seed_row, seed_col) in enumerate(seeds.astype(_F32)):
            distance = (rows - seed_row) ** 2 + (cols - seed_col) ** 2
            block[distance < nearest] = index
            np.minimum(nearest, distance, out=nearest)
        b_cos, b_sin, b_unit = cos[block], sin[block], unit[block]
        across_m = cols * b_cos + rows * b_sin
        across = across_m * b_unit
        along = (rows * b_cos - cols * b_sin) * b_unit
        strip = lookup[((across - _F32(low)) * _F32(fine)).astype(np.int32)]
        strip_length = lengths[strip]
        position = (along + shifts[strip]) / strip_length
        segment = np.floor(position)
        parcel = (block * len(edges) + strip) * segments + (segment.astype(np.int32) - first)
        period = tram_period[parcel]
        tram = (across_m + tram_phase[parcel]) / period
        tram = np.abs(tram - np.floor(tram) - 0.5) * period > period / 2 - tram_half_width
        shade = (variation[band] - tram_strength[parcel] * tram * 2
                 + furrow_strength[parcel] * np.sin(across_m * _F32(2 * math.pi) / furrow_period[parcel])
                 + mowing_strength[parcel] * np.sign(np.sin(across_m * _F32(2 * math.pi) / mowing_period[parcel])))
        edge_distance = np.minimum(np.minimum(across - edges[strip], edges[strip + 1] - across),
                                   np.minimum(position - segment, segment + 1 - position) * strip_length) / b_unit
        balk = edge_distance < balk_width[parcel]
        rgb[band] = np.where(balk[..., None], _GRASS * grass[band][..., None], colour[parcel] * shade[..., None])
        woodlot_mask[band] = woodlot[parcel]
    return rgb, woodlot_mask


def _quantile_threshold(field: np.ndarray, fraction: float) -> float:
    """Value above which `fraction` of the field lies, from a subsample (fast on big scenes)."""
    return float(np.quantile(field[::4, ::4], 1.0 - min(max(fraction, 0.0), 1.0)))


def _tree_potential(canvas: _Canvas, woodlot: np.ndarray) -> np.ndarray:
    """Positive where trees grow: forests with ragged edges, whole wood lots, small copses."""
    rng = canvas.rng
    fraction = float(np.clip(rng.normal(CLASS_FRACTIONS[WOODLAND], 0.08), 0.08, 0.45))
    forest = _noise(canvas, 260.0, octaves=5, gain=0.55)
    forest -= _quantile_threshold(forest, fraction)
    copses = _noise(canvas, 30.0, octaves=2)
    copses -= _quantile_threshold(copses, 0.012)
    return np.maximum(np.maximum(forest, copses * 0.1), np.where(woodlot, _F32(0.05), _F32(-1.0)))


def _water(canvas: _Canvas) -> tuple[np.ndarray, np.ndarray]:
    """Lakes with irregular shores, sometimes a meandering river, always a few ponds.

    Returns (water, river banks): trees like to grow along the banks.
    """
    rng = canvas.rng
    water = np.zeros(canvas.shape, bool)
    banks = np.zeros(canvas.shape, bool)
    if rng.random() < 0.5:
        centre = rng.uniform(0, 1, 2) * np.array(canvas.shape)
        radius = math.hypot(*canvas.shape) * rng.uniform(0.25, 0.45)
        r = ((np.arange(canvas.height) - centre[0]) / radius).astype(_F32)[:, None]
        c = ((np.arange(canvas.width) - centre[1]) / radius).astype(_F32)[None, :]
        field = _noise(canvas, 120.0, octaves=4) * _F32(0.35) - (r ** 2 + c ** 2)
        water |= field > _quantile_threshold(field, rng.uniform(0.06, 0.22))
    if rng.random() < 0.4:
        start, heading = _edge_start(canvas)
        points = _wander(canvas, start, heading, 2 * math.hypot(*canvas.shape) * canvas.res, 0.07)
        wobble = ndimage.gaussian_filter1d(rng.standard_normal(len(points)), 3, mode="nearest")
        width_m = rng.uniform(10.0, 30.0) * (1 + 0.5 * wobble)
        rows, cols, _, _ = _sweep(points, canvas.px(width_m), canvas.shape)
        river = np.zeros(canvas.shape, bool)
        river[rows, cols] = True
        water |= river
        banks = _near(river, canvas.px(20.0), max(int(canvas.px(2.0)), 1))
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


# ---------------------------------------------------------------------------------------------
# Villages


@dataclass
class _Rect:
    centre: np.ndarray        # (row, col) px
    length: float             # px along `axis`
    width: float              # px across it
    axis: float               # direction of the long side: radians in (row, col) space


@dataclass
class _Building(_Rect):
    height_m: float
    roof: np.ndarray          # rgb
    hip: bool = False
    flat: bool = False


def _window(canvas: _Canvas, rect: _Rect, reach: float):
    """Slices around a rectangle (plus `reach` px) and its pixels' offsets from the centre."""
    half = 0.5 * math.hypot(rect.length, rect.width) + reach + 1
    top, left = max(int(rect.centre[0] - half), 0), max(int(rect.centre[1] - half), 0)
    bottom = min(int(rect.centre[0] + half) + 1, canvas.height)
    right = min(int(rect.centre[1] + half) + 1, canvas.width)
    if bottom <= top or right <= left:
        return None
    r = np.arange(top, bottom, dtype=_F32)[:, None] - _F32(rect.centre[0])
    c = np.arange(left, right, dtype=_F32)[None, :] - _F32(rect.centre[1])
    return (slice(top, bottom), slice(left, right)), r, c


def _inside(rect: _Rect, r: np.ndarray, c: np.ndarray, margin: float = 0.0):
    """Pixels inside the rectangle, and their coordinates along and across its axis."""
    sin, cos = _F32(math.sin(rect.axis)), _F32(math.cos(rect.axis))
    u, v = r * sin + c * cos, c * sin - r * cos
    return (np.abs(u) <= rect.length / 2 + margin) & (np.abs(v) <= rect.width / 2 + margin), u, v


def _roof_light(canvas: _Canvas, building: _Building, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Brightness of each roof facet from its slope towards the sun: gable, hip or flat."""
    if building.flat:
        rim = np.maximum(np.abs(u) - building.length / 2, np.abs(v) - building.width / 2) > -canvas.px(0.6)
        return np.where(rim, _F32(0.85), _F32(1.0))
    sun = canvas.sun()
    sin, cos = math.sin(building.axis), math.cos(building.axis)
    toward_sun_across = -cos * sun[0] + sin * sun[1]
    toward_sun_along = sin * sun[0] + cos * sun[1]
    facing = np.sign(v) * _F32(toward_sun_across)
    if building.hip:
        end = np.abs(u) - (building.length - building.width) / 2 > np.abs(v)
        facing = np.where(end, np.sign(u) * _F32(toward_sun_along), facing)
    eave = np.maximum(np.abs(u) - building.length / 2, np.abs(v) - building.width / 2) > -canvas.px(0.3)
    return (0.88 + 0.45 * facing - 0.12 * eave).astype(_F32)


def _place_buildings(canvas: _Canvas, roads: list[_Path], occupied: np.ndarray):
    """Villages along roads: houses near the road, barns behind, a few large halls; with their lots.

    Returns (buildings, lots); `occupied` is updated so nothing overlaps.
    """
    rng = canvas.rng
    target_area = canvas.area_m2 * CLASS_FRACTIONS[BUILDING] * rng.uniform(0.7, 1.3)
    buildings: list[_Building] = []
    lots: list[_Rect] = []
    area = 0.0
    streets = [road for road in roads if road.kind in _PAVED_ROADS and len(road.points) > 4] or \
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
            lot = _Rect(road.points[index] + normal * canvas.px(front + lot_depth / 2),
                        canvas.px(spacing * _STEP_M * 0.95), canvas.px(lot_depth), axis)
            placed = _farmstead(canvas, road.points[index], normal, axis, front, lot_depth, occupied)
            if placed:
                buildings.extend(placed)
                lots.append(lot)
                area += sum(b.length * b.width for b in placed) * canvas.res ** 2
            index += spacing
    return buildings, lots


def _farmstead(canvas: _Canvas, at: np.ndarray, normal: np.ndarray, axis: float, front: float,
               lot_depth: float, occupied: np.ndarray) -> list[_Building]:
    """A house facing the road (sometimes L-shaped), maybe a barn behind, or a large flat hall."""
    rng = canvas.rng
    hall = rng.random() < 0.06
    if hall:
        length, width = rng.uniform(30, 60), rng.uniform(14, 22)
    else:
        length, width = rng.uniform(10, 16), rng.uniform(8, 11)
    turned = not hall and rng.random() < 0.35
    depth = front + rng.uniform(5, 10) + (length if turned else width) / 2
    house = _Building(at + normal * canvas.px(depth), canvas.px(length), canvas.px(width),
                      axis + (math.pi / 2 if turned else 0.0) + rng.normal(0, 0.03),
                      rng.uniform(8, 12) if hall else rng.uniform(5, 9),
                      _ROOFS[int(rng.integers(len(_ROOFS)))] * rng.uniform(0.9, 1.1),
                      hip=bool(rng.random() < 0.35), flat=hall)
    parts = [house]
    if not hall and rng.random() < 0.25:       # a wing makes an L
        sin, cos = math.sin(house.axis), math.cos(house.axis)
        along, across = np.array([sin, cos]), np.array([-cos, sin]) * rng.choice([-1.0, 1.0])
        wing = house.width * rng.uniform(1.2, 1.8)
        centre = (house.centre + along * rng.choice([-1.0, 1.0]) * (house.length - house.width) / 2
                  + across * (house.width + wing) / 2 * 0.95)
        parts.append(_Building(centre, wing, house.width * 0.9, house.axis + math.pi / 2,
                               house.height_m, house.roof, house.hip))
    if not hall and rng.random() < 0.5 and depth + 30 < front + lot_depth:   # a barn behind
        barn_length = rng.uniform(14, 30)
        parts.append(_Building(at + normal * canvas.px(depth + rng.uniform(16, 24)), canvas.px(barn_length),
                               canvas.px(rng.uniform(8, 12)), axis + rng.normal(0, 0.03), rng.uniform(6, 9),
                               _ROOFS[int(rng.integers(len(_ROOFS)))] * rng.uniform(0.9, 1.1),
                               hip=bool(rng.random() < 0.2)))
    margin = canvas.px(2.0)
    for part in parts:
        window = _window(canvas, part, margin)
        if window is None:
            return []
        (rows, cols), r, c = window
        inside = _inside(part, r, c, margin)[0]
        if (occupied[rows, cols] & inside).any() or inside.sum() < 0.8 * part.length * part.width:
            return []
    for part in parts:
        (rows, cols), r, c = _window(canvas, part, margin)
        occupied[rows, cols] |= _inside(part, r, c, margin)[0]
    return parts


# ---------------------------------------------------------------------------------------------
# Trees


def _crown_light(canvas: _Canvas, dr: np.ndarray, dc: np.ndarray, distance2: np.ndarray) -> np.ndarray:
    """Brightness of a round crown at offsets (dr, dc) from its centre, in crown radii (sphere shading)."""
    sun = canvas.sun()
    up = np.sqrt(np.clip(1 - distance2, 0, 1))
    lambert = np.clip(dr * sun[0] + dc * sun[1] + up * sun[2], 0, 1)
    return np.where(distance2 < 1, 0.45 + 0.8 * lambert, _F32(0.32)).astype(_F32)


def _forest_crowns(canvas: _Canvas, potential: np.ndarray, candidates: np.ndarray):
    """Crowns on a jittered grid (cellular noise) over the candidate pixels.

    Each pixel belongs to its nearest crown (among the 3x3 neighbouring grid cells); where two
    crowns meet there is a dark crevice. A pixel is woodland when its crown's centre lies where
    trees grow, so forest edges follow whole crowns as on real photos. Returns (woodland,
    brightness, colour mix) for the candidate pixels in np.nonzero order.
    """
    rng = canvas.rng
    spacing = _F32(canvas.px(rng.uniform(4.0, 5.5)))
    grid = (int(canvas.height / spacing) + 3, int(canvas.width / spacing) + 3)
    # Crown centres in grid units, one per cell; grid indices carry a margin of one cell.
    index = np.arange(grid[0] * grid[1])
    centre_r = (index // grid[1] - 1 + rng.uniform(0.15, 0.85, len(index))).astype(_F32)
    centre_c = (index % grid[1] - 1 + rng.uniform(0.15, 0.85, len(index))).astype(_F32)
    radius = rng.uniform(0.55, 0.75, grid[0] * grid[1]).astype(_F32)
    mix = rng.random(grid[0] * grid[1], dtype=_F32)
    tint = rng.uniform(0.85, 1.15, grid[0] * grid[1]).astype(_F32)
    all_rows, all_cols = np.nonzero(candidates)
    woody = np.empty(len(all_rows), bool)
    light = np.empty(len(all_rows), _F32)
    colour_mix = np.empty(len(all_rows), _F32)
    for start in range(0, len(all_rows), _CHUNK):
        part = slice(start, start + _CHUNK)
        rows, cols = all_rows[part], all_cols[part]
        cell_r, cell_c = rows.astype(_F32) / spacing, cols.astype(_F32) / spacing
        base = cell_r.astype(np.int32) * grid[1] + cell_c.astype(np.int32)
        best = np.full(rows.shape, np.inf, _F32)
        second = np.full(rows.shape, np.inf, _F32)
        best_dr, best_dc = np.zeros(rows.shape, _F32), np.zeros(rows.shape, _F32)
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


def _solitary_trees(canvas: _Canvas, centres: np.ndarray, radii_px: np.ndarray):
    """Round crowns (garden and roadside trees): (mask, brightness, colour mix) over the scene."""
    mask = np.zeros(canvas.shape, bool)
    light = np.zeros(canvas.shape, _F32)
    mix = np.zeros(canvas.shape, _F32)
    for (row, col), radius, tree_mix in zip(centres, radii_px, canvas.rng.random(len(centres), dtype=_F32)):
        top, left = max(int(row - radius), 0), max(int(col - radius), 0)
        bottom, right = min(int(row + radius) + 2, canvas.height), min(int(col + radius) + 2, canvas.width)
        if bottom <= top or right <= left:
            continue
        dr = (np.arange(top, bottom, dtype=_F32)[:, None] - _F32(row)) / _F32(radius)
        dc = (np.arange(left, right, dtype=_F32)[None, :] - _F32(col)) / _F32(radius)
        distance2 = dr ** 2 + dc ** 2
        crown = distance2 < 1
        window = (slice(top, bottom), slice(left, right))
        light[window] = np.where(crown, _crown_light(canvas, dr, dc, distance2), light[window])
        mix[window] = np.where(crown, tree_mix, mix[window])
        mask[window] |= crown
    return mask, light, mix


def _garden_tree_centres(canvas: _Canvas, lots: list[_Rect]) -> tuple[np.ndarray, np.ndarray]:
    """A few trees in each village lot, about one per 400 m²."""
    rng = canvas.rng
    centres, radii = [np.zeros((0, 2))], [np.zeros(0)]
    for lot in lots:
        count = rng.poisson(lot.length * lot.width * canvas.res ** 2 / 400.0)
        along = rng.uniform(-0.5, 0.5, count) * lot.length
        across = rng.uniform(-0.5, 0.5, count) * lot.width
        sin, cos = math.sin(lot.axis), math.cos(lot.axis)
        centres.append(lot.centre + along[:, None] * np.array([sin, cos]) + across[:, None] * np.array([-cos, sin]))
        radii.append(canvas.px(rng.uniform(2.0, 4.0, count)))
    return np.concatenate(centres), np.concatenate(radii)


def _roadside_tree_centres(canvas: _Canvas, roads: list[_Path]) -> tuple[np.ndarray, np.ndarray]:
    """Tree alleys along some paved roads, a common sight in the Polish countryside."""
    rng = canvas.rng
    centres, radii = [np.zeros((0, 2))], [np.zeros(0)]
    for road in roads:
        if road.kind not in _PAVED_ROADS or len(road.points) < 3 or rng.random() > 0.4:
            continue
        direction = np.gradient(road.points, axis=0)
        direction /= np.maximum(np.hypot(*direction.T), 1e-9)[:, None]
        normal = np.stack([-direction[:, 1], direction[:, 0]], axis=1)
        offset = canvas.px(road.width_m / 2 + rng.uniform(2.5, 4.0))
        for side in (-1.0, 1.0):
            chosen = np.arange(0, len(road.points), int(rng.integers(2, 4)))
            chosen = chosen[rng.random(len(chosen)) < 0.85]
            centres.append(road.points[chosen] + side * offset * normal[chosen])
            radii.append(canvas.px(rng.uniform(2.5, 4.5, len(chosen))))
    return np.concatenate(centres), np.concatenate(radii)


# ---------------------------------------------------------------------------------------------
# Painting


def _paint_water(canvas: _Canvas, water: np.ndarray, rgb: np.ndarray) -> None:
    """Dark water, lighter and greener in the shallows along the shore."""
    if not water.any():
        return
    rng = canvas.rng
    rows, cols = np.nonzero(water)
    pad = int(canvas.px(6.0)) + 2
    window = (slice(max(rows.min() - pad, 0), rows.max() + pad + 1), slice(max(cols.min() - pad, 0), cols.max() + pad + 1))
    inner = water[window]
    deep = np.array(rng.choice([(42, 56, 54), (36, 50, 62), (52, 66, 54)]), _F32)
    shallow = np.clip((1 - _soften(inner, canvas.px(2.5))[inner]) * 1.6, 0, 0.7)[:, None]
    ripple = (1 + _F32(0.06) * _noise(canvas, 60.0, octaves=2)[window][inner])[:, None]
    part = rgb[window]
    part[inner] = (deep * (1 - shallow) + np.array((80, 94, 70), _F32) * shallow) * ripple


def _paint_roads(canvas: _Canvas, roads: list[_Path], label: np.ndarray, rgb: np.ndarray) -> None:
    """Asphalt with centre dashes on main roads, gravel and dirt with wheel tracks."""
    rng = canvas.rng
    for road in sorted(roads, key=lambda item: -item.kind):       # main roads last, on top
        rows, cols, across, along = _sweep(road.points, canvas.px(road.width_m), canvas.shape)
        colour = np.array(_ROAD_KINDS[road.kind][2], _F32) * _F32(rng.uniform(0.9, 1.1))
        shade = 1 - 0.1 * np.abs(across) ** 4
        if road.kind == 0:
            dash = ((np.abs(across) * road.width_m / 2 < 0.1 + canvas.res / 2)
                    & ((along * canvas.res) % 12.0 < 4.0))
            shade = np.where(dash, _F32(1.9), shade)
        elif road.kind not in _PAVED_ROADS:
            shade = shade * (1 - 0.08 * np.cos(across * _F32(2 * math.pi)))
        rgb[rows, cols] = colour * shade[:, None]
        label[rows, cols] = ROAD


def _paint_buildings(canvas: _Canvas, buildings: list[_Building], rgb: np.ndarray, label: np.ndarray,
                     shadow: np.ndarray) -> None:
    """Roofs, their label and the shadow each building casts."""
    for building in buildings:
        length = canvas.px(building.height_m * canvas.shadow_per_m)
        window = _window(canvas, building, length)
        if window is None:
            continue
        (rows, cols), r, c = window
        inside, u, v = _inside(building, r, c)
        roof = building.roof * _roof_light(canvas, building, u, v)[..., None]
        rgb[rows, cols] = np.where(inside[..., None], roof, rgb[rows, cols])
        label[rows, cols] = np.where(inside, BUILDING, label[rows, cols])
        cast = np.zeros_like(inside)
        for fraction in np.linspace(0.0, 1.0, max(int(length / 2), 2)):
            offset = canvas.shadow_dir * length * fraction
            cast |= _inside(building, r - _F32(offset[0]), c - _F32(offset[1]))[0]
        shadow[rows, cols] |= cast & ~inside


def _paint_lots(canvas: _Canvas, lots: list[_Rect], buildings: list[_Building], rgb: np.ndarray) -> np.ndarray:
    """Yards of the village lots (lawn, garden or gravel) with paving round the buildings."""
    rng = canvas.rng
    yard = np.zeros(canvas.shape, bool)
    texture = 1 + _F32(0.08) * _noise(canvas, 8.0, octaves=2)
    for lot in lots:
        window = _window(canvas, lot, 0)
        if window is None:
            continue
        (rows, cols), r, c = window
        inside = _inside(lot, r, c)[0]
        colour = _YARDS[int(rng.integers(len(_YARDS)))]
        rgb[rows, cols] = np.where(inside[..., None], colour * texture[rows, cols][..., None], rgb[rows, cols])
        yard[rows, cols] |= inside
    margin = canvas.px(3.0)
    for building in buildings:
        window = _window(canvas, building, margin)
        if window is None:
            continue
        (rows, cols), r, c = window
        paved = _inside(building, r, c, margin)[0] & yard[rows, cols]
        rgb[rows, cols] = np.where(paved[..., None], _PAVING * texture[rows, cols][..., None], rgb[rows, cols])
    return yard


def _trees(canvas: _Canvas, potential: np.ndarray, lots: list[_Rect], roads: list[_Path]):
    """Forest crowns where trees grow, garden trees in the lots, alleys along roads.

    Returns (forest mask, solitary-tree mask, crown brightness, crown colour mix).
    """
    candidates = _near(potential > 0, canvas.px(6.0), max(int(canvas.px(1.0)), 1))
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


def _paint_trees(canvas: _Canvas, wooded: np.ndarray, forest: np.ndarray, light: np.ndarray,
                 mix: np.ndarray, rgb: np.ndarray) -> None:
    """Crown colours: conifer stands darker than broadleaved woods, each crown its own shade."""
    conifer = ((_noise(canvas, 200.0, octaves=2) > 0.3) & forest)[wooded][:, None]
    bright = np.where(conifer, _NEEDLES[0], _LEAVES[0])
    dark = np.where(conifer, _NEEDLES[1], _LEAVES[1])
    variation = 1 + _F32(0.08) * _noise(canvas, 25.0, octaves=2)[wooded]
    leaves = canvas.grain.uniform(0.88, 1.12, len(variation)).astype(_F32)     # pixel-sized leaf clusters
    rgb[wooded] = (dark + (bright - dark) * mix[wooded][:, None]) * (light[wooded] * variation * leaves)[:, None]


def _camera(canvas: _Canvas, rgb: np.ndarray) -> np.ndarray:
    """Flight-to-flight differences (exposure, white balance, haze) and sensor noise; to uint8."""
    rng = canvas.rng
    balance = (rng.uniform(0.92, 1.08) * rng.uniform(0.96, 1.04, 3)).astype(_F32)
    haze = _F32(rng.uniform(0.0, 0.08))
    rgb *= balance * (1 - haze)
    rgb += haze * _F32(200.0) + canvas.grain.standard_normal(canvas.shape, dtype=_F32)[..., None] * _F32(2.5)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def generate_scene(width: int, height: int, resolution_m: float = 0.25,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic orthophoto of Polish countryside and its LandCover.ai mask.

    Returns (rgb uint8 (height, width, 3), mask uint8 (height, width)) with values 0 background,
    1 building, 2 woodland, 3 water, 4 road. Deterministic for a seed; sizes are in metres, so a
    scene looks alike at 0.25 and 0.5 m/px.
    """
    if width < 1 or height < 1 or not resolution_m > 0:
        raise ValueError(f"A scene of {width}x{height} px at {resolution_m} m/px is not possible; "
                         "give a positive size and resolution.")
    rng = np.random.default_rng(seed)
    azimuth = rng.uniform(-0.7, 0.7)
    canvas = _Canvas(int(height), int(width), float(resolution_m), rng, np.random.default_rng([seed, 1]),
                     np.array([-math.cos(azimuth), math.sin(azimuth)]), float(rng.uniform(0.45, 0.75)))
    roads = _road_network(canvas)
    rgb, woodlot = _fields(canvas)
    potential = _tree_potential(canvas, woodlot)
    water, banks = _water(canvas)
    riparian = banks & (_noise(canvas, 40.0) > -0.3)
    potential[riparian] = np.maximum(potential[riparian], _F32(0.05))
    # Villages avoid roads and water; their lots clear the forest.
    road_area = np.zeros(canvas.shape, bool)
    for road in roads:
        rows, cols, _, _ = _sweep(road.points, canvas.px(road.width_m + 2.0), canvas.shape)
        road_area[rows, cols] = True
    buildings, lots = _place_buildings(canvas, roads, road_area | water)
    yard = _paint_lots(canvas, lots, buildings, rgb)
    potential[yard] = -1.0
    forest, trees, light, mix = _trees(canvas, potential, lots, roads)
    wooded = forest | trees
    _paint_trees(canvas, wooded, forest, light, mix, rgb)
    label = np.zeros(canvas.shape, np.uint8)
    label[wooded] = WOODLAND
    label[water] = WATER
    _paint_water(canvas, water, rgb)
    _paint_roads(canvas, roads, label, rgb)
    shadow = np.zeros(canvas.shape, bool)
    _paint_buildings(canvas, buildings, rgb, label, shadow)
    shadow |= _cast_shadow(canvas, forest & (label == WOODLAND), 18.0)
    shadow |= _cast_shadow(canvas, trees & (label == WOODLAND), 9.0)
    rgb[shadow & (label != WOODLAND) & (label != BUILDING)] *= _F32(_SHADOW)
    return _camera(canvas, rgb), label


# ---------------------------------------------------------------------------------------------
# Files


@dataclass(frozen=True)
class _ImagePlan:
    stem: str
    resolution_m: float
    width: int
    height: int
    origin: tuple[float, float]
    scene_seed: int


def _plan_images(seed: int, images: int, size: int) -> list[_ImagePlan]:
    """Names, grids and places of a dataset's orthophotos, like the real ones: about the same ground
    extent each, most at 25 cm/px, one in five at 50 cm/px, scattered over Poland."""
    rng = np.random.default_rng([seed, 2180])
    plans = []
    for index in range(images):
        resolution = 0.5 if index % COARSE_EVERY == 1 else 0.25
        width_m = size * 0.25 * rng.uniform(0.97, 1.03)
        height_m = size * 0.25 * rng.uniform(1.0, 1.08)
        origin = (round(rng.uniform(*POLAND_BOX_M[0])), round(rng.uniform(*POLAND_BOX_M[1])))
        plans.append(_ImagePlan(f"synth-{seed}-{index:02d}", resolution, int(round(width_m / resolution)),
                                int(round(height_m / resolution)), origin,
                                int(np.random.SeedSequence([seed, index]).generate_state(1)[0])))
    return plans


def _split(ids: list[str], seed: int) -> dict[str, list[str]]:
    """A random train/val/test split of tile ids in the real lists' proportions."""
    if len(ids) < 3:
        raise ValueError(f"The images give only {len(ids)} tile(s); at least 3 are needed for train, val and "
                         "test. Use more or larger images (--images, --size) or a smaller --tile-size.")
    order = [ids[i] for i in np.random.default_rng([seed, 3]).permutation(len(ids))]
    validation = max(1, round(len(ids) * SPLIT_FRACTIONS[1]))
    test = max(1, round(len(ids) * SPLIT_FRACTIONS[2]))
    train = len(ids) - validation - test
    return {"train": order[:train], "val": order[train:train + validation], "test": order[train + validation:]}


def write_dataset(out_dir: str | Path = "data/synth", seed: int = 0, images: int = 6, size: int = 2048,
                  tile_size: int = TILE_SIZE, overwrite: bool = False) -> Path:
    """Write a LandCover.ai-shaped dataset: images/*.tif, masks/*.tif, train.txt, val.txt, test.txt.

    `size` is the width in pixels of the 25 cm/px images (the real ones are about 9000); the
    50 cm/px ones cover the same ground in half the pixels. Lists name the tiles of `tile_size`
    by the official numbering. A folder already holding this very dataset is left as it is.
    """
    out = Path(out_dir)
    if images < 1 or size < 1:
        raise ValueError(f"--images and --size must be positive (got {images} and {size}).")
    parameters = {"generator_version": GENERATOR_VERSION, "seed": seed, "images": images, "size": size,
                  "tile_size": tile_size}
    manifest = out / MANIFEST
    try:
        previous = json.loads(manifest.read_text())
    except (FileNotFoundError, ValueError):
        previous = {}
    if ({key: previous.get(key) for key in parameters} == parameters
            and all((out / name).is_file() for name in previous.get("files", []))):
        return out
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise FileExistsError(f"'{out}' already holds other files; choose another --out or pass --overwrite "
                              "to replace the synthetic dataset there.")
    for name in previous.get("files", []):         # our own files from an earlier, different run
        (out / name).unlink(missing_ok=True)
    manifest.unlink(missing_ok=True)
    plans = _plan_images(seed, images, size)
    files, ids = [], []
    for plan in plans:
        rgb, mask = generate_scene(plan.width, plan.height, plan.resolution_m, plan.scene_seed)
        for folder, array in (("images", rgb), ("masks", mask)):
            (out / folder).mkdir(parents=True, exist_ok=True)
            write_geotiff(out / folder / f"{plan.stem}.tif", array, plan.origin, plan.resolution_m, overwrite=True)
            files.append(f"{folder}/{plan.stem}.tif")
        ids += tile_ids(plan.stem, plan.height, plan.width, tile_size)
    for split, split_ids in _split(ids, seed).items():
        (out / f"{split}.txt").write_text("".join(f"{tile}\n" for tile in split_ids))
        files.append(f"{split}.txt")
    manifest.write_text(json.dumps({**parameters, "files": files}, indent=1))
    return out


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "synth", help="write a synthetic LandCover.ai-shaped dataset (no download needed)",
        description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="data/synth", help="output folder (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same dataset")
    parser.add_argument("--images", type=int, default=6, help="number of orthophotos (default: %(default)s)")
    parser.add_argument("--size", type=int, default=2048,
                        help="width in pixels of the 25 cm/px orthophotos (default: %(default)s; real: ~9000)")
    parser.add_argument("--tile-size", type=int, default=TILE_SIZE,
                        help="tile size the split lists are numbered for (default: %(default)s, as the real lists)")
    parser.add_argument("--overwrite", action="store_true", help="replace what the output folder holds")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = write_dataset(args.out, args.seed, args.images, args.size, args.tile_size, args.overwrite)
    counts = {split: len((out / f"{split}.txt").read_text().split()) for split in ("train", "val", "test")}
    print(f"Synthetic dataset in {out}: {args.images} orthophotos; tiles train {counts['train']}, "
          f"val {counts['val']}, test {counts['test']}. Cut the tiles with 'python -m trainer data "
          f"--source {out}" + (f" --tile-size {args.tile_size}" if args.tile_size != TILE_SIZE else "") + "'.")
    return 0
