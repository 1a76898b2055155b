"""Cut orthophotos and masks into tiles exactly like LandCover.ai's official `split.py`.

The official lists (train.txt, val.txt, test.txt) name tiles `{image_stem}_{k}`, where k numbers
EVERY cell of the 512 px grid row-major, including the partial edge cells that are dropped, so
the numbering here must match it cell for cell or the lists point at the wrong tiles. Images are
streamed one strip of tiles at a time with GDAL (a 9000x9500 orthophoto never sits in memory),
tiles are written as JPEG at OpenCV's default quality (what the official script produced) and
masks as one-band PNG.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator, NamedTuple

import numpy as np

from landcover_qgis_plugin.core.errors import InputError, OutputError
from landcover_qgis_plugin.core.files import atomic_output, atomic_write_text

TILE_SIZE = 512
JPEG_QUALITY = 95            # cv2.imwrite's default, used by the official split.py
IMAGE_SUFFIX = ".jpg"
MASK_SUFFIX = "_m.png"
RASTER_SUFFIXES = (".tif", ".tiff")
DONE_DIR = ".cut"            # per-image markers inside the output folder: what is already cut


class Cell(NamedTuple):
    k: int      # official tile number within its image
    row: int    # top pixel row of the tile
    col: int    # left pixel column of the tile


def grid_cells(height: int, width: int, tile_size: int = TILE_SIZE) -> Iterator[Cell]:
    """Full tiles of an image with their official numbers; partial cells are skipped but counted."""
    if tile_size < 1:
        raise InputError(f"Tile size must be a positive number of pixels, got {tile_size}.")
    columns = -(-width // tile_size)
    for grid_row, row in enumerate(range(0, height, tile_size)):
        for grid_col, col in enumerate(range(0, width, tile_size)):
            if row + tile_size <= height and col + tile_size <= width:
                yield Cell(grid_row * columns + grid_col, row, col)


def tile_id(stem: str, k: int) -> str:
    return f"{stem}_{k}"


def tile_ids(stem: str, height: int, width: int, tile_size: int = TILE_SIZE) -> list[str]:
    """Ids of an image's full tiles, as the official lists name them."""
    return [tile_id(stem, cell.k) for cell in grid_cells(height, width, tile_size)]


def tile_paths(out_dir: str | Path, tile: str) -> tuple[Path, Path]:
    """(image, mask) file of a tile id inside a prepared-tiles `output/` folder."""
    out_dir = Path(out_dir)
    return out_dir / f"{tile}{IMAGE_SUFFIX}", out_dir / f"{tile}{MASK_SUFFIX}"


