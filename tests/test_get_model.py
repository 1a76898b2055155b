"""'Get a LandCover.ai model…' in the dialog: explained, downloaded (or taken from a zip) and converted in
the task manager, selected when done; cancel and offline leave no model file and say why."""
from __future__ import annotations

import numpy as np
import pytest
from qgis.PyQt.QtCore import Qt, QTimer
from qgis.PyQt.QtTest import QTest
from qgis.PyQt.QtWidgets import QApplication

from landcover_qgis_plugin import dependencies, get_model
from landcover_qgis_plugin.core.modelfile import load_model
from landcover_qgis_plugin.core.reference import DEFAULT_REVISION, reference_url
from landcover_qgis_plugin.dialog import SegmentationDialog
from plugin_support import TaskWatch, plain_text
from landcover_qgis_plugin.plugin import LandCoverPlugin
from plugin_support import wait_for_task
from reference_support import ATOL, TINY

MODEL_NAME = f"reference {DEFAULT_REVISION}"


@pytest.fixture
def profile(tmp_path, monkeypatch, fresh_settings):
    """A QGIS profile folder of the test's own, and the tiny network in place of the reference's."""
    monkeypatch.setattr(get_model, "profile_folder", lambda: tmp_path / "profile" / "landcover")
    monkeypatch.setattr(get_model, "REFERENCE_MODEL", TINY)
    return tmp_path / "profile" / "landcover"


def _run(qgis_iface, source: str) -> SegmentationDialog:
    """Click the button in a shown dialog, answer the explanation with `source`, wait for the task."""
    dialog = SegmentationDialog(qgis_iface)
    dialog.show()
    asked = []
    dialog.ask_reference_source = lambda target: asked.append(target) or source
    QTest.mouseClick(dialog.get_model_button, Qt.MouseButton.LeftButton)
    assert asked == [get_model.reference_model_path()]
    task = dialog.reference_task
    assert task is not None and not dialog.get_model_button.isEnabled()
    wait_for_task(task)
    assert dialog.reference_task is None and dialog.get_model_button.isEnabled()
    return dialog


@pytest.mark.parametrize("origin", ["download", "zip"])
def test_the_model_is_converted_in_a_task_and_selected(origin, profile, checkpoints, server, qgis_iface):
    server.payload = checkpoints.archive.read_bytes()
    source = f"{server.base}/Weights/{DEFAULT_REVISION}.zip" if origin == "download" else str(checkpoints.archive)
    dialog = _run(qgis_iface, source)
    target = profile / "models" / f"{DEFAULT_REVISION}.keras"
    assert dialog.model_widget.filePath() == str(target)
    assert dialog.metadata is not None and dialog.metadata.name == MODEL_NAME
    assert dialog.metadata.licence.startswith("CC BY-NC-SA 4.0")
    assert "Licence: CC BY-NC-SA 4.0" in dialog.model_info.text()
    assert dialog.classes_list.count() == 4
    assert dialog.notice.text() == f"'{MODEL_NAME}' is written to {target} and selected."
    network, _ = load_model(target)
    np.testing.assert_allclose(np.asarray(network(checkpoints.tiles, training=False)), checkpoints.expected["miou"],
                               atol=ATOL)
    assert server.ranges == ([None] if origin == "download" else [])
    assert not (profile / "downloads").exists()          # the zip and the unpacked checkpoint are not kept
    assert sorted(p.name for p in (profile / "models").iterdir()) == [target.name]
    assert checkpoints.archive.is_file()                 # the user's own zip stays where it was


