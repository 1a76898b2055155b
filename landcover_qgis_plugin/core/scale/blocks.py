"""Blocks: the rectangles of output pixels that are the unit of distributed work.

A block's classes do not depend on the block (the tile grid is anchored to the raster: tiling.py), so
blocks of any size give the pixels of one run over the whole raster. Their sides are whole numbers of
tile steps, so a tile is computed twice only where it straddles a block border.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..grid import Grid

DEFAULT_BLOCK_PX = 8192   # 2 km at 25 cm/px: about a minute of CPU for the bundled model


@dataclass(frozen=True)
class Block:
    row: int
    col: int
    x0: int   # output pixel window, end exclusive
    y0: int
    x1: int
    y1: int

    @property
    def name(self) -> str:
        return f"r{self.row:05d}_c{self.col:05d}"

    def bounds(self, grid: Grid) -> tuple[float, float, float, float]:
        """xmin, ymin, xmax, ymax in the grid's CRS."""
        return grid.bounds(self.x0, self.y0, self.x1, self.y1)


def block_side(block_px: int, step: int) -> int:
    """The block side: `block_px` rounded down to whole tile steps, at least one step."""
    return max(step, block_px // step * step)


def plan_blocks(window: tuple[int, int, int, int], block_px: int, step: int) -> list[Block]:
    """The blocks covering the pixel window (x0, y0, x1, y1), cut at multiples of the block side from
    the raster's origin (so a smaller area keeps the blocks of the whole)."""
    side = block_side(block_px, step)
    x0, y0, x1, y1 = window
    blocks = []
    for row in range(y0 // side, -(-y1 // side)):
        for col in range(x0 // side, -(-x1 // side)):
            blocks.append(Block(row, col, max(col * side, x0), max(row * side, y0),
                                min((col + 1) * side, x1), min((row + 1) * side, y1)))
    return blocks
