"""The streamed sieve: regions under the minimum area merged into their largest neighbour, pixel
for pixel as GDAL's sieve filter does (see the package docstring)."""
from __future__ import annotations

from collections import defaultdict
from typing import Callable

import numpy as np
from osgeo import gdal
from scipy import ndimage, sparse
from scipy.sparse.csgraph import connected_components

from ..errors import Cancelled, OutputError
from ..gdalio import WriteCheck
from ..limits import StreamLimits
from .streaming import drop_cached, row_bands

UNDECIDED, UNCHANGED = -2, -1  # sieve outcomes besides the value a region takes


def sieve(source: gdal.Band, target: gdal.Band, threshold: int,
          progress: Callable[[float], None] | None = None,
          is_cancelled: Callable[[], bool] | None = None, limits: StreamLimits = StreamLimits(),
          check: WriteCheck | None = None) -> None:
    """Write `source` to `target` (same size) with every region smaller than `threshold` pixels merged
    into its largest neighbour: GDAL's SieveFilter(source, its mask, target, threshold, 4) itself on
    rasters up to `limits.whole_sieve_pixels`, else streamed band by band (`limits.band_pixels`
    each) in bounded memory (see the package docstring). `check`: the writes to `target`'s file."""
    check = check or WriteCheck("the sieved raster")
    width, height = source.XSize, source.YSize
    if width * height <= limits.whole_sieve_pixels:
        _gdal_sieve(source, target, threshold, progress, is_cancelled, check)
        return
    mask = source.GetMaskBand()
    state = _SieveState(width, threshold)
    bands = row_bands(width, height, limits.band_pixels)
    for index, (top, bottom) in enumerate(bands):
        if is_cancelled is not None and is_cancelled():
            raise Cancelled()
        values = source.ReadAsArray(0, top, width, bottom - top)
        valid = mask.ReadAsArray(0, top, width, bottom - top) != 0
        for rows, cols, value in state.add_band(values, valid, top, last=bottom == height):
            _rewrite_pixels(target, rows, cols, value, check)
        check.ok(target.WriteArray, values, 0, top)
        with check:
            drop_cached(source, target)
        if progress is not None:
            progress((index + 1) / len(bands))


def _gdal_sieve(source: gdal.Band, target: gdal.Band, threshold: int,
                progress: Callable[[float], None] | None, is_cancelled: Callable[[], bool] | None,
                check: WriteCheck) -> None:
    def report(fraction, message, data):
        if is_cancelled is not None and is_cancelled():
            return 0      # GDAL stops and fails the call
        if progress is not None:
            progress(fraction)
        return 1

    stopped = lambda: is_cancelled is not None and is_cancelled()   # noqa: E731
    try:   # it reads a raster just written and writes another: any failure is a failed write
        with check:
            failed = gdal.SieveFilter(source, source.GetMaskBand(), target, threshold, 4, callback=report)
            if not failed:
                target.FlushCache()
    except OutputError:
        if stopped():
            raise Cancelled() from None
        raise
    if failed:
        if stopped():
            raise Cancelled()
        check.fail("GDAL's sieve filter failed")


def _rewrite_pixels(band: gdal.Band, rows: np.ndarray, cols: np.ndarray, value: int, check: WriteCheck) -> None:
    r0, c0 = int(rows.min()), int(cols.min())
    window = band.ReadAsArray(c0, r0, int(cols.max()) - c0 + 1, int(rows.max()) - r0 + 1)
    window[rows - r0, cols - c0] = value
    check.ok(band.WriteArray, window, c0, r0)


