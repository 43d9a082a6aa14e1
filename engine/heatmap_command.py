"""`python -m engine heatmap`: why two catalogue products are related or not for a shopper (the pixel
lens's exact LRP heatmaps), or a shopper's most related products for one item (`--top K`).

It needs Fashion-MNIST only, never MovieLens: the pixel lens's model and data are its own.
"""
from __future__ import annotations

import json
import math
import time

from engine.data.product_catalogue import SHOPPER_RULES
from engine.errors import InvalidInputError
from engine.explain.pixel_explanation import CATALOGUE_NOTE, PixelExplanation, PixelHeatmaps, PixelItem
from engine.progress import TaskState

VIEW_CHOICES = ("net", "shared", "both")
VIEW_TITLES = {"net": "What differs (net view: relevance of the logit)",
               "shared": "What they share (shared view: relevance of the similarity <s_q, s_c>)"}
MASS_OF_VIEW = {"net": ("why_not", "why-not"), "shared": ("why_related", "why-related")}
# The explainer's model options; the defaults are the app's model (tests put a small one here).
MODEL_OPTIONS: dict = {}


def add_parser(commands, positive_int) -> None:
    parser = commands.add_parser(
        "heatmap", help="pixel lens: which pixels make two catalogue products related for a shopper",
        description="Exact LRP heatmaps of the relation model over the Fashion-MNIST product catalogue "
                    "(test images with planted brand marks; relations are rule-made, not purchases).",
    )
    parser.add_argument("--shopper", required=True, metavar="brand|style", help="whose relations: brand or style")
    parser.add_argument("--item", required=True, type=int, metavar="ID", help="the query product (test image id)")
    parser.add_argument("--with", dest="candidate", type=int, metavar="ID", help="the product to compare it with")
    parser.add_argument("--top", type=positive_int, metavar="K", help="the shopper's K most related products for --item")
    parser.add_argument("--view", default="both", metavar="net|shared|both", help="which heatmaps (default both)")
    parser.add_argument("--rules", default="composite", metavar="composite|composite-avgpool|paper-epsilon",
                        help="LRP rules (default composite; composite-avgpool spreads max-pooling relevance over the window; paper-epsilon is the paper's epsilon everywhere)")
    parser.add_argument("--json", action="store_true", help="machine-readable output (28 x 28 maps as lists)")
    parser.add_argument("--fashion-data", metavar="PATH", help="a folder holding the Fashion-MNIST files (skips the search)")
    parser.add_argument("--offline", action="store_true", help="never download; use local files and the cache only")
    parser.add_argument("--cache-dir", metavar="DIR", help="where data and models are cached")
    parser.add_argument("--quiet", action="store_true", help="no progress messages")


def check(args) -> None:
    """Errors in the words alone, before any data is read or model trained."""
    if args.shopper not in SHOPPER_RULES:
        raise InvalidInputError(f"Unknown shopper {args.shopper!r}; shoppers: {', '.join(SHOPPER_RULES)}.")
    if args.view not in VIEW_CHOICES:
        raise InvalidInputError(f"Unknown view {args.view!r}; views: {', '.join(VIEW_CHOICES)}.")
    if args.candidate is None and args.top is None:
        raise InvalidInputError("Say which product to compare with (--with ID) or ask for the most related ones (--top K).")
    for name, value in (("--item", args.item), ("--with", args.candidate)):
        if value is not None and value < 0:
            raise InvalidInputError(f"{name} {value} is not a product: ids are the test images' numbers, from 0.")
    from engine.explain.pixel_lrp import RULE_SETS

    if args.rules not in RULE_SETS:
        raise InvalidInputError(f"Unknown rule set {args.rules!r}; rule sets: {', '.join(RULE_SETS)}.")


def make_explainer(args):
    from engine.explain.pixel_explainer import PixelExplainer

    return PixelExplainer(cache_dir=args.cache_dir, data_path=args.fashion_data, offline=args.offline,
                          retrain=False, **MODEL_OPTIONS)


def run(args, state: TaskState) -> int:
    check(args)
    explainer = make_explainer(args)
    explainer.prepare(state)
    if explainer.model_note():
        import sys

        print(explainer.model_note(), file=sys.stderr)
    query = explainer.item(args.item)  # an id past the catalogue fails here with one sentence
    output: list[str] = []
    data: dict = {}
    if args.candidate is not None:
        started = time.perf_counter()
        explanation = explainer.explain_pair(args.shopper, query.id, args.candidate, args.rules)
        seconds = time.perf_counter() - started
        rule = bool(_related_by_rule(explainer, args.shopper, query.id, explanation.candidate.id))
        if args.json:
            data = pair_json(explanation, args.view, rule, seconds)
        else:
            output += pair_lines(explanation, args.view, rule)
    if args.top is not None:
        related = explainer.related(args.shopper, query.id, args.top)
        logits = explainer.logits_against(args.shopper, query.id)
        if args.json:
            top = {"related": [dict(item.to_dict(), probability=p, logit=float(logits[item.id])) for item, p in related]}
            data = dict(data, **top) if data else dict(_top_header(args.shopper, query), **top)
        else:
            output += ([""] if output else []) + top_lines(args.shopper, query, related, logits)
    print(json.dumps(data, indent=2, allow_nan=False) if args.json else "\n".join(output))
    return 0


