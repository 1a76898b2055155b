"""The engine on real GeoTIFFs with tiny real Keras models whose output is known.

Geometry (polygons where the painted shapes are, in the right CRS, to the pixel), seamless
stitching (against a prediction of the whole image at once), independence of the tile grid,
nodata, resampling, geographic CRSs, extents and masks, streaming strips, options, cancel.
"""
import dataclasses

import numpy as np
import pytest
from osgeo import gdal, ogr, osr
from scipy import ndimage
from shapely import wkb, wkt
from shapely.geometry import box

import testkit
from landcover_qgis_plugin.core import engine, tiling
from landcover_qgis_plugin.core.engine import SegmentationOptions, segment
from landcover_qgis_plugin.core.errors import Cancelled, InputError
from landcover_qgis_plugin.core.geotiff import write_geotiff
from landcover_qgis_plugin.core.limits import StreamLimits
from landcover_qgis_plugin.core.modelfile import LANDCOVER_AI_CLASSES, load_model

ORIGIN = (738_777.0, 600_000.0)  # EPSG:2180 metres where its scale factor is 1: planar areas are ground areas
RES = 0.5
SHAPES = [("building", 20, 60, 30, 90), ("woodland", 100, 200, 10, 120),
          ("water", 150, 280, 150, 250), ("road", 0, 300, 130, 140)]
EXACT = SegmentationOptions(min_area=0, fill_holes=0)


@pytest.fixture(scope="module")
def colour_model(tmp_path_factory):
    return str(testkit.save_colour_model(tmp_path_factory.mktemp("models") / "colour.keras", input_size=64))


@pytest.fixture(scope="module")
def blur_model(tmp_path_factory):
    return str(testkit.save_colour_model(tmp_path_factory.mktemp("models") / "blur.keras",
                                         input_size=96, blur=7))


@pytest.fixture(scope="module")
def painted(tmp_path_factory):
    path = tmp_path_factory.mktemp("rasters") / "painted.tif"
    return str(write_geotiff(path, testkit.paint(300, 260, SHAPES), ORIGIN, RES))


def truth_classes(height=300, width=260, shapes=SHAPES):
    classes = np.zeros((height, width), np.uint8)
    names = [c.name for c in LANDCOVER_AI_CLASSES]
    for name, r0, r1, c0, c1 in shapes:
        classes[r0:r1, c0:c1] = names.index(name)
    return classes


def shape_box(r0, r1, c0, c1, origin=ORIGIN, res=RES):
    return box(origin[0] + c0 * res, origin[1] - r1 * res, origin[0] + c1 * res, origin[1] - r0 * res)


def layer_polygons(gpkg, layer):
    dataset = ogr.Open(str(gpkg))
    return [(f.GetField("class"), f.GetField("value"), f.GetField("area_m2"),
             wkb.loads(bytes(f.GetGeometryRef().ExportToWkb()))) for f in dataset.GetLayerByName(layer)]


def smooth_colours(height, width, seed=0, sigma=6.0):
    """Building red fading into background grey: many pixels near the class boundary, whose class a
    darker tile edge (zero padding in the blur) flips, as real networks misjudge tile edges."""
    rng = np.random.default_rng(seed)
    share = ndimage.gaussian_filter(rng.normal(size=(height, width)), sigma)[..., np.newaxis]
    share = (share - share.min()) / (share.max() - share.min())
    red, grey = (np.array(testkit.PALETTE[name], float) for name in ("building", "background"))
    return (share * red + (1 - share) * grey).astype(np.uint8)


def whole_image_prediction(model_path, image, pad):
    """The model over the whole mirror-padded image in one call: what perfect stitching gives."""
    model, metadata = load_model(model_path)
    padded = np.pad(image.astype(np.float32), ((pad, pad), (pad, pad), (0, 0)), mode="reflect")
    probabilities = model.predict_on_batch(metadata.normalization.apply(padded)[np.newaxis])[0]
    return np.asarray(probabilities)[pad:-pad, pad:-pad]


