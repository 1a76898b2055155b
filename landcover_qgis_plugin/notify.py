"""Messages to the analyst through QGIS's message bars, log panel and tooltips.

All of them render rich text: a plain message holding `<` or `&` (the install command's `"numpy<2"`)
would lose everything after it. Every message goes through here and is escaped once.
"""
from __future__ import annotations

import html

from qgis.core import Qgis, QgsMessageLog
from qgis.gui import QgsMessageBar
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import QMessageBox, QPushButton

from .i18n import tr

LOG_TAG = "Land cover"   # the log panel's tab


def rich(text: str) -> str:
    """Plain text as the rich text that shows it unchanged (line breaks kept)."""
    return html.escape(text, quote=False).replace("\n", "<br>")


def tooltip(text: str) -> str:
    """A tooltip that shows the text unchanged and wraps a long one."""
    return f"<p>{rich(text)}</p>"


def push(bar: QgsMessageBar, level: Qgis.MessageLevel, title: str, text: str, duration: int = -1,
         details: str | None = None) -> None:
    """A message bar item; `duration` in seconds (0: until closed, -1: QGIS's default for the level).
    `details`: the whole story behind a Details… button (a bar item shows two lines)."""
    if details is None:
        bar.pushMessage(rich(title), rich(text), level, duration)
        return
    item = QgsMessageBar.createMessage(rich(title), rich(text), bar)
    button = QPushButton(tr("Details…"), item)
    button.setObjectName("landcoverDetails")
    button.clicked.connect(lambda: show_details(bar, level, title, details))
    item.layout().addWidget(button)
    bar.pushWidget(item, level, duration)


_ICONS = {Qgis.MessageLevel.Info: QMessageBox.Icon.Information, Qgis.MessageLevel.Success: QMessageBox.Icon.Information,
          Qgis.MessageLevel.Warning: QMessageBox.Icon.Warning, Qgis.MessageLevel.Critical: QMessageBox.Icon.Critical}


def show_details(bar: QgsMessageBar, level: Qgis.MessageLevel, title: str, details: str) -> QMessageBox:
    """The whole text of a message, selectable (a command can be copied), in a box that does not block QGIS."""
    box = QMessageBox(_ICONS.get(level, QMessageBox.Icon.Information), title, rich(details),
                      QMessageBox.StandardButton.Close, bar.window())
    box.setObjectName("landcoverDetailsBox")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def log(text: str, level: Qgis.MessageLevel) -> None:
    """A line in the log panel's Land cover tab."""
    QgsMessageLog.logMessage(rich(text), LOG_TAG, level)
