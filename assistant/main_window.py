"""CineWhy's main window: the profile panel (left), the live recommendation list (centre) and the
explanation tabs, one per lens (right), with menus, shortcuts, undo and a status bar.

Every profile edit is applied here: saved at once (a dataset user's profile is first copied into a
saved profile "User N (edited)", since dataset users are read-only), pushed on the undo stack, and
sent to the live recommender, whose newest result replaces the list and the view of the lens in front.

An edit of a saved profile is written once its result is drawn (the save's fsync took ~4 ms of the
UI thread, 12 ms at p95, before the Sankey could be painted), at the latest SAVE_LATEST_MS after it,
and before anything else reads or changes the saved profiles (another edit, undo, switching, closing).
The profile panel follows such an edit then too; the window's profile and the worker's request
change at once.

An edit that cannot be saved (disk full, the database locked by another program, read-only) stays on
screen, marked "not saved", with a bar that says why; saving is tried again on a timer and with the
next edit. The undo stack holds only saved states: an edit gets its undo entry when its save lands
(edits made while saving failed land together and are undone together), and Undo while edits are
unsaved discards them, back to the profile as it was last saved.
"""
from __future__ import annotations

import re
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from assistant.chat_history import ChatHistory
from assistant.conversation.intents import apply_change
from assistant.conversation_service import Asked, ConversationService
from assistant.conversation.phrasings.relevance import removal_line
from assistant.help_dialog import HelpDialog
from assistant.live_recommender import LiveRecommender, LiveResult
from assistant.profile_panel import ProfilePanel
from assistant.recommendation_list import RecommendationList, liked_counts
from assistant.save_problem_bar import SaveProblemBar
from assistant.speech.recognisers import RECOGNISERS
from assistant.status_bar import ElidingStatusBar
from assistant.storage import ProfileAccessError, ProfileNotFound, ProfileStore, ProfileStoreError
from assistant.views.chat_panel import ChatPanel
from assistant.views.chat_splitter import ChatSplitter
from assistant.views.lens_views import LensTabs
from assistant.voice_output import VoiceOutput
from engine.api import GENDERS, LENS_TITLES, Catalogue, Engine, EngineError, Explanation, Lens, ModelInfo, Profile

APP_TITLE = "CineWhy"
UNDO_LIMIT = 100
SAVE_RETRY_MS = 5000  # how soon an edit that could not be saved is tried again
SAVE_LATEST_MS = 50  # an edit's save waits for its drawing at most this long (e.g. when no result comes)
PANEL_LATEST_MS = SAVE_LATEST_MS  # and so does the profile panel's update
UI_LOCK_WAIT_S = 0.05  # the longest the window waits for another program's database lock
CONVERSATION_START_LATEST_MS = 1500  # the conversation starts after the first result, or after this
CONVERSATION_START_AFTER_RESULT_MS = 200
RECOGNISER_LABELS = dict(zip(RECOGNISERS, ("pocketsphinx (built in)", "Vosk (model folder needed)",
                                           "faster-whisper (model folder needed)")))


def user_label(catalogue: Catalogue, user_id: int) -> str:
    user = catalogue.user(user_id)
    facts = []
    if user is not None:
        facts = [GENDERS.get(user.gender or "", ""), user.age or "", user.occupation or ""]
    text = " · ".join(f for f in facts if f)
    return f"User {user_id}" + (f" — {text}" if text else "")


@dataclass(frozen=True)
class UnsavedEdits:
    """Edits on screen that are not in the database: `source` and `profile` are the last saved state
    (what Undo goes back to), `error` why the last try to save failed."""

    source: tuple[str, int]
    profile: Profile
    error: ProfileAccessError


@dataclass(frozen=True)
class PendingSave:
    """An edit on screen whose save waits for its drawing: `source` and `profile` are the saved
    state before it (what its undo entry goes back to), `edited` what is written, `message` what the
    status bar says once it is."""

    source: tuple[str, int]
    profile: Profile
    edited: Profile
    message: str


def _model_text(info: ModelInfo) -> str:
    recall = info.validation_recall_at_50
    return info.variant + (f" · validation recall@50 {recall:.3f}" if recall is not None else "")


