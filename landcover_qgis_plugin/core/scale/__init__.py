"""Country scale: one mosaic cut into blocks of the tile grid, classified by Dask workers into a run
folder that survives kills, then put together and vectorised (see runner.py)."""
