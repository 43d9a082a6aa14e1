"""`python -m engine export`: each lens's served model as ONNX scores like the engine serves it.

Parity: 100 profiles (dataset users and ad-hoc ones) scored by onnxruntime from the files alone
(inputs built from the vocabulary JSON) against the engine's own answers, within 1e-5; for the
influence lens, 100 (user, movie) predictions of MF (real ML-100k) and of NCF (a small generated
MovieLens folder, trained in seconds). Errors a user can cause are one sentence and cost no training.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest

from engine.api import Engine, Lens
from engine.cli import main
from engine.data.vocabulary import Vocabulary
from engine.errors import Cancelled, EngineError, InvalidInputError
from engine.explain.influence_explainer import InfluenceExplainer
from engine.export import ExportError, check_output_path, vocabulary_path
from engine.export.command import export
from engine.lenses import LensContext
from engine.progress import TaskState

TOLERANCE = 1e-5
GENRES = ("unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
          "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western")


def run_cli(capsys, *argv):
    code = main([*argv, "--quiet"])
    out, err = capsys.readouterr()
    return code, out, err


def session(path: Path) -> onnxruntime.InferenceSession:
    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def read_vocabulary(onnx_path: Path) -> dict:
    return json.loads(vocabulary_path(onnx_path).read_text())


# ----- relevance: RecoNet on ML-100k -----


def hundred_profiles(engine: Engine) -> list:
    """60 dataset users and 40 seeded ad-hoc profiles (stars or none, any attributes, one empty)."""
    users = engine.user_ids()
    profiles = [engine.user_profile(u) for u in users[:: max(1, len(users) // 60)][:60]]
    rng = np.random.default_rng(12)
    movies = [m.id for m in engine.movies()]
    occupations = [None, *engine.occupations]
    profiles.append(engine.make_profile([]))
    while len(profiles) < 100:
        chosen = rng.choice(movies, size=int(rng.integers(1, 40)), replace=False).tolist()
        stars = [None if s == 0 else int(s) for s in rng.integers(0, 6, size=len(chosen))]
        profiles.append(engine.make_profile(
            chosen, rng.choice([None, "F", "M"]), None if rng.random() < 0.2 else int(rng.integers(12, 70)),
            occupations[int(rng.integers(len(occupations)))], ratings=stars,
        ))
    return profiles


def feature_row(vocabulary: dict, profile) -> np.ndarray:
    """The ONNX input row of `profile`, built from the vocabulary file's rule and positions only."""
    positions = vocabulary["inputs"]["features"]["positions"]
    index = {(f["kind"], f["key"]): f["position"] for f in positions}
    meta = vocabulary["metadata"]
    row = np.zeros(len(positions), dtype=np.float32)
    liked = [index["movie", str(m)] for m, r in zip(profile.movies, profile.ratings)
             if r is None or r >= meta["positive_stars"]]
    row[liked] = 1.0
    if meta["use_user_attributes"]:
        for kind, key in (("gender", profile.gender), ("age", profile.age), ("occupation", profile.occupation)):
            if (kind, key) in index:
                row[index[kind, key]] = 1.0
    if meta["use_item_attributes"]:
        for position in liked:
            for genre in positions[position]["genres"]:
                row[index["genre", genre]] = 1.0
    return row


