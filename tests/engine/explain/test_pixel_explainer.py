"""The pixel lens's explainer on a CI-sized model of the real Fashion-MNIST catalogue: its explanation
carries explain_pairs' numbers unchanged, adds up exactly, keeps the lens contract for product pairs
(test_explainer_contract.py covers the movie lenses), finds the planted mark, ranks related items by
the model's logit, and refuses bad input with one sentence."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from engine.errors import InvalidInputError, LensUnavailableError
from engine.lenses import EXPLAINERS, Explanation, Lens, explainer_class, lens_subjects
from tests.engine.pixel_model_fixture import cache_dir, ci_explainer, model_options


@pytest.fixture(scope="module")
def explainer():
    return ci_explainer()


@pytest.fixture(scope="module")
def pairs(explainer):
    """Brand test pairs: related ones and hard negatives (other mark, same class), several shoppers."""
    from engine.data.product_catalogue import PAIR_KINDS, sample_pairs

    sample = sample_pairs(explainer.catalogue, "brand", 400, seed=99)
    hard = PAIR_KINDS.index("other mark, same class")
    negatives = [(int(q), int(c)) for q, c, k in zip(sample.query, sample.candidate, sample.kind) if k == hard]
    positives = [(int(q), int(c)) for q, c, r in zip(sample.query, sample.candidate, sample.related) if r]
    return negatives[:30], positives[:10]


def test_the_pixel_lens_is_registered_and_explains_products():
    assert EXPLAINERS[Lens.PIXELS].endswith(":PixelExplainer")
    cls = explainer_class(Lens.PIXELS)
    assert cls.lens is Lens.PIXELS and cls.exact and lens_subjects(Lens.PIXELS) == "products"
    assert lens_subjects(Lens.RELEVANCE) == "movies"


def test_the_explanation_carries_explain_pairs_numbers(explainer):
    from engine.explain.pixel_explainer import _one_torch_thread
    from engine.explain.pixel_lrp import COMPOSITE, explain_pairs

    images = explainer.catalogue.images
    explanation = explainer.explain_pair("brand", 12, 345)
    with _one_torch_thread():  # as the explainer runs it: the same sums in the same order
        relevance = explain_pairs(explainer._module, images[[12]], images[[345]], 1, COMPOSITE)
    assert (explanation.query.id, explanation.candidate.id, explanation.shopper) == (12, 345, "brand")
    for name in ("logit", "offset", "distance", "similarity"):
        assert getattr(explanation, name) == float(getattr(relevance, name)[0])
    for view in ("net", "shared"):
        maps = explanation.heatmaps(view)
        for image in ("query", "candidate"):
            np.testing.assert_array_equal(np.array(getattr(maps, image)), relevance.maps[view][image][0])
            kept = relevance.bias[view][image][0] + relevance.absorbed[view][image][0]
            assert getattr(maps, f"{image}_kept_back") == pytest.approx(float(kept), abs=1e-12)
    assert explanation.conservation_error == relevance.conservation_error
    assert dict(explanation.layer_error) == relevance.layer_error and explanation.rules == relevance.rules
    assert explanation.probability == pytest.approx(float(relevance.probability[0]), rel=1e-6)


def test_items_describe_the_catalogue(explainer):
    item = explainer.item(345)
    described = explainer.catalogue.describe(345)
    assert item.to_dict() == described
    assert explainer.image(345).shape == (28, 28) and explainer.image(345).dtype == np.uint8
    row, col, height, width = item.mark_box
    assert (explainer.image(345)[row:row + height, col:col + width] > 0).any()  # the planted mark is there


def test_parts_and_remainder_add_up_to_the_logit_and_the_shared_view_to_the_similarity(explainer, pairs):
    negatives, positives = pairs
    for shopper in ("brand", "style"):
        for query, candidate in negatives[:5] + positives[:5]:
            e = explainer.explain_pair(shopper, query, candidate)
            assert isinstance(e, Explanation) and e.lens is Lens.PIXELS and e.subject == candidate
            assert e.explained == e.logit
            assert math.fsum(e.parts) + e.remainder == pytest.approx(e.logit, abs=1e-4)
            assert list(e.parts) == sorted(e.parts, reverse=True)  # the explainer's declared order: by value
            assert e.logit == pytest.approx(e.offset - e.distance, abs=1e-5)
            for image in ("query", "candidate"):
                total = e.shared.total(image) + getattr(e.shared, f"{image}_kept_back")
                assert total == pytest.approx(e.similarity, abs=1e-4 * max(1.0, abs(e.similarity)))
            assert e.conservation_error <= 1e-4 * max(1.0, abs(e.logit))


def test_the_json_round_trips(explainer, pairs):
    query, candidate = pairs[0][0]
    data = explainer.explain_pair("brand", query, candidate).to_dict()
    again = json.loads(json.dumps(data, allow_nan=False))
    assert again == data
    assert again["lens"] == "pixels" and len(again["views"]["net"]["query"]) == 28
    assert set(again["mark_mass"]) == {"why_not", "why_related"}


def test_explanations_are_deterministic_and_survive_a_reload_from_the_cache(explainer):
    from engine.explain.pixel_explainer import PixelExplainer

    first = explainer.explain_pair("brand", 7, 70).to_dict()
    assert explainer.explain_pair("brand", 7, 70).to_dict() == first
    reloaded = PixelExplainer(cache_dir=cache_dir(), offline=True, **model_options())
    assert not reloaded.prepared
    reloaded.prepare()
    assert reloaded.manifest["training"] == explainer.manifest["training"]  # loaded, not retrained
    assert reloaded.explain_pair("brand", 7, 70).to_dict() == first
    # The test catalogue's features for `related` are cached beside the model, keyed by its weights.
    np.testing.assert_array_equal(reloaded.logits_against("brand", 7), explainer.logits_against("brand", 7))
    assert list(cache_dir().glob("models/fashion-mnist-pixels-test-features-*/weights.npz"))


def test_the_mark_mass_is_the_positive_share_on_both_planted_marks(explainer):
    e = explainer.explain_pair("brand", 21, 22)
    regions = explainer.catalogue.marks.region([21, 22])
    for key, view, sign in (("why_not", "net", -1.0), ("why_related", "shared", 1.0)):
        maps = np.stack([np.array(e.heatmaps(view).query), np.array(e.heatmaps(view).candidate)]) * sign
        positive = np.clip(maps, 0, None)
        assert e.mark_share(key) == pytest.approx(positive[regions].sum() / positive.sum(), rel=1e-9)


def test_the_ci_model_puts_the_why_not_relevance_on_the_planted_marks(explainer, pairs):
    """The issue's bar (>= 0.35) for brand hard negatives: same garment, the other mark."""
    negatives, _ = pairs
    assert len(negatives) >= 20
    explanations = [explainer.explain_pair("brand", q, c) for q, c in negatives]
    assert sum(not e.related for e in explanations) >= 0.9 * len(explanations)  # the model learned the marks
    mass = float(np.mean([e.mark_share("why_not") for e in explanations]))
    assert mass >= 0.35, f"why-not mark mass {mass:.3f}"