def test_a_cancel_during_the_download_leaves_no_file(profile, checkpoints, server, qgis_iface, monkeypatch):
    server.payload = checkpoints.archive.read_bytes()
    monkeypatch.setattr("landcover_qgis_plugin.core.download.CHUNK_BYTES", 1 << 16)
    original = get_model.ReferenceModelTask._progress

    def cancel_after_the_first_chunk(task, done, total):
        original(task, done, total)
        if done:
            task.cancel()   # as the task manager's cancel button, while the download runs

    monkeypatch.setattr(get_model.ReferenceModelTask, "_progress", cancel_after_the_first_chunk)
    dialog = _run(qgis_iface, f"{server.base}/Weights/{DEFAULT_REVISION}.zip")
    assert dialog.notice.text() == "Cancelled; nothing was written."
    assert not profile.joinpath("downloads").exists() and list(profile.joinpath("models").iterdir()) == []
    assert dialog.model_widget.filePath() != str(get_model.reference_model_path())


def test_unloading_the_plugin_cancels_a_running_conversion(profile, checkpoints, qgis_iface):
    plugin = LandCoverPlugin(qgis_iface)
    plugin.initGui()
    plugin.show_dialog()
    plugin.dialog.ask_reference_source = lambda target: str(checkpoints.archive)
    QTest.mouseClick(plugin.dialog.get_model_button, Qt.MouseButton.LeftButton)
    watch = TaskWatch(plugin.dialog.reference_task)
    plugin.unload()                                      # long before the conversion is done (maybe still queued)
    watch.wait()
    assert not get_model.reference_model_path().exists() and not (profile / "downloads").exists()


def test_offline_the_message_bar_names_the_url_and_where_to_put_the_file(profile, unused_port, qgis_iface):
    url = f"http://127.0.0.1:{unused_port}/Weights/{DEFAULT_REVISION}.zip"
    dialog = _run(qgis_iface, url)
    message = dialog.notice.text()
    assert message.startswith(f"Cannot download {url} (") and "\n" not in message
    assert "download the weights archive on another machine and choose it with 'Choose a downloaded zip…' under " \
           "'Get a LandCover.ai model…'" in message
    assert f"or put it at '{profile / 'downloads' / (DEFAULT_REVISION + '.zip')}' and try again." in message
    assert list(profile.joinpath("models").iterdir()) == []


def test_without_tensorflow_the_button_gives_the_install_command_and_starts_nothing(profile, qgis_iface,
                                                                                    monkeypatch):
    monkeypatch.setattr(dependencies, "keras_available", lambda: False)
    dialog = SegmentationDialog(qgis_iface)
    dialog.show()
    dialog.ask_reference_source = lambda target: pytest.fail("nothing is asked without TensorFlow")
    command = dependencies.install_command(keras=True)
    assert command in plain_text(dialog.get_model_button.toolTip())   # as the tooltip shows it
    QTest.mouseClick(dialog.get_model_button, Qt.MouseButton.LeftButton)
    message = dialog.notice.text()
    assert message.startswith("Converting the reference's weights needs TensorFlow and Keras") and command in message
    assert dialog.reference_task is None and not profile.exists()


def test_the_explanation_says_what_is_fetched_its_licence_and_where_it_goes(tmp_path, qgis_app, monkeypatch):
    target = tmp_path / "models" / "reference.keras"
    text = get_model.explanation_html(target)
    url = reference_url(DEFAULT_REVISION)
    for expected in (url, DEFAULT_REVISION, "test mIoU 0.718", "about 1 GB", "CC BY-NC-SA 4.0",
                     "non-commercial use only", "not part of the plugin", str(target), "Choose a downloaded zip…"):
        assert expected in text, expected
    monkeypatch.setattr(get_model.QFileDialog, "getOpenFileName", staticmethod(lambda *args: ("/data/w.zip", "")))

    def click(label: str) -> None:
        box = QApplication.activeModalWidget()
        next(button for button in box.buttons() if button.text() == label).click()

    for label, answer in (("Download and convert", url), ("Choose a downloaded zip…", "/data/w.zip"),
                          ("Cancel", None)):
        QTimer.singleShot(0, lambda label=label: click(label))
        assert get_model.ask_source(None, target) == answer
