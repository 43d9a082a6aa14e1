"""Missing system libraries for Qt are named, with their Debian/Ubuntu packages, once, before Qt
would abort (the loader and ldd are faked: this machine has every library)."""
from __future__ import annotations

import ctypes.util
import io
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import qt_requirements
from assistant.qt_requirements import QT_LIBRARIES_MISSING, parse_ldd_missing, platform_problem, qt_import_guard

REPO = Path(__file__).resolve().parents[2]

LDD_OUTPUT = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f22)
\tlibxcb-cursor.so.0 => not found
\tlibxkbcommon-x11.so.0 => not found
\tlibEGL.so.1 => not found
\tlibxcb-cursor.so.0 => not found
\tlibfoo-unknown.so.3 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f22)
"""
DLOPEN_ERROR = "libxcb-cursor.so.0: cannot open shared object file: No such file or directory"


def test_ldd_output_gives_every_missing_library_once_in_order():
    assert parse_ldd_missing(LDD_OUTPUT) == ["libxcb-cursor.so.0", "libxkbcommon-x11.so.0", "libEGL.so.1",
                                             "libfoo-unknown.so.3"]


def test_a_plugin_that_cannot_load_names_the_libraries_and_packages(tmp_path):
    problem = platform_problem(tmp_path / "libqxcb.so", load=lambda path: DLOPEN_ERROR,
                               list_missing=lambda path: parse_ldd_missing(LDD_OUTPUT))
    assert "libxcb-cursor.so.0, libxkbcommon-x11.so.0, libEGL.so.1, libfoo-unknown.so.3" in problem
    assert "sudo apt install libegl1 libxcb-cursor0 libxkbcommon-x11-0" in problem
    assert "apt-file search" in problem and "libfoo-unknown.so.3" in problem.splitlines()[-1]


def test_without_ldd_the_loaders_error_still_names_the_library(tmp_path):
    problem = platform_problem(tmp_path / "libqxcb.so", load=lambda path: DLOPEN_ERROR, list_missing=lambda path: [])
    assert "missing here: libxcb-cursor.so.0." in problem and "apt install libxcb-cursor0" in problem


def test_a_plugin_that_loads_is_no_problem_and_ldd_is_not_run(tmp_path):
    def ldd(path):
        raise AssertionError("ldd runs only when the plugin fails to load")
    assert platform_problem(tmp_path / "libqxcb.so", load=lambda path: None, list_missing=ldd) is None


def test_the_real_loader_accepts_a_loadable_library_and_reports_a_broken_one(tmp_path):
    # Real dlopen, on libraries every machine has, so that this does not depend on the xcb packages.
    loadable = Path(ctypes.util.find_library("c") or "libc.so.6")
    assert platform_problem(loadable, list_missing=lambda path: []) is None
    broken = tmp_path / "libqxcb.so"
    broken.write_bytes(b"not a shared object")
    problem = platform_problem(broken, list_missing=lambda path: [])
    assert problem.startswith(f"Qt's xcb platform plugin ({broken}) cannot be loaded:")


@pytest.mark.parametrize(("platform", "session", "checked"), [
    ("", "x11", True), ("xcb", "wayland", True), ("xcb:nograb", "x11", True), ("", "wayland", False),
    ("offscreen", "x11", False), ("wayland;xcb", "x11", False),
])
def test_only_an_xcb_start_is_checked(monkeypatch, platform, session, checked):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("QT_QPA_PLATFORM", platform)
    monkeypatch.setenv("XDG_SESSION_TYPE", session)
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert (qt_requirements.xcb_plugin() is not None) == checked


def test_a_missing_library_at_import_exits_with_the_message_not_a_traceback(monkeypatch):
    monkeypatch.setattr(qt_requirements, "_ldd_missing", lambda path: ["libEGL.so.1", "libfontconfig.so.1"])
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        with qt_import_guard(out):
            raise ImportError("libEGL.so.1: cannot open shared object file: No such file or directory")
    assert exit_info.value.code == QT_LIBRARIES_MISSING
    assert out.getvalue().count("missing here") == 1
    assert "sudo apt install libegl1 libfontconfig1" in out.getvalue()


def test_other_import_errors_are_not_hidden():
    with pytest.raises(ImportError, match="No module named"):
        with qt_import_guard(io.StringIO()):
            raise ImportError("No module named 'nothing_here'")


def test_the_app_says_it_once_and_exits_before_creating_the_window(tmp_path):
    # A child where the plugin "cannot load": main() prints the message once and exits with the code.
    script = (
        "import assistant.qt_requirements as q\n"
        f"q._load_error = lambda path: {DLOPEN_ERROR!r}\n"
        "q._ldd_missing = lambda path: ['libxcb-cursor.so.0']\n"
        "q.xcb_plugin = lambda: __import__('pathlib').Path('libqxcb.so')\n"
        "from assistant.app import main\n"
        "raise SystemExit(main(['--offline']))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "DISPLAY": ":99", "HOME": str(tmp_path), "QT_QPA_PLATFORM": "xcb",
           "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == QT_LIBRARIES_MISSING, result.stderr
    assert result.stderr.count("missing here: libxcb-cursor.so.0") == 1
    assert "apt install libxcb-cursor0" in result.stderr