def read(path):
    return gdal.Open(str(path)).ReadAsArray()


def test_polygons_land_exactly_on_the_painted_shapes(tmp_path, colour_model, painted):
    result = segment(painted, colour_model, tmp_path / "out.gpkg", tmp_path / "classes.tif",
                     tmp_path / "probabilities.tif", EXACT)
    assert result.layers == {"building": "building", "woodland": "woodland", "water": "water", "road": "road"}
    assert (result.width, result.height) == (260, 300) and result.pixel_size_m == pytest.approx(RES, rel=1e-3)
    np.testing.assert_array_equal(read(tmp_path / "classes.tif"), truth_classes())
    # The road crosses the woodland and the water: each polygon is its rectangle minus the road.
    road = shape_box(0, 300, 130, 140)
    for name, r0, r1, c0, c1 in SHAPES:
        expected = shape_box(r0, r1, c0, c1)
        expected = expected if name == "road" else expected.difference(road)
        (class_name, value, area, polygon), = layer_polygons(tmp_path / "out.gpkg", name)
        assert class_name == name and value == [c.name for c in LANDCOVER_AI_CLASSES].index(name)
        assert polygon.symmetric_difference(expected).area == pytest.approx(0.0, abs=1e-6)
        assert area == pytest.approx(expected.area, rel=1e-5)
        assert result.vector_area_ha[name] == pytest.approx(expected.area / 10_000, rel=1e-5)
        assert result.area_ha[name] == pytest.approx(expected.area / 10_000, rel=1e-5)
    # Same CRS as the input on every output.
    source_srs = osr.SpatialReference(gdal.Open(painted).GetProjection())
    vectors = ogr.Open(str(tmp_path / "out.gpkg"))
    layer_srs = vectors.GetLayerByName("building").GetSpatialRef()
    same = ["IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES"]
    assert layer_srs.IsSame(source_srs, same) and osr.SpatialReference(result.crs_wkt).IsSame(source_srs, same)
    assert gdal.Open(str(tmp_path / "classes.tif")).GetGeoTransform() == (ORIGIN[0], RES, 0, ORIGIN[1], 0, -RES)


def test_class_raster_is_styled_and_probabilities_are_percent(tmp_path, colour_model, painted):
    segment(painted, colour_model, raster_path=tmp_path / "classes.tif",
            probabilities_path=tmp_path / "probabilities.tif", options=EXACT)
    info = gdal.Info(str(tmp_path / "classes.tif"), format="json")
    band = info["bands"][0]
    assert band["categories"] == [c.name for c in LANDCOVER_AI_CLASSES]
    assert band["noDataValue"] == 255 and band["colorInterpretation"] == "Palette"
    entries = band["colorTable"]["entries"]
    assert [tuple(entries[c.value][:3]) for c in LANDCOVER_AI_CLASSES] == [c.rgb for c in LANDCOVER_AI_CLASSES]
    assert info["metadata"]["IMAGE_STRUCTURE"]["COMPRESSION"] == "DEFLATE" and band["block"] == [256, 256]
    probabilities = gdal.Open(str(tmp_path / "probabilities.tif"))
    assert [probabilities.GetRasterBand(i + 1).GetDescription() for i in range(5)] == \
        [f"{c.name} probability (%)" for c in LANDCOVER_AI_CLASSES]
    percent = probabilities.ReadAsArray()
    assert percent.max() <= 100
    truth = truth_classes()
    assert (np.take_along_axis(percent, truth[np.newaxis], 0)[0] == 100).mean() > 0.99


