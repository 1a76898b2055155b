"""Processing provider `landcover`: the plugin's algorithms in the toolbox, modeler, batch and qgis_process."""
from __future__ import annotations

from qgis.core import Qgis, QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from .dependencies import missing_runtime_message
from .i18n import tr
from .notify import log
from .paths import ICON_PATH


class LandCoverProvider(QgsProcessingProvider):
    def id(self) -> str:
        return "landcover"

    def name(self) -> str:
        return tr("Land cover")

    def longName(self) -> str:
        return tr("Land cover segmentation (DeepLabv3+)")

    def icon(self) -> QIcon:
        return QIcon(str(ICON_PATH))

    def svgIconPath(self) -> str:
        return str(ICON_PATH)

    def loadAlgorithms(self) -> None:
        """Without the engine's dependencies the provider stays empty and the log says what to install."""
        try:
            from .algorithm import SegmentAlgorithm
            from .algorithm_many import SegmentManyAlgorithm
        except ImportError as error:
            log(missing_runtime_message() or str(error), Qgis.MessageLevel.Warning)
            return
        self.addAlgorithm(SegmentAlgorithm())
        self.addAlgorithm(SegmentManyAlgorithm())

    def supportsNonFileBasedOutput(self) -> bool:
        """The engine writes files atomically; memory layers would bypass that."""
        return False

    def supportedOutputVectorLayerExtensions(self) -> list[str]:
        return ["gpkg"]

    def supportedOutputRasterLayerExtensions(self) -> list[str]:
        return ["tif", "vrt"]   # vrt: the class raster of many sheets (segmentmany)

    def defaultVectorFileExtension(self, has_geometry: bool = True) -> str:
        return "gpkg"

    def defaultRasterFileExtension(self) -> str:
        return "tif"
