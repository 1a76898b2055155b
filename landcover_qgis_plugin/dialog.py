"""The dialog behind the toolbar button: what to segment, with which model, into which file.

It only gathers and checks choices on the main thread and turns them into a SegmentationRequest of
plain paths and options; the plugin runs that as a background task. Choices are remembered in
QgsSettings between runs.
"""
from __future__ import annotations

import html
import re
import tempfile
from pathlib import Path
from typing import Any

from qgis.core import (QgsCoordinateTransform, QgsGeometry, QgsMapLayerProxyModel, QgsProcessingUtils, QgsProject,
                       QgsRasterLayer, QgsSettings, QgsVectorLayer)
from qgis.gui import (QgisInterface, QgsCollapsibleGroupBox, QgsDoubleSpinBox, QgsFileWidget,
                      QgsMapLayerComboBox, QgsMessageBar, QgsSpinBox)
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QColor, QIcon, QPixmap
from qgis.PyQt.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel,
                                 QListWidget, QListWidgetItem, QSizePolicy, QVBoxLayout, QWidget)

from .core.modelfile import BACKGROUND, ModelFileError, ModelMetadata, read_metadata
from .defaults import DEFAULT_OPTIONS, DEVICES, MAX_OVERLAP, device_labels
from .dependencies import missing_runtime_message
from .i18n import tr
from .paths import DEFAULT_MODEL_PATH, ICON_PATH
from .results import bounds, class_label, file_raster_source
from .task import SegmentationRequest

SETTINGS_GROUP = "landcover"
AREA_WHOLE_LAYER, AREA_CANVAS, AREA_SELECTION = range(3)