def test_stitching_matches_a_whole_image_prediction(tmp_path, blur_model):
    """Blended overlapping tiles agree with one pass over the whole image; plain tiles show seams."""
    image = smooth_colours(400, 380)
    path = write_geotiff(tmp_path / "smooth.tif", image, ORIGIN, RES)
    expected = np.argmax(whole_image_prediction(blur_model, image, pad=96), axis=-1)
    # a quarter of the tile: the 3 px its blur zero-pads at each tile edge then get next to no weight
    blended = segment(str(path), blur_model, raster_path=tmp_path / "blended.tif",
                      options=SegmentationOptions(overlap=0.25))
    seams = segment(str(path), blur_model, raster_path=tmp_path / "seams.tif",
                    options=SegmentationOptions(overlap=0.0))
    blended_wrong = read(tmp_path / "blended.tif") != expected
    seams_wrong = read(tmp_path / "seams.tif") != expected
    assert blended.tiles > seams.tiles > 1
    border = ndimage.maximum_filter(expected, 3) != ndimage.minimum_filter(expected, 3)
    assert blended_wrong.mean() < 0.0005 and not (blended_wrong & ~border).any()
    assert seams_wrong.sum() > 20 * max(blended_wrong.sum(), 1)
    # The control's errors sit on its tile borders: the seams blending removes.
    edge = np.zeros(expected.shape, bool)
    for start in range(0, 400, 96):
        edge[max(start - 3, 0):start + 3] = True
        edge[:, max(start - 3, 0):start + 3] = True
    assert seams_wrong[edge].sum() > 0.9 * seams_wrong.sum()


def test_result_does_not_depend_on_where_the_tile_grid_falls(tmp_path, blur_model):
    image = smooth_colours(420, 420, seed=1)
    shift_rows, shift_cols = 3, 5
    write_geotiff(tmp_path / "full.tif", image, ORIGIN, RES)
    write_geotiff(tmp_path / "shifted.tif", image[shift_rows:, shift_cols:],
                  (ORIGIN[0] + shift_cols * RES, ORIGIN[1] - shift_rows * RES), RES)
    quarter = SegmentationOptions(overlap=0.25)   # as in the test above
    segment(str(tmp_path / "full.tif"), blur_model, raster_path=tmp_path / "full_classes.tif", options=quarter)
    segment(str(tmp_path / "shifted.tif"), blur_model, raster_path=tmp_path / "shifted_classes.tif", options=quarter)
    full = read(tmp_path / "full_classes.tif")[shift_rows:, shift_cols:]
    shifted = read(tmp_path / "shifted_classes.tif")
    inner = (slice(20, -20), slice(20, -20))   # the raster edges see different mirror images
    full, shifted = full[inner], shifted[inner]
    differs = full != shifted
    border = ndimage.maximum_filter(full, 3) != ndimage.minimum_filter(full, 3)
    assert differs.mean() < 0.0005
    assert not (differs & ~border).any()


def test_nodata_and_transparency_stay_out_of_every_output(tmp_path, colour_model):
    image = testkit.paint(300, 260, SHAPES)
    alpha = np.full((300, 260), 255, np.uint8)
    alpha[:, 40:75] = 0          # cuts through the building
    alpha[200:, :] = 0           # whole tiles: skipped
    rgba = np.dstack([image, alpha])
    path = write_geotiff(tmp_path / "rgba.tif", rgba, ORIGIN, RES, colour_interpretation=(
        gdal.GCI_RedBand, gdal.GCI_GreenBand, gdal.GCI_BlueBand, gdal.GCI_AlphaBand))
    result = segment(str(path), colour_model, tmp_path / "out.gpkg", tmp_path / "classes.tif", options=EXACT)
    classes = read(tmp_path / "classes.tif")
    assert (classes[alpha == 0] == 255).all()
    np.testing.assert_array_equal(classes[alpha > 0], truth_classes()[alpha > 0])
    assert result.skipped_tiles > 0
    transparent = shape_box(0, 300, 40, 75).union(shape_box(200, 300, 0, 260))
    for name in result.layers:
        for *_, polygon in layer_polygons(tmp_path / "out.gpkg", name):
            assert polygon.intersection(transparent).area < 1e-6
    buildings = layer_polygons(tmp_path / "out.gpkg", "building")
    assert sorted(area for *_, area, _ in buildings) == pytest.approx([40 * 10 * RES ** 2, 40 * 15 * RES ** 2],
                                                                     rel=1e-5)

    # The same with a nodata value instead of an alpha band.
    rgb = image.copy()
    rgb[alpha == 0] = 0
    path = write_geotiff(tmp_path / "nodata.tif", rgb, ORIGIN, RES, nodata=0)
    segment(str(path), colour_model, raster_path=tmp_path / "nodata_classes.tif", options=EXACT)
    np.testing.assert_array_equal(read(tmp_path / "nodata_classes.tif"), classes)


