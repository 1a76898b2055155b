"""QGIS-free core of the plugin: model files, raster reading, tiling, blending, vectorising.

Nothing under this package imports QGIS, so the trainer, the command line and the tests use it
headless; the plugin's QGIS glue sits thin on top of it.
"""
