"""`python -m engine`: train, recommend, explain and benchmark without a screen."""
from __future__ import annotations

import argparse
import json
import sys
import time

from engine import experts_command, heatmap_command, influence_command
from engine.api import Engine
from engine.errors import EngineError
from engine.export import command as export_command
from engine.profile import Profile
from engine.profile_args import profile_from_args
from engine.progress import TaskState

TOP_REASONS = 3
MAX_DIGITS = 18  # larger counts are read as 10**18


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--dataset", default="ml-100k", help="ml-100k (default) or ml-1m")
    common.add_argument("--data", metavar="PATH", help="a folder holding MovieLens files (skips the search)")
    common.add_argument("--offline", action="store_true", help="never download; use local files and the cache only")
    common.add_argument("--cache-dir", metavar="DIR", help="where data and models are cached")
    common.add_argument("--quiet", action="store_true", help="no progress messages")

    profile = argparse.ArgumentParser(add_help=False)
    who = profile.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", type=int, metavar="ID", help="a dataset user's profile")
    who.add_argument("--items", metavar="ID,ID,...", help="an ad-hoc profile: comma-separated movie ids")
    profile.add_argument("--gender", help="F or M (ad-hoc profile)")
    profile.add_argument("--age", help="age in years or a group such as 25-34 (ad-hoc profile)")
    profile.add_argument("--occupation", help="e.g. writer (ad-hoc profile)")
    profile.add_argument("--json", action="store_true", help="machine-readable output")

    parser = argparse.ArgumentParser(prog="python -m engine", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser("train", parents=[common], help="train (or load) the model and report it")
    train.add_argument("--retrain", action="store_true", help="ignore a cached model")

    recommend = commands.add_parser("recommend", parents=[common, profile], help="top-k movies for a profile")
    recommend.add_argument("--k", type=_positive_int, default=10, help="how many movies (default 10)")

    explain = commands.add_parser("explain", parents=[common, profile], help="why a movie scores as it does")
    explain.add_argument("--item", type=int, metavar="ID", help="the movie to explain (default: the top recommendation)")
    explain.add_argument("--top", type=_positive_int, default=10, help="features to print in text mode (default 10)")

    influence_command.add_parser(commands, common, _positive_int)
    experts_command.add_parser(commands, common, _positive_int)
    export_command.add_parser(commands, common)
    heatmap_command.add_parser(commands, _positive_int)

    bench = commands.add_parser("bench", parents=[common], help="benchmarks that write reports/")
    bench.add_argument("suite", choices=["reconet", "influence", "fidelity", "pixels", "experts", "index"], help="which benchmark")
    bench.add_argument("--output", default="reports", help="report folder (default reports/)")
    bench.add_argument("--max-epochs", type=int, help="cap training epochs (for a quick run)")
    bench.add_argument("--seed", type=int, default=None, help="influence: which held-out ratings and test points; pixels: which test pairs, flipping noise and random maps (default 0); experts: one training seed (default: seeds 0, 1, 2 combined)")
    bench.add_argument("--model-seeds", type=_seed_list, default=(), help="pixels: also report the style flipping of the model trained with these seeds, e.g. 0,1,2 (each cached, else trained: ~11 min)")
    bench.add_argument("--part", choices=["static", "session"], default="static",
                       help="experts: the static recommender (default) or the session model on rating sittings")
    bench.add_argument("--folds", type=_positive_int, help="experts --part session: also a user cross-validation with this many folds")
    bench.add_argument("--points", type=_positive_int, help="influence: test predictions to retrain for (default 12)")
    bench.add_argument("--users", type=_positive_int, help="fidelity: dataset users sampled (default 50; half as many ad-hoc profiles); experts: only the first N users (a quick run)")
    bench.add_argument("--lime-samples", type=_positive_int, help="fidelity: LIME's budget (default 5000, LIME's own)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.words = list(sys.argv[1:] if argv is None else argv)  # the command as given, for reports
    state = TaskState(None if args.quiet else _progress_printer())
    try:
        if args.command == "bench":
            return _bench(args, state)
        if args.command == "heatmap":  # the pixel lens's own catalogue: no MovieLens needed
            return heatmap_command.run(args, state)
        if args.command == "export":
            export_command.check(args)  # a bad lens or path fails before any data or model is loaded
            if not export_command.needs_movielens(args):
                return export_command.run_pixels(args, state)
        engine = Engine.load(
            args.dataset, args.data, offline=args.offline, cache_dir=args.cache_dir,
            retrain=getattr(args, "retrain", False), state=state, on_first_use=_to_stderr,
        )
        if engine.info.note:
            _to_stderr(engine.info.note)
        if args.command == "train":
            return _train(engine)
        if args.command == "influence":
            return influence_command.run(engine, args, state)
        if args.command == "experts":
            return experts_command.run(engine, args, state)
        if args.command == "export":
            return export_command.run(engine, args, state)
        profile = profile_from_args(engine, args)
        return _recommend(engine, profile, args) if args.command == "recommend" else _explain(engine, profile, args)
    except EngineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stderr.close()
        return 0


def _positive_int(text: str) -> int:
    """ASCII digits only: str.isdigit() passes '²', which int() refuses, and int() reads other scripts' digits."""
    digits = text.strip()
    if not (digits.isascii() and digits.isdigit()) or not digits.strip("0"):
        raise argparse.ArgumentTypeError(f"expected a positive whole number (digits 0-9), got {text!r}")
    digits = digits.lstrip("0")
    # Any count past the catalogue means "all"; capping keeps int() away from thousands of digits.
    return int(digits) if len(digits) <= MAX_DIGITS else 10 ** MAX_DIGITS


def _train(engine: Engine) -> int:
    info = engine.info
    verb = "Trained" if info.trained_now else "Loaded cached"
    recall = f"{info.validation_recall_at_50:.4f}" if info.validation_recall_at_50 is not None else "n/a"
    print(f"{verb} {info.variant} on {info.dataset} ({info.n_users} users, {info.n_movies} movies): "
          f"validation recall@50 {recall}, training took {info.training_seconds} s.")
    return 0


def _recommend(engine: Engine, profile: Profile, args) -> int:
    k = min(args.k, len(engine.dataset.movies))  # more than the catalogue holds would only cost memory
    recommendations = engine.recommend(profile, k, explain=True)
    if args.json:
        print(json.dumps({
            "dataset": engine.dataset.name,
            "profile": _profile_json(profile),
            "recommendations": [
                {"rank": r.rank, "item": _movie_json(r.movie), "probability": r.probability, "logit": r.logit,
                 "reasons": [f.name for f in r.explanation.positive[:TOP_REASONS]]}
                for r in recommendations
            ],
        }, indent=2))
        return 0
    for r in recommendations:
        print(f"{r.rank:>2}. {r.movie.label} — {reason_phrase(r.explanation)}")
    return 0


def _explain(engine: Engine, profile: Profile, args) -> int:
    item = args.item if args.item is not None else engine.recommend(profile, 1)[0].movie.id
    explanation = engine.explain(profile, item)
    rank = engine.rank_of(profile, item)
    if args.json:
        print(json.dumps(dict(explanation.to_dict(), rank=rank, dataset=engine.dataset.name,
                              profile=_profile_json(profile)), indent=2))
        return 0
    where = f"ranked {rank}" if rank is not None else "already in the profile"
    print(f"{explanation.title}: probability {explanation.probability:.4f}, logit {explanation.logit:.4f}, {where}.")
    if explanation.note:
        print(explanation.note)
    phrase = reason_phrase(explanation)
    print(f"{phrase[:1].upper()}{phrase[1:]}.")
    width = max((abs(f.relevance) for f in explanation.features), default=0) or 1.0
    for f in explanation.features[: args.top]:
        bar = ("+" if f.relevance >= 0 else "-") * max(1, round(20 * abs(f.relevance) / width))
        print(f"  {f.relevance:+.4f}  {bar:<20}  {f.name}")
    hidden = len(explanation.features) - args.top
    if hidden > 0:
        print(f"  ... {hidden} more features (use --json for all)")
    print(f"  {explanation.bias_share:+.4f}  (model bias: the movie's general appeal)")
    return 0


def reason_phrase(explanation) -> str:
    """'because you watched A, B; you are aged 25-34' from the explanation's top positive features."""
    if explanation.note and not explanation.features:
        return explanation.note
    top = explanation.positive[:TOP_REASONS]
    if not top:
        return "no feature of the profile speaks for it; it is a generally popular choice"
    movies = [f.name for f in top if f.kind == "movie"]
    others = [f.name for f in top if f.kind != "movie"]
    parts = []
    if movies:
        parts.append("because you watched " + ", ".join(movies))
    if others:
        parts.append(("and " if movies else "because of: ") + ", ".join(others))
    return "; ".join(parts)


def _movie_json(movie) -> dict:
    return {"id": movie.id, "title": movie.label, "year": movie.year, "genres": list(movie.genres)}


def _profile_json(profile: Profile) -> dict:
    return {"user": profile.user_id, "movies": list(profile.movies), "ratings": list(profile.ratings),
            "gender": profile.gender, "age": profile.age, "occupation": profile.occupation}


def _bench(args, state: TaskState) -> int:
    if args.suite == "experts":
        return _bench_experts(args, state)
    if args.seed is None:  # only the experts bench tells "no seed" (all seeds) from seed 0
        args.seed = 0
    if args.suite == "influence":
        return _bench_influence(args, state)
    if args.suite == "fidelity":
        return _bench_fidelity(args, state)
    if args.suite == "pixels":
        return _bench_pixels(args, state)
    if args.suite == "index":
        from engine.evaluation import report_index

        print(f"Report index written to {report_index.write_index(args.output)}.")
        return 0
    from engine.evaluation import bench_reconet
    from engine.evaluation.bench_reconet import markdown

    started = time.perf_counter()
    report = bench_reconet.run(args.dataset, args.data, args.output, args.offline, args.cache_dir,
                               max_epochs=args.max_epochs, state=state)
    print(markdown(report))
    print(f"Reports written to {args.output}/reconet-{report['dataset']}.json and .md "
          f"({time.perf_counter() - started:.0f} s).")
    return 0


def _bench_experts(args, state: TaskState) -> int:
    if args.part == "session":
        return _bench_experts_session(args, state)
    from engine.evaluation import bench_experts

    started = time.perf_counter()
    settings = ({"training": dict(bench_experts.SETTINGS["training"], epochs=args.max_epochs),
                 "control_epochs": args.max_epochs} if args.max_epochs else None)
    report = bench_experts.run(args.dataset, args.data, args.offline, args.cache_dir, state, seed=args.seed,
                               output_dir=args.output, command="python -m engine " + " ".join(sys.argv[1:]),
                               settings=settings, users=args.users)
    print(bench_experts.markdown(report))
    print(f"Reports written to {args.output}/{bench_experts.stem(report['dataset'], args.seed)}.json and .md "
          f"({time.perf_counter() - started:.0f} s).")
    return 0


def _bench_experts_session(args, state: TaskState) -> int:
    from engine.evaluation import session_experts_evaluation as session

    started = time.perf_counter()
    report = session.run(args.dataset, args.data, args.offline, args.cache_dir, state, seed=args.seed,
                         output_dir=args.output, max_epochs=args.max_epochs, folds=args.folds)
    print(session.session_markdown(report))
    print(f"Reports written to {args.output}/{session.session_stem(report['dataset'], args.seed)}.json and .md "
          f"({time.perf_counter() - started:.0f} s).")
    return 0


def _bench_influence(args, state: TaskState) -> int:
    from engine.evaluation import bench_influence

    started = time.perf_counter()
    points = args.points or bench_influence.DEFAULT_POINTS
    report = bench_influence.run(args.dataset, args.data, args.offline, args.cache_dir, state, seed=args.seed,
                                 points=points, output_dir=args.output,
                                 command="python -m engine " + " ".join(sys.argv[1:]))
    print(bench_influence.markdown(report))
    print(f"Reports written to {args.output}/influence-{report['dataset']}.json and .md "
          f"({time.perf_counter() - started:.0f} s).")
    return 0


def _bench_fidelity(args, state: TaskState) -> int:
    from engine.evaluation import bench_fidelity

    started = time.perf_counter()
    options = {"users": args.users} if args.users else {}
    if args.lime_samples:
        options["lime_samples"] = args.lime_samples
    report = bench_fidelity.run(args.dataset, args.data, args.offline, args.cache_dir, state, seed=args.seed,
                                output_dir=args.output, command="python -m engine " + " ".join(args.words), **options)
    print(bench_fidelity.markdown(report))
    print(f"Reports written to {args.output}/{bench_fidelity.stem(report['dataset'], report['seed'])}.json, .md and "
          f"figures ({time.perf_counter() - started:.0f} s).")
    return 0


def _bench_pixels(args, state: TaskState) -> int:
    from engine.evaluation import bench_pixels

    started = time.perf_counter()
    report = bench_pixels.run(args.data, args.offline, args.cache_dir, state, seed=args.seed, output_dir=args.output,
                              model_seeds=args.model_seeds,
                              command="python -m engine " + " ".join(args.words))
    print("\n".join(bench_pixels.check_table(report)))
    print(f"Reports written to {args.output}/{bench_pixels.stem(report['dataset'], report['seed'])}.json, .md and "
          f"the flipping figure ({time.perf_counter() - started:.0f} s).")
    return 0


def _seed_list(text: str) -> tuple[int, ...]:
    try:
        seeds = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seeds separated by commas, such as 0,1,2, not {text!r}") from None
    if not seeds or min(seeds) < 0:
        raise argparse.ArgumentTypeError(f"expected non-negative seeds separated by commas, not {text!r}")
    return seeds


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr)


def _progress_printer():
    """Prints a progress line at most every two seconds, and each new stage, once work takes a while."""
    started = time.monotonic()
    last = {"time": 0.0, "stage": ""}

    def report(fraction: float, message: str) -> None:
        stage = message.split(":")[0]
        now = time.monotonic()
        if now - started < 1.0:
            return
        if stage != last["stage"] or now - last["time"] > 2.0 or fraction >= 1.0:
            print(f"[{fraction * 100:5.1f}%] {message}", file=sys.stderr, flush=True)
            last.update(time=now, stage=stage)

    return report
