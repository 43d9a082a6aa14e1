"""Hand-made influence explanations for the graph view's tests: a dataset user with many related
ratings on both sides, and an ad-hoc profile folded in from a few ratings."""
from __future__ import annotations

from engine.api import InfluenceExplanation, RatingInfluence

OWN_TITLES = [
    "Star Wars (1977)", "Alien (1979)", "Terminator 2: Judgment Day (1991)", "Toy Story (1995)",
    "Fargo (1996)", "Heat (1995)", "Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb (1963)",
    "Contact (1997)", "Scream (1996)", "Liar Liar (1997)", "Air Force One (1997)", "English Patient, The (1996)",
]
# Distinct magnitudes, both signs, one exact zero, in no particular order.
OWN_INFLUENCES = [0.131, -0.094, 0.072, -0.051, 0.043, 0.0, -0.027, 0.019, 0.011, -0.008, 0.0042, -0.0011]
OTHER_INFLUENCES = [0.061, 0.055, -0.048, 0.037, -0.033, 0.021, -0.017, 0.012, 0.009, -0.006, 0.003, 0.0017,
                    -0.0009, 0.0004]
ITEM, TITLE = 181, "Return of the Jedi (1983)"


def _sorted(ratings):
    return tuple(sorted(ratings, key=lambda r: -abs(r.influence)))


def dataset_user_explanation(user_id: int = 42) -> InfluenceExplanation:
    own = [RatingInfluence("own", user_id, 100 + i, title, float(1 + i % 5), value)
           for i, (title, value) in enumerate(zip(OWN_TITLES, OWN_INFLUENCES))]
    others = [RatingInfluence("other", 300 + i, ITEM, TITLE, float(1 + (i * 3) % 5), value)
              for i, value in enumerate(OTHER_INFLUENCES)]
    return InfluenceExplanation(ITEM, TITLE, "mf", 4.0375, _sorted(own + others), user_id=user_id, rank=3)


def adhoc_explanation() -> InfluenceExplanation:
    own = [RatingInfluence("own", None, 100 + i, title, stars, value) for i, (title, stars, value) in
           enumerate([("Alien (1979)", 5.0, 0.21), ("Fargo (1996)", 2.0, -0.14), ("Heat (1995)", 4.0, 0.05)])]
    others = [RatingInfluence("other", 300 + i, ITEM, TITLE, 4.0, value)
              for i, value in enumerate([0.02, -0.015, 0.004])]
    return InfluenceExplanation(ITEM, TITLE, "ncf", 3.712, _sorted(own + others), user_id=None, fold_in=True,
                                rank=12, note="A new profile: its user factors were folded in from its 3 ratings.")