def test_higher_resolution_input_is_resampled_in_place(tmp_path, colour_model):
    fine = np.repeat(np.repeat(testkit.paint(300, 260, SHAPES), 2, axis=0), 2, axis=1)  # 0.25 m
    path = write_geotiff(tmp_path / "fine.tif", fine, ORIGIN, RES / 2)
    result = segment(str(path), colour_model, tmp_path / "out.gpkg", tmp_path / "classes.tif", options=EXACT)
    assert (result.width, result.height) == (260, 300) and result.pixel_size_m == pytest.approx(RES, rel=1e-3)
    assert gdal.Open(str(tmp_path / "classes.tif")).GetGeoTransform() == (ORIGIN[0], RES, 0, ORIGIN[1], 0, -RES)
    agreement = (read(tmp_path / "classes.tif") == truth_classes()).mean()
    assert agreement > 0.98
    (*_, building), = layer_polygons(tmp_path / "out.gpkg", "building")
    expected = shape_box(20, 60, 30, 90)
    assert building.symmetric_difference(expected).area <= expected.length * RES


@pytest.mark.parametrize("crs", ["EPSG:3857", "EPSG:4326"])
def test_web_mercator_and_degrees_are_read_at_true_ground_resolution(tmp_path, colour_model, crs):
    """The same scene in its UTM zone, in Web Mercator and in degrees: the same ground areas and
    classes, outputs in the input's CRS."""
    utm_origin = (500_000.0, 5_800_000.0)   # UTM 33N, 52.3° N: a Mercator metre is 0.61 ground metres
    projected = write_geotiff(tmp_path / "utm.tif", testkit.paint(300, 260, SHAPES), utm_origin, RES, crs=32633)
    reference = segment(str(projected), colour_model, tmp_path / "utm.gpkg", options=EXACT)
    warped = tmp_path / "warped.tif"
    gdal.Warp(str(warped), str(projected), dstSRS=crs, resampleAlg="near", dstAlpha=True)
    result = segment(str(warped), colour_model, tmp_path / "out.gpkg", tmp_path / "classes.tif", options=EXACT)
    target = osr.SpatialReference()
    target.SetFromUserInput(crs)
    assert osr.SpatialReference(result.crs_wkt).IsSame(target)
    assert result.pixel_size_m == pytest.approx(RES, rel=0.01)
    if crs == "EPSG:3857":  # read at RES / cos(latitude) Mercator metres, not RES
        assert gdal.Open(str(tmp_path / "classes.tif")).GetGeoTransform()[1] == pytest.approx(
            RES / np.cos(np.radians(52.33)), rel=0.01)
    assert sum(result.area_ha.values()) == pytest.approx(sum(reference.area_ha.values()), rel=0.01)
    for name in ("building", "woodland", "water", "road"):
        assert result.area_ha[name] == pytest.approx(reference.area_ha[name], rel=0.05), name
        assert result.vector_area_ha[name] == pytest.approx(reference.vector_area_ha[name], rel=0.05), name
        attributes = sum(area for *_, area, _ in layer_polygons(tmp_path / "out.gpkg", name))
        assert attributes / 10_000 == pytest.approx(result.vector_area_ha[name], rel=1e-9)


