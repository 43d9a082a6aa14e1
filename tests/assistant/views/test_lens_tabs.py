"""The tab container: one tab per lens from the engine's availability, each explanation routed to
the view registered for its lens, unavailable lenses saying why."""
from __future__ import annotations

import pytest

from assistant.views.lens_panel import LensPanel
from assistant.views.lens_views import LENS_PLANS, LENS_VIEWS, NO_VIEW, LensTabs, UnavailablePage, view_class
from assistant.views.sankey_panel import SankeyPanel
from engine.api import LENS_TITLES, Lens, RelevanceExplanation
from lens_fakes import FAKE_LENS, FakeExplanation, FakePanel, fake_lens  # noqa: F401 (a fixture)

NOT_BUILT = "The pixel lens (image heatmaps of a match) is not available yet."


def availability(**reasons) -> dict[Lens, str | None]:
    return {lens: reasons.get(lens.name) for lens in Lens}


@pytest.fixture
def make_tabs(qtbot):
    def make(lenses):
        tabs = LensTabs(lenses)
        qtbot.addWidget(tabs)
        tabs.resize(800, 500)
        tabs.show()
        qtbot.waitExposed(tabs)
        return tabs

    return make


def test_every_lens_has_a_registered_view_class_or_a_plan():
    assert view_class(Lens.RELEVANCE) is SankeyPanel and SankeyPanel.lens is Lens.RELEVANCE
    for lens, target in LENS_VIEWS.items():
        assert view_class(lens).lens is lens, target
    assert set(LENS_PLANS) == set(Lens)


def test_one_tab_per_lens_with_views_where_available(make_tabs, fake_lens):
    tabs = make_tabs(availability(INFLUENCE="The influence lens needs ratings.", PIXELS=NOT_BUILT))
    assert [tabs.tabText(i) for i in range(tabs.count())] == [LENS_TITLES[lens] for lens in Lens]
    assert tabs.lenses() == list(Lens)
    assert isinstance(tabs.panel(Lens.RELEVANCE), SankeyPanel)
    assert isinstance(tabs.panel(FAKE_LENS), FakePanel)
    assert [lens for lens in Lens if tabs.draws(lens)] == [Lens.RELEVANCE, FAKE_LENS]
    for lens in (Lens.INFLUENCE, Lens.PIXELS):
        page = tabs.panel(lens)
        assert isinstance(page, UnavailablePage) and page.state == "unavailable" and page.lens is lens
        assert page.detail.text() == LENS_PLANS[lens]
        assert tabs.tabToolTip(tabs.indexOf(page)) == page.message.text()
    said = "This lens is not available because the influence lens needs ratings."
    assert tabs.panel(Lens.INFLUENCE).message.text() == said
    assert tabs.panel(Lens.PIXELS).message.text() == NOT_BUILT


def test_an_available_lens_without_a_view_says_so(make_tabs, monkeypatch):
    monkeypatch.delitem(LENS_VIEWS, FAKE_LENS, raising=False)
    tabs = make_tabs(availability())
    page = tabs.panel(FAKE_LENS)
    assert isinstance(page, UnavailablePage) and not tabs.draws(FAKE_LENS)
    assert page.message.text() == "This lens is not available because " + NO_VIEW


def test_explanations_go_to_the_view_of_their_lens(make_tabs, fake_lens):
    tabs = make_tabs(availability(PIXELS=NOT_BUILT))
    fake = FakeExplanation(50, "Star Wars (1977)", (1.0, 2.0))
    relevance = RelevanceExplanation(100, "Fargo (1996)", 0.5, 2.0, 0.5, 0.0,
                                     ("movie",), ("1",), ("Alien (1979)",), (1.5,))
    assert tabs.show_explanation(fake)
    assert tabs.panel(FAKE_LENS).explanation is fake and tabs.panel(FAKE_LENS).drawn == [fake]
    assert tabs.panel(Lens.RELEVANCE).explanation is None  # not drawn into another lens's view
    assert tabs.show_explanation(relevance)
    assert tabs.panel(Lens.RELEVANCE).explanation is relevance
    assert tabs.panel(Lens.RELEVANCE).view.explanation is relevance
    assert tabs.panel(FAKE_LENS).explanation is fake
    assert not tabs.show_explanation(None, Lens.PIXELS)  # no view there
    assert tabs.show_explanation(None, FAKE_LENS) and tabs.panel(FAKE_LENS).state == "empty"