class SegmentationDialog(QDialog):
    def __init__(self, iface: QgisInterface, parent: QWidget | None = None):
        super().__init__(parent)
        self.iface = iface
        self.metadata: ModelMetadata | None = None
        self.model_error = ""
        self.request: SegmentationRequest | None = None
        self.setWindowTitle(tr("Land cover segmentation"))
        self.setWindowIcon(QIcon(str(ICON_PATH)))
        self._build()
        self._restore_settings()
        self._model_changed(self.model_widget.filePath())
        self._area_changed(self.area_combo.currentIndex())
        missing = missing_runtime_message()
        if missing:
            self.message_bar.pushWarning(tr("Missing runtime"), missing)

    # -- layout ------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.message_bar = QgsMessageBar(self)
        self.message_bar.setSizePolicy(QSizePolicy.Minimum, QSizePolicy.Fixed)

        self.input_combo = QgsMapLayerComboBox(self)
        self.input_combo.setFilters(QgsMapLayerProxyModel.RasterLayer)
        self.area_combo = QComboBox(self)
        self.area_combo.addItems([tr("Whole layer"), tr("Map canvas extent"), tr("Selected features of")])
        self.mask_combo = QgsMapLayerComboBox(self)
        self.mask_combo.setFilters(QgsMapLayerProxyModel.PolygonLayer)
        self.area_combo.currentIndexChanged.connect(self._area_changed)

        self.model_widget = QgsFileWidget(self)
        self.model_widget.setFilter(tr("Keras model (*.keras)"))
        self.model_widget.setDialogTitle(tr("Model file"))
        self.model_widget.fileChanged.connect(self._model_changed)
        self.model_info = QLabel(self)
        self.model_info.setWordWrap(True)
        self.model_info.setTextFormat(Qt.RichText)
        self.classes_list = QListWidget(self)
        self.classes_list.setMaximumHeight(110)

        self.output_widget = QgsFileWidget(self)
        self.output_widget.setStorageMode(QgsFileWidget.SaveFile)
        self.output_widget.setFilter(tr("GeoPackage (*.gpkg)"))
        self.output_widget.setDialogTitle(tr("Output GeoPackage"))
        self.output_widget.lineEdit().setPlaceholderText(tr("[Save to a temporary file]"))
        self.overwrite_check = QCheckBox(tr("Overwrite existing files"), self)

        self.overlap_spin = self._double_spin(0.0, MAX_OVERLAP, 0.05, 2, "")
        self.batch_spin = QgsSpinBox(self)
        self.batch_spin.setRange(1, 256)
        self.device_combo = QComboBox(self)
        for device, label in zip(DEVICES, device_labels()):
            self.device_combo.addItem(label, device)
        self.tta_check = QCheckBox(tr("Test-time augmentation (flips; slower, smoother)"), self)
        self.simplify_spin = self._double_spin(0.0, 20.0, 0.25, 2, tr(" px"))
        self.min_area_spin = self._double_spin(0.0, 1e7, 1.0, 1, tr(" m²"))
        self.fill_holes_spin = self._double_spin(0.0, 1e7, 1.0, 1, tr(" m²"))
        self.square_check = QCheckBox(tr("Square building corners"), self)

        form = QFormLayout()
        form.addRow(tr("Raster layer"), self.input_combo)
        form.addRow(tr("Area"), self.area_combo)
        form.addRow(tr("Polygon layer"), self.mask_combo)
        form.addRow(tr("Model"), self.model_widget)
        form.addRow("", self.model_info)
        form.addRow(tr("Classes to output"), self.classes_list)
        form.addRow(tr("Output GeoPackage"), self.output_widget)
        form.addRow("", self.overwrite_check)

        self.advanced_box = QgsCollapsibleGroupBox(tr("Advanced settings"), self)
        self.advanced_box.setCollapsed(True)
        advanced = QFormLayout(self.advanced_box)
        advanced.addRow(tr("Tile overlap"), self.overlap_spin)
        advanced.addRow(tr("Batch size"), self.batch_spin)
        advanced.addRow(tr("Device"), self.device_combo)
        advanced.addRow("", self.tta_check)
        advanced.addRow(tr("Simplification"), self.simplify_spin)
        advanced.addRow(tr("Minimum polygon area"), self.min_area_spin)
        advanced.addRow(tr("Fill holes smaller than"), self.fill_holes_spin)
        advanced.addRow("", self.square_check)

        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel, self)
        self.buttons.button(QDialogButtonBox.Ok).setText(tr("Run"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.message_bar)
        layout.addLayout(form)
        layout.addWidget(self.advanced_box)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.resize(560, 620)

    def _double_spin(self, low: float, high: float, step: float, decimals: int, suffix: str) -> QgsDoubleSpinBox:
        spin = QgsDoubleSpinBox(self)
        spin.setRange(low, high)
        spin.setSingleStep(step)
        spin.setDecimals(decimals)
        spin.setSuffix(suffix)
        return spin

    # -- reactions ---------------------------------------------------------------------------------
    def _area_changed(self, index: int) -> None:
        self.mask_combo.setEnabled(index == AREA_SELECTION)

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
        for info in self.metadata.classes:
            if info.value == BACKGROUND:
                continue
            item = QListWidgetItem(_swatch(info.color), class_label(info.name), self.classes_list)
            item.setData(Qt.UserRole, info.name)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if not remembered or info.name in remembered else Qt.Unchecked)

    # -- settings ----------------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        settings = QgsSettings()
        settings.beginGroup(SETTINGS_GROUP)
        model = settings.value("model_path", "", str)
        self.model_widget.setFilePath(model if model and Path(model).is_file() else str(DEFAULT_MODEL_PATH))
        self.area_combo.setCurrentIndex(settings.value("area", AREA_WHOLE_LAYER, int))
        self.output_widget.setDefaultRoot(settings.value("output_folder", "", str))
        self.overlap_spin.setValue(settings.value("overlap", DEFAULT_OPTIONS.overlap, float))
        self.batch_spin.setValue(settings.value("batch_size", DEFAULT_OPTIONS.batch_size, int))
        self.device_combo.setCurrentIndex(max(0, self.device_combo.findData(
            settings.value("device", DEFAULT_OPTIONS.device, str))))
        self.tta_check.setChecked(settings.value("tta", DEFAULT_OPTIONS.tta, bool))
        self.simplify_spin.setValue(settings.value("simplify", DEFAULT_OPTIONS.simplify, float))
        self.min_area_spin.setValue(settings.value("min_area", DEFAULT_OPTIONS.min_area, float))
        self.fill_holes_spin.setValue(settings.value("fill_holes", DEFAULT_OPTIONS.fill_holes, float))
        self.square_check.setChecked(settings.value("square_buildings", DEFAULT_OPTIONS.square_buildings, bool))
        settings.endGroup()
        for spin, default in ((self.overlap_spin, DEFAULT_OPTIONS.overlap),
                              (self.simplify_spin, DEFAULT_OPTIONS.simplify),
                              (self.min_area_spin, DEFAULT_OPTIONS.min_area),
                              (self.fill_holes_spin, DEFAULT_OPTIONS.fill_holes)):
            spin.setClearValue(default)
        self.batch_spin.setClearValue(DEFAULT_OPTIONS.batch_size)

    def _save_settings(self, options: dict[str, Any]) -> None:
        settings = QgsSettings()
        settings.beginGroup(SETTINGS_GROUP)
        settings.setValue("model_path", self.model_widget.filePath())
        settings.setValue("area", self.area_combo.currentIndex())
        settings.setValue("classes", list(options["classes"]))
        if self.output_widget.filePath():
            settings.setValue("output_folder", str(Path(self.output_widget.filePath()).parent))
        for key in ("overlap", "batch_size", "device", "tta", "simplify", "min_area", "fill_holes",
                    "square_buildings"):
            settings.setValue(key, options[key])
        settings.endGroup()

    # -- the request -------------------------------------------------------------------------------
    def accept(self) -> None:
        """Close only with a request the engine can run; otherwise say what to fix."""
        try:
            self.request = self.build_request()
        except ValueError as error:
            self.message_bar.clearWidgets()
            self.message_bar.pushWarning(tr("Check the settings"), str(error))
            return
        self._save_settings(self.request.options)
        super().accept()

    def build_request(self) -> SegmentationRequest:
        missing = missing_runtime_message()
        if missing:
            raise ValueError(missing)
        layer = self.input_combo.currentLayer()
        if not isinstance(layer, QgsRasterLayer):
            raise ValueError(tr("Choose the raster layer to segment."))
        source = file_raster_source(layer)
        if self.metadata is None:
            raise ValueError(self.model_error)
        items = [self.classes_list.item(row) for row in range(self.classes_list.count())]
        classes = tuple(item.data(Qt.UserRole) for item in items if item.checkState() == Qt.Checked)
        if not classes:
            raise ValueError(tr("Tick at least one class to output."))
        extent, mask_wkt = self._area(layer)
        vector_path, raster_path, temporary_dir = self._outputs(layer.name())
        options = {"overlap": self.overlap_spin.value(), "batch_size": self.batch_spin.value(),
                   "device": self.device_combo.currentData(), "tta": self.tta_check.isChecked(),
                   "extent": extent, "mask_wkt": mask_wkt, "classes": classes,
                   "simplify": self.simplify_spin.value(), "min_area": self.min_area_spin.value(),
                   "fill_holes": self.fill_holes_spin.value(), "square_buildings": self.square_check.isChecked(),
                   "overwrite": self.overwrite_check.isChecked()}
        return SegmentationRequest(source, layer.name(), self.model_widget.filePath(), vector_path,
                                   raster_path, options, temporary_dir)

    def _area(self, layer: QgsRasterLayer) -> tuple[tuple[float, float, float, float] | None, str | None]:
        """The extent (raster CRS) and optional mask polygon (WKT, raster CRS) chosen under 'Area'."""
        project = QgsProject.instance()
        mode = self.area_combo.currentIndex()
        if mode == AREA_WHOLE_LAYER:
            return None, None
        if mode == AREA_CANVAS:
            canvas = self.iface.mapCanvas()
            to_raster = QgsCoordinateTransform(canvas.mapSettings().destinationCrs(), layer.crs(), project)
            extent = to_raster.transformBoundingBox(canvas.extent()).intersect(layer.extent())
            if extent.isEmpty():
                raise ValueError(tr("The map canvas does not show any part of '{name}'; pan to it or choose "
                                    "another area.").format(name=layer.name()))
            return bounds(extent), None
        polygons = self.mask_combo.currentLayer()
        if not isinstance(polygons, QgsVectorLayer):
            raise ValueError(tr("Choose the polygon layer whose selected features to segment."))
        geometries = [feature.geometry() for feature in polygons.getSelectedFeatures()]
        if not geometries:
            raise ValueError(tr("No feature of '{name}' is selected; select the polygons to segment.").format(
                name=polygons.name()))
        mask = QgsGeometry.unaryUnion(geometries)
        mask.transform(QgsCoordinateTransform(polygons.crs(), layer.crs(), project))
        if not mask.boundingBox().intersects(layer.extent()):
            raise ValueError(tr("The selected features of '{mask}' do not overlap '{name}'.").format(
                mask=polygons.name(), name=layer.name()))
        return bounds(mask.boundingBox().intersect(layer.extent())), mask.asWkt()

    def _outputs(self, layer_name: str) -> tuple[str, str, str | None]:
        """GeoPackage and class raster paths; a fresh temporary folder when no file was chosen."""
        chosen = self.output_widget.filePath().strip()
        if not chosen:
            folder = tempfile.mkdtemp(prefix="landcover_", dir=QgsProcessingUtils.tempFolder())
            stem = re.sub(r"[^\w-]+", "_", layer_name).strip("_") or "landcover"
            return str(Path(folder) / f"{stem}.gpkg"), str(Path(folder) / f"{stem}_classes.tif"), folder
        vector = Path(chosen).with_suffix(".gpkg")
        raster = vector.with_name(f"{vector.stem}_classes.tif")
        if not vector.parent.is_dir():
            raise ValueError(tr("The folder {folder} does not exist; choose another output file.").format(
                folder=vector.parent))
        existing = [str(path) for path in (vector, raster) if path.exists()]
        if existing and not self.overwrite_check.isChecked():
            raise ValueError(tr("{files} already exist(s); tick 'Overwrite existing files' or choose another "
                                "name.").format(files=", ".join(existing)))
        return str(vector), str(raster), None


