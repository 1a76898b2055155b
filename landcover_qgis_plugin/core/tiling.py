"""The tile grid and the blending window: seamless stitching whatever the raster's size.

Scheme (quoted in the README): tiles of the model's size S overlap their neighbours by
`o = round(overlap * S)` pixels (0 <= overlap <= 0.5), so they start every `S - o` pixels. Each
tile's class probabilities are weighted by a separable cosine-tapered (Tukey) window: 1 in the
middle, rising as sin^2 over the `o` pixels of each edge. Where two tiles overlap, one tile's
falling sin^2 and the other's rising sin^2 sum to exactly 1, so the weights form a partition of
unity and no normalisation pass is needed; the pixels nearest a tile's edge, where a network lacks
context, get weights near 0. overlap=0.5 gives the Hann window; overlap=0 gives plain
non-overlapping tiles.

The grid is anchored to the raster, not to the area being classified: tile columns start at
`-o + k * (S - o)`, so the first tile's rising edge lies outside the raster (filled by mirror
reflection) and every raster pixel, border pixels included, gets full weight. The same pixel
therefore gets the same result whatever extent or mask is asked for. The raster is cut into
vertical strips at most `StreamLimits.strip_width` pixels wide (limits.py), processed one after the
other, each streaming tile row by tile row, so the memory held does not grow with the raster's width
or height; tiles straddling a strip border are computed once per strip (about (S - o) / strip width
extra work).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_OVERLAP = 0.5


@dataclass(frozen=True)
class TileGrid:
    tile: int
    overlap: int  # pixels shared by neighbouring tiles

    def __post_init__(self) -> None:
        if not 0 <= self.overlap <= self.tile // 2:
            raise ValueError(f"Tile overlap must be 0..{self.tile // 2} pixels for {self.tile} px tiles, "
                             f"got {self.overlap}.")

    @classmethod
    def from_fraction(cls, tile: int, overlap: float) -> "TileGrid":
        if not 0.0 <= overlap <= MAX_OVERLAP:
            raise ValueError(f"Overlap must be between 0 and {MAX_OVERLAP} of a tile, got {overlap}.")
        return cls(tile, int(round(overlap * tile)))

    @property
    def step(self) -> int:
        return self.tile - self.overlap

    def starts(self, lo: int, hi: int) -> np.ndarray:
        """Start coordinates of the grid's tiles that touch pixels lo..hi-1."""
        first = (lo + self.overlap - self.tile) // self.step + 1   # start + tile > lo
        last = -(-(hi + self.overlap) // self.step) - 1           # start < hi
        return np.arange(first, last + 1) * self.step - self.overlap

    def ramp(self) -> np.ndarray:
        """The 1-D window: sin^2 rise over `overlap` pixels, flat, mirrored fall."""
        weights = np.ones(self.tile, np.float32)
        if self.overlap:
            rise = np.sin(np.pi * (np.arange(self.overlap) + 0.5) / (2 * self.overlap)) ** 2
            weights[:self.overlap] = rise
            weights[-self.overlap:] = rise[::-1]
        return weights

    def window(self) -> np.ndarray:
        ramp = self.ramp()
        return np.outer(ramp, ramp)


def strips(lo: int, hi: int, width: int) -> list[tuple[int, int]]:
    """Column ranges of at most `width` pixels covering lo..hi, cut at multiples of `width` from lo."""
    return [(start, min(start + width, hi)) for start in range(lo, hi, width)]


def tile_count(width_px: int, height_px: int, tile: int, overlap: float) -> int:
    """How many tiles cover an area of width x height pixels (before empty ones are skipped)."""
    grid = TileGrid.from_fraction(tile, overlap)
    return len(grid.starts(0, width_px)) * len(grid.starts(0, height_px))
