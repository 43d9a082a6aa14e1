"""The system libraries Qt needs on Linux, checked before Qt can abort on their absence.

PySide6's wheels carry Qt but not the X11/xcb, EGL and font libraries of the desktop. Without one,
importing PySide6.QtWidgets fails with an ImportError, and creating the QApplication on xcb prints
Qt's own message and aborts the process (exit 134). Here each case becomes one message naming the
missing libraries and the Debian/Ubuntu packages that provide them, and exit code QT_LIBRARIES_MISSING.
No Qt is imported here: this runs before Qt is loaded.
"""
from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

QT_LIBRARIES_MISSING = 3

# Library (soname) -> the Debian/Ubuntu package providing it: what Qt's xcb plugin, QtGui and
# QtWidgets load from the system (the rest ships in the PySide6 wheel).
PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libSM.so.6": "libsm6",
    "libICE.so.6": "libice6",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libGLX.so.0": "libglx0",
    "libOpenGL.so.0": "libopengl0",
    "libGLdispatch.so.0": "libglvnd0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
    "libz.so.1": "zlib1g",
    "libzstd.so.1": "libzstd1",
}

_CANNOT_OPEN = re.compile(r"([\w.+-]+\.so[\w.]*): cannot open shared object file")


def missing_message(libraries: list[str], what: str) -> str:
    """One message: which libraries are missing and the packages that provide them."""
    packages = sorted({PACKAGES[name] for name in libraries if name in PACKAGES})
    unknown = [name for name in libraries if name not in PACKAGES]
    lines = [f"{what} needs system libraries that are missing here: {', '.join(libraries)}."]
    if packages:
        lines.append(f"On Debian or Ubuntu, install them with: sudo apt install {' '.join(packages)}")
    if unknown:
        lines.append(f"(For {', '.join(unknown)}: `apt-file search NAME` names the package.)")
    return "\n".join(lines)


def xcb_plugin() -> Path | None:
    """PySide6's xcb platform plugin when Qt will start on xcb here (Linux; QT_QPA_PLATFORM unset
    outside a Wayland session, or naming xcb first); None otherwise."""
    if not sys.platform.startswith("linux"):
        return None
    chosen = os.environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if chosen == "" and os.environ.get("XDG_SESSION_TYPE") == "wayland" and os.environ.get("WAYLAND_DISPLAY"):
        return None  # Qt prefers its wayland plugin there
    if chosen not in ("", "xcb"):
        return None
    spec = importlib.util.find_spec("PySide6")  # finds the package without loading Qt
    if spec is None or not spec.submodule_search_locations:
        return None
    plugin = Path(list(spec.submodule_search_locations)[0]) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.is_file() else None


def platform_problem(plugin: Path | None = None, load: Callable[[Path], str | None] | None = None,
                     list_missing: Callable[[Path], list[str]] | None = None) -> str | None:
    """The message to show when Qt's xcb plugin cannot load, else None. Loading the plugin is what
    Qt does next anyway, so the check costs nothing when it works; only a failure runs ldd, to name
    every missing library rather than the first."""
    plugin = xcb_plugin() if plugin is None else plugin
    if plugin is None:
        return None
    error = (load or _load_error)(plugin)
    if error is None:
        return None
    missing = (list_missing or _ldd_missing)(plugin) or _names_in(error)
    if not missing:
        return f"Qt's xcb platform plugin ({plugin}) cannot be loaded: {error}"
    return missing_message(missing, "The window (Qt's xcb platform plugin)")


@contextlib.contextmanager
def qt_import_guard(stream=None) -> Iterator[None]:
    """Around the first import of PySide6's widgets: a missing system library becomes the message
    and exit code QT_LIBRARIES_MISSING instead of a traceback; any other ImportError goes on."""
    try:
        yield
    except ImportError as error:
        names = _names_in(str(error))
        if not names:
            raise
        spec = importlib.util.find_spec("PySide6")
        widgets = next(Path(list(spec.submodule_search_locations)[0]).glob("QtWidgets*.so"), None) if spec else None
        missing = (_ldd_missing(widgets) if widgets else []) or names
        print(missing_message(missing, "Qt (PySide6)"), file=stream or sys.stderr)
        raise SystemExit(QT_LIBRARIES_MISSING) from None


def _load_error(path: Path) -> str | None:
    try:
        ctypes.CDLL(str(path))
    except OSError as error:
        return str(error)
    return None


def _ldd_missing(path: Path) -> list[str]:
    """Every library `ldd` cannot find for `path` (direct or indirect), in its order; [] without ldd."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return []
    try:
        result = subprocess.run([ldd, str(path)], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return parse_ldd_missing(result.stdout)


def parse_ldd_missing(output: str) -> list[str]:
    missing = []
    for line in output.splitlines():
        name, arrow, target = line.strip().partition(" => ")
        if arrow and target.strip() == "not found" and name not in missing:
            missing.append(name)
    return missing


def _names_in(error: str) -> list[str]:
    return list(dict.fromkeys(_CANNOT_OPEN.findall(error)))


__all__ = ["PACKAGES", "QT_LIBRARIES_MISSING", "missing_message", "parse_ldd_missing", "platform_problem",
           "qt_import_guard", "xcb_plugin"]
