"""The dialog behind the toolbar button: what to segment, with which model, into which file.

It gathers choices on the main thread and turns them into the parameters of `landcover:segment`;
the algorithm itself resolves and checks them when the job is created, and a refusal keeps the
dialog open with the reason. Every option of the engine has a widget here (derived from its
declaration), and choices are remembered in QgsSettings between runs. Beside the model field,
"Get a LandCover.ai model…" fetches and converts the reference's published weights (get_model.py).
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from qgis.core import (Qgis, QgsApplication, QgsCoordinateTransform, QgsMapLayerProxyModel,
                       QgsProcessing, QgsProcessingFeatureSourceDefinition, QgsProcessingOutputLayerDefinition,
                       QgsProject, QgsRasterLayer, QgsRectangle, QgsReferencedRectangle, QgsSettings, QgsVectorLayer)
from qgis.gui import QgisInterface, QgsCollapsibleGroupBox, QgsFileWidget, QgsMapLayerComboBox, QgsRasterBandComboBox
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QColor, QIcon, QPixmap
from qgis.PyQt.QtWidgets import (QApplication, QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QFrame,
                                 QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMessageBox, QPushButton,
                                 QScrollArea, QVBoxLayout, QWidget)

from .algorithm import SegmentAlgorithm, model_file_filter
from .core.errors import InputError, LandcoverError, ModelFileError
from .core.modelfile import BACKGROUND, ModelMetadata, read_metadata
from .core.options import SPECS
from .dependencies import default_model_path, missing_keras_message, missing_runtime_message
from .get_model import ReferenceModelTask, ask_source, downloads_folder, reference_model_path
from .i18n import tr
from .job import SegmentationJob, headline
from .notify import Notice, log, push, tooltip
from .option_widgets import SETTINGS_GROUP, option_widgets
from .paths import ICON_PATH
from .plan import LARGE_RUN_TILES, RunPlan, run_plan
from .model_summary import model_summary_html
from .results import class_label, is_landcover_output

AREA_WHOLE_LAYER, AREA_CANVAS, AREA_SELECTION = range(3)
WIDTH_PX = 600
SCREEN_MARGIN_PX = 60   # the window frame and title bar
CHECKED, UNCHECKED = Qt.CheckState.Checked, Qt.CheckState.Unchecked
CLASS_NAME_ROLE = Qt.ItemDataRole.UserRole


class SegmentationDialog(QDialog):
    def __init__(self, iface: QgisInterface, parent: QWidget | None = None):
        super().__init__(parent)
        self.iface = iface
        self.metadata: ModelMetadata | None = None
        self.model_error = ""
        self.job: SegmentationJob | None = None
        self.reference_task: ReferenceModelTask | None = None   # 'Get a LandCover.ai model…' while it runs
        self.large_run_tiles = LARGE_RUN_TILES
        self.setWindowTitle(tr("Land cover segmentation"))
        self.setWindowIcon(QIcon(str(ICON_PATH)))
        self._build()
        self._restore_settings()
        self._model_changed(self.model_widget.filePath())
        self._area_changed(self.area_combo.currentIndex())
        missing = missing_runtime_message()
        if missing:
            self.notice.show_message(Qgis.MessageLevel.Warning, tr("Missing runtime"), missing)

    # -- layout ------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.notice = Notice(self)

        self.input_combo = QgsMapLayerComboBox(self)
        self.input_combo.setFilters(QgsMapLayerProxyModel.Filter.RasterLayer)
        self.area_combo = QComboBox(self)
        self.area_combo.addItems([tr("Whole layer"), tr("Map canvas extent"), tr("Selected features of")])
        self.mask_combo = QgsMapLayerComboBox(self)
        self.mask_combo.setFilters(QgsMapLayerProxyModel.Filter.PolygonLayer)
        self.area_combo.currentIndexChanged.connect(self._area_changed)
        self.plan_label = QLabel(self)
        self.plan_label.setWordWrap(True)

        self.model_widget = QgsFileWidget(self)
        self.model_widget.setFilter(model_file_filter())
        self.model_widget.setDialogTitle(tr("Model file"))
        self.model_widget.fileChanged.connect(self._model_changed)
        self.get_model_button = QPushButton(tr("Get a LandCover.ai model…"), self)
        self.get_model_button.setToolTip(tooltip(missing_keras_message() or tr(
            "Download the reference work's published LandCover.ai weights and convert them into a model file")))
        self.get_model_button.clicked.connect(self.get_reference_model)
        self.model_info = QLabel(self)
        self.model_info.setWordWrap(True)
        self.model_info.setTextFormat(Qt.TextFormat.RichText)
        self.classes_list = QListWidget(self)
        self.classes_list.setMaximumHeight(110)
        self.classes_list.setToolTip(tooltip(tr(SPECS["classes"].help)))

        self.output_widget = QgsFileWidget(self)
        self.output_widget.setStorageMode(QgsFileWidget.StorageMode.SaveFile)
        self.output_widget.setFilter(tr("GeoPackage (*.gpkg)"))
        self.output_widget.setDialogTitle(tr("Output GeoPackage"))
        self.output_widget.lineEdit().setPlaceholderText(tr("[Save to a temporary file]"))
        self.options = option_widgets(self)
        self.probabilities_check = QCheckBox(tr("Also write the class probabilities (GeoTIFF, percent per class)"),
                                             self)
        self.band_combos = [QgsRasterBandComboBox(self) for _ in range(3)]
        for combo in self.band_combos:
            combo.setShowNotSetOption(True, tr("auto"))
            combo.setToolTip(tooltip(tr(SPECS["bands"].help)))
        self.input_combo.layerChanged.connect(self._input_changed)
        self._input_changed(self.input_combo.currentLayer())
        for signal in (self.input_combo.layerChanged, self.mask_combo.layerChanged, self.area_combo.currentIndexChanged,
                       self.options["overlap"].widget.valueChanged, self.options["device"].widget.currentIndexChanged,
                       self.iface.mapCanvas().extentsChanged):
            signal.connect(self.update_plan)

        form = QFormLayout()
        form.addRow(tr("Raster layer"), self.input_combo)
        form.addRow(tr("Area"), self.area_combo)
        form.addRow(tr("Polygon layer"), self.mask_combo)
        form.addRow("", self.plan_label)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_widget, 1)
        model_row.addWidget(self.get_model_button)
        form.addRow(tr("Model"), model_row)
        form.addRow("", self.model_info)
        form.addRow(tr("Classes to output"), self.classes_list)
        form.addRow(tr("Output GeoPackage"), self.output_widget)

        content = QWidget(self)
        self.advanced_box = QgsCollapsibleGroupBox(tr("Advanced settings"), content)
        self.advanced_box.setCollapsed(True)
        self.advanced_box.collapsedStateChanged.connect(lambda _: self.fit_to_screen())
        advanced = QFormLayout(self.advanced_box)
        bands = QHBoxLayout()
        for combo in self.band_combos:
            bands.addWidget(combo)
        advanced.addRow(tr(SPECS["bands"].label), bands)
        for option in self.options.values():
            (advanced if option.spec.advanced else form).addRow(option.label, option.widget)
        advanced.addRow("", self.probabilities_check)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr("Run"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        # The choices scroll, the notice and the buttons stay: the dialog fits any screen (1366 x 768 included)
        # whatever is open or shown.
        inner = QVBoxLayout(content)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addLayout(form)
        inner.addWidget(self.advanced_box)
        inner.addStretch(1)
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(content)
        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.buttons)
        self.resize(WIDTH_PX, 0)
        self.fit_to_screen()

    def fit_to_screen(self) -> None:
        """As tall as the choices (and the notice) need, never taller than the screen's free height."""
        screen = (self.screen() or QApplication.primaryScreen()).availableGeometry()
        content = self.scroll.widget()
        content.adjustSize()
        frame = self.sizeHint().height() - self.scroll.sizeHint().height()   # notice, buttons, margins
        wanted = frame + content.sizeHint().height() + 2 * self.scroll.frameWidth()
        margins = self.layout().contentsMargins()
        wide = (content.minimumSizeHint().width() + self.scroll.verticalScrollBar().sizeHint().width()
                + margins.left() + margins.right() + 2 * self.scroll.frameWidth())   # never a sideways scroll
        self.resize(min(max(self.width(), wide), screen.width()),
                    max(min(wanted, screen.height() - SCREEN_MARGIN_PX), 200))

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """Offer every raster layer but this plugin's own outputs, the active one first."""
        super().showEvent(event)
        outputs = [layer for layer in QgsProject.instance().mapLayers().values() if is_landcover_output(layer)]
        self.input_combo.setExceptedLayerList(outputs)
        active = self.iface.activeLayer()
        if isinstance(active, QgsRasterLayer) and active not in outputs:
            self.input_combo.setLayer(active)
        self.fit_to_screen()

    # -- reactions ---------------------------------------------------------------------------------
    def _area_changed(self, index: int) -> None:
        self.mask_combo.setEnabled(index == AREA_SELECTION)

    def _input_changed(self, layer) -> None:
        for combo in self.band_combos:
            combo.setLayer(layer if isinstance(layer, QgsRasterLayer) else None)
            combo.setBand(-1)

    def _model_changed(self, path: str) -> None:
        """Show what the chosen model is before anything heavy is loaded."""
        remembered = set(QgsSettings().value(f"{SETTINGS_GROUP}/classes", [], list) or [])
        self.classes_list.clear()
        try:
            self.metadata, self.model_error = read_metadata(path), ""
        except ModelFileError as error:
            self.metadata, self.model_error = None, str(error)
            self.model_info.setText(f"<span style='color:#b00020'>{html.escape(self.model_error)}</span>")
            return
        self.model_info.setText(model_summary_html(self.metadata))
        self.update_plan()
        for info in self.metadata.classes:
            if info.value == BACKGROUND:
                continue
            item = QListWidgetItem(_swatch(info.color), class_label(info.name), self.classes_list)
            item.setData(CLASS_NAME_ROLE, info.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(CHECKED if not remembered or info.name in remembered else UNCHECKED)

    # -- getting a model ---------------------------------------------------------------------------
    def get_reference_model(self) -> None:
        """Explain what is fetched, then download and convert the reference's weights in the task manager."""
        missing = missing_keras_message()
        if missing:
            self.notice.show_message(Qgis.MessageLevel.Warning, tr("Get a LandCover.ai model"), missing)
            return
        target = reference_model_path()
        source = self.ask_reference_source(target)
        if source is None:
            return
        self.reference_task = ReferenceModelTask(source, target, downloads_folder())
        self.reference_task.done.connect(self._reference_done)
        self.get_model_button.setEnabled(False)
        QgsApplication.taskManager().addTask(self.reference_task)
        self.notice.show_message(Qgis.MessageLevel.Info, tr("Get a LandCover.ai model"),
                                 tr("Started; progress and cancel are in the task manager."))

    def ask_reference_source(self, target: Path) -> str | None:
        """The published URL, a downloaded zip, or None: what the user chose after the explanation."""
        return ask_source(self, target)

    def _reference_done(self, ok: bool) -> None:
        """Main thread: select the new model, or say why there is none (in QGIS's bar once the dialog is closed)."""
        task, self.reference_task = self.reference_task, None
        self.get_model_button.setEnabled(True)
        title = tr("Get a LandCover.ai model")
        if ok:
            self.model_widget.setFilePath(str(task.target))
            text = tr("'{name}' is written to {path} and selected.").format(name=task.metadata.name, path=task.target)
            self._tell(Qgis.MessageLevel.Success, title, text)
            log(text, Qgis.MessageLevel.Success)
        elif task.error:
            self._tell(Qgis.MessageLevel.Critical, title, headline(task.error))
            log(task.error, Qgis.MessageLevel.Critical)
        else:
            self._tell(Qgis.MessageLevel.Info, title, tr("Cancelled; nothing was written."))

    def _tell(self, level: Qgis.MessageLevel, title: str, text: str) -> None:
        """In the dialog while it is open, else in QGIS's message bar."""
        if self.isVisible():
            self.notice.show_message(level, title, text)
            self.fit_to_screen()
        else:
            push(self.iface.messageBar(), level, title, text, details=text)

    # -- settings ----------------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        settings = QgsSettings()
        model = settings.value(f"{SETTINGS_GROUP}/model_path", "", str)
        self.model_widget.setFilePath(model if model and Path(model).is_file() else str(default_model_path()))
        self.area_combo.setCurrentIndex(settings.value(f"{SETTINGS_GROUP}/area", AREA_WHOLE_LAYER, int))
        self.output_widget.setDefaultRoot(settings.value(f"{SETTINGS_GROUP}/output_folder", "", str))
        self.probabilities_check.setChecked(settings.value(f"{SETTINGS_GROUP}/probabilities", False, bool))
        for option in self.options.values():
            option.restore(settings)

    def _save_settings(self) -> None:
        settings = QgsSettings()
        settings.setValue(f"{SETTINGS_GROUP}/model_path", self.model_widget.filePath())
        settings.setValue(f"{SETTINGS_GROUP}/area", self.area_combo.currentIndex())
        settings.setValue(f"{SETTINGS_GROUP}/classes", list(self.checked_classes()))
        settings.setValue(f"{SETTINGS_GROUP}/probabilities", self.probabilities_check.isChecked())
        if self.output_widget.filePath():
            settings.setValue(f"{SETTINGS_GROUP}/output_folder", str(Path(self.output_widget.filePath()).parent))
        for option in self.options.values():
            option.save(settings)

    # -- the job -----------------------------------------------------------------------------------
    def accept(self) -> None:
        """Close only with a job the algorithm accepted; otherwise say what to fix."""
        self.notice.clear()
        try:
            parameters = self.build_parameters()
        except LandcoverError as error:
            self._tell(Qgis.MessageLevel.Warning, tr("Check the settings"), str(error))
            return
        job = SegmentationJob(parameters, self.input_combo.currentLayer().name(), QgsProject.instance(),
                              self.iface.messageBar())
        if not job.prepared:
            self._tell(Qgis.MessageLevel.Warning, tr("Check the settings"), job.headline)
            log(job.error or job.headline, Qgis.MessageLevel.Warning)
            return
        plan = self.update_plan()
        if plan is not None and plan.tiles > self.large_run_tiles and not self.confirm_large_run(plan):
            return
        self.job = job
        self._save_settings()
        super().accept()

    def confirm_large_run(self, plan: RunPlan) -> bool:
        """Ask before a run of many tiles (hours on a CPU)."""
        answer = QMessageBox.question(self, tr("A large run"), tr("{plan}. Start it?").format(plan=plan.text()),
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def update_plan(self, *_) -> RunPlan | None:
        """Tell, under the area, what the run will do (area, tiles, device, service and zoom level)."""
        layer = self.input_combo.currentLayer()
        plan = None
        if isinstance(layer, QgsRasterLayer) and self.metadata is not None:
            device = self.options["device"].widget.currentText()
            plan = run_plan(layer, self._plan_area(layer), self.metadata, self.options["overlap"].value(), device)
            web_layer = layer.providerType() == "wms"
            self.plan_label.setText(plan.text() if plan else tr(
                "A web layer: choose the area to classify (map canvas extent or selected features).")
                if web_layer else "")
        else:
            self.plan_label.setText("")
        return plan

    def _plan_area(self, layer: QgsRasterLayer) -> QgsRectangle | None:
        """The chosen area's bounds in the layer's CRS, for the plan (the algorithm resolves the real one)."""
        mode = self.area_combo.currentIndex()
        if mode == AREA_CANVAS:
            canvas = self.iface.mapCanvas()
            bounds = QgsCoordinateTransform(canvas.mapSettings().destinationCrs(), layer.crs(),
                                            QgsProject.instance()).transformBoundingBox(canvas.extent())
        elif mode == AREA_SELECTION and isinstance(self.mask_combo.currentLayer(), QgsVectorLayer):
            polygons = self.mask_combo.currentLayer()
            if not polygons.selectedFeatureCount():
                return None
            bounds = QgsCoordinateTransform(polygons.crs(), layer.crs(), QgsProject.instance()).transformBoundingBox(
                polygons.boundingBoxOfSelected())
        else:
            return None
        return bounds if layer.providerType() == "wms" else bounds.intersect(layer.extent())

    def checked_classes(self) -> tuple[str, ...]:
        items = [self.classes_list.item(row) for row in range(self.classes_list.count())]
        return tuple(item.data(CLASS_NAME_ROLE) for item in items if item.checkState() == CHECKED)

    def build_parameters(self) -> dict[str, Any]:
        """The parameters of `landcover:segment` for the current choices."""
        missing = missing_runtime_message()
        if missing:
            raise InputError(missing)
        layer = self.input_combo.currentLayer()
        if not isinstance(layer, QgsRasterLayer):
            raise InputError(tr("Choose the raster layer to segment."))
        if self.metadata is None:
            raise ModelFileError(self.model_error)
        classes = self.checked_classes()
        if not classes:
            raise InputError(tr("Tick at least one class to output."))
        parameters: dict[str, Any] = {
            SegmentAlgorithm.INPUT: layer.id(),
            SegmentAlgorithm.MODEL: self.model_widget.filePath(),
            SPECS["classes"].parameter_name: list(classes),
            SPECS["bands"].parameter_name: self._bands(),
            **self._area(),
            **self._outputs(),
        }
        for option in self.options.values():
            value = option.value()
            if option.spec.processing and value is not None:
                parameters[option.spec.parameter_name] = (option.spec.values.index(value)
                                                          if option.spec.choices else value)
        return parameters

    def _bands(self) -> list[int] | None:
        bands = [combo.currentBand() for combo in self.band_combos]
        if all(band < 1 for band in bands):
            return None
        if any(band < 1 for band in bands):
            raise InputError(tr("Choose all three bands (red, green, blue) or none of them."))
        return bands

    def _area(self) -> dict[str, Any]:
        """EXTENT or MASK as Processing takes them; the algorithm brings them into the raster's CRS."""
        mode = self.area_combo.currentIndex()
        if mode == AREA_CANVAS:
            canvas = self.iface.mapCanvas()
            return {SPECS["extent"].parameter_name: QgsReferencedRectangle(
                canvas.extent(), canvas.mapSettings().destinationCrs())}
        if mode == AREA_SELECTION:
            polygons = self.mask_combo.currentLayer()
            if not isinstance(polygons, QgsVectorLayer):
                raise InputError(tr("Choose the polygon layer whose selected features to segment."))
            if not polygons.selectedFeatureCount():
                raise InputError(tr("No feature of '{name}' is selected; select the polygons to segment.").format(
                    name=polygons.name()))
            return {SPECS["mask_wkt"].parameter_name: QgsProcessingFeatureSourceDefinition(polygons.id(), True)}
        return {}

    def _outputs(self) -> dict[str, Any]:
        """The GeoPackage and class raster, opened in the project when done; temporary files if no file was
        chosen. An existing file is replaced only when 'Overwrite existing files' is ticked."""
        chosen = self.output_widget.filePath().strip()
        if chosen:
            vector = Path(chosen).with_suffix(".gpkg")
            paths = {SegmentAlgorithm.OUTPUT: vector,
                     SegmentAlgorithm.OUTPUT_RASTER: vector.with_name(f"{vector.stem}_classes.tif"),
                     SegmentAlgorithm.OUTPUT_PROBABILITIES: vector.with_name(f"{vector.stem}_probabilities.tif")}
            if not vector.parent.is_dir():
                raise InputError(tr("The folder {folder} does not exist; choose another output file.").format(
                    folder=vector.parent))
            if not self.probabilities_check.isChecked():
                del paths[SegmentAlgorithm.OUTPUT_PROBABILITIES]
            existing = [str(path) for path in paths.values() if path.exists()]
            if existing and not self.options["overwrite"].value():
                raise InputError(tr("{files} already exist(s); tick 'Overwrite existing files' or choose another "
                                    "name.").format(files=", ".join(existing)))
            sinks = {name: str(path) for name, path in paths.items()}
        else:
            names = [SegmentAlgorithm.OUTPUT, SegmentAlgorithm.OUTPUT_RASTER]
            if self.probabilities_check.isChecked():
                names.append(SegmentAlgorithm.OUTPUT_PROBABILITIES)
            sinks = {name: QgsProcessing.TEMPORARY_OUTPUT for name in names}
        project = QgsProject.instance()
        opened = (SegmentAlgorithm.OUTPUT, SegmentAlgorithm.OUTPUT_RASTER)
        return {name: QgsProcessingOutputLayerDefinition(sink, project) if name in opened else sink
                for name, sink in sinks.items()}


def _swatch(color: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(color))
    return QIcon(pixmap)
