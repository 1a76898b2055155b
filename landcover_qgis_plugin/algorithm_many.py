"""Processing algorithm `landcover:segmentmany`: many orthophoto sheets, one seamless result, on a local
Dask cluster, resumable (the engine's core/scale, as `trainer predict --workers` runs it).

Sheets come as raster layers, a folder, or a tile index / list file; the area is the whole mosaic.
The workers are threads of QGIS's own process (QGIS's executable cannot start Python workers).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from qgis.core import (QgsProcessing, QgsProcessingContext, QgsProcessingException, QgsProcessingFeedback,
                       QgsProcessingOutputNumber, QgsProcessingParameterBoolean, QgsProcessingParameterDefinition,
                       QgsProcessingParameterFile, QgsProcessingParameterFolderDestination,
                       QgsProcessingParameterMultipleLayers, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterDestination, QgsProcessingParameterVectorDestination)

from .algorithm import SegmentAlgorithm, model_file_filter
from .core.errors import Cancelled, LandcoverError
from .core.modelfile import read_metadata
from .core.scale.blocks import DEFAULT_BLOCK_PX
from .dependencies import default_model_path
from .i18n import tr
from .parameters import option_parameters, read_options
from .results import class_layer_uri
from .summary import RunSummary

# The whole mosaic is classified, in its sheets' own bands: the options tied to one layer stay out.
LAYER_OPTIONS = ("bands", "extent", "mask_wkt")


class SegmentManyAlgorithm(SegmentAlgorithm):
    SHEETS = "SHEETS"
    FOLDER = "FOLDER"
    INDEX = "INDEX"
    WORKERS = "WORKERS"
    RUN_FOLDER = "RUN_FOLDER"
    RESTART = "RESTART"
    BLOCK_SIZE = "BLOCK_SIZE"
    BLOCKS = "BLOCKS"

    def name(self) -> str:
        return "segmentmany"

    def displayName(self) -> str:
        return tr("Segment many orthophotos")

    def shortHelpString(self) -> str:
        return tr("Classifies many orthophoto sheets (layers, a folder, or a tile index or list file) as one "
                  "seamless mosaic: blocks of it run on several workers and are kept in a run folder, so running "
                  "it again after a crash or a cancel redoes only the unfinished blocks. Writes one GeoPackage "
                  "with a polygon layer per class and a class raster (a VRT of the blocks, or a GeoTIFF).")

    def createInstance(self) -> "SegmentManyAlgorithm":
        return SegmentManyAlgorithm()

    def initAlgorithm(self, config: dict | None = None) -> None:
        self.addParameter(QgsProcessingParameterMultipleLayers(
            self.SHEETS, tr("Orthophoto sheets (raster layers)"), QgsProcessing.SourceType.TypeRaster, optional=True))
        self.addParameter(QgsProcessingParameterFile(
            self.FOLDER, tr("Folder of orthophoto sheets"), QgsProcessingParameterFile.Behavior.Folder, optional=True))
        self.addParameter(QgsProcessingParameterFile(
            self.INDEX, tr("Tile index (gdaltindex) or list of sheet files"), QgsProcessingParameterFile.Behavior.File,
            optional=True, fileFilter=tr("Tile indexes and lists (*.gpkg *.shp *.geojson *.fgb *.txt *.lst)")))
        self.addParameter(QgsProcessingParameterFile(
            self.MODEL, tr("Model file (default: the bundled model)"), QgsProcessingParameterFile.Behavior.File,
            defaultValue=str(default_model_path()), optional=True, fileFilter=model_file_filter()))
        self.addParameter(QgsProcessingParameterNumber(
            self.WORKERS, tr("Workers"), QgsProcessingParameterNumber.Type.Integer,
            defaultValue=max(1, (os.cpu_count() or 2) // 2), minValue=1))
        for parameter in option_parameters(LAYER_OPTIONS):
            self.addParameter(parameter)
        block = QgsProcessingParameterNumber(self.BLOCK_SIZE, tr("Block side (model pixels)"),
                                             QgsProcessingParameterNumber.Type.Integer, defaultValue=DEFAULT_BLOCK_PX,
                                             minValue=1)   # rounded to whole tile steps
        block.setFlags(block.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
        self.addParameter(block)
        self.addParameter(QgsProcessingParameterBoolean(self.RESTART, tr("Start over (delete finished blocks)"),
                                                        defaultValue=False))
        self.addParameter(QgsProcessingParameterVectorDestination(
            self.OUTPUT, tr("Land-cover polygons (GeoPackage, one layer per class)"),
            QgsProcessing.SourceType.TypeVectorPolygon))
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT_RASTER, tr("Class raster (.vrt or .tif)"),
                                                                  optional=True))
        self.addParameter(QgsProcessingParameterFolderDestination(
            self.RUN_FOLDER, tr("Run folder (finished blocks; default: beside the polygons)"), optional=True,
            createByDefault=False))
        self._add_result_outputs()
        self.addOutput(QgsProcessingOutputNumber(self.BLOCKS, tr("Blocks")))

    def prepareAlgorithm(self, parameters: dict, context: QgsProcessingContext,
                         feedback: QgsProcessingFeedback) -> bool:
        from .core.mosaic import expand_inputs

        items = [layer.source() for layer in self.parameterAsLayerList(parameters, self.SHEETS, context)]
        items += [path for path in (self.parameterAsFile(parameters, self.FOLDER, context),
                                    self.parameterAsFile(parameters, self.INDEX, context)) if path]
        if not items:
            raise QgsProcessingException(tr("Give the sheets: raster layers, a folder, or a tile index or list file."))
        model_path = self.parameterAsFile(parameters, self.MODEL, context) or str(default_model_path())
        try:
            sheets = expand_inputs(items)
            metadata = read_metadata(model_path)
        except LandcoverError as error:
            raise QgsProcessingException(str(error)) from None
        self._job = {
            "sheets": sheets, "input_name": Path(items[0]).name if len(items) == 1 else tr("{count} sheets").format(
                count=len(sheets)),
            "model_path": model_path, "metadata": metadata,
            "workers": self.parameterAsInt(parameters, self.WORKERS, context),
            "block_px": self.parameterAsInt(parameters, self.BLOCK_SIZE, context),
            "restart": self.parameterAsBoolean(parameters, self.RESTART, context),
            "options": {**read_options(self, parameters, context, metadata.classes, LAYER_OPTIONS), "overwrite": True},
        }
        return True

    def processAlgorithm(self, parameters: dict, context: QgsProcessingContext,
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        from .core.options import SegmentationOptions
        from .core.scale.runner import segment_many

        job = self._job
        self._resolve_outputs(parameters, context)
        run_folder = (self.parameterAsString(parameters, self.RUN_FOLDER, context)
                      or str(Path(job["vector_path"]).with_suffix(".run")))
        feedback.pushInfo(tr("Segmenting {count} sheets with {model} on {workers} workers; run folder {folder}").format(
            count=len(job["sheets"]), model=job["model_path"], workers=job["workers"], folder=run_folder))
        try:
            result = segment_many(job["sheets"], job["model_path"], run_folder, job["vector_path"], job["raster_path"],
                                  SegmentationOptions(**job["options"]), job["workers"], None, job["restart"],
                                  job["block_px"], self._progress(feedback), feedback.isCanceled, processes=False)
        except Cancelled:   # said once, nothing returned, as in algorithm.py
            feedback.pushInfo(tr("Cancelled; the finished blocks are kept in {folder}: run again to go on.").format(
                folder=run_folder))
            return {}
        except LandcoverError as error:
            raise QgsProcessingException(str(error)) from None
        for note in result.notes:   # e.g. a killed run's lock taken over
            feedback.pushWarning(note)
        feedback.pushInfo(tr("{blocks} blocks ({reused} finished before), {tiles} tiles").format(
            blocks=result.blocks, reused=result.reused, tiles=result.tiles))
        written = [path for path in (result.vector_path, result.raster_path) if path]
        feedback.pushInfo(RunSummary(tr("{count} sheets").format(count=len(job["sheets"])), result.vector_area_ha,
                                     result.area_ha, tr("{workers} workers").format(workers=result.workers),
                                     result.seconds, result.tiles, result.mosaic or tr("read as one mosaic"),
                                     written).text())
        job["layers"] = result.layers
        return {
            self.OUTPUT: result.vector_path, self.OUTPUT_RASTER: result.raster_path,
            self.LAYERS: [class_layer_uri(result.vector_path, name) for name in result.layers.values()],
            self.AREA_HA: json.dumps(result.area_ha), self.POLYGON_AREA_HA: json.dumps(result.vector_area_ha),
            self.DEVICE_USED: tr("{workers} workers").format(workers=result.workers), self.READING: result.mosaic,
            self.SECONDS: result.seconds, self.TILES: result.tiles, self.BLOCKS: result.blocks,
        }
