"""The pixel lens's relation model as ONNX (engine/export/pixels.py): onnxruntime, reading only the
files, gives the logits the engine serves for 100 catalogue pairs of both shoppers, at batch sizes
other than the example's; the vocabulary says what each input means."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine.export import vocabulary_path
from engine.models.relation_cnn import relation_logits
from tests.engine.pixel_model_fixture import ci_explainer

TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    explainer = ci_explainer()
    path = tmp_path_factory.mktemp("onnx-pixels") / "relation.onnx"
    return explainer, explainer.export_onnx(path)


def test_the_vocabulary_names_the_inputs_and_shoppers(exported):
    explainer, result = exported
    vocabulary = json.loads(vocabulary_path(result.onnx_path).read_text())
    assert vocabulary["metadata"]["lens"] == "pixels" and vocabulary["metadata"]["model"] == "relation-cnn"
    assert vocabulary["metadata"]["fingerprint"] == explainer.catalogue.fingerprint
    assert set(vocabulary["inputs"]) == {"query", "candidate", "shopper"} and set(vocabulary["outputs"]) == {"logit"}
    assert [s["id"] for s in vocabulary["shoppers"]] == list(explainer.shoppers)
    assert "rule-made" in vocabulary["catalogue"]


def test_onnxruntime_gives_the_served_logits_for_100_pairs(exported):
    import onnxruntime

    explainer, result = exported
    runtime = onnxruntime.InferenceSession(str(result.onnx_path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(3)
    images = explainer.catalogue.images
    query, candidate = rng.integers(0, len(images), 100), rng.integers(0, len(images), 100)
    candidate[:5] = query[:5]  # an item with itself: distance 0, logit = offset
    shopper = np.arange(100, dtype=np.int64) % 2
    expected = relation_logits(explainer._module, images, (query, candidate, shopper, np.zeros(100)))
    for rows in (slice(0, 100), slice(0, 1), slice(10, 17)):  # the batch axis is dynamic
        got, = runtime.run(None, {
            "query": (images[query[rows]].astype(np.float32) / 255)[:, None],
            "candidate": (images[candidate[rows]].astype(np.float32) / 255)[:, None],
            "shopper": shopper[rows],
        })
        np.testing.assert_allclose(got, expected[rows], rtol=TOLERANCE, atol=TOLERANCE)
    for row in range(5):
        assert expected[row] == pytest.approx(float(explainer._module.offset.detach()[shopper[row]]), abs=1e-6)
    # And the explanation's logit is that same number.
    e = explainer.explain_pair("brand", int(query[1]), int(candidate[1]))
    assert e.logit == pytest.approx(float(expected[1]), abs=1e-5)


def test_an_unprepared_lens_does_not_export(tmp_path):
    from engine.explain.pixel_explainer import PixelExplainer
    from engine.export import ExportError

    with pytest.raises(ExportError, match="not ready"):
        PixelExplainer(cache_dir=tmp_path).export_onnx(tmp_path / "m.onnx")


def test_the_export_verb_never_loads_movielens_and_names_the_file_after_fashion_mnist(monkeypatch, capsys, tmp_path):
    from engine import heatmap_command
    from engine.api import Engine
    from engine.cli import main
    from tests.engine.pixel_model_fixture import cache_dir, model_options

    ci_explainer()  # trained or loaded once, or skips without Fashion-MNIST
    monkeypatch.setattr(heatmap_command, "MODEL_OPTIONS", model_options())
    monkeypatch.setattr(Engine, "load", lambda *a, **k: pytest.fail("exporting the pixel lens loaded MovieLens"))
    monkeypatch.chdir(tmp_path)
    code = main(["export", "--lens", "pixels", "--offline", "--quiet", "--cache-dir", str(cache_dir())])
    out, err = capsys.readouterr()
    written = tmp_path / "cinewhy-fashion-mnist-pixels-relation-cnn.onnx"
    assert code == 0 and err == ""
    assert written.is_file() and vocabulary_path(written).is_file() and written.name in out
