"""Keep the plugin's translations in step with its source.

    python tools/i18n.py update   # collect every tr("...") literal into resources/i18n/*.ts
    python tools/i18n.py compile  # lrelease each .ts into the .qm the plugin loads

pylupdate5 is not needed: the strings are collected from the Python syntax tree. Existing
translations are kept, new strings are marked unfinished, strings no longer in the source dropped.
Compiling needs Qt's lrelease (Debian: qttools5-dev-tools).
"""
from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PLUGIN = REPO / "landcover_qgis_plugin"
I18N = REPO / "resources" / "i18n"
CONTEXT = "LandCover"  # landcover_qgis_plugin.i18n.CONTEXT; not imported, so this runs without QGIS


# tr() translates in the plugin; translatable() marks the QGIS-free engine's option labels, which
# the plugin translates when it shows them.
MARKERS = ("tr", "translatable")


def source_strings(plugin_dir: Path = PLUGIN) -> list[tuple[str, str, int]]:
    """(text, file relative to resources/i18n, line) of each marked literal, first occurrence first."""
    found: dict[str, tuple[str, str, int]] = {}
    for path in sorted([*plugin_dir.glob("*.py"), *plugin_dir.glob("core/*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in MARKERS
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                text = node.args[0].value
                location = os.path.relpath(path, I18N).replace(os.sep, "/")
                if text not in found or (location, node.lineno) < found[text][1:]:
                    found[text] = (text, location, node.lineno)
    return sorted(found.values(), key=lambda item: (item[1], item[2]))


def read_translations(ts_path: Path) -> dict[str, tuple[str, bool]]:
    """source -> (translation, finished) of an existing .ts file."""
    if not ts_path.exists():
        return {}
    translations = {}
    for message in ET.parse(ts_path).getroot().iter("message"):
        element = message.find("translation")
        text = (element.text or "") if element is not None else ""
        translations[message.findtext("source")] = (text, element is not None and element.get("type") is None)
    return translations


def write_ts(ts_path: Path, language: str, strings: list[tuple[str, str, int]]) -> tuple[int, int]:
    """Write the .ts; returns (finished, unfinished) counts."""
    existing = read_translations(ts_path)
    root = ET.Element("TS", version="2.1", language=language)
    context = ET.SubElement(root, "context")
    ET.SubElement(context, "name").text = CONTEXT
    finished = 0
    for text, location, line in strings:
        message = ET.SubElement(context, "message")
        ET.SubElement(message, "location", filename=location, line=str(line))
        ET.SubElement(message, "source").text = text
        translation, done = existing.get(text, ("", False))
        element = ET.SubElement(message, "translation")
        element.text = translation
        if done and translation:
            finished += 1
        else:
            element.set("type", "unfinished")
    ET.indent(root)
    ts_path.parent.mkdir(parents=True, exist_ok=True)
    with open(ts_path, "w", encoding="utf-8") as handle:
        handle.write('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n')
        handle.write(ET.tostring(root, encoding="unicode"))
        handle.write("\n")
    return finished, len(strings) - finished


def ts_files() -> list[Path]:
    return sorted(I18N.glob("landcover_*.ts"))


def update(languages: list[str]) -> int:
    strings = source_strings()
    paths = {path: path.stem.split("_", 1)[1] for path in ts_files()}
    paths.update({I18N / f"landcover_{language}.ts": language for language in languages})
    if not paths:
        print("error: no .ts file yet; name a language: python tools/i18n.py update --language de", file=sys.stderr)
        return 1
    for path, language in sorted(paths.items()):
        finished, unfinished = write_ts(path, language, strings)
        print(f"{path.relative_to(REPO)}: {finished} translated, {unfinished} to translate")
    return 0


def lrelease() -> str | None:
    return shutil.which("lrelease") or next(
        (str(path) for path in (Path("/usr/lib/qt5/bin/lrelease"), Path("/usr/lib/x86_64-linux-gnu/qt5/bin/lrelease"))
         if path.exists()), None)


def compile_translations() -> int:
    tool = lrelease()
    if tool is None:
        print("error: Qt's lrelease was not found; install it (Debian: apt-get install qttools5-dev-tools).",
              file=sys.stderr)
        return 1
    for path in ts_files():
        subprocess.run([tool, "-silent", str(path), "-qm", str(path.with_suffix(".qm"))], check=True)
        print(f"{path.with_suffix('.qm').relative_to(REPO)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("update", "compile"))
    parser.add_argument("--language", action="append", default=[],
                        help="add a translation for this language code (e.g. de); existing ones are updated anyway")
    args = parser.parse_args(argv)
    return update(args.language) if args.command == "update" else compile_translations()


if __name__ == "__main__":
    sys.exit(main())
