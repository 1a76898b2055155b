"""Every bad input gets one clear error naming it and saying what to do, and nothing is written."""
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

import testkit
from landcover_qgis_plugin.core.engine import SegmentationOptions, segment
from landcover_qgis_plugin.core.errors import InputError, ModelFileError, OutputError, OutputExistsError
from landcover_qgis_plugin.core.modelfile import METADATA_MEMBER
from landcover_qgis_plugin.core.geotiff import write_geotiff

ORIGIN = (500_000.0, 600_000.0)
RES = 0.5
SIZE = 64   # the test model's tile


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return str(testkit.save_colour_model(tmp_path_factory.mktemp("model") / "colour.keras", input_size=SIZE))


@pytest.fixture
def rgb(tmp_path):
    image = testkit.paint(100, 90, [("building", 10, 30, 10, 40)])
    return str(write_geotiff(tmp_path / "rgb.tif", image, ORIGIN, RES))


def fails(tmp_path, error, match, raster, model, **options):
    """Run the engine expecting `error`; the folder must hold no new file afterwards."""
    before = set(tmp_path.iterdir())
    with pytest.raises(error, match=match) as caught:
        segment(str(raster), str(model), str(tmp_path / "out.gpkg"), str(tmp_path / "classes.tif"),
                options=SegmentationOptions(**options))
    assert set(tmp_path.iterdir()) == before
    return str(caught.value)


def raster(tmp_path, array, **kwargs):
    return write_geotiff(tmp_path / "input.tif", array, ORIGIN, RES, **kwargs)


def test_one_band_raster(tmp_path, model):
    path = raster(tmp_path, np.zeros((100, 100), np.uint8))
    message = fails(tmp_path, InputError, "one-band raster", path, model)
    assert "input.tif" in message and "RGB" in message


def test_paletted_raster_is_classified_in_its_colours(tmp_path, model):
    """One band with a colour table, as QGIS shows it: expanded on the fly; its nodata stays nodata."""
    indices = np.zeros((100, 90), np.uint8)
    indices[10:30, 10:40] = 1
    indices[90:, :] = 2
    path = raster(tmp_path, indices, nodata=2)
    dataset = gdal.Open(str(path), gdal.GA_Update)
    table = gdal.ColorTable()
    for index, name in enumerate(("background", "building", "water")):
        table.SetColorEntry(index, (*testkit.PALETTE[name], 255))
    dataset.GetRasterBand(1).SetColorTable(table)
    dataset = None
    segment(str(path), model, raster_path=str(tmp_path / "classes.tif"))
    classes = gdal.Open(str(tmp_path / "classes.tif")).ReadAsArray()
    assert (classes[10:30, 10:40] == 1).all() and (classes[:90][indices[:90] == 0] == 0).all()
    assert (classes[90:] == 255).all()


def test_two_band_raster(tmp_path, model):
    fails(tmp_path, InputError, "two-band raster", raster(tmp_path, np.zeros((100, 100, 2), np.uint8)), model)


@pytest.mark.parametrize("values, dtype, match", [
    ((-5, 3000), np.int16, "negative values"),
    ((0, 1_000_000), np.uint32, "beyond 16 bits"),
])
def test_integer_raster_out_of_range(tmp_path, model, values, dtype, match):
    array = np.full((100, 100, 3), values[0], dtype)
    array[50:] = values[1]
    message = fails(tmp_path, InputError, match, raster(tmp_path, array), model)
    assert "gdal_translate -ot Byte -scale" in message


@pytest.mark.parametrize("values", [(0.0, 1000.0), (-3.0, 0.8)])
def test_float_raster_out_of_range(tmp_path, model, values):
    array = np.full((100, 100, 3), values[0], np.float32)
    array[50:] = values[1]
    fails(tmp_path, InputError, r"float raster with values .* must be 0\.\.1 \(reflectance\) or 0\.\.255",
          raster(tmp_path, array), model)


def test_raster_without_crs(tmp_path, model):
    path = raster(tmp_path, testkit.paint(100, 100, []), crs=0)
    fails(tmp_path, InputError, "no coordinate reference system; assign", path, model)


def test_raster_smaller_than_one_tile_is_mirrored_out_and_classified(tmp_path, model):
    path = raster(tmp_path, testkit.paint(SIZE - 20, 30, [("building", 5, 15, 5, 20)]))
    result = segment(str(path), model, raster_path=str(tmp_path / "classes.tif"))
    classes = gdal.Open(str(tmp_path / "classes.tif")).ReadAsArray()
    assert classes.shape == (SIZE - 20, 30) and (classes[5:15, 5:20] == 1).all() and (classes[20:] == 0).all()
    assert result.tiles >= 1


def test_raster_of_a_few_pixels_is_refused(tmp_path, model):
    path = raster(tmp_path, testkit.paint(7, 200, []))
    fails(tmp_path, InputError, r"200 x 7 px .* at least 8 x 8 px \(4 m x 4 m\)", path, model)


@pytest.mark.parametrize("array, nodata", [
    (np.zeros((100, 100, 3), np.uint8), 0),                      # 8-bit: found while tiling
    (np.full((100, 100, 3), np.nan, np.float32), None),          # float NaN: found while scaling
    (np.full((100, 100, 3), 7, np.uint16), 7),                   # 16-bit nodata everywhere
])
def test_all_nodata_raster(tmp_path, model, array, nodata):
    fails(tmp_path, InputError, "no valid pixels", raster(tmp_path, array, nodata=nodata), model)


