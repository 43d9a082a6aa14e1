"""One colour per expert, the same in every view of the expert lens (the static shares of a
recommendation, the sitting timeline's aggregated rows and its detailed rows, the conversation's
chat table): Okabe and Ito's colour-blind-safe palette, keyed by what the expert reads, not by its
number, because the static model's S2 and the session model's S2 are different experts.

Qt-free: colours are "#rrggbb" strings; the views turn them into QColor.
"""
from __future__ import annotations

# Okabe-Ito, with its black lightened to a grey so that text and hatching on it stay readable.
VERMILLION, ORANGE, SKY_BLUE, BLUISH_GREEN = "#D55E00", "#E69F00", "#56B4E9", "#009E73"
YELLOW, BLUE, REDDISH_PURPLE, GREY = "#F0E442", "#0072B2", "#CC79A7", "#7A7A7A"

# Expert keys (engine: the static model's STATIC_EXPERTS, the session model's SUBSETS) -> colour.
# Experts that read the same kind of evidence share a colour across the two models: the movie's
# content is orange, what other viewers thought is sky blue, "you" (your profile) is green and
# "everything together" is grey.
EXPERT_COLOURS: dict[str, str] = {
    "content": ORANGE,  # the movie's genres and year (static S1, session S2)
    "crowd": SKY_BLUE,  # what other viewers thought (session S3)
    "content+item": SKY_BLUE,  # what other viewers' choices say about the movie (static S3)
    "content+user": BLUISH_GREEN,  # your profile with the genres (static S2, session S4)
    "persistence": VERMILLION,  # your ratings earlier in this sitting (session S1)
    "session_taste": REDDISH_PURPLE,  # genres you liked this sitting (session S5)
    "session_vs_crowd": YELLOW,  # your mood against the crowd (session S6)
    "all_but_sitting": BLUE,  # everything except this sitting (session S7)
    "all": GREY,  # everything together (static S4, session S8)
}
FALLBACK = GREY


def expert_colour(key: str) -> str:
    """The colour of the expert with this key (an unknown key gets the neutral grey)."""
    return EXPERT_COLOURS.get(key, FALLBACK)


def aggregate_colour(aggregate, experts) -> str:
    """An aggregated row takes the colour of its first expert, so the aggregated and detailed views of
    one timeline agree ("the film itself" is orange like the genres expert it starts with)."""
    keys = {e.id: e.key for e in experts}
    first = aggregate.experts[0] if aggregate.experts else ""
    return EXPERT_COLOURS.get(aggregate.key) or expert_colour(keys.get(first, ""))


def text_colour_on(fill: str) -> str:
    """Black or white, whichever reads better on `fill` (relative luminance, WCAG)."""
    r, g, b = (int(fill[i:i + 2], 16) / 255 for i in (1, 3, 5))
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    luminance = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return "#000000" if luminance > 0.22 else "#FFFFFF"