def read_id_list(path: str | Path) -> list[str]:
    """Tile ids of a list file: the first column of each line; blank lines and '#' comments ignored.

    So a ranked table such as 'id  miou' (e.g. the lowest-IoU tiles of an evaluation) works as is.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"Tile list '{path}' not found; give a text file with one tile id per line.")
    ids = []
    for line in path.read_text().splitlines():
        fields = line.split("#", 1)[0].split()
        if fields:
            ids.append(fields[0])
    return ids


def _gdal():
    from osgeo import gdal
    return gdal


def _open_raster(path: Path):
    gdal = _gdal()
    try:
        dataset = gdal.Open(str(path))
    except RuntimeError as error:           # when some other code enabled GDAL exceptions
        raise InputError(f"Cannot read raster '{path}': {error}") from None
    if dataset is None:
        raise InputError(f"Cannot read raster '{path}': {gdal.GetLastErrorMsg() or 'not a raster GDAL knows'}.")
    return dataset


def _write_tile(driver_name: str, path: Path, bands: np.ndarray, options: list[str]) -> None:
    """Write a (bands, rows, cols) uint8 block through an in-memory dataset: JPEG/PNG only CreateCopy."""
    gdal = _gdal()
    count, rows, cols = bands.shape
    memory = gdal.GetDriverByName("MEM").Create("", cols, rows, count, gdal.GDT_Byte)
    for index in range(count):
        memory.GetRasterBand(index + 1).WriteArray(bands[index])
    with atomic_output(path, overwrite=True) as partial:
        written = gdal.GetDriverByName(driver_name).CreateCopy(str(partial), memory, strict=0, options=options)
        if written is None:
            raise OutputError(f"Could not write tile '{path}': {gdal.GetLastErrorMsg()}")
        written.FlushCache()
        written = None


def _marker_path(out_dir: Path, stem: str) -> Path:
    return out_dir / DONE_DIR / f"{stem}.json"


def _source_state(image_path: Path, mask_path: Path, tile_size: int) -> dict:
    """What a finished cut depends on: a changed source or tile size means cutting again."""
    def stamp(path: Path) -> list[int]:
        info = path.stat()
        return [info.st_size, info.st_mtime_ns]
    return {"tile_size": tile_size, "image": stamp(image_path), "mask": stamp(mask_path)}


def _already_cut(out_dir: Path, stem: str, state: dict) -> int | None:
    """Number of tiles of an image cut by an earlier run, or None when it must be cut (again)."""
    marker = _marker_path(out_dir, stem)
    try:
        done = json.loads(marker.read_text())
    except (FileNotFoundError, ValueError):
        return None
    if done.get("source") != state:
        return None
    ids = done.get("tiles", [])
    if not all(path.is_file() for tile in ids for path in tile_paths(out_dir, tile)):
        return None
    return len(ids)


def _find_mask(masks_dir: Path, stem: str) -> Path:
    for suffix in RASTER_SUFFIXES:
        candidate = masks_dir / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    raise InputError(f"No mask for image '{stem}' in '{masks_dir}' (expected {stem}.tif); "
                     "every image needs a mask with the same file name.")


def cut_image(image_path: Path, mask_path: Path, out_dir: Path, tile_size: int = TILE_SIZE) -> list[str]:
    """Cut one orthophoto and its mask; returns the ids of the tiles written."""
    image = _open_raster(image_path)
    mask = _open_raster(mask_path)
    width, height = image.RasterXSize, image.RasterYSize
    if (mask.RasterXSize, mask.RasterYSize) != (width, height):
        raise InputError(f"Mask '{mask_path}' is {mask.RasterXSize}x{mask.RasterYSize} px but image "
                         f"'{image_path}' is {width}x{height} px; they must share one grid.")
    if image.RasterCount < 3:
        raise InputError(f"Image '{image_path}' has {image.RasterCount} band(s); RGB (3 bands) is needed.")
    gdal = _gdal()
    for source, bands in ((image, (1, 2, 3)), (mask, (1,))):
        for band in bands:
            if source.GetRasterBand(band).DataType != gdal.GDT_Byte:
                raise InputError(f"'{source.GetDescription()}' band {band} is not 8-bit; LandCover.ai "
                                 "images and masks are 8-bit (Byte) rasters.")
    stem = image_path.stem
    written: list[str] = []
    cells = list(grid_cells(height, width, tile_size))
    strip_width = max((cell.col + tile_size for cell in cells), default=0)
    for row in sorted({cell.row for cell in cells}):
        # One strip of full tiles at a time keeps memory at a few tens of MB for any image size.
        pixels = image.ReadAsArray(0, row, strip_width, tile_size, band_list=[1, 2, 3])
        labels = mask.GetRasterBand(1).ReadAsArray(0, row, strip_width, tile_size)
        for cell in (c for c in cells if c.row == row):
            window = slice(cell.col, cell.col + tile_size)
            tile = tile_id(stem, cell.k)
            image_tile, mask_tile = tile_paths(out_dir, tile)
            _write_tile("JPEG", image_tile, pixels[:, :, window], [f"QUALITY={JPEG_QUALITY}"])
            _write_tile("PNG", mask_tile, labels[np.newaxis, :, window], [])
            written.append(tile)
    return written


def cut_tiles(images_dir: str | Path, masks_dir: str | Path, out_dir: str | Path,
              tile_size: int = TILE_SIZE) -> int:
    """Cut every image of `images_dir` with its mask into `out_dir`; returns the number of tiles.

    The count includes tiles an earlier run already cut: an image is skipped when its marker
    says it was finished from the same source files at the same tile size and its tiles exist.
    """
    from tqdm import tqdm

    images_dir, masks_dir, out_dir = Path(images_dir), Path(masks_dir), Path(out_dir)
    images = sorted(p for p in images_dir.glob("*") if p.suffix.lower() in RASTER_SUFFIXES)
    if not images:
        raise InputError(f"No GeoTIFF images (*.tif) in '{images_dir}'; point at a LandCover.ai "
                         "folder holding images/ and masks/.")
    (out_dir / DONE_DIR).mkdir(parents=True, exist_ok=True)
    total = 0
    for image_path in tqdm(images, desc="Cutting tiles", unit="image"):
        mask_path = _find_mask(masks_dir, image_path.stem)
        state = _source_state(image_path, mask_path, tile_size)
        done = _already_cut(out_dir, image_path.stem, state)
        if done is None:
            tiles = cut_image(image_path, mask_path, out_dir, tile_size)
            atomic_write_text(_marker_path(out_dir, image_path.stem), json.dumps({"source": state, "tiles": tiles}),
                              overwrite=True)
            done = len(tiles)
        total += done
    return total
