"""Processing algorithm `landcover:segment`: the one job behind the toolbox, the modeler, batch mode,
qgis_process and the plugin's own dialog.

Layers are resolved on the main thread (prepareAlgorithm) into plain paths and geometry; the engine
then runs wherever Processing puts it and reads the raster through its source path. Destinations
follow Processing's convention: the file the user names is replaced. Outputs to be opened go into
the project as one styled group (postProcessAlgorithm, main thread).
"""
from __future__ import annotations

import json
from typing import Any

from qgis.core import (QgsFeatureRequest, QgsGeometry, QgsProcessing, QgsProcessingAlgorithm, QgsProcessingContext,
                       QgsProcessingException, QgsProcessingFeedback, QgsProcessingOutputMultipleLayers,
                       QgsProcessingOutputNumber, QgsProcessingOutputString, QgsProcessingParameterDefinition,
                       QgsProcessingParameterFile, QgsProcessingParameterRasterDestination,
                       QgsProcessingParameterRasterLayer, QgsProcessingParameterVectorDestination, QgsRasterLayer,
                       QgsRectangle)
from qgis.PyQt.QtGui import QIcon

from .core.errors import Cancelled, LandcoverError
from .core.modelfile import read_metadata
from .core.options import SPECS
from .dependencies import (default_model_path, install_command, keras_available, load_hdf5_bindings,
                           missing_runtime_message)
from .i18n import tr
from .parameters import INPUT, option_parameters, read_options
from .paths import ICON_PATH, help_url
from .layer_sources import layer_source
from .results import add_result_layers, bounds, class_layer_uri
from .summary import RunSummary

EXTENT = SPECS["extent"].parameter_name
MASK = SPECS["mask_wkt"].parameter_name


def model_file_filter() -> str:
    return tr("Model files (*.onnx *.keras)")


