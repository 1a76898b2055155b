"""'Get a LandCover.ai model…': the reference work's published DeepLabv3+ weights, downloaded on the
user's request and converted (core/reference.py) into a model file in the QGIS profile.

The dialog explains first what is fetched, under which licence, and where the file goes; the
download and conversion then run as a `ReferenceModelTask` in the task manager (progress, cancel)
and report on the main thread. The model file is written atomically, so a cancel or a failure never
leaves half of one. The cache folder (the downloaded zip, the unpacked checkpoint) is kept only after
a failure, so that trying again resumes the download; after success or a cancel it is removed.
"""
from __future__ import annotations

import contextlib
import html
import shutil
import traceback
from pathlib import Path
from typing import Optional

from qgis.core import QgsApplication, QgsTask
from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtWidgets import QFileDialog, QMessageBox, QWidget

from .core.download import Wording, download
from .core.errors import Cancelled, LandcoverError
from .core.modelfile import MODEL_SUFFIX, ModelMetadata
from .core.reference import (DEFAULT_REVISION, REFERENCE_5_10_MIOU, REFERENCE_MODEL, import_reference,
                             reference_url)
from .i18n import tr

DOWNLOAD_SHARE = 90.0   # percent of the task's progress for the download; the conversion takes the rest


def profile_folder() -> Path:
    """Where the plugin keeps what it fetches: a folder of the active QGIS profile."""
    return Path(QgsApplication.qgisSettingsDirPath()) / "landcover"


def reference_model_path() -> Path:
    return profile_folder() / "models" / f"{DEFAULT_REVISION}{MODEL_SUFFIX}"


def downloads_folder() -> Path:
    return profile_folder() / "downloads"


def choose_zip_label() -> str:
    return tr("Choose a downloaded zip…")


def explanation_html(target: Path) -> str:
    """What the button fetches, its licence and where the model file goes, before anything starts."""
    url = html.escape(reference_url(DEFAULT_REVISION))
    return "".join(f"<p>{paragraph}</p>" for paragraph in (
        tr("This downloads the DeepLabv3+ weights the reference work published for LandCover.ai (revision "
           "{revision}, test mIoU {miou}) from {url} and converts them into a model file for this plugin.").format(
            revision=DEFAULT_REVISION, miou=f"{REFERENCE_5_10_MIOU:.3f}", url=url),
        # The size is not published; the zip holds two checkpoints (best_miou, best_loss) of 41 million
        # weights with the optimizer's two slots each: 2 x 3 x 165 MB before compression.
        tr("The download is large, about 1 GB by our estimate (its size is not published), and needs about 2 GB "
           "of free space while it runs; the conversion takes a few minutes. Progress and cancel are in the "
           "task manager."),
        "<b>" + tr("Licence: CC BY-NC-SA 4.0 (attribution, share-alike), for non-commercial use only. The weights "
                   "are not part of the plugin: they are downloaded now, on your request.") + "</b>",
        tr("The model file is written to {path}; a file already there is replaced. If you downloaded the zip "
           "elsewhere, use '{choose}'.").format(path=html.escape(str(target)), choose=choose_zip_label()),
    ))


def ask_source(parent: QWidget, target: Path) -> Optional[str]:
    """Explain, then ask: the published URL (download), a zip on disk, or None (not now)."""
    box = QMessageBox(QMessageBox.Icon.Information, tr("Get a LandCover.ai model"), explanation_html(target),
                      QMessageBox.StandardButton.Cancel, parent)
    download_button = box.addButton(tr("Download and convert"), QMessageBox.ButtonRole.AcceptRole)
    zip_button = box.addButton(choose_zip_label(), QMessageBox.ButtonRole.ActionRole)
    box.setDefaultButton(download_button)
    box.exec()
    if box.clickedButton() is download_button:
        return reference_url(DEFAULT_REVISION)
    if box.clickedButton() is zip_button:
        path, _ = QFileDialog.getOpenFileName(parent, tr("The reference's weights zip"), str(Path.home()),
                                              tr("Zip archives (*.zip)"))
        return path or None
    return None


class ReferenceModelTask(QgsTask):
    """Download (unless `source` is a zip on disk) and convert on a worker thread; `done` tells the main
    thread how it ended: `error` holds a message the user can act on, or a bug's traceback."""
    done = pyqtSignal(bool)

    def __init__(self, source: str, target: Path, cache_dir: Path):
        super().__init__(tr("Get a LandCover.ai model"), QgsTask.Flag.CanCancel)
        self.source, self.target, self.cache_dir = source, target, cache_dir
        self.metadata: Optional[ModelMetadata] = None
        self.error: Optional[str] = None
        self.wording = Wording(by_hand=tr("choose it with '{choose}' under 'Get a LandCover.ai model…'").format(
            choose=choose_zip_label()), again=tr("try again"))

    def _fetch(self, url: str, destination: Path) -> Path:
        archive = download(url, destination, what=tr("the weights archive"), wording=self.wording,
                           progress=self._progress, is_cancelled=self.isCanceled)
        self.setProgress(DOWNLOAD_SHARE)
        return archive

    def _progress(self, done: int, total: Optional[int]) -> None:
        if total:
            self.setProgress(DOWNLOAD_SHARE * done / total)

    def run(self) -> bool:  # a worker thread
        with contextlib.suppress(OSError):   # if it cannot be created, the conversion names it (OutputError)
            self.target.parent.mkdir(parents=True, exist_ok=True)
        try:
            _, _, self.metadata = import_reference(self.target, self._fetch, self.cache_dir, self.source,
                                                   overwrite=True, model=REFERENCE_MODEL,
                                                   is_cancelled=self.isCanceled)
        except Cancelled:
            shutil.rmtree(self.cache_dir, ignore_errors=True)
            return False
        except LandcoverError as error:
            self.error = str(error)
            return False
        except Exception:  # a bug: its traceback goes to the log
            self.error = traceback.format_exc()
            return False
        shutil.rmtree(self.cache_dir, ignore_errors=True)
        return True

    def finished(self, result: bool) -> None:  # the main thread
        self.done.emit(result)
