"""The scene shared by the plugin, dialog and Processing tests, and helpers to run QGIS's tasks and
qgis_process (their fixtures are in conftest.py).

The tiny real colour model (a 1x1 convolution labelling each pixel with the nearest
palette colour) and a real GeoTIFF with one painted rectangle per class, so every expected
polygon, area and colour is known exactly.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import site
import subprocess
from dataclasses import dataclass
from pathlib import Path

from osgeo import gdal
from qgis.core import QgsApplication, QgsTask
from qgis.PyQt.QtCore import QCoreApplication, QEventLoop, QTimer
from qgis.PyQt.QtGui import QTextDocument

from landcover_qgis_plugin.core.geotiff import write_geotiff
from landcover_qgis_plugin.core.modelfile import save_model
from testkit import SHARED_DATA, colour_model, colour_onnx, paint
from landcover_qgis_plugin.paths import DEFAULT_MODEL_PATH

REPO = Path(__file__).resolve().parents[1]
RESOLUTION_M = 0.5
ORIGIN = (2_600_000.0, 1_200_096.0)  # upper-left corner, EPSG:2056 (LV95)
WIDTH, HEIGHT = 256, 192
# (column, row, width, height) in pixels; the road crosses the whole raster, touching both borders.
RECTANGLES = {
    "building": (20, 20, 40, 30),
    "woodland": (120, 10, 100, 80),
    "water": (30, 110, 80, 60),
    "road": (0, 96, 256, 8),
}
EXPECTED_HA = {name: w * h * RESOLUTION_M ** 2 / 10_000 for name, (_, _, w, h) in RECTANGLES.items()}
QGIS_PROCESS = shutil.which("qgis_process.bin") or "/usr/bin/qgis_process.bin"
SWISSIMAGE = SHARED_DATA / "swissimage_1091-322_00.tif"


@dataclass(frozen=True)
class Scene:
    raster: Path
    model: Path
    onnx_model: Path   # the same colour model for ONNX Runtime, with the same metadata


def rectangle_bounds(name: str) -> tuple[float, float, float, float]:
    """xmin, ymin, xmax, ymax of a class rectangle in EPSG:2056."""
    col, row, w, h = RECTANGLES[name]
    x0, y0 = ORIGIN
    return (x0 + col * RESOLUTION_M, y0 - (row + h) * RESOLUTION_M, x0 + (col + w) * RESOLUTION_M,
            y0 - row * RESOLUTION_M)


def write_scene_raster(path: Path) -> Path:
    shapes = [(name, row, row + h, col, col + w) for name, (col, row, w, h) in RECTANGLES.items()]
    return write_geotiff(path, paint(HEIGHT, WIDTH, shapes), ORIGIN, RESOLUTION_M, crs=2056,
                         colour_interpretation=(gdal.GCI_RedBand, gdal.GCI_GreenBand, gdal.GCI_BlueBand))




def make_scene(folder: Path) -> Scene:
    """The painted raster and the colour model that labels it exactly, scored so the dialog shows scores."""
    model, metadata = colour_model(input_size=64, resolution_cm=50.0)
    metadata = dataclasses.replace(metadata, scores={"test_miou": 0.5}, training_data="none: weights set by hand")
    onnx_model = colour_onnx(folder / "colours.onnx", {"landcover_metadata": metadata.to_dict()})
    return Scene(write_scene_raster(folder / "scene.tif"), save_model(model, metadata, folder / "colours.keras"),
                 onnx_model)


def real_data_model(scene: Scene) -> Path:
    """The bundled default model once `make default-model` made it, else the colour model."""
    return DEFAULT_MODEL_PATH if DEFAULT_MODEL_PATH.is_file() else scene.model


def swissimage_grid(model: Path) -> tuple[int, int]:
    """The 875 x 600 px, 0.5 m SWISSIMAGE tile on the model's grid (outputs are at its resolution)."""
    from landcover_qgis_plugin.core.modelfile import read_metadata

    factor = 0.5 / read_metadata(model).resolution_m
    return round(875 * factor), round(600 * factor)




def plain_text(rich: str) -> str:
    """Rich text as the widget showing it renders it, in plain text."""
    document = QTextDocument()
    document.setHtml(rich)
    return document.toPlainText()


def bar_texts(bar, level) -> list[str]:
    """The plain text of a message bar's items of one level (those pushed as widgets too)."""
    return [plain_text(item.text()) for item in bar.items() if item.level() == level]


def open_details(item) -> str:
    """Click a message bar item's Details… button: the plain text of the box it opens (closed again)."""
    from qgis.PyQt.QtWidgets import QApplication, QMessageBox, QPushButton

    item.findChild(QPushButton, "landcoverDetails").click()
    [box] = [widget for widget in QApplication.topLevelWidgets()
             if isinstance(widget, QMessageBox) and widget.objectName() == "landcoverDetailsBox" and widget.isVisible()]
    text = plain_text(box.text())
    box.close()
    return text


class TaskWatch:
    """Hears a task's end from the moment it is made: a task cancelled while still queued ends at once,
    before anyone could start waiting for it."""

    def __init__(self, task: QgsTask):
        self.description = task.description()
        self.done: list[bool] = []
        task.taskCompleted.connect(lambda: self.done.append(True))
        task.taskTerminated.connect(lambda: self.done.append(False))

    def wait(self, timeout_s: float = 120.0) -> None:
        """Spin the event loop until the task manager has finished the task (finished() included)."""
        loop = QEventLoop()
        timer = QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(loop.quit)
        timer.start(int(timeout_s * 1000))
        while not self.done and timer.isActive():
            loop.processEvents(QEventLoop.AllEvents, 50)
        assert self.done, f"task '{self.description}' did not finish within {timeout_s} s"
        for _ in range(5):  # let queued deletions and layer-tree signals run
            QCoreApplication.processEvents()
        assert QgsApplication.taskManager().countActiveTasks() == 0


def wait_for_task(task: QgsTask, timeout_s: float = 120.0) -> None:
    """Spin the event loop until the task manager has finished the task (finished() included)."""
    TaskWatch(task).wait(timeout_s)


def qgis_process_env(config_dir: Path, plugin_path: Path | None = REPO) -> dict[str, str]:
    """Headless qgis_process on a private profile, seeing the venv's TensorFlow (QGIS runs Debian's Python)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QGIS_CUSTOM_CONFIG_PATH=str(config_dir),
               PYTHONPATH=os.pathsep.join(site.getsitepackages()), TF_CPP_MIN_LOG_LEVEL="2")
    if plugin_path is not None:
        env["QGIS_PLUGINPATH"] = str(plugin_path)
    else:
        env.pop("QGIS_PLUGINPATH", None)
    return env


def run_qgis_process(args: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([QGIS_PROCESS, *args], env=env, capture_output=True, text=True, timeout=timeout)
