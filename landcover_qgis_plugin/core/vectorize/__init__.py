"""Class raster -> one polygon layer per class in one GeoPackage, with no gaps between classes.

Modules: `options` (what the caller chooses), `pipeline` (the three passes below), `sieve`,
`trace` (streamed polygonize, rings joined across band cuts), `scratch` (the scratch files between
the passes), `simplify` (shared boundaries), `squaring` (buildings), `writer` (the GeoPackage);
`streaming` (row bands) and `rings` (integer pixel rings) serve several of them.

Decisions (quoted in the README):

* **Streaming.** The raster is read in bands of whole rows (`StreamLimits.band_pixels` pixels each,
  at least one row; limits.py), so memory does not grow with the raster: rasters far larger than
  memory work, and time grows linearly. Blocks GDAL cached for a band are released once the band is done. One polygon
  is as big as its region, and a road network or forest can span a whole mosaic, so a region whose
  traced outline passes `max_vertices` (default a million) is split along a band's cut line into
  several polygons of its class (as ArcGIS' "maximum vertices per polygon" does); the rows where
  that happened keep all their vertices through simplification, so the parts still fit together.
  Neither of GDAL's own tools runs on the whole raster: its polygonize (3.6, as in Debian 12 and
  QGIS 3.22) holds every polygon until it ends (the 64 km² benchmark at 50 cm peaked at 1.8 GB
  and took 275 s to vectorise) and its sieve keeps some 24 bytes per region fragment. Three
  passes, each writing a scratch file beside the output:
  1. *Sieve* (below) into a scratch GeoTIFF: GDAL's own sieve on rasters up to
     `StreamLimits.whole_sieve_pixels` (16.8 Mpx: 4x faster, at most ~400 MB), streamed above.
  2. *Trace*: GDAL's polygonize of each band on its own, in exact integer pixel coordinates.
     Polygons that do not reach the band's cut lines are final and go straight to a scratch
     GeoPackage. Those that do are held and matched with the pieces of the next band that
     continue them (same class on both sides of a stretch of the cut); once none of a region's
     pieces reaches the next cut, they are joined (`_joined`: edges cancelled along the cuts,
     the rest relinked, exact on integers) and written. So only the regions crossing the
     current cut are in memory, and each comes out as the very polygon, ring for ring, that one
     pass over the whole raster traces (the tests compare the two), unless it is split.
  3. *Write*: each traced polygon is cleaned (holes, simplification, squaring) and written.
* **Polygons** come from GDAL's polygonize of the class raster (4-connected), so neighbouring
  classes share their edges exactly; nodata pixels belong to no polygon.
* **Minimum area** (default 2 m², every class; core/options.py): regions smaller than it are
  merged into their largest neighbour before tracing, so specks disappear without leaving holes or
  gaps, and the coverage stays complete. The rule is GDAL's sieve filter's, pixel for pixel (the
  tests compare them): 4-connected regions, the largest neighbour by pixel count, ties going to
  the neighbour met first in row order, and a region whose largest neighbour is itself too small
  taking that neighbour's choice (unchanged when the chain loops). It is streamed like tracing:
  regions are labelled band by band and joined across cuts, and a small region is decided once
  the sizes its choice depends on are final, normally within its band. One lying between regions
  that both continue below waits, with its few pixels, and they are rewritten when it is decided.
* **Small holes** (default 4 m²): holes of an output polygon smaller than
  this are filled; whatever lay inside such a hole (a speck of another class) is dropped, so layers
  never overlap.
* **Simplification** (default 1 pixel): Douglas-Peucker on *shared boundaries*, not on each polygon
  separately. Boundaries are cut into arcs at the pixel corners where three or more regions meet
  (read from the raster); each arc is simplified once in a canonical direction, and both polygons
  sharing it get the identical result, so simplified neighbours still fit together without
  slivers or overlaps (on the real LandCover.ai mask the simplified layers tile the raster to the
  square metre). Edges along nodata and the raster's border are never moved. A sliver whose arcs
  all collapse onto each other disappears (its neighbours close over it) and zero-width spikes are
  cut off.
* **Squaring** (optional, buildings): each building outline is rotated to the direction of its
  minimum-area bounding rectangle, every edge snapped to one of the two perpendicular axes (jogs
  shorter than 3 pixels absorbed), and rotated back; outlines that would become invalid or change
  area by more than a third are kept as they were.
* **Attributes**: `class` (name), `value` (class value) and `area_m2` (planar area in the layer's
  CRS, converted to m²). Each class gets its layer even when empty, named after the class.
"""
from .options import VectorOptions, VectorResult, kept_classes, layer_name
from .pipeline import sieve_threshold, vectorize, write_vectors

__all__ = ["VectorOptions", "VectorResult", "kept_classes", "layer_name", "sieve_threshold", "vectorize",
           "write_vectors"]
