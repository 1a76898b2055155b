"""Render an orthophoto with its land-cover polygons, styled as the plugin styles them, to a PNG.

    python tools/preview.py ORTHOPHOTO.tif RESULT.gpkg --model MODEL.keras --out preview.png

Rendering goes through QgsMapSettings and a map renderer job offscreen, so the picture is exactly
what an analyst sees in QGIS; a legend names the class colours.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from osgeo import gdal  # noqa: E402
from qgis.core import (QgsApplication, QgsMapRendererParallelJob, QgsMapSettings, QgsRasterLayer,  # noqa: E402
                       QgsVectorLayer)
from qgis.PyQt.QtCore import QRectF, QSize, Qt  # noqa: E402
from qgis.PyQt.QtGui import QColor, QFont, QImage, QPainter  # noqa: E402

from landcover_qgis_plugin.core.errors import LandcoverError  # noqa: E402
from landcover_qgis_plugin.core.modelfile import read_metadata  # noqa: E402
from landcover_qgis_plugin.core.vectorize import layer_name  # noqa: E402
from landcover_qgis_plugin.results import class_label, class_layer_uri, style_class_layer  # noqa: E402


def gpkg_class_layers(gpkg: str, class_names: list[str]) -> dict[str, str]:
    """class name -> GeoPackage layer, for the classes `gpkg` holds a layer of."""
    dataset = gdal.OpenEx(gpkg, gdal.OF_VECTOR)
    if dataset is None:
        raise FileNotFoundError(f"'{gpkg}' is not a readable GeoPackage.")
    present = {dataset.GetLayer(index).GetName() for index in range(dataset.GetLayerCount())}
    dataset = None
    return {name: layer_name(name) for name in class_names if layer_name(name) in present}


def render_preview(orthophoto: str, gpkg: str, class_layers: dict[str, str], model_path: str, png: str,
                   width: int = 1400) -> Path:
    """Draw the class polygons over the orthophoto; needs an initialised QgsApplication."""
    colors = {info.name: info.color for info in read_metadata(model_path).classes}
    base = QgsRasterLayer(orthophoto, "orthophoto", "gdal")
    if not base.isValid():
        raise FileNotFoundError(f"'{orthophoto}' is not a readable raster.")
    overlays = []
    for class_name, name in class_layers.items():
        layer = QgsVectorLayer(class_layer_uri(gpkg, name), class_name, "ogr")
        if not layer.isValid():
            raise FileNotFoundError(f"Layer '{name}' of '{gpkg}' could not be opened.")
        style_class_layer(layer, colors[class_name])
        overlays.append(layer)
    extent = base.extent()
    settings = QgsMapSettings()
    settings.setLayers([*overlays, base])  # the first is drawn on top
    settings.setDestinationCrs(base.crs())
    settings.setBackgroundColor(QColor("white"))
    settings.setOutputSize(QSize(width, max(1, round(width * extent.height() / extent.width()))))
    settings.setExtent(extent)
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    draw_legend(image, [(class_label(name), colors[name]) for name in class_layers])
    target = Path(png)
    if not image.save(str(target), "PNG"):
        raise OSError(f"Could not write '{target}'.")
    return target


def draw_legend(image: QImage, entries: list[tuple[str, str]]) -> None:
    """A white box in the lower left corner: one colour swatch and label per class."""
    if not entries:
        return
    painter = QPainter(image)
    painter.setRenderHint(QPainter.Antialiasing)
    font = QFont()
    font.setPixelSize(max(12, image.width() // 70))
    painter.setFont(font)
    line = painter.fontMetrics().height() * 1.4
    label_width = max(painter.fontMetrics().horizontalAdvance(label) for label, _ in entries)
    box = QRectF(line * 0.5, image.height() - line * (len(entries) + 1), line * 1.8 + label_width,
                 line * (len(entries) + 0.5))
    painter.setPen(Qt.NoPen)
    painter.setBrush(QColor(255, 255, 255, 220))
    painter.drawRoundedRect(box, line * 0.2, line * 0.2)
    for index, (label, color) in enumerate(entries):
        top = box.top() + line * (0.25 + index)
        painter.setPen(QColor(color).darker(160))
        painter.setBrush(QColor(color))
        painter.drawRect(QRectF(box.left() + line * 0.3, top + line * 0.2, line * 0.6, line * 0.6))
        painter.setPen(QColor("black"))
        painter.drawText(QRectF(box.left() + line * 1.2, top, label_width + line, line), Qt.AlignVCenter, label)
    painter.end()


def preview(orthophoto: str, gpkg: str, model_path: str, png: str, width: int = 1400) -> Path:
    """Start QGIS for this process, render every class layer of `gpkg` over `orthophoto`, stop QGIS."""
    app = QgsApplication([], False)
    app.initQgis()
    try:
        names = [info.name for info in read_metadata(model_path).classes]
        return render_preview(orthophoto, gpkg, gpkg_class_layers(gpkg, names), model_path, png, width)
    finally:
        app.exitQgis()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("orthophoto")
    parser.add_argument("gpkg")
    parser.add_argument("--model", required=True, help="the model file whose class colours to use")
    parser.add_argument("--out", required=True, help="PNG to write")
    parser.add_argument("--width", type=int, default=1400)
    args = parser.parse_args(argv)
    try:
        print(preview(args.orthophoto, args.gpkg, args.model, args.out, args.width))
    except (OSError, LandcoverError) as error:   # unreadable inputs or model file, unwritable PNG
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
