"""`evaluate --model FILE --raster IMAGE --truth MASK`: a model scored on any georeferenced orthophoto whose
classes are known, so users can check a model on their own labelled area.

Decisions (quoted in the README):

* **The plugin's own path**: the image goes through the engine exactly as in QGIS (its CRS, ground
  resolution, blending, nodata), to a class raster; nothing is vectorised.
* **The truth** is a georeferenced raster of class values (the model's class indices, LandCover.ai's
  0 background, 1 building, 2 woodland, 3 water, 4 road for our models), in any CRS and resolution:
  it is warped onto the class raster's grid by nearest neighbour. Its nodata and values outside the
  classes are left out, as are pixels the engine left out (nodata, transparent).
* **The score** is the reference's: one confusion matrix over every counted pixel, per-class IoU and
  their mean over the classes present in truth or prediction; `metrics.json` holds it all.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from landcover_qgis_plugin.core.errors import InputError
from landcover_qgis_plugin.core.files import atomic_write_text

from .metrics import confusion_matrix, iou_from_confusion


def score_raster(model_path: str, raster: str, truth: str, out_dir: Path) -> dict:
    """Classify `raster` with the model, compare with `truth`; writes and returns the metrics."""
    from osgeo import gdal

    from landcover_qgis_plugin.core.engine import segment
    from landcover_qgis_plugin.core.gdalio import call_gdal, close_dataset
    from landcover_qgis_plugin.core.modelfile import read_metadata
    from landcover_qgis_plugin.core.options import SegmentationOptions
    from landcover_qgis_plugin.core.outputs import CLASS_NODATA

    metadata = read_metadata(model_path)
    names = [c.name for c in metadata.classes]
    truth_dataset = call_gdal(f"Truth '{truth}' could not be opened as a raster; give a GeoTIFF of class values",
                              gdal.Open, truth)
    if not truth_dataset.GetProjection():
        raise InputError(f"Truth '{truth}' has no CRS; georeference it like the image (gdal_edit -a_srs ...).")
    close_dataset(truth_dataset)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".landcover-score-", dir=out_dir) as work:
        classes_path = Path(work) / "classes.tif"
        result = segment(raster, model_path, raster_path=str(classes_path), options=SegmentationOptions())
        predicted_dataset = gdal.Open(str(classes_path))
        predicted = predicted_dataset.ReadAsArray()
        x0, dx, _, y0, _, dy = predicted_dataset.GetGeoTransform()
        width, height, wkt = predicted_dataset.RasterXSize, predicted_dataset.RasterYSize, \
            predicted_dataset.GetProjection()
        close_dataset(predicted_dataset)
        warped = call_gdal(f"Truth '{truth}' could not be put on the image's grid", gdal.Warp, "", truth,
                           format="MEM", dstSRS=wkt, outputBounds=(x0, y0 + height * dy, x0 + width * dx, y0),
                           width=width, height=height, resampleAlg="near", dstNodata=CLASS_NODATA)
        labels = warped.GetRasterBand(1).ReadAsArray()
        close_dataset(warped)
    counted = (predicted != CLASS_NODATA) & (labels < len(names))
    if not counted.any():
        raise InputError(f"Truth '{truth}' and image '{raster}' share no labelled pixel (values 0..{len(names) - 1} "
                         "where the image has data); check that they cover the same place and that the truth holds "
                         "the model's class indices.")
    matrix = confusion_matrix(labels[counted], predicted[counted], len(names))
    miou, per_class = iou_from_confusion(matrix)
    metrics = {
        "image": str(Path(raster).resolve()), "truth": str(Path(truth).resolve()),
        "model": {"path": str(Path(model_path).resolve()), "name": metadata.name},
        "pixels": int(counted.sum()), "pixel_size_m": result.pixel_size_m, "reading": result.reading,
        "miou": None if np.isnan(miou) else round(float(miou), 6),
        "per_class_iou": {name: None if np.isnan(v) else round(float(v), 6) for name, v in zip(names, per_class)},
        "truth_pixels_per_class": dict(zip(names, (int(v) for v in matrix.sum(axis=1)))),
        "pixel_accuracy": round(float(np.trace(matrix) / matrix.sum()), 6),
        "confusion_matrix": matrix.tolist(), "confusion_matrix_axes": "rows: truth, columns: prediction (pixels)",
    }
    atomic_write_text(out_dir / "metrics.json", json.dumps(metrics, indent=1), overwrite=True)
    return metrics


def print_raster_summary(metrics: dict) -> None:
    print(f"\n{Path(metrics['image']).name} against {Path(metrics['truth']).name}: {metrics['pixels']:,} pixels at "
          f"{metrics['pixel_size_m']:.3g} m, mIoU {metrics['miou']:.4f}, "
          f"pixel accuracy {metrics['pixel_accuracy']:.4f}")
    print(f"{'class':<14}{'IoU':>8}{'truth px':>12}")
    for name, value in metrics["per_class_iou"].items():
        shown = "n/a" if value is None else f"{value:.4f}"
        print(f"{name:<14}{shown:>8}{metrics['truth_pixels_per_class'][name]:>12,}")
