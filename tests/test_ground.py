"""Ground scale and true areas (core/ground.py) against textbook values, in three CRSs."""
import math

import pytest
from osgeo import ogr, osr

from landcover_qgis_plugin.core.ground import GroundMeasure


def srs(code: int) -> osr.SpatialReference:
    reference = osr.SpatialReference()
    reference.ImportFromEPSG(code)
    reference.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return reference


def mercator(lon: float, lat: float) -> tuple[float, float]:
    radius = 6_378_137.0
    return radius * math.radians(lon), radius * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


@pytest.mark.parametrize("lat", [0.0, 35.0, 52.0, 64.0])
def test_a_web_mercator_metre_is_cos_latitude_ground_metres(lat):
    kx, ky = GroundMeasure(srs(3857), mercator(19.0, lat)).scale()
    # Spherical Mercator on the WGS 84 ellipsoid: cos(lat), corrected by the ellipsoid's radii (< 0.7 %).
    assert kx == pytest.approx(math.cos(math.radians(lat)), rel=0.007)
    assert ky == pytest.approx(kx, rel=0.007)


def test_a_degree_at_52_north_measures_its_ellipsoidal_lengths():
    kx, ky = GroundMeasure(srs(4326), (19.0, 52.0)).scale()
    assert kx == pytest.approx(68_678, rel=1e-4)    # one degree of longitude at 52° N, WGS 84
    assert ky == pytest.approx(111_267, rel=1e-4)   # one degree of latitude there


def test_the_same_square_has_the_same_true_area_in_three_crss():
    """100 m x 100 m in EPSG:2180 near its central meridian, in Web Mercator and in degrees."""
    square = ogr.CreateGeometryFromWkt(
        "POLYGON((500000 500000,500100 500000,500100 500100,500000 500100,500000 500000))")
    square.Segmentize(5.0)
    areas = []
    for code in (2180, 3857, 4326):
        shape = square.Clone()
        shape.Transform(osr.CoordinateTransformation(srs(2180), srs(code)))
        centre = shape.Centroid()
        areas.append(GroundMeasure(srs(code), (centre.GetX(), centre.GetY())).area_m2(shape))
    # EPSG:2180's scale is 0.9993 on its central meridian: a map square metre is 1 / 0.9993^2 on the ground.
    assert areas == pytest.approx([100 * 100 / 0.9993 ** 2] * 3, rel=2e-6)


def test_a_crs_without_an_ellipsoid_is_measured_in_its_own_units():
    local = osr.SpatialReference()
    local.SetLocalCS("site grid")
    local.SetLinearUnits("foot", 0.3048)
    measure = GroundMeasure(local, (0.0, 0.0))
    assert measure.scale() == (0.3048, 0.3048)
    assert measure.rectangle_area_m2(0, 0, 10, 10) == pytest.approx(100 * 0.3048 ** 2)
