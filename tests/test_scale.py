"""Distributed runs on a real Dask LocalCluster: the same result as one process, resumable, fault tolerant."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal, ogr

import testkit
from conftest import REPO
from landcover_qgis_plugin.core.geotiff import write_geotiff
from landcover_qgis_plugin.core.owners import alive
from landcover_qgis_plugin.core.scale.blocks import plan_blocks
from trainer import cli

pytest.importorskip("distributed")

ORIGIN, RES, SIDE, HALF = (500_000.0, 600_000.0), 0.5, 256, 128
SHAPES = [("woodland", 90, 170, 80, 160), ("road", 0, 256, 60, 66), ("building", 20, 50, 180, 230),
          ("water", 200, 250, 150, 240)]
QUIET = ["--quiet", "--min-area", "0", "--fill-holes", "0"]
BLOCKS = ["--block-size", "112"]   # 64 px tiles stepping 56 px: blocks of 2 x 2 steps, 3 x 3 of them


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    """Four sheets of one painted scene, the scene itself, and the blur model as ONNX (workers start fast)."""
    from trainer.onnx_export import export_onnx

    folder = tmp_path_factory.mktemp("scale")
    whole = write_geotiff(folder / "whole.tif", testkit.paint(SIDE, SIDE, SHAPES), ORIGIN, RES)
    (folder / "sheets").mkdir()
    for row in (0, HALF):
        for col in (0, HALF):
            gdal.Translate(str(folder / "sheets" / f"sheet_{row}_{col}.tif"), str(whole),
                           srcWin=[col, row, HALF, HALF])
    network, metadata = testkit.colour_model(input_size=64, blur=7, fixed_size=True)
    model = export_onnx(network, metadata, folder / "blur.onnx")
    single = folder / "single"
    assert cli.main(["predict", str(whole), "--model", str(model), "--out", f"{single}.gpkg",
                     "--raster", f"{single}.tif", *QUIET]) == 0
    return folder, model, single


def polygons(path) -> dict[str, list[ogr.Geometry]]:
    dataset = ogr.Open(str(path))
    return {layer.GetName(): [f.GetGeometryRef().Clone() for f in layer] for layer in dataset}


def assert_same_result(out, single):
    np.testing.assert_array_equal(gdal.Open(f"{out}.tif").ReadAsArray(), gdal.Open(f"{single}.tif").ReadAsArray())
    found, expected = polygons(f"{out}.gpkg"), polygons(f"{single}.gpkg")
    assert found.keys() == expected.keys()
    for name in expected:
        assert len(found[name]) == len(expected[name])
        for a, b in zip(sorted(found[name], key=lambda g: g.Centroid().GetX()),
                        sorted(expected[name], key=lambda g: g.Centroid().GetX())):
            assert a.SymDifference(b).GetArea() == pytest.approx(0.0, abs=1e-6)   # equal up to vertex order


def predict_many(job, out, *extra):
    folder, model, _ = job
    return ["predict", str(folder / "sheets"), "--model", str(model), "--out", f"{out}.gpkg",
            "--raster", f"{out}.tif", *QUIET, *BLOCKS, *extra]


def test_blocks_are_whole_tile_steps_and_cover_the_area():
    blocks = plan_blocks((10, 0, 300, 130), 112, 56)
    assert {(b.x1 - b.x0) for b in blocks if b.x0 > 10 and b.x1 < 300} == {112}
    covered = np.zeros((130, 300), int)
    for b in blocks:
        covered[b.y0:b.y1, b.x0:b.x1] += 1
    assert (covered[:, 10:] == 1).all() and (covered[:, :10] == 0).all()


def test_two_workers_give_the_single_process_result(job, tmp_path, capsys):
    out = tmp_path / "many"
    assert cli.main(predict_many(job, out, "--workers", "2")) == 0
    printed = capsys.readouterr().out
    assert "4 sheets as one mosaic: 9 blocks (0 finished before)" in printed and "on 2 workers" in printed
    assert_same_result(out, job[2])
    woodland = polygons(f"{out}.gpkg")["woodland"]
    assert len(woodland) == 1   # the field across the corner of all four sheets, and of four blocks
    # the same command again finds every block finished
    assert cli.main(predict_many(job, out, "--workers", "2", "--overwrite")) == 0
    assert "9 blocks (9 finished before)" in capsys.readouterr().out


def test_a_run_on_an_existing_scheduler_gives_the_same_result(job, tmp_path, capsys, monkeypatch):
    from distributed import LocalCluster

    from landcover_qgis_plugin.core.scale import cluster as cluster_module

    out = tmp_path / "remote"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        assert cli.main(predict_many(job, out, "--scheduler", cluster.scheduler_address)) == 0
        assert len(cluster.scheduler_info["workers"]) == 2   # the cluster outlives the run: it is not ours
    assert "on 2 workers" in capsys.readouterr().out
    assert_same_result(out, job[2])
    monkeypatch.setattr(cluster_module, "CONNECT_TIMEOUT", "2s")
    assert cli.main(predict_many(job, tmp_path / "none", "--scheduler", "tcp://127.0.0.1:9")) == 2
    assert "No Dask scheduler answered at tcp://127.0.0.1:9" in capsys.readouterr().err


def test_the_minimum_area_is_applied_across_blocks_as_in_one_process(job, tmp_path):
    """Specks straddling block borders and corners are sieved by the workers block by block, yet the
    polygons are the single process's (whose sieve is GDAL's on the whole class raster)."""
    folder, model, _ = job
    specks = [("building", 108, 114, 108, 114), ("water", 220, 226, 50, 56), ("road", 30, 36, 221, 227),
              ("building", 160, 166, 2, 8)]
    scene = write_geotiff(tmp_path / "specks.tif", testkit.paint(SIDE, SIDE, SHAPES + specks), ORIGIN, RES)
    single, many, unsieved = tmp_path / "single", tmp_path / "many", tmp_path / "unsieved"
    sieving = ["--quiet", "--min-area", "6", "--fill-holes", "0"]
    for out, extra in ((single, sieving), (many, [*sieving, *BLOCKS, "--workers", "2"]), (unsieved, QUIET)):
        assert cli.main(["predict", str(scene), "--model", str(model), "--out", f"{out}.gpkg",
                         "--raster", f"{out}.tif", *extra]) == 0
    assert_same_result(many, single)
    assert sum(map(len, polygons(f"{single}.gpkg").values())) <= sum(map(len, polygons(f"{unsieved}.gpkg").values())) - 4


def test_a_run_stopped_while_vectorising_continues_from_the_finished_tasks(job, tmp_path):
    """Cancelled while the polygons are being cleaned, the same command again redoes only the sieving
    and vectorising tasks that had not finished."""
    from landcover_qgis_plugin.core.errors import Cancelled
    from landcover_qgis_plugin.core.options import SegmentationOptions
    from landcover_qgis_plugin.core.scale.runner import segment_many

    folder, model, single = job
    sheets = [str(p) for p in sorted((folder / "sheets").glob("*.tif"))]
    cleaning = []

    def run(**stop):
        return segment_many(sheets, str(model), tmp_path / "run", str(tmp_path / "out.gpkg"),
                            options=SegmentationOptions(min_area=0, fill_holes=0, overwrite=True), workers=2,
                            block_px=112, processes=False, **stop)

    with pytest.raises(Cancelled):
        run(progress=lambda percent, message: cleaning.append(message == "Writing polygons"),
            is_cancelled=lambda: any(cleaning))
    assert not (tmp_path / "out.gpkg").exists()
    result = run()
    assert result.reused == 9 and result.reused_steps >= 3   # the blocks, and at least the 3 stripes' traces
    found, expected = polygons(tmp_path / "out.gpkg"), polygons(f"{single}.gpkg")
    assert {k: len(v) for k, v in found.items()} == {k: len(v) for k, v in expected.items()}
    assert not (tmp_path / "run" / "steps").exists()   # the output is written: the steps' files are gone


def test_a_web_mercator_mosaic_is_warped_alike_in_every_block(job, tmp_path):
    """Sheets in EPSG:3857 (what web basemaps export) are resampled to the model's ground resolution:
    every block on the grid of the whole run, so the blocks still give the single run's pixels."""
    folder, model, _ = job
    mercator = tmp_path / "mercator.tif"
    gdal.Warp(str(mercator), str(folder / "whole.tif"), dstSRS="EPSG:3857", dstNodata=0, resampleAlg="near",
              xRes=1.0, yRes=1.0)   # coarser than the model's 0.5 m on the ground (0.83 Mercator m here)
    warped = gdal.Open(str(mercator))
    width, height = warped.RasterXSize, warped.RasterYSize
    (tmp_path / "sheets").mkdir()
    for row, (r0, r1) in enumerate(((0, height // 2), (height // 2, height))):
        for col, (c0, c1) in enumerate(((0, width // 2), (width // 2, width))):
            gdal.Translate(str(tmp_path / "sheets" / f"sheet_{row}_{col}.tif"), warped, srcWin=[c0, r0, c1 - c0, r1 - r0])
    warped = None
    single, many = tmp_path / "single", tmp_path / "many"
    assert cli.main(["predict", str(mercator), "--model", str(model), "--raster", f"{single}.tif", "--out",
                     f"{single}.gpkg", *QUIET]) == 0
    assert cli.main(["predict", str(tmp_path / "sheets"), "--model", str(model), "--raster", f"{many}.tif", "--out",
                     f"{many}.gpkg", *QUIET, *BLOCKS, "--workers", "2"]) == 0
    assert_same_result(many, single)
    run_grid = gdal.Open(f"{many}.tif").GetGeoTransform()
    assert 0.8 < run_grid[1] < 0.9   # resampled: Mercator metres for 0.5 m on the ground at 53° N
    for block in (tmp_path / "many.run" / "blocks").glob("*.tif"):   # each on the run's grid, to the bit
        x0, dx, _, y0, _, dy = gdal.Open(str(block)).GetGeoTransform()
        assert (dx, dy) == (run_grid[1], run_grid[5])
        columns = (x0 - run_grid[0]) / dx
        assert abs(columns - round(columns)) < 1e-6


def test_a_run_killed_midway_continues_to_the_same_result(job, tmp_path):
    out = tmp_path / "killed"
    command, run, blocks, workers = _started_run(job, out, blocks_first=3)
    run.send_signal(signal.SIGKILL)
    run.communicate(timeout=60)
    finished = len(list(blocks.glob("*.json")))
    assert 3 <= finished < 25 and not (tmp_path / "killed.gpkg").exists()
    # Its workers finish what they hold and go once they lose their scheduler; a file one of them was
    # writing stays behind, as after a power cut.
    deadline = time.monotonic() + 120
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    again = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"({finished} finished before)" in again.stdout
    assert_same_result(out, job[2])
    assert not list(blocks.glob(".*")) and not list(tmp_path.glob(".*"))   # what the kill left is gone


def test_sigterm_stops_a_distributed_run_cleanly_and_it_continues(job, tmp_path):
    out = tmp_path / "stopped"
    command, run, blocks, workers = _started_run(job, out, blocks_first=2)
    run.send_signal(signal.SIGTERM)
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 128 + signal.SIGTERM and "Terminated (SIGTERM)" in stderr, stderr[-2000:]
    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers)   # the local cluster went with it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stopped.run"]   # no output, no temporary file
    again = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "finished before)" in again.stdout and "(0 finished before)" not in again.stdout
    assert_same_result(out, job[2])


def _started_run(job, out, blocks_first: int):
    """A distributed predict in its own process (1 worker, 25 blocks), once it has finished some blocks:
    (command, process, its blocks folder, the processes it started)."""
    command = [sys.executable, "-m", "trainer", *predict_many(job, out, "--workers", "1", "--block-size", "56")]
    run = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    blocks = out.parent / f"{out.name}.run" / "blocks"
    deadline = time.monotonic() + 120
    while run.poll() is None and time.monotonic() < deadline and len(list(blocks.glob("*.json"))) < blocks_first:
        time.sleep(0.02)
    assert run.poll() is None, "the run ended before it could be stopped"
    return command, run, blocks, _descendants(run.pid)


def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            children = (task / "children").read_text().split() if (task / "children").exists() else []
            todo += [int(child) for child in children if int(child) not in found]
            found |= {int(child) for child in children}
    return found


def test_a_changed_option_is_refused_by_name_until_restart(job, tmp_path, capsys):
    out = tmp_path / "changed"
    assert cli.main(predict_many(job, out, "--workers", "1")) == 0
    assert cli.main(predict_many(job, out, "--workers", "1", "--overlap", "0.25", "--overwrite")) == 2
    assert "another option overlap" in capsys.readouterr().err
    assert cli.main(predict_many(job, out, "--workers", "1", "--overlap", "0.25", "--overwrite", "--restart")) == 0
    assert json.loads((tmp_path / "changed.run" / "run.json").read_text())["options"]["overlap"] == 0.25


def test_a_corrupt_sheet_is_reported_and_the_rest_is_finished(job, tmp_path, capsys):
    folder, model, single = job
    sheets = tmp_path / "sheets"
    sheets.mkdir()
    cuts = [(0, 86), (86, 172), (172, 256)]   # 3 x 3 sheets: the middle one touches no edge of the mosaic
    for r0, r1 in cuts:
        for c0, c1 in cuts:
            gdal.Translate(str(sheets / f"sheet_{r0:03d}_{c0:03d}.tif"), str(folder / "whole.tif"),
                           srcWin=[c0, r0, c1 - c0, r1 - r0])
    middle = sheets / "sheet_086_086.tif"
    good = middle.read_bytes()
    middle.write_bytes(good[:len(good) // 2])   # truncated: its header opens, its pixels do not
    out = tmp_path / "partial"
    args = ["predict", str(sheets), "--model", str(model), "--out", f"{out}.gpkg", "--raster", f"{out}.tif",
            *QUIET, *BLOCKS, "--workers", "2"]
    assert cli.main(args) == 2
    error = capsys.readouterr().err
    assert "4 of 9 blocks failed" in error and "block r00001_c00001 (pixels 112..224 x 112..224" in error
    assert "sheet_086_086.tif" in error and "run the same command again" in error
    assert len(list((tmp_path / "partial.run" / "blocks").glob("*.json"))) == 5   # the others finished
    assert not out.with_suffix(".gpkg").exists()
    middle.write_bytes(good)   # the sheet delivered again: a changed input, so the run starts over
    assert cli.main(args) == 2 and "another set of sheets" in capsys.readouterr().err
    assert cli.main(args + ["--restart"]) == 0
    assert_same_result(out, single)


def test_the_processing_algorithm_segments_a_folder_of_sheets_on_local_workers(job, provider, tmp_path):
    import processing
    from qgis.core import QgsProcessingFeedback, QgsVectorLayer

    folder, model, single = job
    feedback = QgsProcessingFeedback()
    progress = []
    feedback.progressChanged.connect(progress.append)
    result = processing.run("landcover:segmentmany", {
        "FOLDER": str(folder / "sheets"), "MODEL": str(model), "WORKERS": 2, "BLOCK_SIZE": 112, "MIN_AREA": 0,
        "FILL_HOLES": 0, "OUTPUT": str(tmp_path / "many.gpkg"), "OUTPUT_RASTER": str(tmp_path / "many.vrt"),
    }, feedback=feedback)
    assert result["BLOCKS"] == 9 and progress[-1] == 100.0
    np.testing.assert_array_equal(gdal.Open(result["OUTPUT_RASTER"]).ReadAsArray(),
                                  gdal.Open(f"{single}.tif").ReadAsArray())
    woodland = QgsVectorLayer(f"{result['OUTPUT']}|layername=woodland", "woodland", "ogr")
    assert woodland.isValid() and woodland.featureCount() == 1
    assert json.loads(result["AREA_HA"])["woodland"] == pytest.approx(
        json.loads(result["POLYGON_AREA_HA"])["woodland"], rel=0.05)
    assert (tmp_path / "many.run" / "run.json").is_file()   # the run folder beside the polygons
    layers = processing.run("landcover:segmentmany", {
        "SHEETS": [str(p) for p in sorted((folder / "sheets").iterdir())], "MODEL": str(model), "WORKERS": 1,
        "MIN_AREA": 0, "FILL_HOLES": 0, "OUTPUT": str(tmp_path / "layers.gpkg"),
        "OUTPUT_RASTER": str(tmp_path / "layers.tif")})   # the sheets as raster layers, one block
    assert layers["BLOCKS"] == 1
    np.testing.assert_array_equal(gdal.Open(layers["OUTPUT_RASTER"]).ReadAsArray(),
                                  gdal.Open(f"{single}.tif").ReadAsArray())


def test_cancelling_the_processing_algorithm_stops_the_running_blocks(job, provider, tmp_path):
    import processing
    from qgis.core import QgsProcessingFeedback

    class Heard(QgsProcessingFeedback):
        infos: list[str] = []

        def pushInfo(self, info: str) -> None:  # noqa: N802
            self.infos.append(info)

    folder, model, _ = job
    feedback = Heard()
    feedback.progressChanged.connect(lambda percent: percent > 0 and feedback.cancel())   # after the first block
    results = processing.run("landcover:segmentmany", {
        "FOLDER": str(folder / "sheets"), "MODEL": str(model), "WORKERS": 1, "BLOCK_SIZE": 56, "MIN_AREA": 0,
        "OUTPUT": str(tmp_path / "cancelled.gpkg")}, feedback=feedback)
    assert not results.get("OUTPUT")   # nothing returned, as QGIS's own algorithms on a cancel
    assert [info for info in feedback.infos if info.startswith("Cancel")] == [
        f"Cancelled; the finished blocks are kept in {tmp_path / 'cancelled.run'}: run again to go on."]
    finished = len(list((tmp_path / "cancelled.run" / "blocks").glob("*.json")))
    assert 1 <= finished < 25 and not (tmp_path / "cancelled.gpkg").exists()
    assert (tmp_path / "cancelled.run" / "stop").exists()   # what told the running block to stop
