"""Synthetic LandCover.ai-shaped data: scenes, GeoTIFFs, dataset folders."""
import argparse
import time

import numpy as np
import pytest
from osgeo import gdal, osr

from landcover_qgis_plugin.core.errors import InputError, OutputExistsError
from landcover_qgis_plugin.core.geotiff import write_geotiff
from trainer.data.synth import CLASS_FRACTIONS, POLAND_BOX_M, generate_scene, write_dataset
from trainer.data.synth import cli as synth_cli
from trainer.data.tiles import tile_ids


def _fractions(mask):
    return np.bincount(mask.ravel(), minlength=5) / mask.size


def test_scene_is_deterministic_by_seed():
    rgb, mask = generate_scene(640, 480, 0.5, seed=7)
    assert rgb.shape == (480, 640, 3) and rgb.dtype == np.uint8
    assert mask.shape == (480, 640) and mask.dtype == np.uint8 and mask.max() <= 4
    again_rgb, again_mask = generate_scene(640, 480, 0.5, seed=7)
    assert np.array_equal(rgb, again_rgb) and np.array_equal(mask, again_mask)
    other_rgb, other_mask = generate_scene(640, 480, 0.5, seed=8)
    assert not np.array_equal(mask, other_mask) and not np.array_equal(rgb, other_rgb)


def test_every_class_present_in_realistic_proportions():
    fractions = []
    for seed in range(4):
        _, mask = generate_scene(1024, 1024, 0.25, seed)
        fractions.append(_fractions(mask))
        assert (fractions[-1] > 0.001).all(), f"seed {seed}: a class is missing: {fractions[-1]}"
    mean = np.mean(fractions, axis=0)
    background, building, woodland, water, road = mean
    assert 0.45 < background < 0.85
    assert 0.008 < building < 0.04
    assert 0.12 < woodland < 0.4
    assert 0.01 < water < 0.2
    assert 0.008 < road < 0.045
    assert np.abs(mean - CLASS_FRACTIONS).max() < 0.15


def test_classes_look_like_themselves():
    """Colour statistics per class as on real orthophotos: dark water, green woods, grey roads."""
    rgb, mask = generate_scene(1024, 1024, 0.25, seed=3)
    pixels = rgb.astype(float)
    mean = {value: pixels[mask == value].mean(axis=0) for value in range(5)}
    brightness = {value: colour.mean() for value, colour in mean.items()}
    assert brightness[3] < brightness[2] < brightness[0]              # water darkest, woods darker than fields
    assert mean[2][1] > mean[2][0] and mean[2][1] > mean[2][2]          # woodland is green
    assert np.ptp(mean[4]) < 25                                        # roads are greyish
    assert pixels[mask == 1].std(axis=0).mean() > 15                    # roofs of varied colours


def test_same_look_at_25_and_50_cm():
    """Sizes are in metres: the same seed at half the resolution is the same landscape."""
    fine_rgb, fine = generate_scene(1024, 1024, 0.25, seed=11)
    coarse_rgb, coarse = generate_scene(512, 512, 0.5, seed=11)
    assert np.abs(_fractions(fine) - _fractions(coarse)).max() < 0.02
    assert np.mean(fine[::2, ::2] == coarse) > 0.97
    assert np.abs(fine_rgb.reshape(-1, 3).mean(0) - coarse_rgb.reshape(-1, 3).mean(0)).max() < 2


def test_scene_generation_is_fast():
    start = time.process_time()                  # CPU time: steady when other jobs share the machine
    generate_scene(2048, 2048, 0.25, seed=1)
    assert time.process_time() - start < 6.0     # about 2 s of CPU on a 2-core machine


