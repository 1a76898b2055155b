"""A real small disk for the fault tests: a 2 MiB tmpfs, filled to leave as much room as a test asks for."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

import testkit
from landcover_qgis_plugin.core.geotiff import write_geotiff
from landcover_qgis_plugin.core.modelfile import LANDCOVER_AI_CLASSES

DISK_KB = 2048
FILL = "fill"
DEEPNESS_KEYS = {"model_type": "Segmentor", "resolution": 50, "tile_size": 64,
                 "class_names": [c.name for c in LANDCOVER_AI_CLASSES]}


class SmallDisk:
    """A mounted tmpfs of DISK_KB, filled on demand to leave a given room."""

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def mount(cls, path: Path) -> "SmallDisk | str":
        """The disk, or why it cannot be had here (not root, no tmpfs)."""
        if getattr(os, "geteuid", lambda: 1)() != 0:
            return "a real full disk needs a tmpfs mount, which needs root (CI runs as root)"
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_KB}k", "tmpfs", str(path)],
                              capture_output=True, text=True)
        if done.returncode:
            return f"tmpfs could not be mounted: {done.stderr.strip()}"
        return cls(path)

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], capture_output=True)

    def empty(self) -> None:
        for entry in self.path.iterdir():
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()

    def leave(self, free_kb: int, keep: bool = False) -> None:
        """Fill the disk to leave `free_kb` free: empty first unless `keep` (the files already there)."""
        if not keep:
            self.empty()
        used = shutil.disk_usage(self.path).used // 1024
        with open(self.path / FILL, "wb") as stream:
            stream.write(b"\0" * ((DISK_KB - used - free_kb) * 1024))

    def files(self) -> set[str]:
        """What is on the disk besides the filling (hidden temporaries included)."""
        return {entry.name for entry in self.path.iterdir() if entry.name != FILL}


def speckled_raster(path: Path, size: int = 256, cell: int = 4, seed: int = 0) -> Path:
    """A raster of random palette cells: hundreds of polygons per class, specks to sieve, holes to fill."""
    rng = np.random.default_rng(seed)
    colours = np.array(list(testkit.PALETTE.values()), np.uint8)
    image = np.kron(colours[rng.integers(0, len(colours), (size // cell, size // cell))],
                    np.ones((cell, cell, 1), np.uint8))
    return write_geotiff(path, image, (500_000.0, 600_000.0), 0.5, crs=2056)


def colour_onnx_model(path: Path) -> Path:
    """The colour model in ONNX (no Keras to load): 50 cm/px, 64 px tiles."""
    return testkit.colour_onnx(path, DEEPNESS_KEYS)