def test_related_items_are_ranked_by_the_models_logit(explainer):
    from engine.models.relation_cnn import relation_logits

    related = explainer.related("brand", 5, k=6)
    assert len(related) == 6 and 5 not in [item.id for item, _ in related]
    probabilities = [p for _, p in related]
    assert probabilities == sorted(probabilities, reverse=True)
    logits = explainer.logits_against("brand", 5)
    others = np.delete(np.arange(len(logits)), 5)
    assert min(logits[item.id] for item, _ in related) >= np.sort(logits[others])[-6]
    # The cached features give the same logits as the model run on the images.
    ids = np.array([item.id for item, _ in related] + [0, 1, 2])
    direct = relation_logits(explainer._module, explainer.catalogue.images,
                             (np.full(len(ids), 5), ids, np.ones(len(ids), dtype=np.int64), np.zeros(len(ids))))
    np.testing.assert_allclose(logits[ids], direct, rtol=1e-4, atol=1e-4)
    top = explainer.explain_pair("brand", 5, related[0][0].id)
    assert top.probability == pytest.approx(related[0][1], abs=1e-5)
    # The brand shopper's best matches carry the query's mark.
    brand = explainer.item(5).brand
    assert sum(item.brand == brand for item, _ in explainer.related("brand", 5, k=20)) >= 18


