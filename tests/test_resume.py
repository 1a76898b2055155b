"""A distributed run killed (SIGKILL) in any phase finishes with the same command, to the single run's result,
and its killed workers stop at once and quietly."""
from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import REPO
from landcover_qgis_plugin.core.owners import alive
from test_scale import QUIET, assert_same_result, job, predict_many  # noqa: F401  (job: the fixture)
from trainer.cli import main

pytest.importorskip("distributed")

# Kill points: the first progress message holding the text, in the order a run reaches them.
PHASES = {
    "classifying": "Classified block 4 of 9",
    "class raster": "Writing the class raster",
    "surveying small regions": "Merging regions smaller than the minimum area",
    "surveyed some": "Merging regions smaller than the minimum area (survey 2 of",
    "merging small regions": "Merging regions smaller than the minimum area (merge 1 of",
    "tracing": "Tracing polygons (stripe 2 of",
    "joining": "Joining polygons across stripes",
    "cleaning": "Writing polygons (part 2 of",
    "appending": "Writing polygons (appending",
    "moving into place": "Polygons written",
    "finished": "Done",
}

# The CLI's own run (`predict_many`'s command) in a process that kills itself (SIGKILL) on hearing `stage`.
DRIVER = textwrap.dedent("""
    import inspect, os, signal, sys
    from landcover_qgis_plugin.core.scale import runner

    if __name__ == "__main__":
        stage, run = sys.argv[1], runner.segment_many

        def segment_many(*args, **kwargs):
            call = inspect.signature(run).bind(*args, **kwargs)
            progress = call.arguments["progress"]

            def heard(percent, message):
                if stage in message:
                    os.kill(os.getpid(), signal.SIGKILL)
                progress(percent, message)
            call.arguments["progress"] = heard
            return run(*call.args, **call.kwargs)

        runner.segment_many = segment_many
        from trainer.cli import main
        sys.exit(main(sys.argv[2:]))
""")
SIEVED = ["--min-area", "400"]   # 1,600 px at 50 cm: the building (1,500 px) merges into the ground


@pytest.fixture(scope="module")
def single(job, tmp_path_factory):  # noqa: F811
    """The one-process result of the same options."""
    single = tmp_path_factory.mktemp("single") / "single"
    assert main(["predict", str(job[0] / "whole.tif"), "--model", str(job[1]), "--out", f"{single}.gpkg",
                 "--raster", f"{single}.tif", *QUIET, *SIEVED]) == 0
    return single


@pytest.mark.parametrize("phase", list(PHASES))
def test_a_run_killed_in_any_phase_finishes_with_the_same_command(job, single, tmp_path, phase):  # noqa: F811
    out = tmp_path / "out"
    command = predict_many(job, out, "--workers", "1", *SIEVED)
    killed = subprocess.run([sys.executable, "-c", DRIVER, PHASES[phase], *command], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -9, f"never reached '{PHASES[phase]}': {killed.stderr[-1500:]}"
    assert killed.stderr == "", killed.stderr[-1500:]   # its workers too stopped quietly
    _wait_for_writers(tmp_path)
    assert main(command) == 0   # the same command
    assert_same_result(out, single)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.gpkg", "out.run", "out.tif", "out.tif.aux.xml"]
    assert not [p for p in (tmp_path / "out.run").rglob(".*")]   # no lock, no temporary file left


def _wait_for_writers(folder, timeout_s: float = 60.0) -> None:
    """Until the processes named by the temporary files under `folder` (the killed run's workers, which
    their watchdog ends within seconds of it) have gone: what they leave is then a dead run's."""
    deadline = time.monotonic() + timeout_s
    for path in folder.rglob(".*"):
        found = re.search(r"-(\d+)[.-]", path.name)
        while found and alive(int(found.group(1))) and time.monotonic() < deadline:
            time.sleep(0.1)
