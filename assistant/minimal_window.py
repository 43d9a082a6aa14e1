"""A minimal main window until the full app lands: a user's top recommendations, each with its
probability and the profile features that pushed it up most (the feature-relevance lens)."""
from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.api import ModelInfo, Recommendation
from engine.profile import Profile

TOP_REASONS = 3
LENS_TEXT = (
    "Lens: <b>feature relevance</b> (RecoNet + ε-LRP): how much each part of the profile pushed a movie up. "
    "The influence, expert and pixel lenses come later."
)


def reasons_text(recommendation: Recommendation, rich: bool = True) -> str:
    """The first few positive features of the explanation, as one line (rich text or plain)."""
    explanation = recommendation.explanation
    quote = escape if rich else str
    if explanation is None:
        return ""
    if explanation.note:
        return quote(explanation.note)
    reasons = [f for f in explanation.features if f.relevance > 0][:TOP_REASONS]
    if not reasons:
        return "No part of the profile pushes this movie up: its score comes from the model's bias."
    return "Because of " + " · ".join(f"{quote(f.name)} +{f.relevance:.2f}" for f in reasons)


def plain_reasons(recommendation: Recommendation) -> str:
    return reasons_text(recommendation, rich=False)


def profile_text(profile: Profile) -> str:
    gender = {"F": "female", "M": "male"}.get(profile.gender or "", profile.gender)
    age = f"aged {profile.age}" if profile.age else None
    facts = [value for value in (gender, age, profile.occupation) if value]
    liked = f"{len(profile.movies)} movie{'s' if len(profile.movies) != 1 else ''} liked"
    return " · ".join(facts + [liked])


def info_text(info: ModelInfo) -> str:
    parts = [info.dataset, info.variant, f"{info.n_movies} movies, {info.n_users} users"]
    if info.validation_recall_at_50 is not None:
        parts.append(f"validation recall@50 {info.validation_recall_at_50:.3f}")
    if info.trained_now and info.training_seconds is not None:
        parts.append(f"trained now in {info.training_seconds:.0f} s")
    else:
        parts.append("model loaded from cache")
    return " · ".join(parts)


class RecommendationRow(QFrame):
    """One card: rank, title and year, genres, reasons, and a probability bar."""

    def __init__(self, recommendation: Recommendation, top_probability: float, parent=None):
        super().__init__(parent)
        self.setObjectName("card")
        movie = recommendation.movie
        layout = QGridLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        layout.setHorizontalSpacing(14)
        layout.setVerticalSpacing(2)

        rank = QLabel(str(recommendation.rank), objectName="rank")
        rank.setAlignment(Qt.AlignmentFlag.AlignCenter)
        rank.setFixedWidth(34)
        layout.addWidget(rank, 0, 0, 3, 1)

        year = f" <span class='year'>({movie.year})</span>" if movie.year else ""
        title = QLabel(f"<b>{escape(movie.title)}</b>{year}", objectName="movieTitle")
        title.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(title, 0, 1)
        genres = QLabel(" · ".join(movie.genres) or "no genre listed", objectName="genres")
        layout.addWidget(genres, 1, 1)
        reasons = QLabel(reasons_text(recommendation), objectName="reasons")
        reasons.setTextFormat(Qt.TextFormat.RichText)
        reasons.setWordWrap(True)
        layout.addWidget(reasons, 2, 1, 1, 2)

        bar = QProgressBar(objectName="probability")
        bar.setRange(0, 1000)
        # Softmax over the whole catalogue makes every probability small: scale to the top movie.
        bar.setValue(int(1000 * recommendation.probability / top_probability) if top_probability > 0 else 0)
        bar.setFormat(f"{100 * recommendation.probability:.2f} %")
        bar.setFixedWidth(170)
        bar.setToolTip("Probability the model gives this movie; bars are scaled to the top recommendation.")
        layout.addWidget(bar, 0, 2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom)
        caption = QLabel("probability", objectName="caption")
        caption.setFixedWidth(170)
        caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(caption, 1, 2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        layout.setColumnStretch(1, 1)


class MinimalWindow(QMainWindow):
    """Shows one user's recommendations; asks for another user through `user_requested`."""

    user_requested = Signal(int)
    closing = Signal()

    def __init__(self, user_id: int = 1, parent=None):
        super().__init__(parent)
        self.setWindowTitle("CineWhy — recommendations that explain themselves")
        self.resize(1000, 900)
        screen = QGuiApplication.primaryScreen()
        if screen is not None and QGuiApplication.platformName() != "offscreen":  # fit a small real screen
            room = screen.availableGeometry()
            self.resize(min(1000, room.width()), min(900, room.height() - 40))
        central = QWidget(objectName="central")
        layout = QVBoxLayout(central)
        layout.setContentsMargins(18, 14, 18, 10)
        layout.setSpacing(8)

        header = QHBoxLayout()
        titles = QVBoxLayout()
        self._title = QLabel(f"Recommendations for user {user_id}", objectName="windowTitle")
        self._subtitle = QLabel("Loading the engine…", objectName="subtitle")
        titles.addWidget(self._title)
        titles.addWidget(self._subtitle)
        header.addLayout(titles, 1)
        header.addWidget(QLabel("User"))
        self._user = QSpinBox(minimum=1, maximum=1_000_000, value=user_id)
        self._show = QPushButton("Show")
        self._show.setEnabled(False)
        self._show.clicked.connect(lambda: self.user_requested.emit(self._user.value()))
        self._user.editingFinished.connect(self._show.click)
        header.addWidget(self._user)
        header.addWidget(self._show)
        layout.addLayout(header)

        lens = QLabel(LENS_TEXT, objectName="lens")
        lens.setWordWrap(True)
        layout.addWidget(lens)
        self._notice = QLabel(objectName="notice")
        self._notice.setWordWrap(True)
        self._notice.hide()
        layout.addWidget(self._notice)

        self._list = QVBoxLayout()
        self._list.setSpacing(6)
        holder = QWidget(objectName="listHolder")
        holder_layout = QVBoxLayout(holder)
        holder_layout.setContentsMargins(0, 0, 0, 0)
        holder_layout.addLayout(self._list)
        holder_layout.addStretch(1)
        scroll = QScrollArea(objectName="scroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(holder)
        layout.addWidget(scroll, 1)
        self.setCentralWidget(central)
        self._status = QLabel("Loading…")
        self.statusBar().addWidget(self._status, 1)

    def closeEvent(self, event) -> None:
        self.closing.emit()
        super().closeEvent(event)

    def show_notice(self, text: str) -> None:
        self._notice.setText(text)
        self._notice.show()

    def show_info(self, info: ModelInfo) -> None:
        self._status.setText(info_text(info))
        self._status.setToolTip(f"Data: {info.source}" + (f"\n{info.note}" if info.note else ""))
        self._show.setEnabled(True)

    def show_recommendations(self, profile: Profile, recommendations: list[Recommendation]) -> None:
        if profile.user_id is not None:
            self._title.setText(f"Recommendations for user {profile.user_id}")
            self._user.setValue(profile.user_id)
        self._subtitle.setText(profile_text(profile))
        while self._list.count():
            widget = self._list.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        top = max((r.probability for r in recommendations), default=0.0)
        for recommendation in recommendations:
            self._list.addWidget(RecommendationRow(recommendation, top))
