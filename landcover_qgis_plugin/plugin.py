"""The plugin object QGIS loads: a toolbar button and Raster menu entry, and the Processing provider.

Loading stays light and silent: nothing heavy is imported, no modal dialog appears; a missing
TensorFlow is reported once in the message bar with the exact command that installs it.
"""
from __future__ import annotations

from qgis.core import Qgis, QgsApplication
from qgis.gui import QgisInterface
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction

from .dependencies import missing_runtime_message
from .i18n import install_translator, tr
from .notify import push
from .paths import ICON_PATH
from .provider import LandCoverProvider


class LandCoverPlugin:
    def __init__(self, iface: QgisInterface | None):
        self.iface = iface
        self.translator = install_translator()
        self.provider: LandCoverProvider | None = None
        self.action: QAction | None = None
        self.toolbar = None
        self.dialog = None  # created on first use
        self.job = None  # the running job: keeps its task, context and feedback alive

    def initProcessing(self) -> None:  # noqa: N802 (called by qgis_process and by initGui)
        self.provider = LandCoverProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:  # noqa: N802
        self.initProcessing()
        self.action = QAction(QIcon(str(ICON_PATH)), tr("Segment land cover…"), self.iface.mainWindow())
        self.action.setObjectName("landcoverSegmentAction")
        self.action.setToolTip(tr("Classify an orthophoto into buildings, woodland, water and roads"))
        self.action.triggered.connect(self.show_dialog)
        self.toolbar = self.iface.addToolBar(tr("Land cover"))
        self.toolbar.setObjectName("landcoverToolbar")
        self.toolbar.addAction(self.action)
        self.iface.addPluginToRasterMenu(tr("Land cover"), self.action)
        missing = missing_runtime_message()
        if missing:
            push(self.iface.messageBar(), Qgis.MessageLevel.Warning, tr("Land cover"), missing)

    def unload(self) -> None:
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        if self.action is not None:
            self.iface.removePluginRasterMenu(tr("Land cover"), self.action)
            self.toolbar.removeAction(self.action)
            self.toolbar.deleteLater()
            self.action.deleteLater()
            self.action = self.toolbar = None
        if self.dialog is not None:
            task = self.dialog.reference_task
            if task is not None:   # a download the plugin can no longer report
                task.done.disconnect()
                task.cancel()
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None
        if self.translator is not None:
            QgsApplication.removeTranslator(self.translator)
            self.translator = None

    def show_dialog(self) -> None:
        if self.dialog is None:
            try:
                from .dialog import SegmentationDialog  # the engine, and with it shapely, loads here
            except ImportError:
                push(self.iface.messageBar(), Qgis.MessageLevel.Warning, tr("Land cover"),
                     missing_runtime_message() or tr("The plugin is incomplete; reinstall it."))
                return
            self.dialog = SegmentationDialog(self.iface, self.iface.mainWindow())
            self.dialog.accepted.connect(self.start_job)
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()

    def start_job(self) -> None:
        """Queue the dialog's job in QGIS's task manager (progress and cancel live there)."""
        self.job = self.dialog.job
        self.job.start()
