"""Shared test set-up: headless Qt, quiet TensorFlow, the repository on sys.path, and the fixtures
several test files use (plain helpers are in *_support.py)."""
import http.server
import os
import socket
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import pytest  # noqa: E402  (after the environment above)

from plugin_support import Scene, make_scene  # noqa: E402
from testkit import SHARED_DATA  # noqa: E402


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or a skip of the test that needs it (a clone has no ../shared beside it)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the shared real data folder {SHARED_DATA} is absent")
    return SHARED_DATA


@pytest.fixture(scope="session")
def scene(tmp_path_factory) -> Scene:
    """A painted GeoTIFF with one rectangle per class and the colour model that labels it exactly."""
    return make_scene(tmp_path_factory.mktemp("scene"))


@pytest.fixture
def server():
    """A local HTTP server for one file (`payload`), answering Range requests like a real download server."""
    state = SimpleNamespace(payload=b"", announce_extra=0, ranges=[])

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked = self.headers.get("Range")
            state.ranges.append(asked)
            start = int(asked.split("=")[1].split("-")[0]) if asked else 0
            if asked and start >= len(state.payload):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(state.payload)}")
                self.end_headers()
                return
            if asked:
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(state.payload) - 1}/{len(state.payload)}")
            else:
                self.send_response(200)
            body = state.payload[start:]
            self.send_header("Content-Length", str(len(body) + state.announce_extra))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{httpd.server_port}"   # every path gets the payload
    state.url = f"{state.base}/download/landcover.ai.v1.zip"
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def checkpoints(tmp_path_factory):
    """A stand-in for the reference's published weights zip, and what its checkpoints predict
    (reference_support.make_checkpoints)."""
    from reference_support import make_checkpoints

    return make_checkpoints(tmp_path_factory.mktemp("reference"))


@pytest.fixture
def unused_port() -> int:
    """A port on 127.0.0.1 that nobody listens on: what a download meets without network."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def fresh_settings():
    """The plugin's QgsSettings, empty before the test and after it."""
    from qgis.core import QgsSettings

    settings = QgsSettings()
    settings.remove("landcover")
    yield settings
    settings.remove("landcover")


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
    import subprocess

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