def label_regions(values: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """4-connected regions of equal valid values: labels (0 for nodata, else 1..n) and each one's value."""
    labels = np.zeros(values.shape, np.int32)
    kinds, count = [], 0
    present = values[valid]
    if values.dtype.kind == "u" and values.dtype.itemsize <= 2:
        present = np.flatnonzero(np.bincount(present.ravel()))
    for value in np.unique(present):
        found, regions = ndimage.label(valid & (values == value), output=np.int32)
        np.add(found, count, out=labels, where=found > 0)
        kinds.append(np.full(regions, value, np.int64))
        count += regions
    return labels, np.concatenate(kinds) if kinds else np.zeros(0, np.int64)


def adjacent_pairs(labels: np.ndarray, label_region: np.ndarray, small: np.ndarray, top: int, left: int,
                   width: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(region above or left, region below or right, comparison key) for the 4-neighbour pixel pairs
    of different regions in `labels` (a window at row `top`, column `left` of a raster `width` wide)
    where either region is small; keys as GDAL's sieve orders its comparisons (see _SieveState)."""
    found = []
    for a, b, vertical in ((labels[:-1], labels[1:], True), (labels[:, :-1], labels[:, 1:], False)):
        rows, cols = np.nonzero((a != b) & (a > 0) & (b > 0))
        region_a, region_b = label_region[a[rows, cols]], label_region[b[rows, cols]]
        involved = small[region_a] | small[region_b]
        rows, cols = rows[involved] + top, cols[involved] + left
        key = 2 * ((rows + 1) * width + cols) if vertical else 2 * (rows * width + cols + 1) + 1
        found.append((region_a[involved], region_b[involved], key))
    return found


def first_pairs(pairs: np.ndarray, small: np.ndarray) -> np.ndarray:
    """(small region, neighbour, key) rows: those of small regions, one per pair with its first key."""
    pairs = pairs[small[pairs[:, 0]]]
    pairs = pairs[np.lexsort((pairs[:, 2], pairs[:, 1], pairs[:, 0]))]
    distinct = np.ones(len(pairs), bool)
    distinct[1:] = np.any(pairs[1:, :2] != pairs[:-1, :2], axis=1)
    return pairs[distinct]


def decide(pairs: np.ndarray, size: np.ndarray, value: np.ndarray, result: np.ndarray, is_open: np.ndarray,
           small: np.ndarray, threshold: int) -> None:
    """Fill `result` for the closed small regions whose choice no open region can change."""
    regions = len(size)
    candidate = small & ~is_open & (result == UNDECIDED)
    has_neighbour = np.zeros(regions, bool)
    has_neighbour[pairs[:, 0]] = True
    result[candidate & ~has_neighbour] = UNCHANGED
    ranked = pairs[np.lexsort((pairs[:, 2], -size[pairs[:, 1]], pairs[:, 0]))]
    leads = np.ones(len(ranked), bool)
    leads[1:] = ranked[1:, 0] != ranked[:-1, 0]
    largest = np.full(regions, -1, np.int64)
    largest[ranked[leads, 0]] = ranked[leads, 1]
    open_neighbours = np.bincount(pairs[:, 0], is_open[pairs[:, 1]], minlength=regions)
    # Open regions only grow: the choice is final when none is a neighbour, or when the only
    # open neighbour already leads.
    known = candidate & has_neighbour & ((open_neighbours == 0) |
                                         ((open_neighbours == 1) & is_open[largest]))
    into_large = known & (size[largest] >= threshold)
    result[into_large] = value[largest[into_large]]
    follows = {int(r): int(largest[r]) for r in np.flatnonzero(known & ~into_large)}
    for start in follows:
        chain, seen, current = [], set(), start
        while result[current] == UNDECIDED and current in follows and current not in seen:
            chain.append(current)
            seen.add(current)
            current = follows[current]
        if result[current] != UNDECIDED:
            result[chain] = result[current]
        elif current in seen:
            result[chain] = UNCHANGED   # the chain loops among small regions, as GDAL leaves them


class _SieveState:
    """What the streamed sieve carries from one band to the next: the regions of the last row read
    (still open), the small regions not decided yet with their pixels and neighbours, and the
    regions those neighbours are. Each pair of neighbours keeps the index of the first pixel pair
    GDAL's sieve compares them at (2 * pixel index, + 1 for the left neighbour, which it compares
    after the one above), so size ties break as in GDAL."""

    def __init__(self, width: int, threshold: int):
        self.width = width
        self.threshold = threshold
        self.next_id = 0
        self.ids = np.zeros(0, np.int64)          # sorted ids of the regions carried
        self.size = np.zeros(0, np.int64)         # their pixel counts so far (final once closed)
        self.value = np.zeros(0, np.int64)
        self.result = np.zeros(0, np.int64)       # UNDECIDED, UNCHANGED or the value taken
        self.pixels: dict[int, tuple[np.ndarray, np.ndarray]] = {}   # small regions: rows, cols
        self.pairs = np.zeros((0, 3), np.int64)   # small region id, neighbour id, first comparison
        self.last_ids = np.full(width, -1, np.int64)
        self.last_values = np.zeros(width, np.int64)

    def add_band(self, values: np.ndarray, valid: np.ndarray, top: int,
                 last: bool) -> list[tuple[np.ndarray, np.ndarray, int]]:
        """Sieve `values` (rows from `top`) in place; returns the rewrites of earlier rows' pixels."""
        labels, label_values = label_regions(values, valid)
        carried = len(self.ids)
        count = len(label_values)
        # Nodes: the carried regions, then this band's regions; joined where they continue.
        first = labels[0]
        continues = (first > 0) & (self.last_ids >= 0) & (self.last_values == values[0])
        above = np.searchsorted(self.ids, self.last_ids[continues])
        below = carried + first[continues] - 1
        nodes = carried + count
        links = sparse.coo_matrix((np.ones(len(above), np.int8), (above, below)), shape=(nodes, nodes))
        groups, node_region = connected_components(links, directed=False)
        node_ids = np.concatenate([self.ids, self.next_id + np.arange(count)])
        self.next_id += count
        _, first_node = np.unique(node_region, return_index=True)
        region_id = node_ids[first_node]   # ids grow with the node index: a carried id when there is one
        size = np.bincount(node_region, np.concatenate([self.size, np.bincount(labels.ravel(),
                                                                              minlength=count + 1)[1:]]),
                           minlength=groups).astype(np.int64)
        value = np.empty(groups, np.int64)
        value[node_region] = np.concatenate([self.value, label_values])
        result = np.full(groups, UNDECIDED, np.int64)
        result[node_region[:carried]] = self.result
        label_region = np.concatenate([[-1], node_region[carried:]])   # label -> region, nodata -> -1
        is_open = np.zeros(groups, bool)
        if not last:
            is_open[label_region[labels[-1][labels[-1] > 0]]] = True
        small = size < self.threshold
        pairs = self._pairs(labels, label_region, small, node_region, top, continues)
        decide(pairs, size, value, result, is_open, small, self.threshold)
        # Apply: this band's pixels in place, earlier rows' pixels as rewrites.
        changed = np.where((result >= 0) & (result != value), result, -1)
        rewrites = []
        for node in np.flatnonzero(changed[node_region[:carried]] >= 0):
            if int(self.ids[node]) in self.pixels:
                rows, cols = self.pixels[int(self.ids[node])]
                rewrites.append((rows, cols, int(changed[node_region[node]])))
        last_row = values[-1].astype(np.int64)   # before sieving: regions continue by their own values
        label_change = np.concatenate([[-1], changed[node_region[carried:]]])
        if (label_change >= 0).any():
            np.copyto(values, label_change.astype(values.dtype)[labels], where=(label_change >= 0)[labels])
        self._carry(labels, label_region, node_region, region_id, size, value, result, is_open, small,
                    pairs, last_row, top)
        return rewrites

    def _pairs(self, labels: np.ndarray, label_region: np.ndarray, small: np.ndarray,
               node_region: np.ndarray, top: int, continues: np.ndarray) -> np.ndarray:
        """(small region, neighbour, first comparison) for every small region: carried and new ones."""
        found = [np.column_stack([node_region[np.searchsorted(self.ids, self.pairs[:, 0])],
                                  node_region[np.searchsorted(self.ids, self.pairs[:, 1])], self.pairs[:, 2]])]
        width = self.width
        first = labels[0]
        across = np.flatnonzero((first > 0) & (self.last_ids >= 0) & ~continues)
        sides = [(node_region[np.searchsorted(self.ids, self.last_ids[across])], label_region[first[across]],
                  2 * (top * width + across))]
        sides.extend(adjacent_pairs(labels, label_region, small, top, 0, width))
        for a, b, key in sides:
            found.append(np.column_stack([a, b, key])[small[a]])
            found.append(np.column_stack([b, a, key])[small[b]])
        return first_pairs(np.concatenate(found), small)

    def _carry(self, labels: np.ndarray, label_region: np.ndarray, node_region: np.ndarray,
               region_id: np.ndarray, size: np.ndarray, value: np.ndarray, result: np.ndarray,
               is_open: np.ndarray, small: np.ndarray, pairs: np.ndarray, last_row: np.ndarray,
               top: int) -> None:
        """Keep the open regions, the small ones still waiting, and the neighbours those depend on."""
        waiting = small & (result == UNDECIDED)
        pairs = pairs[waiting[pairs[:, 0]]]
        keep = is_open | waiting
        keep[pairs[:, 1]] = True
        carried = len(self.ids)
        pixels: dict[int, list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)
        for node in np.flatnonzero(waiting[node_region[:carried]]):
            old = int(self.ids[node])
            if old in self.pixels:
                pixels[int(region_id[node_region[node]])].append(self.pixels[old])
        rows, cols = np.nonzero(np.concatenate([[False], waiting[label_region[1:]]])[labels])
        if len(rows):
            owner = region_id[label_region[labels[rows, cols]]]
            order = np.argsort(owner, kind="stable")
            owner, rows, cols = owner[order], rows[order] + top, cols[order]
            starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
            for start, end in zip(starts, np.r_[starts[1:], len(owner)]):
                pixels[int(owner[start])].append((rows[start:end], cols[start:end]))
        self.pixels = {region: tuple(np.concatenate(parts) for parts in zip(*found))
                       for region, found in pixels.items()}
        kept = np.flatnonzero(keep)
        order = np.argsort(region_id[kept])
        kept = kept[order]
        self.ids, self.size, self.value, self.result = region_id[kept], size[kept], value[kept], result[kept]
        self.pairs = np.column_stack([region_id[pairs[:, 0]], region_id[pairs[:, 1]], pairs[:, 2]])
        self.last_ids = np.concatenate([[-1], region_id[label_region[1:]]])[labels[-1]]
        self.last_values = last_row