def _related_by_rule(explainer, shopper: str, query: int, candidate: int) -> bool:
    from engine.data.product_catalogue import related_by_rule

    return bool(related_by_rule(explainer.catalogue, shopper, [query], [candidate])[0])


def _top_header(shopper: str, query: PixelItem) -> dict:
    return {"lens": "pixels", "note": CATALOGUE_NOTE, "shopper": shopper, "shopper_rule": SHOPPER_RULES[shopper],
            "query": query.to_dict()}


# ----- JSON -----


def pair_json(explanation: PixelExplanation, view: str, related_by_rule: bool, seconds: float) -> dict:
    data = explanation.to_dict()
    if view != "both":
        data["views"] = {view: data["views"][view]}
    data["shopper_rule"] = SHOPPER_RULES[explanation.shopper]
    data["related_by_rule"] = related_by_rule
    data["seconds"] = round(seconds, 6)
    return data


# ----- text -----


def describe(item: PixelItem) -> str:
    row, col, _, _ = item.mark_box
    return f"item {item.id} ({item.garment}, {item.brand} mark at row {row}, column {col})"


def pair_lines(explanation: PixelExplanation, view: str, related_by_rule: bool) -> list[str]:
    e = explanation
    kept = e.net.query_kept_back + e.net.candidate_kept_back
    verdict = "related" if e.related else "not related"
    lines = [
        f"{e.shopper.capitalize()} shopper ({SHOPPER_RULES[e.shopper]}): {describe(e.query)} with {describe(e.candidate)}.",
        f"P(related) = {e.probability:.3f} ({verdict}; by the rule they are {'related' if related_by_rule else 'not related'}).",
        f"Logit {e.logit:+.4f} = offset {e.offset:+.4f} + query pixels {e.net.total('query'):+.4f} "
        f"+ candidate pixels {e.net.total('candidate'):+.4f} + kept back {kept:+.4f}",
        f"  (distance {e.distance:.4f}, similarity <s_q, s_c> {e.similarity:.4f}, "
        f"conservation error {e.conservation_error:.1e}; rules: "
        + ", ".join(f"{k} {v}" for k, v in e.rules.items()) + ")",
    ]
    for name in (("net", "shared") if view == "both" else (view,)):
        maps = e.heatmaps(name)
        key, label = MASS_OF_VIEW[name]
        share = e.mark_share(key)
        mass = f"; {label} mass on the planted marks {share:.0%}" if share is not None else ""
        lines += ["", f"{VIEW_TITLES[name]}{' (the view for this decision)' if name == e.default_view else ''}:",
                  f"  query total {maps.total('query'):+.4f}, candidate total {maps.total('candidate'):+.4f}, "
                  f"kept back {maps.query_kept_back + maps.candidate_kept_back:+.2e}{mass}"]
        lines += ascii_maps(maps)
    lines += ["", CATALOGUE_NOTE]
    return lines


def top_lines(shopper: str, query: PixelItem, related: list[tuple[PixelItem, float]], logits) -> list[str]:
    lines = [f"Most related for the {shopper} shopper ({SHOPPER_RULES[shopper]}) to {describe(query)}:"]
    for rank, (item, probability) in enumerate(related, 1):
        lines.append(f"  {rank:>3}. P = {probability:.3f} (logit {float(logits[item.id]):+.3f})  {describe(item)}")
    return lines


LEVELS = ("-", "=")  # negative: weak, strong
POSITIVE = ("+", "#")


def ascii_maps(maps: PixelHeatmaps) -> list[str]:
    """Both images' maps side by side on one scale: '#'/'=' at least half the largest |relevance|
    (positive/negative), '+'/'-' at least a tenth, '.' less."""
    scale = max(max(abs(v) for row in grid for v in row) for grid in (maps.query, maps.candidate))
    if scale == 0 or not math.isfinite(scale):
        return ["  (both maps are empty)"]

    def char(value: float) -> str:
        size = abs(value) / scale
        if size < 0.1:
            return "."
        return (POSITIVE if value > 0 else LEVELS)[size >= 0.5]

    lines = [f"  {'query':<28}    {'candidate':<28}   (scale +-{scale:.2e}; + for related, - against)"]
    for row_q, row_c in zip(maps.query, maps.candidate):
        lines.append("  " + "".join(map(char, row_q)) + "    " + "".join(map(char, row_c)))
    return lines