def test_extent_and_mask_restrict_the_area_and_keep_the_grid(tmp_path, colour_model, painted):
    segment(painted, colour_model, raster_path=tmp_path / "full.tif", options=EXACT)
    full = read(tmp_path / "full.tif")
    # Extent: columns 30..180, rows 50..250 -> the same pixels as the full run there.
    extent = (ORIGIN[0] + 30 * RES, ORIGIN[1] - 250 * RES, ORIGIN[0] + 180 * RES, ORIGIN[1] - 50 * RES)
    options = SegmentationOptions(min_area=0, fill_holes=0, extent=extent)
    result = segment(painted, colour_model, raster_path=tmp_path / "extent.tif", options=options)
    assert (result.width, result.height) == (150, 200)
    assert gdal.Open(str(tmp_path / "extent.tif")).GetGeoTransform()[::3] == (extent[0], extent[3])
    np.testing.assert_array_equal(read(tmp_path / "extent.tif"), full[50:250, 30:180])
    # Mask: a triangle; outside it nodata, inside the full run's classes.
    width_m, height_m = 130.3, 150.7   # no pixel centre on the edge
    triangle = wkt.loads(f"POLYGON(({ORIGIN[0]} {ORIGIN[1]}, {ORIGIN[0] + width_m} {ORIGIN[1]}, "
                         f"{ORIGIN[0]} {ORIGIN[1] - height_m}, {ORIGIN[0]} {ORIGIN[1]}))")
    options = SegmentationOptions(min_area=0, fill_holes=0, mask_wkt=triangle.wkt)
    segment(painted, colour_model, tmp_path / "masked.gpkg", tmp_path / "masked.tif", options=options)
    masked = read(tmp_path / "masked.tif")
    rows, cols = np.mgrid[0:masked.shape[0], 0:masked.shape[1]]
    inside = (cols + 0.5) * RES / width_m + (rows + 0.5) * RES / height_m < 1.0
    assert (masked[~inside] == 255).all()
    np.testing.assert_array_equal(masked[inside], full[:masked.shape[0], :masked.shape[1]][inside])
    for name in ("building", "woodland", "water", "road"):
        for *_, polygon in layer_polygons(tmp_path / "masked.gpkg", name):
            assert polygon.difference(triangle).area < 2 * RES * RES * 300


def test_narrow_strips_stream_to_the_same_result(tmp_path, blur_model):
    """Wide rasters are cut into strips; a strip border must not change a single value."""
    image = smooth_colours(300, 700, seed=2)
    path = str(write_geotiff(tmp_path / "wide.tif", image, ORIGIN, RES))
    segment(path, blur_model, raster_path=tmp_path / "one.tif", probabilities_path=tmp_path / "one_p.tif")
    segment(path, blur_model, raster_path=tmp_path / "strips.tif", probabilities_path=tmp_path / "strips_p.tif",
            limits=StreamLimits(strip_width=256))
    np.testing.assert_array_equal(read(tmp_path / "strips.tif"), read(tmp_path / "one.tif"))
    np.testing.assert_array_equal(read(tmp_path / "strips_p.tif"), read(tmp_path / "one_p.tif"))


def test_scaled_16_bit_and_float_inputs_give_the_8_bit_result(tmp_path, colour_model, painted):
    image = testkit.paint(300, 260, SHAPES)
    segment(painted, colour_model, raster_path=tmp_path / "byte.tif", options=EXACT)
    sixteen_bit = write_geotiff(tmp_path / "uint16.tif", image.astype(np.uint16) * 257, ORIGIN, RES)
    twelve_bit = write_geotiff(tmp_path / "nbits12.tif", (image.astype(np.uint16) * 16),
                               ORIGIN, RES, creation_options=("NBITS=12", "PREDICTOR=1"))
    reflectance = write_geotiff(tmp_path / "float.tif", image.astype(np.float32) / 255, ORIGIN, RES)
    for source in (sixteen_bit, twelve_bit, reflectance):
        segment(str(source), colour_model, raster_path=tmp_path / f"{source.stem}_classes.tif", options=EXACT)
        np.testing.assert_array_equal(read(tmp_path / f"{source.stem}_classes.tif"),
                                      read(tmp_path / "byte.tif"))


