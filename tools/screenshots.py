"""Screenshots of the dialog and the run summary in a real QGIS, for the README and review notes.

    xvfb-run -s "-screen 0 1366x768x24" .venv/bin/python tools/screenshots.py --out docs/screenshots

Opens the plugin's dialog on the bundled sample (the bundled model), in a main window of 1366 x 768
with a real map canvas and message bar: the dialog as it opens, with Advanced open and a long warning,
then a run of the sample and its summary in the message bar with the Details… box. Needs a display
(Xvfb); QGIS's own widgets, not stand-ins.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

    from qgis.core import Qgis, QgsApplication, QgsProject, QgsRasterLayer
    app = QgsApplication([], True)
    app.initQgis()
    sys.path.insert(0, "/usr/share/qgis/python/plugins")
    from processing.core.Processing import Processing
    Processing.initialize()
    from qgis.gui import QgsMapCanvas, QgsMessageBar
    from qgis.PyQt.QtWidgets import QApplication, QMainWindow, QMessageBox, QPushButton, QVBoxLayout, QWidget

    from landcover_qgis_plugin.plugin import LandCoverPlugin
    from plugin_support import TaskWatch

    window = QMainWindow()
    centre = QWidget(window)
    layout = QVBoxLayout(centre)
    bar, canvas = QgsMessageBar(centre), QgsMapCanvas(centre)
    layout.addWidget(bar)
    layout.addWidget(canvas, 1)
    window.setCentralWidget(centre)
    window.resize(1366, 768)
    window.show()
    iface = _Interface(window, bar, canvas)
    sample = QgsRasterLayer(str(REPO / "resources" / "sample" / "sample_orthophoto.tif"), "sample orthophoto")
    QgsProject.instance().addMapLayer(sample)
    canvas.setLayers([sample])
    canvas.setExtent(sample.extent())
    iface.setActiveLayer(sample)
    plugin = LandCoverPlugin(iface)
    plugin.initGui()
    plugin.action.trigger()
    dialog = plugin.dialog

    def settle() -> None:
        for _ in range(20):
            QApplication.processEvents()

    settle()
    dialog.grab().save(str(args.out / "dialog.png"))
    dialog.advanced_box.setCollapsed(False)
    dialog._tell(Qgis.MessageLevel.Warning, "Check the settings", "; ".join(
        f"/home/analyst/projects/zurich/landcover_{n}.gpkg already exists" for n in range(6))
        + "; tick 'Overwrite existing files' or choose another name.")
    settle()
    dialog.grab().save(str(args.out / "dialog_advanced_warning.png"))
    dialog.notice.clear()
    dialog.advanced_box.setCollapsed(True)
    dialog.accept()   # the plugin starts the job (accepted -> start_job)
    TaskWatch(plugin.job.task).wait(600)
    settle()
    bar.grab().save(str(args.out / "summary_in_message_bar.png"))
    [item] = [item for item in bar.items() if item.level() == Qgis.MessageLevel.Success]
    item.findChild(QPushButton, "landcoverDetails").click()
    settle()
    [box] = [widget for widget in QApplication.topLevelWidgets()
             if isinstance(widget, QMessageBox) and widget.isVisible()]
    box.grab().save(str(args.out / "summary_details.png"))
    print("\n".join(str(path) for path in sorted(args.out.glob("*.png"))))
    box.close()
    plugin.unload()
    sys.stdout.flush()
    os._exit(0)   # QGIS's teardown of a script's datasets and tasks may crash; the screenshots are saved


class _Interface:
    """The part of QGIS's interface the plugin uses, on a real main window, message bar and canvas."""

    def __init__(self, window, bar, canvas):
        self._window, self._bar, self._canvas, self._active = window, bar, canvas, None

    def mainWindow(self):  # noqa: N802 (QGIS's names)
        return self._window

    def messageBar(self):  # noqa: N802
        return self._bar

    def mapCanvas(self):  # noqa: N802
        return self._canvas

    def activeLayer(self):  # noqa: N802
        return self._active

    def setActiveLayer(self, layer) -> None:  # noqa: N802
        self._active = layer

    def addToolBar(self, name: str):  # noqa: N802
        return self._window.addToolBar(name)

    def addPluginToRasterMenu(self, name: str, action) -> None:  # noqa: N802
        pass

    def removePluginRasterMenu(self, name: str, action) -> None:  # noqa: N802
        pass


if __name__ == "__main__":
    sys.exit(main())
