"""The vectoriser's sieve over a distributed run's blocks, pixel for pixel GDAL's on the whole class raster.

Decisions (quoted in the README):

* **Exact**: a small region merges into its largest neighbour by pixel count, and those counts are
  of whole regions, which cross block borders. So each worker *surveys* a block (its 4-connected
  regions, the sizes of those that are small within it, touch its border or neighbour one of those,
  their neighbour pairs, and its border lines); one serial step joins the regions along the block
  borders, sums their sizes and decides every small region (largest neighbour, ties to the one GDAL
  compares first, chains through small neighbours, loops left alone: vectorize/sieve.py's rule);
  then each worker *applies* the decisions to its block. Only what the survey keeps travels: a
  few arrays per block, not its pixels.
* **Blocks nothing changes** are used as classified (no second copy).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from osgeo import gdal
from scipy import ndimage, sparse
from scipy.sparse.csgraph import connected_components

from ..gdalio import WriteCheck, call_gdal, close_dataset
from ..outputs import atomic_raster, verify_raster
from ..vectorize.sieve import UNDECIDED, adjacent_pairs, decide, first_pairs, label_regions

Rect = tuple[int, int, int, int]   # x0, y0, x1, y1: pixels of the class raster, end exclusive


@dataclass
class Survey:
    """What the decision needs of one block: its kept regions (size within the block, value; for
    the small ones, where to find them again: a pixel of theirs and their bounding box, in block
    pixels), the pairs (kept row of a small region, kept row of a neighbour, comparison key), and
    its four border lines as kept rows (-1: nodata)."""
    size: np.ndarray
    value: np.ndarray
    seed: np.ndarray      # (n, 2) row, col; -1 for regions not small
    box: np.ndarray       # (n, 4) row0, col0, row1, col1
    pairs: np.ndarray
    top: np.ndarray
    bottom: np.ndarray
    left: np.ndarray
    right: np.ndarray


@dataclass
class Changes:
    """The small regions of one block that take another value: a pixel and the box of each, the value."""
    seed: np.ndarray
    box: np.ndarray
    value: np.ndarray


def _read(class_raster: str, rect: Rect) -> tuple[np.ndarray, np.ndarray, int]:
    """The block's classes, which are valid, and the whole raster's width."""
    dataset = call_gdal(f"The class raster '{class_raster}' could not be read", gdal.Open, class_raster)
    band = dataset.GetRasterBand(1)
    x0, y0, x1, y1 = rect
    values = band.ReadAsArray(x0, y0, x1 - x0, y1 - y0)
    valid = band.GetMaskBand().ReadAsArray(x0, y0, x1 - x0, y1 - y0) != 0
    width = dataset.RasterXSize
    close_dataset(dataset)
    return values, valid, width


def survey_block(class_raster: str, rect: Rect, threshold: int) -> Survey:
    """A worker's first step on one block of `class_raster` (the whole raster's width sets the keys)."""
    values, valid, width = _read(class_raster, rect)
    labels, kinds = label_regions(values, valid)
    count = len(kinds)
    size = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    small = size < threshold   # a region small in the whole raster is small in every block it touches
    label_region = np.arange(-1, count, dtype=np.int64)   # label -> region, nodata -> -1
    found = [np.zeros((0, 3), np.int64)]
    for a, b, key in adjacent_pairs(labels, label_region, small, rect[1], rect[0], width):
        found.append(np.column_stack([a, b, key]))
        found.append(np.column_stack([b, a, key]))
    pairs = first_pairs(np.concatenate(found), small)
    edges = [labels[0], labels[-1], labels[:, 0], labels[:, -1]]
    kept = small.copy()
    kept[pairs[:, 1]] = True
    for edge in edges:
        kept[edge[edge > 0] - 1] = True
    index = np.flatnonzero(kept)
    row = np.full(count + 1, -1, np.int64)   # label -> kept row
    row[index + 1] = np.arange(len(index))
    seed, box = np.full((len(index), 2), -1, np.int32), np.full((len(index), 4), -1, np.int32)
    objects = ndimage.find_objects(labels)
    for at in np.flatnonzero(small[index]).tolist():   # fewer pixels than the threshold: small boxes
        region = int(index[at])
        rows, cols = objects[region]
        first = int(np.argmax(labels[rows, cols] == region + 1))
        width_here = cols.stop - cols.start
        seed[at] = (rows.start + first // width_here, cols.start + first % width_here)
        box[at] = (rows.start, cols.start, rows.stop, cols.stop)
    return Survey(size[index], kinds[index], seed, box,
                  np.column_stack([row[pairs[:, 0] + 1], row[pairs[:, 1] + 1], pairs[:, 2]]),
                  *(row[edge].astype(np.int32) for edge in edges))


def decide_blocks(surveys: dict[tuple[int, int], Survey], rects: dict[tuple[int, int], Rect], width: int,
                  threshold: int) -> dict[tuple[int, int], Changes]:
    """The serial step: for each block (row, col) with any, the small regions that change."""
    keys = sorted(surveys)
    offset = dict(zip(keys, np.cumsum([0] + [len(surveys[k].size) for k in keys[:-1]]).tolist()))
    size = np.concatenate([surveys[k].size for k in keys]).astype(np.int64)
    value = np.concatenate([surveys[k].value for k in keys]).astype(np.int64)
    pairs = [np.zeros((0, 3), np.int64)] + [surveys[k].pairs + [offset[k], offset[k], 0] for k in keys]
    joins = [np.zeros((0, 2), np.int64)]
    for (row, col) in keys:
        here = surveys[(row, col)]
        x0, y0, x1, y1 = rects[(row, col)]
        for other, mine, theirs, vertical in (((row + 1, col), here.bottom, "top", True),
                                              ((row, col + 1), here.right, "left", False)):
            if other not in surveys:
                continue
            a, b = mine.astype(np.int64), getattr(surveys[other], theirs).astype(np.int64)
            along = np.flatnonzero((a >= 0) & (b >= 0))
            a, b = a[along] + offset[(row, col)], b[along] + offset[other]
            same = value[a] == value[b]
            joins.append(np.column_stack([a[same], b[same]]))
            along = along[~same]
            # Keys as adjacent_pairs gives them: the upper or left pixel's row and column.
            key = (2 * (y1 * width + x0 + along) if vertical else 2 * ((y0 + along) * width + x1) + 1)
            pairs.append(np.column_stack([a[~same], b[~same], key]))
            pairs.append(np.column_stack([b[~same], a[~same], key]))
    nodes = len(size)
    joins = np.concatenate(joins)
    links = sparse.coo_matrix((np.ones(len(joins), np.int8), (joins[:, 0], joins[:, 1])), shape=(nodes, nodes))
    regions, region = connected_components(links, directed=False)
    region_size = np.bincount(region, size, minlength=regions).astype(np.int64)
    region_value = np.empty(regions, np.int64)
    region_value[region] = value
    pairs = np.concatenate(pairs)
    pairs = np.column_stack([region[pairs[:, 0]], region[pairs[:, 1]], pairs[:, 2]])
    small = region_size < threshold
    pairs = first_pairs(pairs, small)
    result = np.full(regions, UNDECIDED, np.int64)
    decide(pairs, region_size, region_value, result, np.zeros(regions, bool), small, threshold)
    changed = (result >= 0) & (result != region_value)
    changes = {}
    for key in keys:
        survey = surveys[key]
        rows = region[offset[key]:offset[key] + len(survey.size)]
        moved = np.flatnonzero(changed[rows])
        if len(moved):
            changes[key] = Changes(survey.seed[moved], survey.box[moved], result[rows[moved]])
    return changes


def apply_block(class_raster: str, rect: Rect, changes: Changes, out_path: str) -> str:
    """A worker's last step: the block with its small regions changed, each found again from its
    pixel within its box (the classes as classified, not as already changed), written (atomically) as a
    GeoTIFF at `out_path` on the class raster's grid."""
    classes, valid, _ = _read(class_raster, rect)
    sieved = classes.copy()
    for (row, col), (r0, c0, r1, c1), value in zip(changes.seed.tolist(), changes.box.tolist(),
                                                      changes.value.tolist()):
        window = classes[r0:r1, c0:c1]
        same, _ = ndimage.label((window == window[row - r0, col - c0]) & valid[r0:r1, c0:c1])
        sieved[r0:r1, c0:c1][same == same[row - r0, col - c0]] = value
    x0, y0, x1, y1 = rect
    with atomic_raster(out_path, overwrite=True) as tmp:
        check = WriteCheck(tmp)
        dataset = check.made(gdal.Translate, str(tmp), class_raster, srcWin=[x0, y0, x1 - x0, y1 - y0],
                             creationOptions=["TILED=YES", "COMPRESS=DEFLATE"])
        check.ok(dataset.GetRasterBand(1).WriteArray, sieved)
        with check:
            close_dataset(dataset)
            del dataset
        verify_raster(tmp, x1 - x0, y1 - y0, 1)
    return out_path
