"""Layers out of a segmentation: styled result layers (the summary is summary.py's).

Shared by the dialog and the Processing algorithm, so both behave alike.
Everything here touches layers or the project, so it runs on the main thread only.
"""
from __future__ import annotations

from typing import Sequence

from qgis.core import (QgsLayerTreeGroup, QgsMapLayer, QgsPalettedRasterRenderer, QgsProject, QgsRasterLayer,
                       QgsRectangle, QgsSimpleFillSymbolLayer, QgsVectorLayer)
from qgis.PyQt.QtGui import QColor

from osgeo import gdal

from .core.gdalio import gdal_errors
from .core.modelfile import BACKGROUND, ClassInfo
from .core.outputs import OUTPUT_KIND
from .i18n import tr
from .paths import CLASS_POLYGONS_QML


def bounds(rectangle: QgsRectangle) -> tuple[float, float, float, float]:
    """xmin, ymin, xmax, ymax: the engine's extent."""
    return (rectangle.xMinimum(), rectangle.yMinimum(), rectangle.xMaximum(), rectangle.yMaximum())


def class_label(name: str) -> str:
    """The name an analyst reads: LandCover.ai's classes translated, any other class as the model names it."""
    known = {"background": tr("Background"), "building": tr("Buildings"), "woodland": tr("Woodland"),
             "water": tr("Water"), "road": tr("Roads")}
    return known.get(name, name.replace("_", " "))


def style_class_layer(layer: QgsVectorLayer, color: str) -> None:
    """Apply the shipped polygon style, recoloured to the class colour of the model metadata."""
    message, loaded = layer.loadNamedStyle(str(CLASS_POLYGONS_QML))
    if not loaded:
        raise RuntimeError(tr("The style {path} could not be applied: {message}").format(
            path=CLASS_POLYGONS_QML, message=message))
    base = QColor(color)
    for symbol_layer in layer.renderer().symbol().symbolLayers():
        if isinstance(symbol_layer, QgsSimpleFillSymbolLayer):
            fill = QColor(base)
            fill.setAlpha(symbol_layer.fillColor().alpha())
            symbol_layer.setFillColor(fill)
            symbol_layer.setStrokeColor(base.darker(160))
    layer.triggerRepaint()


CLASS_RASTER_OPACITY = 0.6  # the imagery stays readable under the classes


def style_class_raster(layer: QgsRasterLayer, classes: Sequence[ClassInfo]) -> None:
    """Paletted rendering with the model's colours and class names, background transparent and the
    other classes translucent, so the analyst sees the imagery beneath."""
    entries = []
    for info in classes:
        color = QColor(info.color)
        if info.value == BACKGROUND:
            color.setAlpha(0)
        entries.append(QgsPalettedRasterRenderer.Class(info.value, color, class_label(info.name)))
    renderer = QgsPalettedRasterRenderer(layer.dataProvider(), 1, entries)
    renderer.setOpacity(CLASS_RASTER_OPACITY)
    layer.setRenderer(renderer)
    layer.triggerRepaint()


OUTPUT_PROPERTY = "landcover/output"   # a layer this plugin added: never offered as an input


def is_landcover_output(layer: QgsMapLayer) -> bool:
    """A class or probability raster (or polygon layer) this plugin wrote, whether it added the layer or the
    analyst opened the file."""
    if layer.customProperty(OUTPUT_PROPERTY):
        return True
    if not isinstance(layer, QgsRasterLayer) or layer.providerType() != "gdal":
        return False
    with gdal_errors():
        dataset = gdal.OpenEx(layer.source(), gdal.OF_RASTER | gdal.OF_READONLY)
        return dataset is not None and bool(dataset.GetMetadataItem(OUTPUT_KIND))


def class_layer_uri(vector_path: str, layer_name: str) -> str:
    return f"{vector_path}|layername={layer_name}"


def add_result_layers(project: QgsProject, title: str, classes: Sequence[ClassInfo], vector_path: str | None,
                      layers: dict[str, str], raster_path: str | None) -> QgsLayerTreeGroup:
    """A group on top of the layer tree: one styled layer per class, the class raster below them."""
    colors = {info.name: info.color for info in classes}
    map_layers: list[QgsMapLayer] = []
    if vector_path:
        for class_name, layer_name in layers.items():
            layer = QgsVectorLayer(class_layer_uri(vector_path, layer_name), class_label(class_name), "ogr")
            if not layer.isValid():
                raise RuntimeError(tr("Layer '{layer}' of {path} could not be opened.").format(
                    layer=layer_name, path=vector_path))
            style_class_layer(layer, colors[class_name])
            map_layers.append(layer)
    if raster_path:
        raster = QgsRasterLayer(raster_path, tr("Land-cover classes (raster)"), "gdal")
        if not raster.isValid():
            raise RuntimeError(tr("The class raster {path} could not be opened.").format(path=raster_path))
        style_class_raster(raster, classes)
        map_layers.append(raster)
    group = project.layerTreeRoot().insertGroup(0, title)
    for layer in map_layers:
        layer.setCustomProperty(OUTPUT_PROPERTY, True)
        project.addMapLayer(layer, False)
        group.addLayer(layer)
    return group
