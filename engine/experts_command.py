"""`python -m engine experts`: which interpretable expert decided a prediction (the expert lens), for one
recommendation (static shares) or along a rating sitting (the session timeline)."""
from __future__ import annotations

import argparse
import json
import sys

from engine.api import Engine, Lens
from engine.data.sessions import SITTING_GAP_S
from engine.errors import InvalidInputError
from engine.explain.expert_explanation import ExpertShares, ExpertTimeline
from engine.profile_args import is_whole_number, profile_from_args
from engine.progress import TaskState

TITLE_WIDTH = 34


def add_parser(commands, common: argparse.ArgumentParser, positive_int) -> None:
    parser = commands.add_parser(
        "experts", parents=[common], help="which interpretable expert decided a prediction, or each guess of a sitting"
    )
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", type=int, metavar="ID", help="a dataset user")
    who.add_argument("--ratings", metavar="ID:STARS,...",
                     help="an ad-hoc profile: movie ids with 1-5 stars, in the order they were rated")
    parser.add_argument("--gender", help="F or M (ad-hoc profile)")
    parser.add_argument("--age", help="age in years or a group such as 25-34 (ad-hoc profile)")
    parser.add_argument("--occupation", help="e.g. writer (ad-hoc profile)")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--item", type=int, metavar="ID", help="the movie to explain (default: the top recommendation)")
    what.add_argument("--sitting", metavar="N", help="explain sitting N (1-based, or 'latest') as a timeline")
    what.add_argument("--sittings", action="store_true", help="list the sittings a timeline can show")
    parser.add_argument("--window", type=positive_int, default=1,
                        help="with --sitting: which window of a sitting longer than 20 ratings (default 1)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(engine: Engine, args, state: TaskState) -> int:
    profile = profile_from_args(engine, args)
    if args.window != 1 and args.sitting is None:
        raise InvalidInputError("--window picks a window of a sitting: use it with --sitting N.")
    if args.sittings or args.sitting is not None:
        reason = engine.explainer(Lens.EXPERTS).timeline_reason(engine.dataset)
        if reason is not None:  # before any training: ml-1m has no sittings
            raise InvalidInputError(reason)
    if args.item is not None:
        engine.movie(args.item)  # an unknown id fails here with one sentence
    note = engine.prepare(Lens.EXPERTS, state)
    if note:  # e.g. that a damaged cached model was moved aside and retrained
        print(note, file=sys.stderr)
    explainer = engine.explainer(Lens.EXPERTS)
    if args.sittings:
        listed = explainer.sittings(profile)
        if args.json:
            _print_json({"dataset": engine.dataset.name, "lens": Lens.EXPERTS.value, "user": profile.user_id,
                         "sittings": [s._asdict() for s in listed]})
        else:
            print("\n".join(sittings_lines(listed, profile.user_id)))
        return 0
    if args.sitting is not None:
        timeline = explainer.timeline(profile, _sitting(args.sitting), args.window)
        if args.json:
            payload = dict(timeline.to_dict(), dataset=engine.dataset.name)
            payload["model"]["session_gap_s"] = SITTING_GAP_S  # the notes' shape (§5.3)
            _print_json(payload)
        else:
            print("\n".join(timeline_lines(timeline)))
        return 0
    item = args.item if args.item is not None else engine.recommend(profile, 1)[0].movie.id
    shares = engine.explain(profile, item, Lens.EXPERTS)
    if args.json:
        payload = dict(shares.to_dict(), dataset=engine.dataset.name)
        serving = explainer.serving  # the notes' shape (§5.3): the gate, each expert's children, the year
        ids = [e.id for e in shares.experts]
        payload["model"]["children"] = {ids[h]: [ids[j] for j in range(len(ids)) if serving.experts.children[h, j]]
                                        for h in range(len(ids))}
        payload["model"]["gate"] = serving.gate.to_dict()
        payload["item"]["year"] = engine.movie(shares.item_id).year
        _print_json(payload)
    else:
        print("\n".join(shares_lines(shares)))
    return 0


def _sitting(text: str) -> int | None:
    if text.strip().lower() == "latest":
        return None
    if not is_whole_number(text) or len(text.strip()) > 6 or int(text) < 1:
        raise InvalidInputError(f"--sitting takes a sitting number (1, 2, ...) or 'latest', got {text!r}.")
    return int(text)


def _print_json(data: dict) -> None:
    print(json.dumps(data, indent=2, allow_nan=False))


# ----- text -----

def shares_lines(shares: ExpertShares) -> list[str]:
    who = f"user {shares.user_id}" if shares.user_id is not None else "this profile"
    where = f", ranked {shares.rank} among the movies not yet rated" if shares.rank is not None else ""
    lines = [f"{shares.title} for {who}: probability {shares.probability:.3f} of picking it (Intrp-MLP{where}).",
             f"The profile's own input: {shares.user_group}."]
    if shares.note:
        lines.append(shares.note)
    if shares.undecided:
        lines.append(f"No expert was confident (confidences sum to {shares.alpha_total:.3f}, under 0.05): "
                     "the shares are spread evenly.")
    else:
        top = shares.info(shares.decided_by)
        share = next(v.share for v in shares.votes if v.id == top.id)
        lines.append(f"Decided mostly by {top.id}, {top.label}: {share:.0%}.")
    label_width = max(len(f"{e.id} {e.label}") for e in shares.experts)
    lines.append(f"  {'expert':<{label_width}}  {'share':>6}  {'own guess':>9}  {'confidence':>10}  {'alpha':>6}")
    for expert, vote in zip(shares.experts, shares.votes):
        lines.append(f"  {expert.id + ' ' + expert.label:<{label_width}}  {vote.share:>6.1%}  {vote.prediction:>9.3f}"
                     f"  {vote.confidence:>10.4f}  {vote.alpha:>6.4f}")
    lines.append(f"probability = sum of share x own guess = {sum(v.share * v.prediction for v in shares.votes):.3f} "
                 "(exact: the shares split the prediction, nothing is left over).")
    return lines


def timeline_lines(timeline: ExpertTimeline) -> list[str]:
    who = f"User {timeline.user_id}" if timeline.user_id is not None else "This profile"
    when = f" ({timeline.start} to {timeline.end})" if timeline.start else ""
    predicted = timeline.predicted
    accuracy = f"; {timeline.accuracy:.0%} of the guesses right" if timeline.accuracy is not None else ""
    lines = [f"{who}, sitting {timeline.sitting} of {timeline.sittings}{when}: {len(timeline.steps) - len(predicted)} "
             f"ratings given, {len(predicted)} guessed ({timeline.label}){accuracy}."]
    if timeline.note:
        lines.append(timeline.note)
    keys = [a.key for a in timeline.aggregates]
    widths = [max(len(k), 5) for k in keys]
    header = f"  {'#':>2}  {'movie':<{TITLE_WIDTH}}  {'stars':>5}  {'P(like)':>7}  {'right':>5}  {'decided by':<10}"
    lines.append(header + "  " + "  ".join(f"{k:>{w}}" for k, w in zip(keys, widths)))
    changes = set(timeline.changes)
    for step in timeline.steps:
        title = step.title if len(step.title) <= TITLE_WIDTH else step.title[:TITLE_WIDTH - 1] + "…"
        stars = "" if step.rating is None else str(step.rating)
        if step.side == "given":
            lines.append(f"  {step.position:>2}  {title:<{TITLE_WIDTH}}  {stars:>5}  {'given':>7}")
            continue
        right = "" if step.correct is None else ("yes" if step.correct else "no")
        decided = "nobody" if step.undecided else step.decided_by
        mark = "*" if step.position in changes else " "
        shares = dict(step.aggregate_shares)
        lines.append(f"  {step.position:>2}  {title:<{TITLE_WIDTH}}  {stars:>5}  {step.probability:>7.3f}  {right:>5}"
                     f"  {decided + mark:<10}  " + "  ".join(f"{shares[k]:>{w}.0%}" for k, w in zip(keys, widths)))
    lines.append("Aggregated experts: " + "; ".join(f"{a.key} = {a.label.lower()} ({', '.join(a.experts)})"
                                                   for a in timeline.aggregates) + ".")
    lines.append("Experts: " + "; ".join(f"{e.id} {e.label}" for e in timeline.experts) + ".")
    lines.append("* the deciding expert changed here; 'nobody': no expert was confident (shares spread evenly).")
    return lines


def sittings_lines(listed, user_id) -> list[str]:
    who = f"User {user_id}" if user_id is not None else "This profile"
    if not listed:
        return [f"{who} has no sitting with at least 2 ratings to show."]
    lines = [f"{who}: {len(listed)} sitting{'s' if len(listed) != 1 else ''} with a timeline (use --sitting N)."]
    lines.append(f"  {'N':>3}  {'start':<20}  {'end':<20}  {'ratings':>7}  {'windows':>7}  {'guesses right':>13}")
    for s in listed:
        right = f"{sum(r for r, _ in s.right)} of {sum(n for _, n in s.right)}" if s.right else "-"
        lines.append(f"  {s.index:>3}  {s.start or '-':<20}  {s.end or '-':<20}  {s.length:>7}  {s.windows:>7}  {right:>13}")
    return lines
