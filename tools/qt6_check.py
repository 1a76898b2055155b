"""Qt 6 / QGIS 4 readiness of Python sources, checked on QGIS 3 (QGIS 4 cannot be installed here).

    python tools/qt6_check.py landcover_qgis_plugin

PyQt6 and the Qt 6 builds of QGIS drop the unscoped enum members (`Qt.Checked`,
`QDialogButtonBox.Ok`, `QgsFileWidget.SaveFile`, `Qgis.Success`): only `Qt.CheckState.Checked`
and the like remain, and these already work on QGIS 3.22. flake8-qgis knows a list of Qt's; this
check asks the bindings themselves, so it covers every class the sources import from qgis.core,
qgis.gui and qgis.PyQt: an attribute of such a class whose value belongs to an enum declared in
that class must be spelt through the enum. It also refuses `exec_()` (gone in PyQt6) and Qt imports
that bypass qgis.PyQt.
"""
from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

BINDINGS = ("qgis.core", "qgis.gui", "qgis.PyQt")
DIRECT_QT = ("PyQt5", "PyQt6", "PySide2", "PySide6", "sip")


def _imported_classes(tree: ast.Module) -> dict[str, type]:
    """Local name -> class, for every name imported from QGIS's bindings."""
    classes = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(BINDINGS):
            module = importlib.import_module(node.module)
            for alias in node.names:
                value = getattr(module, alias.name, None)
                if isinstance(value, type):
                    classes[alias.asname or alias.name] = value
    return classes


def _enum_of(cls: type, member: str) -> str | None:
    """The name of the enum declared in `cls` that `cls.member` belongs to, if it is a member."""
    value = getattr(cls, member, None)
    kind = type(value)
    if value is None or isinstance(value, type) or not kind.__qualname__.startswith(f"{cls.__name__}."):
        return None
    enum = kind.__qualname__.split(".")[-1]
    return enum if enum != member and getattr(getattr(cls, enum, None), member, None) is not None else None


def problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    classes = _imported_classes(tree)
    found = []
    for node in ast.walk(tree):
        where = f"{path}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in classes:
            enum = _enum_of(classes[node.value.id], node.attr)
            if enum:
                found.append(f"{where}: {node.value.id}.{node.attr} is gone in Qt 6; write "
                             f"{node.value.id}.{enum}.{node.attr}")
        elif isinstance(node, ast.Attribute) and node.attr == "exec_":
            found.append(f"{where}: exec_() is gone in PyQt6; call exec()")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for module in modules:
                if module.split(".")[0] in DIRECT_QT:
                    found.append(f"{where}: import {module} through qgis.PyQt instead")
    return found


def check(paths: list[Path]) -> list[str]:
    """Problems in these files and in the Python files under these folders."""
    files = [file for path in paths for file in ([path] if path.is_file() else sorted(path.rglob("*.py")))]
    return [problem for file in files for problem in problems(file)]


def main(argv: list[str]) -> int:
    from qgis.core import QgsApplication  # the bindings need an application for some classes
    app = QgsApplication([], False)  # noqa: F841 (kept alive while checking)
    found = check([Path(arg) for arg in argv] or [Path(__file__).resolve().parents[1] / "landcover_qgis_plugin"])
    print("\n".join(found) or "Qt 6 check: clean")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