class SegmentAlgorithm(QgsProcessingAlgorithm):
    INPUT = INPUT
    MODEL = "MODEL"
    OUTPUT = "OUTPUT"
    OUTPUT_RASTER = "OUTPUT_RASTER"
    OUTPUT_PROBABILITIES = "OUTPUT_PROBABILITIES"
    LAYERS = "LAYERS"
    AREA_HA = "AREA_HA"
    POLYGON_AREA_HA = "POLYGON_AREA_HA"
    DEVICE_USED = "DEVICE_USED"
    READING = "READING"
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
        return "\n\n".join((
            tr("Classifies an RGB orthophoto with a DeepLabv3+ model file and writes one polygon layer per "
               "class (area and class attributes) to a GeoPackage, plus a class raster and, optionally, a "
               "probability raster. The raster is read in overlapping tiles at the model's resolution and the "
               "tiles are blended, so there are no seams. Limit the work with an extent or polygons (the "
               "'Selected features only' option applies)."),
            tr("A web layer (XYZ, WMS, WMTS) covers the whole world: give it an extent or polygons. Its tiles are "
               "fetched at the zoom level of the model's resolution, for that area only."),
            tr("Example, from a shell: qgis_process run landcover:segment -- INPUT=ortho.tif "
               "OUTPUT=landcover.gpkg OUTPUT_RASTER=classes.tif CLASSES=building CLASSES=road"),
        ))

    def helpUrl(self) -> str:  # noqa: N802 (QGIS's name)
        return help_url()

    def createInstance(self) -> "SegmentAlgorithm":
        return SegmentAlgorithm()

    def initAlgorithm(self, config: dict | None = None) -> None:
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, tr("Orthophoto (RGB raster)")))
        # Optional so that qgis_process (which insists on mandatory values) can fall back on the bundled model.
        self.addParameter(QgsProcessingParameterFile(
            self.MODEL, tr("Model file (default: the bundled model)"), QgsProcessingParameterFile.Behavior.File,
            defaultValue=str(default_model_path()), optional=True, fileFilter=model_file_filter()))
        for parameter in option_parameters():
            self.addParameter(parameter)
        self.addParameter(QgsProcessingParameterVectorDestination(
            self.OUTPUT, tr("Land-cover polygons (GeoPackage, one layer per class)"),
            QgsProcessing.SourceType.TypeVectorPolygon))
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT_RASTER, tr("Class raster"),
                                                                  optional=True))
        probabilities = QgsProcessingParameterRasterDestination(
            self.OUTPUT_PROBABILITIES, tr("Class probabilities"), optional=True, createByDefault=False)
        probabilities.setFlags(probabilities.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
        self.addParameter(probabilities)
        self._add_result_outputs()

    def _add_result_outputs(self) -> None:
        self.addOutput(QgsProcessingOutputMultipleLayers(self.LAYERS, tr("Class layers")))
        self.addOutput(QgsProcessingOutputString(self.AREA_HA, tr("Class raster area per class in hectares (JSON)")))
        self.addOutput(QgsProcessingOutputString(self.POLYGON_AREA_HA,
                                                 tr("Polygon area per class in hectares, after cleaning (JSON)")))
        self.addOutput(QgsProcessingOutputString(self.DEVICE_USED, tr("Device used")))
        self.addOutput(QgsProcessingOutputString(self.READING, tr("How the raster was read (grid and ground "
                                                                  "resolution)")))
        self.addOutput(QgsProcessingOutputNumber(self.SECONDS, tr("Seconds taken")))
        self.addOutput(QgsProcessingOutputNumber(self.TILES, tr("Tiles classified")))

    def prepareAlgorithm(self, parameters: dict, context: QgsProcessingContext,
                         feedback: QgsProcessingFeedback) -> bool:
        """Main thread: turn layers into paths and geometry the worker can use without touching them."""
        layer = self.parameterAsRasterLayer(parameters, self.INPUT, context)
        if layer is None:
            raise QgsProcessingException(self.invalidRasterError(parameters, self.INPUT))
        model_path = self.parameterAsFile(parameters, self.MODEL, context) or str(default_model_path())
        if model_path.lower().endswith(".keras") and not keras_available():
            raise QgsProcessingException(tr(
                "'{model}' is a Keras model file, and TensorFlow with Keras is not installed: use its ONNX copy "
                "(python -m trainer export --model FILE.keras --onnx FILE.onnx) or install them: {command}").format(
                model=model_path, command=install_command(keras=True)))
        extent, mask = self._extent(parameters, context, layer), self._mask(parameters, context, layer)
        area = QgsRectangle(*extent) if extent else QgsGeometry.fromWkt(mask).boundingBox() if mask else None
        try:
            metadata = read_metadata(model_path)
            source = layer_source(layer, area, metadata.resolution_m, metadata.input_size // 2)
        except LandcoverError as error:
            raise QgsProcessingException(str(error)) from None
        if source.web and area is None:
            raise QgsProcessingException(tr("'{name}' is a web layer: choose the area to classify (an extent, the "
                                            "map canvas or polygons).").format(name=layer.name()))
        self._job = {
            "input_path": source.dataset, "input_name": layer.name(), "model_path": model_path,
            "metadata": metadata,
            "options": {
                **read_options(self, parameters, context, metadata.classes),
                "extent": extent, "mask_wkt": mask,
                "overwrite": True,  # Processing's convention: the file the user names is replaced
            },
        }
        return True

    def _extent(self, parameters: dict, context: QgsProcessingContext,
                layer: QgsRasterLayer) -> tuple[float, float, float, float] | None:
        if parameters.get(EXTENT) in (None, ""):
            return None
        extent = self.parameterAsExtent(parameters, EXTENT, context, layer.crs()).intersect(layer.extent())
        if extent.isEmpty():
            raise QgsProcessingException(tr("The extent does not overlap '{name}'.").format(name=layer.name()))
        return bounds(extent)

    def _mask(self, parameters: dict, context: QgsProcessingContext, layer: QgsRasterLayer) -> str | None:
        source = self.parameterAsSource(parameters, MASK, context)
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
            from .core.engine import SegmentationOptions, segment
        except ImportError as error:
            raise QgsProcessingException(missing_runtime_message() or str(error)) from None
        job = self._job
        self._resolve_outputs(parameters, context)
        feedback.pushInfo(tr("Segmenting {name} with {model}").format(name=job["input_name"], model=job["model_path"]))
        try:
            result = segment(job["input_path"], job["model_path"], vector_path=job["vector_path"],
                             raster_path=job["raster_path"], probabilities_path=job["probabilities_path"],
                             options=SegmentationOptions(**job["options"]), progress=self._progress(feedback),
                             is_cancelled=feedback.isCanceled, metadata=job["metadata"])
        except Cancelled:   # QGIS's own convention: said once, nothing returned (the task then reports a cancel)
            feedback.pushInfo(tr("Cancelled; nothing was written."))
            return {}
        except LandcoverError as error:  # the user can act on it; anything else keeps its traceback
            raise QgsProcessingException(str(error)) from None
        for note in result.notes:   # e.g. a killed run's lock taken over
            feedback.pushWarning(note)
        written = [path for path in (result.vector_path, result.raster_path, result.probabilities_path) if path]
        feedback.pushInfo(RunSummary(job["input_name"], result.vector_area_ha, result.area_ha, result.device,
                                     result.seconds, result.tiles, result.reading, written).text())
        job["layers"] = result.layers
        return {
            self.OUTPUT: result.vector_path,
            self.OUTPUT_RASTER: result.raster_path,
            self.OUTPUT_PROBABILITIES: result.probabilities_path,
            self.LAYERS: [class_layer_uri(result.vector_path, name) for name in result.layers.values()],
            self.AREA_HA: json.dumps(result.area_ha),
            self.POLYGON_AREA_HA: json.dumps(result.vector_area_ha),
            self.DEVICE_USED: result.device,
            self.READING: result.reading,
            self.SECONDS: result.seconds,
            self.TILES: result.tiles,
        }

    @staticmethod
    def _progress(feedback: QgsProcessingFeedback):
        """The engine's progress(percent, stage) as Processing feedback: the stage shown when it changes."""
        stage = [""]

        def progress(percent: float, message: str) -> None:
            if message != stage[0]:
                stage[0] = message
                feedback.setProgressText(message)
            feedback.setProgress(percent)
        return progress

    def _resolve_outputs(self, parameters: dict, context: QgsProcessingContext) -> None:
        """Output paths, resolved here rather than in prepareAlgorithm: the context given to
        processAlgorithm is the one whose layers to load reach postProcessAlgorithm."""
        vector_path = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        if not vector_path.lower().endswith(".gpkg") or "|" in vector_path:
            raise QgsProcessingException(tr("The polygons go to a GeoPackage file; name the output "
                                            "'something.gpkg' (got '{path}').").format(path=vector_path))
        self._job.update(
            vector_path=vector_path,
            raster_path=self.parameterAsOutputLayer(parameters, self.OUTPUT_RASTER, context) or None,
            probabilities_path=(self.parameterAsOutputLayer(parameters, self.OUTPUT_PROBABILITIES, context) or None)
            if self.parameterDefinition(self.OUTPUT_PROBABILITIES) is not None else None)

    def postProcessAlgorithm(self, context: QgsProcessingContext, feedback: QgsProcessingFeedback) -> dict:
        """Main thread: the polygons and class raster that are to be opened go in as one styled group."""
        job = self._job
        to_load = context.layersToLoadOnCompletion()
        wanted = [path for path in (job.get("vector_path"), job.get("raster_path")) if path and path in to_load]
        if not wanted:
            return {}
        project = to_load[wanted[0]].project or context.project()
        for path in wanted:
            del to_load[path]
        context.setLayersToLoadOnCompletion(to_load)
        if "layers" not in job:   # cancelled: nothing was written, nothing to open
            return {}
        vector_path = job["vector_path"] if job["vector_path"] in wanted else None
        raster_path = job["raster_path"] if job["raster_path"] in wanted else None
        add_result_layers(project, tr("Land cover — {name}").format(name=job["input_name"]),
                          job["metadata"].classes, vector_path, job.get("layers", {}), raster_path)
        return {}