def test_switching_lenses_and_forwarding_signals(qtbot, make_tabs, fake_lens):
    tabs = make_tabs(availability(PIXELS=NOT_BUILT))
    assert tabs.current_lens() is Lens.RELEVANCE and isinstance(tabs.current_panel(), LensPanel)
    with qtbot.waitSignal(tabs.lensChanged, timeout=2000) as changed:
        tabs.show_lens(FAKE_LENS)
    assert changed.args == [FAKE_LENS] and tabs.current_lens() is FAKE_LENS
    with qtbot.waitSignal(tabs.movieClicked, timeout=2000) as clicked:
        tabs.panel(FAKE_LENS).movieClicked.emit(7)
    assert clicked.args == [7]
    tabs.panel(FAKE_LENS).show_busy("Preparing…", 10)
    with qtbot.waitSignal(tabs.cancelRequested, timeout=2000) as cancelled:
        tabs.panel(FAKE_LENS).cancel_button.click()
    assert cancelled.args == [FAKE_LENS]
    with qtbot.waitSignal(tabs.statusMessage, timeout=2000) as said:
        tabs.export_dialog()  # nothing drawn in front
    assert "nothing to export" in said.args[0]


def test_a_view_is_built_when_its_tab_is_first_shown(qtbot, make_tabs, fake_lens, monkeypatch):
    from assistant.views.lens_views import PendingPage

    monkeypatch.setattr(FakePanel, "set_profile", lambda self, profile: setattr(self, "profile", profile),
                        raising=False)  # a view of the profile itself, as the expert timeline

    built = []
    tabs = make_tabs(availability(PIXELS=NOT_BUILT))
    tabs.panelBuilt.connect(lambda lens, panel: built.append(lens))
    assert isinstance(tabs.built(Lens.RELEVANCE), SankeyPanel)  # the tab in front: built at once
    assert tabs.built(FAKE_LENS) is None and isinstance(tabs.widget(tabs.lenses().index(FAKE_LENS)), PendingPage)
    assert tabs.draws(FAKE_LENS)
    tabs.set_profile("a profile")
    with qtbot.waitSignal(tabs.lensChanged, timeout=2000) as changed:
        tabs.setCurrentIndex(tabs.lenses().index(FAKE_LENS))  # as a click on the tab
    panel = tabs.built(FAKE_LENS)
    assert isinstance(panel, FakePanel) and tabs.currentWidget() is panel and changed.args == [FAKE_LENS]
    assert built == [FAKE_LENS] and tabs.count() == len(Lens)
    assert panel.profile == "a profile"  # given before it was built
    assert tabs.tabText(tabs.indexOf(panel)) == LENS_TITLES[FAKE_LENS]
    with qtbot.waitSignal(tabs.movieClicked, timeout=2000):
        panel.movieClicked.emit(3)


def test_an_explanation_for_an_unbuilt_view_builds_it(make_tabs, fake_lens):
    tabs = make_tabs(availability(PIXELS=NOT_BUILT))
    assert tabs.built(FAKE_LENS) is None
    fake = FakeExplanation(50, "Star Wars (1977)", (1.0, 2.0))
    assert tabs.show_explanation(fake)
    assert tabs.built(FAKE_LENS).drawn == [fake] and tabs.current_lens() is Lens.RELEVANCE


def test_views_built_later_are_followed(make_tabs, fake_lens):
    tabs = make_tabs(availability(PIXELS=NOT_BUILT))
    seen = []
    tabs.for_each_panel(lambda lens, panel: seen.append(lens))
    assert set(seen) == {Lens.RELEVANCE, Lens.PIXELS}  # built now: the tab in front and the unavailable page
    tabs.show_lens(FAKE_LENS)
    assert seen[-1] is FAKE_LENS and len(seen) == 3
