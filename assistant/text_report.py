"""The app's content as plain text, for a machine without a screen: a profile, the model, and a
recommendation's main reasons (the first few positive features of its explanation)."""
from __future__ import annotations

from engine.api import ModelInfo, Profile, Recommendation

TOP_REASONS = 3


def plain_reasons(recommendation: Recommendation) -> str:
    explanation = recommendation.explanation
    if explanation is None:
        return ""
    if explanation.note:
        return explanation.note
    reasons = [f for f in explanation.features if f.relevance > 0][:TOP_REASONS]
    if not reasons:
        return "No part of the profile pushes this movie up: its score comes from the model's bias."
    return "Because of " + " · ".join(f"{f.name} +{f.relevance:.2f}" for f in reasons)


def profile_text(profile: Profile) -> str:
    gender = {"F": "female", "M": "male"}.get(profile.gender or "", profile.gender)
    age = f"aged {profile.age}" if profile.age else None
    facts = [value for value in (gender, age, profile.occupation) if value]
    liked = f"{len(profile.movies)} movie{'s' if len(profile.movies) != 1 else ''} liked"
    return " · ".join(facts + [liked])


def info_text(info: ModelInfo) -> str:
    parts = [info.dataset, info.variant, f"{info.n_movies} movies, {info.n_users} users"]
    if info.validation_recall_at_50 is not None:
        parts.append(f"validation recall@50 {info.validation_recall_at_50:.3f}")
    if info.trained_now and info.training_seconds is not None:
        parts.append(f"trained now in {info.training_seconds:.0f} s")
    else:
        parts.append("model loaded from cache")
    return " · ".join(parts)
