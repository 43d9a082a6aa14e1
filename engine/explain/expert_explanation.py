"""The expert lens's explanations: which interpretable expert (which subset of the inputs) decided a
prediction, for one recommendation (`ExpertShares`) and along a rating sitting (`ExpertTimeline`).
Plain frozen data; no numpy, no torch.

Exactness (the framework's sense): each expert h gives its own like-probability f_h and a share w_h
(alpha_h / sum alpha, summing to 1); the model's probability is sum_h w_h * f_h exactly. So `parts` are
the share-weighted predictions w_h * f_h and `remainder` is 0. "No expert was confident" (alpha total
under the gate's threshold) is the state `undecided`, not a division by ~0.
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.lenses import Lens


@dataclass(frozen=True)
class ExpertInfo:
    """One expert of a model: its id ("S1"), key ("content+user"), plain label and input groups."""

    id: str
    key: str
    label: str  # e.g. "what other viewers thought"
    groups: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"id": self.id, "key": self.key, "label": self.label, "groups": list(self.groups)}


@dataclass(frozen=True)
class ExpertAggregate:
    """A row of the timeline's aggregated view: several detailed experts under one plain name."""

    key: str
    label: str
    experts: tuple[str, ...]  # expert ids

    def to_dict(self) -> dict:
        return {"key": self.key, "label": self.label, "experts": list(self.experts)}


@dataclass(frozen=True)
class ExpertVote:
    """One expert's part in one prediction."""

    id: str
    prediction: float  # f_h, the expert's own like-probability
    confidence: float  # g_h
    alpha: float  # g_h * prod over its children (1 - g_j)
    share: float  # alpha_h / sum alpha (or the even spread when undecided); sums to 1 over experts

    def to_dict(self) -> dict:
        return {"id": self.id, "prediction": self.prediction, "confidence": self.confidence,
                "alpha": self.alpha, "share": self.share}


def _decided_by(votes: tuple[ExpertVote, ...]) -> str | None:
    return max(votes, key=lambda v: v.share).id if votes else None


@dataclass(frozen=True)
class ExpertShares:
    """Which expert decided one movie's predicted like-probability for one profile."""

    item_id: int
    title: str
    probability: float  # == sum(vote.share * vote.prediction)
    experts: tuple[ExpertInfo, ...]  # model order
    votes: tuple[ExpertVote, ...]  # model order, one per expert
    alpha_total: float
    undecided: bool
    model: str = "intrp-mlp"
    user_id: int | None = None  # the dataset user, None for an ad-hoc profile
    rank: int | None = None
    user_group: str = ""  # how the user's inputs were formed, e.g. "built from the profile's rated movies"
    note: str = ""

    lens = Lens.EXPERTS

    @property
    def subject(self) -> int:
        return self.item_id

    @property
    def decided_by(self) -> str | None:
        return _decided_by(self.votes)

    def info(self, expert_id: str) -> ExpertInfo:
        return next(e for e in self.experts if e.id == expert_id)

    @property
    def explained(self) -> float:
        return self.probability

    @property
    def parts(self) -> tuple[float, ...]:
        """Each expert's share-weighted prediction, largest first."""
        return tuple(sorted((v.share * v.prediction for v in self.votes), reverse=True))

    @property
    def remainder(self) -> float:
        return 0.0

    def to_dict(self) -> dict:
        return {
            "lens": self.lens.value,
            "model": {"name": self.model, "experts": [e.to_dict() for e in self.experts],
                      "user_group": self.user_group},
            "profile": {"user": self.user_id},
            "item": {"id": self.item_id, "title": self.title},
            "rank": self.rank,
            "probability": self.probability,
            "experts": [v.to_dict() for v in self.votes],
            "alpha_total": self.alpha_total,
            "decided_by": self.decided_by,
            "undecided": self.undecided,
            "note": self.note,
        }


@dataclass(frozen=True)
class TimelineStep:
    """One movie of a sitting: given (rated, shown to the model) or predicted (guessed, then compared)."""

    position: int  # 1-based within the window
    side: str  # "given" or "predicted"
    item_id: int
    title: str
    rating: int | None  # the real stars (None for an ad-hoc profile's unrated movie)
    liked: bool | None  # rating >= 4
    probability: float | None = None  # predicted like-probability (predicted side only)
    alpha_total: float | None = None
    undecided: bool = False
    votes: tuple[ExpertVote, ...] = ()  # model order; empty on the given side
    aggregate_shares: tuple[tuple[str, float], ...] = ()  # (aggregate key, summed share)

    @property
    def predicted_liked(self) -> bool | None:
        return None if self.probability is None else self.probability >= 0.5

    @property
    def correct(self) -> bool | None:
        if self.probability is None or self.liked is None:
            return None
        return self.predicted_liked == self.liked

    @property
    def decided_by(self) -> str | None:
        return _decided_by(self.votes)

    def to_dict(self) -> dict:
        data = {"position": self.position, "side": self.side,
                "item": {"id": self.item_id, "title": self.title}, "rating": self.rating, "liked": self.liked}
        if self.side == "predicted":
            data.update({
                "probability": self.probability, "predicted_liked": self.predicted_liked,
                "correct": self.correct, "alpha_total": self.alpha_total, "undecided": self.undecided,
                "decided_by": self.decided_by, "shares": {v.id: v.share for v in self.votes},
                "aggregate_shares": dict(self.aggregate_shares), "experts": [v.to_dict() for v in self.votes],
            })
        return data


@dataclass(frozen=True)
class ExpertTimeline:
    """A sitting explained position by position: who decided each guess of its second half."""

    experts: tuple[ExpertInfo, ...]
    aggregates: tuple[ExpertAggregate, ...]
    steps: tuple[TimelineStep, ...]
    sitting: int  # 1-based index among the user's sittings (1 for an ad-hoc profile)
    sittings: int  # how many the user has
    user_id: int | None = None
    start: str = ""  # ISO-8601 UTC of the first rating ("" for an ad-hoc profile)
    end: str = ""
    label: str = "liked = 4-5 stars"
    model: str = "intrp-session"
    note: str = ""

    lens = Lens.EXPERTS

    @property
    def predicted(self) -> tuple[TimelineStep, ...]:
        return tuple(s for s in self.steps if s.side == "predicted")

    @property
    def accuracy(self) -> float | None:
        judged = [s.correct for s in self.predicted if s.correct is not None]
        return sum(judged) / len(judged) if judged else None

    @property
    def changes(self) -> tuple[int, ...]:
        """Positions where the deciding expert differs from the previous guess's."""
        steps = self.predicted
        return tuple(b.position for a, b in zip(steps, steps[1:]) if a.decided_by != b.decided_by)

    def to_dict(self) -> dict:
        return {
            "lens": self.lens.value,
            "user": self.user_id,
            "model": {"name": self.model, "experts": [e.to_dict() for e in self.experts],
                      "aggregates": [a.to_dict() for a in self.aggregates], "label": self.label},
            "session": {"index": self.sitting, "count": self.sittings, "start": self.start, "end": self.end,
                        "length": len(self.steps), "given": len(self.steps) - len(self.predicted),
                        "predicted": len(self.predicted)},
            "timeline": [s.to_dict() for s in self.steps],
            "summary": {"accuracy": self.accuracy, "dominant_changes": list(self.changes)},
            "note": self.note,
        }
