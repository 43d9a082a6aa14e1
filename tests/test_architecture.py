"""The layering, checked by import-linter's contracts in pyproject.toml: the engine never imports Qt
or the desktop app (checked again by a plain scan of the engine's source, so that a misconfigured
linter cannot hide a forbidden import); the app's conversation, speech and storage packages import
no Qt; the app reaches the engine only through engine.api. Each app contract is shown to fail on a
small package tree that breaks it, so that a contract which can never fail is caught too."""
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


CONTRACTS = 3


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """import-linter on the packages under `root`, with `root`'s pyproject.toml."""
    executable = Path(sys.executable).parent / ("lint-imports.exe" if os.name == "nt" else "lint-imports")
    command = [str(executable)] if executable.exists() else [
        sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"
    ]
    return subprocess.run(
        [*command, "--no-cache", str(root / "pyproject.toml")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))},
    )


def test_import_linter_contracts_are_kept():
    result = lint_imports(REPO)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"{CONTRACTS} kept, 0 broken" in output, output


def importlinter_section(pyproject: str) -> str:
    """The [tool.importlinter] tables of a pyproject.toml, as text."""
    lines, inside = [], False
    for line in pyproject.splitlines():
        if line.startswith("["):
            inside = line.strip("[]").startswith("tool.importlinter")
        if inside:
            lines.append(line)
    return "\n".join(lines) + "\n"


def test_the_app_contracts_fail_on_a_tree_that_breaks_them(tmp_path):
    """The real contracts, on a small engine and app of the same package names: a storage module
    that reaches Qt through another app module, and an app module that imports an engine module
    directly, must each break their contract; imports through engine.api must not."""
    files = {
        "engine/__init__.py": "",
        "engine/api.py": "from engine.profile import Profile\n",
        "engine/profile.py": "class Profile:\n    pass\n",
        "assistant/__init__.py": "",
        "assistant/through_the_facade.py": "from engine.api import Profile\n",
        "assistant/widgets.py": "import PySide6.QtWidgets\n",
        "assistant/conversation/__init__.py": "from engine.api import Profile\n",
        "assistant/speech/__init__.py": "",
        "assistant/storage/__init__.py": "",
        "assistant/storage/store.py": "from assistant.widgets import PySide6\n",
        "assistant/around_the_facade.py": "from engine.profile import Profile\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    section = importlinter_section((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    (tmp_path / "pyproject.toml").write_text(section, encoding="utf-8")
    result = lint_imports(tmp_path)
    output = " ".join((result.stdout + result.stderr).split())  # the report wraps long names
    assert result.returncode != 0, output
    assert "The engine never imports Qt or the desktop app KEPT" in output, output
    assert "import no Qt, not even through another module BROKEN" in output, output
    assert "assistant.storage.store -> assistant.widgets" in output, output
    assert "The app reaches the engine only through engine.api BROKEN" in output, output
    assert "assistant.around_the_facade -> engine.profile" in output, output
    assert "through_the_facade" not in output, output
    assert f"1 kept, {CONTRACTS - 1} broken" in output, output


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
