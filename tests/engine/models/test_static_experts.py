"""The static expert-lens models on a small synthetic MovieLens: Intrp-MLP invariants (shares sum to 1,
prediction = share-weighted sum, experts read only their subset), the profile-built user group
(leave-one-out pooling, new profiles without retraining), training with progress and cancel."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from engine.data.types import Dataset, Interactions, Movie
from engine.errors import Cancelled
from engine.evaluation.sampled import draw_negatives, split_dataset
from engine.models.experts_gating import alphas, confidence
from engine.models.intrp_mlp import GATE_CANDIDATES, IntrpMLP
from engine.models.static_features import build_features, training_pairs
from engine.models.static_mlp import (POOL_SCALE, ControlMLP, History, MLPConfig, Pairs, StaticInputs,
                                      StaticInputsConfig)
from engine.models.static_training import PairMaker, StaticTrainingConfig, train_static, validation_hr
from engine.progress import TaskState
from tests.engine.models.planted_tastes import small_movielens

@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Two cores shared by many jobs: torch's thread pool only adds spinning."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def setting():
    data = small_movielens()
    split = split_dataset(data, seed=0)
    return data, split, draw_negatives(split, seed=0), build_features(data, split)


def _intrp(setting, user_group: str = "embedding") -> IntrpMLP:
    torch.manual_seed(0)
    _, split, _, features = setting
    inputs = StaticInputs(features, split.n_users, split.n_items, StaticInputsConfig(factors=8, user_group=user_group))
    return IntrpMLP(inputs, split.n_users, split.n_items, hidden=(8, 4))


def _pairs(setting, n: int = 64) -> Pairs:
    _, split, _, features = setting
    rng = np.random.default_rng(1)
    return PairMaker(features, split)(rng.integers(0, split.n_users, n), rng.integers(0, split.n_items, n))


@pytest.mark.parametrize("user_group", ["embedding", "profile"])
@pytest.mark.parametrize("gate", list(GATE_CANDIDATES))
def test_shares_sum_to_one_and_the_prediction_is_their_weighted_sum(setting, user_group, gate):
    model = _intrp(setting, user_group)
    with torch.no_grad():
        mix = model.mixture(_pairs(setting), GATE_CANDIDATES[gate])
    assert torch.allclose(mix.shares.sum(dim=1), torch.ones(64, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(mix.prediction, (mix.shares * mix.predictions).sum(dim=1), atol=1e-12)
    assert (mix.shares >= 0).all()
    # alpha by hand from the experts' own predictions: S1 is every other expert's child, S4's are all.
    g = confidence(mix.predictions, GATE_CANDIDATES[gate].confidence, GATE_CANDIDATES[gate].centre)
    expected_s4 = g[:, 3] * (1 - g[:, 0]) * (1 - g[:, 1]) * (1 - g[:, 2])
    assert torch.allclose(mix.alphas[:, 3], expected_s4)
    assert torch.allclose(mix.alphas[:, 1], g[:, 1] * (1 - g[:, 0]))
    assert torch.allclose(mix.alphas, alphas(g, model.experts.children_mask))


def test_content_expert_ignores_the_user_and_item_embeddings(setting):
    model = _intrp(setting)
    pairs = _pairs(setting, 8)
    x = model.inputs(pairs).detach().requires_grad_(True)
    logits = model.experts(x)
    slices = model.layout.group_slices()
    grad = torch.autograd.grad(logits[:, 0].sum(), x)[0]
    assert grad[:, slices["user_embedding"]].abs().max() == 0
    assert grad[:, slices["item_embedding"]].abs().max() == 0
    assert grad[:, slices["content"]].abs().max() > 0
    grad_s2 = torch.autograd.grad(model.experts(x)[:, 1].sum(), x)[0]
    assert grad_s2[:, slices["item_embedding"]].abs().max() == 0


def test_profile_pooling_leaves_the_scored_movie_out(setting):
    """Scoring a movie of the history with in_history = 1 equals scoring it for the same history
    without that movie: what the model learns on positives is what it sees for unrated movies."""
    _, split, _, features = setting
    model = _intrp(setting, "profile")
    row = split.train[0]
    movie = int(row.indices[0])
    without = row.copy().tolil()
    without[0, movie] = 0
    categories = torch.from_numpy(features.user_categories[:1])
    item = torch.tensor([movie])
    with_it = Pairs(torch.tensor([0]), item, categories, torch.tensor([1.0]), History.of(row))
    left_out = Pairs(torch.tensor([0]), item, categories, torch.tensor([0.0]), History.of(without.tocsr()))
    with torch.no_grad():
        assert torch.allclose(model.inputs.user(with_it), model.inputs.user(left_out), atol=1e-6)
        assert torch.allclose(model.scores(with_it), model.scores(left_out), atol=1e-6)


def test_a_new_profile_needs_no_retraining(setting):
    """A profile the model never saw (its own movies, no demographics) gets a prediction and shares."""
    _, split, _, features = setting
    model = _intrp(setting, "profile")
    history = sp.csr_matrix(([1.0, 1.0, 1.0], ([0, 0, 0], [3, 5, 8])), shape=(1, split.n_items))
    unknown = torch.from_numpy(features.categories_of(None, None, None)).unsqueeze(0)
    pairs = Pairs(torch.tensor([0, 0]), torch.tensor([10, 150]), unknown.expand(2, 3), torch.zeros(2),
                  History.of(history))
    with torch.no_grad():
        mix = model.mixture(pairs)
    assert torch.isfinite(mix.prediction).all()
    assert torch.allclose(mix.shares.sum(dim=1), torch.ones(2, dtype=torch.float64))
    assert unknown.tolist()[0] == [n - 1 for n in features.category_sizes]


def test_training_negatives_are_never_training_positives(setting):
    _, split, _, _ = setting
    users, items, labels = training_pairs(split.train, np.random.default_rng(0), negatives=4)
    assert labels.sum() == split.train.nnz and len(labels) == 5 * split.train.nnz
    assert (np.asarray(split.train[users[labels == 0], items[labels == 0]]).ravel() == 0).all()
    assert (np.asarray(split.train[users[labels == 1], items[labels == 1]]).ravel() == 1).all()


def test_models_learn_the_planted_tastes_and_report_progress(setting):
    _, split, negatives, features = setting
    make = PairMaker(features, split)
    seen = []
    config = StaticTrainingConfig(epochs=3, batch_size=256, learning_rate=3e-3)
    for model in (_intrp(setting, "profile"),
                  ControlMLP(StaticInputs(features, split.n_users, split.n_items, StaticInputsConfig(factors=8)),
                             MLPConfig((16, 8))),
                  ControlMLP(StaticInputs(features, split.n_users, split.n_items, StaticInputsConfig(factors=8)),
                             MLPConfig((16, 8), content_only=True))):
        log = train_static(model, make, split, negatives, config, TaskState(lambda f, m: seen.append(f)))
        assert len(log.validation_hr) == 3 and 1 <= log.best_epoch <= 3
        # Random ranking gives HR@10 ~ 0.10; knowing the group gives ~ 10 / (1 + 14 same-group negatives).
        assert validation_hr(model.scores, make, split, negatives, "test")["hr"] > 0.3
    assert seen and seen[-1] == 1.0


def test_training_can_be_cancelled(setting):
    _, split, negatives, features = setting
    with pytest.raises(Cancelled):
        train_static(_intrp(setting), PairMaker(features, split), split, negatives, StaticTrainingConfig(epochs=2),
                     TaskState(should_cancel=lambda: True))


def test_generic_item_features_without_genres(setting):
    """Without genres (the shared ML-1M copy) the item content is popularity and mean-rating deciles."""
    data, split, _, _ = setting
    bare = Dataset("bare", {k: Movie(k, f"Item {k}") for k in data.movies}, data.users,
                   Interactions(data.interactions.users, data.interactions.items,
                                np.random.default_rng(0).integers(1, 6, len(data.interactions)).astype(np.float32)))
    bare_split = split_dataset(bare, seed=0)
    features = build_features(bare, bare_split)
    assert features.item_content_kind == "popularity and mean-rating deciles"
    assert features.item_content.shape == (bare_split.n_items, 20)
    assert (features.item_content.sum(axis=1) == 2).all()


def test_mixture_loss_adds_the_mixed_predictions_log_loss_to_gem(setting):
    from engine.models.experts_training import gem_loss
    from engine.models.experts_gating import mixture

    model = _intrp(setting)
    model.mixture_loss_weight = 0.0
    pairs = _pairs(setting)
    labels = (torch.arange(64) % 5 == 0).float()
    logits = model.logits(pairs)
    gem = gem_loss(logits, labels, model.experts.children_mask, model.experts.config.gate)
    assert torch.allclose(model.loss(pairs, labels), gem)
    model.mixture_loss_weight = 0.5
    mixed = mixture(torch.sigmoid(logits), model.experts.children_mask, model.experts.config.gate).prediction
    expected = gem + 0.5 * torch.nn.functional.binary_cross_entropy(mixed, labels)
    assert torch.allclose(model.loss(pairs, labels), expected, atol=1e-6)


def test_pairs_for_a_profile_leave_its_own_movies_out_of_the_pooling(setting):
    _, split, _, features = setting
    model = _intrp(setting, "profile")
    movies = sp.csr_matrix(([1.0, 1.0], ([0, 0], [4, 9])), shape=(1, split.n_items))
    pairs = Pairs.for_profile(movies, features.categories_of("F", "18-24", "writer"), np.array([4, 20]))
    assert pairs.in_history.tolist() == [1.0, 0.0]
    with torch.no_grad():
        mix = model.mixture(pairs)
        alone = model.mixture(Pairs.for_profile(sp.csr_matrix(([1.0], ([0], [9])), shape=(1, split.n_items)),
                                                features.categories_of("F", "18-24", "writer"), np.array([4])))
    assert torch.allclose(mix.prediction[:1], alone.prediction)


def test_pair_maker_finds_training_ratings_as_the_matrix_says(setting):
    """The binary search over sorted (user, item) keys answers what the training matrix holds, for
    every pair of the catalogue (the full ranking asks it for millions of pairs)."""
    _, split, _, features = setting
    make = PairMaker(features, split)
    users = np.repeat(np.arange(split.n_users), split.n_items)
    items = np.tile(np.arange(split.n_items), split.n_users)
    expected = split.train.toarray().ravel() > 0
    assert expected.any() and not expected.all()
    np.testing.assert_array_equal(make.rated(users, items), expected)
    np.testing.assert_array_equal(make(users, items).in_history.numpy(), expected.astype(np.float32))


def test_profile_pooling_is_the_mean_of_the_history_rows_over_distinct_profiles(setting):
    """The pooled taste, computed once per distinct profile of a batch, is the mean of the history
    table's rows over the profile's other rated movies, pair by pair, times the constant scale."""
    _, split, _, features = setting
    model = _intrp(setting, "profile")
    make = PairMaker(features, split)
    rng = np.random.default_rng(3)
    users = np.repeat(rng.integers(0, split.n_users, 5), 4)  # repeated profiles, as in a batch
    items = np.concatenate([split.train[users[:4]].indices[:2], rng.integers(0, split.n_items, len(users) - 2)])
    pairs = make(users, items)
    table, pool = model.inputs.history_table.weight, model.inputs.pool
    with torch.no_grad():
        got = model.inputs.user(pairs)
        for k, (u, i) in enumerate(zip(users, items)):
            rated = [j for j in split.train[u].indices if j != i]
            mean = table[rated].mean(dim=0) if rated else torch.zeros(table.shape[1])
            expected = pool(POOL_SCALE * mean)
            torch.testing.assert_close(got[k], expected, atol=1e-5, rtol=1e-5)


def test_the_pool_scale_is_the_configured_constant_and_must_be_positive(setting):
    """The profile-built group multiplies the pooled mean by its config's scale (1 = the plain mean)."""
    _, split, _, features = setting
    make = PairMaker(features, split)
    pairs = make(np.array([0, 1, 2]), np.array([5, 6, 7]))
    users = []
    for scale in (1.0, POOL_SCALE):
        torch.manual_seed(0)
        inputs = StaticInputs(features, split.n_users, split.n_items,
                              StaticInputsConfig(factors=8, user_group="profile", pool_scale=scale))
        with torch.no_grad():
            users.append(inputs.user(pairs) - inputs.pool.bias)  # the linear part: scale x W mean
    torch.testing.assert_close(users[1], POOL_SCALE * users[0], atol=1e-6, rtol=1e-5)
    assert users[0].abs().max() > 0
    with pytest.raises(ValueError):
        StaticInputsConfig(user_group="profile", pool_scale=0.0)
