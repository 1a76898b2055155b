"""Many orthophoto sheets read as one raster: a GDAL VRT mosaic, so there is no seam at sheet borders.

Decisions (quoted in the README):

* **What counts as an input.** Raster files, folders (every raster file in them, not recursing),
  glob patterns (`sheets/*.tif`, `**` recursing), list files (`.txt` / `.lst`: one path per line,
  relative to the list; `#` comments), tile indexes (a vector file whose features' `location` field,
  gdaltindex's, holds each sheet's path, relative to the index) and VRTs. Duplicates count once.
* **One mosaic.** The sheets become one VRT (`gdal.BuildVRT`): a tile near a sheet's edge sees its
  neighbour's pixels, so the result is that of one big raster of the same pixels. Where sheets
  overlap, the one listed last wins (GDAL's rule; inputs keep their order, folders and globs sorted).
* **Mixed inputs.** All sheets must share a CRS (else one error naming the first that differs and
  the `gdalwarp` that fixes it) and a band count; differing resolutions are mosaicked at the finest,
  the coarser sheets resampled bilinearly (and said so).
"""
from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from osgeo import gdal, ogr, osr

from .errors import InputError
from .gdalio import WriteCheck, call_gdal, close_dataset, gdal_errors

MOSAIC_VRT = "mosaic.vrt"   # the name of the sheets' VRT (a scratch or run folder holds it)

LIST_SUFFIXES = (".txt", ".lst")
INDEX_SUFFIXES = (".gpkg", ".shp", ".geojson", ".fgb", ".sqlite")
RASTER_SUFFIXES = (".tif", ".tiff", ".jp2", ".img", ".vrt", ".png", ".jpg", ".jpeg", ".ecw", ".sid", ".webp")
INDEX_FIELD = "location"      # what gdaltindex writes
RESOLUTION_TOLERANCE = 1e-6   # relative: sheets whose pixel sizes differ by less are one resolution


@dataclass(frozen=True)
class Mosaic:
    path: str             # the raster to classify: the one input itself, or the VRT of all of them
    sheets: tuple[str, ...]
    note: str             # for summaries: how the sheets were put together ("" for one raster)


def expand_inputs(items: Sequence[str]) -> list[str]:
    """The raster files that `items` name (files, folders, globs, list files, tile indexes), in order."""
    found: list[str] = []
    for item in items:
        found += _expand(str(item))
    unique = list(dict.fromkeys(found))
    if not unique:
        raise InputError(f"No raster found in {', '.join(repr(str(i)) for i in items)}; give raster files, a "
                         f"folder holding them ({', '.join(RASTER_SUFFIXES[:4])}, ...), a glob, a list file or a "
                         "tile index.")
    return unique


def _expand(item: str) -> list[str]:
    path = Path(item)
    if any(char in item for char in "*?["):
        matches = sorted(glob.glob(item, recursive=True))
        if not matches:
            raise InputError(f"The pattern '{item}' matches no file; check it (quote it so the shell leaves it "
                             "to us).")
        return [m for m in matches if Path(m).suffix.lower() in RASTER_SUFFIXES]
    if path.is_dir():
        return sorted(str(p) for p in path.iterdir() if p.is_file() and p.suffix.lower() in RASTER_SUFFIXES)
    if path.suffix.lower() in LIST_SUFFIXES and path.is_file():
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        return [_relative_to(line, path.parent) for line in lines if line and not line.startswith("#")]
    if path.suffix.lower() in INDEX_SUFFIXES and path.is_file():
        return _index_locations(path)
    return [item]   # a raster file, or anything GDAL opens (a connection string): checked when opened


def _relative_to(location: str, folder: Path) -> str:
    return location if Path(location).is_absolute() else os.path.normpath(folder / location)


