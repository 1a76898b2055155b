"""The output GeoPackage: one layer per kept class, with the class, value and true ground area attributes."""
from __future__ import annotations

import os
from typing import Sequence

from osgeo import gdal, ogr, osr

from ..errors import OutputError
from ..modelfile import ClassInfo
from ..gdalio import call_gdal, close_dataset
from ..ground import GroundMeasure
from .options import layer_name

FEATURES_PER_TRANSACTION = 20_000


class Transactions:
    """A GeoPackage's inserts, committed every FEATURES_PER_TRANSACTION features: SQLite inserts are
    fast only inside a transaction, and no one transaction holds the whole output."""

    def __init__(self, dataset: ogr.DataSource, what: str):
        self._dataset, self._what, self._pending = dataset, what, 0
        dataset.StartTransaction()

    def create(self, layer: ogr.Layer, feature: ogr.Feature) -> None:
        if layer.CreateFeature(feature) != 0:
            raise OutputError(f"Writing {self._what} failed ({gdal.GetLastErrorMsg() or 'disk full?'}).")
        self._pending += 1
        if self._pending >= FEATURES_PER_TRANSACTION:
            self._dataset.CommitTransaction()
            self._dataset.StartTransaction()
            self._pending = 0

    def close(self) -> None:
        """Commit the last transaction and let go of the dataset (its owner closes it)."""
        self._dataset.CommitTransaction()
        self.release()

    def release(self) -> None:
        """Let go of the dataset without committing (the run failed; its owner closes it)."""
        self._dataset = None


class Writer:
    """One GeoPackage layer per kept class; features added one at a time in large transactions."""

    def __init__(self, path: str | os.PathLike, srs: osr.SpatialReference | None, kept: Sequence[ClassInfo],
                 measure: GroundMeasure):
        self._dataset = call_gdal(f"Could not create the GeoPackage '{path}'",
                                  ogr.GetDriverByName("GPKG").CreateDataSource, str(path), error=OutputError)
        self._layers: dict[int, ogr.Layer] = {}
        self._names = {c.value: c.name for c in kept}
        self._measure = measure
        self.area_m2 = {c.value: 0.0 for c in kept}
        self.count = {c.value: 0 for c in kept}
        for info in kept:
            layer = self._dataset.CreateLayer(layer_name(info.name), srs=srs, geom_type=ogr.wkbPolygon,
                                              options=["GEOMETRY_NAME=geom", f"DESCRIPTION={info.name}"])
            for name, kind in (("class", ogr.OFTString), ("value", ogr.OFTInteger), ("area_m2", ogr.OFTReal)):
                layer.CreateField(ogr.FieldDefn(name, kind))
            self._layers[info.value] = layer
        self._transactions = Transactions(self._dataset, "a polygon")

    def add(self, value: int, geometry: ogr.Geometry) -> None:
        layer = self._layers[value]
        area = self._measure.area_m2(geometry)
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("class", self._names[value])
        feature.SetField("value", int(value))
        feature.SetField("area_m2", float(area))
        feature.SetGeometry(geometry)
        self._transactions.create(layer, feature)
        self.area_m2[value] += area
        self.count[value] += 1

    def close(self) -> None:
        """Commit the last polygons and close the GeoPackage."""
        self._transactions.close()
        self.release()

    def release(self) -> None:
        """Close the GeoPackage as it is (after a failure: the caller discards the file)."""
        self._transactions.release()
        self._layers = {}
        if self._dataset is not None:
            close_dataset(self._dataset)
            self._dataset = None
