"""Stars drawn from the cached strip image look as the stars drawn directly (within antialiasing
rounding), wherever the strip sits on whole pixels; off the pixel grid they are drawn directly; and
the delegate's remembered row size equals the one it measures."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter

from assistant import star_rating
from assistant.star_rating import OUTLINE, SELECTED_OUTLINE, STRIP_WIDTH, _draw_stars, paint_stars


def _render(draw, background: QColor, strip: QRectF) -> QImage:
    image = QImage(STRIP_WIDTH + 40, 60, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(background)
    painter = QPainter(image)
    painter.translate(7, 3)  # as a list row's painter is translated
    draw(painter, strip)
    painter.end()
    return image


def _max_difference(a: QImage, b: QImage) -> int:
    worst = 0
    for y in range(a.height()):
        for x in range(a.width()):
            pa, pb = a.pixelColor(x, y), b.pixelColor(x, y)
            worst = max(worst, abs(pa.red() - pb.red()), abs(pa.green() - pb.green()),
                        abs(pa.blue() - pb.blue()), abs(pa.alpha() - pb.alpha()))
    return worst


@pytest.mark.parametrize("stars, preview, outline, background", [
    (None, None, OUTLINE, QColor("white")), (3, None, OUTLINE, QColor("white")),
    (5, None, SELECTED_OUTLINE, QColor("#3060c0")), (2, 4, OUTLINE, QColor("#f0f0f0")),
])
def test_cached_strips_look_as_drawn_ones(qapp, stars, preview, outline, background):
    for strip in (QRectF(10, 20, STRIP_WIDTH, 21), QRectF(3, 0, STRIP_WIDTH, 24)):
        star_rating._STRIP_IMAGES.clear()
        cached = _render(lambda p, s: paint_stars(p, s, stars, preview, outline), background, strip)
        again = _render(lambda p, s: paint_stars(p, s, stars, preview, outline), background, strip)
        direct = _render(lambda p, s: _draw_stars(p, s, stars, preview, outline), background, strip)
        assert len(star_rating._STRIP_IMAGES) == 1 and cached == again  # drawn from the image
        assert _max_difference(cached, direct) <= 2
        assert _max_difference(cached, _render(lambda p, s: None, background, strip)) > 50  # stars are there


def test_a_strip_off_the_pixel_grid_is_drawn_directly(qapp):
    strip = QRectF(10.5, 20.25, STRIP_WIDTH, 21)
    drawn = _render(lambda p, s: paint_stars(p, s, 4), QColor("white"), strip)
    direct = _render(lambda p, s: _draw_stars(p, s, 4, None, OUTLINE), QColor("white"), strip)
    assert drawn == direct


def test_the_remembered_row_size_is_the_measured_one(qtbot, app_engine):
    from PySide6.QtWidgets import QStyleOptionViewItem
    from assistant.profile_panel import ProfilePanel

    catalogue = app_engine.catalogue
    panel = ProfilePanel(catalogue.movies, list(catalogue.occupations))
    qtbot.addWidget(panel)
    panel.show_profile("User 1", catalogue.user_profile(1))
    delegate, view = panel.star_delegate, panel.movie_list
    for row in range(5):
        index = view.model().index(row, 0)
        option = QStyleOptionViewItem()
        option.initFrom(view)
        option.widget = view
        first = delegate.sizeHint(option, index)
        delegate._sizes.clear()
        assert delegate.sizeHint(option, index) == first
        assert delegate.sizeHint(option, index) == first
