"""Build the plugin zip the QGIS plugin repository accepts, and optionally install it into a QGIS profile.

    python tools/package.py                       # dist/landcover_qgis_plugin-<version>.zip
    python tools/package.py --install             # ... and unpack it into the default QGIS profile

The zip holds one folder, landcover_qgis_plugin/, with real copies of the files the repository
reaches through symlinks (metadata.txt, resources/), the bundled default model, compiled
translations, icon and styles; no tests, sample data, caches or .pyc files. It is checked against the
plugin repository's own rules before it is written.
"""
from __future__ import annotations

import argparse
import configparser
import os
import shutil
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PLUGIN_NAME = "landcover_qgis_plugin"
PLUGIN_DIR = REPO / PLUGIN_NAME
DEFAULT_MODEL = REPO / "resources" / "models" / "default.keras"
DEFAULT_ONNX_MODEL = DEFAULT_MODEL.with_suffix(".onnx")
MODEL_IN_ZIP = "resources/models/default.keras"
ONNX_MODEL_IN_ZIP = "resources/models/default.onnx"   # the same network, for ONNX Runtime
# What plugins.qgis.org requires (its validator) and refuses.
REQUIRED_METADATA = ("name", "description", "about", "version", "qgisMinimumVersion", "author", "email",
                     "repository", "tracker")
MAX_ZIP_BYTES = 25_000_000
SKIPPED_DIRS = {"__pycache__", ".git", "__MACOSX", "tests", ".pytest_cache"}
SKIPPED_RESOURCES = ("resources/sample", "resources/models")  # the default model is added on its own
SKIPPED_SUFFIXES = {".pyc", ".pyo", ".ts", ".orig", ".swp"}
ZIP_TIME = (2024, 1, 1, 0, 0, 0)  # fixed timestamps: the same sources give the same zip


class PackageError(RuntimeError):
    """The plugin cannot be packaged as it is; the message says what to fix."""


def read_metadata(path: Path = PLUGIN_DIR / "metadata.txt") -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(path, encoding="utf-8")
    if not parser.has_section("general"):
        raise PackageError(f"{path} has no [general] section.")
    return dict(parser.items("general"))


def plugin_files(plugin_dir: Path = PLUGIN_DIR) -> list[tuple[Path, str]]:
    """(file on disk, path inside the plugin folder), following the repository's symlinks."""
    files = []
    for folder, dirs, names in os.walk(plugin_dir, followlinks=True):
        relative_folder = Path(folder).relative_to(plugin_dir)
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS
                         and not str((relative_folder / d).as_posix()).startswith(SKIPPED_RESOURCES))
        for name in sorted(names):
            path = Path(folder) / name
            if path.suffix in SKIPPED_SUFFIXES or name.startswith("."):
                continue
            files.append((path, (relative_folder / name).as_posix()))
    return files


def check(entries: dict[str, Path], metadata: dict[str, str]) -> None:
    """The plugin repository's rules, so an upload is not refused after the fact."""
    missing = [key for key in REQUIRED_METADATA if not metadata.get(key, "").strip()]
    if missing:
        raise PackageError(f"metadata.txt lacks {', '.join(missing)}.")
    for required in ("__init__.py", "metadata.txt", "LICENSE", metadata.get("icon", "icon"), MODEL_IN_ZIP):
        if required not in entries:
            raise PackageError(f"The package would lack {required}.")


def build(out_dir: Path, model: Path = DEFAULT_MODEL, onnx_model: Path | None = DEFAULT_ONNX_MODEL) -> Path:
    """Write the zip with the default model and, when given, its ONNX copy; returns its path."""
    for path in (model, onnx_model):
        if path is not None and not path.is_file():
            raise PackageError(f"The default model {path} does not exist; run 'make default-model' first "
                               "(or pass --model FILE.keras and --onnx-model FILE.onnx).")
    metadata = read_metadata()
    entries = {relative: path for path, relative in plugin_files()}
    entries[MODEL_IN_ZIP] = model
    if onnx_model is not None:
        entries[ONNX_MODEL_IN_ZIP] = onnx_model
    check(entries, metadata)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{PLUGIN_NAME}-{metadata['version']}.zip"
    partial = target.with_suffix(".zip.part")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for relative in sorted(entries):
            info = zipfile.ZipInfo(f"{PLUGIN_NAME}/{relative}", ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, entries[relative].read_bytes())
    if partial.stat().st_size > MAX_ZIP_BYTES:
        partial.unlink()
        raise PackageError(f"The zip would exceed the plugin repository's {MAX_ZIP_BYTES / 1e6:.0f} MB limit; "
                           "ship a smaller default model.")
    os.replace(partial, target)
    return target


def default_profile_dir() -> Path:
    """The 'default' QGIS 3 profile of this user (QGIS_CUSTOM_CONFIG_PATH wins, as in QGIS itself)."""
    custom = os.environ.get("QGIS_CUSTOM_CONFIG_PATH")
    if custom:
        return Path(custom) / "profiles" / "default"
    if sys.platform.startswith("win"):
        base = Path(os.environ["APPDATA"]) / "QGIS" / "QGIS3"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support" / "QGIS" / "QGIS3"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "QGIS" / "QGIS3"
    return base / "profiles" / "default"


def install(zip_path: Path, profile_dir: Path) -> Path:
    """Replace any installed copy with the zip's content and enable the plugin in that profile."""
    plugins_dir = profile_dir / "python" / "plugins"
    plugins_dir.mkdir(parents=True, exist_ok=True)
    target = plugins_dir / PLUGIN_NAME
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.exists():
        shutil.rmtree(target)
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(plugins_dir)
    enable(profile_dir)
    return target


def enable(profile_dir: Path) -> None:
    """What the Plugin Manager's tick box writes: PythonPlugins/<name>=true in the profile's QGIS3.ini.

    Qt writes its own ini dialect (@ByteArray, @Variant, escaped keys), so QSettings edits it.
    """
    from qgis.PyQt.QtCore import QSettings
    ini = profile_dir / "QGIS" / "QGIS3.ini"
    ini.parent.mkdir(parents=True, exist_ok=True)
    settings = QSettings(str(ini), QSettings.IniFormat)
    settings.setValue(f"PythonPlugins/{PLUGIN_NAME}", True)
    settings.sync()
    if settings.status() != QSettings.NoError:
        raise PackageError(f"Could not update {ini}; enable the plugin in QGIS's Plugin Manager instead.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-dir", type=Path, default=REPO / "dist", help="where the zip goes (default: dist/)")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="the model file shipped as the default")
    parser.add_argument("--onnx-model", type=Path, default=DEFAULT_ONNX_MODEL,
                        help="its ONNX copy, which the plugin prefers when ONNX Runtime is installed")
    parser.add_argument("--install", action="store_true", help="also install the zip into a QGIS profile")
    parser.add_argument("--profile-dir", type=Path, default=None,
                        help="QGIS profile folder to install into (default: this user's 'default' profile)")
    args = parser.parse_args(argv)
    try:
        zip_path = build(args.out_dir, args.model, args.onnx_model)
        print(f"{zip_path} ({zip_path.stat().st_size / 1e6:.1f} MB)")
        if args.install:
            target = install(zip_path, args.profile_dir or default_profile_dir())
            print(f"installed and enabled in {target}; restart QGIS to load it")
    except (PackageError, OSError, configparser.Error) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
