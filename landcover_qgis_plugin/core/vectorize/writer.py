"""The output GeoPackage: one layer per kept class, with the class, value and true ground area attributes."""
from __future__ import annotations

import contextlib
import os
from typing import Sequence

from osgeo import gdal, ogr, osr

from ..errors import OutputError
from ..modelfile import ClassInfo
from ..gdalio import WriteCheck, close_dataset
from ..ground import GroundMeasure
from .options import layer_name

FEATURES_PER_TRANSACTION = 20_000


class Transactions:
    """A GeoPackage's inserts, committed every FEATURES_PER_TRANSACTION features: SQLite inserts are
    fast only inside a transaction, and no one transaction holds the whole output. Every insert and
    commit is checked (a full disk fails inside SQLite, often only at the commit)."""

    def __init__(self, dataset: ogr.DataSource, check: WriteCheck):
        self._dataset, self._check, self._pending = dataset, check, 0
        check.ok(dataset.StartTransaction)

    def create(self, layer: ogr.Layer, feature: ogr.Feature) -> None:
        self._check.ok(layer.CreateFeature, feature)
        self._pending += 1
        if self._pending >= FEATURES_PER_TRANSACTION:
            self._check.ok(self._dataset.CommitTransaction)
            self._check.ok(self._dataset.StartTransaction)
            self._pending = 0

    def close(self) -> None:
        """Commit the last transaction and let go of the dataset (its owner closes it)."""
        self._check.ok(self._dataset.CommitTransaction)
        self.release()

    def release(self) -> None:
        """Let go of the dataset without committing (the run failed; its owner closes it)."""
        self._dataset = None


ATTRIBUTES = (("class", ogr.OFTString), ("value", ogr.OFTInteger), ("area_m2", ogr.OFTReal))


def _create_layers(check: WriteCheck, srs: osr.SpatialReference | None,
                   kept: Sequence[ClassInfo]) -> tuple[ogr.DataSource, dict[int, ogr.Layer]]:
    """A new GeoPackage at `check.path` with one polygon layer per kept class (by value)."""
    dataset = check.made(ogr.GetDriverByName("GPKG").CreateDataSource, str(check.path))
    layers = {}
    for info in kept:
        layer = check.made(dataset.CreateLayer, layer_name(info.name), srs=srs, geom_type=ogr.wkbPolygon,
                           options=["GEOMETRY_NAME=geom", f"DESCRIPTION={info.name}"])
        for name, kind in ATTRIBUTES:
            check.ok(layer.CreateField, ogr.FieldDefn(name, kind))
        layers[info.value] = layer
    return dataset, layers


class Writer:
    """One GeoPackage layer per kept class; features added one at a time in large transactions; read back
    when closed (every layer there with the features written, SQLite's quick check passed)."""

    def __init__(self, path: str | os.PathLike, srs: osr.SpatialReference | None, kept: Sequence[ClassInfo],
                 measure: GroundMeasure):
        self._check = WriteCheck(path)
        self._names = {c.value: c.name for c in kept}
        self._measure = measure
        self.area_m2 = {c.value: 0.0 for c in kept}
        self.count = {c.value: 0 for c in kept}
        self._dataset, self._layers = _create_layers(self._check, srs, kept)
        self._transactions = Transactions(self._dataset, self._check)

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
        """Commit the last polygons, close the GeoPackage and read it back."""
        self._transactions.close()
        self._layers = {}
        dataset, self._dataset = self._dataset, None
        with self._check:
            close_dataset(dataset)
            del dataset
        verify_geopackage(self._check.path, {layer_name(self._names[v]): n for v, n in self.count.items()})

    def release(self) -> None:
        """Close the GeoPackage as it is (after a failure: the caller discards the file)."""
        self._transactions.release()
        self._layers = {}
        if self._dataset is not None:
            with contextlib.suppress(OutputError):
                with self._check:
                    close_dataset(self._dataset)
            self._dataset = None


def verify_geopackage(path: str | os.PathLike, features: dict[str, int]) -> None:
    """Open a GeoPackage just written: SQLite's quick check passes and each layer holds the `features`
    written to it; anything else is a failed write, never an output."""
    with WriteCheck(path) as check:
        dataset = gdal.OpenEx(str(path), gdal.OF_VECTOR | gdal.OF_READONLY)
        if dataset is None:
            check.fail("it cannot be opened again")
        result = dataset.ExecuteSQL("PRAGMA quick_check")
        verdict = result.GetNextFeature().GetField(0) if result is not None else "no answer"
        dataset.ReleaseResultSet(result)
        if verdict != "ok":
            check.fail(f"SQLite's check of the written file says: {verdict}")
        for name, count in features.items():
            layer = dataset.GetLayerByName(name)
            found = layer.GetFeatureCount() if layer is not None else None
            if found != count:
                check.fail(f"layer '{name}' reads back with {found} features instead of {count}")
        dataset = None
