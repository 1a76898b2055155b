"""A LandCover.ai-shaped dataset folder: orthophotos placed over Poland, masks, split lists, manifest."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from landcover_qgis_plugin.core.errors import InputError, OutputExistsError
from landcover_qgis_plugin.core.files import atomic_write_text
from landcover_qgis_plugin.core.geotiff import write_geotiff

from ..tiles import TILE_SIZE, tile_ids
from .scene import SENSORS, generate_scene

# Easting and northing ranges well inside Poland in EPSG:2180 (PUWG 1992), metres.
POLAND_BOX_M = ((300_000.0, 740_000.0), (290_000.0, 690_000.0))
SPLIT_FRACTIONS = (0.70, 0.15, 0.15)   # 7470 / 1602 / 1602 tiles in the real lists
COARSE_EVERY = 5                       # 33 of the 41 real orthophotos are 25 cm/px, 8 are 50 cm/px
GENERATOR_VERSION = 3                  # 2: the detail pass (clutter.py); 3: lobed crowns, leaf clumps
MANIFEST = "synth.json"


@dataclass(frozen=True)
class _ImagePlan:
    stem: str
    resolution_m: float
    width: int
    height: int
    origin: tuple[float, float]
    scene_seed: int
    kind: str = "countryside"


def _plan_images(seed: int, images: int, size: int, towns: float = 0.0) -> list[_ImagePlan]:
    """Names, grids and places of a dataset's orthophotos, like the real ones: about the same ground
    extent each, most at 25 cm/px, one in five at 50 cm/px, scattered over Poland; round(towns x images)
    of them, drawn at random, are towns."""
    town_count = round(min(max(towns, 0.0), 1.0) * images)
    town_images = set(np.random.default_rng([seed, 7]).permutation(images)[:town_count].tolist())
    rng = np.random.default_rng([seed, 2180])
    plans = []
    for index in range(images):
        resolution = 0.5 if index % COARSE_EVERY == 1 else 0.25
        width_m = size * 0.25 * rng.uniform(0.97, 1.03)
        height_m = size * 0.25 * rng.uniform(1.0, 1.08)
        origin = (round(rng.uniform(*POLAND_BOX_M[0])), round(rng.uniform(*POLAND_BOX_M[1])))
        plans.append(_ImagePlan(f"synth-{seed}-{index:02d}", resolution, int(round(width_m / resolution)),
                                int(round(height_m / resolution)), origin,
                                int(np.random.SeedSequence([seed, index]).generate_state(1)[0]),
                                "town" if index in town_images else "countryside"))
    return plans


def _split(ids: list[str], seed: int) -> dict[str, list[str]]:
    """A random train/val/test split of tile ids in the real lists' proportions."""
    if len(ids) < 3:
        raise InputError(f"The images give only {len(ids)} tile(s); at least 3 are needed for train, val and "
                         "test. Use more or larger images (--images, --size) or a smaller --tile-size.")
    order = [ids[i] for i in np.random.default_rng([seed, 3]).permutation(len(ids))]
    validation = max(1, round(len(ids) * SPLIT_FRACTIONS[1]))
    test = max(1, round(len(ids) * SPLIT_FRACTIONS[2]))
    train = len(ids) - validation - test
    return {"train": order[:train], "val": order[train:train + validation], "test": order[train + validation:]}


def write_dataset(out_dir: str | Path = "data/synth", seed: int = 0, images: int = 6, size: int = 2048,
                  tile_size: int = TILE_SIZE, overwrite: bool = False, towns: float = 0.0,
                  sensor: str = "plain") -> Path:
    """Write a LandCover.ai-shaped dataset: images/*.tif, masks/*.tif, train.txt, val.txt, test.txt.

    `size` is the width in pixels of the 25 cm/px images (the real ones are about 9000); the
    50 cm/px ones cover the same ground in half the pixels. Lists name the tiles of `tile_size`
    by the official numbering. `towns`: the share of images that are towns instead of countryside;
    `sensor`: "plain" or "varied" cameras (scene.py). A folder already holding this very dataset is left
    as it is.
    """
    if images < 1 or size < 1:
        raise InputError(f"--images and --size must be positive (got {images} and {size}).")
    if not 0.0 <= towns <= 1.0 or sensor not in SENSORS:
        raise InputError(f"--towns must be a share from 0 to 1 (got {towns}) and --sensor one of {list(SENSORS)} "
                         f"(got '{sensor}').")
    parameters = {"generator_version": GENERATOR_VERSION, "seed": seed, "images": images, "size": size,
                  "tile_size": tile_size, "towns": towns, "sensor": sensor}

    def scenes():
        for plan in _plan_images(seed, images, size, towns):
            rgb, mask = generate_scene(plan.width, plan.height, plan.resolution_m, plan.scene_seed, plan.kind, sensor)
            yield plan.stem, rgb, mask, {"origin": plan.origin, "resolution_m": plan.resolution_m}

    return _write_images(Path(out_dir), parameters, scenes, overwrite)


