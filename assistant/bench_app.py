"""Benchmark of the desktop app, offscreen:

- start: process start -> first Sankey painted with a cached model, each in a fresh process, next to
  a bare `import PySide6.QtWidgets` process timed the same way in the same run; after one untimed
  start, with Python free to keep its compiled bytecode (a user's second start onwards);
- edit: a profile edit -> the updated Sankey painted (random edits: add or remove a movie, change
  gender, age group or occupation), split into the stages it passes through; each edit comes after a
  pause (--pause-ms, default 100 ms: a quick user) in which the window finishes what the last one
  left for after its Sankey (the recommendation list's rows, the save); --pause-ms 0 times edits
  back to back, each then also waiting for the last one's leftovers;
- explanation: one recommendation with its LRP explanation (`Engine.recommend(profile, 1,
  explain=True)` for dataset users), and `Engine.explain` of one movie.

    python -m assistant bench [--dataset ml-100k|ml-1m] [--edits 200] [--pause-ms 100] [--starts 5]
    python -m assistant.bench_app ...

Prints the figures and writes reports/app-<dataset>.json. Wall-clock times depend on what else the
machine runs, so the report also gives CPU seconds and the load average.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Nothing heavy is imported at module level: the start probe runs this module, and its start must
# cost what `python main.py` costs.

STARTUP_MARK = "CINEWHY-FIRST-SANKEY-PAINTED"
BARE_QT_MARK = "CINEWHY-BARE-QT-IMPORTED"
DEFAULT_DATASET = "ml-100k"
REPORTS = Path(__file__).resolve().parents[1] / "reports"
TARGETS = {"start_s": 1.0, "edit_p95_ms": 16.0, "explanation_median_ms": 0.2}
STAGES = ("edit_call", "queued", "engine", "delivered", "layout", "paint")
# CPU per edit, which the load of other processes does not inflate: the UI thread's until the Sankey is
# painted and the worker's (and together), and the UI thread's after it until the next edit.
CPU_PARTS = ("ui_thread_cpu", "worker_cpu", "cpu", "ui_thread_cpu_after")
DEFAULT_PAUSE_MS = 100


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m assistant bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default=DEFAULT_DATASET, help=f"{DEFAULT_DATASET} (default) or ml-1m")
    parser.add_argument("--data", metavar="PATH", type=Path, help="a folder holding the MovieLens files")
    parser.add_argument("--cache-dir", metavar="DIR", type=Path, help="the model cache (train once before timing)")
    parser.add_argument("--edits", type=int, default=200, help="random profile edits to time (default 200)")
    parser.add_argument("--pause-ms", type=int, default=DEFAULT_PAUSE_MS,
                        help=f"idle time before each timed edit (default {DEFAULT_PAUSE_MS}; 0: back to back)")
    parser.add_argument("--starts", type=int, default=5, help="cold starts of the window to time (default 5)")
    parser.add_argument("--explanations", type=int, default=300,
                        help="dataset users whose top recommendation is explained and timed (default 300)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--user", type=int, default=None, help="the dataset user to start from (default: the first)")
    parser.add_argument("--out", type=Path, help="the JSON report (default reports/app-<dataset>.json)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if min(args.edits, args.starts, args.explanations, args.pause_ms) < 0:
        print("error: --edits, --pause-ms, --starts and --explanations must not be negative.", file=sys.stderr)
        return 2
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from engine.api import DataUnavailableError, Engine, EngineError  # after the platform is chosen

    try:
        engine = Engine.load(args.dataset, args.data, offline=True, cache_dir=args.cache_dir,
                             on_first_use=lambda notice: print(notice, file=sys.stderr))
    except EngineError as error:  # e.g. no such data here: one sentence, no traceback
        print(f"error: {error}", file=sys.stderr)
        if isinstance(error, DataUnavailableError) and args.dataset != DEFAULT_DATASET:
            print(f"(Without --dataset the benchmark runs on {DEFAULT_DATASET}.)", file=sys.stderr)
        return 1
    load = os.getloadavg()
    explanations = time_explanations(engine, args.explanations, args.seed)
    edits = time_edits(engine, args.edits, args.seed, args.user, args.pause_ms) if args.edits else None
    starts, bare = [], []
    if args.starts:
        # Untimed: the first start after an install or an edit compiles the project's modules (and
        # may fill the data cache); a user's later starts do not, and those are the ones timed.
        time_start(args)
    for _ in range(args.starts):  # interleaved, so that both see the same load
        bare.append(time_bare_qt())
        starts.append(time_start(args))
    report = {
        "dataset": args.dataset,
        "model": engine.info.variant,
        "catalogue": {"movies": engine.info.n_movies, "users": engine.info.n_users},
        "start_to_first_sankey_s": _start_summary(starts),
        "bare_qt_import_start_s": _start_summary(bare),
        "start_method": "fresh processes after one untimed start; bytecode may be cached (PYTHONDONTWRITEBYTECODE unset)",
        "one_explanation_ms": _summary(explanations["recommend_one"]),
        "one_explanation_cpu_ms": _summary(explanations["recommend_one_cpu"]),
        "explain_one_movie_ms": _summary(explanations["explain"]),
        "explain_shown_movie_ms": _summary(explanations["explain_in_app"]),
        "explain_shown_movie_cpu_ms": _summary(explanations["explain_in_app_cpu"]),
        "explanation_profiles": len(explanations["recommend_one"]),
        "targets": TARGETS,
        "machine": {
            "cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "qt_platform": os.environ.get("QT_QPA_PLATFORM"),
            "load_average_1_5_15": {"before": [round(x, 2) for x in load],
                                    "after": [round(x, 2) for x in os.getloadavg()]},
        },
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": "python -m assistant bench " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    if edits is not None:
        report.update({
            "edit_to_sankey_painted_ms": _summary(edits["total"]),
            "edit_stages_ms": {stage: _summary(edits[stage]) for stage in STAGES},
            "edit_cpu_ms": {part: _summary(edits[part]) for part in CPU_PARTS},
            "edits": len(edits["total"]),
            "edit_pause_ms": args.pause_ms,
            "edit_kinds": edits["kinds"],
            "profile_size": {"min": min(edits["sizes"]), "max": max(edits["sizes"])},
        })
    out = args.out or REPORTS / f"app-{args.dataset}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print("\n".join(summary_lines(report)))
    print(f"wrote {out}")
    return 0


def summary_lines(report: dict) -> list[str]:
    """The report in a few sentences."""
    lines = [f"{report['dataset']} ({report['model']}; load average {report['machine']['load_average_1_5_15']['before']} "
             f"on {report['machine']['cpus']} CPUs):"]
    start, bare = report["start_to_first_sankey_s"], report["bare_qt_import_start_s"]
    if start["runs"]:
        lines.append(
            f"  start -> first Sankey painted: median {start['median']:.2f} s (CPU {start['cpu_median']:.2f} s) "
            f"over {len(start['runs'])} fresh processes {start['runs']}; bare `import PySide6.QtWidgets` in the "
            f"same run: median {bare['median']:.2f} s (CPU {bare['cpu_median']:.2f} s); target {TARGETS['start_s']} s")
    if "edit_to_sankey_painted_ms" in report:
        total = report["edit_to_sankey_painted_ms"]
        stages = ", ".join(f"{name} {value['median']:.2f}" for name, value in report["edit_stages_ms"].items())
        lines.append(f"  edit -> Sankey painted over {report['edits']} random edits: median {total['median']:.1f} ms, "
                     f"p95 {total['p95']:.1f} ms (target p95 {TARGETS['edit_p95_ms']} ms)")
        lines.append(f"    stage medians (ms): {stages}")
        cpu = report["edit_cpu_ms"]
        lines.append(f"    CPU per edit (ms): UI thread median {cpu['ui_thread_cpu']['median']:.2f}, worker median "
                     f"{cpu['worker_cpu']['median']:.2f}; together median {cpu['cpu']['median']:.2f}, "
                     f"p95 {cpu['cpu']['p95']:.2f}; UI thread after the Sankey median "
                     f"{cpu['ui_thread_cpu_after']['median']:.2f} (edits {report.get('edit_pause_ms', 0)} ms apart)")
    one, explain = report["one_explanation_ms"], report["explain_one_movie_ms"]
    if one["median"] is not None and explain["median"] is not None:  # --explanations 0 times none
        lines.append(f"  one explanation (recommend k=1 with LRP) over {report['explanation_profiles']} users: median "
                     f"{one['median']:.3f} ms (CPU {report['one_explanation_cpu_ms']['median']:.3f} ms), p95 "
                     f"{one['p95']:.3f} ms (target median {TARGETS['explanation_median_ms']} ms); "
                     f"Engine.explain of one movie: median {explain['median']:.3f} ms")
    if (report.get("explain_shown_movie_ms") or {}).get("median") is not None:
        shown = report["explain_shown_movie_ms"]
        lines.append(f"  the app's 'why this movie?' (Engine.explain of one of the 20 shown, reusing their scores): "
                     f"median {shown['median']:.3f} ms (CPU {report['explain_shown_movie_cpu_ms']['median']:.3f} ms), "
                     f"p95 {shown['p95']:.3f} ms")
    return lines


def _summary(values: list[float]) -> dict:
    if not values:
        return {"median": None, "p95": None, "mean": None, "max": None}
    ordered = sorted(values)
    return {"median": round(statistics.median(ordered), 3), "p95": round(_percentile(ordered, 95), 3),
            "mean": round(statistics.fmean(ordered), 3), "max": round(ordered[-1], 3)}


def _percentile(ordered: list[float], q: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default)."""
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _start_summary(runs: list[tuple[float, float]]) -> dict:
    walls, cpus = [w for w, _ in runs], [c for _, c in runs]
    return {"runs": [round(w, 3) for w in walls], "median": round(statistics.median(walls), 3) if walls else None,
            "cpu_runs": [round(c, 3) for c in cpus], "cpu_median": round(statistics.median(cpus), 3) if cpus else None}


