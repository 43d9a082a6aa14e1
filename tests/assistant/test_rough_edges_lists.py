"""Issue 13's rough edges in the lists, the chat and the exports, in the window on MovieLens 100k:
an empty profile's bars in rank order, duplicate titles told apart, "saved to ..." feedback, the
chat history shown again after a restart with a divider per profile, and the chat pane's height."""
from __future__ import annotations

from collections import Counter

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from assistant.recommendation_list import RecommendationModel, liked_counts
from engine.api import Recommendation
from test_main_window import open_window, sankey, wait_fresh  # noqa: F401 (a fixture)


def bar_shares(window) -> list[float]:
    model = window.recommendations.recommendation_model
    return [model.share(r) for r in model.recommendations()]


def test_an_empty_profiles_bars_shrink_down_the_list(qtbot, open_window, app_engine):
    window = open_window(("user", 1))
    shares = bar_shares(window)
    assert shares == sorted(shares, reverse=True)  # ranked by the model: probability bars
    window.new_profile("Nobody yet")
    wait_fresh(qtbot, window)
    model = window.recommendations.recommendation_model
    shown = model.recommendations()
    assert len(shown) == 20 and model.by_popularity
    shares = bar_shares(window)
    assert shares == sorted(shares, reverse=True) and shares[0] == 1.0
    liked = liked_counts(app_engine.catalogue)
    top = liked[shown[0].movie.id]
    assert shares == pytest.approx([liked[r.movie.id] / top for r in shown])
    tip = model.data(model.index(3), Qt.ItemDataRole.ToolTipRole)
    assert f"Liked by {liked[shown[3].movie.id]} people" in tip and "most popular" in tip


def test_liked_counts_are_the_catalogues(app_engine):
    liked = liked_counts(app_engine.catalogue)
    assert len(liked) == len(app_engine.catalogue.movies)
    assert sum(liked.values()) == app_engine.catalogue.liked.nnz
    star_wars = 50
    assert liked[star_wars] == max(liked.values())  # the most liked movie of MovieLens 100k


CHASING_AMY = (246, 268)  # one movie listed twice in MovieLens 100k: same title, year and genres


def test_the_duplicated_titles_carry_their_id_and_no_other_title_does(app_engine):
    movies = app_engine.catalogue.movies
    shared = [m for m in movies if m.shares_label]
    assert len(shared) == 36  # 18 titles, each listed twice
    assert max(Counter(m.label for m in movies).values()) == 1  # every label now tells its movie apart
    assert all(m.label.endswith(f", #{m.id})") for m in shared)
    assert app_engine.catalogue.movie(246).label == "Chasing Amy (1997, #246)"
    assert app_engine.catalogue.movie(1).label == "Toy Story (1995)"


def test_duplicated_titles_are_told_apart_in_profile_search_and_list(qtbot, open_window, app_engine):
    window = open_window(("user", 2))
    window.new_profile("Twins")
    for movie_id in (*CHASING_AMY, 1):
        window.add_movie(movie_id, 5)
    wait_fresh(qtbot, window)
    profile_rows = [window.panel.movie_list.item(row).text() for row in range(window.panel.movie_list.count())]
    assert sorted(profile_rows) == ["Chasing Amy (1997, #246)", "Chasing Amy (1997, #268)", "Toy Story (1995)"]

    window.panel.search_edit.setText("sliding doors")
    results = [window.panel.results.item(row).text() for row in range(window.panel.results.count())]
    assert results[:2] == ["Sliding Doors (1998, #1429)", "Sliding Doors (1998, #1680)"]

    model = RecommendationModel()
    model.set_recommendations([Recommendation(rank, app_engine.catalogue.movie(movie_id), 0.01 / rank, -rank)
                               for rank, movie_id in enumerate((1429, 1680, 1), start=1)])
    assert [model.data(model.index(row)) for row in range(3)] == [
        "1. Sliding Doors (1998, #1429)", "2. Sliding Doors (1998, #1680)", "3. Toy Story (1995)"]


def test_answers_name_a_duplicated_title_with_its_id(qtbot, open_window):
    window = open_window(("user", 1))
    with qtbot.waitSignal(window.conversation.answered, timeout=20_000):
        window.ask("tell me about Sliding Doors")
    assert "Sliding Doors (1998, #1429)" in window.chat.transcript_text()


def choose_file(monkeypatch, path, chosen_filter=""):
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *args, **kwargs: (str(path), chosen_filter)))


