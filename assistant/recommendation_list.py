"""The recommendation list: a model of `Recommendation`s and a delegate that draws each as rank,
title, year, genres and a score bar scaled to the top recommendation.

The bar follows what the list was ranked by, so that it always shrinks down the list: the model's
probability, or, for a profile that gives the model nothing to go on (the engine then recommends
the most popular movies), how many people liked each movie."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from engine.api import Catalogue, Recommendation

MOVIE_ID_ROLE = Qt.ItemDataRole.UserRole + 1
RECOMMENDATION_ROLE = Qt.ItemDataRole.UserRole + 2
BAR_COLOUR = QColor("#8fb0ff")
BAR_TRACK = QColor("#e6eaf3")
SELECTED_BACKGROUND = QColor("#dde7ff")
SEPARATOR = QColor("#eceef2")
SELECTED_MARK = BAR_COLOUR.darker(130)
RANK_ALIGN = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
TEXT_MARGIN = 3  # pixels around a row's texts in their cached pixmap


def liked_counts(catalogue: Catalogue) -> dict[int, int]:
    """Movie id -> how many of the dataset's users liked it: what an empty profile is ranked by."""
    counts = np.asarray(catalogue.liked.sum(axis=0)).ravel()
    return {int(movie): int(count) for movie, count in zip(catalogue.item_ids, counts)}


def ranked_by_popularity(recommendations: list[Recommendation]) -> bool:
    """Whether the engine ranked this list by popularity: it does so when the profile gives the
    model no feature at all, and then every explanation has no feature to name."""
    return bool(recommendations) and all(
        r.explanation is not None and not r.explanation.parts for r in recommendations
    )