def test_write_geotiff_places_the_raster(tmp_path):
    array = np.arange(12 * 10 * 3, dtype=np.uint8).reshape(12, 10, 3)
    path = write_geotiff(tmp_path / "a.tif", array, (400_000.0, 500_000.0), 0.5)
    dataset = gdal.Open(str(path))
    assert dataset.GetGeoTransform() == (400_000.0, 0.5, 0.0, 500_000.0, 0.0, -0.5)
    reference = osr.SpatialReference(wkt=dataset.GetProjection())
    assert reference.GetAuthorityCode(None) == "2180"
    assert np.array_equal(np.moveaxis(dataset.ReadAsArray(), 0, -1), array)
    dataset = None
    with pytest.raises(FileExistsError):
        write_geotiff(path, array, (0, 0), 1.0)
    with pytest.raises(ValueError, match="origin"):
        write_geotiff(tmp_path / "b.tif", array)
    assert not (tmp_path / "b.tif").exists()
    write_geotiff(tmp_path / "c.tif", array[..., 0], transform=(1.0, 2.0, 0.0, 3.0, 0.0, -2.0), crs=32634)
    dataset = gdal.Open(str(tmp_path / "c.tif"))
    assert dataset.RasterCount == 1 and dataset.GetGeoTransform() == (1.0, 2.0, 0.0, 3.0, 0.0, -2.0)
    dataset = None


def test_write_geotiff_crs_and_band_colours(tmp_path):
    array = np.zeros((8, 8, 3), np.uint8)
    bgr = (gdal.GCI_BlueBand, gdal.GCI_GreenBand, gdal.GCI_RedBand)
    utm = osr.SpatialReference()
    utm.ImportFromEPSG(32633)
    write_geotiff(tmp_path / "wkt.tif", array, (0, 0), 1.0, crs=utm.ExportToWkt(), colour_interpretation=bgr)
    dataset = gdal.Open(str(tmp_path / "wkt.tif"))
    assert osr.SpatialReference(wkt=dataset.GetProjection()).GetAuthorityCode(None) == "32633"
    assert tuple(dataset.GetRasterBand(i + 1).GetColorInterpretation() for i in range(3)) == bgr
    dataset = None
    write_geotiff(tmp_path / "none.tif", array, (0, 0), 1.0, crs=0)
    assert gdal.Open(str(tmp_path / "none.tif")).GetProjection() == ""
    with pytest.raises(ValueError, match="EPSG:999999"):
        write_geotiff(tmp_path / "bad.tif", array, (0, 0), 1.0, crs=999999)
    with pytest.raises(ValueError, match="one colour interpretation per band"):
        write_geotiff(tmp_path / "bad.tif", array, (0, 0), 1.0, colour_interpretation=bgr[:2])
    assert sorted(path.name for path in tmp_path.iterdir()) == ["none.tif", "wkt.tif"]


def test_dataset_is_landcoverai_shaped(tmp_path):
    out = write_dataset(tmp_path / "synth", seed=5, images=2, size=1024)
    listed = {split: (out / f"{split}.txt").read_text().split() for split in ("train", "val", "test")}
    expected_ids = []
    resolutions = []
    for image in sorted((out / "images").glob("*.tif")):
        dataset = gdal.Open(str(image))
        mask = gdal.Open(str(out / "masks" / image.name))
        transform = dataset.GetGeoTransform()
        resolutions.append(transform[1])
        assert dataset.RasterCount == 3 and mask.RasterCount == 1
        assert mask.GetRasterBand(1).DataType == gdal.GDT_Byte and mask.ReadAsArray().max() <= 4
        assert mask.GetGeoTransform() == transform and (mask.RasterXSize, mask.RasterYSize) == (
            dataset.RasterXSize, dataset.RasterYSize)
        assert osr.SpatialReference(wkt=dataset.GetProjection()).GetAuthorityCode(None) == "2180"
        assert POLAND_BOX_M[0][0] <= transform[0] <= POLAND_BOX_M[0][1]
        assert POLAND_BOX_M[1][0] <= transform[3] <= POLAND_BOX_M[1][1]
        # Same ground extent at both resolutions, like the real orthophotos.
        assert 240 < dataset.RasterXSize * transform[1] < 275
        expected_ids += tile_ids(image.stem, dataset.RasterYSize, dataset.RasterXSize)
        dataset = mask = None
    assert sorted(resolutions) == [0.25, 0.5]
    all_listed = listed["train"] + listed["val"] + listed["test"]
    assert sorted(all_listed) == sorted(expected_ids) and len(set(all_listed)) == len(all_listed)
    assert len(listed["val"]) >= 1 and len(listed["test"]) >= 1 and len(listed["train"]) > len(listed["val"])