def test_export_says_beside_its_button_where_the_picture_went(qtbot, open_window, tmp_path, monkeypatch):
    window = open_window(("user", 1))
    panel = sankey(window)
    assert not panel.saved_label.isVisible()
    target = tmp_path / "pictures" / "why.png"
    target.parent.mkdir()
    choose_file(monkeypatch, target, "PNG image (*.png)")
    panel.export_button.click()
    assert target.stat().st_size > 0
    assert panel.saved_label.isVisible() and "Saved to why.png" in panel.saved_label.text()
    assert panel.saved_label.toolTip() == f"Saved to {target}"
    assert target.parent.as_uri() in panel.saved_label.text()  # the "open folder" link
    assert window.statusBar().currentMessage() == f"Saved to {target}."
    svg = tmp_path / "menu.svg"
    choose_file(monkeypatch, svg, "SVG image (*.svg)")
    window.tabs.export_dialog()  # Profile → Export explanation…
    assert svg.is_file() and "Saved to menu.svg" in panel.saved_label.text()


def test_save_as_wav_says_in_the_chat_where_the_answer_went(qtbot, open_window, tmp_path, monkeypatch):
    window = open_window(("user", 1))
    with qtbot.waitSignal(window.conversation.answered, timeout=20_000):
        window.ask("why this movie?")
    target = tmp_path / "answer.wav"
    choose_file(monkeypatch, target)
    window.save_answer_dialog()
    qtbot.waitUntil(lambda: f"Saved the answer as {target}" in window.chat.transcript_text(), timeout=20_000)
    assert target.stat().st_size > 44  # more than a WAV header
    assert window.statusBar().currentMessage().startswith(f"Saved the answer as {target} (")


def test_the_chat_shows_a_profiles_saved_conversation_after_a_restart(qtbot, open_window, app_engine):
    window = open_window(("user", 1))
    alice = window.new_profile("Alice")
    window.add_movie(50, 5)
    wait_fresh(qtbot, window)
    with qtbot.waitSignal(window.conversation.answered, timeout=20_000) as answered:
        window.ask("why this movie?")
    answer = answered.args[0].answer.text
    window.close()

    again = open_window()  # the last profile, Alice, with a fresh chat panel
    assert again.source == ("saved", alice)
    text = again.chat.transcript_text()
    assert "Alice · 2 earlier messages" in text
    assert text.index("Alice · 2 earlier messages") < text.index("why this movie?") < text.index(answer.splitlines()[0])


def test_switching_profiles_draws_a_divider_naming_each(qtbot, open_window):
    window = open_window(("user", 1))
    assert "User 1 (dataset user)" in window.chat.transcript_text()  # the profile at start
    bob = window.new_profile("Bob")
    window.open_user(2)
    window.open_saved(bob)
    text = window.chat.transcript_text()
    dividers = [line for line in text.splitlines() if line.startswith(("User ", "Bob"))]
    assert dividers == ["User 1 (dataset user)", "Bob", "User 2 (dataset user)", "Bob"]


def test_editing_a_dataset_user_keeps_the_conversation_going(qtbot, open_window):
    window = open_window(("user", 1))
    before = window.chat.transcript_text()
    window.add_movie(1000, 4)  # saved as "User 1 (edited)": the same conversation, no divider
    assert window.source[0] == "saved" and window.chat.transcript_text() == before


def chat_share(window) -> float:
    views, chat = window.chat_splitter.sizes()
    return chat / (views + chat)


def test_the_chat_gets_a_sensible_share_and_keeps_the_one_dragged_to(qtbot, open_window, settings):
    window = open_window(("user", 1))
    assert chat_share(window) == pytest.approx(0.38, abs=0.01)
    assert window.chat.height() >= 250  # at the window's default 1400 x 900
    window.resize(1000, 640)  # a small screen: the chat keeps its share, it is not squeezed
    qtbot.waitUntil(lambda: window.height() == 640, timeout=2_000)
    assert chat_share(window) == pytest.approx(0.38, abs=0.01)

    splitter = window.chat_splitter
    total = sum(splitter.sizes())
    splitter.moveSplitter(round(total * 0.5), 1)  # as the user's drag of the handle does
    dragged = chat_share(window)
    assert dragged > 0.45
    window.close()
    assert float(settings.value("window/chat_share")) == pytest.approx(dragged, abs=0.01)

    again = open_window(("user", 1))
    assert chat_share(again) == pytest.approx(dragged, abs=0.01)
    again.resize(1400, 900)  # a taller column: the same share of it
    qtbot.waitUntil(lambda: again.height() == 900, timeout=2_000)
    assert chat_share(again) == pytest.approx(dragged, abs=0.01)


def test_a_damaged_chat_share_setting_gives_the_default(qtbot, open_window, settings):
    settings.setValue("window/chat_share", "tall")
    assert chat_share(open_window(("user", 1))) == pytest.approx(0.38, abs=0.01)


def test_a_clicked_suggestion_of_a_duplicated_title_means_that_movie(qtbot, open_window):
    window = open_window(("user", 2))
    with qtbot.waitSignal(window.conversation.answered, timeout=20_000) as answered:
        window.chat.suggestionChosen.emit("Chasing Amy (1997, #268)")  # as a click on "did you mean" asks
    assert answered.args[0].answer.movie_id == 268
    assert "Chasing Amy (1997, #268)" in window.chat.transcript_text()
