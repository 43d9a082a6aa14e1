"""The pixel lens's relation model: a PSD personalised metric, logit = offset - distance, symmetric
in the two images, learns a planted mark on synthetic images, stops on Cancel deterministically,
and survives the numpy round trip of the model cache."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from engine.errors import Cancelled
from engine.models import store
from engine.models.relation_cnn import (
    APP_CONFIG,
    CI_CONFIG,
    PairArrays,
    RelationCNN,
    RelationCNNConfig,
    config_of_arrays,
    image_tensor,
    noise_regions,
    relation_logits,
    train_relation_cnn,
    weighting_matrix,
)
from engine.progress import TaskState

SIDE = 16
MARKS = {  # 5x5 "brand marks": a plus and a cross, the two kinds the catalogue plants
    "plus": np.array([[0, 0, 1, 0, 0]] * 2 + [[1, 1, 1, 1, 1]] + [[0, 0, 1, 0, 0]] * 2, dtype=np.float32),
    "cross": np.eye(5, dtype=np.float32) + np.fliplr(np.eye(5, dtype=np.float32)) - np.diag([0, 0, 1, 0, 0]).astype(np.float32),
}
TINY = RelationCNNConfig(image_size=SIDE, conv1=3, conv2=4, hidden=6, features=5, rank=3, n_shoppers=2)


def synthetic_catalogue(n: int, seed: int, with_corners: bool = False):
    """Images with a random grey "garment" (a rectangle) and one mark in a random corner;
    -> (images, mark id) or, with_corners, (images, mark id, (n, 2) top-left corner of each mark)."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, SIDE, SIDE), dtype=np.float32)
    marks = rng.integers(0, 2, n)
    kinds = list(MARKS.values())
    corners = np.zeros((n, 2), dtype=np.int64)
    for i in range(n):
        h, w = rng.integers(5, 11, 2)
        top, left = rng.integers(2, SIDE - 2 - h + 1), rng.integers(2, SIDE - 2 - w + 1)
        images[i, top:top + h, left:left + w] = rng.uniform(0.3, 0.8)
        r, c = corners[i] = [(0, 0), (0, SIDE - 5), (SIDE - 5, 0), (SIDE - 5, SIDE - 5)][rng.integers(4)]
        patch = images[i, r:r + 5, c:c + 5]
        images[i, r:r + 5, c:c + 5] = np.where(kinds[marks[i]] > 0, 1.0, patch)
        images[i] += rng.normal(0, 0.03, (SIDE, SIDE)).astype(np.float32)
    images = np.clip(images, 0, 1)
    return (images, marks, corners) if with_corners else (images, marks)


