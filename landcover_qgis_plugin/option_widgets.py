"""Dialog widgets for the segmentation options, derived from their one declaration (core/options.py).

Each number, flag and choice gets a widget with the declared range, unit, default (restored by
the spin box's clear button) and help (its tooltip), and remembers its value in QgsSettings under
`landcover/<name>`. The area, classes and bands have widgets of their own in the dialog.
"""
from __future__ import annotations

from typing import Any

from qgis.core import QgsSettings
from qgis.gui import QgsDoubleSpinBox, QgsSpinBox
from qgis.PyQt.QtWidgets import QCheckBox, QComboBox, QWidget

from .core.options import CHOICE, FLAG, INTEGER, NUMBER, OPTIONS, OptionSpec
from .i18n import tr
from .notify import tooltip

SETTINGS_GROUP = "landcover"
SCALAR_KINDS = (NUMBER, INTEGER, FLAG, CHOICE)
_LARGEST_INT = 2_147_483_647  # what a spin box can hold
_LARGEST_NUMBER = 1e9


class OptionWidget:
    """One option's widget: its value, its default and its remembered setting."""

    def __init__(self, spec: OptionSpec, parent: QWidget):
        self.spec = spec
        self.widget = self._create(parent)
        self.widget.setToolTip(tooltip(tr(spec.help)))
        self.set_value(spec.default)

    @property
    def label(self) -> str:
        """The form's label; a check box carries its own."""
        return "" if self.spec.kind == FLAG else tr(self.spec.label)

    def _create(self, parent: QWidget) -> QWidget:
        spec = self.spec
        if spec.kind == FLAG:
            return QCheckBox(tr(spec.label), parent)
        if spec.kind == CHOICE:
            combo = QComboBox(parent)
            for choice in spec.choices:
                combo.addItem(tr(choice.label), choice.value)
            return combo
        if spec.kind == INTEGER:
            spin = QgsSpinBox(parent)
            spin.setRange(int(spec.minimum or 0), int(spec.maximum if spec.maximum is not None else _LARGEST_INT))
            spin.setSingleStep(int(spec.step))
        else:
            spin = QgsDoubleSpinBox(parent)
            lowest = -_LARGEST_NUMBER if spec.minimum is None else spec.minimum
            if spec.optional:  # one step below the range: "not set"
                lowest -= spec.step
                spin.setSpecialValueText(tr("not set"))
            spin.setRange(lowest, spec.maximum if spec.maximum is not None else _LARGEST_NUMBER)
            spin.setDecimals(spec.decimals)
            spin.setSingleStep(spec.step)
        if spec.unit:
            spin.setSuffix(f" {tr(spec.unit)}")
        spin.setClearValue(spin.minimum() if spec.optional else spec.default)
        return spin

    def value(self) -> Any:
        if self.spec.kind == FLAG:
            return self.widget.isChecked()
        if self.spec.kind == CHOICE:
            return self.widget.currentData()
        if self.spec.optional and self.widget.value() == self.widget.minimum():
            return None
        return self.widget.value()

    def set_value(self, value: Any) -> None:
        if self.spec.kind == FLAG:
            self.widget.setChecked(bool(value))
        elif self.spec.kind == CHOICE:
            self.widget.setCurrentIndex(max(0, self.widget.findData(value)))
        else:
            self.widget.setValue(self.widget.minimum() if value is None else value)

    def restore(self, settings: QgsSettings) -> None:
        if self.spec.remembered:
            key = f"{SETTINGS_GROUP}/{self.spec.name}"
            if self.spec.optional and settings.value(key, "", str) == "":
                self.set_value(None)
                return
            kind = {NUMBER: float, INTEGER: int, FLAG: bool, CHOICE: str}[self.spec.kind]
            self.set_value(settings.value(key, self.spec.default, kind))

    def save(self, settings: QgsSettings) -> None:
        if self.spec.remembered:
            value = self.value()
            settings.setValue(f"{SETTINGS_GROUP}/{self.spec.name}", "" if value is None else value)


def option_widgets(parent: QWidget) -> dict[str, OptionWidget]:
    """A widget for every number, flag and choice, in declaration order."""
    return {spec.name: OptionWidget(spec, parent) for spec in OPTIONS if spec.kind in SCALAR_KINDS}
