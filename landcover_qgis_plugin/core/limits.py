"""How much of a raster the streamed passes hold at a time: the one place these sizes are set.

Larger limits mean fewer, bigger pieces (less overhead, more memory); smaller ones let tests make
a small raster cross many strip and band borders. Nothing here changes a result, only how the work
is cut up (the tests check that).
"""
from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class StreamLimits:
    strip_width: int = 8192          # pixels per classified vertical strip; a multiple of the output block size
    band_pixels: int = 4_000_000     # pixels per band of rows the vectoriser reads (some 20 bytes of memory each)
    holes_per_batch: int = 10_000    # small holes the vectoriser rasterises at a time
    # Rasters up to this many pixels are sieved by GDAL's own filter in one call: 4x faster than the
    # streamed sieve, but its memory grows with the regions (at most some 24 bytes a pixel: 400 MB here).
    whole_sieve_pixels: int = 16_777_216

    def __post_init__(self) -> None:
        for name in (f.name for f in fields(self)):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}.")