# ----- explanations -----

def time_explanations(engine, count: int, seed: int) -> dict:
    """Milliseconds of `recommend(profile, 1, explain=True)` and of `explain(profile, that movie)`,
    each for `count` dataset users drawn at random."""
    rng = random.Random(seed)
    users = engine.user_ids()
    chosen = rng.sample(users, min(count, len(users)))
    profiles = [engine.user_profile(u) for u in chosen]
    if profiles:
        engine.recommend(profiles[0], 1, explain=True)  # warm-up
    one, one_cpu, explain, in_app, in_app_cpu = [], [], [], [], []
    for profile in profiles:
        started, cpu = time.perf_counter(), time.thread_time()
        top = engine.recommend(profile, 1, explain=True)
        one.append(1000 * (time.perf_counter() - started))
        one_cpu.append(1000 * (time.thread_time() - cpu))
        if top:
            started = time.perf_counter()
            engine.explain(profile, top[0].movie.id)
            explain.append(1000 * (time.perf_counter() - started))
        # The app's "why this movie?": the list holds 20 recommendations for the profile (the live
        # recommender's DEFAULT_K), and the user picks one of them.
        shown = engine.recommend(profile, 20, explain=True)
        if shown:
            picked = rng.choice(shown).movie.id
            started, cpu = time.perf_counter(), time.thread_time()
            engine.explain(profile, picked)
            in_app.append(1000 * (time.perf_counter() - started))
            in_app_cpu.append(1000 * (time.thread_time() - cpu))
    return {"recommend_one": one, "recommend_one_cpu": one_cpu, "explain": explain,
            "explain_in_app": in_app, "explain_in_app_cpu": in_app_cpu}


