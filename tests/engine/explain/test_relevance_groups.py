"""The grouped relevance view: movies grouped by genre, each counted once, sums exact (issue 13.2)."""
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.api import Engine
from engine.explain.relevance import RelevanceExplanation
from engine.explain.relevance_groups import (
    EXPANDED_MEMBERS, GROUP_KIND, NO_GENRE, GroupedRelevanceExplanation, genre_of_each, group_by_genre, group_members,
)

GENRES = {
    "1": ("Action", "Sci-Fi"), "2": ("Comedy",), "3": ("Drama",), "4": ("Action", "Drama"),
    "5": ("Drama", "Romance"), "6": (), "7": ("Comedy", "Romance"),
}


def explanation(features, genres=GENRES):
    features = sorted(features, key=lambda f: -f[3])
    return RelevanceExplanation(
        item_id=99, title="Target (1999)", probability=0.01, logit=2.0, bias_share=0.5, absorbed=0.0,
        kinds=tuple(f[0] for f in features), keys=tuple(f[1] for f in features),
        names=tuple(f[2] for f in features), relevances=tuple(f[3] for f in features),
        rank=4, relative_score=0.5, movie_genres=genres,
    )


SMALL = explanation([
    ("movie", "1", "One (1990)", 0.30), ("movie", "2", "Two (1991)", 0.05), ("movie", "3", "Three (1992)", 0.20),
    ("movie", "4", "Four (1993)", 0.10), ("movie", "5", "Five (1994)", -0.04), ("movie", "6", "Six (1995)", 0.02),
    ("movie", "7", "Seven (1996)", 0.01), ("age", "25-34", "aged 25-34", 0.08), ("gender", "F", "female", -0.03),
])


def test_each_movie_joins_its_genre_most_common_in_the_profile():
    chosen = genre_of_each(["1", "3", "4", "5", "6"], GENRES)
    # Drama: 3 of these movies; Action: 2. "4" (Action, Drama) joins Drama; "1" keeps Action.
    assert chosen == {"1": "Action", "3": "Drama", "4": "Drama", "5": "Drama", "6": NO_GENRE}


def test_groups_sum_exactly_to_the_ungrouped_relevance_and_count_each_movie_once():
    grouped = group_by_genre(SMALL)

    assert isinstance(grouped, GroupedRelevanceExplanation)
    members = [m.key for g in grouped.groups for m in g.members]
    assert sorted(members) == ["1", "2", "3", "4", "5", "6", "7"]  # each movie once
    for group in grouped.groups:
        assert group.relevance == math.fsum(m.relevance for m in group.members)
    assert math.fsum(grouped.relevances) == pytest.approx(math.fsum(SMALL.relevances), abs=1e-15)
    assert [f.kind for f in grouped.features].count("movie") == 0
    assert {f.name for f in grouped.features if f.kind != GROUP_KIND} == {"aged 25-34", "female"}
    assert list(grouped.relevances) == sorted(grouped.relevances, reverse=True)
    for name in ("item_id", "title", "logit", "probability", "bias_share", "rank", "relative_score"):
        assert getattr(grouped, name) == getattr(SMALL, name)


def test_an_expanded_group_shows_its_members_together_where_the_group_stood():
    many = explanation([("movie", str(10 + i), f"Drama {i} (1990)", 0.1 - 0.001 * i) for i in range(9)]
                       + [("movie", "2", "Two (1991)", 0.5)],
                       genres={**{str(10 + i): ("Drama",) for i in range(9)}, "2": ("Comedy",)})
    grouped = group_by_genre(many, expanded={"Drama"})

    names = list(grouped.names)  # Drama (0.864) before Comedy (0.5): the expanded block first
    assert names[:EXPANDED_MEMBERS] == [f"Drama {i} (1990)" for i in range(EXPANDED_MEMBERS)]
    assert names[EXPANDED_MEMBERS:] == ["other Drama movies (4)", "Comedy (1 movie)"]
    rest = grouped.features[EXPANDED_MEMBERS]
    assert [m.name for m in group_members(grouped, rest)] == [f"Drama {i} (1990)" for i in range(5, 9)]
    assert math.fsum(grouped.relevances) == pytest.approx(math.fsum(many.relevances), abs=1e-15)
    collapsed = group_by_genre(grouped, expanded=set())
    assert collapsed.names == ("Drama (9 movies)", "Comedy (1 movie)")


def test_no_movies_means_nothing_to_group():
    attributes = explanation([("age", "25-34", "aged 25-34", 0.08)])
    assert group_by_genre(attributes) is attributes


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(sorted(GENRES)), st.floats(-1, 1, allow_nan=False)), min_size=1,
                max_size=7, unique_by=lambda t: t[0]))
def test_conservation_on_random_explanations(features):
    x = explanation([("movie", key, f"Movie {key}", value) for key, value in features])
    grouped = group_by_genre(x)
    assert math.fsum(g.relevance for g in grouped.groups) == pytest.approx(math.fsum(x.relevances), abs=1e-12)
    assert sum(len(g.members) for g in grouped.groups) == len(features)


def test_user_1_groups_are_few_and_big_and_sum_to_the_explanation(ml100k_engine: Engine):
    profile = ml100k_engine.user_profile(1)
    top = ml100k_engine.recommend(profile, 1, explain=True)[0].explanation

    grouped = group_by_genre(top)

    assert len(grouped.groups) <= 18
    assert math.fsum(grouped.relevances) == pytest.approx(top.total_relevance, rel=1e-12)
    biggest = max(grouped.groups, key=lambda g: g.relevance)
    assert biggest.relevance / sum(r for r in top.relevances if r > 0) > 0.2  # one band that means something
    assert grouped.to_dict()["groups"]
