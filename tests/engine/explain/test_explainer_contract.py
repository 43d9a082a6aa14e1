"""The contract every lens's explainer keeps, run for each lens in the registry on real ml-100k:
explanations know their lens and subject, come sorted the way the explainer declares, serialise to
JSON, are deterministic, and add up exactly where the explainer says it is exact; and its model
exports as ONNX with its vocabulary, which onnxruntime runs like torch."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from engine.api import Engine
from engine.lenses import EXPLAINERS, Explanation, Lens, explainer_class, lens_subjects
from tests.engine.expert_model_fixture import ci_explainer

# Lenses that explain a profile's movies; a lens with a catalogue of its own (the pixel lens's product
# pairs) keeps the same checks for its subjects in its own tests (test_pixel_explainer.py).
LENSES = sorted((lens for lens in EXPLAINERS if lens_subjects(lens) == "movies"), key=lambda lens: lens.value)


@pytest.fixture(scope="module")
def cases(ml100k_engine: Engine):
    """(profile, movie ids) pairs: a dataset user, and an ad-hoc profile with stars and attributes."""
    user = ml100k_engine.user_profile(1)
    ad_hoc = ml100k_engine.make_profile([50, 172, 181, 1], "F", 28, "writer", ratings=[5, 4, 2, 3])
    picks = []
    for profile in (user, ad_hoc):
        top = [r.movie.id for r in ml100k_engine.recommend(profile, 3)]
        picks.append((profile, top + [profile.movies[0]]))  # a held movie too
    return picks


@pytest.fixture(scope="module", params=LENSES, ids=[lens.value for lens in LENSES])
def explained(request, ml100k_engine: Engine, cases):
    lens = request.param
    if lens is Lens.EXPERTS:
        ci_explainer(ml100k_engine)  # CI-sized expert models: the contract does not need the served ones
    ml100k_engine.prepare(lens)
    return lens, [(ids, ml100k_engine.explain_many(profile, ids, lens)) for profile, ids in cases]


def test_each_explanation_knows_its_lens_and_subject(explained):
    lens, runs = explained
    for ids, explanations in runs:
        assert [e.subject for e in explanations] == ids
        for explanation in explanations:
            assert isinstance(explanation, Explanation)
            assert explanation.lens is lens


def test_parts_come_sorted_as_declared(explained):
    lens, runs = explained
    order = explainer_class(lens).order
    key = (lambda v: -v) if order == "value" else (lambda v: -abs(v))
    for _, explanations in runs:
        for explanation in explanations:
            parts = list(explanation.parts)
            assert parts == sorted(parts, key=key), f"{lens.value} parts are not sorted by {order}"


def test_to_dict_is_json_and_names_the_lens(explained):
    lens, runs = explained
    for _, explanations in runs:
        for explanation in explanations:
            data = json.loads(json.dumps(explanation.to_dict(), allow_nan=False))
            assert data["lens"] == lens.value


def test_explanations_are_deterministic(explained, ml100k_engine: Engine, cases):
    lens, runs = explained
    for (profile, ids), (_, first) in zip(cases, runs):
        again = ml100k_engine.explain_many(profile, ids, lens)
        assert [e.to_dict() for e in again] == [e.to_dict() for e in first]


def test_exact_explainers_add_up(explained):
    lens, runs = explained
    if not explainer_class(lens).exact:
        pytest.skip(f"the {lens.value} explainer declares itself an estimate")
    for _, explanations in runs:
        for explanation in explanations:
            total = math.fsum(explanation.parts) + explanation.remainder
            assert total == pytest.approx(explanation.explained, rel=1e-4, abs=1e-5)


def test_the_registry_has_every_built_lens_and_only_those():
    for lens in Lens:
        if lens in EXPLAINERS:
            assert explainer_class(lens).lens is lens


# ----- every lens exports its model as ONNX (engine.export), and onnxruntime runs it like torch -----


@pytest.fixture(scope="module", params=LENSES, ids=[lens.value for lens in LENSES])
def exported(request, ml100k_engine: Engine, tmp_path_factory):
    lens = request.param
    if lens is Lens.EXPERTS:
        ci_explainer(ml100k_engine)
    path = tmp_path_factory.mktemp(f"onnx-{lens.value}") / "model.onnx"
    result = ml100k_engine.export_onnx(lens, path)
    return lens, result, ml100k_engine._explainer(lens).onnx_program()


def test_every_lens_exports_onnx_with_its_vocabulary_beside_it(exported, ml100k_engine: Engine):
    lens, result, _ = exported
    assert result.onnx_path.is_file() and result.vocabulary_path.parent == result.onnx_path.parent
    vocabulary = json.loads(result.vocabulary_path.read_text())
    meta = vocabulary["metadata"]
    assert meta["lens"] == lens.value and meta["dataset"] == ml100k_engine.dataset.name
    assert meta["fingerprint"] == ml100k_engine.dataset.fingerprint and isinstance(meta["opset"], int) and meta["model"]
    assert set(vocabulary["inputs"]) and set(vocabulary["outputs"])


def test_onnxruntime_runs_every_exported_lens_like_torch_at_any_batch_size(exported):
    import onnxruntime
    import torch

    lens, result, program = exported
    runtime = onnxruntime.InferenceSession(str(result.onnx_path), providers=["CPUExecutionProvider"])
    assert [i.name for i in runtime.get_inputs()] == list(program.input_names)
    assert [o.name for o in runtime.get_outputs()] == list(program.output_names)
    for copies in (1, 3):  # the example's batch size and another: the batch axis is dynamic
        inputs = [np.concatenate([a] * copies) for a in program.example_inputs]
        got = runtime.run(None, dict(zip(program.input_names, inputs)))
        with torch.no_grad():
            expected = program.module(*(torch.from_numpy(a) for a in inputs))
        expected = expected if isinstance(expected, tuple) else (expected,)
        for mine, theirs in zip(got, expected):
            assert mine.shape == tuple(theirs.shape) and mine.shape[0] == copies * len(program.example_inputs[0])
            assert np.abs(mine - theirs.numpy()).max() < 1e-5, f"{lens.value}: onnxruntime differs from torch"


def test_the_contract_requires_an_export():
    from engine.lenses import Explainer

    class Unexportable(Explainer):
        lens, exact = Lens.EXPERTS, True
        prepared = True

        def prepare(self, state=None):
            pass

        def explain(self, profile, movie_ids):
            return []

    with pytest.raises(TypeError, match="onnx_program"):
        Unexportable(None)