# ----- edits -----

def time_edits(engine, count: int, seed: int, user: int | None, pause_ms: int = DEFAULT_PAUSE_MS) -> dict:
    """Apply `count` random edits to a main window and time each until its Sankey is painted, with
    the stages: the edit call on the UI thread, waiting for the worker, the engine, delivering the
    result to the window (list and tabs), the Sankey's layout and its painting. Each edit comes
    `pause_ms` after the last one's Sankey, the window's event loop running meanwhile."""
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from assistant.main_window import MainWindow
    from assistant.storage import ProfileStore
    from engine.api import AGE_BUCKETS, GENDERS, Lens
    from resources import read_text

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setStyleSheet(read_text("style.qss"))
    rng = random.Random(seed)
    movie_ids = [m.id for m in engine.movies()]
    choices = {"gender": [None, *GENDERS], "age": [None, *AGE_BUCKETS], "occupation": [None, *engine.occupations]}
    with tempfile.TemporaryDirectory(prefix="cinewhy-bench-") as folder:
        store = ProfileStore(Path(folder) / "profiles.sqlite3")
        settings = QSettings(str(Path(folder) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(engine, store, settings, start=("user", user or engine.user_ids()[0]))
        window.resize(1400, 900)
        window.show()
        view = window.tabs.panel(Lens.RELEVANCE).view  # the benchmark times the Sankey of the relevance lens
        marks: dict[str, float] = {}
        computed: dict[int, tuple[float, float]] = {}  # generation -> (start, end) on the worker
        worker_cpu: dict[int, float] = {}  # generation -> CPU seconds of the worker thread
        _time_calls(window.live, "_compute", lambda request, start, end, cpu: (
            computed.__setitem__(request.generation, (start, end)), worker_cpu.__setitem__(request.generation, cpu)))
        _time_calls(view, "_compute_layout", lambda *_: _mark_once(marks, "layout", _[-3], _[-2]))
        _time_calls(view, "_render", lambda *_: _mark_once(marks, "render", _[-3], _[-2]))
        state = {"target": None, "done": None, "done_cpu": None}
        loop = QEventLoop()

        def on_painted() -> None:
            result = window.last_result
            # The edit's own result, or a newer one: the window may ask again by itself (the check under
            # the Sankey, a selection that moved), and the worker then drops the superseded result.
            if state["target"] is not None and result is not None and result.generation >= state["target"]:
                state["done"], state["done_cpu"] = time.perf_counter(), time.thread_time()
                state["target"] = None
                loop.quit()

        view.painted.connect(on_painted)
        deadline = QTimer()  # one timer, restarted per edit: a stray earlier timeout must not end a wait
        deadline.setSingleShot(True)
        deadline.setInterval(10_000)
        deadline.timeout.connect(loop.quit)
        stages: dict[str, list[float]] = {name: [] for name in ("total", *STAGES, *CPU_PARTS)}
        sizes, kinds = [], {}

        pause = QEventLoop()

        def run(edit) -> None:
            state["done"] = None
            marks.clear()
            start, ui_cpu = time.perf_counter(), time.thread_time()
            edit()
            called = time.perf_counter()
            state["target"] = target = window.live.generation
            deadline.start()
            if state["done"] is None:
                loop.exec()
            deadline.stop()
            if state["done"] is None:
                shown = window.last_result
                panel = window.tabs.panel(Lens.RELEVANCE)
                raise RuntimeError(
                    f"no Sankey paint within 10 s of an edit: waited for result {target}, the worker is at "
                    f"{window.live.generation}, the window shows {shown.generation if shown else None}; the panel is "
                    f"{panel.state!r}, selected {window.selected}, result selected {shown.selected if shown else None}")
            done, ui_cpu, after_cpu = state["done"], state["done_cpu"] - ui_cpu, state["done_cpu"]
            if pause_ms:  # what the edit left for after its Sankey runs now, before the next edit
                QTimer.singleShot(pause_ms, pause.quit)
                pause.exec()
            after_cpu = time.thread_time() - after_cpu
            begun, finished = computed.get(target, (called, called))
            layout_start, layout_end = marks.get("layout", (None, None))
            render_start, render_end = marks.get("render", (done, done))
            painting_from = layout_start if layout_start is not None else render_start
            stages["total"].append(1000 * (done - start))
            stages["edit_call"].append(1000 * (called - start))
            stages["queued"].append(1000 * max(0.0, begun - called))
            stages["engine"].append(1000 * (finished - begun))
            stages["delivered"].append(1000 * max(0.0, painting_from - finished))
            stages["layout"].append(1000 * (layout_end - layout_start) if layout_start is not None else 0.0)
            stages["paint"].append(1000 * (done - render_start))
            stages["ui_thread_cpu"].append(1000 * ui_cpu)
            stages["worker_cpu"].append(1000 * worker_cpu.get(target, 0.0))
            stages["cpu"].append(stages["ui_thread_cpu"][-1] + stages["worker_cpu"][-1])
            stages["ui_thread_cpu_after"].append(1000 * after_cpu)
            sizes.append(len(window.profile.movies))

        run(lambda: None)  # warm-up: the window's first result and paint
        for values in stages.values():
            values.clear()
        sizes.clear()
        while len(stages["total"]) < count:
            kind = rng.choice(("add", "remove", "attribute"))
            profile = window.profile
            if kind == "remove" and profile.movies:
                movie = rng.choice(profile.movies)
                edit = lambda movie=movie: window.remove_movie(movie)  # noqa: E731
            elif kind in ("add", "remove"):
                kind = "add"
                movie = rng.choice([m for m in rng.sample(movie_ids, 20) if m not in profile.movies])
                edit = lambda movie=movie: window.add_movie(movie)  # noqa: E731
            else:
                field = rng.choice(list(choices))
                value = rng.choice([v for v in choices[field] if v != getattr(profile, field)])
                edit = lambda field=field, value=value: window.set_attribute(field, value)  # noqa: E731
            kinds[kind] = kinds.get(kind, 0) + 1
            run(edit)
        window.live.stop()
        window.close()
        store.close()
    return {**stages, "sizes": sizes, "kinds": kinds}


def _time_calls(owner, name: str, record) -> None:
    """Wrap the Python method `name` of `owner` so that each call reports (args..., start, end,
    CPU seconds of the calling thread)."""
    method = getattr(owner, name)

    def timed(*args, **kwargs):
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            return method(*args, **kwargs)
        finally:
            record(*args, start, time.perf_counter(), time.thread_time() - cpu)

    setattr(owner, name, timed)


def _mark_once(marks: dict, name: str, start: float, end: float) -> None:
    marks.setdefault(name, (start, end))  # the first layout or paint after the edit


# ----- starts -----

def _timed_process(command: list[str], mark: str, env: dict) -> tuple[float, float]:
    """(seconds from launch to the `mark` line the process prints, CPU seconds of the whole process)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    launched = time.time()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[1])
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    for line in done.stdout.splitlines():
        if line.startswith(mark):
            return float(line.split()[1]) - launched, cpu
    raise RuntimeError(f"the timed process failed (exit {done.returncode}): {done.stderr[-2000:]}")


def time_start(args) -> tuple[float, float]:
    """Launch -> first Sankey paint of the real app (main.py's path) with a cached model."""
    command = [sys.executable, "-m", "assistant.bench_app", "--startup-probe", "--dataset", args.dataset]
    if args.data:
        command += ["--data", str(args.data)]
    if args.cache_dir:
        command += ["--cache-dir", str(args.cache_dir)]
    with tempfile.TemporaryDirectory(prefix="cinewhy-start-") as home:
        env = dict(_start_env(), QT_QPA_PLATFORM="offscreen", CINEWHY_DATA_HOME=home, XDG_CONFIG_HOME=home)
        return _timed_process(command, STARTUP_MARK, env)


def time_bare_qt() -> tuple[float, float]:
    """Launch -> `import PySide6.QtWidgets` done, in a fresh process: the floor under any Qt app's start."""
    code = f"import PySide6.QtWidgets, time; print({BARE_QT_MARK!r}, repr(time.time()), flush=True)"
    return _timed_process([sys.executable, "-c", code], BARE_QT_MARK, dict(_start_env(), QT_QPA_PLATFORM="offscreen"))


def _start_env() -> dict:
    """The environment of a timed start: Python may keep the bytecode it compiles, as it does on a
    user's machine (with PYTHONDONTWRITEBYTECODE set, every start compiled ~60 modules again: ~0.2 s)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def startup_probe(argv: list[str]) -> int:
    """Run the real app (main.py's path) and print the wall-clock time of the first Sankey paint."""
    from assistant import app

    def on_ready(window) -> None:
        from engine.api import Lens

        def painted() -> None:
            if window.last_result is not None:
                print(STARTUP_MARK, repr(time.time()), flush=True)
                window.close()

        window.tabs.panel(Lens.RELEVANCE).view.painted.connect(painted)

    return app.main(argv, on_window=on_ready)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--startup-probe"]:
        raise SystemExit(startup_probe(sys.argv[2:]))
    raise SystemExit(main())
