"""The tab container and the pixel lens's view: the engine reaches a view that asks for it, the tab is
titled as the catalogue demo, and an answer about a view whose subjects are not movies goes to it."""
from __future__ import annotations

from assistant.conversation.intents import Answer, Intent, Question
from assistant.views.lens_views import LENS_PLANS, LensTabs
from assistant.views.pixel_panel import PixelPanel
from engine.api import LENS_TITLES, Lens
from pixel_fakes import FakePixelEngine


def make(qtbot, engine=None):
    tabs = LensTabs({lens: None if lens in (Lens.RELEVANCE, Lens.PIXELS) else "not here" for lens in Lens},
                    engine=engine)
    qtbot.addWidget(tabs)
    tabs.resize(900, 700)
    tabs.show()
    qtbot.waitExposed(tabs)
    return tabs


def test_the_pixel_tab_is_the_catalogue_demo_and_gets_the_engine(qtbot):
    engine = FakePixelEngine()
    tabs = make(qtbot, engine)
    panel = tabs.panel(Lens.PIXELS)
    try:
        assert isinstance(panel, PixelPanel) and tabs.draws(Lens.PIXELS)
        assert tabs.tabText(tabs.indexOf(panel)) == "Pixel relevance (catalogue demo)"
        assert tabs.tabText(tabs.indexOf(tabs.panel(Lens.RELEVANCE))) == LENS_TITLES[Lens.RELEVANCE]
        assert panel._engine is engine  # the engine reached it
        assert not panel.serving()  # prepared only once the window says so (from its live worker)
        tabs.set_prepared(Lens.PIXELS)
        assert panel.serving()
        assert "product catalogue demo" in LENS_PLANS[Lens.PIXELS] and "poster" not in LENS_PLANS[Lens.PIXELS]
    finally:
        panel.stop_worker()


def test_without_an_engine_the_pixel_tab_waits(qtbot):
    tabs = make(qtbot)
    panel = tabs.panel(Lens.PIXELS)
    panel.show_empty("Select a recommendation")
    assert not panel.serving() and panel.state == "empty"


def test_an_answer_about_the_pixel_tab_goes_to_it_and_others_do_not(qtbot):
    engine = FakePixelEngine()
    tabs = make(qtbot, engine)
    panel = tabs.panel(Lens.PIXELS)
    try:
        x = engine.pixel_explainer.explain_pair("brand", 1, 2)
        answer = Answer(Question("why are these related", Intent.WHY_RELATED), "t", "s", lens="pixels", explanation=x)
        assert tabs.current_lens() is Lens.RELEVANCE
        assert tabs.take_answer(answer)
        assert tabs.current_lens() is Lens.PIXELS
        qtbot.waitUntil(lambda: panel.view.explanation is x, timeout=10_000)
        assert panel.view.view == "shared"
        movie_answer = Answer(Question("why?", Intent.WHY), "t", "s", movie_id=1, lens="relevance")
        assert not tabs.take_answer(movie_answer)  # the window selects its movie as before
        assert not tabs.take_answer(Answer(Question("help", Intent.HELP), "t", "s"))
    finally:
        panel.stop_worker()
