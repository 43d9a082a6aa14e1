"""Constructed expert-lens explanations for the drawing tests: a sitting timeline with the engine's
8 experts and 5 aggregates (shares that sum to 1, an undecided guess, a change of decider) and a
recommendation's static shares. Numbers are made up but keep the objects' invariants."""
from __future__ import annotations

import random

from engine.data.session_features import AGGREGATES, SUBSETS
from engine.explain.expert_explanation import (
    ExpertAggregate, ExpertInfo, ExpertShares, ExpertTimeline, ExpertVote, TimelineStep,
)
from engine.models.static_serving import STATIC_EXPERTS

SESSION_EXPERTS = tuple(ExpertInfo(s.id, s.key, s.label, tuple(s.groups)) for s in SUBSETS)
SESSION_AGGREGATES = tuple(ExpertAggregate(k, label, tuple(ids)) for k, label, ids in AGGREGATES)
STATIC = tuple(ExpertInfo(i, k, label, tuple(g)) for i, k, label, g in STATIC_EXPERTS)
TITLES = ["Star Wars (1977)", "Return of the Jedi (1983)", "Fargo (1996)", "Heat (1995)",
          "Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb (1963)", "Alien (1979)",
          "Casablanca (1942)", "Toy Story (1995)", "Scream (1996)", "Titanic (1997)", "Vertigo (1958)",
          "Psycho (1960)", "Contact (1997)", "Air Force One (1997)", "Liar Liar (1997)", "English Patient, The (1996)",
          "Trainspotting (1996)", "Godfather, The (1972)", "Raiders of the Lost Ark (1981)", "Aliens (1986)"]


def _votes(rng: random.Random, experts, undecided: bool = False, favourite: int | None = None) -> tuple[ExpertVote, ...]:
    raw = [rng.random() ** 3 for _ in experts]
    if favourite is not None:
        raw[favourite] += 2.0
    if undecided:
        raw = [1.0] * len(experts)
    total = sum(raw)
    shares = [r / total for r in raw]
    shares[-1] = 1.0 - sum(shares[:-1])
    alpha_scale = 0.001 if undecided else 1.0
    return tuple(ExpertVote(e.id, rng.random(), rng.random(), alpha_scale * raw[i] / total, shares[i])
                 for i, e in enumerate(experts))


def make_timeline(length: int = 12, seed: int = 0, user_id: int | None = 7, undecided_at: int | None = None) -> ExpertTimeline:
    rng = random.Random(seed)
    given = length // 2
    steps = []
    for position in range(length):
        title = TITLES[position % len(TITLES)]
        rating = rng.randint(1, 5)
        if position < given:
            steps.append(TimelineStep(position + 1, "given", 100 + position, title, rating, rating >= 4))
            continue
        undecided = position == undecided_at
        favourite = 0 if position < given + 2 else 2  # persistence first, then the film: a change
        votes = _votes(rng, SESSION_EXPERTS, undecided, favourite)
        share = {v.id: v.share for v in votes}
        probability = sum(v.share * v.prediction for v in votes)
        steps.append(TimelineStep(
            position + 1, "predicted", 100 + position, title, rating, rating >= 4, probability=probability,
            alpha_total=sum(v.alpha for v in votes), undecided=undecided, votes=votes,
            aggregate_shares=tuple((a.key, sum(share[i] for i in a.experts)) for a in SESSION_AGGREGATES)))
    return ExpertTimeline(SESSION_EXPERTS, SESSION_AGGREGATES, tuple(steps), sitting=2, sittings=4, user_id=user_id,
                          start="1997-10-05T14:02:11Z" if user_id else "", end="1997-10-05T14:31:40Z" if user_id else "",
                          note="This user was held out of the session model's training." if user_id else "")


def make_shares(seed: int = 1, undecided: bool = False, title: str = "Heat (1995)") -> ExpertShares:
    rng = random.Random(seed)
    votes = _votes(rng, STATIC, undecided, favourite=None if undecided else 1)
    return ExpertShares(item_id=42, title=title, probability=sum(v.share * v.prediction for v in votes), experts=STATIC,
                        votes=votes, alpha_total=sum(v.alpha for v in votes), undecided=undecided, user_id=7, rank=3,
                        user_group="built from the profile's 12 rated movies (no retraining)")
