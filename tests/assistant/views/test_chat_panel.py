"""The chat panel, offscreen: typing and sending, history, the transcript (answers, numbers,
suggestions, errors, escaping) and the voice controls."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt, QUrl
from PySide6.QtGui import QTextCursor

from assistant.conversation.intents import Answer, Intent, Question, Share
from assistant.views.chat_panel import LISTENING_TEXT, TALK_TEXT, ChatPanel

WHY = Question("why this movie?", Intent.WHY, reference=True)
SHARES = (
    Share("movie", "Star Wars (1977)", 0.62, 0.41),
    Share("age", "aged 25-34", 0.33, 0.22),
    Share("movie", "Fargo (1996)", -0.05, -0.033),
)


@pytest.fixture
def panel(qtbot):
    widget = ChatPanel()
    qtbot.addWidget(widget)
    widget.resize(700, 260)
    return widget


def anchor_point(panel: ChatPanel, href: str):
    """Where in the transcript's viewport the link `href` is drawn."""
    document = panel.transcript.document()
    cursor = QTextCursor(document)
    for position in range(document.characterCount() - 1):
        cursor.setPosition(position + 1)  # the format of the character before the cursor
        if cursor.charFormat().anchorHref() == href:
            rect = panel.transcript.cursorRect(cursor)
            return rect.center() - QPoint(3, 0)  # inside the link's first character
    raise AssertionError(f"no link {href!r} in the transcript")


def test_enter_sends_the_stripped_question_and_clears_the_input(panel, qtbot):
    qtbot.keyClicks(panel.input, "  why not Fargo?  ")
    with qtbot.waitSignal(panel.questionAsked) as blocker:
        qtbot.keyClick(panel.input, Qt.Key.Key_Return)
    assert blocker.args == ["why not Fargo?"]
    assert panel.input.text() == ""


def test_the_send_button_sends_too(panel, qtbot):
    panel.input.setText("recommend something")
    with qtbot.waitSignal(panel.questionAsked) as blocker:
        qtbot.mouseClick(panel.send_button, Qt.MouseButton.LeftButton)
    assert blocker.args == ["recommend something"]


def test_an_empty_or_blank_input_sends_nothing(panel, qtbot):
    asked = []
    panel.questionAsked.connect(asked.append)
    qtbot.keyClick(panel.input, Qt.Key.Key_Return)
    qtbot.keyClicks(panel.input, "   ")
    qtbot.keyClick(panel.input, Qt.Key.Key_Return)
    qtbot.mouseClick(panel.send_button, Qt.MouseButton.LeftButton)
    assert asked == []


def test_up_and_down_recall_earlier_questions(panel, qtbot):
    for text in ("why this movie?", "why not Fargo?"):
        qtbot.keyClicks(panel.input, text)
        qtbot.keyClick(panel.input, Qt.Key.Key_Return)
    qtbot.keyClicks(panel.input, "what if")
    qtbot.keyClick(panel.input, Qt.Key.Key_Up)
    assert panel.input.text() == "why not Fargo?"
    qtbot.keyClick(panel.input, Qt.Key.Key_Up)
    assert panel.input.text() == "why this movie?"
    qtbot.keyClick(panel.input, Qt.Key.Key_Up)  # stays at the oldest
    assert panel.input.text() == "why this movie?"
    qtbot.keyClick(panel.input, Qt.Key.Key_Down)
    assert panel.input.text() == "why not Fargo?"
    qtbot.keyClick(panel.input, Qt.Key.Key_Down)  # back to the draft
    assert panel.input.text() == "what if"


def test_spoken_questions_join_the_history_and_show_what_was_heard(panel, qtbot):
    panel.add_question("what if I hadn't seen Alien?", source="voice")
    assert "heard: what if I hadn't seen Alien?" in panel.transcript_text()
    qtbot.keyClick(panel.input, Qt.Key.Key_Up)
    assert panel.input.text() == "what if I hadn't seen Alien?"


def test_an_answer_shows_its_text_and_its_numbers(panel):
    panel.add_question(WHY.text)
    panel.add_answer(Answer(WHY, "Mostly because you liked Star Wars (1977).", "", shares=SHARES))
    text = panel.transcript_text()
    assert "why this movie?" in text
    assert "Mostly because you liked Star Wars (1977)." in text
    for expected in ("41 %", "0.620", "22 %", "0.330", "-3.3 %", "-0.050", "aged 25-34"):
        assert expected in text
    assert text.index("why this movie?") < text.index("Mostly because")


def test_negative_shares_are_red(panel):
    panel.add_answer(Answer(WHY, "Because.", "", shares=SHARES))
    html = panel.transcript.toHtml()
    assert html.count("#c0392b") >= 3  # the name, the share and the relevance of Fargo


def test_an_answer_without_shares_shows_no_table_of_numbers(panel):
    panel.add_answer(Answer(WHY, "Nothing to add.", ""))
    assert "relevance" not in panel.transcript_text()


def test_titles_are_shown_literally_never_as_markup(panel):
    question = Question("tell me about Tom & Jerry <b>", Intent.TELL_ABOUT, title="Tom & Jerry <b>")
    panel.add_question(question.text)
    panel.add_answer(Answer(question, "Tom & Jerry <b> (1992) is a <i>cartoon</i>.", "",
                            shares=(Share("movie", "Tom & Jerry <b> (1992)", 0.2, 1.0),),
                            suggestions=("Tom & Jerry <b> (1992)",)))
    panel.add_error("bad <script> & worse")
    text = panel.transcript_text()
    assert "tell me about Tom & Jerry <b>" in text
    assert "Tom & Jerry <b> (1992) is a <i>cartoon</i>." in text
    assert text.count("Tom & Jerry <b> (1992)") == 3  # answer, numbers, suggestion
    assert "bad <script> & worse" in text


