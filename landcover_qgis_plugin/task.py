"""The dialog's job as a QgsTask: the engine runs on a worker thread, layers are added on the main thread.

The worker only ever sees plain paths and options resolved on the main thread (the raster's source
path, never the layer object), so it cannot race the canvas for the layer's data provider.
"""
from __future__ import annotations

import shutil
import traceback
from dataclasses import dataclass, field
from typing import Any

from qgis.core import Qgis, QgsMessageLog, QgsProject, QgsTask
from qgis.gui import QgsMessageBar

from .core.modelfile import read_metadata
from .dependencies import load_hdf5_bindings, missing_runtime_message
from .i18n import tr
from .results import add_result_layers, summary_text

LOG_TAG = "Land cover"


@dataclass(frozen=True)
class SegmentationRequest:
    """One job, resolved on the main thread. `options` are SegmentationOptions fields."""
    input_path: str
    input_name: str
    model_path: str
    vector_path: str
    raster_path: str
    options: dict[str, Any] = field(default_factory=dict)
    temporary_dir: str | None = None  # removed again when the job fails or is cancelled


class SegmentationTask(QgsTask):
    def __init__(self, request: SegmentationRequest, project: QgsProject, message_bar: QgsMessageBar):
        super().__init__(tr("Land cover segmentation of {name}").format(name=request.input_name),
                         QgsTask.CanCancel)
        self.request = request
        self.project = project
        self.message_bar = message_bar
        self.classes = read_metadata(request.model_path).classes
        self.result = None
        self.error: str | None = None
        self.details = ""

    def run(self) -> bool:
        """Worker thread: no project, layer or widget is touched here."""
        try:
            load_hdf5_bindings()
            from .core.engine import SegmentationCancelled, SegmentationOptions, segment
        except ImportError as error:
            self.error = missing_runtime_message() or tr("The inference engine could not be loaded: {error}").format(
                error=error)
            self.details = traceback.format_exc()
            return False
        try:
            self.result = segment(self.request.input_path, self.request.model_path,
                                  vector_path=self.request.vector_path, raster_path=self.request.raster_path,
                                  options=SegmentationOptions(**self.request.options),
                                  progress=lambda percent, _message: self.setProgress(percent),
                                  is_cancelled=self.isCanceled)
        except SegmentationCancelled:
            return False
        except Exception as error:  # the engine's errors are meant for the analyst
            self.error = str(error) or type(error).__name__
            self.details = traceback.format_exc()
            return False
        return True

    def finished(self, ok: bool) -> None:
        """Main thread: add the layers or report why not."""
        title = tr("Land cover")
        if ok:
            try:
                add_result_layers(self.project, tr("Land cover — {name}").format(name=self.request.input_name),
                                  self.classes, self.result.vector_path, self.result.layers,
                                  self.result.raster_path)
            except RuntimeError as error:
                ok, self.error = False, str(error)
        if ok:
            summary = summary_text(self.result.area_ha, self.result.device, self.result.seconds)
            self.message_bar.pushSuccess(title, summary)
            QgsMessageLog.logMessage(f"{self.request.input_name}: {summary}", LOG_TAG, Qgis.Success)
            return
        self._remove_temporary_dir()
        if self.isCanceled():
            self.message_bar.pushInfo(title, tr("Cancelled; nothing was written."))
            QgsMessageLog.logMessage(tr("{name}: cancelled").format(name=self.request.input_name), LOG_TAG,
                                     Qgis.Info)
            return
        self.message_bar.pushCritical(title, self.error or tr("The segmentation failed."))
        QgsMessageLog.logMessage(f"{self.request.input_name}: {self.error}\n{self.details}", LOG_TAG, Qgis.Critical)

    def _remove_temporary_dir(self) -> None:
        if self.request.temporary_dir:
            shutil.rmtree(self.request.temporary_dir, ignore_errors=True)
