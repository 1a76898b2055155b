"""The vectoriser's pipeline as a whole: cancelling, and memory that does not grow with the raster.
The passes' own tests are in tests/test_vectorize_<module>.py."""
import tracemalloc

import numpy as np
import pytest

from landcover_qgis_plugin.core.errors import Cancelled
from landcover_qgis_plugin.core.modelfile import LANDCOVER_AI_CLASSES
from landcover_qgis_plugin.core.vectorize import vectorize
from vectorize_support import band_rows, blobs, write_classes


def test_cancel_leaves_no_file(tmp_path):
    raster = write_classes(tmp_path / "classes.tif", blobs(200, 200))
    with pytest.raises(Cancelled):
        vectorize(raster, tmp_path / "out.gpkg", LANDCOVER_AI_CLASSES, is_cancelled=lambda: True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["classes.tif"]


def test_streaming_memory_does_not_grow_with_the_raster_height(tmp_path):
    """Sieving and tracing hold one band and what crosses its cut (Python-side, numpy included)."""
    tile = blobs(100, 120, seed=3)
    limits = band_rows(40, 120)
    peaks = []
    for repeat in (2, 16):
        raster = write_classes(tmp_path / f"classes_{repeat}.tif", np.tile(tile, (repeat, 1)))
        seen = {}
        tracemalloc.start()
        try:
            result = vectorize(raster, tmp_path / f"out_{repeat}.gpkg", LANDCOVER_AI_CLASSES,
                               progress=lambda percent, message: seen.setdefault(
                                   message, tracemalloc.get_traced_memory()[1]), limits=limits)
        finally:
            tracemalloc.stop()
        peaks.append(seen["Writing polygons"])   # peak through sieving and tracing
    assert sum(result.polygons.values()) > 1000
    assert peaks[1] < 1.3 * peaks[0]