def test_clicking_a_suggestion_emits_its_title(panel, qtbot):
    question = Question("tell me about jery", Intent.TELL_ABOUT, title="jery")
    panel.add_answer(Answer(question, "I don't know “jery”.", "",
                            suggestions=("Jerry Maguire (1996)", "Tom & Jerry <b> (1992)")))
    panel.show()
    qtbot.waitExposed(panel)
    assert "Did you mean: Jerry Maguire (1996) · Tom & Jerry <b> (1992)" in panel.transcript_text()
    with qtbot.waitSignal(panel.suggestionChosen) as blocker:
        qtbot.mouseClick(panel.transcript.viewport(), Qt.MouseButton.LeftButton,
                         pos=anchor_point(panel, "suggest:1"))
    assert blocker.args == ["Tom & Jerry <b> (1992)"]
    with qtbot.waitSignal(panel.suggestionChosen) as blocker:
        panel.transcript.anchorClicked.emit(QUrl("suggest:0"))
    assert blocker.args == ["Jerry Maguire (1996)"]


def test_unknown_links_are_ignored(panel, qtbot):
    chosen = []
    panel.suggestionChosen.connect(chosen.append)
    for url in ("suggest:7", "suggest:x", "https://example.org"):
        panel.transcript.anchorClicked.emit(QUrl(url))
    assert chosen == []


def test_errors_show_in_the_transcript_and_clear_empties_it(panel):
    panel.add_error("Could not understand the recording: too quiet")
    assert "Could not understand the recording: too quiet" in panel.transcript_text()
    panel.clear()
    assert panel.transcript_text().strip() == ""


def test_the_transcript_scrolls_to_the_newest_entry(panel, qtbot):
    panel.show()
    qtbot.waitExposed(panel)
    for n in range(12):
        panel.add_question(f"question {n}")
        panel.add_answer(Answer(WHY, f"answer {n}", "", shares=SHARES))
    bar = panel.transcript.verticalScrollBar()
    assert bar.maximum() > 0
    qtbot.waitUntil(lambda: bar.value() == bar.maximum())


def test_an_unavailable_microphone_disables_talk_with_the_reason(panel):
    assert panel.talk_button.isEnabled()
    assert "Ctrl+Space" in panel.talk_button.toolTip()
    panel.set_microphone(False, "PyAudio is not installed")
    assert not panel.talk_button.isEnabled()
    assert panel.talk_button.toolTip() == "PyAudio is not installed"
    panel.set_microphone(True, "")
    assert panel.talk_button.isEnabled()
    assert "Ctrl+Space" in panel.talk_button.toolTip()


def test_talk_emits_and_listening_changes_the_button_and_shows_the_level(panel, qtbot):
    panel.show()
    with qtbot.waitSignal(panel.talkToggled):
        qtbot.mouseClick(panel.talk_button, Qt.MouseButton.LeftButton)
    assert not panel.level_meter.isVisible()
    panel.set_listening(True)
    assert panel.talk_button.text() == LISTENING_TEXT
    assert panel.level_meter.isVisible()
    panel.set_level(0.42)
    assert panel.level_meter.value() == 42
    panel.set_level(3.0)
    assert panel.level_meter.value() == 100
    panel.set_listening(False)
    assert panel.talk_button.text() == TALK_TEXT
    assert not panel.level_meter.isVisible()


def test_mute_toggles_and_emits_its_state(panel, qtbot):
    with qtbot.waitSignal(panel.muteToggled) as blocker:
        qtbot.mouseClick(panel.mute_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [True]
    with qtbot.waitSignal(panel.muteToggled) as blocker:
        qtbot.mouseClick(panel.mute_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [False]


def test_set_muted_restores_the_state_quietly(panel, qtbot):
    with qtbot.assertNotEmitted(panel.muteToggled):
        panel.set_muted(True)
    assert panel.mute_button.isChecked()


def test_stop_is_enabled_only_while_speaking(panel, qtbot):
    assert not panel.stop_button.isEnabled()
    panel.set_speaking(True)
    assert panel.stop_button.isEnabled()
    with qtbot.waitSignal(panel.stopRequested):
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    panel.set_speaking(False)
    assert not panel.stop_button.isEnabled()


def test_the_silent_reason_is_noted_once(panel):
    panel.show()
    assert not panel.silent_note.isVisible()
    panel.set_silent_reason("no voice is installed")
    panel.set_silent_reason("no voice is installed")
    assert panel.silent_note.isVisible()
    assert panel.silent_note.text().count("no voice is installed") == 1
    assert "no voice is installed" not in panel.transcript_text()
    panel.set_silent_reason("")
    assert not panel.silent_note.isVisible()


def test_busy_shows_thinking(panel):
    panel.show()
    panel.set_busy(True)
    assert panel.busy_label.isVisible()
    assert panel.busy_label.text().startswith("Thinking")
    panel.set_busy(False)
    assert not panel.busy_label.isVisible()


def test_focus_input(panel, qtbot):
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    panel.focus_input()
    qtbot.waitUntil(panel.input.hasFocus)
