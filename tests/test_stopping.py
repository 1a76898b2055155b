"""Stopping a run: SIGTERM cleans up as Ctrl-C does, and what a hard kill leaves is removed next time."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import testkit
from conftest import REPO
from landcover_qgis_plugin.core.files import SCRATCH_PREFIX, atomic_output, temporary_folder
from landcover_qgis_plugin.core.owners import host_name
from landcover_qgis_plugin.core.geotiff import write_geotiff
from landcover_qgis_plugin.core.modelfile import LANDCOVER_AI_CLASSES

DEEPNESS = {"model_type": "Segmentor", "resolution": 50, "tile_size": 64,
            "class_names": [c.name for c in LANDCOVER_AI_CLASSES]}


def _ended_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.skipif(sys.platform.startswith("win"), reason="SIGTERM is a POSIX signal")
def test_sigterm_stops_predict_and_leaves_nothing_half_written(tmp_path):
    rng = np.random.default_rng(0)
    colours = np.array(list(testkit.PALETTE.values()), np.uint8)
    image = np.kron(colours[rng.integers(0, len(colours), (300, 300))], np.ones((8, 8, 1), np.uint8))
    (tmp_path / "in").mkdir()
    raster = write_geotiff(tmp_path / "in" / "big.tif", image, (500_000.0, 600_000.0), 0.5)
    model = testkit.colour_onnx(tmp_path / "in" / "m.onnx", DEEPNESS)
    out = tmp_path / "out"
    out.mkdir()
    run = subprocess.Popen([sys.executable, "-m", "trainer", "predict", str(raster), "--model", str(model),
                            "--out", str(out / "big.gpkg"), "--raster", str(out / "big.tif"), "--batch-size", "1"],
                           cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not any(out.iterdir()) and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run.poll() is None, "predict ended before it could be stopped: make the raster larger"
    time.sleep(0.5)   # well into classifying
    run.send_signal(signal.SIGTERM)
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 128 + signal.SIGTERM, stderr[-2000:]
    assert "Terminated (SIGTERM)" in stderr
    assert list(out.iterdir()) == []   # no .part files, no scratch folder, no output


def test_what_a_killed_run_left_is_removed_and_a_running_ones_kept(tmp_path):
    host = host_name()
    dead, alive = _ended_pid(), os.getppid()
    stale = [tmp_path / f".out.{host}-{dead}.x1y2.part.gpkg", tmp_path / f".out.{host}-{dead}.x1y2.part.gpkg-journal",
             tmp_path / f"{SCRATCH_PREFIX}{host}-{dead}-abcd"]
    running = [tmp_path / f".out.{host}-{alive}.k9k9.part.gpkg", tmp_path / f"{SCRATCH_PREFIX}{host}-{alive}-efgh",
               tmp_path / f".out.otherhost-{dead}.zzzz.part.gpkg"]   # another host's: not ours to judge
    for path in stale + running:
        path.mkdir() if path.name.startswith(SCRATCH_PREFIX) else path.write_text("left")
    (stale[2] / "classes.tif").write_text("left")
    with atomic_output(tmp_path / "out.gpkg") as tmp:
        tmp.write_text("new")
    with temporary_folder(tmp_path / "out.gpkg"):
        pass
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in running)
    assert (tmp_path / "out.gpkg").read_text() == "new"