def model_summary_html(metadata: ModelMetadata) -> str:
    """Classes with their colours, resolution, tile size and published scores of a model."""
    classes = " ".join(f"<span style='color:{info.color}'>■</span>&nbsp;{html.escape(info.name)}"
                       for info in metadata.classes)
    lines = [f"<b>{html.escape(metadata.name)}</b>",
             tr("{cm} cm/px, tiles of {size} px").format(cm=f"{metadata.resolution_cm:g}", size=metadata.input_size),
             classes]
    lines += [html.escape(line) for line in score_lines(metadata.scores)]
    if metadata.training_data:
        lines.append(tr("Trained on: {data}").format(data=html.escape(metadata.training_data)))
    return "<br>".join(lines)


def score_lines(scores: dict) -> list[str]:
    """The exporter's scores, readable: plain numbers, and per split its mIoU with the IoU of each class."""
    plain = ", ".join(f"{key} {value:.3f}" for key, value in scores.items() if _is_number(value))
    lines = [tr("Scores: {scores}").format(scores=plain)] if plain else []
    for split, value in scores.items():
        if isinstance(value, dict) and _is_number(value.get("miou")):
            per_class = value.get("per_class_iou") if isinstance(value.get("per_class_iou"), dict) else {}
            classes = ", ".join(f"{name} {iou:.2f}" for name, iou in per_class.items() if _is_number(iou))
            lines.append(tr("{split}: mIoU {miou}").format(split=split, miou=f"{value['miou']:.3f}")
                         + (f" ({classes})" if classes else ""))
    return lines


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _swatch(color: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(color))
    return QIcon(pixmap)

