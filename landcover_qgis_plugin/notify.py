"""Messages to the analyst through QGIS's message bars, log panel, tooltips and the dialog's notice.

All of them render rich text: a plain message holding `<` or `&` (the install command's `"numpy<2"`)
would lose everything after it. Every message goes through here and is escaped once.
"""
from __future__ import annotations

import html

from qgis.core import Qgis, QgsMessageLog
from qgis.gui import QgsMessageBar
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import QFrame, QLabel, QMessageBox, QPushButton, QVBoxLayout, QWidget

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


# The message bar's colours, as a frame behind the dialog's notice
_NOTICE_COLOURS = {Qgis.MessageLevel.Info: "#dbe9f7", Qgis.MessageLevel.Success: "#dcf0d8",
                   Qgis.MessageLevel.Warning: "#fdf1c4", Qgis.MessageLevel.Critical: "#f8d7da"}


class Notice(QFrame):
    """A dialog's own message: wrapped over as many lines as it needs (a message bar item shows two) and
    selectable, so an install command can be read and copied whole; hidden while there is nothing to say."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("landcoverNotice")
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.label)
        self._plain = ""
        self.hide()

    def show_message(self, level: Qgis.MessageLevel, title: str, text: str) -> None:
        self._plain = text
        self.setStyleSheet(f"QFrame#landcoverNotice {{ background: {_NOTICE_COLOURS[level]}; border-radius: 4px; }}")
        self.label.setText(f"<b>{rich(title)}</b>: {rich(text)}")
        self.show()

    def clear(self) -> None:
        self._plain = ""
        self.label.clear()
        self.hide()

    def text(self) -> str:
        """The message shown, as plain text ("" when none)."""
        return self._plain
