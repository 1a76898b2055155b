"""`make demo`: the plugin's Processing algorithm through qgis_process on the bundled sample.

    python tools/demo.py [--input ORTHOPHOTO.tif] [--model MODEL.keras] [--out-dir build/demo]

Runs `landcover:segment` exactly as an analyst's script or a server would (qgis_process, the
plugin found through QGIS_PLUGINPATH, a private QGIS profile under the output folder so the user's
own profile is never touched), prints the area per class, and renders a preview PNG of the
orthophoto with the coloured polygons.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

from preview import preview as render_preview_png  # tools/preview.py, beside this script

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO / "resources" / "sample"
DEFAULT_MODEL = REPO / "resources" / "models" / "default.keras"
PLUGIN = "landcover_qgis_plugin"
ALGORITHM = "landcover:segment"


class QgisProcessError(Exception):
    """qgis_process failed; the message carries its output, so no traceback is needed."""


def qgis_process_binary() -> str:
    """The real binary: Debian's `qgis_process` wrapper adds --noversioncheck, which 3.22 rejects."""
    for candidate in ("qgis_process.bin", "qgis_process"):
        found = shutil.which(candidate)
        if found:
            return found
    raise FileNotFoundError("qgis_process was not found; install QGIS (Debian: apt-get install qgis).")


def sample_orthophoto() -> Path:
    samples = sorted(SAMPLE_DIR.glob("*.tif"))
    if not samples:
        raise FileNotFoundError(f"No sample orthophoto in {SAMPLE_DIR}; run 'make sample' or pass --input.")
    return samples[0]


def qgis_process(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    """Run qgis_process headless with this repository's plugin and this environment's TensorFlow."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QGIS_PLUGINPATH=str(REPO),
               QGIS_CUSTOM_CONFIG_PATH=str(profile), TF_CPP_MIN_LOG_LEVEL="2",
               # QGIS embeds the system Python; the virtual environment's packages (TensorFlow) are
               # added to its path so the plugin finds them as it would in a user's installation.
               PYTHONPATH=os.pathsep.join([*site.getsitepackages(), os.environ.get("PYTHONPATH", "")]).rstrip(
                   os.pathsep))
    return subprocess.run([qgis_process_binary(), *args], env=env, capture_output=True, text=True)


def segment(orthophoto: Path, model: Path, out_dir: Path) -> dict:
    """Enable the plugin in the private profile, run the algorithm, return its outputs."""
    profile = out_dir / "qgis-profile"
    enabled = qgis_process(["plugins", "enable", PLUGIN], profile)
    if enabled.returncode != 0 and "already enabled" not in enabled.stdout + enabled.stderr:
        raise QgisProcessError(f"qgis_process could not enable {PLUGIN}:\n{enabled.stdout}{enabled.stderr}")
    run = qgis_process(["--json", "run", ALGORITHM, "--", f"INPUT={orthophoto}", f"MODEL={model}",
                        f"OUTPUT={out_dir / 'landcover.gpkg'}", f"OUTPUT_RASTER={out_dir / 'landcover_classes.tif'}"],
                       profile)
    if run.returncode != 0 or "{" not in run.stdout:
        raise QgisProcessError(f"qgis_process run {ALGORITHM} failed:\n{run.stdout[-4000:]}{run.stderr[-4000:]}")
    return json.loads(run.stdout[run.stdout.index("{"):])["results"]


def print_areas(outputs: dict) -> None:
    """Per class: the class raster's area and, for the vectorised classes, the polygons' (after cleaning)."""
    raster_ha, polygon_ha = json.loads(outputs["AREA_HA"]), json.loads(outputs["POLYGON_AREA_HA"])
    width = max(len(name) for name in raster_ha)
    print(f"\n{'class':<{width}}  {'raster (ha)':>11}  {'polygons (ha)':>13}")
    for name, area in raster_ha.items():
        polygons = f"{polygon_ha[name]:13.2f}" if name in polygon_ha else f"{'-':>13}"
        print(f"{name:<{width}}  {area:11.2f}  {polygons}")
    print(f"{'total':<{width}}  {sum(raster_ha.values()):11.2f}  {sum(polygon_ha.values()):13.2f}")
    print(f"\n{outputs['TILES']:.0f} tiles on {outputs['DEVICE_USED']} in {outputs['SECONDS']:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", type=Path, default=None, help="orthophoto (default: the bundled sample)")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="model file (default: bundled model)")
    parser.add_argument("--out-dir", type=Path, default=REPO / "build" / "demo")
    args = parser.parse_args(argv)
    try:
        orthophoto = (args.input or sample_orthophoto()).resolve()
        model = args.model.resolve()
        if not model.is_file():
            raise FileNotFoundError(f"Model {model} does not exist; run 'make default-model' or pass --model.")
        out_dir = args.out_dir.resolve()
        out_dir.mkdir(parents=True, exist_ok=True)
        print(f"qgis_process run {ALGORITHM}: {orthophoto.name} with {model.name}")
        outputs = segment(orthophoto, model, out_dir)
        print_areas(outputs)
        preview = render_preview_png(str(orthophoto), outputs["OUTPUT"], str(model), str(out_dir / "preview.png"))
    except (OSError, QgisProcessError) as error:   # a missing file or tool, a failed run; not bugs
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"\nGeoPackage: {outputs['OUTPUT']}\nClass raster: {outputs['OUTPUT_RASTER']}\nPreview: {preview}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
