"""The conversation panel: a transcript of questions and answers (with the numbers behind each
answer), a line to type a question, push-to-talk with a level meter, and mute / stop-talking.

Like the profile panel it holds no dialogue state: the window calls `add_question` / `add_answer`
for what was asked and answered (typed or spoken) and the panel turns user actions into signals.
All text is escaped before it goes into the transcript's rich text: titles contain & and <.
"""
from __future__ import annotations

from collections.abc import Sequence
from html import escape

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QIcon,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStyle,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from assistant.conversation.intents import Answer, Share
from assistant.views.expert_palette import expert_colour

PLACEHOLDER = "Ask why… e.g. why this movie? why not Fargo? what if I hadn't seen Alien?"
TALK_TEXT = "Talk"
LISTENING_TEXT = "Listening… (click to stop)"
SUGGEST_SCHEME = "suggest"
# The shortcuts the main window owns; shown in the tooltips (see set_shortcuts).
DEFAULT_SHORTCUTS = {"talk": "Ctrl+Space", "mute": "Ctrl+M", "stop": "Esc"}

USER_BUBBLE = "#dde7ff"
ANSWER_BUBBLE = "#eef0f4"
ERROR_BUBBLE = "#fdecea"
ERROR_TEXT = "#5c1f18"
MUTED_TEXT = "#6b7280"
NEGATIVE = "#c0392b"
LINK = "#3a5bd9"
DIVIDER = "#c3c8d2"
DIVIDER_TEXT = "#4b5363"


def _text_html(text: str) -> str:
    return escape(text).replace("\n", "<br>")


def _percent(share: float) -> str:
    # One decimal for small shares, so that 0.4 % does not read as 0 %.
    value = 100 * share
    return f"{value:.1f} %" if abs(value) < 10 else f"{value:.0f} %"


def _shares_html(shares: tuple[Share, ...]) -> str:
    number = "padding-left:14px;"  # keeps the numeric columns (and their headers) apart
    head = f"color:{MUTED_TEXT}; font-size:small;"
    experts = all(share.kind == "expert" for share in shares)  # the expert lens: its parts of the probability
    rows = [(f'<tr><td style="{head}">{"expert" if experts else "reason"}</td><td align="right" style="{head}{number}">share</td>'
             f'<td align="right" style="{head}{number}">{"part of p" if experts else "relevance"}</td></tr>')]
    for share in shares:
        colour = f"color:{NEGATIVE};" if share.share < 0 else ""
        # an expert's square in the colour the expert tab gives it
        swatch = f'<span style="color:{expert_colour(share.key)};">■</span> ' if share.kind == "expert" else ""
        rows.append(f'<tr><td style="{colour}">{swatch}{escape(share.name)}</td>'
                    f'<td align="right" style="{colour}{number}">{_percent(share.share)}</td>'
                    f'<td align="right" style="{colour}{number}">{share.relevance:.3f}</td></tr>')
    return f'<table cellspacing="0" cellpadding="1" style="margin-top:4px;">{"".join(rows)}</table>'


def _bubble(content: str, colour: str, right: bool = False) -> str:
    # A one-cell table is the only box with a background that QTextDocument lays out reliably.
    align = ' align="right"' if right else ""
    return (f'<table{align} cellspacing="0" cellpadding="7" bgcolor="{colour}" '
            f'style="margin-top:3px; margin-bottom:3px;"><tr><td>{content}</td></tr></table>')


