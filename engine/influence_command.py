"""`python -m engine influence`: which ratings moved a predicted rating (FIA on MF or NCF)."""
from __future__ import annotations

import argparse
import json
import sys

from engine.api import Engine, Lens
from engine.data.registry import default_cache_dir
from engine.data.vocabulary import Vocabulary
from engine.explain.influence import InfluenceExplanation
from engine.explain.influence_explainer import MODELS, InfluenceExplainer
from engine.lenses import LensContext
from engine.profile_args import profile_from_args
from engine.progress import TaskState


def add_parser(commands, common: argparse.ArgumentParser, positive_int) -> None:
    parser = commands.add_parser(
        "influence", parents=[common], help="which ratings moved a predicted rating (fast influence analysis)"
    )
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", type=int, metavar="ID", help="a dataset user")
    who.add_argument("--ratings", metavar="ID:STARS,...", help="an ad-hoc profile: movie ids with 1-5 stars")
    parser.add_argument("--gender", help="F or M (ad-hoc profile)")
    parser.add_argument("--age", help="age in years or a group such as 25-34 (ad-hoc profile)")
    parser.add_argument("--occupation", help="e.g. writer (ad-hoc profile)")
    parser.add_argument("--item", type=int, metavar="ID", help="the movie to explain (default: the top recommendation)")
    parser.add_argument("--model", choices=MODELS, default="mf", help="the rating model (default mf)")
    parser.add_argument("--top", type=positive_int, default=10, help="ratings per side in text mode (default 10)")
    parser.add_argument("--json", action="store_true", help="machine-readable output, every related rating")


def run(engine: Engine, args, state: TaskState) -> int:
    profile = profile_from_args(engine, args)
    item = args.item if args.item is not None else engine.recommend(profile, 1)[0].movie.id
    engine.movie(item)  # an unknown id fails here with one sentence
    if args.model == "mf":
        note = engine.prepare(Lens.INFLUENCE, state)
        explanation = engine.explain(profile, item, Lens.INFLUENCE)
    else:
        context = LensContext(engine.dataset, engine.catalogue, _cache_dir(args), None, Vocabulary(engine.dataset))
        explainer = InfluenceExplainer(context, args.model)
        explainer.prepare(state)
        note = explainer.model_note()
        explanation = explainer.explain(profile, [item])[0]
    if note:  # e.g. that a damaged cached model was moved aside and retrained
        print(note, file=sys.stderr)
    if args.json:
        print(json.dumps(dict(explanation.to_dict(), dataset=engine.dataset.name), indent=2))
    else:
        print("\n".join(text_lines(explanation, args.top)))
    return 0


def _cache_dir(args):
    return args.cache_dir if args.cache_dir else default_cache_dir()


def text_lines(explanation: InfluenceExplanation, top: int) -> list[str]:
    who = f"user {explanation.user_id}" if explanation.user_id is not None else "this profile"
    where = f", ranked {explanation.rank} among the movies not yet rated" if explanation.rank is not None else ""
    lines = [f"{explanation.title} for {who}: predicted {explanation.predicted_rating:.2f} stars "
             f"({explanation.model.upper()}{where})."]
    if explanation.note:
        lines.append(explanation.note)
    own, others = explanation.own, explanation.others
    lines.append(f"Own ratings that moved it most (of {len(own)}):" if own else "No own ratings.")
    for r in own[:top]:
        lines.append(f"  {r.influence:+.4f}  rated {r.title} {_stars(r.rating)}")
    lines.append(f"Other users' ratings of it that moved it most (of {len(others)}):" if others
                 else "No other user has rated it.")
    for r in others[:top]:
        lines.append(f"  {r.influence:+.4f}  user {r.user} rated it {_stars(r.rating)}")
    hidden_own, hidden_other = own[top:], others[top:]
    if hidden_own or hidden_other:
        lines.append(
            f"Not listed: {len(hidden_own)} more own ratings (together {sum(r.influence for r in hidden_own):+.4f}) and "
            f"{len(hidden_other)} more ratings by others (together {sum(r.influence for r in hidden_other):+.4f}); --json lists all."
        )
    lines.append(
        f"Influence = predicted rating with that rating minus without it (a first-order estimate, no retraining). "
        f"The influences are not parts of the prediction: all {len(explanation.ratings)} sum to "
        f"{sum(explanation.parts):+.4f}; the other {explanation.remainder:.2f} stars are the global mean and what the "
        f"model learnt from all other ratings."
    )
    return lines


def _stars(value: float) -> str:
    return f"{value:g} star" + ("" if value == 1 else "s")