def _index_locations(path: Path) -> list[str]:
    with gdal_errors():
        dataset = ogr.Open(str(path))
    if dataset is None:
        raise InputError(f"Tile index '{path}' could not be opened as a vector file ({gdal_errors.last()}).")
    try:
        layer = dataset.GetLayer(0)
        if layer.GetLayerDefn().GetFieldIndex(INDEX_FIELD) < 0:
            raise InputError(f"Tile index '{path}' has no '{INDEX_FIELD}' field naming each sheet's file (as "
                             "gdaltindex writes); add one, or give the sheets as files, a folder or a list.")
        return [_relative_to(feature.GetField(INDEX_FIELD), path.parent) for feature in layer
                if feature.GetField(INDEX_FIELD)]
    finally:
        close_dataset(dataset)


def build_mosaic(sheets: Sequence[str], vrt_path: str | Path) -> Mosaic:
    """One raster for the sheets: the sheet itself when there is one, else a VRT written at `vrt_path`."""
    if len(sheets) == 1:
        return Mosaic(sheets[0], tuple(sheets), "")
    first = _describe(sheets[0])
    sizes = {first.pixel_size}
    for sheet in sheets[1:]:
        other = _describe(sheet)
        if not other.srs.IsSame(first.srs):
            raise InputError(
                f"Sheet '{sheet}' is in {_crs_name(other.srs)}, sheet '{sheets[0]}' in {_crs_name(first.srs)}: one "
                f"mosaic needs one CRS. Warp the odd ones first (gdalwarp -t_srs {_crs_code(first.srs)} IN OUT) "
                "or classify each CRS's sheets separately.")
        if other.bands != first.bands:
            raise InputError(f"Sheet '{sheet}' has {other.bands} bands, sheet '{sheets[0]}' {first.bands}: one "
                             "mosaic needs the same bands in every sheet; pick them with gdal_translate -b first.")
        if not any(_close(other.pixel_size, size) for size in sizes):
            sizes.add(other.pixel_size)
    options = gdal.BuildVRTOptions(resolution="highest", resampleAlg="bilinear")
    vrt = call_gdal(f"The sheets could not be put together as one mosaic (first '{sheets[0]}')", gdal.BuildVRT,
                    str(vrt_path), list(sheets), options=options)
    with WriteCheck(vrt_path, "the mosaic of the sheets"):   # written as it closes
        close_dataset(vrt)
        del vrt
    note = f"{len(sheets)} sheets as one mosaic"
    if len(sizes) > 1:
        finest = min(sizes, key=lambda size: size[0] * size[1])
        note += (f" at the finest of {len(sizes)} resolutions ({finest[0]:.6g} x {finest[1]:.6g} CRS units per "
                 "pixel; coarser sheets resampled bilinearly)")
    return Mosaic(str(vrt_path), tuple(sheets), note)


@dataclass(frozen=True)
class _Sheet:
    srs: osr.SpatialReference
    bands: int
    pixel_size: tuple[float, float]


def _describe(sheet: str) -> _Sheet:
    dataset = call_gdal(f"Sheet '{sheet}' could not be opened as a raster; check the path and the file",
                        gdal.Open, sheet)
    try:
        wkt = dataset.GetProjection()
        if not wkt:
            raise InputError(f"Sheet '{sheet}' has no CRS; give it one (gdal_edit -a_srs EPSG:<code>) to mosaic it.")
        srs = osr.SpatialReference(wkt)
        geotransform = dataset.GetGeoTransform()
        return _Sheet(srs, dataset.RasterCount, (abs(geotransform[1]), abs(geotransform[5])))
    finally:
        close_dataset(dataset)


def _close(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return all(abs(x - y) <= RESOLUTION_TOLERANCE * max(abs(x), abs(y)) for x, y in zip(a, b))


def _crs_code(srs: osr.SpatialReference) -> str:
    srs = srs.Clone()
    srs.AutoIdentifyEPSG()
    authority, code = srs.GetAuthorityName(None), srs.GetAuthorityCode(None)
    return f"{authority}:{code}" if authority and code else "'<the first sheet's CRS>'"


def _crs_name(srs: osr.SpatialReference) -> str:
    code = _crs_code(srs)
    name = srs.GetName() or "an unnamed CRS"
    return f"{name} ({code})" if not code.startswith("'") else name
