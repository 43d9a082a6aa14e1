"""The influence benchmark runs end to end on a tiny dataset and writes both reports."""
import json

import numpy as np
import pytest

from engine.cli import build_parser
from engine.data.types import Dataset, Interactions, Movie, User
from engine.evaluation import bench_influence
from engine.models.mf import MFConfig
from engine.models.ncf import NCFConfig


def _dataset(n_users=40, n_items=25, per_user=12, seed=0) -> Dataset:
    rng = np.random.default_rng(seed)
    taste = rng.normal(size=(n_users, 2)) @ rng.normal(size=(2, n_items))
    users, items = [], []
    for user in range(n_users):
        chosen = rng.choice(n_items, size=per_user, replace=False)
        users += [user + 1] * per_user
        items += list(chosen + 1)
    users, items = np.array(users), np.array(items)
    stars = np.clip(np.round(3.5 + taste[users - 1, items - 1] + rng.normal(0, 0.5, len(users))), 1, 5)
    movies = {i: Movie(i, f"Movie {i}", 1990, ("Drama",)) for i in range(1, n_items + 1)}
    people = {u: User(u, "F", "25-34", "writer") for u in range(1, n_users + 1)}
    return Dataset("tiny-ratings", movies, people, Interactions(users, items, stars.astype(np.float32)))


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reports")
    result = bench_influence.run_on(
        _dataset(), seed=3, points=6, output_dir=folder, ia_points=1, ia_seconds=5.0, timing_pairs=10,
        mf_config=MFConfig(factors=3, reg=2.0, reg_bias=1.0, sweeps=10),
        ncf_config=NCFConfig(factors=3, hidden=4, l2=3.0, adam_epochs=20, batch_size=64, learning_rate=1e-2),
        ncf_retrain={"epochs": 10, "learning_rate": 3e-3, "seeds": 2},
        command="python -m engine bench influence --dataset tiny-ratings --seed 3 --points 6",
    )
    return result, folder


def test_writes_both_reports_with_the_required_figures(report):
    result, folder = report
    written = json.loads((folder / "influence-tiny-ratings.json").read_text())
    markdown = (folder / "influence-tiny-ratings.md").read_text()
    assert written == json.loads(json.dumps(result))
    for key in ("command", "date", "seed", "machine", "rmse", "models", "counts", "protocol"):
        assert key in written
    assert set(written["rmse"]) == {"global mean", "user+item biases", "mf", "ncf"}
    for name in ("mf", "ncf"):
        model = written["models"][name]
        assert len(model["points"]) == 6
        for key in ("pearson_r", "spearman_rho", "fia_ms", "ia", "training", "config"):
            assert key in model
        assert model["fia_ms"]["median"] > 0 and model["ia"]["points"] == 1
        assert model["ia"]["speedup_ia_over_fia"] > 0
        assert f"| {name} |" in markdown
    assert "--seed 3" in markdown and "Pearson R" in markdown


def test_removed_ratings_are_the_largest_estimates_and_mf_matches_its_retrains(report):
    result, _ = report
    mf = result["models"]["mf"]
    for point in mf["points"]:
        assert point["removed"]["kind"] in ("own", "other")
        assert abs(point["control_drift"]) < 1e-6  # MF is retrained deterministically from a stationary point
    # tiny and nearly convex: FIA's estimates follow the exact retrains closely
    assert mf["pearson_r"] > 0.9
    assert mf["sign_agreement"] == 1.0


def test_the_seed_changes_the_held_out_points(report):
    result, folder = report
    other = bench_influence.run_on(
        _dataset(), seed=4, points=2, output_dir=folder / "other", ia_points=0, timing_pairs=3,
        mf_config=MFConfig(factors=3, reg=2.0, reg_bias=1.0, sweeps=10),
        ncf_config=NCFConfig(factors=3, hidden=4, l2=3.0, adam_epochs=2, batch_size=64),
        ncf_retrain={"epochs": 1, "learning_rate": 1e-3, "seeds": 1},
    )
    first = {(p["user"], p["item"]) for p in result["models"]["mf"]["points"]}
    second = {(p["user"], p["item"]) for p in other["models"]["mf"]["points"]}
    assert first != second and other["seed"] == 4


def test_correlations_of_known_cases():
    x = np.array([0.1, -0.2, 0.3, 0.05, -0.4])
    assert bench_influence._pearson(x, 2 * x + 0.01) == pytest.approx(1.0)
    assert bench_influence._pearson(x, -x) == pytest.approx(-1.0)
    assert bench_influence._spearman(x, x ** 3) == pytest.approx(1.0)  # monotone, not linear
    assert bench_influence._pearson(x, np.zeros(5)) is None  # undefined, reported as n/a


def test_command_line_accepts_the_suite():
    args = build_parser().parse_args(["bench", "influence", "--dataset", "ml-1m", "--seed", "7", "--points", "5"])
    assert (args.suite, args.dataset, args.seed, args.points) == ("influence", "ml-1m", 7, 5)
