"""Shared test set-up: headless Qt, quiet TensorFlow, the repository on sys.path, and the fixtures
several test files use (plain helpers are in *_support.py)."""
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import pytest  # noqa: E402  (after the environment above)

from plugin_support import Scene, make_scene  # noqa: E402


@pytest.fixture(scope="session")
def scene(tmp_path_factory) -> Scene:
    """A painted GeoTIFF with one rectangle per class and the colour model that labels it exactly."""
    return make_scene(tmp_path_factory.mktemp("scene"))


@pytest.fixture
def clean_project(qgis_new_project):
    """The project, emptied again afterwards."""
    yield qgis_new_project
    qgis_new_project.removeAllMapLayers()
    qgis_new_project.layerTreeRoot().removeAllChildren()


@pytest.fixture(scope="module")
def provider(qgis_processing):
    """The plugin's Processing provider, registered for the module's tests."""
    from qgis.core import QgsApplication
    from landcover_qgis_plugin.provider import LandCoverProvider

    registry = QgsApplication.processingRegistry()
    provider = LandCoverProvider()
    assert registry.addProvider(provider)
    yield provider
    registry.removeProvider(provider)


@pytest.fixture(scope="session")
def xyz_server(scene, tmp_path_factory):
    """The scene as an XYZ tile pyramid (gdal2tiles, zoom 16 to 19) served over HTTP on 127.0.0.1:
    yields the URL template, as a QGIS XYZ layer names it."""
    import functools
    import http.server
    import subprocess
    import threading

    tiles = tmp_path_factory.mktemp("xyz") / "tiles"
    subprocess.run(["gdal2tiles.py", "--xyz", "-z", "16-19", "-q", str(scene.raster), str(tiles)], check=True,
                   capture_output=True)

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(tiles)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{{z}}/{{x}}/{{y}}.png"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def wms_server(scene, tmp_path_factory):
    """The scene as a WMS layer 'scene' of QGIS's own server (qgis_mapserver) on 127.0.0.1: yields its URL."""
    import socket
    import subprocess
    import time
    import urllib.request

    from qgis.core import QgsProject, QgsRasterLayer

    project_path = tmp_path_factory.mktemp("wms") / "scene.qgs"
    project = QgsProject()
    layer = QgsRasterLayer(str(scene.raster), "scene")
    project.addMapLayer(layer)
    project.setCrs(layer.crs())
    assert project.write(str(project_path))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(["qgis_mapserver", "-p", str(project_path), f"127.0.0.1:{port}"],
                              env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{url}?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetCapabilities", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    yield url
    server.terminate()
    server.wait(timeout=10)
