"""Where the plugin's bundled files live.

In the repository `resources/` is a symlink to the top-level folder; in the packaged zip it is a real
copy. Either way every path below is relative to the plugin folder, so QGIS finds them wherever the
plugin was installed.
"""
from __future__ import annotations

import configparser
from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parent
RESOURCES_DIR = PLUGIN_DIR / "resources"
ICON_PATH = RESOURCES_DIR / "icon.svg"
DEFAULT_MODEL_PATH = RESOURCES_DIR / "models" / "default.keras"
DEFAULT_ONNX_MODEL_PATH = DEFAULT_MODEL_PATH.with_suffix(".onnx")   # the same network, for ONNX Runtime
CLASS_POLYGONS_QML = RESOURCES_DIR / "styles" / "class_polygons.qml"
I18N_DIR = RESOURCES_DIR / "i18n"
METADATA_PATH = PLUGIN_DIR / "metadata.txt"
README_PLUGIN_SECTION = "#the-plugin"   # the README's section on the plugin, its dialog and its algorithms


def help_url() -> str:
    """The README's plugin section on the project's homepage (metadata.txt's `homepage`)."""
    metadata = configparser.ConfigParser(interpolation=None)
    metadata.read(METADATA_PATH, encoding="utf-8")
    return metadata.get("general", "homepage", fallback="") + README_PLUGIN_SECTION
