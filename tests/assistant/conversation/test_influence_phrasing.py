"""How influence explanations are worded, on hand-made explanation objects: each named rating with its
signed influence in stars, own ratings before other users', fold-in said, speech short and number-free."""
from __future__ import annotations

import pytest

from assistant.conversation.phrasings import PHRASINGS, phrasing_for
from assistant.conversation.phrasings.influence import InfluencePhrasing, RatingChange
from engine.api import InfluenceExplanation, LensUnavailableError, Lens, Movie, RatingInfluence

ALIEN = Movie(1, "Alien", 1979, ("Sci-Fi",))
HEAT = Movie(2, "Heat", 1995, ("Action",))
SCREAM = Movie(3, "Scream", 1996, ("Horror",))
FARGO = Movie(4, "Fargo", 1996, ("Crime",))
MOVIES = {m.id: m for m in (ALIEN, HEAT, SCREAM, FARGO)}
SPOKEN_WORD_LIMIT = 45


def own(movie: Movie, stars: float, influence: float) -> RatingInfluence:
    return RatingInfluence("own", None, movie.id, f"{movie.title} ({movie.year})", stars, influence)


def other(user: int, stars: float, influence: float) -> RatingInfluence:
    return RatingInfluence("other", user, FARGO.id, "Fargo (1996)", stars, influence)


def explanation(*ratings: RatingInfluence, fold_in: bool = True, predicted: float = 4.31, rank=7) -> InfluenceExplanation:
    ordered = tuple(sorted(ratings, key=lambda r: -abs(r.influence)))
    return InfluenceExplanation(FARGO.id, "Fargo (1996)", "mf", predicted, ordered, None, fold_in, rank)


STANDARD = explanation(own(ALIEN, 5, 0.21), own(HEAT, 4, 0.12), own(SCREAM, 1, -0.05), other(13, 2, -0.08),
                       other(7, 5, 0.03))


def test_the_registry_finds_each_phrasing_and_refuses_a_lens_it_cannot_phrase():
    assert isinstance(phrasing_for(Lens.INFLUENCE, MOVIES), InfluencePhrasing)
    assert all(phrasing.lens is lens for lens, phrasing in PHRASINGS.items())
    with pytest.raises(LensUnavailableError, match="can't talk about the pixel relevance lens"):
        phrasing_for(Lens.PIXELS, MOVIES)


def test_who_influenced_names_own_and_other_ratings_with_signed_stars():
    said = InfluencePhrasing(MOVIES).influencers(FARGO, STANDARD)
    assert "predicts 4.31 stars" in said.text
    assert ("Your 5 stars for Alien raised it by 0.21 stars, your 4 stars for Heat raised it by 0.12 stars and "
            "your 1 star for Scream lowered it by 0.05 stars.") in said.text
    assert "Among other users, User 13's 2 stars lowered it by 0.08 stars and User 7's 5 stars raised it by 0.03" \
        in said.text
    assert f"({STANDARD.remainder:.2f} stars)" in said.text
    assert "fold-in" in said.text
    assert "your 5 stars for Alien raised it" in said.speech and "user 13's 2 stars lowered it" in said.speech
    assert "0." not in said.speech and len(said.speech.split()) <= SPOKEN_WORD_LIMIT


def test_the_explainers_own_note_is_said_instead_of_ours():
    noted = InfluenceExplanation(FARGO.id, "Fargo (1996)", "mf", 4.0, (own(ALIEN, 5, 0.2),), None, True, 3,
                                 "Your ratings were folded into the model.")
    said = InfluencePhrasing(MOVIES).influencers(FARGO, noted)
    assert said.text.endswith("what no single rating carries. Your ratings were folded into the model.")


def test_a_dataset_user_is_not_called_a_fold_in():
    said = InfluencePhrasing(MOVIES).influencers(FARGO, explanation(own(ALIEN, 5, 0.2), fold_in=False))
    assert "fold-in" not in said.text and "estimated for your new profile" not in said.speech


