"""The vectoriser's pipeline as a whole: cancelling, and memory that does not grow with the raster.
The passes' own tests are in tests/test_vectorize_<module>.py."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from landcover_qgis_plugin.core.errors import Cancelled
from landcover_qgis_plugin.core.modelfile import LANDCOVER_AI_CLASSES
from landcover_qgis_plugin.core.vectorize import vectorize
from vectorize_support import blobs, write_classes


def test_cancel_leaves_no_file(tmp_path):
    raster = write_classes(tmp_path / "classes.tif", blobs(200, 200))
    with pytest.raises(Cancelled):
        vectorize(raster, tmp_path / "out.gpkg", LANDCOVER_AI_CLASSES, is_cancelled=lambda: True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["classes.tif"]


MEASURE = """
import json, sys, tracemalloc
import numpy as np
from landcover_qgis_plugin.core.modelfile import LANDCOVER_AI_CLASSES
from landcover_qgis_plugin.core.vectorize import vectorize
from vectorize_support import band_rows, blobs, write_classes

folder = sys.argv[1]
tile = blobs(100, 120, seed=3)
limits = band_rows(40, 120)
peaks, polygons = [], 0
for repeat in (2, 16):
    raster = write_classes(f"{folder}/classes_{repeat}.tif", np.tile(tile, (repeat, 1)))
    seen = {}
    tracemalloc.start()
    result = vectorize(raster, f"{folder}/out_{repeat}.gpkg", LANDCOVER_AI_CLASSES, limits=limits,
                       progress=lambda percent, message: seen.setdefault(message, tracemalloc.get_traced_memory()[1]))
    tracemalloc.stop()
    peaks.append(seen["Writing polygons"])   # peak through sieving and tracing
    polygons = sum(result.polygons.values())
print(json.dumps({"peaks": peaks, "polygons": polygons}))
"""


def test_streaming_memory_does_not_grow_with_the_raster_height(tmp_path):
    """Sieving and tracing hold one band and what crosses its cut (Python-side, numpy included).
    Measured in a fresh interpreter: tracemalloc counts every thread's allocations, and threads that
    earlier tests leave behind (Dask's, Qt's) would be counted too."""
    done = subprocess.run([sys.executable, "-c", MEASURE, str(tmp_path)], capture_output=True, text=True,
                          cwd=Path(__file__).parent, timeout=300,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1]),
                                                                            str(Path(__file__).parent)])})
    assert done.returncode == 0, done.stderr[-3000:]
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    peaks = measured["peaks"]
    assert measured["polygons"] > 1000
    assert peaks[1] < 1.3 * peaks[0]
