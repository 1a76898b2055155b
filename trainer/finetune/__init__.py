"""`python -m trainer finetune`: a model file fine-tuned on the analyst's own labelled area.

Modules: `labels` (the image read as the engine reads it, at the model's ground resolution, and its
labels on that grid: a class raster, or polygons with a class field and an optional labelled area).

Decisions (quoted in the README):

* **The engine's own reading**: chips come from `core/raster.py`'s `RasterSource` at the model's
  resolution, so the network learns from pixels exactly as it will see them in QGIS (any CRS,
  nodata, alpha and collars left out).
* **Labels as analysts digitise**: a class raster in the model's class values (nodata: unlabelled),
  or polygons whose class field holds class names or values; with a labelled area (`--area`),
  everything inside it that no polygon covers is background, and outside it nothing is labelled.
"""
