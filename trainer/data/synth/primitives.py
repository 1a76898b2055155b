"""What every part of a synthetic scene is drawn with: the canvas, noise, masks and centre lines.

Sizes are in metres and converted through the canvas, so a scene looks alike at any resolution;
per-pixel work is vectorised numpy/scipy, cheap enough for scenes of thousands of pixels a side.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import ndimage

BACKGROUND, BUILDING, WOODLAND, WATER, ROAD = range(5)
# Real LandCover.ai mask fractions (seed recipe): what the scenes aim for on average.
CLASS_FRACTIONS = (0.641, 0.018, 0.245, 0.077, 0.019)

F32 = np.float32
STEP_M = 4.0                      # spacing of road and river centre-line points
_SAMPLE_PX = 0.7                  # centre-line sampling: every pixel within 0.5 px of a sample


@dataclass
class Canvas:
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
        return np.array([horizontal[0], horizontal[1], math.sin(elevation)], F32)


# ---------------------------------------------------------------------------------------------
# Noise and small raster tools


def _spline_matrix(n_out: int, cell_px: float) -> np.ndarray:
    """(n_out, n_in) cubic B-spline weights from a lattice of `cell_px` spacing to pixels."""
    n_in = int(math.ceil(n_out / cell_px)) + 4
    position = np.arange(n_out) / cell_px + 1.5
    base = np.floor(position).astype(np.intp)
    f = position - base
    weights = ((1 - f) ** 3 / 6, (3 * f ** 3 - 6 * f ** 2 + 4) / 6, (-3 * f ** 3 + 3 * f ** 2 + 3 * f + 1) / 6, f ** 3 / 6)
    matrix = np.zeros((n_out, n_in), F32)
    for offset, weight in enumerate(weights):
        matrix[np.arange(n_out), base - 1 + offset] = weight
    return matrix


def noise(canvas: Canvas, feature_m: float, octaves: int = 1, gain: float = 0.5) -> np.ndarray:
    """Smooth fractal noise with features of `feature_m` metres, zero mean, unit std.

    A random lattice is interpolated with separable B-spline matrices: two matrix products,
    far cheaper than filtering a full-size image.
    """
    total = np.zeros(canvas.shape, F32)
    amplitude = 1.0
    for octave in range(octaves):
        cell = max(canvas.px(feature_m / 2 ** octave), 1.0)
        rows, cols = _spline_matrix(canvas.height, cell), _spline_matrix(canvas.width, cell)
        lattice = canvas.rng.standard_normal((rows.shape[1], cols.shape[1]), dtype=F32)
        total += F32(amplitude) * (rows @ lattice @ cols.T)
        amplitude *= gain
    sample = total[::4, ::4]
    total -= sample.mean()
    total *= F32(1.0 / (sample.std() + 1e-6))
    return total


def soften(mask: np.ndarray, radius_px: float) -> np.ndarray:
    """A mask blurred over about `radius_px`: two box passes, on a coarser grid for wide radii."""
    every = max(int(radius_px // 4), 1)
    size = max(int(round(radius_px / every)), 1) * 2 + 1
    soft = ndimage.uniform_filter(mask[::every, ::every].astype(F32), size, mode="nearest")
    soft = ndimage.uniform_filter(soft, size, mode="nearest")
    if every > 1:
        soft = np.repeat(np.repeat(soft, every, axis=0), every, axis=1)[: mask.shape[0], : mask.shape[1]]
    return soft


def nearby(mask: np.ndarray, radius_px: float, every: int) -> np.ndarray:
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


def cast_shadow(canvas: Canvas, mask: np.ndarray, height_m: float) -> np.ndarray:
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
@dataclass
class CentreLine:
    points: np.ndarray        # (N, 2) (row, col) pixels, STEP_M apart
    kind: int                 # index into ROAD_KINDS; -1 for a river
    width_m: float


def wander(canvas: Canvas, start: np.ndarray, heading: float, length_m: float, curviness: float) -> np.ndarray:
    """A smoothly curving centre line, cut where it leaves the scene."""
    steps = max(int(length_m / STEP_M), 2)
    turn = ndimage.gaussian_filter1d(canvas.rng.standard_normal(steps) * curviness, 6, mode="nearest")
    headings = heading + np.cumsum(turn)
    moves = np.stack([np.sin(headings), np.cos(headings)], axis=1) * canvas.px(STEP_M)
    points = start + np.concatenate([[[0.0, 0.0]], np.cumsum(moves, axis=0)])
    margin = canvas.px(20.0)
    outside = ((points[:, 0] < -margin) | (points[:, 0] > canvas.height + margin)
               | (points[:, 1] < -margin) | (points[:, 1] > canvas.width + margin))
    leaving = np.flatnonzero(outside[1:]) + 1
    return points[: leaving[0] + 1] if len(leaving) else points


def edge_start(canvas: Canvas) -> tuple[np.ndarray, float]:
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


def sweep(points: np.ndarray, width_px, shape: tuple[int, int]):
    """Pixels a centre line covers: (rows, cols, across in [-1, 1], along in px).

    `width_px` is one width or one per centre-line point (rivers widen and narrow).
    """
    distance = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(points, axis=0).T))])
    along = np.arange(0.0, distance[-1], _SAMPLE_PX)
    if len(along) < 2:
        empty = np.zeros(0, np.intp)
        return empty, empty, np.zeros(0, F32), np.zeros(0, F32)
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
    return rows[inside], cols[inside], across[inside].astype(F32), along_px[inside].astype(F32)
