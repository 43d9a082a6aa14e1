"""The check line under the Sankey, on its own: shown only under the explanation it checks, asked for
once per movie it lacks, and switched to 'back' while its what-if is drawn."""
from __future__ import annotations

import pytest

from assistant.views.sankey_panel import BACK_LINK, SHOW_LINK, SankeyPanel


@pytest.fixture
def panel(qtbot):
    panel = SankeyPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    return panel


@pytest.fixture
def user1(app_engine):
    profile = app_engine.user_profile(1)
    movie = app_engine.recommend(profile, 1)[0].movie.id
    check = app_engine.removal_check(profile, movie)
    return profile, movie, check, app_engine.explain(profile, movie), app_engine.explain(check.profile_after, movie)


def test_line_under_the_explanation_it_checks(panel, user1):
    _, _, check, explanation, after = user1
    panel.set_removal(check, after)
    panel.set_explanation(explanation)
    assert panel.removal_check is check
    assert f'href="{SHOW_LINK}"' in panel.check_line.text()
    assert panel.check_line.text().startswith(f"Without your top 3 reasons, {check.title} would stay #1")


def test_no_line_under_another_profiles_explanation_and_one_request(qtbot, panel, app_engine, user1):
    profile, movie, check, _, after = user1
    panel.set_removal(check, after)
    other = app_engine.explain(profile.without_movie(int(check.removed[0].key)), movie)  # a what-if's picture
    with qtbot.waitSignal(panel.checkWanted) as wanted:
        panel.set_explanation(other)
    assert wanted.args == [movie]
    assert panel.removal_check is None and panel.check_line.isHidden()
    with qtbot.assertNotEmitted(panel.checkWanted):  # asked once: a check that never comes is not asked again
        panel.set_explanation(app_engine.explain(profile.without_movie(int(check.removed[1].key)), movie))


def test_what_if_drawn_leads_back_and_clicks_emit(qtbot, panel, user1):
    _, _, check, explanation, after = user1
    panel.set_removal(check, after)
    panel.set_explanation(explanation)
    with qtbot.waitSignal(panel.removalWhatIf) as shown:
        panel.check_line.linkActivated.emit(SHOW_LINK)
    assert shown.args == [check, after]
    panel.set_explanation(after)  # what the window does with it
    assert f'href="{BACK_LINK}"' in panel.check_line.text() and panel.removal_check is check
    with qtbot.waitSignal(panel.removalBack):
        panel.check_line.linkActivated.emit(BACK_LINK)


def test_empty_state_hides_the_line(panel, user1):
    _, _, check, explanation, after = user1
    panel.set_removal(check, after)
    panel.set_explanation(explanation)
    panel.show_empty("Select a recommendation")
    assert panel.check_line.isHidden() and panel.removal_check is None
