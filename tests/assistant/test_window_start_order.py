"""What the window starts when: the conversation's voice and the speech process wait until the first
result is on screen, so that they do not compete with the first Sankey paint for the CPU."""
from __future__ import annotations

from assistant.main_window import CONVERSATION_START_AFTER_RESULT_MS, MainWindow
from assistant.storage import ProfileStore


def test_voice_and_speech_start_only_after_the_first_result(qtbot, app_engine, store_path, settings):
    store = ProfileStore(store_path)
    try:
        window = MainWindow(app_engine, store, settings, start=("user", 1))
        qtbot.addWidget(window)
        assert not window.conversation._thread.is_alive()  # nothing competes with the first paint
        assert window.voice.speaker._process is None
        window.show()
        with qtbot.waitSignal(window.resultShown, timeout=20_000):
            pass
        assert not window.conversation._thread.is_alive()  # the paint the result asked for comes first
        qtbot.waitUntil(lambda: window.conversation._thread.is_alive(), timeout=CONVERSATION_START_AFTER_RESULT_MS + 5_000)
        qtbot.waitUntil(lambda: window.voice.speaker._process is not None, timeout=5_000)
        window.close()
    finally:
        store.close()


def test_a_window_closed_before_its_first_result_starts_no_voice(qtbot, app_engine, store_path, settings):
    store = ProfileStore(store_path)
    try:
        window = MainWindow(app_engine, store, settings, start=("user", 1))
        qtbot.addWidget(window)
        window.close()
        qtbot.wait(1_800)  # past the latest start (1.5 s)
        assert not window.conversation._thread.is_alive()
        assert window.voice.speaker._process is None
    finally:
        store.close()