class RecommendationModel(QAbstractListModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._items: list[Recommendation] = []
        self._top = 0.0
        self._liked_by: Mapping[int, int] = {}
        self._by_popularity = False

    def set_popularity(self, liked_by: Mapping[int, int]) -> None:
        """How many people liked each movie (see `liked_counts`): the bars of a popularity-ranked list."""
        self._liked_by = liked_by

    def set_recommendations(self, recommendations: list[Recommendation]) -> None:
        """Show `recommendations`. A list of the same length (every edit's) is changed in place: a
        reset would also clear the view's selection and lay every row out again."""
        items = list(recommendations)
        in_place = len(items) == len(self._items) and items
        if not in_place:
            self.beginResetModel()
        drawn = self._drawn_rows() if in_place else None
        self._items = items
        self._by_popularity = ranked_by_popularity(self._items) and all(
            r.movie.id in self._liked_by for r in self._items)
        self._top = max((self._score(r) for r in self._items), default=0.0)
        if in_place:
            # Only rows drawn differently are repainted (each costs ~0.1-0.2 ms of the UI thread; an
            # edit leaves about a quarter of the rows as they were at ML-1M size).
            for first, last in _changed_runs(drawn, self._drawn_rows()):
                self.dataChanged.emit(self.index(first), self.index(last))
        else:
            self.endResetModel()

    def _drawn_rows(self) -> list[tuple]:
        """What each row shows: its movie, rank, score out of 100 (also read by screen readers) and
        its bar's exact length."""
        return [(r.movie.id, r.rank, self.score(r), self.share(r)) for r in self._items]

    @property
    def by_popularity(self) -> bool:
        """True when the bars show how many people liked each movie, not the model's probability."""
        return self._by_popularity

    def _score(self, recommendation: Recommendation) -> float:
        if self._by_popularity:
            return float(self._liked_by[recommendation.movie.id])
        return recommendation.probability

    def recommendations(self) -> list[Recommendation]:
        return list(self._items)

    def row_of(self, movie_id: int | None) -> int | None:
        return next((row for row, r in enumerate(self._items) if r.movie.id == movie_id), None)

    def score(self, recommendation: Recommendation) -> int:
        """The bar's length as a score out of 100 (the top recommendation scores 100), friendlier than a
        probability of 0.7%; never 0 for a movie on the list."""
        return max(1, round(100 * self.share(recommendation)))

    def share(self, recommendation: Recommendation) -> float:
        """The bar's length: the probability (or, ranked by popularity, the number of people who
        liked the movie) relative to the top recommendation's."""
        return self._score(recommendation) / self._top if self._top > 0 else 0.0

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        recommendation = self._items[index.row()]
        movie = recommendation.movie
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{recommendation.rank}. {movie.label}"
        if role == Qt.ItemDataRole.ToolTipRole:
            genres = ", ".join(movie.genres) or "no genre listed"
            popular = (f"\nLiked by {self._liked_by[movie.id]} people: your profile gives the model nothing to "
                       "go on yet, so the most popular movies come first" if self._by_popularity else "")
            basis = "how many people liked it" if self._by_popularity else "its probability"
            return (f"{movie.label}\n{genres}\nScore {self.score(recommendation)} of 100: {basis} relative to "
                    f"the top recommendation's\nProbability {100 * recommendation.probability:.3f} % "
                    f"(logit {recommendation.logit:.3f}){popular}")
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"Rank {recommendation.rank}: {movie.label}, score {self.score(recommendation)} of 100"
        if role == MOVIE_ID_ROLE:
            return movie.id
        if role == RECOMMENDATION_ROLE:
            return recommendation
        return None


def _changed_runs(before: list, after: list) -> list[tuple[int, int]]:
    """(first, last) rows of each run of consecutive rows that differ between two lists of equal length."""
    runs: list[tuple[int, int]] = []
    for row, (old, new) in enumerate(zip(before, after)):
        if old != new:
            if runs and runs[-1][1] == row - 1:
                runs[-1] = (runs[-1][0], row)
            else:
                runs.append((row, row))
    return runs


class RecommendationDelegate(QStyledItemDelegate):
    """Two lines per movie: rank + title (year) on the first, genres and the score bar on the second."""

    PADDING = 8
    RANK_WIDTH = 30
    BAR_WIDTH = 84
    TEXT_PIXMAPS = 160  # a movie's title, year and genres as drawn, kept for this many rows

    def __init__(self, parent=None):
        super().__init__(parent)
        # Per font: (bold font, its metrics, the font's metrics); per (movie, width, font): the row's
        # texts as elided. A list of 20 repaints every visible row at each edit, and measuring text
        # was most of a row's cost.
        self._fonts: dict[str, tuple[QFont, QFontMetrics, QFontMetrics]] = {}
        self._texts: dict[tuple, tuple[str, int, str, str]] = {}
        # Per (movie, widths, font, colours, pixel ratio): its texts drawn once on a transparent pixmap.
        # An edit repaints every visible row (ranks move) with mostly the same movies, and drawing
        # three texts in two fonts was most of a row's remaining cost (~0.25 ms per row at ML-1M).
        self._text_pixmaps: dict[tuple, QPixmap] = {}
        self._palette_key: tuple | None = None
        self._palette_colours: tuple[QColor, QColor, QColor] | None = None

    def _colours(self, palette: QPalette) -> tuple[QColor, QColor, QColor]:
        """The row's background, text and muted text colours for `palette`."""
        key = (palette.cacheKey(), palette.currentColorGroup())
        if key != self._palette_key:
            text = palette.color(QPalette.ColorRole.Text)
            muted = QColor(text)
            muted.setAlphaF(0.72)
            self._palette_key, self._palette_colours = key, (palette.color(QPalette.ColorRole.Base), text, muted)
        return self._palette_colours

    def _font_parts(self, font: QFont) -> tuple[QFont, QFontMetrics, QFontMetrics]:
        key = font.key()
        parts = self._fonts.get(key)
        if parts is None:
            bold = QFont(font)
            bold.setBold(True)
            parts = self._fonts[key] = (bold, QFontMetrics(bold), QFontMetrics(font))
        return parts

    def _row_texts(self, movie, width: int, font_key: str, bold_metrics: QFontMetrics,
                   metrics: QFontMetrics, genres_width: int) -> tuple[str, int, str, str]:
        """(elided title, its width, year, elided genres) of a movie's row."""
        key = (movie.id, width, genres_width, font_key)
        texts = self._texts.get(key)
        if texts is None:
            year = movie.label[len(movie.title):]  # " (1997)", or " (1997, id 246)" for a shared title
            year_width = metrics.horizontalAdvance(year)
            title = bold_metrics.elidedText(movie.title, Qt.TextElideMode.ElideRight, max(20, width - year_width))
            genres = metrics.elidedText(" · ".join(movie.genres) or "no genre listed", Qt.TextElideMode.ElideRight,
                                        genres_width)
            if len(self._texts) >= 4096:
                self._texts.clear()
            texts = self._texts[key] = (title, bold_metrics.horizontalAdvance(title), year, genres)
        return texts

    def _text_pixmap(self, movie, width: int, genres_width: int, font: QFont, bold_font: QFont,
                     bold_metrics: QFontMetrics, metrics: QFontMetrics, text: QColor, muted: QColor,
                     ratio: float) -> QPixmap:
        """The movie's title (bold) and year on the first line and its genres on the second, drawn
        in a `width` wide block as the row shows them."""
        key = (movie.id, width, genres_width, font.key(), text.rgba(), muted.rgba(), ratio)
        pixmap = self._text_pixmaps.get(key)
        if pixmap is not None:
            return pixmap
        title, title_width, year, genres = self._row_texts(movie, width, font.key(), bold_metrics, metrics, genres_width)
        line, m = metrics.height(), TEXT_MARGIN
        pixmap = QPixmap(max(1, round((width + 2 * m) * ratio)), max(1, round((2 * line + 4 + 2 * m) * ratio)))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.translate(m, m)  # room for glyphs that reach outside their boxes, as on screen
        middle = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        painter.setFont(bold_font)
        painter.setPen(text)
        painter.drawText(QRect(0, 0, width, line), middle, title)
        painter.setFont(font)
        painter.setPen(muted)
        painter.drawText(QRect(title_width, 0, max(0, width - title_width), line), middle, year)
        painter.drawText(QRect(0, line + 4, genres_width, line), middle, genres)
        painter.end()
        if len(self._text_pixmaps) >= self.TEXT_PIXMAPS:
            self._text_pixmaps.clear()
        self._text_pixmaps[key] = pixmap
        return pixmap

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        metrics = self._font_parts(option.font)[2]
        return QSize(240, 2 * metrics.height() + 2 * self.PADDING + 4)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        recommendation: Recommendation | None = index.data(RECOMMENDATION_ROLE)
        if recommendation is None:
            return super().paint(painter, option, index)
        # Each read of an option's rect, font or palette makes a copy: read once (an edit repaints
        # every visible row, and Python's share of a row was most of its cost).
        row, font = option.rect, option.font
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        base, text, muted = self._colours(option.palette)
        left, top, row_width, row_height = row.left(), row.top(), row.width(), row.height()
        painter.save()
        painter.fillRect(row, SELECTED_BACKGROUND if selected else base)
        painter.setPen(SEPARATOR)
        painter.drawLine(row.bottomLeft(), row.bottomRight())
        if selected:
            painter.fillRect(QRect(left, top, 4, row_height), SELECTED_MARK)
        padding = self.PADDING
        left, top = left + padding, top + padding
        right = left + row_width - 2 * padding - 1  # as QRect.adjusted(...).right()
        bold_font, bold_metrics, metrics = self._font_parts(font)
        line = metrics.height()

        painter.setFont(bold_font)  # the rank; the title is in the texts' pixmap
        painter.setPen(text)
        painter.drawText(QRect(left, top, self.RANK_WIDTH, line), RANK_ALIGN, f"{recommendation.rank}.")

        left += self.RANK_WIDTH
        width = right - left
        bar_width = min(self.BAR_WIDTH, max(40, width // 3))
        texts = self._text_pixmap(recommendation.movie, width, width - bar_width - 8, font, bold_font, bold_metrics,
                                  metrics, text, muted, painter.device().devicePixelRatioF())
        painter.drawPixmap(left - TEXT_MARGIN, top - TEXT_MARGIN, texts)

        model = index.model()
        share = model.share(recommendation) if isinstance(model, RecommendationModel) else 0.0
        bar = QRectF(right - bar_width, top + line + 4 + line * 0.2, bar_width, line * 0.6)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(BAR_TRACK)
        painter.drawRoundedRect(bar, 3, 3)
        painter.setBrush(BAR_COLOUR)
        painter.drawRoundedRect(QRectF(bar.left(), bar.top(), max(3.0, bar.width() * share), bar.height()), 3, 3)
        painter.restore()


class RecommendationList(QListView):
    """Emits `movieSelected(int)` when the user selects a recommendation (not when code does)."""

    movieSelected = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("recommendations")
        self.setAccessibleName("Recommendations")
        self._model = RecommendationModel(self)
        self.setModel(self._model)
        self.setItemDelegate(RecommendationDelegate(self))
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setUniformItemSizes(True)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._quiet = False
        self.selectionModel().currentChanged.connect(self._on_current_changed)

    @property
    def recommendation_model(self) -> RecommendationModel:
        return self._model

    def set_popularity(self, liked_by: Mapping[int, int]) -> None:
        self._model.set_popularity(liked_by)

    def set_recommendations(self, recommendations: list[Recommendation], select: int | None) -> None:
        """Replace the list and select `select` if it is in it, without emitting movieSelected."""
        self._quiet = True
        try:
            self._model.set_recommendations(recommendations)
            self.verticalScrollBar().setValue(0)  # as after a reset: a new list is read from its top
            self.select_movie(select)
        finally:
            self._quiet = False

    def select_movie(self, movie_id: int | None) -> bool:
        row = self._model.row_of(movie_id)
        self._quiet, was_quiet = True, self._quiet
        try:
            if row is None:
                self.clearSelection()
                self.setCurrentIndex(QModelIndex())
                return False
            index = self._model.index(row)
            self.setCurrentIndex(index)
            self.scrollTo(index)
            return True
        finally:
            self._quiet = was_quiet

    def selected_movie(self) -> int | None:
        index = self.currentIndex()
        return index.data(MOVIE_ID_ROLE) if index.isValid() else None

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not self._quiet and current.isValid():
            self.movieSelected.emit(current.data(MOVIE_ID_ROLE))
