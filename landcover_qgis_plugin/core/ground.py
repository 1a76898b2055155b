"""Measuring on the ground, whatever the CRS: metres per CRS unit at a place, and true areas.

Decisions (quoted in the README):

* **Ground resolution.** A CRS unit is seldom a ground metre: a Web Mercator metre is cos(latitude)
  ground metres (0.62 at 52° N), a degree of longitude N·cos(φ)·π/180 metres, and every projected
  CRS drifts from its nominal scale away from its natural origin. The scale at a point is measured
  on the CRS's own ellipsoid: a one-unit step east and north is taken to latitude and longitude and
  its length computed from the ellipsoid's radii of curvature there. The engine reads the raster at
  the resolution that gives the model its ground resolution at the centre of the area classified
  (square ground pixels: in degrees the two axes differ).
* **Areas are ellipsoidal.** Polygons, and the class raster stretch by stretch, are projected to a
  Lambert azimuthal equal-area projection on the same ellipsoid centred on the area; its planar
  areas are true areas on the ellipsoid, as QGIS's measure tools give them (to well under 0.1 % for
  anything smaller than a country). A CRS without an ellipsoid (a local engineering CRS) is
  measured in its own units.
"""
from __future__ import annotations

import math

from osgeo import ogr, osr

SEGMENTS_PER_EDGE = 16  # a rectangle's edges are curved in the equal-area projection


def spatial_reference(wkt: str) -> osr.SpatialReference:
    """A CRS with x = easting/longitude and y = northing/latitude, whatever its axis order."""
    srs = osr.SpatialReference()
    srs.ImportFromWkt(wkt)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


class GroundMeasure:
    """Scales and true areas of one CRS around one place (the centre of the area being classified)."""

    def __init__(self, srs: osr.SpatialReference | None, centre: tuple[float, float]):
        self.centre = centre
        self._planar = srs is None or not (srs.IsProjected() or srs.IsGeographic())
        if self._planar:  # no ellipsoid to measure on: the CRS's linear unit is taken as it is
            self._unit_m = float(srs.GetLinearUnits() or 1.0) if srs is not None else 1.0
            self.latitude = None
            return
        geographic = srs.CloneGeogCS()
        geographic.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        self._to_lonlat = osr.CoordinateTransformation(srs, geographic)
        lon, lat = self._to_lonlat.TransformPoint(*centre)[:2]
        self.latitude = lat
        equal_area = srs.CloneGeogCS()
        equal_area.SetProjCS("Lambert azimuthal equal-area around the area classified")
        equal_area.SetLAEA(lat, lon, 0.0, 0.0)
        equal_area.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        self._to_equal_area = osr.CoordinateTransformation(srs, equal_area)
        self._a = srs.GetSemiMajor()
        self._e2 = 1.0 - (srs.GetSemiMinor() / self._a) ** 2
        self._step = 1e-5 if srs.IsGeographic() else 1.0

    def scale(self, x: float | None = None, y: float | None = None) -> tuple[float, float]:
        """Ground metres per CRS unit along x and along y at (x, y) (default: the centre)."""
        if self._planar:
            return self._unit_m, self._unit_m
        x, y = (self.centre if x is None else (x, y))
        here = self._to_lonlat.TransformPoint(x, y)[:2]
        east = self._to_lonlat.TransformPoint(x + self._step, y)[:2]
        north = self._to_lonlat.TransformPoint(x, y + self._step)[:2]
        return self._length(here, east) / self._step, self._length(here, north) / self._step

    def _length(self, start: tuple[float, float], end: tuple[float, float]) -> float:
        """Metres between two nearby (lon, lat) points: the radii of curvature at their mid-latitude."""
        lat = math.radians((start[1] + end[1]) / 2.0)
        w = math.sqrt(1.0 - self._e2 * math.sin(lat) ** 2)
        meridian = self._a * (1.0 - self._e2) / w ** 3
        normal = self._a / w
        return math.hypot(normal * math.cos(lat) * math.radians(end[0] - start[0]),
                          meridian * math.radians(end[1] - start[1]))

    def pixel_size(self, resolution_m: float, srs: osr.SpatialReference, tolerance: float) -> tuple[float, float]:
        """CRS units per pixel along x and y for pixels of `resolution_m` on the ground here: square on
        the ground; in a projected CRS square in the CRS too, and the CRS's round value when within
        `tolerance` of it (a national CRS near its origin)."""
        kx, ky = self.scale()
        if srs.IsGeographic():
            return resolution_m / kx, resolution_m / ky
        size = resolution_m / math.sqrt(kx * ky)   # a projected CRS's two scales differ slightly (Web Mercator: 0.3 %)
        nominal = resolution_m / float(srs.GetLinearUnits() or 1.0)
        if abs(size - nominal) <= tolerance * nominal:
            size = nominal
        return size, size

    def area_m2(self, geometry: ogr.Geometry) -> float:
        """The true area of a polygon in the CRS."""
        if self._planar:
            return geometry.GetArea() * self._unit_m ** 2
        projected = geometry.Clone()
        projected.Transform(self._to_equal_area)
        return projected.GetArea()

    def rectangle_area_m2(self, xmin: float, ymin: float, xmax: float, ymax: float) -> float:
        """The true area of a rectangle of the CRS (its edges densified, as they curve on the ground)."""
        ring = ogr.Geometry(ogr.wkbLinearRing)
        for x, y in ((xmin, ymin), (xmax, ymin), (xmax, ymax), (xmin, ymax), (xmin, ymin)):
            ring.AddPoint_2D(x, y)
        box = ogr.Geometry(ogr.wkbPolygon)
        box.AddGeometry(ring)
        box.Segmentize(max(xmax - xmin, ymax - ymin) / SEGMENTS_PER_EDGE)
        return self.area_m2(box)

    def describe(self) -> str:
        """Where the scale was measured, for summaries."""
        if self._planar:
            return "planar (a CRS without an ellipsoid)"
        kx, ky = self.scale()
        return f"at {abs(self.latitude):.2f}° {'N' if self.latitude >= 0 else 'S'}, {kx:.4g} x {ky:.4g} m per CRS unit"
