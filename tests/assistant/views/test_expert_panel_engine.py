"""The Expert attribution tab on the real expert explainer (the CI-sized models of
tests/engine/expert_model_fixture.py on MovieLens 100k): what the tab draws (static shares, each
guess's shares, like-probability and right/wrong) equals the engine's explanation, for a dataset
user's sittings (picker included) and for an ad-hoc profile; it follows profile changes."""
from __future__ import annotations

import pytest

from assistant.views.expert_panel import ExpertPanel
from assistant.views.timeline_layout import CHECK, CROSS, percent
from engine.api import Lens
from tests.assistant.expert_lens import serve_ci_experts


@pytest.fixture
def explainer(app_engine, monkeypatch):
    return serve_ci_experts(app_engine, monkeypatch)


@pytest.fixture
def panel(qtbot, app_engine, explainer):
    made = ExpertPanel()
    qtbot.addWidget(made)
    made.attach_engine(app_engine)
    made.set_prepared(True)  # what the window does once its live worker finds the lens prepared
    made.resize(1100, 760)
    made.show()
    qtbot.waitExposed(made)
    yield made
    made.stop_worker()


def shown_timeline(qtbot, panel, profile):
    qtbot.waitUntil(lambda: panel.view.timeline is not None and panel.view.timeline_profile == profile, timeout=60_000)
    return panel.view.timeline


def assert_drawn_equals(panel, timeline, shares):
    """The layout on screen carries exactly the explanation's numbers."""
    drawn = panel.view.current_layout()
    bar = {s.row: s.share for s in drawn.share_segments}
    assert bar == {v.id: v.share for v in shares.votes}
    assert drawn.headings[0].full_text.endswith(f"{round(100 * shares.probability)}% likely to be picked")
    assert [c.step for c in drawn.columns] == list(timeline.steps)
    for column in drawn.columns:
        step = column.step
        texts = [t.text for t in column.texts]
        if step.side == "given":
            assert not column.segments
            continue
        assert {s.row: s.share for s in column.segments} == dict(step.aggregate_shares)
        assert percent(step.probability) in texts
        glyph = {True: CHECK, False: CROSS, None: "?"}[step.correct]
        assert any(t.startswith(glyph) for t in texts)
        assert column.probability_fill.h / column.probability_bar.h == pytest.approx(step.probability)
        assert (column.undecided_box is not None) == step.undecided
    panel.detail_box.setChecked(True)
    detailed = panel.view.current_layout()
    for column in detailed.columns:
        assert {s.row: s.share for s in column.segments} == {v.id: v.share for v in column.step.votes} \
            if column.step.side == "predicted" else not column.segments
    panel.detail_box.setChecked(False)


def test_dataset_user_timeline_and_shares_equal_the_engines(qtbot, panel, app_engine, explainer):
    profile = app_engine.user_profile(1)
    movie = app_engine.recommend(profile, 1)[0].movie.id
    shares = app_engine.explain(profile, movie, Lens.EXPERTS)
    panel.set_profile(profile)
    panel.set_explanation(shares)
    timeline = shown_timeline(qtbot, panel, profile)
    assert timeline == explainer.timeline(profile)  # the latest sitting, as the engine explains it
    assert timeline.user_id == 1
    assert_drawn_equals(panel, timeline, shares)

    # the picker lists every (sitting, window) and steps back to the previous one
    sittings = explainer.sittings(profile)
    assert panel.sitting_box.count() == sum(s.windows for s in sittings)
    index = panel.sitting_box.currentIndex()
    assert panel.sitting_box.itemText(index).startswith(f"Sitting {timeline.sitting}")
    hits = sum(bool(s.correct) for s in timeline.predicted)
    assert panel.sitting_box.itemText(index).endswith(f" · {hits} of {len(timeline.predicted)} right")
    panel.previous_button.click()
    sitting, window = panel._entries[index - 1]
    qtbot.waitUntil(lambda: panel.view.timeline is not timeline and panel.view.timeline is not None, timeout=60_000)
    assert panel.view.timeline == explainer.timeline(profile, sitting, window)
    assert_drawn_equals(panel, panel.view.timeline, shares)


def test_adhoc_profile_timeline_follows_the_profile(qtbot, panel, app_engine, explainer):
    movies = [m.id for m in app_engine.catalogue.movies[:7]]
    profile = app_engine.make_profile(movies, gender="F", age=30, ratings=[5, 2, 4, 1, 5, 3, 4])
    shares = app_engine.explain(profile, app_engine.recommend(profile, 1)[0].movie.id, Lens.EXPERTS)
    panel.set_profile(profile)
    panel.set_explanation(shares)
    timeline = shown_timeline(qtbot, panel, profile)
    assert timeline == explainer.timeline(profile) and timeline.user_id is None
    assert [s.item_id for s in timeline.steps] == movies  # the order the movies were added
    assert_drawn_equals(panel, timeline, shares)
    hits = sum(bool(s.correct) for s in timeline.predicted)
    assert panel.sitting_box.itemText(0) == f"Your ratings in the order added (7) · {hits} of {len(timeline.predicted)} right"

    edited = profile.with_movie(app_engine.catalogue.movies[10].id, 2)
    panel.set_profile(edited)
    after = shown_timeline(qtbot, panel, edited)
    assert after == explainer.timeline(edited) and len(after.steps) == 8

    too_few = app_engine.make_profile(movies[:1], ratings=[4])
    panel.set_profile(too_few)
    qtbot.waitUntil(lambda: "fewer than two rated movies" in panel.view.message(), timeout=60_000)
    assert panel.view.timeline is None and panel.view.shares is shares  # the static shares stay drawn


def test_export_writes_png_and_svg(qtbot, panel, app_engine, explainer, tmp_path):
    profile = app_engine.user_profile(2)
    shares = app_engine.explain(profile, app_engine.recommend(profile, 1)[0].movie.id, Lens.EXPERTS)
    panel.set_profile(profile)
    panel.set_explanation(shares)
    shown_timeline(qtbot, panel, profile)
    for suffix in ("png", "svg"):
        written = panel.export(tmp_path / f"timeline.{suffix}")
        assert written.stat().st_size > 1000
    assert "Sitting of" in (tmp_path / "timeline.svg").read_text()
