"""The engine never imports Qt or the desktop app: checked by import-linter's contract in
pyproject.toml, and again by a plain scan of the engine's source, so that a misconfigured linter
cannot hide a forbidden import."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN = ("PySide6", "shiboken6", "PyQt5", "PyQt6", "PySide2", "assistant")


def forbidden_imports(source: str, filename: str = "<source>") -> list[str]:
    """Every import of a forbidden top-level package in `source`, as 'line: module'."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call) and _is_dynamic_import(node):
            names = [node.args[0].value]
        else:
            continue
        found += [f"{node.lineno}: {name}" for name in names if name.split(".")[0] in FORBIDDEN]
    return found


def _is_dynamic_import(node: ast.Call) -> bool:
    """importlib.import_module("X") or __import__("X") with a literal name."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return (
        name in ("import_module", "__import__")
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def test_the_scan_catches_every_form_of_forbidden_import():
    source = (
        "import os\nimport PySide6.QtCore\nfrom shiboken6 import isValid\nfrom assistant.app import main\n"
        "import importlib\nimportlib.import_module('PyQt6.QtWidgets')\n"
        "def f():\n    from PyQt5 import QtCore\n"
        "from engine.api import Engine\nfrom . import assistant\n"
    )
    assert sorted(forbidden_imports(source)) == [
        "2: PySide6.QtCore", "3: shiboken6", "4: assistant.app", "6: PyQt6.QtWidgets", "8: PyQt5"
    ]


def test_engine_source_imports_no_qt_and_not_the_app():
    files = sorted((REPO / "engine").rglob("*.py"))
    assert files, "no engine sources found"
    offences = [
        f"{path.relative_to(REPO)}:{hit}"
        for path in files
        for hit in forbidden_imports(path.read_text(encoding="utf-8"), str(path))
    ]
    assert not offences, "the engine must not import Qt or the desktop app:\n" + "\n".join(offences)


def test_import_linter_contract_is_kept():
    lint_imports = Path(sys.executable).parent / ("lint-imports.exe" if os.name == "nt" else "lint-imports")
    command = [str(lint_imports)] if lint_imports.exists() else [
        sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"
    ]
    result = subprocess.run(
        [*command, "--no-cache", "--config", str(REPO / "pyproject.toml")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "1 kept, 0 broken" in output, output


def test_engine_imports_without_qt_loaded():
    """Importing the whole engine in a fresh interpreter pulls in no Qt module."""
    code = (
        "import sys, pkgutil, importlib, engine\n"
        "for m in pkgutil.walk_packages(engine.__path__, 'engine.'):\n"
        "    if not m.name.endswith('__main__'): importlib.import_module(m.name)\n"
        f"bad = sorted(n for n in sys.modules if n.split('.')[0] in {FORBIDDEN!r})\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