class MainWindow(QMainWindow):
    """`source` is ("user", id) for a dataset user or ("saved", id) for a saved profile.
    `resultShown(LiveResult)` fires after a fresh result is on screen; `closing` when the window closes."""

    resultShown = Signal(object)
    closing = Signal()

    def __init__(self, engine: Engine, store: ProfileStore, settings: QSettings | None = None,
                 start: tuple[str, int] | None = None, parent: QWidget | None = None,
                 voice_factory=None, speech_env: dict | None = None):
        super().__init__(parent)
        self.engine = engine
        self.store = store
        # The window reads and saves on the UI thread: a database locked by another program must fail
        # at once (the edit stays on screen, "not saved", and is retried), never freeze the window for
        # the store's default 5 s at the first failed save.
        store.set_lock_wait(UI_LOCK_WAIT_S)
        self.settings = settings if settings is not None else QSettings("cinewhy", "CineWhy")
        # The window reads only the catalogue (plain data); every engine call runs on the worker.
        self.catalogue = engine.catalogue
        self.dataset = self.catalogue.info.dataset
        self.profile = Profile()
        self.source: tuple[str, int] | None = None
        self.selected: int | None = None
        self.last_result: LiveResult | None = None
        self._undo: list[tuple[tuple[str, int], Profile]] = []
        self.unsaved: UnsavedEdits | None = None
        # The saved profiles' movie counts as the list shows them (None: the last read failed, the list
        # may be stale): a save that leaves its count alone need not read the list again.
        self._listed_counts: dict[int, int] | None = None
        self._sent_early: tuple | None = None  # the worker request `_edit` sent before its save
        self._save_retry = QTimer(self)
        self._save_retry.setSingleShot(True)
        self._save_retry.setInterval(SAVE_RETRY_MS)
        self._save_retry.timeout.connect(self.retry_save)
        self._pending: PendingSave | None = None
        self._save_soon = QTimer(self)
        self._save_soon.setSingleShot(True)
        self._save_soon.setInterval(SAVE_LATEST_MS)
        self._save_soon.timeout.connect(self.save_pending)
        self._panel_soon = QTimer(self)  # active while the panel waits for an edit's drawing
        self._panel_soon.setSingleShot(True)
        self._panel_soon.setInterval(PANEL_LATEST_MS)
        self._panel_soon.timeout.connect(self._show_panel)
        self._select_in_panel: int | None = None  # a movie to select there once it is shown
        self._movies = {m.id: m for m in self.catalogue.movies}

        self.setWindowTitle(f"{APP_TITLE} — recommendations that explain themselves")
        self.live = LiveRecommender(engine, self)
        self.live.finished.connect(self._on_result)
        # Conversation on its own worker (building the voice there too); speech in its own process.
        self.conversation = ConversationService(engine, voice_factory, self.recogniser_choice(), self)
        self.voice = VoiceOutput(speech_env, self, start=False)  # started with the conversation (see there)
        self.last_answer = None
        self.setStatusBar(ElidingStatusBar(self))  # long messages end in "…", in full as its tooltip
        self._build(self.catalogue)
        self._build_menus()
        self._connect_conversation()
        # An explicit minimum, set before the window exists on screen: the layout would otherwise
        # move the window's minimum with its content, and each move is a size hint sent to the
        # platform, which the offscreen one (--screenshot, tests) answers with "This plugin does not
        # support propagateSizeHints()" on stderr.
        self.setMinimumSize(self.minimumSizeHint())
        self.resize(1400, 900)
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)

        if store.recovery_message:
            self.show_banner(store.recovery_message)
        self._explain_the_data()
        self._refresh_saved()
        self._open(start or self._remembered_source(), record=False)

    # ----- building -----

    def _build(self, catalogue: Catalogue) -> None:
        self.panel = ProfilePanel(catalogue.movies, list(catalogue.occupations), self)
        self.panel.set_users([(uid, user_label(catalogue, uid)) for uid in catalogue.user_ids])
        self.panel.userChosen.connect(lambda uid: self._open(("user", uid)))
        self.panel.savedChosen.connect(lambda pid: self._open(("saved", pid)))
        self.panel.newRequested.connect(self.new_profile)
        self.panel.renameRequested.connect(lambda pid: self.rename_profile(pid))
        self.panel.duplicateRequested.connect(self.duplicate_profile)
        self.panel.deleteRequested.connect(lambda pid: self.delete_profile(pid))
        self.panel.movieAdded.connect(self.add_movie)
        self.panel.movieRemoved.connect(self.remove_movie)
        self.panel.ratingChanged.connect(self.set_rating)
        self.panel.attributeChanged.connect(self.set_attribute)

        centre = QWidget(self)
        self.list_title = QLabel("Recommendations", centre, objectName="sectionTitle")
        self.list_title.setWordWrap(True)
        self.list_title.setTextFormat(Qt.TextFormat.PlainText)
        self.recommendations = RecommendationList(centre)
        self.recommendations.set_popularity(liked_counts(catalogue))  # the bars of an empty profile's list
        self.recommendations.movieSelected.connect(self.select_recommendation)
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(6, 6, 6, 6)
        centre_layout.addWidget(self.list_title)
        centre_layout.addWidget(self.recommendations, 1)
        centre.setMinimumWidth(320)  # room for a title, its year and the score bar
        self.panel.setMinimumWidth(290)

        # One tab per lens, each drawn by the view registered for it (assistant.views.lens_views).
        self.tabs = LensTabs(self.engine.lenses(), self, engine=self.engine)
        self.tabs.movieClicked.connect(self._on_view_movie)
        self.tabs.lensChanged.connect(self._on_lens_changed)
        self.tabs.cancelRequested.connect(self.live.cancel_preparing)
        self.tabs.statusMessage.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self._connect_removal_check()
        self.live.preparing.connect(self._on_preparing)
        self.live.prepared.connect(self._on_prepared)
        self.live.preparationStopped.connect(self._on_preparation_stopped)
        self._pinned: Explanation | None = None  # an answer's explanation, drawn as the answer phrased it

        self.banner = QLabel(self, objectName="banner")
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.PlainText)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.hide()
        dismiss = QToolButton(self, text="Dismiss")
        dismiss.clicked.connect(self.banner.hide)
        dismiss.clicked.connect(dismiss.hide)
        dismiss.hide()
        self._dismiss = dismiss
        self.save_problem = SaveProblemBar(self)
        self.save_problem.retryRequested.connect(self.retry_save)
        self.save_problem.discardRequested.connect(self.undo)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.setObjectName("mainSplitter")
        splitter.addWidget(self.panel)
        splitter.addWidget(centre)
        self.chat = ChatPanel(self)
        self.chat_history = ChatHistory(self.chat, self.store, self.dataset)  # a profile's saved conversation, shown again
        right = ChatSplitter(self.tabs, self.chat, self.settings, self)  # a draggable share, remembered
        self.chat_splitter = right
        splitter.addWidget(right)
        splitter.setStretchFactor(2, 1)
        splitter.setSizes([330, 360, 710])
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter
        central = QWidget(self, objectName="central")
        banner_row = QHBoxLayout()
        banner_row.addWidget(self.banner, 1)
        banner_row.addWidget(dismiss, 0, Qt.AlignmentFlag.AlignTop)
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(0, 0, 0, 0)
        central_layout.setSpacing(0)
        central_layout.addLayout(banner_row)
        central_layout.addWidget(self.save_problem)
        central_layout.addWidget(splitter, 1)
        self.setCentralWidget(central)

        info = catalogue.info
        self.dataset_label = QLabel(f"{info.dataset} · {info.n_movies} movies, {info.n_users} users")
        self.dataset_label.setToolTip(f"Data: {info.source}")
        self.model_label = QLabel(_model_text(info))
        self.model_label.setToolTip(info.note or "The served RecoNet model")
        self.timing_label = QLabel("explanation: —")
        self.timing_label.setToolTip("Engine time for the last update: 20 recommendations with their explanations")
        # A fixed size: its text changes with every result, and a label free to resize lays out the
        # status bar and the window above it again each time.
        widest = self.timing_label.fontMetrics().horizontalAdvance("explanation: 99999 ms")
        self.timing_label.setFixedSize(widest + 8, self.timing_label.sizeHint().height())
        self.voice_label = QLabel("")  # why answers are silent, when they are: said once, kept in view
        self.voice_label.hide()
        for label in (self.voice_label, self.dataset_label, self.model_label, self.timing_label):
            self.statusBar().addPermanentWidget(label)

    def _build_menus(self) -> None:
        def action(menu, text, shortcut, handler, tip=""):
            act = QAction(text, self)
            if shortcut is not None:
                act.setShortcut(QKeySequence(shortcut))
            act.setStatusTip(tip)
            act.triggered.connect(handler)
            menu.addAction(act)
            return act

        profile_menu = self.menuBar().addMenu("&Profile")
        action(profile_menu, "&New profile…", "Ctrl+N", lambda: self.new_profile(),
               "Create a new, empty profile")
        action(profile_menu, "&Find a movie to add", "Ctrl+F", self.panel.focus_search,
               "Type a title to add a movie to the profile")
        profile_menu.addSeparator()
        action(profile_menu, "&Export explanation…", "Ctrl+E", self.tabs.export_dialog,
               "Save the view in front as PNG or SVG")
        profile_menu.addSeparator()
        action(profile_menu, "&Quit", "Ctrl+Q", self.close)
        edit_menu = self.menuBar().addMenu("&Edit")
        self.undo_action = action(edit_menu, "&Undo profile edit", "Ctrl+Z", self.undo,
                                  "Restore the profile as it was before the last edit")
        self.undo_action.setEnabled(False)
        view_menu = self.menuBar().addMenu("&View")
        for number, lens in enumerate(self.tabs.lenses(), start=1):  # Alt+digit: Ctrl+1-5 are the stars
            action(view_menu, LENS_TITLES[lens], f"Alt+{number}", lambda _=False, lens=lens: self.show_lens(lens),
                   f"Show the {LENS_TITLES[lens].lower()} tab")
        talk_menu = self.menuBar().addMenu("&Conversation")
        action(talk_menu, "&Ask a question", "Ctrl+L", self.chat.focus_input, "Type a question in the chat panel")
        self.talk_action = action(talk_menu, "&Talk (push to talk)", "Ctrl+Space", self.toggle_listening,
                                  "Ask by voice: speak after the button lights up; it stops by itself after a pause")
        action(talk_menu, "&Stop talking", "Esc", self.stop_talking, "Silence the answer being spoken")
        self.mute_action = action(talk_menu, "&Mute", "Ctrl+M", lambda: self.set_muted(self.mute_action.isChecked()),
                                  "Show answers without speaking them")
        self.mute_action.setCheckable(True)
        talk_menu.addSeparator()
        self._build_recogniser_menu(talk_menu.addMenu("Speech &recogniser"))
        action(talk_menu, "Save last answer as &WAV…", "Ctrl+Shift+S", self.save_answer_dialog,
               "Write the last spoken answer to a WAV file")
        self.chat.set_shortcuts(talk="Ctrl+Space", mute="Ctrl+M", stop="Esc")
        help_menu = self.menuBar().addMenu("&Help")
        action(help_menu, "&CineWhy help", "F1", self.show_help)

    def _build_recogniser_menu(self, menu) -> None:
        """Settings: which recogniser listens (pocketsphinx always works; the others when installed
        with a model on disk) and the folder of that model."""
        group = QActionGroup(self)
        chosen, _ = self.recogniser_choice()
        self.recogniser_actions = {}
        for name, label in RECOGNISER_LABELS.items():
            act = QAction(label, self, checkable=True)
            act.setChecked(name == chosen)
            act.triggered.connect(lambda _=False, name=name: self.choose_recogniser(name))
            group.addAction(act)
            menu.addAction(act)
            self.recogniser_actions[name] = act
        menu.addSeparator()
        model = QAction("Model &folder…", self)
        model.setStatusTip("The folder holding the vosk or faster-whisper model (nothing is downloaded)")
        model.triggered.connect(self.choose_model_folder)
        menu.addAction(model)

    def recogniser_choice(self) -> tuple[str, str | None]:
        name = self.store.get_setting("voice/recogniser", "pocketsphinx") or "pocketsphinx"
        return (name if name in RECOGNISER_LABELS else "pocketsphinx"), self.store.get_setting("voice/model_dir", None)

    def choose_recogniser(self, name: str, model_dir: str | None = None) -> None:
        try:
            if model_dir is not None:
                self.store.set_setting("voice/model_dir", model_dir)
            self.store.set_setting("voice/recogniser", name)
        except ProfileAccessError as error:
            self.statusBar().showMessage(f"The recogniser was not changed: {error}", 10000)
            return
        self.recogniser_actions[name].setChecked(True)
        self.chat.set_microphone(False, "Preparing speech recognition…")
        self.conversation.use_recogniser(*self.recogniser_choice())

    def choose_model_folder(self) -> None:
        start = self.recogniser_choice()[1] or str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Folder of the speech model", start)
        if folder:
            self.choose_recogniser(self.recogniser_choice()[0], folder)

    def _on_recogniser(self, name: str, note: str) -> None:
        """The recogniser now listening; when it is not the one chosen, the reason stays in view."""
        chosen, _ = self.recogniser_choice()
        if name != chosen:
            self.recogniser_actions[name].setChecked(True)
            self.statusBar().showMessage(note, 15000)
            self.chat.add_error(note)
        else:
            self.statusBar().showMessage(f"Listening with {RECOGNISER_LABELS[name]}.", 5000)

    # ----- opening profiles -----

    def _remembered_source(self) -> tuple[str, int]:
        value = str(self.settings.value(f"last_profile/{self.dataset}", "") or "")
        kind, _, number = value.partition(":")
        if kind in ("user", "saved") and number.isdigit():
            return kind, int(number)
        return "user", self.catalogue.user_ids[0]

    def _open(self, source: tuple[str, int], record: bool = True) -> bool:
        """Show a dataset user or a saved profile; `record` puts the switch on the undo stack."""
        if source == self.source:
            return True
        if not self._settle_unsaved(f"open {'User ' + str(source[1]) if source[0] == 'user' else 'another profile'}"):
            if self.source is not None:
                self.panel.mark_source(*self.source)
            return False
        kind, number = source
        try:
            if kind == "saved":
                profile = self.store.get(number).to_profile()
            else:
                profile = self.catalogue.user_profile(number)
        except (ProfileStoreError, EngineError) as error:  # a forgotten profile or user: show the first user
            if source == ("user", self.catalogue.user_ids[0]):
                raise
            self.statusBar().showMessage(f"Could not open the last profile ({error}); showing the first user.", 8000)
            return self._open(("user", self.catalogue.user_ids[0]), record)
        if record and self.source is not None:
            self._push_undo()
        self.source = source
        self.selected = None  # another person's list: start from its top recommendation
        self._show(profile)
        self.settings.setValue(f"last_profile/{self.dataset}", f"{kind}:{number}")
        return True

    def open_user(self, user_id: int) -> bool:
        return self._open(("user", int(user_id)))

    def open_saved(self, profile_id: int) -> bool:
        return self._open(("saved", int(profile_id)))

    def source_name(self) -> str:
        if self.source is None:
            return ""
        kind, number = self.source
        if kind == "user":
            return f"User {number}"
        try:
            return self.store.name(number)
        except ProfileNotFound:
            return "Deleted profile"
        except ProfileStoreError:  # the database cannot be read just now
            return f"Saved profile {number}"

    # ----- editing -----

    def add_movie(self, movie_id: int, stars: int | None = None) -> None:
        """Add a movie rated `stars` (1-5; None: watched, not rated)."""
        movie = self._movies.get(movie_id)
        if movie is None or movie_id in self.profile.movies:
            return
        try:
            profile = self.profile.with_movie(movie_id, stars)
        except EngineError as error:
            self.statusBar().showMessage(str(error), 8000)
            return
        self._edit(profile, f"Added {movie.label}" + (f" {stars}★." if stars is not None else "."))
        self._select_movie_in_panel(movie_id)

    def set_rating(self, movie_id: int, stars: int | None) -> None:
        """Rate a movie of the profile in place (None clears its rating); saved and undoable like every edit."""
        if movie_id not in self.profile.movies or self.profile.rating(movie_id) == stars:
            return
        try:
            profile = self.profile.with_rating(movie_id, stars)
        except EngineError as error:
            self.statusBar().showMessage(str(error), 8000)
            return
        label = self._movies[movie_id].label if movie_id in self._movies else f"movie {movie_id}"
        self._edit(profile, f"Rated {label} {stars}★." if stars is not None else f"Cleared the rating of {label}.")

    def remove_movie(self, movie_id: int) -> None:
        if movie_id not in self.profile.movies:
            return
        label = self._movies[movie_id].label if movie_id in self._movies else f"movie {movie_id}"
        self._edit(self.profile.without_movie(movie_id), f"Removed {label}.")

    def set_attribute(self, field: str, value: str | None) -> None:
        if field not in ("gender", "age", "occupation") or getattr(self.profile, field) == value:
            return
        shown = GENDERS.get(value, value) if field == "gender" else value
        self._edit(replace(self.profile, user_id=None, **{field: value}), f"{field.capitalize()}: {shown or 'not set'}.")

    def _edit(self, profile: Profile, message: str) -> None:
        """Show the edited profile and save it. Saved: one undo entry, back to the state before.
        Not saved: it stays on screen, marked, and is saved later (see the module docstring)."""
        self.save_pending()  # an earlier edit's save lands first: each edit keeps its own undo entry
        saved_source, saved_profile = (self.unsaved.source, self.unsaved.profile) if self.unsaved \
            else (self.source, self.profile)
        if self.unsaved is None and self.source is not None and self.source[0] == "saved":
            # Written once the worker's result for it is drawn (`_on_result`); a dataset user's first
            # edit, which makes a new saved profile, and a retry after a failed save are written now.
            self._sent_early = self._live_request(profile)
            self._pending = PendingSave(saved_source, saved_profile, profile, message)
            self._save_soon.start()
            self._show(profile, panel_later=True)
            return
        # Saved or not, the edited profile is what the window shows next: the worker scores it while
        # this thread writes it to SQLite, and `_show` below does not ask again. (An edit's Sankey that
        # seemed never painted with this order was the benchmark waiting for a result the window had
        # itself superseded; it happened with the request after the save too.)
        self._sent_early = self._live_request(profile)
        try:
            note = self._write(profile)
        except ProfileAccessError as error:
            self.unsaved = UnsavedEdits(saved_source, saved_profile, error)
            self._show(profile)
            self._save_failed(message)
            return
        except BaseException:
            self._sent_early = None
            self._request()  # the edit is not shown: the worker goes back to the profile on screen
            raise
        self._landed(saved_source, saved_profile)
        self._show(profile)
        self.statusBar().showMessage(message + note, 8000)

    def save_pending(self) -> bool:
        """Write the edit on screen whose save waits for its drawing, if there is one: saved, it
        gets its undo entry; refused, it stays on screen marked "not saved", as any edit that could
        not be saved. An unexpected error takes the edit off the screen again, then propagates.
        False when edits are left unsaved."""
        pending, self._pending = self._pending, None
        if pending is None:
            return self.unsaved is None
        self._save_soon.stop()
        try:
            note = self._write(pending.edited)
        except ProfileAccessError as error:
            self.unsaved = UnsavedEdits(pending.source, pending.profile, error)
            self._save_failed(pending.message)
            return False
        except BaseException:
            self.source = pending.source
            self._show(pending.profile)  # the edit did not happen: neither shown nor scored
            raise
        self._landed(pending.source, pending.profile)
        self.statusBar().showMessage(pending.message + note, 8000)
        return True

    def _write(self, profile: Profile) -> str:
        """Save `profile` as the content of the source shown; a dataset user's becomes a new saved
        profile. Returns what to add to the edit's message; raises ProfileAccessError unsaved."""
        # Once a save has failed, later tries do not wait for another program's lock: on the UI
        # thread that wait would freeze the window at every retry.
        with self.store.lock_wait(0) if self.unsaved is not None else nullcontext():
            return self._write_now(profile)

    def _write_now(self, profile: Profile) -> str:
        if self.source is not None and self.source[0] == "user":
            user_id = self.source[1]
            stored = self.store.create_from(self.dataset, self.store.unique_name(self.dataset, f"User {user_id} (edited)"), profile)
            self.source = ("saved", stored.id)
            self.chat_history.continue_as(self.source)
            self.settings.setValue(f"last_profile/{self.dataset}", f"saved:{stored.id}")
            self._refresh_saved()
            return f" Dataset users stay as they are, so your changes are saved as “{stored.name}”."
        self.store.save_profile(self.source[1], profile)
        # The list changes at most in this profile's count (a rating: not at all), written in place
        # rather than read again from SQLite; a list whose last read failed is read again.
        counts, count = self._listed_counts, len(profile.movies)
        if counts is None or self.source[1] not in counts:
            self._refresh_saved()
        elif counts[self.source[1]] != count:
            if self.panel.set_saved_count(self.source[1], count):
                counts[self.source[1]] = count
            else:
                self._refresh_saved()
        return ""

    def _landed(self, saved_source: tuple[str, int], saved_profile: Profile) -> None:
        """A save landed: undo goes back to the state saved before it; nothing is pending any more."""
        self.unsaved = None
        self._save_retry.stop()
        self.save_problem.clear()
        self._push_undo(saved_source, saved_profile)

    def _save_failed(self, message: str | None = None) -> None:
        """Say that the edits shown are not saved and why, in the status bar and the bar above the
        content (no dialog: a full disk would raise one per edit), and try again later."""
        error = self.unsaved.error
        name = self.source_name()
        if error.retryable:
            self._save_retry.start()
            then = (f"They stay on screen; CineWhy tries again every {SAVE_RETRY_MS // 1000} s and with your "
                    "next edit. Undo discards them.")
        else:
            then = "They stay on screen until CineWhy closes. Undo discards them."
        self.save_problem.show_problem(f"Your changes to “{name}” are not saved: {error.reason}. {then}",
                                       can_retry=error.retryable)
        self.statusBar().showMessage(f"{message + ' ' if message else ''}Not saved: {error.reason}.", 10000)
        self.undo_action.setEnabled(True)
        self._show_title()

    def retry_save(self) -> bool:
        """Try again to save the edits on screen; True when nothing is left unsaved."""
        if self.unsaved is None:
            return True
        pending = self.unsaved
        try:
            note = self._write(self.profile)
        except ProfileAccessError as error:
            self.unsaved = replace(pending, error=error)
            self._save_failed()
            return False
        self._landed(pending.source, pending.profile)
        self._show_title()
        if self.source is not None:
            self.panel.mark_source(*self.source)
        self.statusBar().showMessage(f"Saved your changes to {self.source_name()}.{note}", 8000)
        return True

    def _discard_unsaved(self) -> None:
        """Back to the profile as it was last saved (it is what the database holds: nothing to write)."""
        pending, self.unsaved = self.unsaved, None
        self._save_retry.stop()
        self.save_problem.clear()
        self.source = pending.source
        self._show(pending.profile)
        self.undo_action.setEnabled(bool(self._undo))

    def _settle_unsaved(self, action: str) -> bool:
        """Before leaving the profile: save what is unsaved, or ask once whether to discard it.
        False: the user keeps the edits (and the profile) in view."""
        if self.save_pending() or self.retry_save():
            return True
        answer = QMessageBox.question(
            self, "Changes not saved",
            f"Your changes to “{self.source_name()}” could not be saved ({self.unsaved.error.reason}). "
            f"Discard them and {action}?",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return False
        self._discard_unsaved()
        return True

    def _push_undo(self, source: tuple[str, int] | None = None, profile: Profile | None = None) -> None:
        self._undo.append((source, profile) if source is not None else (self.source, self.profile))
        del self._undo[:-UNDO_LIMIT]
        self.undo_action.setEnabled(True)

    def undo(self) -> bool:
        """Restore the profile (and the user or saved profile it belonged to) before the last edit.
        With edits not saved, discard them: back to the profile as it was last saved."""
        self.save_pending()  # an edit waiting for its save is saved, and is the one undone
        if self.unsaved is not None:
            self._discard_unsaved()
            self.statusBar().showMessage(f"Discarded the changes that were not saved: {self.source_name()} "
                                         "is back as it was last saved.", 6000)
            return True
        if not self._undo:
            self.statusBar().showMessage("Nothing to undo.", 4000)
            return False
        source, profile = self._undo.pop()
        if source[0] == "saved":
            try:
                if self.store.get(source[1]).to_profile() != profile:  # undoing a switch writes nothing
                    self.store.save_profile(source[1], profile)
            except ProfileNotFound:
                self.undo_action.setEnabled(bool(self._undo))
                return self.undo()
            except ProfileAccessError as error:  # nothing changed: the entry stays for the next try
                self._undo.append((source, profile))
                self.statusBar().showMessage(f"Not undone: {error.reason}. The profile stays as it is.", 10000)
                return False
            self._refresh_saved()
        self.undo_action.setEnabled(bool(self._undo))
        self.source = source
        self.settings.setValue(f"last_profile/{self.dataset}", f"{source[0]}:{source[1]}")
        self._show(profile)
        self.statusBar().showMessage(f"Undone: {self.source_name()} is back as it was.", 6000)
        return True

    # ----- saved profiles -----

    def new_profile(self, name: str | None = None) -> int | None:
        suggestion = self.store.unique_name(self.dataset, "My profile")
        if name is None:
            name, ok = QInputDialog.getText(self, "New profile", "Name of the new profile:", text=suggestion)
            if not ok:
                return None
        try:
            stored = self.store.create(self.dataset, name)
        except ProfileStoreError as error:
            QMessageBox.warning(self, APP_TITLE, str(error))
            return None
        self._refresh_saved()
        self._open(("saved", stored.id))
        self.statusBar().showMessage(f"Created “{stored.name}”: add movies with Ctrl+F.", 8000)
        self.panel.focus_search()
        return stored.id

    def rename_profile(self, profile_id: int | None = None, name: str | None = None) -> bool:
        self.save_pending()  # the profile as shown, before it is renamed, copied or deleted
        profile_id = self._saved_id(profile_id)
        if profile_id is None:
            return False
        current = self.store.get(profile_id).name
        if name is None:
            name, ok = QInputDialog.getText(self, "Rename profile", "New name:", text=current)
            if not ok:
                return False
        try:
            stored = self.store.rename(profile_id, name)
        except ProfileStoreError as error:
            QMessageBox.warning(self, APP_TITLE, str(error))
            return False
        self._refresh_saved()
        self._show_title()
        self.statusBar().showMessage(f"Renamed “{current}” to “{stored.name}”.", 6000)
        return True

    def duplicate_profile(self, profile_id: int | None = None) -> int | None:
        self.save_pending()  # the profile as shown, before it is renamed, copied or deleted
        profile_id = self._saved_id(profile_id)
        if profile_id is None:
            return None
        try:
            copy = self.store.duplicate(profile_id)
        except ProfileStoreError as error:
            self.statusBar().showMessage(f"No copy was made: {error}", 10000)
            return None
        self._refresh_saved()
        self._open(("saved", copy.id))
        self.statusBar().showMessage(f"Saved a copy as “{copy.name}”.", 6000)
        return copy.id

    def delete_profile(self, profile_id: int | None = None, confirm: bool = True) -> bool:
        self.save_pending()  # the profile as shown, before it is renamed, copied or deleted
        profile_id = self._saved_id(profile_id)
        if profile_id is None:
            return False
        name = self.store.get(profile_id).name
        if confirm and QMessageBox.question(
            self, "Delete profile", f"Delete the profile “{name}”? This cannot be undone."
        ) != QMessageBox.StandardButton.Yes:
            return False
        try:
            self.store.delete(profile_id)
        except ProfileStoreError as error:
            self.statusBar().showMessage(f"“{name}” was not deleted: {error}", 10000)
            return False
        if self.unsaved is not None and self.unsaved.source == ("saved", profile_id):
            self._discard_unsaved()  # its unsaved edits went with it
        self._undo = [(s, p) for s, p in self._undo if s != ("saved", profile_id)]
        self.undo_action.setEnabled(bool(self._undo))
        self._refresh_saved()
        if self.source == ("saved", profile_id):
            self.source = None
            self._open(("user", self.catalogue.user_ids[0]), record=False)
        self.statusBar().showMessage(f"Deleted “{name}”.", 6000)
        return True

    def _saved_id(self, profile_id: int | None) -> int | None:
        if profile_id is not None:
            return profile_id
        if self.source is not None and self.source[0] == "saved":
            return self.source[1]
        self.statusBar().showMessage("Select one of your saved profiles first.", 5000)
        return None

    def _refresh_saved(self) -> None:
        try:
            profiles = self.store.list_profiles(self.dataset)
        except ProfileAccessError as error:  # the list stays as it was; say why it may be stale
            self._listed_counts = None
            self.statusBar().showMessage(str(error), 8000)
            return
        self.panel.set_saved_profiles(profiles)
        self._listed_counts = {stored.id: len(stored.movies) for stored in profiles}
        if self.source is not None:
            self.panel.mark_source(*self.source)

    # ----- showing -----

    def _show(self, profile: Profile, panel_later: bool = False) -> None:
        """Show the profile in the panel and ask the live recommender for its recommendations.
        `panel_later`: the panel follows once the result is drawn (see `_show_panel`)."""
        self.profile = profile
        if panel_later:
            self._panel_soon.start()
        else:
            self._show_panel()
        self.chat_history.follow(self.source, self.source_name())
        self._pinned = None  # an answer's explanation described the profile before this edit
        self.tabs.set_profile(profile)  # views of the profile itself (the expert timeline's sittings)
        self._request()

    def _show_panel(self) -> None:
        """Bring the profile panel (and the titles) up to the profile shown. After an edit this waits
        for the edit's drawing, at most PANEL_LATEST_MS: the panel's update and its repaint cost
        the UI thread ~3 ms at ML-1M, and they held the worker and the Sankey back (the UI thread and
        the worker take turns at Python's GIL)."""
        self._panel_soon.stop()
        self._show_title()
        self.panel.show_profile(self.panel_title(), self.profile)
        if self.source is not None:
            self.panel.mark_source(*self.source)
        selected, self._select_in_panel = self._select_in_panel, None
        if selected is not None:
            self.panel.select_movie(selected)

    def _select_movie_in_panel(self, movie_id: int) -> None:
        """Select a movie in the panel's list, once the panel shows the profile it is in."""
        if self._panel_soon.isActive():
            self._select_in_panel = movie_id
        else:
            self.panel.select_movie(movie_id)

    def _request(self, retry: bool = False) -> None:
        """Ask the live worker for the list and the selected movie's explanation through the lens in
        front; `retry` prepares that lens's model even if the user cancelled it before."""
        sent, self._sent_early = self._sent_early, None
        if not retry and sent is not None and sent == self._request_of(self.profile):
            return  # `_edit` sent this very request before saving
        self._live_request(self.profile, retry)

    def _request_of(self, profile: Profile) -> tuple:
        lens = self.tabs.current_lens()
        return (profile, self.selected, lens if self.tabs.draws(lens) else None)

    def _live_request(self, profile: Profile, retry: bool = False) -> tuple:
        """Send the worker the request for `profile`; returns what was asked (profile, selection, lens)."""
        asked = self._request_of(profile)
        self.live.request(*asked, retry=retry)
        return asked

    def panel_title(self) -> str:
        kind = "dataset user" if self.source and self.source[0] == "user" else "saved profile"
        return f"{self.source_name()} ({kind})" + (" — not saved" if self.unsaved is not None else "")

    def _show_title(self) -> None:
        self.list_title.setText(f"Recommendations for {self.source_name()}")
        self.panel.set_title(self.panel_title())

    def _on_result(self, result: LiveResult) -> None:
        if not self.live.is_current(result):
            return  # superseded by a newer edit: never flick back to stale results
        try:
            self._show_result(result)
        finally:
            if self._panel_soon.isActive():
                self._show_panel()  # the edit in the panel, now that its drawing is on screen
            self.save_pending()  # and its save

    def _show_result(self, result: LiveResult) -> None:
        if result.error:
            self.show_banner(result.error)
            return
        self.last_result = result
        if result.prepared and result.lens is not None:
            self.tabs.set_prepared(result.lens)  # known on the worker: the view never asks the engine
        self._show_removal_check(result, update=False)  # shown with the drawing of what it checks, below
        if self.selected is None:  # a fresh list: the worker explained its top recommendation
            self.selected = result.selected
        shown = self._show_selected(result)
        self._refresh_removal_check()
        if shown:
            self._paint_drawing_now()
        # The list and the status bar after the drawing: they are painted at the next update, not
        # in the same one before it (widgets are painted left to right, the drawing last).
        self.recommendations.set_recommendations(result.recommendations, self.selected)
        self.timing_label.setText(f"explanation: {1000 * result.seconds:.0f} ms")
        if not shown:
            self._request()  # the selection changed while this was computed: ask for it
            return
        self.resultShown.emit(result)

    def _paint_drawing_now(self) -> None:
        """Paint the view in front at once. An update paints every widget marked since the last one
        in tree order, the lists on the left before the drawing on the right: the recommendation
        list's rows alone cost the UI thread ~4 ms at ML-1M size, and the drawing waited for them."""
        panel = self.tabs.current_panel()
        drawing = panel.export_widget() if panel is not None and panel.state == "drawing" else None
        if drawing is not None and drawing.isVisible():
            drawing.repaint()

    def _show_selected(self, result: LiveResult, states: bool = True) -> bool:
        """Draw the selected movie in the tab in front from `result`; False when `result` does not
        cover it. With `states`, a result about this movie and lens that has no explanation shows why
        (the lens's model is being prepared, is not available, ...)."""
        lens, movie = self.tabs.current_lens(), self.selected
        if not self.tabs.draws(lens) or movie is None:
            return True
        panel = self.tabs.panel(lens)
        pinned = self._pinned
        if pinned is not None and (pinned.subject, pinned.lens) == (movie, lens):
            explanation = pinned  # keep drawing the object the answer phrased, not a recomputed twin
        else:
            explanation = result.explanation_of(movie, lens)
        about_it = result.selected == movie and result.lens == lens
        if explanation is None and not (states and about_it):
            return False
        self._show_rank_notice(panel, result, movie)
        if explanation is not None:
            if panel.explanation is not explanation:
                panel.set_explanation(explanation)
        elif result.preparing:
            if panel.state != "busy":  # progress may already be on screen
                panel.show_busy(f"Preparing the {LENS_TITLES[lens].lower()} model…")
        elif result.declined:
            panel.show_empty(f"Preparing the {LENS_TITLES[lens].lower()} model was cancelled. "
                             "Pick a movie, or come back to this tab, to start it again.")
        elif result.unavailable:
            panel.show_unavailable(result.unavailable)
        else:
            panel.show_empty(result.explanation_error or panel.empty_text)
        return True

    def _show_rank_notice(self, panel, result: LiveResult, movie: int) -> None:
        """Say so above the view when the explained movie is not in the list (any more)."""
        if result.recommendation_for(movie) is not None or result.selected != movie:
            panel.hide_notice()
            return
        label = self._movies[movie].label if movie in self._movies else f"Movie {movie}"
        if result.selected_rank is None:
            # true whether it was just added or asked about, and for every lens: each view says itself
            # how it treats a movie of the profile (the Sankey leaves it out, the influence graph lists
            # the profile's own rating of it)
            panel.show_notice(f"{label} is in your profile, so it is not recommended; its explanation "
                              "stays shown until you pick another movie.")
        else:
            panel.show_notice(f"{label} dropped to rank {result.selected_rank}; "
                              "its explanation stays shown until you pick another movie.")

    # ----- the check under the Sankey (issue 11): the movie's rank without its top reasons -----

    def _connect_removal_check(self) -> None:
        if not self.tabs.draws(Lens.RELEVANCE):
            return
        sankey = self.tabs.panel(Lens.RELEVANCE)
        sankey.removalWhatIf.connect(self.show_removal_what_if)
        sankey.removalBack.connect(self.leave_what_if)
        # a movie drawn from the list's own explanations: the worker computes its check
        sankey.checkWanted.connect(lambda movie: self._request() if movie == self.selected else None)

    def _show_removal_check(self, result: LiveResult, update: bool = True) -> None:
        if result.removal is not None and self.tabs.draws(Lens.RELEVANCE):
            self.tabs.panel(Lens.RELEVANCE).set_removal(result.removal, result.removal_explanation, update)

    def _refresh_removal_check(self) -> None:
        if self.tabs.draws(Lens.RELEVANCE):
            self.tabs.panel(Lens.RELEVANCE).refresh_check()

    def show_removal_what_if(self, check, explanation) -> None:
        """Draw the explanation of a copy of the profile without the check's reasons; the saved
        profile is not touched, and the line under the Sankey leads back."""
        names = ", ".join(check.names)
        self.show_explanation(explanation, f"What if: a copy of your profile without {names} (not saved). "
                                           f"{removal_line(check, check.title)}.")

    def leave_what_if(self) -> None:
        self._pinned = None
        if self.last_result is None or not self._show_selected(self.last_result):
            self._request()

    def select_recommendation(self, movie_id: int) -> None:
        """Show the explanation of a recommendation the user picked: at once when the list came with
        it for the lens in front, else computed on the worker."""
        result = self.last_result
        if result is None or result.recommendation_for(movie_id) is None:
            return
        self._pinned = None
        self.selected = movie_id
        self.recommendations.select_movie(movie_id)
        if not self._show_selected(result, states=False):
            self._request(retry=True)

    def _on_lens_changed(self, lens: Lens | None) -> None:
        """Another tab in front: draw what the last result holds for it, else ask for it."""
        if self.tabs.draws(lens):
            self.conversation.set_lens(lens)  # "why this movie?" is now asked through this lens
        pinned = self._pinned
        if pinned is not None and pinned.lens == lens:
            return  # an answer switched to its own lens and draws its own explanation
        self._pinned = None
        if not self.tabs.draws(lens):
            return
        if self.last_result is None or not self._show_selected(self.last_result, states=False):
            self._request(retry=True)

    def _on_preparing(self, lens: Lens, percent: int, message: str) -> None:
        if self.tabs.draws(lens):
            # the bar shows the percentage; the line under the title says what is being done
            text = f"Preparing the {LENS_TITLES[lens].lower()} model (once: it is kept for later starts)"
            text += f"\n{message[:1].upper()}{message[1:]}…" if message else "…"
            self.tabs.panel(lens).show_busy(text, percent)

    def _on_prepared(self, lens: Lens, note: str) -> None:
        self.tabs.set_prepared(lens)
        if note:
            self.statusBar().showMessage(note, 10000)
        if lens == self.tabs.current_lens():
            self._request()
        elif self.tabs.draws(lens):
            self.tabs.panel(lens).set_explanation(None)  # drawn when its tab comes to the front

    def _on_preparation_stopped(self, lens: Lens, message: str, why: str) -> None:
        if not self.tabs.draws(lens):
            return
        panel = self.tabs.panel(lens)
        if why == "unavailable":
            panel.show_unavailable(message)
        elif why == "cancelled":
            panel.show_empty(f"Preparing the {LENS_TITLES[lens].lower()} model was cancelled. "
                             "Pick a movie, or come back to this tab, to start it again.")
        else:
            panel.show_empty(message)

    def _on_view_movie(self, movie_id: int) -> None:
        if self.panel.select_movie(movie_id):
            label = self._movies[movie_id].label if movie_id in self._movies else f"Movie {movie_id}"
            self.statusBar().showMessage(f"{label} is selected in the profile: press Delete to remove it.", 6000)

    def show_notice(self, text: str) -> None:
        """A note above the view in front, e.g. that the explained movie dropped out of the list."""
        panel = self.tabs.current_panel()
        if panel is not None:
            panel.show_notice(text)

    def show_banner(self, text: str) -> None:
        """A problem the user should know about (a recovered database, an engine error), until
        dismissed; messages shown together stay together, each once (one used to replace another)."""
        shown = self.banner.text().split("\n\n") if self.banner.isVisibleTo(self) and self.banner.text() else []
        if text not in shown:
            self.banner.setText("\n\n".join([*shown, text]))
        self.banner.show()
        self._dismiss.show()

    def _explain_the_data(self) -> None:
        """Said once at start: why movies are "Item N" (a dataset without titles), and what the loader
        worked around (e.g. duplicate ratings it dropped)."""
        dataset = self.catalogue.dataset
        if not dataset.has_titles:
            self.show_banner(
                f"This copy of {dataset.name} has no movie titles: its movie ids were re-indexed and no titles, "
                f"years or genres exist for it, so movies are shown as “Item N”. For titles, download "
                f"{dataset.name}.zip from grouplens.org/datasets/movielens and open its folder with --data PATH.")
            liked = liked_counts(self.catalogue)
            first, second = sorted(liked, key=lambda movie: -liked[movie])[:2]
            self.chat.input.setPlaceholderText(
                f"Ask why… e.g. why this movie? why not {self._movies[first].label}? "
                f"what if I hadn't seen {self._movies[second].label}?")
        for note in dataset.notes:
            self.show_banner(f"While reading {dataset.name}: {note}")

    def show_help(self) -> None:
        HelpDialog(self).exec()

    # ----- conversation -----

    def _connect_conversation(self) -> None:
        chat, service = self.chat, self.conversation
        chat.questionAsked.connect(self.ask)
        chat.suggestionChosen.connect(lambda title: self.ask(f"tell me about {title}"))
        chat.talkToggled.connect(self.toggle_listening)
        chat.muteToggled.connect(self.set_muted)
        chat.stopRequested.connect(self.stop_talking)
        chat.set_microphone(False, "Preparing speech recognition…")
        service.answered.connect(self._on_answer)
        service.heard.connect(lambda text: chat.add_question(text, "voice"))
        service.failed.connect(self._on_conversation_problem)
        service.voiceStatus.connect(chat.set_microphone)
        service.recogniserChosen.connect(self._on_recogniser)
        service.level.connect(chat.set_level)
        service.listening.connect(self._on_listening)

        def follow(lens, panel) -> None:  # each view as it is built (a tab's view is built when first shown)
            grouped = getattr(panel, "groupedChanged", None)  # a view that groups its evidence (the Sankey by
            if grouped is not None:  # genre): answers follow it
                grouped.connect(service.set_grouped)
            shown = getattr(panel, "viewStateChanged", None)  # what a non-movie tab shows
            if shown is not None:
                shown.connect(lambda state, lens=lens: service.set_view_state(lens, state))

        self.tabs.for_each_panel(follow)
        self.voice.speaking.connect(chat.set_speaking)
        self.voice.silent.connect(self._on_silent)
        self.voice.saved.connect(self._on_answer_saved)
        self.voice.saveFailed.connect(lambda text: QMessageBox.warning(self, APP_TITLE, text))
        muted = self.store.get_setting("voice/muted", "0") == "1"
        self.set_muted(muted)
        self._listening = False
        # The voice (grammar, recogniser) and the speech process start once the first result is on
        # screen: started with the window they took a fifth of the CPU its first paint needed.
        # Questions asked meanwhile wait in the service's queue.
        self._conversation_started = False
        # resultShown comes before the paint it asks for: a moment later, so as not to compete with it.
        self.resultShown.connect(lambda: QTimer.singleShot(CONVERSATION_START_AFTER_RESULT_MS, self._start_conversation))
        QTimer.singleShot(CONVERSATION_START_LATEST_MS, self._start_conversation)  # e.g. no result at all

    def _start_conversation(self) -> None:
        if self._conversation_started:
            return
        self._conversation_started = True
        self.conversation.start()
        self.voice.start()

    def ask(self, text: str) -> None:
        """A typed question: shown at once, answered on the conversation worker."""
        self.chat.add_question(text)
        self.chat.set_busy(True)
        self.conversation.ask(text, self.profile, self.selected)

    def toggle_listening(self) -> None:
        if self._listening:
            self.conversation.stop_listening()
        elif self.chat.talk_button.isEnabled():
            self.voice.stop()  # do not record our own voice
            self.conversation.listen(self.profile, self.selected)
        else:
            self.statusBar().showMessage(self.chat.talk_button.toolTip(), 8000)

    def _on_listening(self, listening: bool) -> None:
        self._listening = listening
        self.chat.set_listening(listening)
        if not listening:
            self.chat.set_busy(True)

    def stop_talking(self) -> None:
        self.voice.stop()

    def set_muted(self, muted: bool) -> None:
        self.voice.set_muted(muted)
        self.chat.set_muted(muted)
        self.mute_action.setChecked(muted)
        try:
            self.store.set_setting("voice/muted", "1" if muted else "0")
        except ProfileAccessError as error:  # muted for now; only remembering it failed
            self.statusBar().showMessage(f"The mute setting was not saved: {error}", 8000)

    def _on_silent(self, reason: str) -> None:
        """Said once, in the status bar (a permanent label, so edits' messages do not hide it)."""
        self.voice_label.setText("Silent: " + re.split(r"[:(]", reason)[0].strip().rstrip("."))
        self.voice_label.setToolTip(reason)
        self.voice_label.show()
        self.chat.set_silent_reason(reason)

    def _on_conversation_problem(self, text: str) -> None:
        self.chat.set_busy(False)
        self.chat.add_error(text)

    def _on_answer(self, asked: Asked) -> None:
        answer = asked.answer
        self.chat.set_busy(False)
        self.chat.add_answer(answer)
        self.last_answer = answer
        self._remember_exchange(asked)
        if answer.change is not None:
            self._edit(apply_change(self.profile, answer.change), answer.text)
        # The explanation object the answer was phrased from: the view draws that very object, so
        # what is seen is what is heard. A view whose subjects are not movies (the pixel tab's
        # catalogue pairs) takes its answers itself: there is no movie to select.
        if answer.explanation is not None:
            if not self.tabs.take_answer(answer):
                self.show_explanation(answer.explanation, answer.hypothetical)
        else:
            if answer.lens is not None:
                self.show_lens(Lens(answer.lens))
            if answer.movie_id is not None:
                self.show_movie(answer.movie_id)
        if answer.stop_speaking:
            self.voice.stop()
        else:
            self.voice.say(answer.speech)

    def _remember_exchange(self, asked: Asked) -> None:
        try:  # kept per (dataset, profile): a saved profile's by its id, a dataset user's by its number
            self.chat_history.remember(self.source, asked.text, asked.answer.text)
        except ProfileStoreError as error:  # the answer is still shown; say the history was not kept
            self.statusBar().showMessage(f"Could not save the conversation: {error}", 8000)

    def show_lens(self, lens: Lens) -> None:
        self.tabs.show_lens(lens)

    def show_explanation(self, explanation: Explanation, hypothetical: str = "") -> None:
        """Select the movie `explanation` is about and draw this very object in its lens's tab (no
        second computation); it stays drawn until the user picks, edits or switches. `hypothetical`
        labels the explanation of a profile the user does not have (a "what if")."""
        movie = explanation.subject
        self._pinned = explanation
        self.selected = movie
        self.recommendations.select_movie(movie)
        self.tabs.show_lens(explanation.lens)
        self.tabs.show_explanation(explanation)
        result = self.last_result
        if hypothetical:  # its rank in the real profile would contradict the picture
            self.tabs.panel(explanation.lens).show_notice(hypothetical)
        elif result is not None and (result.recommendation_for(movie) is not None or result.selected == movie):
            self._show_rank_notice(self.tabs.panel(explanation.lens), result, movie)
        else:
            # Its rank for the notice, without a lens: the answer's explanation is not computed again.
            self.tabs.panel(explanation.lens).hide_notice()
            self.live.request(self.profile, movie, None)

    def show_movie(self, movie_id: int) -> None:
        """Select a movie the conversation is about: from the list when it is there, else its
        explanation is computed on the worker and shown with its rank."""
        if self.last_result is not None and self.last_result.recommendation_for(movie_id) is not None:
            self.select_recommendation(movie_id)
            return
        self._pinned = None
        self.selected = movie_id
        self.recommendations.select_movie(movie_id)
        self._request()

    def _on_answer_saved(self, path: str, seconds: float) -> None:
        """Where the WAV went: in the chat, under the answer (it stays), and in the status bar."""
        text = f"Saved the answer as {Path(path).absolute()} ({seconds:.1f} s)."
        self.chat.add_note(text)
        self.statusBar().showMessage(text, 15000)

    def save_answer_dialog(self) -> None:
        if self.last_answer is None or not (self.last_answer.speech or self.last_answer.text):
            self.statusBar().showMessage("Ask a question first: there is no answer to save yet.", 6000)
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save answer as WAV", "answer.wav", "WAV audio (*.wav)")
        if path:
            self.voice.save_wav(self.last_answer.speech or self.last_answer.text, path)

    # ----- closing -----

    def closeEvent(self, event) -> None:
        if not self._settle_unsaved("close CineWhy"):
            event.ignore()
            return
        self._panel_soon.stop()  # nothing is shown any more
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.sync()
        self.live.stop()
        self._conversation_started = True  # a conversation not started yet must not start after this
        self.conversation.stop()
        self.voice.close()
        self.closing.emit()
        super().closeEvent(event)