def test_sample_queries_vary_over_classes_and_brands(explainer):
    queries = explainer.sample_queries(12, seed=0)
    assert len(set(queries)) == 12 and queries == explainer.sample_queries(12, seed=0)
    assert queries != explainer.sample_queries(12, seed=1)
    items = [explainer.item(q) for q in queries]
    assert len({i.garment for i in items}) >= 6 and len({i.brand for i in items}) == 2
    assert len({(i.garment, i.brand) for i in items}) == 12


@pytest.mark.parametrize("call, words", [
    (lambda e: e.explain_pair("shoes", 1, 2), "Unknown shopper"),
    (lambda e: e.explain_pair("brand", 1, 10_000), "no catalogue item 10000"),
    (lambda e: e.explain_pair("brand", -1, 2), "no catalogue item -1"),
    (lambda e: e.explain_pair("brand", True, 2), "no catalogue item True"),
    (lambda e: e.explain_pair("brand", 1, 2, rules="magic"), "Unknown rule set"),
    (lambda e: e.related("brand", 1, k=0), "at least one"),
    (lambda e: e.item("3"), "no catalogue item '3'"),
])
def test_bad_input_is_one_sentence(explainer, call, words):
    with pytest.raises(InvalidInputError) as raised:
        call(explainer)
    assert words in str(raised.value) and "\n" not in str(raised.value)


def test_it_refuses_to_explain_a_movie(explainer):
    with pytest.raises(LensUnavailableError, match="not movies"):
        explainer.explain(None, [1])


def test_an_unprepared_explainer_says_so():
    from engine.explain.pixel_explainer import PixelExplainer

    fresh = PixelExplainer(cache_dir=cache_dir(), offline=True)
    assert not fresh.prepared
    with pytest.raises(LensUnavailableError, match="not ready"):
        fresh.item(1)


def test_availability_is_a_look_for_the_files(monkeypatch, tmp_path):
    from engine.data import fashion_mnist
    from engine.explain.pixel_explainer import PixelExplainer

    model_options()  # skips without the data
    assert PixelExplainer.unavailable_reason(None) is None
    monkeypatch.setenv("CINEWHY_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("CINEWHY_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(fashion_mnist, "DEBIAN_FOLDER", tmp_path / "debian")
    reason = PixelExplainer.unavailable_reason(None)
    assert reason is not None and "Fashion-MNIST" in reason and "python -m engine heatmap" in reason
    assert str(tmp_path / "data" / "fashion-mnist") in reason and "\n" not in reason


def test_the_engine_hands_out_the_pixel_explainer_unprepared(ml100k_engine):
    from engine.explain.pixel_explainer import PixelExplainer

    model_options()  # skips without Fashion-MNIST
    assert ml100k_engine.lenses()[Lens.PIXELS] is None
    explainer = ml100k_engine.explainer(Lens.PIXELS)
    assert isinstance(explainer, PixelExplainer) and explainer is ml100k_engine.explainer("pixels")
    assert explainer.cache_dir == ml100k_engine._context.cache_dir
    if not explainer.prepared:  # preparing here would train the app's model: another test's job
        assert not ml100k_engine.is_prepared(Lens.PIXELS)


def test_overlapping_explanations_restore_torch_threads():
    """Two explanations on two threads whose one-thread spans overlap (the first leaves while the
    second runs) leave torch's process-wide setting as it was, and each runs on one thread."""
    import torch

    from engine.explain.pixel_explainer import _one_torch_thread

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        first = _one_torch_thread()
        second = _one_torch_thread()
        first.__enter__()
        second.__enter__()  # saves 1 under a naive save-and-restore
        first.__exit__(None, None, None)  # the naive version restores 2 while the second still runs
        assert torch.get_num_threads() == 1
        second.__exit__(None, None, None)  # and then leaves 1 behind for good
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
