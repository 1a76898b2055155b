"""Processing algorithm `landcover:segment`: the same engine for the toolbox, modeler, batch and qgis_process.

Layers are resolved on the main thread (prepareAlgorithm) into plain paths and geometry; the engine
then runs wherever Processing puts it and reads the raster through its source path. Destinations
follow Processing's convention: the file the user names is replaced.
"""
from __future__ import annotations

import json
from typing import Any

from qgis.core import (QgsFeatureRequest, QgsGeometry, QgsProcessing,
                       QgsProcessingAlgorithm, QgsProcessingContext, QgsProcessingException, QgsProcessingFeedback,
                       QgsProcessingLayerPostProcessorInterface, QgsProcessingOutputMultipleLayers,
                       QgsProcessingOutputNumber, QgsProcessingOutputString, QgsProcessingParameterBand,
                       QgsProcessingParameterBoolean, QgsProcessingParameterDefinition, QgsProcessingParameterEnum,
                       QgsProcessingParameterExtent, QgsProcessingParameterFeatureSource,
                       QgsProcessingParameterFile, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterDestination, QgsProcessingParameterRasterLayer,
                       QgsProcessingParameterString, QgsProcessingParameterVectorDestination, QgsRasterLayer,
                       QgsVectorLayer)
from qgis.PyQt.QtGui import QIcon

from .core.modelfile import ClassInfo, ModelFileError, read_metadata
from .defaults import DEFAULT_OPTIONS, DEVICES, MAX_OVERLAP, PRECISIONS, device_labels
from .dependencies import load_hdf5_bindings, missing_runtime_message
from .i18n import tr
from .paths import DEFAULT_MODEL_PATH, ICON_PATH
from .results import (bounds, class_label, class_layer_uri, file_raster_source, style_class_layer,
                      style_class_raster, summary_text)

# Post-processors must outlive the algorithm run that registers them; one per output layer.
_POST_PROCESSORS: dict[str, QgsProcessingLayerPostProcessorInterface] = {}