def test_bgr_and_multiband_inputs_use_the_right_bands(tmp_path, colour_model, painted):
    image = testkit.paint(300, 260, SHAPES)
    segment(painted, colour_model, raster_path=tmp_path / "rgb.tif", options=EXACT)
    expected = read(tmp_path / "rgb.tif")
    labelled_bgr = write_geotiff(tmp_path / "bgr.tif", image[..., ::-1], ORIGIN, RES,
                                 colour_interpretation=(gdal.GCI_BlueBand, gdal.GCI_GreenBand,
                                                        gdal.GCI_RedBand))
    nir = np.dstack([image, np.full(image.shape[:2], 77, np.uint8)])
    unlabelled = write_geotiff(tmp_path / "rgbn.tif", nir, ORIGIN, RES, colour_interpretation=(
        gdal.GCI_Undefined,) * 4)
    segment(str(labelled_bgr), colour_model, raster_path=tmp_path / "bgr_classes.tif", options=EXACT)
    np.testing.assert_array_equal(read(tmp_path / "bgr_classes.tif"), expected)
    with pytest.raises(InputError, match="--bands"):
        segment(str(unlabelled), colour_model, raster_path=tmp_path / "rgbn_classes.tif", options=EXACT)
    options = SegmentationOptions(min_area=0, fill_holes=0, bands=(1, 2, 3))
    segment(str(unlabelled), colour_model, raster_path=tmp_path / "rgbn_classes.tif", options=options)
    np.testing.assert_array_equal(read(tmp_path / "rgbn_classes.tif"), expected)


def test_tta_reduced_precision_and_device(tmp_path, blur_model):
    image = smooth_colours(300, 300, seed=3)
    path = str(write_geotiff(tmp_path / "smooth.tif", image, ORIGIN, RES))
    plain = segment(path, blur_model, raster_path=tmp_path / "plain.tif",
                    options=SegmentationOptions(device="cpu"))
    assert plain.device == "CPU"
    flips = segment(path, blur_model, raster_path=tmp_path / "tta.tif", options=SegmentationOptions(tta=True))
    bf16 = segment(path, blur_model, raster_path=tmp_path / "bf16.tif",
                   options=SegmentationOptions(precision="bfloat16"))
    assert flips.tiles == plain.tiles and bf16.tiles == plain.tiles and bf16.device == "CPU (bfloat16)"
    # A box filter is symmetric, so the flips agree with the plain run away from class borders.
    assert (read(tmp_path / "tta.tif") == read(tmp_path / "plain.tif")).mean() > 0.999
    assert (read(tmp_path / "bf16.tif") == read(tmp_path / "plain.tif")).mean() > 0.98
    auto = segment(path, blur_model, raster_path=tmp_path / "auto.tif", options=SegmentationOptions(precision="auto"))
    assert auto.device in ("CPU", "CPU (bfloat16)")   # whichever measured faster, if it agreed
    assert (read(tmp_path / "auto.tif") == read(tmp_path / "plain.tif")).mean() > 0.98
    import keras
    if not keras.distribution.list_devices("gpu"):
        with pytest.raises(InputError, match="no GPU"):
            segment(path, blur_model, raster_path=tmp_path / "gpu.tif",
                    options=SegmentationOptions(device="gpu"))


