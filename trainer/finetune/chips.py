"""The labelled images cut for fine-tuning: validation blocks set apart, training chips drawn around them.

Decisions (quoted in the README):

* **A spatial split**: each image's labelled window is cut into blocks of one tile; blocks with at
  least MIN_LABELLED_SHARE of labelled pixels are candidates, drawn in a seeded order, none touching
  another one already drawn, until VALIDATION_SHARE of the labelled pixels is set apart (at least one
  block). Validation pixels never reach training: a training chip's labels inside a validation
  block, and within MARGIN_SHARE of a tile around it, are unlabelled, so no chip beside a validation
  block teaches the pixels it is scored on.
* **Training chips** are tiles drawn anywhere in the labelled windows (each image in proportion to
  its labelled training pixels), redrawn until a quarter of the chip is labelled.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from landcover_qgis_plugin.core.errors import InputError

from .labels import UNLABELLED, LabelledImage

VALIDATION_SHARE = 0.2
MIN_LABELLED_SHARE = 0.25
MARGIN_SHARE = 0.25
MIN_CHIP_LABELLED = 0.25
DRAWS_PER_CHIP = 50


@dataclass(frozen=True)
class Block:
    image: int
    row: int        # top-left pixel of the labelled window
    col: int


@dataclass
class Split:
    """Where each image's training labels are (validation blocks and their margins unlabelled), and the
    validation blocks, each one tile."""
    training: list[np.ndarray]
    validation: list[Block]
    tile: int


def split(images: Sequence[LabelledImage], tile: int, seed: int = 0) -> Split:
    """Set validation blocks apart (see the module docstring)."""
    rng = np.random.default_rng(seed)
    candidates, labelled_total = [], 0
    for index, image in enumerate(images):
        labelled = image.labels != UNLABELLED
        labelled_total += int(labelled.sum())
        for row in range(0, image.labels.shape[0] - tile + 1, tile):
            for col in range(0, image.labels.shape[1] - tile + 1, tile):
                count = int(labelled[row:row + tile, col:col + tile].sum())
                if count >= MIN_LABELLED_SHARE * tile * tile:
                    candidates.append((Block(index, row, col), count))
    if len(candidates) < 2:
        raise InputError(f"The labels cover {len(candidates)} tile(s) of {tile} x {tile} px at the model's resolution "
                         f"well enough (a quarter labelled); at least 2 are needed, one kept apart to measure the "
                         "fine-tuned model: label a larger area.")
    chosen: list[Block] = []
    kept = 0
    for position in rng.permutation(len(candidates)):
        block, count = candidates[position]
        if kept >= VALIDATION_SHARE * labelled_total or len(chosen) == len(candidates) - 1:
            break
        if any(other.image == block.image and abs(other.row - block.row) <= tile and abs(other.col - block.col) <= tile
               for other in chosen):
            continue
        chosen.append(block)
        kept += count
    training = [image.labels.copy() for image in images]
    margin = int(round(MARGIN_SHARE * tile))
    for block in chosen:
        training[block.image][max(block.row - margin, 0):block.row + tile + margin,
                              max(block.col - margin, 0):block.col + tile + margin] = UNLABELLED
    return Split(training, chosen, tile)


class ChipSampler:
    """Random training chips (pixels, labels) of one tile from the images, reproducible per seed."""

    def __init__(self, images: Sequence[LabelledImage], training: Sequence[np.ndarray], tile: int):
        self.images, self.training, self.tile = images, training, tile
        usable = [image for image in images if min(image.labels.shape) >= tile]
        if len(usable) != len(images):
            small = [image.image for image in images if min(image.labels.shape) < tile]
            raise InputError(f"The labelled part of {small[0]} is smaller than one tile ({tile} px at the model's "
                             "resolution); label a larger area of it.")
        counts = np.array([(labels != UNLABELLED).sum() for labels in training], float)
        self.weights = counts / counts.sum()

    def draw(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        index = int(rng.choice(len(self.images), p=self.weights))
        labels, pixels = self.training[index], self.images[index].pixels
        for _ in range(DRAWS_PER_CHIP):
            row = int(rng.integers(0, labels.shape[0] - self.tile + 1))
            col = int(rng.integers(0, labels.shape[1] - self.tile + 1))
            chip = labels[row:row + self.tile, col:col + self.tile]
            if (chip != UNLABELLED).mean() >= MIN_CHIP_LABELLED:
                break
        return pixels[row:row + self.tile, col:col + self.tile], chip


def validation_chips(images: Sequence[LabelledImage], blocks: Sequence[Block],
                     tile: int) -> tuple[np.ndarray, np.ndarray]:
    """The validation blocks' pixels (n, tile, tile, bands) and labels (n, tile, tile)."""
    pixels = np.stack([images[b.image].pixels[b.row:b.row + tile, b.col:b.col + tile] for b in blocks])
    labels = np.stack([images[b.image].labels[b.row:b.row + tile, b.col:b.col + tile] for b in blocks])
    return pixels, labels