def test_dataset_is_reproducible_and_not_rewritten(tmp_path):
    first = write_dataset(tmp_path / "a", seed=2, images=1, size=1024, tile_size=256)
    second = write_dataset(tmp_path / "b", seed=2, images=1, size=1024, tile_size=256)
    for name in ("images/synth-2-00.tif", "masks/synth-2-00.tif"):
        assert np.array_equal(gdal.Open(str(first / name)).ReadAsArray(), gdal.Open(str(second / name)).ReadAsArray())
    assert (first / "train.txt").read_text() == (second / "train.txt").read_text()
    stamps = {p: p.stat().st_mtime_ns for p in first.rglob("*")}
    write_dataset(first, seed=2, images=1, size=1024, tile_size=256)
    assert {p: p.stat().st_mtime_ns for p in first.rglob("*")} == stamps
    with pytest.raises(OutputExistsError, match="--overwrite"):
        write_dataset(first, seed=3, images=1, size=1024, tile_size=256)
    write_dataset(first, seed=3, images=1, size=1024, tile_size=256, overwrite=True)
    assert sorted(p.name for p in (first / "images").iterdir()) == ["synth-3-00.tif"]
    with pytest.raises(InputError, match="at least 3"):
        write_dataset(tmp_path / "tiny", images=1, size=600)


