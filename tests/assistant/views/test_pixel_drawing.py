"""The pixel lens's drawing without a model: the colour map and its one scale, the blend, the layout
of whole upscaled pixels, and the decomposition bar, on explanations built by the fake explainer."""
from __future__ import annotations

import numpy as np
import pytest

from assistant.views.pixel_layout import decomposition_bar, pair_layout, Box
from assistant.views.pixel_overlay import ANCHORS, blend, diverging_colours, overlay, rgb32, shared_scale
from assistant.views.pixel_state import decomposition
from pixel_fakes import FakePixelExplainer


@pytest.fixture(scope="module")
def explainer():
    return FakePixelExplainer()


def test_one_scale_is_the_largest_magnitude_over_both_images():
    a = ((0.1, -0.2), (0.0, 0.05))
    b = ((0.3, 0.0), (-0.7, 0.2))
    assert shared_scale(a, b) == pytest.approx(0.7)
    assert shared_scale(((0.0,),), ((0.0,),)) == 0.0


def test_colour_map_is_signed_and_symmetric_on_the_scale():
    values = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    colours = diverging_colours(values, 2.0)
    assert tuple(colours[0]) == tuple(ANCHORS[0].astype(np.uint8))  # -scale: the blue end
    assert tuple(colours[2]) == tuple(ANCHORS[2].astype(np.uint8))  # 0: near white
    assert tuple(colours[4]) == tuple(ANCHORS[-1].astype(np.uint8))  # +scale: the red end
    assert colours[4][0] > colours[4][2] and colours[0][2] > colours[0][0]  # red is red, blue is blue
    # Equal magnitudes are equally far from white on either side (the map is symmetric in lightness order).
    assert colours[1][0] < colours[2][0] and colours[3][2] < colours[2][2]
    assert (diverging_colours(values, 0.0) == ANCHORS[2].astype(np.uint8)).all()  # an all-zero map is blank


def test_blend_runs_from_the_image_to_the_heatmap():
    image = np.array([[0, 255], [128, 64]], np.uint8)
    heat = np.full((2, 2, 3), (200, 10, 30), np.uint8)
    assert (blend(image, heat, 0.0) == np.repeat(image[..., None], 3, -1)).all()
    assert (blend(image, heat, 1.0) == heat).all()
    half = blend(image, heat, 0.5)
    assert tuple(half[0, 1]) == (228, 132, 142)  # (255 + 200) / 2, (255 + 10) / 2, (255 + 30) / 2, rounded half to even
    with pytest.raises(ValueError, match="does not fit"):
        overlay(image, ((0.0,),), 1.0, 0.5)


def test_rgb32_packs_as_qimage_expects():
    packed = rgb32(np.array([[[1, 2, 3]]], np.uint8))
    assert packed.dtype == np.uint32 and int(packed[0, 0]) == 0xFF010203


def test_layout_has_two_equal_squares_of_whole_pixels_and_finds_each_pixel():
    layout = pair_layout(820, 560, 16.0)
    query, candidate = layout.images["query"], layout.images["candidate"]
    assert query.w == query.h == candidate.w == candidate.h == layout.cell * 28
    assert layout.cell == int(layout.cell) and layout.cell >= 2
    assert query.right < candidate.x and candidate.right < layout.colour_bar.x
    assert layout.colour_bar.h == query.h
    for image, row, col in (("query", 0, 0), ("query", 27, 13), ("candidate", 5, 27), ("candidate", 27, 0)):
        box = layout.pixel_box(image, row, col)
        assert layout.pixel_at(box.x + box.w / 2, box.y + box.h / 2) == (image, row, col)
    assert layout.pixel_at(query.x - 1, query.y) is None
    assert layout.pixel_at(query.right + 1, query.y + 5) is None  # the gap between the images


def test_decomposition_adds_up_to_the_logit(explainer):
    for shopper in explainer.shoppers:
        x = explainer.explain_pair(shopper, 0, 4)
        terms = decomposition(x)
        assert [label for label, _ in terms] == ["offset", "query pixels", "candidate pixels", "kept back"]
        assert sum(v for _, v in terms) == pytest.approx(x.logit, abs=1e-9)
        assert sum(x.parts) + x.remainder == pytest.approx(x.logit, abs=1e-9)


def test_decomposition_bar_stacks_signs_apart_and_marks_the_sum():
    box = Box(10.0, 0.0, 300.0, 16.0)
    terms = (("offset", 3.0), ("query pixels", -1.0), ("candidate pixels", -0.5), ("kept back", 0.5))
    bar = decomposition_bar(terms, box)
    per_unit = 300.0 / 5.0  # the axis runs from -1.5 to +3.5
    assert bar.zero_x == pytest.approx(10.0 + 1.5 * per_unit)
    assert bar.total_x == pytest.approx(bar.zero_x + 2.0 * per_unit)  # the logit, 3 - 1 - 0.5 + 0.5
    lengths = {s.label: (s.x1 - s.x0) / per_unit for s in bar.segments}
    assert lengths == pytest.approx({label: value for label, value in terms})
    offset, query, candidate, kept = bar.segments
    assert offset.x0 == pytest.approx(bar.zero_x) and kept.x0 == pytest.approx(offset.x1)  # positives stack rightwards
    assert query.x0 == pytest.approx(bar.zero_x) and candidate.x0 == pytest.approx(query.x1)  # negatives leftwards
    assert min(s.x1 for s in bar.segments) == pytest.approx(box.x) and max(s.x1 for s in bar.segments) == pytest.approx(box.right)


def test_a_wide_low_drawing_puts_the_numbers_beside_larger_images():
    line = 16.0
    stacked = pair_layout(760, 900, line)
    wide = pair_layout(760, 330, line)
    assert stacked.bar.y > stacked.images["query"].bottom  # room below: the bar under the images
    assert wide.bar.x > wide.colour_bar.right and wide.view_caption.y == wide.images["query"].y  # low: beside
    # Under the images, caption, bar and numbers would leave them this much height:
    room_under = 330 - (12 + 1.3 * line + 6 + 2 * line + 4) - (2 * line + 8 + 16 + 6 + 3 * line + 12)
    assert wide.images["query"].h > room_under and wide.images["query"].bottom <= 330
    for layout in (stacked, wide):
        assert layout.bar.right <= layout.width and layout.bar_labels.right <= layout.width + 1e-9
        assert layout.images["candidate"].right < layout.colour_bar.x
