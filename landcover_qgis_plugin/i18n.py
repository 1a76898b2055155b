"""Translations: one context for every user-visible string, and the translator for QGIS's language."""
from __future__ import annotations

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QCoreApplication, QTranslator

from .paths import I18N_DIR

CONTEXT = "LandCover"


def tr(text: str) -> str:
    """Translate `text`; tools/i18n.py collects every literal passed here into the .ts files."""
    return QCoreApplication.translate(CONTEXT, text)


def install_translator() -> QTranslator | None:
    """Install the shipped translation for QGIS's interface language, if there is one."""
    language = QgsApplication.locale()[:2].lower()
    path = I18N_DIR / f"landcover_{language}.qm"
    if not path.is_file():
        return None
    translator = QTranslator()
    if not translator.load(str(path)):
        return None
    QCoreApplication.installTranslator(translator)
    return translator