def test_synth_command(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    synth_cli.add_parser(parser.add_subparsers())
    args = parser.parse_args(["synth", "--out", str(tmp_path / "s"), "--images", "1", "--size", "512",
                              "--tile-size", "128", "--seed", "4"])
    assert args.func(args) == 0
    assert "--tile-size 128" in capsys.readouterr().out
    assert (tmp_path / "s" / "images" / "synth-4-00.tif").is_file()


def test_towns_have_a_street_grid_dense_buildings_and_trees_and_look_like_themselves():
    shares = []
    for seed in range(3):
        rgb, mask = generate_scene(1024, 1024, 0.25, seed, kind="town")
        again, same_mask = generate_scene(1024, 1024, 0.25, seed, kind="town")
        assert np.array_equal(rgb, again) and np.array_equal(mask, same_mask)
        shares.append(_fractions(mask))
        pixels = rgb.astype(float)
        road, building, woodland = (pixels[mask == value].mean(axis=0) for value in (4, 1, 2))
        assert np.ptp(road) < 25 and woodland[1] > woodland[0] and woodland[1] > woodland[2]
    background, building, woodland, _, road = np.mean(shares, axis=0)
    countryside = np.mean([_fractions(generate_scene(1024, 1024, 0.25, seed)[1]) for seed in range(3)], axis=0)
    assert building > 3 * countryside[1] and road > 3 * countryside[4]      # built-up land, not villages
    assert 0.05 < building < 0.3 and 0.05 < road < 0.25 and 0.05 < woodland < 0.4 and background > 0.3


def test_a_varied_sensor_changes_the_colours_not_the_mask():
    plain, mask = generate_scene(512, 512, 0.25, seed=4, kind="town")
    varied, same_mask = generate_scene(512, 512, 0.25, seed=4, kind="town", sensor="varied")
    assert np.array_equal(mask, same_mask) and not np.array_equal(plain, varied)
    with pytest.raises(InputError, match="Unknown scene kind 'city'"):
        generate_scene(64, 64, 0.25, kind="city")


def test_a_dataset_has_the_share_of_towns_it_asks_for(tmp_path):
    from trainer.data.synth.dataset import _plan_images

    kinds = [plan.kind for plan in _plan_images(3, 10, 1024, towns=0.3)]
    assert kinds.count("town") == 3 and kinds.count("countryside") == 7
    assert [plan.scene_seed for plan in _plan_images(3, 10, 1024, towns=0.3)] == \
           [plan.scene_seed for plan in _plan_images(3, 10, 1024)]           # the same places and seeds
    out = write_dataset(tmp_path / "mixed", seed=2, images=2, size=1024, tile_size=256, towns=0.5, sensor="varied")
    masks = [gdal.Open(str(path)).ReadAsArray() for path in sorted((out / "masks").glob("*.tif"))]
    building_shares = sorted(float(np.mean(mask == 1)) for mask in masks)
    assert building_shares[1] > 3 * building_shares[0]                       # one town, one countryside
    with pytest.raises(InputError, match="--towns must be a share from 0 to 1"):
        write_dataset(tmp_path / "bad", towns=1.5)


def test_a_layout_is_painted_with_its_own_classes_looking_like_themselves():
    from trainer.data.synth.layout import paint_layout

    _, layout = generate_scene(800, 800, 0.5, seed=9)
    rgb = paint_layout(layout, 0.5, seed=1)
    assert rgb.shape == (800, 800, 3) and rgb.dtype == np.uint8
    assert np.array_equal(rgb, paint_layout(layout, 0.5, seed=1))
    assert not np.array_equal(rgb, paint_layout(layout, 0.5, seed=2))
    mean = {value: rgb[layout == value].astype(float).mean(axis=0) for value in range(5)}
    assert max(mean[3].mean(), mean[2].mean()) < mean[0].mean() - 20        # water and woods darker than fields
    assert mean[2][1] > mean[2][0] and mean[2][1] > mean[2][2] and np.ptp(mean[4]) < 35
    with pytest.raises(InputError, match="one band of LandCover.ai classes"):
        paint_layout(np.full((4, 4), 7, np.uint8), 0.5, seed=0)


def test_synth_layout_paints_a_real_mask_keeping_its_grid_crs_and_classes(tmp_path, shared_data):
    real = shared_data / "landcoverai_mask_N-33-60-D-c-4-2.tif"
    crop = tmp_path / "real_crop.tif"
    gdal.Translate(str(crop), str(real), srcWin=[1800, 2000, 1024, 768])
    args = argparse.Namespace(out=str(tmp_path / "painted"), seed=0, images=6, size=2048, tile_size=256, towns=0.0,
                              sensor="varied", layout=str(crop), copies=2, overwrite=False)
    assert synth_cli.run(args) == 0
    source = gdal.Open(str(crop))
    for copy in range(2):
        image = gdal.Open(str(tmp_path / "painted" / "images" / f"real_crop-painted-{copy}.tif"))
        mask = gdal.Open(str(tmp_path / "painted" / "masks" / f"real_crop-painted-{copy}.tif"))
        assert np.array_equal(mask.ReadAsArray(), source.ReadAsArray()) and image.RasterCount == 3
        assert image.GetGeoTransform() == source.GetGeoTransform()
        assert osr.SpatialReference(wkt=image.GetProjection()).IsSame(osr.SpatialReference(wkt=source.GetProjection()))
    listed = sum(len((tmp_path / "painted" / f"{split}.txt").read_text().split()) for split in ("train", "val", "test"))
    assert listed == 2 * (768 // 256) * (1024 // 256)


def test_scenes_are_busy_between_1_and_5_m_as_real_photos_without_changing_the_mask(monkeypatch):
    """Real roofs and streets vary at 1-5 m (SWISSIMAGE at 25 cm: 12-15); without the detail pass the
    countryside's roofs and roads measured 7.2 and 7.0, with it 9.4 and 8.2."""
    from trainer.data.synth import scene, towns
    from trainer.data.synth.clutter import mid_scale_detail

    scenes = {seed: generate_scene(1024, 1024, 0.25, seed) for seed in range(2)}
    detail = [mid_scale_detail(rgb, mask, 0.25) for rgb, mask in scenes.values()]
    building, road = (np.mean([d[value] for d in detail]) for value in (1, 4))
    assert building > 8.5 and road > 7.6
    town_rgb, town_mask = generate_scene(1024, 1024, 0.25, 0, kind="town")
    assert min(mid_scale_detail(town_rgb, town_mask, 0.25)[value] for value in (0, 1, 4)) > 9.0
    for module in (scene, towns):
        monkeypatch.setattr(module, "add_detail", lambda canvas, *_: np.zeros(canvas.shape, bool))
    for seed, (_, mask) in scenes.items():                  # beds, patios and sheds are background
        assert np.array_equal(generate_scene(1024, 1024, 0.25, seed)[1], mask)
    assert np.array_equal(generate_scene(1024, 1024, 0.25, 0, kind="town")[1], town_mask)
