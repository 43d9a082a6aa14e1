"""Benchmark of the desktop app, offscreen: the time from a profile edit to the updated Sankey being
painted (over random edits: add or remove a movie, change gender, age group or occupation), and the
window's start time with a cached model (process start -> first Sankey painted, in a subprocess).

    python -m assistant bench [--dataset ml-1m] [--edits 200] [--starts 3]
    python -m assistant.bench_app ...

Prints the figures and writes reports/app-<dataset>.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

STARTUP_MARK = "CINEWHY-FIRST-SANKEY-PAINTED"
REPORTS = Path(__file__).resolve().parents[1] / "reports"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m assistant bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="ml-1m", help="ml-1m (default) or ml-100k")
    parser.add_argument("--data", metavar="PATH", type=Path, help="a folder holding the MovieLens files")
    parser.add_argument("--cache-dir", metavar="DIR", type=Path, help="the model cache (train once before timing)")
    parser.add_argument("--edits", type=int, default=200, help="random profile edits to time (default 200)")
    parser.add_argument("--starts", type=int, default=3, help="cold starts of the window to time (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--user", type=int, default=None, help="the dataset user to start from (default: the first)")
    parser.add_argument("--out", type=Path, help="the JSON report (default reports/app-<dataset>.json)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from engine.api import Engine  # after the platform is chosen

    engine = Engine.load(args.dataset, args.data, offline=True, cache_dir=args.cache_dir,
                         on_first_use=lambda notice: print(notice, file=sys.stderr))
    edits = time_edits(engine, args.edits, args.seed, args.user)
    starts = [time_start(args) for _ in range(args.starts)]
    report = {
        "dataset": args.dataset,
        "model": engine.info.variant,
        "catalogue": {"movies": engine.info.n_movies, "users": engine.info.n_users},
        "edit_to_sankey_painted_ms": _summary(edits["total_ms"]),
        "engine_ms": _summary(edits["engine_ms"]),
        "edits": len(edits["total_ms"]),
        "edit_kinds": edits["kinds"],
        "profile_size": {"min": min(edits["sizes"]), "max": max(edits["sizes"])},
        "start_to_first_sankey_s": {"runs": [round(s, 3) for s in starts],
                                    "median": round(float(np.median(starts)), 3) if starts else None},
        "targets": {"edit_p95_ms": 50, "start_s": 3},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "qt_platform": os.environ.get("QT_QPA_PLATFORM")},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": "python -m assistant bench " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    out = args.out or REPORTS / f"app-{args.dataset}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    total = report["edit_to_sankey_painted_ms"]
    print(f"{args.dataset}: edit -> Sankey painted over {report['edits']} random edits: "
          f"median {total['median']:.1f} ms, p95 {total['p95']:.1f} ms (target p95 < 50 ms); "
          f"engine part: median {report['engine_ms']['median']:.1f} ms, p95 {report['engine_ms']['p95']:.1f} ms")
    if starts:
        print(f"start with a cached model -> first Sankey painted: median {np.median(starts):.2f} s "
              f"over {len(starts)} runs {report['start_to_first_sankey_s']['runs']} (target < 3 s)")
    print(f"wrote {out}")
    return 0


def _summary(values: list[float]) -> dict:
    array = np.asarray(values, dtype=np.float64)
    return {"median": round(float(np.median(array)), 2), "p95": round(float(np.percentile(array, 95)), 2),
            "mean": round(float(array.mean()), 2), "max": round(float(array.max()), 2)}


def time_edits(engine, count: int, seed: int, user: int | None) -> dict:
    """Apply `count` random edits to a main window and time each until its Sankey is painted."""
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
        state = {"target": None, "done": None}
        loop = QEventLoop()

        def on_painted() -> None:
            result = window.last_result
            if state["target"] is not None and result is not None and result.generation == state["target"]:
                state["done"] = time.perf_counter()
                loop.quit()

        view.painted.connect(on_painted)
        totals, engine_ms, sizes, kinds = [], [], [], {}

        def run(edit) -> None:
            state["done"] = None
            start = time.perf_counter()
            edit()
            state["target"] = window.live.generation
            QTimer.singleShot(10_000, loop.quit)
            if state["done"] is None:
                loop.exec()
            if state["done"] is None:
                raise RuntimeError("no Sankey paint within 10 s of an edit")
            totals.append(1000 * (state["done"] - start))
            engine_ms.append(1000 * window.last_result.seconds)
            sizes.append(len(window.profile.movies))

        run(lambda: None)  # warm-up: the window's first result and paint
        totals.clear(), engine_ms.clear(), sizes.clear()
        while len(totals) < count:
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
        window.close()
        store.close()
    return {"total_ms": totals, "engine_ms": engine_ms, "sizes": sizes, "kinds": kinds}


def time_start(args) -> float:
    """Seconds from launching `python main.py` to its first Sankey paint, with a cached model."""
    command = [sys.executable, "-m", "assistant.bench_app", "--startup-probe", "--dataset", args.dataset]
    if args.data:
        command += ["--data", str(args.data)]
    if args.cache_dir:
        command += ["--cache-dir", str(args.cache_dir)]
    with tempfile.TemporaryDirectory(prefix="cinewhy-start-") as home:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CINEWHY_DATA_HOME=home, XDG_CONFIG_HOME=home)
        launched = time.time()
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300,
                              cwd=Path(__file__).resolve().parents[1])
    for line in done.stdout.splitlines():
        if line.startswith(STARTUP_MARK):
            return float(line.split()[1]) - launched
    raise RuntimeError(f"the start probe failed (exit {done.returncode}): {done.stderr[-2000:]}")


def startup_probe(argv: list[str]) -> int:
    """Run the real app (main.py's path) and print the wall-clock time of the first Sankey paint."""
    from assistant import app
    from engine.api import Lens

    def on_ready(window) -> None:
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
