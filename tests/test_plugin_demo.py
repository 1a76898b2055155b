"""`make demo` (tools/demo.py): qgis_process on an orthophoto, areas printed, GeoPackage and preview PNG."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from qgis.core import QgsVectorLayer
from qgis.PyQt.QtGui import QColor, QImage

from conftest import REPO
from landcover_qgis_plugin.core.modelfile import LANDCOVER_AI_CLASSES
from testkit import PALETTE
from landcover_qgis_plugin.core.vectorize import layer_name
from plugin_support import EXPECTED_HA, HEIGHT, RECTANGLES, WIDTH


def test_demo_prints_areas_and_leaves_geopackage_raster_and_preview(scene, tmp_path):
    out = tmp_path / "demo"
    completed = subprocess.run(
        [sys.executable, str(REPO / "tools" / "demo.py"), "--input", str(scene.raster), "--model", str(scene.model),
         "--out-dir", str(out)], capture_output=True, text=True, timeout=300,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    rows = [line.split() for line in completed.stdout.splitlines()]
    raster_ha = {row[0]: float(row[1]) for row in rows if len(row) == 3 and row[0] in EXPECTED_HA}
    polygon_ha = {row[0]: float(row[2]) for row in rows if len(row) == 3 and row[0] in EXPECTED_HA}
    assert raster_ha == pytest.approx(EXPECTED_HA, abs=0.005) and polygon_ha == pytest.approx(EXPECTED_HA, abs=0.005)
    [background] = [row for row in rows if row[:1] == ["background"]]
    assert background[2] == "-"  # not vectorised

    gpkg = out / "landcover.gpkg"
    for name, hectares in EXPECTED_HA.items():
        layer = QgsVectorLayer(f"{gpkg}|layername={layer_name(name)}", name, "ogr")
        assert sum(f.geometry().area() for f in layer.getFeatures()) == pytest.approx(hectares * 10_000, rel=0.01)
    assert (out / "landcover_classes.tif").is_file()

    image = QImage(str(out / "preview.png"))
    assert image.width() == 1400 and image.height() == round(1400 * HEIGHT / WIDTH)
    scale = image.width() / WIDTH
    colors = {info.name: QColor(info.color) for info in LANDCOVER_AI_CLASSES}
    for name, (col, row, w, h) in RECTANGLES.items():
        pixel = image.pixelColor(int((col + w / 2) * scale), int((row + h / 2) * scale))
        painted = QColor(*PALETTE[name])
        # The class fill is drawn translucently over the orthophoto: the result lies between the two.
        for channel in ("red", "green", "blue"):
            low, high = sorted((getattr(painted, channel)(), getattr(colors[name], channel)()))
            assert low - 2 <= getattr(pixel, channel)() <= high + 2, (name, channel)
        assert pixel != painted
    background = image.pixelColor(int(240 * scale), int(180 * scale))
    assert background == QColor(*PALETTE["background"])  # no polygon outside the painted shapes
