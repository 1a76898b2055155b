"""Outputs owned for the whole run: a second run on the same output is refused naming the first, or waits
for it; a dead run's lock is taken over with a note; a file appearing meanwhile is never replaced."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from conftest import REPO
from fault_support import colour_onnx_model, speckled_raster
from landcover_qgis_plugin.core.engine import SegmentationOptions, segment
from landcover_qgis_plugin.core.errors import OutputExistsError, OutputLockedError
from landcover_qgis_plugin.core.files import atomic_output
from landcover_qgis_plugin.core.locks import lock_beside, locked_outputs
from landcover_qgis_plugin.core.owners import host_name


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    return str(speckled_raster(folder / "speckles.tif", size=128)), str(colour_onnx_model(folder / "colours.onnx"))


def _ended_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _predict(inputs, out, *flags):
    return subprocess.Popen([sys.executable, "-m", "trainer", "predict", inputs[0], "--model", inputs[1], "--out",
                             str(out), "--quiet", *flags], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def test_a_second_run_on_a_locked_output_is_refused_naming_the_first(inputs, tmp_path):
    out = tmp_path / "o.gpkg"
    with locked_outputs([out]):   # this process is the first run
        run = _predict(inputs, out)
        _, stderr = run.communicate(timeout=120)
        in_process = pytest.raises(OutputLockedError, match=rf"process {os.getpid()} on {host_name()}")
        with in_process:   # another run of the same process (the dialog and the toolbox in one QGIS)
            segment(*inputs, str(out))
    assert run.returncode == 2 and stderr.count("\n") == 1, stderr
    assert f"'{out}' is being written by another run (process {os.getpid()} on {host_name()}" in stderr
    assert "--wait" in stderr and str(lock_beside(out)) in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []   # the lock went with the first run


def test_a_waiting_run_starts_once_the_first_has_finished(inputs, tmp_path):
    out = tmp_path / "o.gpkg"
    with locked_outputs([out]):
        run = _predict(inputs, out, "--wait")
        time.sleep(5.0)   # well past starting up: it waits for this process
        assert run.poll() is None and not out.exists()
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 0, stderr
    assert out.exists() and "wrote polygons" in stdout


def test_waiting_for_a_run_that_wrote_the_output_then_refuses_without_overwrite(inputs, tmp_path):
    out = tmp_path / "o.gpkg"
    results = []
    with locked_outputs([out]):
        waiting = threading.Thread(target=lambda: results.append(_caught(
            lambda: segment(*inputs, str(out), options=SegmentationOptions(wait=True)))))
        waiting.start()
        time.sleep(1.0)
        out.write_text("the first run's result")
    waiting.join(60)
    assert isinstance(results[0], OutputExistsError)
    assert out.read_text() == "the first run's result"


def _caught(function):
    try:
        return function()
    except Exception as error:   # the test looks at which
        return error


def test_a_dead_runs_lock_is_taken_over_with_a_note(inputs, tmp_path):
    out = tmp_path / "o.gpkg"
    dead = _ended_pid()
    lock_beside(out).write_text(json.dumps({"host": host_name(), "pid": dead, "since": "2026-12-08T01:00:00",
                                            "command": "python -m trainer predict ...", "token": "x"}))
    other = tmp_path / ".elsewhere.gpkg.lock"   # a dead run's lock of another output in this folder
    other.write_text(json.dumps({"host": host_name(), "pid": dead, "token": "y"}))
    result = segment(*inputs, str(out))
    assert result.notes == [f"Took over '{out}' from process {dead} on {host_name()} since 2026-12-08T01:00:00: "
                            "python -m trainer predict ..., which ended without finishing."]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.gpkg"]


def test_another_hosts_lock_is_respected(inputs, tmp_path):
    out = tmp_path / "o.gpkg"
    lock_beside(out).write_text(json.dumps({"host": "elsewhere", "pid": 1, "since": "2026-12-08T01:00:00",
                                            "token": "x"}))
    with pytest.raises(OutputLockedError, match=r"process 1 on elsewhere .* delete '.*\.o\.gpkg\.lock'"):
        segment(*inputs, str(out))
    assert not out.exists() and lock_beside(out).exists()


def test_a_file_appearing_while_the_output_is_written_is_never_replaced(tmp_path):
    out = tmp_path / "o.txt"
    with pytest.raises(OutputExistsError, match="was created by another program while this run wrote it"):
        with atomic_output(out) as tmp:
            tmp.write_text("ours")
            out.write_text("theirs")
    assert out.read_text() == "theirs" and sorted(p.name for p in tmp_path.iterdir()) == ["o.txt"]


def test_a_second_distributed_run_on_a_run_folder_is_refused(inputs, tmp_path):
    from landcover_qgis_plugin.core.locks import lock_in
    from landcover_qgis_plugin.core.scale.runner import segment_many

    pytest.importorskip("distributed")
    run_dir = tmp_path / "o.run"
    with locked_outputs([], [run_dir]):   # another run holds the folder (writing other outputs)
        with pytest.raises(OutputLockedError, match=rf"Output '{run_dir}' is being written by another run"):
            segment_many([inputs[0]], inputs[1], run_dir, str(tmp_path / "other.gpkg"), processes=False)
        assert lock_in(run_dir).exists()
    assert not (tmp_path / "other.gpkg").exists()
