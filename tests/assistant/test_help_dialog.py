"""F1 help stays true: it names every lens tab and every shortcut of the window's menus, and it
scrolls instead of growing taller than a small screen."""
from __future__ import annotations

from assistant.help_dialog import HELP_HTML, HelpDialog
from test_main_window import open_window  # noqa: F401 (a fixture)


def test_help_names_every_lens_and_every_menu_shortcut(qtbot, open_window):
    window = open_window(("user", 1))
    for lens in window.tabs.lenses():
        title = window.tabs.tabText(window.tabs.lenses().index(lens)).split(" (")[0]
        assert title in HELP_HTML, title
    shortcuts = {a.shortcut().toString() for m in window.menuBar().actions() for a in m.menu().actions()
                 if not a.isSeparator() and not a.shortcut().isEmpty()}
    listed = HELP_HTML.replace("–", "-")
    for shortcut in shortcuts:
        if shortcut.startswith("Alt+") and shortcut[-1].isdigit():
            assert "Alt+1-4" in listed  # the lens tabs, said once
        else:
            assert f"<b>{shortcut}</b>" in listed, shortcut
    dialog = HelpDialog(window)
    qtbot.addWidget(dialog)
    assert dialog.height() <= 600 and "Expert attribution" in dialog.text.toPlainText()