class SegmentAlgorithm(QgsProcessingAlgorithm):
    INPUT = "INPUT"
    MODEL = "MODEL"
    EXTENT = "EXTENT"
    MASK = "MASK"
    BANDS = "BANDS"
    CLASSES = "CLASSES"
    OVERLAP = "OVERLAP"
    BATCH_SIZE = "BATCH_SIZE"
    DEVICE = "DEVICE"
    TTA = "TTA"
    SIMPLIFY = "SIMPLIFY"
    MIN_AREA = "MIN_AREA"
    FILL_HOLES = "FILL_HOLES"
    MAX_VERTICES = "MAX_VERTICES"
    SQUARE_BUILDINGS = "SQUARE_BUILDINGS"
    PRECISION = "PRECISION"
    OUTPUT = "OUTPUT"
    OUTPUT_RASTER = "OUTPUT_RASTER"
    OUTPUT_PROBABILITIES = "OUTPUT_PROBABILITIES"
    LAYERS = "LAYERS"
    AREA_HA = "AREA_HA"
    DEVICE_USED = "DEVICE_USED"
    SECONDS = "SECONDS"
    TILES = "TILES"

    def __init__(self):
        super().__init__()
        self._job: dict[str, Any] = {}

    def name(self) -> str:
        return "segment"

    def displayName(self) -> str:
        return tr("Segment land cover")

    def group(self) -> str:
        return ""

    def groupId(self) -> str:
        return ""

    def tags(self) -> list[str]:
        return tr("land cover,segmentation,deep learning,orthophoto,buildings,woodland,water,roads").split(",")

    def icon(self) -> QIcon:
        return QIcon(str(ICON_PATH))

    def shortHelpString(self) -> str:
        return tr("Classifies an RGB orthophoto with a DeepLabv3+ model file and writes one polygon layer per "
                  "class (area and class attributes) to a GeoPackage, plus a class raster and, optionally, a "
                  "probability raster. The raster is read in overlapping tiles at the model's resolution and the "
                  "tiles are blended, so there are no seams. Limit the work with an extent or polygons (the "
                  "'Selected features only' option applies).")

    def createInstance(self) -> "SegmentAlgorithm":
        return SegmentAlgorithm()

    def initAlgorithm(self, config: dict | None = None) -> None:
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, tr("Orthophoto (RGB raster)")))
        # Optional so that qgis_process (which insists on mandatory values) can fall back on the bundled model.
        self.addParameter(QgsProcessingParameterFile(
            self.MODEL, tr("Model file (default: the bundled model)"), QgsProcessingParameterFile.File,
            defaultValue=str(DEFAULT_MODEL_PATH), optional=True, fileFilter=tr("Keras model (*.keras)")))
        self.addParameter(QgsProcessingParameterExtent(self.EXTENT, tr("Extent (default: whole raster)"),
                                                       optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.MASK, tr("Only inside these polygons"), [QgsProcessing.TypeVectorPolygon], optional=True))
        advanced = [
            QgsProcessingParameterBand(self.BANDS, tr("Red, green and blue bands (default: from the raster's "
                                                      "colour interpretation)"),
                                       parentLayerParameterName=self.INPUT, optional=True, allowMultiple=True),
            QgsProcessingParameterString(self.CLASSES, tr("Classes to vectorise, comma separated (default: "
                                                          "all but background)"), optional=True),
            _number(self.OVERLAP, tr("Tile overlap (fraction of a tile)"), DEFAULT_OPTIONS.overlap, 0.0,
                    MAX_OVERLAP),
            _number(self.BATCH_SIZE, tr("Batch size (tiles per model call)"), DEFAULT_OPTIONS.batch_size, 1, 256,
                    QgsProcessingParameterNumber.Integer),
            QgsProcessingParameterEnum(self.DEVICE, tr("Device"), device_labels(),
                                       defaultValue=DEVICES.index(DEFAULT_OPTIONS.device)),
            QgsProcessingParameterBoolean(self.TTA, tr("Test-time augmentation (flips)"),
                                          defaultValue=DEFAULT_OPTIONS.tta),
            _number(self.SIMPLIFY, tr("Simplification tolerance (pixels)"), DEFAULT_OPTIONS.simplify, 0.0, 100.0),
            _number(self.MIN_AREA, tr("Minimum polygon area (m²)"), DEFAULT_OPTIONS.min_area, 0.0),
            _number(self.FILL_HOLES, tr("Fill holes smaller than (m²)"), DEFAULT_OPTIONS.fill_holes, 0.0),
            QgsProcessingParameterBoolean(self.SQUARE_BUILDINGS, tr("Square building corners"),
                                          defaultValue=DEFAULT_OPTIONS.square_buildings),
            _number(self.MAX_VERTICES, tr("Split a region into several polygons beyond this many traced "
                                          "vertices (0: never)"), DEFAULT_OPTIONS.max_vertices, 0, None,
                    QgsProcessingParameterNumber.Integer),
            QgsProcessingParameterEnum(self.PRECISION, tr("Numeric precision of the model"), list(PRECISIONS),
                                       defaultValue=list(PRECISIONS).index(DEFAULT_OPTIONS.precision)),
        ]
        for parameter in advanced:
            parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(parameter)
        self.addParameter(QgsProcessingParameterVectorDestination(
            self.OUTPUT, tr("Land-cover polygons (GeoPackage, one layer per class)"),
            QgsProcessing.TypeVectorPolygon))
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT_RASTER, tr("Class raster"),
                                                                  optional=True))
        probabilities = QgsProcessingParameterRasterDestination(
            self.OUTPUT_PROBABILITIES, tr("Class probabilities"), optional=True, createByDefault=False)
        probabilities.setFlags(probabilities.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        self.addParameter(probabilities)
        self.addOutput(QgsProcessingOutputMultipleLayers(self.LAYERS, tr("Class layers")))
        self.addOutput(QgsProcessingOutputString(self.AREA_HA, tr("Area per class in hectares (JSON)")))
        self.addOutput(QgsProcessingOutputString(self.DEVICE_USED, tr("Device used")))
        self.addOutput(QgsProcessingOutputNumber(self.SECONDS, tr("Seconds taken")))
        self.addOutput(QgsProcessingOutputNumber(self.TILES, tr("Tiles classified")))

    def prepareAlgorithm(self, parameters: dict, context: QgsProcessingContext,
                         feedback: QgsProcessingFeedback) -> bool:
        """Main thread: turn layers into paths and geometry the worker can use without touching them."""
        layer = self.parameterAsRasterLayer(parameters, self.INPUT, context)
        if layer is None:
            raise QgsProcessingException(self.invalidRasterError(parameters, self.INPUT))
        try:
            source = file_raster_source(layer)
        except ValueError as error:
            raise QgsProcessingException(str(error)) from None
        model_path = self.parameterAsFile(parameters, self.MODEL, context) or str(DEFAULT_MODEL_PATH)
        try:
            metadata = read_metadata(model_path)
        except ModelFileError as error:
            raise QgsProcessingException(str(error)) from None
        vector_path = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        if not vector_path.lower().endswith(".gpkg") or "|" in vector_path:
            raise QgsProcessingException(tr("The polygons go to a GeoPackage file; name the output "
                                            "'something.gpkg' (got '{path}').").format(path=vector_path))
        self._job = {
            "input_path": source, "input_name": layer.name(), "model_path": model_path,
            "classes": metadata.classes, "vector_path": vector_path,
            "raster_path": self.parameterAsOutputLayer(parameters, self.OUTPUT_RASTER, context) or None,
            "probabilities_path": self.parameterAsOutputLayer(parameters, self.OUTPUT_PROBABILITIES, context)
            or None,
            "options": {
                "extent": self._extent(parameters, context, layer),
                "mask_wkt": self._mask(parameters, context, layer),
                "bands": tuple(self.parameterAsInts(parameters, self.BANDS, context)) or None,
                "classes": _class_names(self.parameterAsString(parameters, self.CLASSES, context),
                                        metadata.classes),
                "overlap": self.parameterAsDouble(parameters, self.OVERLAP, context),
                "batch_size": self.parameterAsInt(parameters, self.BATCH_SIZE, context),
                "device": DEVICES[self.parameterAsEnum(parameters, self.DEVICE, context)],
                "tta": self.parameterAsBoolean(parameters, self.TTA, context),
                "simplify": self.parameterAsDouble(parameters, self.SIMPLIFY, context),
                "min_area": self.parameterAsDouble(parameters, self.MIN_AREA, context),
                "fill_holes": self.parameterAsDouble(parameters, self.FILL_HOLES, context),
                "square_buildings": self.parameterAsBoolean(parameters, self.SQUARE_BUILDINGS, context),
                "max_vertices": self.parameterAsInt(parameters, self.MAX_VERTICES, context),
                "precision": list(PRECISIONS)[self.parameterAsEnum(parameters, self.PRECISION, context)],
                "overwrite": True,
            },
        }
        return True

    def _extent(self, parameters: dict, context: QgsProcessingContext,
                layer: QgsRasterLayer) -> tuple[float, float, float, float] | None:
        if parameters.get(self.EXTENT) in (None, ""):
            return None
        extent = self.parameterAsExtent(parameters, self.EXTENT, context, layer.crs()).intersect(layer.extent())
        if extent.isEmpty():
            raise QgsProcessingException(tr("The extent does not overlap '{name}'.").format(name=layer.name()))
        return bounds(extent)

    def _mask(self, parameters: dict, context: QgsProcessingContext, layer: QgsRasterLayer) -> str | None:
        source = self.parameterAsSource(parameters, self.MASK, context)
        if source is None:
            return None
        request = QgsFeatureRequest().setNoAttributes().setDestinationCrs(layer.crs(), context.transformContext())
        geometries = [feature.geometry() for feature in source.getFeatures(request) if feature.hasGeometry()]
        if not geometries:
            raise QgsProcessingException(tr("The mask layer has no polygon (or none is selected)."))
        mask = QgsGeometry.unaryUnion(geometries)
        if not mask.boundingBox().intersects(layer.extent()):
            raise QgsProcessingException(tr("The mask polygons do not overlap '{name}'.").format(name=layer.name()))
        return mask.asWkt()

    def processAlgorithm(self, parameters: dict, context: QgsProcessingContext,
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        try:
            load_hdf5_bindings()
            from .core.engine import InputError, SegmentationCancelled, SegmentationOptions, segment
        except ImportError as error:
            raise QgsProcessingException(missing_runtime_message() or str(error)) from None
        job = self._job
        feedback.pushInfo(tr("Segmenting {name} with {model}").format(name=job["input_name"], model=job["model_path"]))
        try:
            result = segment(job["input_path"], job["model_path"], vector_path=job["vector_path"],
                             raster_path=job["raster_path"], probabilities_path=job["probabilities_path"],
                             options=SegmentationOptions(**job["options"]),
                             progress=lambda percent, _message: feedback.setProgress(percent),
                             is_cancelled=feedback.isCanceled)
        except SegmentationCancelled:
            raise QgsProcessingException(tr("Cancelled; nothing was written.")) from None
        except (InputError, ModelFileError, OSError, ValueError) as error:
            raise QgsProcessingException(str(error)) from None
        for class_name, area in result.area_ha.items():
            feedback.pushInfo(f"{class_label(class_name)}: {area:,.2f} ha")
        feedback.pushInfo(summary_text(result.area_ha, result.device, result.seconds))
        self._job["layers"] = result.layers
        return {
            self.OUTPUT: result.vector_path,
            self.OUTPUT_RASTER: result.raster_path,
            self.OUTPUT_PROBABILITIES: result.probabilities_path,
            self.LAYERS: [class_layer_uri(result.vector_path, name) for name in result.layers.values()],
            self.AREA_HA: json.dumps(result.area_ha),
            self.DEVICE_USED: result.device,
            self.SECONDS: result.seconds,
            self.TILES: result.tiles,
        }

    def postProcessAlgorithm(self, context: QgsProcessingContext, feedback: QgsProcessingFeedback) -> dict:
        """Main thread: when the GeoPackage is to be opened, open its class layers styled instead."""
        job = self._job
        vector_path, raster_path = job.get("vector_path"), job.get("raster_path")
        colors = {info.name: info.color for info in job.get("classes", ())}
        if vector_path and context.willLoadLayerOnCompletion(vector_path):
            details = context.layerToLoadOnCompletionDetails(vector_path)
            to_load = context.layersToLoadOnCompletion()
            del to_load[vector_path]
            for class_name, layer_name in job.get("layers", {}).items():
                uri = class_layer_uri(vector_path, layer_name)
                class_details = QgsProcessingContext.LayerDetails(class_label(class_name), details.project,
                                                                  self.OUTPUT)
                class_details.setPostProcessor(_register(uri, ClassLayerStyler(colors[class_name])))
                to_load[uri] = class_details
            context.setLayersToLoadOnCompletion(to_load)
        if raster_path and context.willLoadLayerOnCompletion(raster_path):
            context.layerToLoadOnCompletionDetails(raster_path).setPostProcessor(
                _register(raster_path, ClassRasterStyler(job["classes"])))
        return {}


class ClassLayerStyler(QgsProcessingLayerPostProcessorInterface):
    def __init__(self, color: str):
        super().__init__()
        self.color = color

    def postProcessLayer(self, layer, context, feedback) -> None:
        if isinstance(layer, QgsVectorLayer):
            style_class_layer(layer, self.color)


class ClassRasterStyler(QgsProcessingLayerPostProcessorInterface):
    def __init__(self, classes: tuple[ClassInfo, ...]):
        super().__init__()
        self.classes = classes

    def postProcessLayer(self, layer, context, feedback) -> None:
        if isinstance(layer, QgsRasterLayer):
            style_class_raster(layer, self.classes)


def _register(key: str, processor: QgsProcessingLayerPostProcessorInterface
              ) -> QgsProcessingLayerPostProcessorInterface:
    _POST_PROCESSORS[key] = processor
    return processor


def _number(name: str, description: str, default: float, minimum: float, maximum: float | None = None,
            kind: int = QgsProcessingParameterNumber.Double) -> QgsProcessingParameterNumber:
    parameter = QgsProcessingParameterNumber(name, description, kind, defaultValue=default, minValue=minimum)
    if maximum is not None:
        parameter.setMaximum(maximum)
    return parameter


def _class_names(text: str, classes: tuple[ClassInfo, ...]) -> tuple[str, ...] | None:
    """Parse 'building, water'; unknown names are refused with the model's list."""
    names = tuple(name.strip() for name in (text or "").split(",") if name.strip())
    if not names:
        return None
    known = [info.name for info in classes]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise QgsProcessingException(tr("Unknown class(es) {unknown}; this model knows {known}.").format(
            unknown=", ".join(unknown), known=", ".join(known)))
    return names
