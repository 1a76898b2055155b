"""Build a ground-truth class raster for a small orthophoto from hand-drawn labels and one colour rule.

    python tools/make_ground_truth.py IMAGE LABELS.geojson OUT.tif [--overlay OUT.png]

How the committed truths in bench/ground_truth/ were made (their README says more):

* **Buildings, roads and water are drawn by hand** (`LABELS.geojson`: polygons in the image's CRS
  with a `class` property), read off the image at 2-3x zoom on a 12.5 m grid, corners to about
  +-1.5 m. They are burnt in the order water, background (piers and moored boats on the water),
  woodland, not_woodland, road, building, so a roof drawn over a road or a tree stays a roof.
* **Woodland is the tree canopy found by a colour rule**, since hand-drawing every crown is neither
  repeatable nor better: some excess green 2G - R - B but not a sunlit lawn's, and not bright,
  opened and closed by a pixel, holes and specks under MIN_WOODLAND_M2 filled or dropped. `woodland`
  polygons add canopy the rule misses, `not_woodland` polygons remove what it takes for trees by
  mistake (lawns, shadowed grass).
* Classes are LandCover.ai's: 0 background, 1 building, 2 woodland, 3 water, 4 road. The image is
  read whole: this is for labelled areas of a few megapixels, not for whole orthophotos.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from osgeo import gdal, ogr, osr
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from landcover_qgis_plugin.core.files import atomic_output  # noqa: E402
from landcover_qgis_plugin.core.modelfile import LANDCOVER_AI_CLASSES  # noqa: E402

VALUE = {info.name: info.value for info in LANDCOVER_AI_CLASSES}
BURN_ORDER = ("water", "background", "woodland", "not_woodland", "road", "building")
# On 0..255 pixels, smoothed over 5x5 px: vegetation has excess green 2G - R - B; sunlit lawns have a lot
# of it (over 45 on SWISSIMAGE), tree crowns less, being darker and self-shaded, and shadows almost none.
EXCESS_GREEN_MIN = 10.0
LAWN_EXCESS_GREEN = 45.0
CANOPY_BRIGHTNESS_MAX = 115.0   # mean of R, G, B: brighter green is lawn or a green roof
MIN_WOODLAND_M2 = 20.0        # canopy patches and holes smaller than this are dropped / filled


def tree_canopy(rgb: np.ndarray, pixel_m2: float) -> np.ndarray:
    """The colour rule above on an (H, W, 3) uint8 image: a boolean canopy mask."""
    red, green, blue = (rgb[..., band].astype(np.float32) for band in range(3))
    brightness = ndimage.uniform_filter((red + green + blue) / 3, 5)
    excess_green = ndimage.uniform_filter(2 * green - red - blue, 5)
    canopy = ((excess_green > EXCESS_GREEN_MIN) & (excess_green < LAWN_EXCESS_GREEN) &
              (brightness < CANOPY_BRIGHTNESS_MAX))
    canopy = ndimage.binary_closing(ndimage.binary_opening(canopy), iterations=1)
    smallest = max(1, int(round(MIN_WOODLAND_M2 / pixel_m2)))
    canopy = _without_small(canopy, smallest)
    return ~_without_small(~canopy, smallest)


def _without_small(mask: np.ndarray, smallest: int) -> np.ndarray:
    labels, count = ndimage.label(mask)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    keep = sizes >= smallest
    keep[0] = False
    return keep[labels]


def burn(labels_path: Path, grid: gdal.Dataset, classes: np.ndarray) -> None:
    """Burn the hand-drawn polygons into `classes`, class by class in BURN_ORDER."""
    features = json.loads(labels_path.read_text())["features"]
    unknown = sorted({f["properties"]["class"] for f in features} - set(BURN_ORDER))
    if unknown:
        raise SystemExit(f"{labels_path}: unknown class(es) {unknown}; use {list(BURN_ORDER)}.")
    memory = gdal.GetDriverByName("MEM")
    for name in BURN_ORDER:
        polygons = [f for f in features if f["properties"]["class"] == name]
        if not polygons:
            continue
        target = memory.Create("", grid.RasterXSize, grid.RasterYSize, 1, gdal.GDT_Byte)
        target.SetGeoTransform(grid.GetGeoTransform())
        target.SetProjection(grid.GetProjection())
        source = ogr.GetDriverByName("Memory").CreateDataSource("")
        layer = source.CreateLayer(name, osr.SpatialReference(wkt=grid.GetProjection()), ogr.wkbPolygon)
        for polygon in polygons:    # coordinates in the image's CRS, whatever GeoJSON's default says
            feature = ogr.Feature(layer.GetLayerDefn())
            feature.SetGeometry(ogr.CreateGeometryFromJson(json.dumps(polygon["geometry"])))
            layer.CreateFeature(feature)
        gdal.RasterizeLayer(target, [1], layer, burn_values=[1])
        inside = target.GetRasterBand(1).ReadAsArray().astype(bool)
        classes[inside] = VALUE["background" if name == "not_woodland" else name]


def write_truth(out: Path, grid: gdal.Dataset, classes: np.ndarray) -> None:
    colours = gdal.ColorTable()
    for info in LANDCOVER_AI_CLASSES:
        colours.SetColorEntry(info.value, (*info.rgb, 255))
    with atomic_output(out, overwrite=True) as partial:
        dataset = gdal.GetDriverByName("GTiff").Create(str(partial), grid.RasterXSize, grid.RasterYSize, 1,
                                                       gdal.GDT_Byte, ["COMPRESS=DEFLATE", "PREDICTOR=2"])
        dataset.SetGeoTransform(grid.GetGeoTransform())
        dataset.SetProjection(grid.GetProjection())
        band = dataset.GetRasterBand(1)
        band.SetColorTable(colours)
        band.WriteArray(classes)
        dataset = None


def write_overlay(out: Path, rgb: np.ndarray, classes: np.ndarray) -> None:
    """The image with the classes' colours blended over it and building outlines, for checking by eye."""
    import matplotlib.pyplot as plt

    palette = np.array([info.rgb for info in LANDCOVER_AI_CLASSES], np.float32)
    blend = rgb.astype(np.float32) * 0.55 + palette[classes] * 0.45
    blend[classes == VALUE["background"]] = rgb[classes == VALUE["background"]]
    edges = classes != ndimage.grey_erosion(classes, size=3)
    blend[edges] = 255
    plt.imsave(out, blend.astype(np.uint8))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", type=Path)
    parser.add_argument("labels", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--overlay", type=Path, help="also write the image with the truth over it (PNG)")
    args = parser.parse_args(argv)
    grid = gdal.Open(str(args.image))
    if grid is None:
        raise SystemExit(f"Cannot open {args.image} with GDAL.")
    rgb = np.moveaxis(grid.ReadAsArray(band_list=[1, 2, 3]), 0, -1)
    transform = grid.GetGeoTransform()
    classes = np.where(tree_canopy(rgb, abs(transform[1] * transform[5])), VALUE["woodland"],
                       VALUE["background"]).astype(np.uint8)
    burn(args.labels, grid, classes)
    write_truth(args.out, grid, classes)
    if args.overlay:
        write_overlay(args.overlay, rgb, classes)
    shares = np.bincount(classes.ravel(), minlength=len(VALUE)) / classes.size
    print(f"Wrote {args.out}: " + ", ".join(f"{info.name} {share:.1%}"
                                            for info, share in zip(LANDCOVER_AI_CLASSES, shares)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
