"""The expert lens's static model exported as ONNX: onnxruntime gives the numbers the lens shows (the
numpy serving's shares, expert predictions and probability), for a dataset user and an ad-hoc profile,
a rated movie included (left out of its own pooling inside the graph too)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine.api import Engine, Lens
from engine.export import vocabulary_path
from tests.engine.expert_model_fixture import ci_explainer

onnxruntime = pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def exported(ml100k_engine: Engine, tmp_path_factory):
    explainer = ci_explainer(ml100k_engine)
    path = tmp_path_factory.mktemp("experts-onnx") / "experts.onnx"
    ml100k_engine.export_onnx(Lens.EXPERTS, path)
    runtime = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return explainer, runtime, json.loads(vocabulary_path(path).read_text())


def onnx_inputs(vocabulary: dict, profile, movie_ids) -> dict:
    names = (vocabulary["genders"], vocabulary["ages"], vocabulary["occupations"])
    values = (profile.gender, profile.age, profile.occupation)
    demographics = [names[k].index(v) if v in names[k] else len(names[k]) for k, v in enumerate(values)]
    position = {m: k for k, m in enumerate(vocabulary["movie_ids"])}
    history = np.zeros(len(position), dtype=np.float32)
    history[[position[m] for m in profile.movies]] = 1.0
    n = len(movie_ids)
    return {"demographics": np.tile(np.array(demographics, dtype=np.int64), (n, 1)),
            "history": np.tile(history, (n, 1)),
            "item": np.array([position[m] for m in movie_ids], dtype=np.int64)}


@pytest.mark.parametrize("who", ["user", "ad_hoc"])
def test_onnxruntime_gives_the_lens_numbers(exported, ml100k_engine: Engine, who):
    explainer, runtime, vocabulary = exported
    profile = (ml100k_engine.user_profile(3) if who == "user" else
               ml100k_engine.make_profile([50, 172, 181, 1], "M", 45, "doctor", ratings=[5, 4, 2, 3]))
    ids = [r.movie.id for r in ml100k_engine.recommend(profile, 4)] + [profile.movies[1]]
    predictions, shares, probability = runtime.run(None, onnx_inputs(vocabulary, profile, ids))
    for k, explanation in enumerate(ml100k_engine.explain_many(profile, ids, Lens.EXPERTS)):
        assert shares[k] == pytest.approx([v.share for v in explanation.votes], abs=1e-6)
        assert predictions[k] == pytest.approx([v.prediction for v in explanation.votes], abs=1e-6)
        assert probability[k] == pytest.approx(explanation.probability, abs=1e-6)
        assert probability[k] == pytest.approx(float((shares[k] * predictions[k]).sum()), abs=1e-12)


def test_the_vocabulary_names_the_experts_and_the_gate(exported):
    explainer, _, vocabulary = exported
    assert [e["id"] for e in vocabulary["experts"]] == ["S1", "S2", "S3", "S4"]
    assert vocabulary["metadata"]["model"] == "intrp-mlp" and vocabulary["metadata"]["user_group"] == "profile"
    assert vocabulary["metadata"]["gate"] == explainer.serving.gate.to_dict()
    assert vocabulary["movie_ids"] == explainer.serving.item_ids.tolist()
