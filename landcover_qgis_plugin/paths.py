"""Where the plugin's bundled files live.

In the repository `resources/` is a symlink to the top-level folder; in the packaged zip it is a real
copy. Either way every path below is relative to the plugin folder, so QGIS finds them wherever the
plugin was installed.
"""
from __future__ import annotations

from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parent
RESOURCES_DIR = PLUGIN_DIR / "resources"
ICON_PATH = RESOURCES_DIR / "icon.svg"
DEFAULT_MODEL_PATH = RESOURCES_DIR / "models" / "default.keras"
DEFAULT_ONNX_MODEL_PATH = DEFAULT_MODEL_PATH.with_suffix(".onnx")   # the same network, for ONNX Runtime
CLASS_POLYGONS_QML = RESOURCES_DIR / "styles" / "class_polygons.qml"
I18N_DIR = RESOURCES_DIR / "i18n"