@pytest.fixture(scope="module")
def relevance_export(ml100k_engine: Engine, tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "reconet.onnx"
    return ml100k_engine.export_onnx(Lens.RELEVANCE, path)


def test_relevance_onnx_scores_100_profiles_like_the_engine(ml100k_engine: Engine, relevance_export):
    vocabulary = read_vocabulary(relevance_export.onnx_path)
    profiles = hundred_profiles(ml100k_engine)
    batch = np.stack([feature_row(vocabulary, p) for p in profiles])
    logits, probabilities = session(relevance_export.onnx_path).run(None, {"features": batch})
    assert logits.shape == probabilities.shape == (100, len(vocabulary["outputs"]["logits"]["movie_ids"]))
    column = {m: c for c, m in enumerate(vocabulary["outputs"]["logits"]["movie_ids"])}
    worst_logit = worst_probability = 0.0
    n_movies = len(ml100k_engine.movies())
    for row, profile in enumerate(profiles):
        served = ml100k_engine.recommend(profile, n_movies)  # every movie the profile does not hold
        assert len(served) == n_movies - len(profile.movies)
        columns = [column[r.movie.id] for r in served]
        worst_logit = max(worst_logit, np.abs(logits[row, columns] - [r.logit for r in served]).max())
        worst_probability = max(worst_probability,
                                np.abs(probabilities[row, columns] - [r.probability for r in served]).max())
    assert worst_logit < TOLERANCE and worst_probability < TOLERANCE
    print(f"relevance: max |onnx - served| logit {worst_logit:.2e}, probability {worst_probability:.2e}")


def test_relevance_export_names_its_model_and_data(ml100k_engine: Engine, relevance_export):
    vocabulary = read_vocabulary(relevance_export.onnx_path)
    meta = vocabulary["metadata"]
    assert (meta["lens"], meta["model"], meta["dataset"]) == ("relevance", "reconet", "ml-100k")
    assert meta["fingerprint"] == ml100k_engine.dataset.fingerprint and meta["opset"] == 17
    stored = {p.key: p.value for p in onnx.load(str(relevance_export.onnx_path)).metadata_props}
    assert stored["fingerprint"] == meta["fingerprint"] and stored["lens"] == "relevance"
    positions = vocabulary["inputs"]["features"]["positions"]
    assert [p["position"] for p in positions] == list(range(len(positions)))
    assert {p["kind"] for p in positions} == {"movie", "gender", "age", "occupation", "genre"}
    assert relevance_export.onnx_bytes == relevance_export.onnx_path.stat().st_size > 0


# ----- influence: MF on ML-100k -----


def test_mf_onnx_predicts_100_user_movie_pairs_like_the_influence_lens(ml100k_engine: Engine, tmp_path):
    exported = ml100k_engine.export_onnx(Lens.INFLUENCE, tmp_path / "mf.onnx")
    vocabulary = read_vocabulary(exported.onnx_path)
    assert (vocabulary["metadata"]["lens"], vocabulary["metadata"]["model"]) == ("influence", "mf")
    rng = np.random.default_rng(3)
    users = rng.choice(vocabulary["user_ids"], 100)
    movies = rng.choice(vocabulary["movie_ids"], 100)
    worst = compare_predictions(ml100k_engine, exported.onnx_path, vocabulary, users, movies,
                                lambda u, m: ml100k_engine.explain(ml100k_engine.user_profile(u), m, Lens.INFLUENCE))
    print(f"influence mf: max |onnx - served| {worst:.2e}")


def compare_predictions(engine, onnx_path, vocabulary, users, movies, explain) -> float:
    user_position = {u: p for p, u in enumerate(vocabulary["user_ids"])}
    movie_position = {m: p for p, m in enumerate(vocabulary["movie_ids"])}
    inputs = {"user": np.array([user_position[int(u)] for u in users], dtype=np.int64),
              "item": np.array([movie_position[int(m)] for m in movies], dtype=np.int64)}
    (predicted,) = session(onnx_path).run(None, inputs)
    served = np.array([explain(int(u), int(m)).predicted_rating for u, m in zip(users, movies)])
    assert predicted.shape == (len(users),) and predicted.dtype == np.float64
    worst = float(np.abs(predicted - served).max())
    assert worst < TOLERANCE
    return worst


# ----- a small generated MovieLens folder: everything trains in seconds -----


def write_small_movielens(folder: Path, n_users: int = 40, n_movies: int = 50, seed: int = 0) -> Path:
    """Generated ratings from a rank-2 taste model, in MovieLens 100k's file shapes."""
    rng = np.random.default_rng(seed)
    taste, kind = rng.normal(size=(n_users, 2)), rng.normal(size=(n_movies, 2))
    rows = []
    for user in range(n_users):
        for movie in rng.choice(n_movies, 18, replace=False):
            stars = int(np.clip(np.rint(3.2 + taste[user] @ kind[movie] + rng.normal(0, 0.5)), 1, 5))
            rows.append(f"{user + 1}\t{movie + 1}\t{stars}\t{880000000 + len(rows)}\n")
    occupations = ("writer", "student", "technician", "other")
    users = [f"{u + 1}|{18 + u % 40}|{'FM'[u % 2]}|{occupations[u % 4]}|0000{u % 10}\n" for u in range(n_users)]
    movies = []
    for movie in range(n_movies):
        flags = "|".join("1" if g in (GENRES[1 + movie % 18], GENRES[1 + movie % 5]) else "0" for g in GENRES)
        movies.append(f"{movie + 1}|Movie {movie + 1} (199{movie % 10})|01-Jan-1995||http://example.org/{movie}|{flags}\n")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "u.data").write_text("".join(rows), encoding="latin-1")
    (folder / "u.user").write_text("".join(users), encoding="latin-1")
    (folder / "u.item").write_text("".join(movies), encoding="latin-1")
    (folder / "u.genre").write_text("".join(f"{g}|{i}\n" for i, g in enumerate(GENRES)) + "\n", encoding="latin-1")
    return folder


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A generated MovieLens folder and a cache of its own, where the CLI has exported NCF."""
    root = tmp_path_factory.mktemp("small")
    return write_small_movielens(root / "ml-100k"), root / "cache"


def small_args(small) -> list[str]:
    folder, cache = small
    return ["--data", str(folder), "--cache-dir", str(cache), "--offline"]


def test_the_cli_trains_ncf_when_missing_and_its_onnx_predicts_like_the_lens(capsys, small, tmp_path):
    folder, cache = small
    output = tmp_path / "out" / "ncf.onnx"
    code, out, err = run_cli(capsys, "export", "--lens", "influence", "--model", "ncf", "--output", str(output),
                             *small_args(small))
    assert code == 0, err
    assert f"Wrote {output}" in out and vocabulary_path(output).is_file()
    vocabulary = read_vocabulary(output)
    assert (vocabulary["metadata"]["model"], vocabulary["metadata"]["factors"]) == ("ncf", 16)
    engine = Engine.load("ml-100k", folder, offline=True, cache_dir=cache)
    explainer = InfluenceExplainer(_context(engine, cache), "ncf")
    explainer.prepare()  # loads what the export trained
    assert any(p.name.startswith("ml-100k-influence-ncf") for p in (cache / "models").iterdir())
    rng = np.random.default_rng(5)
    users, movies = rng.choice(vocabulary["user_ids"], 100), rng.choice(vocabulary["movie_ids"], 100)
    worst = compare_predictions(engine, output, vocabulary, users, movies,
                                lambda u, m: explainer.explain(engine.user_profile(u), [m])[0])
    print(f"influence ncf: max |onnx - served| {worst:.2e}")


def test_the_default_output_is_named_after_dataset_lens_and_model(capsys, small, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "export", "--lens", "influence", *small_args(small))
    assert code == 0, err
    assert (tmp_path / "cinewhy-ml-100k-influence-mf.onnx").is_file()
    assert (tmp_path / "cinewhy-ml-100k-influence-mf.vocabulary.json").is_file()


def _context(engine: Engine, cache: Path) -> LensContext:
    return LensContext(engine.dataset, engine.catalogue, cache, None, Vocabulary(engine.dataset))


# ----- errors: one sentence, exit 2, nothing trained -----


@pytest.mark.parametrize("output, message", [
    ("{tmp}/a-file/model.onnx", "is a file, not a folder"),
    ("{tmp}", "is a folder"),
])
def test_an_unusable_output_path_fails_before_anything_is_trained(capsys, tmp_path, output, message):
    data = write_small_movielens(tmp_path / "ml-100k")
    (tmp_path / "a-file").write_text("not a folder")
    cache = tmp_path / "fresh-cache"
    code, out, err = run_cli(capsys, "export", "--lens", "relevance", "--output", output.format(tmp=tmp_path),
                             "--data", str(data), "--cache-dir", str(cache), "--offline")
    assert code == 2 and message in err and err.startswith("error: ") and "Traceback" not in err
    assert not (cache / "models").exists()  # the check ran before RecoNet was trained


def test_the_vocabulary_path_being_a_folder_is_refused(tmp_path):
    (tmp_path / "m.vocabulary.json").mkdir()
    with pytest.raises(ExportError, match="vocabulary"):
        check_output_path(tmp_path / "m.onnx")


@pytest.mark.parametrize("argv, message", [
    (["--lens", "experts", "--model", "mf"], "exports intrp-mlp"),
    (["--lens", "relevance", "--model", "ncf"], "exports reconet"),
    (["--lens", "influence", "--model", "svd"], "exports mf or ncf"),
])
def test_a_lens_or_model_that_cannot_be_exported_is_one_sentence(capsys, tmp_path, argv, message):
    code, _, err = run_cli(capsys, "export", *argv, "--output", str(tmp_path / "x.onnx"),
                           "--data", str(tmp_path / "nowhere"), "--offline")
    assert code == 2 and message in err and err.count("\n") == 1


def test_an_unknown_lens_is_refused(capsys, ml100k_engine: Engine, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        main(["export", "--lens", "sentiment"])
    assert exit_.value.code == 2 and "invalid choice: 'sentiment'" in capsys.readouterr().err
    with pytest.raises(InvalidInputError, match="Unknown lens 'sentiment'"):
        ml100k_engine.export_onnx("sentiment", tmp_path / "x.onnx")


def test_a_cancelled_training_writes_nothing(small, tmp_path):
    folder, _ = small
    cache = tmp_path / "cache"  # NCF is not trained here yet
    engine = Engine.load("ml-100k", folder, offline=True, cache_dir=small[1])
    output = tmp_path / "ncf.onnx"
    with pytest.raises(Cancelled):
        export(engine, Lens.INFLUENCE, output, "ncf", cache, TaskState(should_cancel=lambda: True))
    assert not output.exists() and not vocabulary_path(output).exists()


def test_an_unprepared_model_is_not_exported(small, tmp_path):
    folder, cache = small
    engine = Engine.load("ml-100k", folder, offline=True, cache_dir=cache)
    explainer = InfluenceExplainer(_context(engine, cache), "mf")
    with pytest.raises(ExportError, match="not ready"):
        explainer.export_onnx(tmp_path / "mf.onnx")
    assert not (tmp_path / "mf.onnx").exists()
    assert isinstance(ExportError("x"), EngineError)


def test_serving_does_not_import_torch():
    """Exporting needs torch; loading the facade and the lens registry must not (a fast start)."""
    import subprocess
    import sys

    code = "import sys, engine.api, engine.lenses, engine.export, engine.cli; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.stdout.strip() == "False", result.stderr
