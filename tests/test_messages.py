"""Every message reaches the analyst whole: the install commands (`"numpy<2"`) and errors holding `<` or `&`,
through the widgets that show them: a message bar item, its Details…, the log panel and tooltips."""
from __future__ import annotations

import pytest
from qgis.core import Qgis, QgsApplication
from qgis.gui import QgsMessageBar, QgsMessageLogViewer
from qgis.PyQt.QtWidgets import QPlainTextEdit, QTextBrowser

from landcover_qgis_plugin import dependencies
from landcover_qgis_plugin.notify import log, push, tooltip
from plugin_support import open_details, plain_text

ERROR = "Writing 'fields & roads <2>.gpkg' failed (x < y && y > z)."


@pytest.fixture
def nothing_installed(monkeypatch):
    monkeypatch.setattr(dependencies, "missing_modules", lambda: ["onnxruntime"])
    monkeypatch.setattr(dependencies, "keras_available", lambda: False)


def _messages() -> list[str]:
    return [dependencies.missing_runtime_message(), dependencies.missing_keras_message(), ERROR]


def test_the_install_messages_hold_whole_commands(nothing_installed):
    runtime, keras, _ = _messages()
    assert dependencies.install_command() in runtime and dependencies.install_command(keras=True) in runtime
    assert '"numpy<2"' in runtime and runtime.endswith(dependencies.install_command(keras=True))
    assert dependencies.install_command(keras=True) in keras and keras.endswith("then restart QGIS.")


def test_every_message_shows_whole_in_the_bar_its_details_the_log_and_tooltips(qgis_app, nothing_installed):
    bar = QgsMessageBar()
    viewer = QgsMessageLogViewer()
    for text in _messages():
        push(bar, Qgis.MessageLevel.Warning, "Land cover", text)
        [browser] = bar.currentItem().findChildren(QTextBrowser)
        assert browser.toPlainText() == f"Land cover: {text}"
        push(bar, Qgis.MessageLevel.Warning, "Land cover", "In short", details=text)
        assert open_details(bar.currentItem()) == text
        log(text, Qgis.MessageLevel.Warning)
        QgsApplication.processEvents()
        assert text in "".join(edit.toPlainText() for edit in viewer.findChildren(QPlainTextEdit))   # the tab
        assert plain_text(tooltip(text)) == text
    bar.clearWidgets()