def test_cancel_between_batches_leaves_nothing_and_keeps_old_outputs(tmp_path, colour_model, painted):
    (tmp_path / "classes.tif").write_bytes(b"previous result")
    calls = []
    with pytest.raises(Cancelled):
        segment(painted, colour_model, tmp_path / "out.gpkg", tmp_path / "classes.tif",
                tmp_path / "probabilities.tif", SegmentationOptions(overwrite=True, batch_size=2),
                is_cancelled=lambda: calls.append(1) or len(calls) > 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["classes.tif"]
    assert (tmp_path / "classes.tif").read_bytes() == b"previous result"


def test_cancel_while_vectorising(tmp_path, colour_model, painted):
    progress = []
    with pytest.raises(Cancelled):
        segment(painted, colour_model, tmp_path / "out.gpkg", options=EXACT,
                progress=lambda percent, message: progress.append(percent),
                is_cancelled=lambda: bool(progress) and progress[-1] >= engine.INFERENCE_SHARE)
    assert list(tmp_path.iterdir()) == []


def test_progress_rises_to_100(tmp_path, colour_model, painted):
    seen = []
    result = segment(painted, colour_model, tmp_path / "out.gpkg", options=EXACT,
                     progress=lambda percent, message: seen.append((percent, message)))
    percents = [p for p, _ in seen]
    assert percents == sorted(percents) and percents[-1] == 100.0
    assert any("tile" in m for _, m in seen) and any("polygons" in m.lower() for _, m in seen)
    grid = tiling.TileGrid.from_fraction(64, SegmentationOptions().overlap)
    assert result.tiles + result.skipped_tiles == len(grid.starts(0, 300)) * len(grid.starts(0, 260))
    assert set(result.timings) == {"read", "model", "blend", "write", "vectorize"}


def test_edge_collars_are_masked_and_black_inside_the_image_is_kept(tmp_path, colour_model):
    """Warped to degrees without a nodata value, the scene gets black wedges along its edges (it lies
    west of its UTM zone's central meridian, so north turns by some 3°)."""
    utm_origin = (250_000.0, 5_800_000.0)
    image = testkit.paint(300, 260, SHAPES)
    image[150:160, 20:30] = 0                      # a black roof inside the image: not a collar
    projected = write_geotiff(tmp_path / "utm.tif", image, utm_origin, RES, crs=32633)
    reference = segment(str(projected), colour_model, raster_path=tmp_path / "utm.tif.classes.tif", options=EXACT)
    collared = tmp_path / "collared.tif"
    gdal.Warp(str(collared), str(projected), dstSRS="EPSG:4326", resampleAlg="near")   # no alpha, no nodata
    corner = gdal.Open(str(collared)).ReadAsArray(0, 0, 1, 1)
    assert (corner == 0).all()                     # the collar is there, in every band
    masked = segment(str(collared), colour_model, raster_path=tmp_path / "masked.tif", options=EXACT)
    kept = segment(str(collared), colour_model, raster_path=tmp_path / "kept.tif",
                   options=dataclasses.replace(EXACT, collars=False))
    assert "an edge collar masked" in masked.reading and "collar" not in kept.reading
    assert reference.reading == "read pixel for pixel, 50 cm on the ground"
    assert kept.reading.startswith("read at 50 cm on the ground from its ") and "cm geographic pixels" in kept.reading
    # Within a seam of one pixel along the collar (the resampling kernel), 2 % of so small a scene.
    assert sum(masked.area_ha.values()) == pytest.approx(sum(reference.area_ha.values()), rel=0.02)
    assert sum(kept.area_ha.values()) > 1.05 * sum(reference.area_ha.values())   # the wedges counted too
    classes = read(tmp_path / "masked.tif")
    assert classes[0, 0] == 255 and classes[-1, -1] == 255
    # the collar did not turn into background (it would add some 16 %); the seam lies in background
    assert masked.area_ha["background"] == pytest.approx(reference.area_ha["background"], rel=0.04)


def test_a_declared_nodata_value_stays_out_of_the_outputs(tmp_path, colour_model):
    image = testkit.paint(300, 260, SHAPES)
    image[:, :50] = 7                              # an undeclared nodata value, in every band
    path = write_geotiff(tmp_path / "seven.tif", image, ORIGIN, RES)
    segment(str(path), colour_model, raster_path=tmp_path / "classes.tif",
            options=dataclasses.replace(EXACT, nodata=7.0))
    classes = read(tmp_path / "classes.tif")
    assert (classes[:, :50] == 255).all() and (classes[:, 50:] != 255).all()