def test_file_that_is_not_a_raster(tmp_path, model):
    path = tmp_path / "notes.tif"
    path.write_text("these are field notes, not an image")
    fails(tmp_path, InputError, "notes.tif' is not a raster GDAL can read", path, model)


def test_truncated_raster(tmp_path, model):
    path = write_geotiff(tmp_path / "cut.tif", np.full((300, 300, 3), 128, np.uint8), ORIGIN, RES,
                         creation_options=("INTERLEAVE=BAND",))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    fails(tmp_path, InputError, "cut.tif' .*(truncated or corrupt|not a raster GDAL can read)", path, model)


def test_missing_input(tmp_path, model):
    fails(tmp_path, InputError, "does not exist", tmp_path / "nowhere.tif", model)


def test_missing_model(tmp_path, rgb):
    fails(tmp_path, ModelFileError, "missing.keras' does not exist", rgb, tmp_path / "missing.keras")


def test_corrupt_model(tmp_path, rgb):
    path = tmp_path / "corrupt.keras"
    path.write_bytes(os.urandom(2000))
    fails(tmp_path, ModelFileError, "not a readable .keras model archive", rgb, path)


def test_model_without_metadata(tmp_path, rgb):
    network, _ = testkit.colour_model(input_size=SIZE)
    path = tmp_path / "plain.keras"
    network.save(path)
    fails(tmp_path, ModelFileError, "has no landcover metadata", rgb, path)


def _with_metadata(source: str, target: Path, edit) -> Path:
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
        for item in original.infolist():
            data = original.read(item)
            copy.writestr(item, edit(data) if item.filename == METADATA_MEMBER else data)
    return target


def test_model_with_wrong_metadata(tmp_path, rgb, model):
    def three_classes(data):
        metadata = json.loads(data)
        metadata["classes"] = metadata["classes"][:3]
        return json.dumps(metadata)

    wrong = _with_metadata(model, tmp_path / "wrong.keras", three_classes)
    fails(tmp_path, ModelFileError, "outputs 5 classes but its metadata lists 3", rgb, wrong)
    garbled = _with_metadata(model, tmp_path / "garbled.keras", lambda data: data[:20])
    fails(tmp_path, ModelFileError, "metadata is not valid JSON", rgb, garbled)
    no_resolution = _with_metadata(model, tmp_path / "nores.keras", lambda data: json.dumps(
        {k: v for k, v in json.loads(data).items() if k != "resolution_cm"}))
    fails(tmp_path, ModelFileError, "required field is missing", rgb, no_resolution)


def test_unwritable_output_folder(tmp_path, rgb, model):
    if os.geteuid() != 0:
        folder = tmp_path / "locked"
        folder.mkdir()
        folder.chmod(0o555)
    else:  # root writes anywhere permissions allow; sysfs refuses new files even to root
        folder = Path("/sys/kernel")
        if not folder.is_dir():
            pytest.skip("no folder here that this user cannot write to")
    with pytest.raises(OutputError, match="is not writable"):
        segment(rgb, model, str(folder / "out.gpkg"))


def test_missing_output_folder(tmp_path, rgb, model):
    with pytest.raises(OutputError, match="does not exist"):
        segment(rgb, model, str(tmp_path / "no" / "such" / "out.gpkg"))


def test_existing_output_is_kept_unless_overwrite(tmp_path, rgb, model):
    existing = tmp_path / "out.gpkg"
    existing.write_bytes(b"an analyst's earlier work")
    with pytest.raises(OutputExistsError, match="already exists.*--overwrite"):
        segment(rgb, model, str(existing))
    assert existing.read_bytes() == b"an analyst's earlier work"
    segment(rgb, model, str(existing), options=SegmentationOptions(overwrite=True))
    assert existing.read_bytes()[:15] == b"SQLite format 3"


@pytest.mark.parametrize("options, match", [
    (dict(overlap=0.7), r"Tile overlap \(overlap\) 0.7 is out of range; use a number from 0 to 0.5"),
    (dict(batch_size=0), r"Batch size \(batch_size\) 0 is out of range; use a whole number from 1 to 256"),
    (dict(batch_size=2.5), r"Batch size \(batch_size\) 2.5 is out of range; use a whole number"),
    (dict(device="tpu"), r"Device \(device\) 'tpu' is unknown; use one of auto, cpu, gpu"),
    (dict(precision="int4"), r"Numeric precision \(precision\) 'int4' is unknown"),
    (dict(classes=("buildings",)), r"Unknown class name\(s\) \['buildings'\]"),
    (dict(extent=(0, 0, 10, 10)), "does not overlap"),
    (dict(extent=(10, 0, 0, 10)), "is empty"),
    (dict(mask_wkt="a circle please"), "not a polygon in WKT"),
    (dict(bands=(1, 2)), "must name 3 bands"),
    (dict(bands=(1, 2, 5)), "has no colour band"),
    (dict(min_area=-1), r"Minimum polygon area \(min_area\) -1 is out of range; use a number >= 0 m²"),
    (dict(tta="yes"), r"Test-time augmentation \(tta\) must be true or false"),
])
def test_bad_options(tmp_path, rgb, model, options, match):
    fails(tmp_path, InputError, match, rgb, model, **options)


def test_bad_output_paths(tmp_path, rgb, model):
    with pytest.raises(OutputError, match="must end in .gpkg"):
        segment(rgb, model, str(tmp_path / "out.shp"))
    with pytest.raises(OutputError, match="also used as another input or output"):
        segment(rgb, model, raster_path=rgb)
    with pytest.raises(OutputError, match="Nothing to write"):
        segment(rgb, model)