def write_layout_dataset(out_dir: str | Path, layout: str | Path, copies: int = 2, seed: int = 0,
                         tile_size: int = TILE_SIZE, overwrite: bool = False, sensor: str = "plain") -> Path:
    """A dataset of `copies` orthophotos painted over one class layout (layout.py), e.g. a real LandCover.ai
    mask: every image has the layout's grid and CRS, and the layout as its mask."""
    from osgeo import gdal

    from .layout import paint_layout

    if copies < 1 or sensor not in SENSORS:
        raise InputError(f"--copies must be positive (got {copies}) and --sensor one of {list(SENSORS)}.")
    source = gdal.Open(str(layout))
    if source is None or source.RasterCount != 1:
        raise InputError(f"Layout '{layout}' must be a one-band raster of LandCover.ai classes (0-4), readable "
                         "by GDAL.")
    mask = source.ReadAsArray().astype(np.uint8)
    transform, crs = source.GetGeoTransform(), source.GetProjection()
    source = None
    if abs(transform[2]) > 0 or abs(transform[4]) > 0 or abs(abs(transform[1]) - abs(transform[5])) > 1e-9:
        raise InputError(f"Layout '{layout}' must be north-up with square pixels; warp it first (gdalwarp).")
    stem = Path(layout).stem
    parameters = {"generator_version": GENERATOR_VERSION, "layout": str(Path(layout).resolve()), "copies": copies,
                  "seed": seed, "tile_size": tile_size, "sensor": sensor}

    def scenes():
        for copy in range(copies):
            scene_seed = int(np.random.SeedSequence([seed, copy, 5]).generate_state(1)[0])
            yield (f"{stem}-painted-{copy}", paint_layout(mask, abs(transform[1]), scene_seed, sensor), mask,
                   {"transform": transform, "crs": crs or None})

    return _write_images(Path(out_dir), parameters, scenes, overwrite)


def _write_images(out: Path, parameters: dict, scenes, overwrite: bool) -> Path:
    """The dataset folder from `scenes()` (stem, rgb, mask, georeferencing), unless it already holds it."""
    tile_size = parameters["tile_size"]
    manifest = out / MANIFEST
    try:
        previous = json.loads(manifest.read_text())
    except (FileNotFoundError, ValueError):
        previous = {}
    if ({key: previous.get(key) for key in parameters} == parameters
            and all((out / name).is_file() for name in previous.get("files", []))):
        return out
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise OutputExistsError(f"'{out}' already holds other files; choose another --out or pass --overwrite "
                                "to replace the synthetic dataset there.")
    for name in previous.get("files", []):         # our own files from an earlier, different run
        (out / name).unlink(missing_ok=True)
    manifest.unlink(missing_ok=True)
    files, ids = [], []
    for stem, rgb, mask, place in scenes():
        for folder, array in (("images", rgb), ("masks", mask)):
            (out / folder).mkdir(parents=True, exist_ok=True)
            write_geotiff(out / folder / f"{stem}.tif", array, overwrite=True, **place)
            files.append(f"{folder}/{stem}.tif")
        ids += tile_ids(stem, mask.shape[0], mask.shape[1], tile_size)
    for split, split_ids in _split(ids, parameters["seed"]).items():
        atomic_write_text(out / f"{split}.txt", "".join(f"{tile}\n" for tile in split_ids), overwrite=True)
        files.append(f"{split}.txt")
    atomic_write_text(manifest, json.dumps({**parameters, "files": files}, indent=1), overwrite=True)
    return out
