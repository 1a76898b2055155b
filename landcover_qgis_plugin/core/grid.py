"""North-up pixel grids: from pixels to map coordinates and back, and mirrored indices beyond the edge."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Grid:
    """A north-up pixel grid: `width` x `height` pixels of `dx` x `dy` CRS units from the top-left (x0, y0).

    Pixels are square on the ground at the area's centre, so `dx` and `dy` differ in degrees."""
    x0: float
    y0: float
    dx: float
    dy: float
    width: int
    height: int

    @classmethod
    def of(cls, dataset) -> "Grid":
        """The grid of a north-up GDAL dataset."""
        gt = dataset.GetGeoTransform()
        return cls(gt[0], gt[3], gt[1], -gt[5], dataset.RasterXSize, dataset.RasterYSize)

    @property
    def geotransform(self) -> tuple[float, float, float, float, float, float]:
        return (self.x0, self.dx, 0.0, self.y0, 0.0, -self.dy)

    def window(self, x0: int, y0: int, x1: int, y1: int) -> "Grid":
        """The sub-grid of pixel columns x0..x1 and rows y0..y1 (exclusive ends)."""
        return Grid(self.x0 + x0 * self.dx, self.y0 - y0 * self.dy, self.dx, self.dy, x1 - x0, y1 - y0)

    def bounds(self, x0: int = 0, y0: int = 0, x1: int | None = None,
               y1: int | None = None) -> tuple[float, float, float, float]:
        """xmin, ymin, xmax, ymax of pixel columns x0..x1 and rows y0..y1 (default: the whole grid)."""
        x1 = self.width if x1 is None else x1
        y1 = self.height if y1 is None else y1
        return (self.x0 + x0 * self.dx, self.y0 - y1 * self.dy, self.x0 + x1 * self.dx, self.y0 - y0 * self.dy)

    def centre(self) -> tuple[float, float]:
        return self.x0 + self.width * self.dx / 2.0, self.y0 - self.height * self.dy / 2.0


def pixel_bounds(grid: Grid, envelope: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    """Pixel window (x0, y0, x1, y1) of the grid covering a (xmin, xmax, ymin, ymax) envelope, clipped."""
    xmin, xmax, ymin, ymax = envelope
    x0 = math.floor((xmin - grid.x0) / grid.dx + 1e-9)
    x1 = math.ceil((xmax - grid.x0) / grid.dx - 1e-9)
    y0 = math.floor((grid.y0 - ymax) / grid.dy + 1e-9)
    y1 = math.ceil((grid.y0 - ymin) / grid.dy - 1e-9)
    return max(x0, 0), max(y0, 0), min(x1, grid.width), min(y1, grid.height)


def reflect_indices(start: int, stop: int, size: int) -> np.ndarray:
    """Indices start..stop-1 folded into 0..size-1 by mirror reflection (no edge pixel repeated)."""
    indices = np.arange(start, stop)
    if size == 1:
        return np.zeros_like(indices)
    period = 2 * size - 2
    folded = np.mod(indices, period)
    return np.where(folded < size, folded, period - folded)
