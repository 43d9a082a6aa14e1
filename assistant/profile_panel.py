"""The left-hand panel: pick a dataset user or one of your saved profiles, and edit the profile
shown (its movies and their stars, gender, age group and occupation).

The panel holds no profile state of its own: it shows what the window gives it and turns every
user action into a signal; the window applies the edit, saves it and shows the result.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QItemSelectionModel, QObject, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from assistant.hinted_list import HintedList
from assistant.star_rating import StarPicker, StarRatingDelegate, stars_text
from assistant.storage import StoredProfile
from assistant.title_search import TitleIndex
from engine.api import AGE_BUCKETS, DEFAULT_STARS, GENDERS, Movie, POSITIVE_STARS, Profile

ID_ROLE = Qt.ItemDataRole.UserRole + 1
STARS_ROLE = Qt.ItemDataRole.UserRole + 2  # a profile movie's rating: 1-5, or None
NAME_ROLE = Qt.ItemDataRole.UserRole + 3  # a saved profile's name


MOVIES_HINT = ("No movies yet. Type a title in “Find a movie to add” below (Ctrl+F) and press Enter; "
               "the recommendations follow as you add.")
SAVED_HINT = ("No saved profiles yet. Click New to start one, or edit a dataset user: "
              "your edits are saved here as a profile of their own.")


def saved_label(name: str, count: int) -> str:
    """A saved profile's row: its name and number of movies."""
    return f"{name}  ({count} movie{'s' if count != 1 else ''})"
RATING_KEYS = {getattr(Qt.Key, f"Key_{n}"): (n or None) for n in range(6)}  # 1-5 rate, 0 clears
NOT_SET = "not set"
SEARCH_RESULTS = 8


