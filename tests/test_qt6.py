"""QGIS 4 (Qt 6, PyQt6) readiness, checked on QGIS 3: QGIS 4 cannot be installed on Debian 12."""
import configparser
import subprocess
import sys

from conftest import REPO

sys.path.insert(0, str(REPO / "tools"))
import qt6_check  # noqa: E402

PLUGIN = REPO / "landcover_qgis_plugin"


def test_flake8_qgis_finds_no_qt6_incompatibility_or_direct_qt_import():
    completed = subprocess.run([sys.executable, "-m", "flake8", "--select=QGS101,QGS102,QGS103,QGS104,QGS4",
                                str(PLUGIN)], capture_output=True, text=True)
    assert completed.returncode == 0 and not completed.stdout, completed.stdout + completed.stderr


def test_every_enum_of_qgis_and_qt_is_spelt_scoped(qgis_app):
    assert qt6_check.check([PLUGIN]) == []


def test_the_check_catches_what_pyqt6_removed(tmp_path, qgis_app):
    source = tmp_path / "old.py"
    source.write_text("from qgis.core import Qgis, QgsProcessing\n"
                      "from qgis.PyQt.QtCore import Qt\n"
                      "from qgis.PyQt.QtWidgets import QDialogButtonBox\n"
                      "from PyQt5.QtGui import QColor\n"
                      "a = (Qt.Checked, Qt.UserRole, QDialogButtonBox.Ok, Qgis.Success, QgsProcessing.TypeRaster)\n"
                      "b = (Qt.CheckState.Checked, QDialogButtonBox.StandardButton.Ok, QgsProcessing.TEMPORARY_OUTPUT)\n"
                      "dialog.exec_()\n")
    found = qt6_check.problems(source)
    flagged = {line.split(": ", 1)[1].split(" ")[0] for line in found}
    assert flagged == {"import", "Qt.Checked", "Qt.UserRole", "QDialogButtonBox.Ok", "Qgis.Success",
                       "QgsProcessing.TypeRaster", "exec_()"}, found
    assert any("write Qt.ItemDataRole.UserRole" in line for line in found)
    assert any("import PyQt5.QtGui through qgis.PyQt" in line for line in found)


def test_metadata_admits_qgis_4():
    metadata = configparser.ConfigParser()
    metadata.read(PLUGIN / "metadata.txt", encoding="utf-8")
    assert metadata["general"]["qgisMinimumVersion"] == "3.22"
    assert metadata["general"]["qgisMaximumVersion"] == "4.99"
    assert metadata["general"]["supportsQt6"] == "True"