def test_my_ratings_names_only_the_users_own_largest_first():
    said = InfluencePhrasing(MOVIES).own_ratings(FARGO, STANDARD)
    assert said.text.startswith("For Fargo (1996) (predicted 4.31 stars), the ratings of yours that mattered most: "
                                "your 5 stars for Alien raised it by 0.21 stars")
    assert "User 13" not in said.text
    assert said.speech.startswith("For Fargo, your 5 stars for Alien raised it most, then your 4 stars for Heat.")


def test_my_ratings_without_any_rating_says_how_to_get_one():
    said = InfluencePhrasing(MOVIES).own_ratings(FARGO, explanation(other(13, 2, -0.08)))
    assert "none of your ratings moved the prediction" in said.text and "rate some movies" in said.text


def test_why_through_the_influence_lens_gives_rank_prediction_and_what_raised_it():
    said = InfluencePhrasing(MOVIES).recommended(FARGO, 3, STANDARD, "I recommend")
    assert said.text.startswith("I recommend Fargo (1996), number 3 for you. The rating model (matrix factorisation) "
                                "predicts 4.31 stars for you.")
    assert said.speech.startswith("I recommend Fargo. I'd expect about 4.5 stars from you; your 5 stars for Alien "
                                  "and your 4 stars for Heat raised it most.")


def test_why_not_through_the_influence_lens_says_what_lowers_it():
    said = InfluencePhrasing(MOVIES).not_recommended(FARGO, 120, 1400, STANDARD)
    assert said.text.startswith("Fargo (1996) ranks 120th of the 1400 movies you haven't watched.")
    assert "What lowers it most: User 13's 2 stars lowered it by 0.08 stars and your 1 star for Scream lowered it" \
        in said.text
    assert "pulls it down most is user 13's 2 stars and your 1 star for Scream" in said.speech


def test_part_of_is_the_movies_own_rating_influence():
    phrasing = InfluencePhrasing(MOVIES)
    assert phrasing.part_of(STANDARD, ALIEN.id).text == "your 5 stars for Alien raised its predicted rating by 0.21 stars"
    assert phrasing.part_of(STANDARD, FARGO.id) is None


def test_a_rating_change_reports_prediction_and_rank_before_and_after_as_estimates():
    before = STANDARD
    after = explanation(own(ALIEN, 2, -0.09), own(HEAT, 4, 0.12), predicted=4.02, rank=19)
    change = RatingChange(ALIEN, 5, True, 2, FARGO, before, after, (7, 19), True)
    said = InfluencePhrasing(MOVIES).rating_change(change)
    assert said.text.startswith("If you rated Alien (1979) 2 stars instead of 5 stars, the predicted rating of "
                                "Fargo (1996) would go from 4.31 to 4.02 stars (-0.29) and its rank by predicted "
                                "rating from 7th to 19th.")
    assert "As it is, your 5 stars for Alien raised its predicted rating by 0.21 stars." in said.text
    assert "estimates" in said.text and "nothing is retrained" in said.text and "unchanged" in said.text
    assert said.speech == ("If you rated Alien 2 stars, Fargo would drop from about 4.3 to 4.0 stars, moving from 7th "
                           "to 19th place. That is an estimate.")


def test_a_new_rating_of_an_unrated_movie_says_it_would_be_added():
    change = RatingChange(ALIEN, None, False, 4, FARGO, STANDARD, STANDARD, (7, 7), False)
    said = InfluencePhrasing(MOVIES).rating_change(change)
    assert "4 stars (it would be added to your profile)" in said.text
    assert "rank in your recommendations would stay 7th" in said.text
    assert "would stay at about 4.3 stars" in said.speech


def test_a_change_below_one_decimal_is_said_as_slight():
    after = explanation(own(ALIEN, 4, 0.2), predicted=4.29)
    said = InfluencePhrasing(MOVIES).rating_change(RatingChange(ALIEN, 5, True, 4, FARGO, STANDARD, after, None, True))
    assert "would go from 4.31 to 4.29 stars (-0.02)." in said.text
    assert "Fargo would drop slightly, staying at about 4.3 stars. That is an estimate." in said.speech


def test_tiny_influences_are_not_shown_as_zero():
    said = InfluencePhrasing(MOVIES).own_ratings(FARGO, explanation(own(ALIEN, 5, 0.0004)))
    assert "raised it by less than 0.01 stars" in said.text