def mark_pairs(marks: np.ndarray, n: int, seed: int) -> PairArrays:
    """Half related (same mark), half not; shopper 0 throughout."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, len(marks), n)
    want_same = np.arange(n) % 2 == 0
    b = np.empty(n, dtype=np.int64)
    by_mark = [np.flatnonzero(marks == m) for m in (0, 1)]
    for i in range(n):
        pool = by_mark[marks[a[i]] if want_same[i] else 1 - marks[a[i]]]
        b[i] = pool[rng.integers(len(pool))]
    return PairArrays(a, b, np.zeros(n, dtype=np.int64), want_same.astype(np.float32))


def random_model(config: RelationCNNConfig = TINY, seed: int = 0) -> RelationCNN:
    torch.manual_seed(seed)
    module = RelationCNN(config)
    with torch.no_grad():  # away from the initial w = 1, q = 1, and with negative weights
        module.shopper_weight.normal_()
        module.offset.normal_()
    return module.eval()


@pytest.mark.parametrize("seed", range(5))
def test_the_weighting_is_positive_semi_definite_for_random_parameters(seed):
    arrays = random_model(seed=seed).to_arrays()
    for shopper in range(TINY.n_shoppers):
        matrix = weighting_matrix(arrays, shopper)
        assert np.allclose(matrix, matrix.T)
        assert np.linalg.eigvalsh(matrix).min() >= -1e-10


def test_the_logit_is_the_offset_minus_a_naively_computed_distance():
    module = random_model(seed=3)
    arrays = module.to_arrays()
    images, _ = synthetic_catalogue(6, seed=1)
    pairs = PairArrays(np.array([0, 1, 2, 5]), np.array([3, 4, 2, 0]), np.array([0, 1, 1, 0]), np.zeros(4))
    logits = relation_logits(module, images, pairs)
    with torch.no_grad():
        f = module.features(image_tensor(images)).double().numpy()
    for k in range(4):
        diff = f[pairs.index_a[k]] - f[pairs.index_b[k]]
        metric = weighting_matrix(arrays, pairs.shopper[k])
        naive = arrays["offset"][pairs.shopper[k]] - sum(
            diff[m] * metric[m, n] * diff[n] for m in range(len(diff)) for n in range(len(diff)))
        assert logits[k] == pytest.approx(naive, rel=1e-4, abs=1e-5)
    assert logits[2] == pytest.approx(arrays["offset"][1], abs=1e-6)  # an image is at distance 0 from itself


def test_the_logit_is_symmetric_in_the_two_images():
    module = random_model(seed=4)
    images, _ = synthetic_catalogue(20, seed=2)
    rng = np.random.default_rng(0)
    a, b, s = rng.integers(0, 20, 30), rng.integers(0, 20, 30), rng.integers(0, 2, 30)
    forward = relation_logits(module, images, (a, b, s, np.zeros(30)))
    backward = relation_logits(module, images, (b, a, s, np.zeros(30)))
    np.testing.assert_allclose(forward, backward, rtol=1e-5, atol=1e-6)


# The CI branch on 16x16 images; a fresh sample of pairs each epoch (one fixed sample of 6,000 pairs
# for 2 epochs left it at chance, as the notes found for too few pairs on Fashion-MNIST).
CI_SYNTHETIC = replace(CI_CONFIG, image_size=SIDE, n_shoppers=1, epochs=4, batch_size=64, learning_rate=3e-3)


@pytest.fixture(scope="module")
def trained():
    images, marks, corners = synthetic_catalogue(1200, seed=10, with_corners=True)
    result = train_relation_cnn(images[:1000], lambda epoch: mark_pairs(marks[:1000], 6000, seed=10 + epoch), CI_SYNTHETIC)
    test_pairs = mark_pairs(marks[1000:], 2000, seed=12)  # held-out images only
    shifted = PairArrays(test_pairs.index_a + 1000, test_pairs.index_b + 1000, test_pairs.shopper, test_pairs.label)
    return result, images, shifted, corners


def test_a_small_model_learns_a_planted_mark_on_held_out_pairs(trained):
    result, images, pairs, _ = trained
    logits = relation_logits(result.module, images, pairs)
    accuracy = float(((logits > 0) == (pairs.label > 0.5)).mean())
    print(f"held-out accuracy {accuracy:.4f}, losses {result.epoch_loss}, {result.seconds:.1f} s")
    assert accuracy >= 0.95
    assert result.epoch_loss[-1] < result.epoch_loss[0]


def test_the_saved_arrays_reload_to_identical_logits(trained, tmp_path):
    result, images, pairs, _ = trained
    manifest = store.expected_manifest("synthetic", "none", "pixels", "relation-cnn", CI_SYNTHETIC.to_dict())
    folder = store.model_dir(tmp_path, manifest)
    store.save(folder, manifest, result.to_arrays(), result.record())
    arrays, _ = store.load(folder, manifest, CI_SYNTHETIC.array_shapes())
    reloaded = RelationCNN.from_arrays(arrays)  # sizes read from the shapes
    assert reloaded.config.array_shapes() == CI_SYNTHETIC.array_shapes()
    assert RelationCNN.from_arrays(arrays, CI_SYNTHETIC).config == CI_SYNTHETIC
    np.testing.assert_array_equal(relation_logits(reloaded, images, pairs), relation_logits(result.module, images, pairs))


def test_arrays_of_other_sizes_are_refused():
    arrays = random_model().to_arrays()
    with pytest.raises(ValueError):
        config_of_arrays(arrays, replace(TINY, rank=4))
    arrays["offset"] = np.zeros(3, dtype=np.float32)
    with pytest.raises(ValueError):
        RelationCNN.from_arrays(arrays)


class CountingState(TaskState):
    """Cancel reads True from the `cancel_at`-th check on (never, when None); records progress."""

    def __init__(self, cancel_at: int | None = None):
        self.checks = 0
        self.messages: list[str] = []

        def should_cancel() -> bool:
            self.checks += 1
            return cancel_at is not None and self.checks >= cancel_at

        super().__init__(lambda fraction, message: self.messages.append(message), should_cancel)


def test_cancel_stops_training_at_the_check_it_flips_on():
    images, marks = synthetic_catalogue(60, seed=5)
    config = replace(TINY, epochs=3, batch_size=10, n_shoppers=1)
    pairs = mark_pairs(marks, 50, seed=6)  # 5 batches per epoch, 15 in all
    full = CountingState()
    train_relation_cnn(images, pairs, config, full)
    assert full.checks >= 15
    assert full.messages[-1] == "Trained the relation model: 3 epochs"
    for cancel_at in (1, 7):
        state = CountingState(cancel_at)
        with pytest.raises(Cancelled):
            train_relation_cnn(images, pairs, config, state)
        assert state.checks == cancel_at  # nothing ran past the check that said Cancel
    assert torch.get_num_threads() >= 1


def test_progress_names_the_epoch_and_fresh_pairs_come_each_epoch():
    images, marks = synthetic_catalogue(60, seed=7)
    config = replace(TINY, epochs=2, batch_size=25, n_shoppers=1)
    asked: list[int] = []

    def source(epoch: int) -> PairArrays:
        asked.append(epoch)
        return mark_pairs(marks, 50, seed=epoch)

    state = CountingState()
    result = train_relation_cnn(images, source, config, state)
    assert asked == [1, 2] and len(result.epoch_loss) == 2
    assert any("epoch 1 of 2" in m for m in state.messages)


def test_noise_regions_replace_whole_random_regions_of_about_the_asked_share_of_images():
    images = torch.from_numpy(np.full((400, 1, 28, 28), 2.0, dtype=np.float32))  # 2: outside the noise's [0, 1)
    out = noise_regions(images, np.random.default_rng(0), share=0.5, regions=25, size=2)
    assert torch.equal(images, torch.full_like(images, 2.0))  # the input is not changed in place
    changed = out != 2.0
    blocks = changed.view(400, 14, 2, 14, 2).sum((2, 4))  # changed pixels per 2x2 region
    assert set(blocks.unique().tolist()) <= {0, 4}  # whole regions or nothing
    per_image = (blocks == 4).sum((1, 2))
    touched = per_image > 0
    assert 0.4 < touched.float().mean() < 0.6
    assert per_image[touched].min() >= 1 and per_image.max() <= 25
    assert per_image[touched].float().mean() > 8  # k ~ U{1..25}: mean 13
    noise = out[changed]
    assert noise.min() >= 0 and noise.max() < 1 and 0.4 < float(noise.mean()) < 0.6
    again = noise_regions(images, np.random.default_rng(0), share=0.5, regions=25, size=2)
    assert torch.equal(out, again)  # reproducible from the generator
    assert noise_regions(images, np.random.default_rng(0), share=0.0, regions=25, size=2) is images


def test_the_app_config_trains_with_noise_regions_and_bad_settings_are_refused():
    assert APP_CONFIG.noise_share > 0 and CI_CONFIG.noise_share == 0
    with pytest.raises(ValueError):
        replace(TINY, noise_share=1.5)
    with pytest.raises(ValueError):
        replace(TINY, noise_share=0.5, noise_regions=65)  # 16 / 2 = 8, so 64 regions at most
    with pytest.raises(ValueError):
        replace(TINY, noise_share=0.5, noise_size=3)


def test_training_with_noise_regions_differs_from_training_without_and_is_seeded():
    images, marks = synthetic_catalogue(60, seed=8)
    config = replace(TINY, epochs=1, batch_size=25, n_shoppers=1)
    pairs = mark_pairs(marks, 50, seed=9)
    plain = train_relation_cnn(images, pairs, config).module
    noisy = train_relation_cnn(images, pairs, replace(config, noise_share=1.0, noise_regions=10)).module
    again = train_relation_cnn(images, pairs, replace(config, noise_share=1.0, noise_regions=10)).module
    assert not torch.equal(plain.conv1.weight, noisy.conv1.weight)
    assert torch.equal(noisy.conv1.weight, again.conv1.weight)  # the training noise is seeded


def mark_mass(relevance: np.ndarray, corners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per image: the positive relevance inside its 5x5 mark box and in all (mass accuracy, Arras et al. 2022)."""
    positive = np.clip(relevance, 0, None)
    inside = np.array([p[r:r + 5, c:c + 5].sum() for p, (r, c) in zip(positive, corners)])
    return inside, positive.reshape(len(positive), -1).sum(1)


