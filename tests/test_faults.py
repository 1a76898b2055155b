"""Faults a GIS tool must never report as success: a full disk at every write, a broken model, a class list
that selects nothing. Each is one error naming the real cause, and nothing is lost or half-written."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper
from osgeo import gdal

from conftest import REPO
from fault_support import SmallDisk, colour_onnx_model, speckled_raster
from landcover_qgis_plugin.core.engine import SegmentationOptions, segment
from landcover_qgis_plugin.core.errors import Cancelled, InputError, ModelFileError, OutputError
from landcover_qgis_plugin.core.limits import StreamLimits
from landcover_qgis_plugin.paths import DEFAULT_MODEL_PATH

# Where a run on the speckled raster can run out of space, as its error names the file written.
STAGES = {"class raster": "'{disk}/o.tif'", "probability raster": "'{disk}/p.tif'",
          "sieved raster": "its temporary sieved raster", "traced polygons": "its temporary traced polygons",
          "GeoPackage": "'{disk}/o.gpkg' (SQLite"}


@pytest.fixture(scope="module")
def disk(tmp_path_factory):
    mounted = SmallDisk.mount(tmp_path_factory.mktemp("small_disk"))
    if isinstance(mounted, str):
        pytest.skip(mounted)
    yield mounted
    mounted.unmount()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    return speckled_raster(folder / "speckles.tif"), colour_onnx_model(folder / "colours.onnx")


def _run(inputs, disk, **options):
    raster, model = inputs
    return segment(str(raster), str(model), str(disk.path / "o.gpkg"), str(disk.path / "o.tif"),
                   str(disk.path / "p.tif"), SegmentationOptions(**options))


def test_a_full_disk_at_any_write_is_one_error_and_leaves_nothing(disk, inputs):
    """From no room to enough, in steps: every run either writes outputs that read back whole, or fails
    with the full disk named and leaves no file; together the steps reach every write of a run."""
    seen, succeeded = set(), 0
    for free_kb in [*range(0, 64, 4), *range(64, 1600, 96)]:
        disk.leave(free_kb)
        try:
            _run(inputs, disk)
        except OutputError as error:
            message = str(error)
            assert message.startswith("No space left on the disk while writing"), message
            assert "Nothing was written" in message and "\n" not in message
            assert disk.files() == set(), (free_kb, disk.files())
            seen |= {stage for stage, words in STAGES.items() if words.format(disk=disk.path) in message}
            continue
        succeeded += 1
        assert gdal.OpenEx(str(disk.path / "o.gpkg")).GetLayerByName("building").GetFeatureCount() > 100
        assert gdal.Open(str(disk.path / "o.tif")).ReadAsArray().max() == 4
    assert seen == set(STAGES) and succeeded, (seen, succeeded)


def test_overwrite_on_a_full_disk_keeps_the_earlier_result_byte_for_byte(disk, inputs):
    disk.empty()
    _run(inputs, disk)
    before = {name: (disk.path / name).read_bytes() for name in disk.files()}
    assert set(before) == {"o.gpkg", "o.tif", "o.tif.aux.xml", "p.tif"}
    disk.leave(64, keep=True)
    with pytest.raises(OutputError, match="No space left.*the existing 'o.gpkg' is unchanged"):
        _run(inputs, disk, overwrite=True)
    assert {name: (disk.path / name).read_bytes() for name in disk.files()} == before
    disk.empty()


def test_predict_on_a_full_disk_exits_with_one_line(disk, tmp_path):
    """The reported case: the sample's first 800 x 800 px, the bundled model, 1,900 KB of 2 MB used."""
    crop = tmp_path / "crop.tif"
    gdal.Translate(str(crop), str(REPO / "resources" / "sample" / "sample_orthophoto.tif"), srcWin=[0, 0, 800, 800])
    disk.leave(148)
    done = subprocess.run([sys.executable, "-m", "trainer", "predict", str(crop), "--model",
                           str(DEFAULT_MODEL_PATH.with_suffix(".onnx")), "--out", str(disk.path / "o.gpkg"),
                           "--raster", str(disk.path / "o.tif"), "--quiet"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert done.stdout == "" and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("error: No space left on the disk while writing"), done.stderr
    assert disk.files() == set()


def _nan_model(path: Path) -> Path:
    """The colour model with its probabilities multiplied by NaN, as a broken export gives."""
    model = onnx.load(str(colour_onnx_model(path)))
    last = model.graph.node[-1]
    final, last.output[0] = last.output[0], "finite"
    model.graph.initializer.append(helper.make_tensor("nan", TensorProto.FLOAT, [], [float("nan")]))
    model.graph.node.append(helper.make_node("Mul", ["finite", "nan"], [final]))
    onnx.save(model, str(path))
    return path


def test_a_model_giving_nan_is_refused_and_nothing_is_written(tmp_path, inputs):
    model = _nan_model(tmp_path / "nan.onnx")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ModelFileError, match=r"'.*nan.onnx' gave NaN or infinite values for 4 of the 4 tiles"):
        segment(str(inputs[0]), str(model), str(out / "o.gpkg"), str(out / "o.tif"))
    assert list(out.iterdir()) == []


def test_a_graph_whose_tile_contradicts_its_metadata_is_one_line(tmp_path, inputs):
    import testkit
    from fault_support import DEEPNESS_KEYS
    model = testkit.colour_onnx(tmp_path / "m.onnx", {**DEEPNESS_KEYS, "tile_size": 256}, tile=128)
    with pytest.raises(ModelFileError, match=r"takes tiles of 128 x 128 px but its metadata says 256 px"):
        segment(str(inputs[0]), str(model), str(tmp_path / "o.gpkg"))


def test_a_class_list_selecting_nothing_is_refused(tmp_path, inputs):
    with pytest.raises(InputError, match=r"No class to vectorise was named; give at least one of"):
        segment(str(inputs[0]), str(inputs[1]), str(tmp_path / "o.gpkg"), options=SegmentationOptions(classes=()))
    assert list(tmp_path.iterdir()) == []


def test_a_folder_as_an_output_is_refused_even_with_overwrite(tmp_path, inputs):
    (tmp_path / "o.tif").mkdir()
    with pytest.raises(OutputError, match=r"'.*o.tif' is a folder; give a file name"):
        segment(str(inputs[0]), str(inputs[1]), raster_path=str(tmp_path / "o.tif"),
                options=SegmentationOptions(overwrite=True))
    assert [p.name for p in tmp_path.iterdir()] == ["o.tif"] and not any((tmp_path / "o.tif").iterdir())


# Messages that say what happened (one line each, the real cause first).

def _predict_error(tmp_path, *inputs, model=None, extra=()):
    model = model or DEFAULT_MODEL_PATH.with_suffix(".onnx")
    done = subprocess.run([sys.executable, "-m", "trainer", "predict", *map(str, inputs), "--model", str(model),
                           "--out", str(tmp_path / "o.gpkg"), "--quiet", *extra],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert not (tmp_path / "o.gpkg").exists()
    return done.stderr.strip()


@pytest.fixture(scope="module")
def sheet(inputs):
    return str(inputs[0])


def test_a_corrupt_sheet_is_named_first(tmp_path, sheet):
    corrupt = tmp_path / "corrupt.tif"
    corrupt.write_bytes(Path(sheet).read_bytes()[:5000])
    for extra in ((), ("--workers", "1")):
        message = _predict_error(tmp_path, sheet, corrupt, extra=extra)
        assert message.startswith(f"error: '{corrupt}' could not be read ("), message
        assert "part of the mosaic of the sheets" in message and "mosaic.vrt" not in message


def test_a_vrt_whose_source_is_missing_names_the_missing_file(tmp_path, sheet):
    source = tmp_path / "part.tif"
    gdal.Translate(str(source), sheet, srcWin=[0, 0, 128, 128])
    gdal.BuildVRT(str(tmp_path / "made.vrt"), [str(source)]).FlushCache()
    source.unlink()
    message = _predict_error(tmp_path, tmp_path / "made.vrt")
    assert message == (f"error: '{source}' does not exist, and '{tmp_path / 'made.vrt'}' is made of it: restore that "
                       f"file, or build '{tmp_path / 'made.vrt'}' again without it.")


def test_an_empty_model_file_is_said_to_be_empty(tmp_path, sheet):
    (tmp_path / "m.onnx").write_bytes(b"")
    assert "is empty (0 bytes): its download or export did not finish" in _predict_error(
        tmp_path, sheet, model=tmp_path / "m.onnx")


def test_a_pixel_size_of_0_says_how_to_fix_it(tmp_path, sheet):
    gdal.Translate(str(tmp_path / "zero.vrt"), sheet, format="VRT")
    text = (tmp_path / "zero.vrt").read_text()
    start = text.index("<GeoTransform>") + len("<GeoTransform>")
    values = text[start:text.index("</GeoTransform>")].split(",")
    (tmp_path / "zero.vrt").write_text(text[:start] + ",".join([values[0], " 0", *values[2:]])
                                       + text[text.index("</GeoTransform>"):])
    message = _predict_error(tmp_path, tmp_path / "zero.vrt")
    assert "has a pixel size of 0" in message and "gdal_edit.py -a_ullr" in message


def test_an_all_black_raster_says_so_after_a_search_it_reports(tmp_path, inputs):
    black = tmp_path / "black.vrt"
    black.write_text('<VRTDataset rasterXSize="3000" rasterYSize="3000"><SRS>EPSG:2056</SRS>'
                     "<GeoTransform>2600000, 0.5, 0, 1200000, 0, -0.5</GeoTransform>"
                     + "".join(f'<VRTRasterBand dataType="Byte" band="{band}"><ColorInterp>{colour}</ColorInterp>'
                               "</VRTRasterBand>" for band, colour in enumerate(("Red", "Green", "Blue"), 1))
                     + "</VRTDataset>")
    heard = []
    with pytest.raises(InputError, match="is black \\(or white\\) everywhere, out to its edges.*--no-collars"):
        segment(str(black), str(inputs[1]), str(tmp_path / "o.gpkg"), progress=lambda _, stage: heard.append(stage),
                limits=StreamLimits(band_pixels=300_000))
    searching = [stage for stage in heard if stage.startswith("Looking for edge collars")]
    assert len(searching) == 30 and searching[-1] == "Looking for edge collars (97%)"   # 30 bands of 100 rows
    with pytest.raises(Cancelled):   # and a cancel stops the search
        segment(str(black), str(inputs[1]), str(tmp_path / "o.gpkg"), is_cancelled=lambda: True)


def test_the_processing_algorithm_on_a_full_disk_fails_and_keeps_the_earlier_result(disk, inputs, provider):
    """Processing replaces the files the user names: only by whole, read-back new ones."""
    import processing
    from qgis.core import QgsProcessingException, QgsProcessingFeedback

    parameters = {"INPUT": str(inputs[0]), "MODEL": str(inputs[1]), "OUTPUT": str(disk.path / "o.gpkg"),
                  "OUTPUT_RASTER": str(disk.path / "o.tif")}
    disk.empty()
    processing.run("landcover:segment", parameters, feedback=QgsProcessingFeedback())
    before = {name: (disk.path / name).read_bytes() for name in disk.files()}
    disk.leave(64, keep=True)
    with pytest.raises(QgsProcessingException, match="No space left on the disk while writing '.*o.gpkg'"):
        processing.run("landcover:segment", parameters, feedback=QgsProcessingFeedback())
    assert {name: (disk.path / name).read_bytes() for name in disk.files()} == before
    disk.empty()


def test_a_full_disk_under_the_run_folder_is_one_error_at_every_step(disk, inputs, tmp_path):
    """A distributed run whose run folder is on the small disk: blocks, records, steps, VRTs and the traced
    stripes fail with the full disk named, the outputs elsewhere are never written, and with room the
    same command finishes."""
    from landcover_qgis_plugin.core.scale.runner import segment_many

    pytest.importorskip("distributed")
    raster = speckled_raster(tmp_path / "small.tif", size=160)
    failed = set()
    for free_kb in (0, 8, 24, 48, 96, 160, 320, 640, 1000, 2000):
        disk.leave(free_kb)
        try:
            segment_many([str(raster)], str(inputs[1]), disk.path / "run", str(tmp_path / "o.gpkg"),
                         options=SegmentationOptions(overwrite=True), block_px=112, processes=False)
        except OutputError as error:
            written = re.match(rf"No space left on the disk while writing '{disk.path}/run(/[^/']+)?", str(error))
            assert written and "\n" not in str(error) and not (tmp_path / "o.gpkg").exists(), str(error)
            failed.add((written.group(1) or "/ (its lock)")[1:])
            continue
        assert gdal.OpenEx(str(tmp_path / "o.gpkg")).GetLayerByName("road").GetFeatureCount() > 50
        break
    else:
        pytest.fail("never enough room")
    assert {" (its lock)", "blocks", "steps"} <= failed, failed
    disk.empty()