class ProfilePanel(QWidget):
    userChosen = Signal(int)
    savedChosen = Signal(int)
    newRequested = Signal()
    renameRequested = Signal(int)
    duplicateRequested = Signal(int)
    deleteRequested = Signal(int)
    movieAdded = Signal(int, int)  # movie id, the stars it is added with
    movieRemoved = Signal(int)
    ratingChanged = Signal(int, object)  # movie id, its new stars (1-5) or None to clear the rating
    attributeChanged = Signal(str, object)  # "gender" | "age" | "occupation", the new value or None

    def __init__(self, movies: list[Movie], occupations: list[str], parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("profilePanel")
        self._movies = {m.id: m for m in movies}
        self._index: TitleIndex | None = None  # built at the first search: it is not needed to start
        self._in_profile: set[int] = set()
        self._shown_movies: tuple[int, ...] | None = None  # the movie list's ids, in order

        self.sources = QTabWidget(self)
        self.sources.addTab(self._build_users_tab(), "Dataset &users")
        self.sources.addTab(self._build_saved_tab(), "My &profiles")

        editor = QGroupBox("Profile", self)
        self._editor = editor
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.gender_combo = self._combo("gender", [(NOT_SET, None)] + [(w, c) for c, w in GENDERS.items()])
        self.age_combo = self._combo("age", [(NOT_SET, None)] + [(a, a) for a in AGE_BUCKETS])
        self.occupation_combo = self._combo("occupation", [(NOT_SET, None)] + [(o, o) for o in occupations])
        form.addRow("&Gender", self.gender_combo)
        form.addRow("&Age", self.age_combo)
        form.addRow("&Occupation", self.occupation_combo)

        self.movie_list = HintedList(MOVIES_HINT, editor)
        self.movie_list.setAccessibleName("Movies in the profile")
        self.movie_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.movie_list.installEventFilter(self)
        self.movie_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.movie_list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        # Rows are one line each, their size independent of the title (the delegate elides it before
        # the stars): the list asks one row its size instead of every row after each edit.
        self.movie_list.setUniformItemSizes(True)
        self.movie_list.setMouseTracking(True)  # the star under the mouse is previewed
        self.movie_list.viewport().installEventFilter(self)
        self.star_delegate = StarRatingDelegate(STARS_ROLE, self.movie_list)
        self.star_delegate.starClicked.connect(self._on_star_clicked)
        self.movie_list.setItemDelegate(self.star_delegate)
        self.movie_list.setToolTip("Click a star to rate a movie, or press 1-5 (0 clears the rating)")
        self.movies_label = QLabel("Movies", editor)
        # One size for any count: its text changes on every add and remove, and a label whose size may
        # change invalidates the layouts around it (the whole window's) each time; a fixed one repaints.
        self.movies_label.setFixedSize(self.movies_label.fontMetrics().horizontalAdvance("Movies (99999)") + 4,
                                       self.movies_label.sizeHint().height())
        self.remove_button = QPushButton("&Remove", editor)
        self.remove_button.setToolTip("Remove the selected movies from the profile (Delete)")
        self.remove_button.clicked.connect(self.remove_selected)
        movies_header = QHBoxLayout()
        movies_header.addWidget(self.movies_label)
        movies_header.addStretch(1)
        movies_header.addWidget(self.remove_button)

        self.search_edit = QLineEdit(editor)
        self.search_edit.setPlaceholderText("Find a movie to add (Ctrl+F)")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setAccessibleName("Find a movie to add")
        self.search_edit.textChanged.connect(self._search)
        self.search_edit.returnPressed.connect(self.add_current_result)
        self.search_edit.installEventFilter(self)
        self.add_stars = StarPicker(DEFAULT_STARS, editor)
        self.add_stars.activated.connect(self.add_current_result)
        search_row = QHBoxLayout()
        search_row.addWidget(self.search_edit, 1)
        search_row.addWidget(self.add_stars)
        self.results = QListWidget(editor)
        self.results.setAccessibleName("Matching movies")
        self.results.itemActivated.connect(lambda item: self._add(item.data(ID_ROLE)))
        self.results.setMaximumHeight(132)
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results.hide()

        layout = QVBoxLayout(editor)
        layout.addLayout(form)
        layout.addLayout(movies_header)
        layout.addWidget(self.movie_list, 1)
        layout.addLayout(search_row)
        layout.addWidget(self.results)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.addWidget(self.sources, 2)
        outer.addWidget(editor, 5)

    # ----- building -----

    def _build_users_tab(self) -> QWidget:
        tab = QWidget(self)
        self.user_filter = QLineEdit(tab)
        self.user_filter.setPlaceholderText("Search users: id, gender, age, occupation")
        self.user_filter.setClearButtonEnabled(True)
        self.user_filter.textChanged.connect(self._filter_users)
        self.user_list = HintedList(parent=tab)
        self.user_list.setAccessibleName("Dataset users")
        self.user_list.setUniformItemSizes(True)
        self.user_list.itemClicked.connect(lambda item: self.userChosen.emit(item.data(ID_ROLE)))
        self.user_list.itemActivated.connect(lambda item: self.userChosen.emit(item.data(ID_ROLE)))
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.user_filter)
        layout.addWidget(self.user_list)
        return tab

    def _build_saved_tab(self) -> QWidget:
        tab = QWidget(self)
        self.saved_list = HintedList(SAVED_HINT, tab)
        self.saved_list.setAccessibleName("Saved profiles")
        self.saved_list.itemClicked.connect(lambda item: self.savedChosen.emit(item.data(ID_ROLE)))
        self.saved_list.itemActivated.connect(lambda item: self.savedChosen.emit(item.data(ID_ROLE)))
        buttons = QHBoxLayout()
        for text, tip, handler in (
            ("&New", "A new, empty profile (Ctrl+N)", self.newRequested.emit),
            ("Rena&me…", "Rename the selected profile", lambda: self._on_selected(self.renameRequested)),
            ("Dup&licate", "Copy the selected profile", lambda: self._on_selected(self.duplicateRequested)),
            ("&Delete…", "Delete the selected profile", lambda: self._on_selected(self.deleteRequested)),
        ):
            button = QPushButton(text, tab)
            button.setToolTip(tip)
            button.clicked.connect(handler)
            buttons.addWidget(button)
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.saved_list)
        layout.addLayout(buttons)
        return tab

    def _combo(self, field: str, entries: list[tuple[str, str | None]]) -> QComboBox:
        combo = QComboBox(self)
        for text, value in entries:
            combo.addItem(text, value)
        combo.activated.connect(lambda row: self.attributeChanged.emit(field, combo.itemData(row)))
        return combo

    # ----- what the window shows -----

    def set_users(self, users: list[tuple[int, str]]) -> None:
        self.user_list.clear()
        for user_id, label in users:
            item = QListWidgetItem(label)
            item.setData(ID_ROLE, user_id)
            self.user_list.addItem(item)
        self._filter_users(self.user_filter.text())

    def set_saved_profiles(self, profiles: list[StoredProfile]) -> None:
        self.saved_list.clear()
        for stored in profiles:
            item = QListWidgetItem(saved_label(stored.name, len(stored.movies)))
            item.setData(ID_ROLE, stored.id)
            item.setData(NAME_ROLE, stored.name)
            item.setToolTip(stored.name)
            self.saved_list.addItem(item)

    def set_saved_count(self, profile_id: int, count: int) -> bool:
        """Show a saved profile's new number of movies in place; False when the list has no such profile."""
        for row in range(self.saved_list.count()):
            item = self.saved_list.item(row)
            if item.data(ID_ROLE) == profile_id:
                item.setText(saved_label(item.data(NAME_ROLE), count))
                return True
        return False

    def mark_source(self, kind: str, source_id: int) -> None:
        """Highlight the user or saved profile being shown, without emitting anything."""
        for widget, wanted in ((self.user_list, "user"), (self.saved_list, "saved")):
            widget.blockSignals(True)
            widget.clearSelection()
            if kind == wanted:
                for row in range(widget.count()):
                    if widget.item(row).data(ID_ROLE) == source_id:
                        widget.setCurrentRow(row)
                        widget.scrollToItem(widget.item(row))
                        break
            widget.blockSignals(False)
        self.sources.setCurrentIndex(0 if kind == "user" else 1)

    def set_title(self, title: str) -> None:
        self._editor.setTitle(title)

    def show_profile(self, title: str, profile: Profile) -> None:
        self.set_title(title)
        for combo, value in (
            (self.gender_combo, profile.gender),
            (self.age_combo, profile.age),
            (self.occupation_combo, profile.occupation),
        ):
            row = combo.findData(value)
            combo.setCurrentIndex(row if row >= 0 else 0)
        self._show_movies(profile.movies, profile.ratings)
        count, liked = len(profile.movies), len(profile.positives)
        self.movies_label.setText(f"Movies ({count})")
        self.movies_label.setToolTip(f"{liked} of {count} count as liked: rated {POSITIVE_STARS}★ or more, or not rated")
        self._in_profile = set(profile.movies)
        self._search(self.search_edit.text())

    def _show_movies(self, movies: tuple[int, ...], ratings: tuple[int | None, ...]) -> None:
        """Bring the list to `movies` with the fewest item changes: an edit adds or removes one movie
        or changes stars, and rebuilding every row (each repainted, each measured) cost a large
        profile several milliseconds per edit. Kept rows keep the selection, focus and scroll."""
        shown = self._shown_movies if self._shown_movies is not None else ()
        if movies != self._shown_movies:
            if len(movies) == len(shown) + 1 and movies[:-1] == shown:  # one added at the end
                self.movie_list.addItem(self._new_item(movies[-1], ratings[-1]))
            elif len(movies) == len(shown) - 1 and (row := _removed_row(shown, movies)) is not None:
                self.movie_list.takeItem(row)
            else:
                self.movie_list.clear()
                for movie_id, stars in zip(movies, ratings):
                    self.movie_list.addItem(self._new_item(movie_id, stars))
            self._shown_movies = movies
        for row, stars in enumerate(ratings):  # only changed stars: each change repaints its row
            item = self.movie_list.item(row)
            if item.data(STARS_ROLE) != stars:
                self._set_stars(item, stars)

    def _new_item(self, movie_id: int, stars: int | None) -> QListWidgetItem:
        item = QListWidgetItem(self._label(movie_id))
        item.setData(ID_ROLE, movie_id)
        self._set_stars(item, stars)
        return item

    def select_movie(self, movie_id: int) -> bool:
        """Select the movie in the profile's list (e.g. after a click in the Sankey view)."""
        for row in range(self.movie_list.count()):
            item = self.movie_list.item(row)
            if item.data(ID_ROLE) == movie_id:
                self.movie_list.setCurrentItem(item, QItemSelectionModel.SelectionFlag.ClearAndSelect)
                self.movie_list.scrollToItem(item)
                return True
        return False

    def selected_movies(self) -> list[int]:
        return [item.data(ID_ROLE) for item in self.movie_list.selectedItems()]

    def shown_rating(self, movie_id: int) -> int | None:
        """The stars the list shows for a movie of the profile (None: not rated, or not in the list)."""
        for row in range(self.movie_list.count()):
            if self.movie_list.item(row).data(ID_ROLE) == movie_id:
                return self.movie_list.item(row).data(STARS_ROLE)
        return None

    def focus_search(self) -> None:
        self.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_edit.selectAll()

    # ----- user actions -----

    def remove_selected(self) -> None:
        for movie_id in self.selected_movies():
            self.movieRemoved.emit(movie_id)

    def rate_selected(self, stars: int | None) -> None:
        """Give every selected movie `stars` (None clears their ratings)."""
        for movie_id in self.selected_movies():
            self.ratingChanged.emit(movie_id, stars)

    def _on_star_clicked(self, index, stars: int) -> None:
        """A click on a movie's stars rates it; a click on the star it already has clears the rating."""
        item = self.movie_list.item(index.row())
        if item is not None:
            self.ratingChanged.emit(item.data(ID_ROLE), None if item.data(STARS_ROLE) == stars else stars)

    def add_current_result(self) -> None:
        item = self.results.currentItem() or (self.results.item(0) if self.results.count() else None)
        if item is not None and item.flags() & Qt.ItemFlag.ItemIsEnabled:
            self._add(item.data(ID_ROLE))

    def _add(self, movie_id: int | None) -> None:
        # "No movie matches" carries no id: Enter on it used to clear the search and emit None as
        # an int (PySide's "Cannot copy-convert ... (NoneType)" on stderr).
        if movie_id is None or movie_id in self._in_profile:
            return
        stars = self.add_stars.value()
        self.search_edit.clear()
        self.add_stars.set_value(DEFAULT_STARS)  # each movie is asked for afresh
        self.movieAdded.emit(movie_id, stars)

    def _label(self, movie_id: int) -> str:
        movie = self._movies.get(movie_id)
        return movie.label if movie else f"Movie {movie_id}"

    def _set_stars(self, item: QListWidgetItem, stars: int | None) -> None:
        item.setData(STARS_ROLE, stars)
        movie = self._movies.get(item.data(ID_ROLE))
        label = self._label(item.data(ID_ROLE))
        rated = f"rated {stars} of 5 stars" if stars is not None else "not rated"
        lines = [label, ", ".join(movie.genres) if movie else "", f"{stars_text(stars)}  ({rated})"]
        if stars is not None and stars < POSITIVE_STARS:
            lines.append(f"Below {POSITIVE_STARS}★: the relevance lens does not count it as liked.")
        item.setToolTip("\n".join(line for line in lines if line))
        item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{label}, {rated}")

    def _search(self, text: str) -> None:
        self.results.clear()
        if not text.strip():
            matches = []
        else:
            if self._index is None:
                self._index = TitleIndex(self._movies.values())
            matches = self._index.search(text, SEARCH_RESULTS)
        for match in matches:
            owned = match.movie.id in self._in_profile
            item = QListWidgetItem(match.movie.label + ("  ✓ in profile" if owned else ""))
            item.setData(ID_ROLE, match.movie.id)
            item.setToolTip(f"{match.movie.label}\n{', '.join(match.movie.genres)}")
            if owned:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            self.results.addItem(item)
        if matches:
            first = next((r for r in range(self.results.count()) if self.results.item(r).flags() & Qt.ItemFlag.ItemIsEnabled), 0)
            self.results.setCurrentRow(first)
        elif text.strip():
            self.results.addItem(QListWidgetItem("No movie matches"))
            self.results.item(0).setFlags(Qt.ItemFlag.NoItemFlags)
        self.results.setVisible(bool(text.strip()))

    def _rating_key(self, watched: QObject, event) -> tuple[str, int | None] | None:
        """("rate", stars) for 0-5 in the movie list (0: clear), ("add", stars) for Ctrl+1..5 in the
        search box (the stars of the movie to add, without leaving the box), else None."""
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        key = event.key()
        if watched is self.movie_list and modifiers == Qt.KeyboardModifier.NoModifier and key in RATING_KEYS:
            return "rate", RATING_KEYS[key]
        if watched is self.search_edit and modifiers == Qt.KeyboardModifier.ControlModifier and RATING_KEYS.get(key):
            return "add", RATING_KEYS[key]
        return None

    def _filter_users(self, text: str) -> None:
        words = text.casefold().split()
        for row in range(self.user_list.count()):
            item = self.user_list.item(row)
            label = item.text().casefold()
            item.setHidden(not all(word in label for word in words))
        self.user_list.set_hint(f"No dataset user matches “{text.strip()}”: search by id, gender, age or occupation."
                                if words else "")

    def _on_selected(self, signal) -> None:
        item = self.saved_list.currentItem()
        if item is not None:
            signal.emit(item.data(ID_ROLE))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and self._rating_key(watched, event) is not None:
            event.accept()  # a rating key is ours even if a window shortcut uses the same keys
            return True
        if event.type() == QEvent.Type.KeyPress:
            if watched is self.search_edit and event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up) and self.results.count():
                step = 1 if event.key() == Qt.Key.Key_Down else -1
                row = max(0, min(self.results.count() - 1, self.results.currentRow() + step))
                self.results.setCurrentRow(row)
                return True
            if watched is self.search_edit and event.key() == Qt.Key.Key_Escape:
                self.search_edit.clear()
                return True
            if watched is self.movie_list and event.matches(QKeySequence.StandardKey.Delete):
                self.remove_selected()
                return True
            rating_key = self._rating_key(watched, event)
            if rating_key is not None:
                target, stars = rating_key
                if target == "add":
                    self.add_stars.set_value(stars)
                else:
                    self.rate_selected(stars)
                return True  # in the movie list, not its type-ahead search
        elif event.type() == QEvent.Type.Leave and watched is self.movie_list.viewport():
            if self.star_delegate.clear_hover():
                self.movie_list.viewport().update()
        return super().eventFilter(watched, event)


def _removed_row(before: tuple[int, ...], after: tuple[int, ...]) -> int | None:
    """The row whose removal turns `before` into `after`, or None when that is not what happened."""
    row = next((i for i, (old, new) in enumerate(zip(before, after)) if old != new), len(after))
    return row if before[:row] + before[row + 1:] == after else None
