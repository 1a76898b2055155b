"""`make package` / `make install-plugin`: a zip the plugin repository accepts, which QGIS then loads."""
from __future__ import annotations

import configparser
import json
import zipfile

import pytest
from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QCoreApplication, QTranslator

from landcover_qgis_plugin import i18n as plugin_i18n
from plugin_support import EXPECTED_HA, qgis_process_env, run_qgis_process
from tools import i18n, package


@pytest.fixture(scope="module")
def built_zip(scene, tmp_path_factory):
    return package.build(tmp_path_factory.mktemp("dist"), model=scene.model, onnx_model=scene.onnx_model)


def test_zip_holds_one_plugin_folder_with_everything_it_needs_and_nothing_else(built_zip, scene):
    metadata = package.read_metadata()
    assert built_zip.name == f"landcover_qgis_plugin-{metadata['version']}.zip"
    with zipfile.ZipFile(built_zip) as archive:
        names = archive.namelist()
        assert archive.testzip() is None
        assert {name.split("/")[0] for name in names} == {"landcover_qgis_plugin"}
        inside = {name.split("/", 1)[1] for name in names}
        for required in ("__init__.py", "plugin.py", "algorithm.py", "metadata.txt", "LICENSE", "core/engine.py",
                         "resources/icon.svg", "resources/styles/class_polygons.qml",
                         "resources/i18n/landcover_de.qm", "resources/models/default.keras",
                         "resources/models/default.onnx"):
            assert required in inside, required
        assert archive.read("landcover_qgis_plugin/resources/models/default.keras") == scene.model.read_bytes()
        packed = configparser.ConfigParser(interpolation=None)
        packed.read_string(archive.read("landcover_qgis_plugin/metadata.txt").decode("utf-8"))
    assert not [name for name in names if "__pycache__" in name or name.endswith((".pyc", ".ts"))]
    assert not [name for name in names if "/tests/" in name or "/sample/" in name or "/." in name]
    assert not [name for name in inside if name.rsplit("/", 1)[-1].startswith(("test", "bench"))]  # no test helper
    assert all(packed.get("general", key) for key in package.REQUIRED_METADATA)
    assert packed.get("general", "hasProcessingProvider") == "yes"
    assert packed.get("general", "icon") == "resources/icon.svg"
    assert built_zip.stat().st_size < package.MAX_ZIP_BYTES


def test_the_same_sources_give_the_same_zip(built_zip, scene, tmp_path):
    assert package.build(tmp_path, model=scene.model, onnx_model=scene.onnx_model).read_bytes() == \
        built_zip.read_bytes()


def test_packaging_refuses_without_a_default_model(tmp_path):
    with pytest.raises(package.PackageError, match="make default-model"):
        package.build(tmp_path, model=tmp_path / "none.keras")
    assert list(tmp_path.iterdir()) == []


def test_installed_zip_is_enabled_and_runs_in_qgis_process(built_zip, scene, tmp_path):
    config = tmp_path / "config"
    target = package.install(built_zip, config / "profiles" / "default")
    assert (target / "metadata.txt").is_file() and not (target / "metadata.txt").is_symlink()
    ini = configparser.ConfigParser()
    ini.optionxform = str
    ini.read(config / "profiles" / "default" / "QGIS" / "QGIS3.ini")
    assert ini.get("PythonPlugins", "landcover_qgis_plugin") == "true"

    env = qgis_process_env(config, plugin_path=None)  # only the installed copy can be found
    gpkg = tmp_path / "installed.gpkg"
    completed = run_qgis_process(["--json", "run", "landcover:segment", "--", f"INPUT={scene.raster}",
                                  f"OUTPUT={gpkg}", "MIN_AREA=0", "FILL_HOLES=0"], env)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    outputs = json.loads(completed.stdout[completed.stdout.index("{"):])["results"]
    # No MODEL given: the bundled default inside the installed plugin was used.
    assert json.loads(outputs["AREA_HA"])["water"] == pytest.approx(EXPECTED_HA["water"], rel=0.01)
    assert all(uri.startswith(str(gpkg)) for uri in outputs["LAYERS"])


def test_translation_catalogue_covers_every_tr_string_and_is_compiled():
    ts = i18n.read_translations(i18n.I18N / "landcover_de.ts")
    assert set(ts) == {text for text, _, _ in i18n.source_strings()}, "run: python tools/i18n.py update"
    unfinished = sorted(text for text, (translation, done) in ts.items() if not done)
    assert not unfinished, f"translate these in resources/i18n/landcover_de.ts: {unfinished}"
    compiled = QTranslator()
    assert compiled.load(str(i18n.I18N / "landcover_de.qm"))
    QCoreApplication.installTranslator(compiled)
    try:
        stale = [text for text, (translation, _) in ts.items()
                 if QCoreApplication.translate(i18n.CONTEXT, text) != translation]
    finally:
        QCoreApplication.removeTranslator(compiled)
    assert not stale, "run: python tools/i18n.py compile"


def test_german_translation_is_loaded_for_a_german_qgis(monkeypatch):
    monkeypatch.setattr(QgsApplication, "locale", staticmethod(lambda: "de"))
    translator = plugin_i18n.install_translator()
    try:
        assert translator is not None
        assert plugin_i18n.tr("Segment land cover") == "Landbedeckung segmentieren"
    finally:
        QCoreApplication.removeTranslator(translator)
    assert plugin_i18n.tr("Segment land cover") == "Segment land cover"
