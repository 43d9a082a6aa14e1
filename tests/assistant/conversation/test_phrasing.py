"""How reasons are worded: the lead follows how much of the evidence the named features carry."""
from __future__ import annotations

import pytest

from assistant.conversation.intents import Share
from assistant.conversation.phrasings.relevance import reasons_sentence


def reasons(*shares: float) -> tuple[Share, ...]:
    named = [Share("movie", f"Movie {i}", s, s, "") for i, s in enumerate(shares)]
    return (*named, Share("age", "aged 25-34", 0.01, 0.01, "25-34"))


@pytest.mark.parametrize("shares, lead", [
    ((0.34, 0.21), "mostly because you watched Movie 0 (34%) and Movie 1 (21%); being 25-34 (1%) also counts"),
    ((0.2, 0.1), "above all because you watched Movie 0 (20%) and Movie 1 (10%); being 25-34 (1%) also counts"),
    ((0.02, 0.02), "because of many movies together, the largest parts being that you watched Movie 0 (2%) and "
                   "Movie 1 (2%), and being 25-34 (1%)"),
])
def test_the_lead_matches_the_named_share(shares, lead):
    assert reasons_sentence(reasons(*shares), {}, spoken=False) == lead


def test_spoken_reasons_leave_the_numbers_to_the_screen():
    sentence = reasons_sentence(reasons(0.5, 0.2), {}, spoken=True)
    assert sentence == "mostly because you watched Movie 0 and Movie 1; being 25 to 34 also counts"
    assert "%" not in sentence