def _microphone_icon(colour: QColor) -> QIcon:
    """A drawn microphone, since no standard icon exists and emoji fonts are not everywhere."""
    pixmap = QPixmap(32, 32)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    painter.drawRoundedRect(QRectF(11, 3, 10, 17), 5, 5)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(QPen(colour, 2.4, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    cup = QPainterPath(QPointF(7, 14))
    cup.cubicTo(QPointF(7, 26), QPointF(25, 26), QPointF(25, 14))
    painter.drawPath(cup)
    painter.drawLine(QPointF(16, 23.5), QPointF(16, 29))
    painter.drawLine(QPointF(11, 29), QPointF(21, 29))
    painter.end()
    return QIcon(pixmap)


class _QuestionEdit(QLineEdit):
    """A line edit with shell-like history: Up recalls earlier questions, Down goes back towards
    what was being typed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history: list[str] = []
        self._position = 0  # == len(history) when not browsing
        self._draft = ""

    def remember(self, text: str) -> None:
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
        self._position = len(self.history)
        self._draft = ""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Up and self.history:
            if self._position == len(self.history):
                self._draft = self.text()
            self._position = max(0, self._position - 1)
            self.setText(self.history[self._position])
        elif event.key() == Qt.Key.Key_Down and self._position < len(self.history):
            self._position += 1
            self.setText(self.history[self._position] if self._position < len(self.history) else self._draft)
        else:
            super().keyPressEvent(event)


class ChatPanel(QWidget):
    """Signals: questionAsked(str) for a typed question (stripped, never empty); talkToggled() when
    push-to-talk is pressed; muteToggled(bool); stopRequested(); suggestionChosen(str) with the
    title of a clicked "did you mean" suggestion. The panel never adds a typed question to the
    transcript itself: the window calls add_question for typed and spoken questions alike."""

    questionAsked = Signal(str)
    talkToggled = Signal()
    muteToggled = Signal(bool)
    stopRequested = Signal()
    suggestionChosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatPanel")
        self._suggestions: list[str] = []  # link "suggest:N" -> title; no title ever goes into a URL
        self._silent_reason = ""
        self._shortcuts = dict(DEFAULT_SHORTCUTS)
        self._microphone_reason: str | None = None  # why the microphone is unavailable, or None
        self._listening = False

        self.transcript = QTextBrowser(self)
        self.transcript.setObjectName("transcript")
        self.transcript.setAccessibleName("Conversation transcript")
        self.transcript.setOpenLinks(False)  # suggestion links are handled here, never followed
        self.transcript.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.transcript.document().setDocumentMargin(6)
        self.transcript.document().setDefaultStyleSheet(f"a {{ color: {LINK}; }}")
        self.transcript.anchorClicked.connect(self._on_anchor)

        self.silent_note = QLabel(self, objectName="notice")
        self.silent_note.setWordWrap(True)
        self.silent_note.setTextFormat(Qt.TextFormat.PlainText)
        self.silent_note.hide()

        self.busy_label = QLabel(self, objectName="thinking")
        self.busy_label.setAccessibleName("Thinking")
        self.busy_label.hide()
        self._dots = 0
        self._busy_timer = QTimer(self, interval=400)  # animated dots: the panel is alive while it waits
        self._busy_timer.timeout.connect(self._tick_busy)

        self.level_meter = QProgressBar(self, objectName="level")
        self.level_meter.setRange(0, 100)
        self.level_meter.setTextVisible(False)
        self.level_meter.setFixedSize(160, 6)
        self.level_meter.setAccessibleName("Microphone level")
        self.level_meter.setToolTip("Microphone level")
        self.level_meter.hide()

        self.input = _QuestionEdit(self)
        self.input.setPlaceholderText(PLACEHOLDER)
        self.input.setAccessibleName("Question")
        self.input.setClearButtonEnabled(True)
        self.input.setMinimumWidth(200)
        self.input.returnPressed.connect(self._send)

        self.send_button = QPushButton("Send", self)
        self.send_button.setToolTip("Ask the typed question (Enter)")
        self.send_button.setAutoDefault(False)
        self.send_button.clicked.connect(self._send)

        self.talk_button = QPushButton(_microphone_icon(QColor("#3a4256")), TALK_TEXT, self)
        self.talk_button.setObjectName("talk")
        self.talk_button.setAccessibleName("Push to talk")
        self.talk_button.setAutoDefault(False)
        self.talk_button.setProperty("listening", False)
        self.talk_button.clicked.connect(self.talkToggled)

        self.mute_button = QToolButton(self)
        self.mute_button.setObjectName("mute")
        self.mute_button.setCheckable(True)
        self.mute_button.setAccessibleName("Mute spoken answers")
        self.mute_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.mute_button.toggled.connect(self._on_mute)

        self.stop_button = QToolButton(self)
        self.stop_button.setObjectName("stopTalking")
        self.stop_button.setText("Stop talking")
        self.stop_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaStop))
        self.stop_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stopRequested)

        # Speech output controls and the status on a row of their own, so that the question line
        # keeps room for its example placeholder at the panel's usual 700 px.
        status = QHBoxLayout()
        status.setSpacing(6)
        status.setContentsMargins(2, 0, 0, 0)
        status.addWidget(self.busy_label)
        status.addStretch(1)
        status.addWidget(self.level_meter, 0, Qt.AlignmentFlag.AlignVCenter)
        status.addSpacing(6)
        status.addWidget(self.mute_button)
        status.addWidget(self.stop_button)

        controls = QHBoxLayout()
        controls.setSpacing(6)
        controls.addWidget(self.input, 1)
        controls.addWidget(self.send_button)
        controls.addWidget(self.talk_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.transcript, 1)
        layout.addWidget(self.silent_note)
        layout.addLayout(status)
        layout.addLayout(controls)

        self._update_mute_look(False)
        self._update_tooltips()

    # --- the transcript ---------------------------------------------------------------------------
    def add_question(self, text: str, source: str = "typed") -> None:
        """Show a question; `source="voice"` marks it as what speech recognition heard."""
        heard = f'<span style="color:{MUTED_TEXT};">heard: </span>' if source == "voice" else ""
        self._append(_bubble(heard + _text_html(text), USER_BUBBLE, right=True))
        self.input.remember(text.strip())

    def add_answer(self, answer: Answer) -> None:
        """Show an answer's text, then its numbers and its "did you mean" suggestions, if any."""
        content = _text_html(answer.text)
        if answer.shares:
            content += _shares_html(answer.shares)
        if answer.suggestions:
            links = []
            for title in answer.suggestions:
                self._suggestions.append(title)
                href = f"{SUGGEST_SCHEME}:{len(self._suggestions) - 1}"
                links.append(f'<a href="{href}" title="Ask about {escape(title)}">{escape(title)}</a>')
            content += f'<br><span style="color:{MUTED_TEXT};">Did you mean: </span>' + " · ".join(links)
        self._append(_bubble(content, ANSWER_BUBBLE))

    def add_error(self, text: str) -> None:
        """Show a problem (a recording that could not be understood, an engine error) in the transcript."""
        self._append(_bubble(f'<span style="color:{ERROR_TEXT};">{_text_html(text)}</span>', ERROR_BUBBLE))

    def add_divider(self, name: str, earlier: Sequence[tuple[str, str]] = (), heading: str = "") -> None:
        """A line across the transcript naming the profile talked about from here on, then
        `earlier`: its saved messages as (speaker, text), "user" or "assistant", oldest first,
        under `heading` when given."""
        count = len(earlier)
        label = escape(name) + (f'<span style="font-weight:normal;"> · {count} earlier message{"s" if count != 1 else ""}</span>'
                                if count else "")
        rule = f'<td width="50%" valign="middle"><hr style="background-color:{DIVIDER};"></td>'
        self._append(f'<table width="100%" cellspacing="0" cellpadding="0" style="margin-top:10px; margin-bottom:4px;">'
                     f'<tr>{rule}<td align="center" style="color:{DIVIDER_TEXT}; font-weight:600; '
                     f'padding-left:8px; padding-right:8px; white-space:nowrap;">{label}</td>{rule}</tr></table>')
        if heading:
            self.add_note(heading)
        for speaker, text in earlier:
            if speaker == "user":
                self._append(_bubble(_text_html(text), USER_BUBBLE, right=True))
            else:
                self._append(_bubble(_text_html(text), ANSWER_BUBBLE))

    def add_note(self, text: str) -> None:
        """A line from the app itself, not an answer: e.g. where a spoken answer was saved."""
        self._append(f'<p style="color:{MUTED_TEXT}; margin-top:2px; margin-bottom:2px;">{_text_html(text)}</p>')

    def clear(self) -> None:
        self.transcript.clear()
        self._suggestions.clear()

    def transcript_text(self) -> str:
        return self.transcript.toPlainText()

    def _append(self, html: str) -> None:
        cursor = QTextCursor(self.transcript.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertHtml(html)
        self._scroll_to_end()
        QTimer.singleShot(0, self._scroll_to_end)  # again once the layout has caught up

    def _scroll_to_end(self) -> None:
        bar = self.transcript.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _on_anchor(self, url: QUrl) -> None:
        if url.scheme() != SUGGEST_SCHEME:
            return
        try:
            title = self._suggestions[int(url.path())]
        except (ValueError, IndexError):
            return
        self.suggestionChosen.emit(title)

    # --- the input --------------------------------------------------------------------------------
    def focus_input(self) -> None:
        self.input.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.input.selectAll()

    def _send(self) -> None:
        text = self.input.text().strip()
        if not text:
            return
        self.input.remember(text)
        self.input.clear()
        self.questionAsked.emit(text)

    # --- voice controls ---------------------------------------------------------------------------
    def set_microphone(self, available: bool, reason: str = "") -> None:
        """Enable push-to-talk, or disable it with the reason why as its tooltip."""
        self._microphone_reason = None if available else (reason or "No microphone is available")
        self.talk_button.setEnabled(available)
        self._update_tooltips()

    def set_listening(self, listening: bool) -> None:
        self._listening = listening
        self.talk_button.setText(LISTENING_TEXT if listening else TALK_TEXT)
        self.talk_button.setProperty("listening", listening)
        self.talk_button.style().unpolish(self.talk_button)  # re-read the [listening="true"] rule
        self.talk_button.style().polish(self.talk_button)
        self.level_meter.setValue(0)
        self.level_meter.setVisible(listening)
        self._update_tooltips()

    def set_level(self, level: float) -> None:
        self.level_meter.setValue(round(100 * min(1.0, max(0.0, level))))

    def set_speaking(self, speaking: bool) -> None:
        self.stop_button.setEnabled(speaking)

    def set_muted(self, muted: bool) -> None:
        """Show the mute state the window restored, without emitting muteToggled."""
        blocked = self.mute_button.blockSignals(True)
        self.mute_button.setChecked(muted)
        self.mute_button.blockSignals(blocked)
        self._update_mute_look(muted)

    def set_silent_reason(self, text: str) -> None:
        """Note, once, that answers are not spoken and why; an empty text removes the note."""
        if text == self._silent_reason:
            return
        self._silent_reason = text
        self.silent_note.setText(f"Answers are shown but not spoken: {text}" if text else "")
        self.silent_note.setVisible(bool(text))

    def set_busy(self, busy: bool) -> None:
        self._dots = 0
        self.busy_label.setText("Thinking…")
        self.busy_label.setVisible(busy)
        if busy:
            self._busy_timer.start()
        else:
            self._busy_timer.stop()

    def set_shortcuts(self, talk: str | None = None, mute: str | None = None, stop: str | None = None) -> None:
        """The window's shortcuts, for the tooltips (the panel itself defines none)."""
        for key, value in (("talk", talk), ("mute", mute), ("stop", stop)):
            if value is not None:
                self._shortcuts[key] = value
        self._update_tooltips()

    def _tick_busy(self) -> None:
        self._dots = (self._dots + 1) % 4
        self.busy_label.setText("Thinking" + "." * self._dots)

    def _on_mute(self, muted: bool) -> None:
        self._update_mute_look(muted)
        self.muteToggled.emit(muted)

    def _update_mute_look(self, muted: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaVolumeMuted if muted else QStyle.StandardPixmap.SP_MediaVolume
        self.mute_button.setIcon(self.style().standardIcon(icon))
        self.mute_button.setText("Muted" if muted else "Mute")
        self._update_tooltips()

    def _hint(self, key: str) -> str:
        sequence = QKeySequence(self._shortcuts.get(key) or "")
        text = sequence.toString(QKeySequence.SequenceFormat.NativeText)
        return f" ({text})" if text else ""

    def _update_tooltips(self) -> None:
        if self._microphone_reason is not None:
            self.talk_button.setToolTip(self._microphone_reason)
        elif self._listening:
            self.talk_button.setToolTip("Stop listening and answer what was said" + self._hint("talk"))
        else:
            self.talk_button.setToolTip("Push to talk: ask a question by voice" + self._hint("talk"))
        muted = self.mute_button.isChecked()
        self.mute_button.setToolTip(("Speak the answers again" if muted else "Show the answers without speaking them")
                                    + self._hint("mute"))
        self.stop_button.setToolTip("Stop speaking the current answer" + self._hint("stop"))
