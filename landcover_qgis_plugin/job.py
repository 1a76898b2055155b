"""The dialog's run: `landcover:segment` as a Processing task, the same code the toolbox runs.

`QgsProcessingAlgRunnerTask` prepares the algorithm on the main thread when it is created (so a
bad choice is reported before anything starts), runs it on a worker thread with per-tile progress
and cancel in the task manager, and post-processes it on the main thread, where the algorithm adds
the styled layer group. This module only reports: the stage in the task's description, the
summary in the message bar, failures in the message bar and the log.
"""
from __future__ import annotations

from typing import Any

from qgis.core import (Qgis, QgsApplication, QgsProcessingAlgRunnerTask, QgsProcessingContext,
                       QgsProcessingFeedback, QgsProject)
from qgis.gui import QgsMessageBar
from qgis.PyQt.QtCore import pyqtSignal

from .i18n import tr
from .notify import log, push
from .summary import RunSummary

ALGORITHM_ID = "landcover:segment"


def headline(error: str) -> str:
    """An error in one line for a message bar: the user's as it is, a bug by its last traceback line."""
    lines = [line.strip() for line in error.splitlines() if line.strip()]
    if lines[0].startswith("Traceback"):
        return tr("Unexpected error ({error}): this is a bug; the traceback is in the log (Land cover "
                  "tab).").format(error=lines[-1])
    return lines[0]


class JobFeedback(QgsProcessingFeedback):
    """Keeps the algorithm's errors and passes its stage on to the main thread."""
    stageChanged = pyqtSignal(str)

    def __init__(self):
        super().__init__()
        self.errors: list[str] = []

    def setProgressText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        super().setProgressText(text)
        self.stageChanged.emit(text)

    def reportError(self, error: str, fatalError: bool = False) -> None:  # noqa: N802, N803
        super().reportError(error, fatalError)
        self.errors.append(error)


class SegmentationJob:
    """One run of the algorithm with the dialog's parameters, reported in the message bar."""

    def __init__(self, parameters: dict[str, Any], input_name: str, project: QgsProject,
                 message_bar: QgsMessageBar):
        self.input_name = input_name
        self.message_bar = message_bar
        self.results: dict[str, Any] = {}
        self.stage = ""
        self.context = QgsProcessingContext()  # the task keeps a reference: it lives as long as the job
        self.context.setProject(project)
        self.feedback = JobFeedback()
        algorithm = QgsApplication.processingRegistry().algorithmById(ALGORITHM_ID)
        if algorithm is None:
            raise RuntimeError(f"The Processing algorithm {ALGORITHM_ID} is not registered.")
        self.task = QgsProcessingAlgRunnerTask(algorithm, parameters, self.context, self.feedback)
        self.description = tr("Land cover segmentation of {name}").format(name=input_name)
        self.task.setDescription(self.description)
        self.feedback.stageChanged.connect(self._stage)
        self.task.executed.connect(self._executed)

    @property
    def error(self) -> str | None:
        """Why the algorithm refused or failed, as it told the feedback (a bug's traceback included)."""
        return "\n".join(self.feedback.errors) or None

    @property
    def headline(self) -> str:
        """Why it failed, in one line for a message bar."""
        return headline(self.error or tr("The segmentation failed."))

    @property
    def prepared(self) -> bool:
        """False when the algorithm refused the parameters already while the task was created."""
        return not self.task.isCanceled()

    def start(self) -> None:
        """Hand the task to the task manager, which deletes it once it has finished."""
        QgsApplication.taskManager().addTask(self.task)

    def _stage(self, text: str) -> None:
        self.stage = text
        self.task.setDescription(f"{self.description}: {text}")

    def _executed(self, ok: bool, results: dict) -> None:
        """Main thread, after the algorithm's own post-processing added the layers."""
        title = tr("Land cover")
        if ok:
            self.results = dict(results)
            summary = RunSummary.of_outputs(self.input_name, results)
            push(self.message_bar, Qgis.MessageLevel.Success, title, summary.headline(), duration=0,
                 details=summary.text())   # stays until closed
            log(summary.text(), Qgis.MessageLevel.Success)
        elif self.feedback.isCanceled():
            push(self.message_bar, Qgis.MessageLevel.Info, title, tr("Cancelled; nothing was written."))   # the log
            # has the algorithm's own line
        else:
            push(self.message_bar, Qgis.MessageLevel.Critical, title, self.headline,
                 details=self.error or self.headline)
            log(f"{self.input_name}: {self.error or self.headline}", Qgis.MessageLevel.Critical)