def test_the_trained_model_explains_why_not_by_the_planted_marks(trained):
    """The issue's bar for the CI model: >= 0.35 of the why-not relevance (positive part of the
    relevance of d, net view) on the marks; chance here is 2 x 25 / (2 x 256) ~ 0.1."""
    from engine.explain.pixel_lrp import explain_pairs

    result, images, pairs, corners = trained
    logits = relation_logits(result.module, images, pairs)
    why_not = np.flatnonzero((pairs.label == 0) & (logits < 0))[:100]
    related = np.flatnonzero((pairs.label == 1) & (logits > 0))[:100]
    a, b = pairs.index_a, pairs.index_b

    def mass(rows, view, sign):
        explained = explain_pairs(result.module, images[a[rows]], images[b[rows]], 0)
        inside_a, total_a = mark_mass(sign * explained.maps[view]["query"], corners[a[rows]])
        inside_b, total_b = mark_mass(sign * explained.maps[view]["candidate"], corners[b[rows]])
        return float((inside_a + inside_b).sum() / (total_a + total_b).sum()), explained

    why_not_mass, explained = mass(why_not, "net", -1.0)
    related_mass, _ = mass(related, "shared", 1.0)
    print(f"mark mass: why-not (net) {why_not_mass:.3f}, why-related (shared) {related_mass:.3f}, "
          f"conservation {explained.conservation_error:.2e}")
    assert len(why_not) >= 50
    assert why_not_mass >= 0.35
    assert explained.conservation_error <= 1e-4 * max(1.0, float(np.abs(explained.logit).max()))


def test_the_cache_trains_once_and_then_serves_the_same_model(tmp_path):
    from engine.models.relation_cnn import obtain_relation_model

    images, marks = synthetic_catalogue(60, seed=8)
    config = replace(TINY, epochs=1, batch_size=25, n_shoppers=1)
    pairs = mark_pairs(marks, 50, seed=9)
    first, cached = obtain_relation_model(tmp_path, "synthetic", "abc", images, pairs, config, marks="digest")
    again, reused = obtain_relation_model(tmp_path, "synthetic", "abc", images, pairs, config, marks="digest")
    assert cached.trained_now and not reused.trained_now
    assert reused.manifest["marks"] == "digest" and reused.manifest["config"] == config.to_dict()
    np.testing.assert_array_equal(relation_logits(again, images, pairs), relation_logits(first, images, pairs))
    _, other = obtain_relation_model(tmp_path, "synthetic", "abc", images, pairs, replace(config, rank=2))
    assert other.trained_now  # other sizes are another cache entry
