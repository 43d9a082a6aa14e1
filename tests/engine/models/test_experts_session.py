"""The session expert model on a CI-sized synthetic sitting set: invariants only (the accuracy bars
are measured by the benchmark on MovieLens 100k)."""
import numpy as np
import pytest
import torch

from engine.data import sessions as S
from engine.data.session_features import GROUPS, SUBSETS, SessionEncoder, fit_crowd
from engine.data.types import Dataset, User
from engine.errors import Cancelled
from engine.models import experts_session as M
from engine.profile import Profile
from engine.progress import TaskState
from tests.engine.synthetic_sittings import synthetic_sittings

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def data() -> Dataset:
    return synthetic_sittings()


@pytest.fixture(scope="module")
def setup(data):
    sittings = S.user_sittings(data)
    split = S.split_users(data.users, seed=1, fractions=(0.6, 0.2, 0.2))
    encoder = SessionEncoder(data, fit_crowd(data, split.train))
    validation = encoder.encode(S.windows_of(sittings, split.validation))
    return sittings, split, encoder, validation


def _random_inputs(encoder, n=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    given = torch.randn(n, 10, encoder.width, generator=g)
    target = torch.randn(n, 10, encoder.width, generator=g)
    mask = torch.ones(n, 10, dtype=torch.bool)
    mask[0, 7:] = False
    return given, mask, target


def test_every_expert_reads_only_its_subset(setup):
    _, _, encoder, _ = setup
    model = M.build_session_model(encoder, config=M.SessionModelConfig(width=8, heads=2, feed_forward=8, encoder_blocks=1))
    given, mask, target = _random_inputs(encoder)
    given.requires_grad_(True), target.requires_grad_(True)
    logits = model(given, mask, target)
    for h, subset in enumerate(SUBSETS):
        grad_given, grad_target = torch.autograd.grad(logits[..., h].sum(), (given, target), retain_graph=True)
        outside_given = ~torch.from_numpy(encoder.subset_columns(subset, "given"))
        outside_target = ~torch.from_numpy(encoder.subset_columns(subset, "target"))
        assert not grad_given[..., outside_given].any(), subset.id
        assert not grad_target[..., outside_target].any(), subset.id
        assert grad_given[..., ~outside_given].abs().max() > 0, subset.id  # and it does read its own
    history = encoder.columns["history"]
    grad_target = torch.autograd.grad(logits.sum(), target)[0]
    assert grad_target[..., history].abs().max() == 0  # no expert sees a guessed movie's rating


def test_a_parents_loss_never_trains_its_children(setup):
    _, _, encoder, _ = setup
    model = M.build_session_model(encoder, config=M.SessionModelConfig(width=8, heads=2, feed_forward=8))
    given, mask, target = _random_inputs(encoder)
    model(given, mask, target)[..., 7].sum().backward()  # S8 ("everything") alone
    d = 8
    s1 = slice(0, d)  # S1's block of every per-expert layer
    assert model.embed_given.weight.grad[s1].abs().max() == 0
    assert model.cross.query.weight.grad[s1].abs().max() == 0
    assert model.feed_forward.up.weight.grad[s1].abs().max() == 0
    assert model.head.weight.grad[7].abs().max() > 0


def test_padding_in_the_given_half_changes_nothing(setup):
    _, _, encoder, _ = setup
    model = M.build_session_model(encoder).eval()
    given, mask, target = _random_inputs(encoder)
    before = model(given, mask, target)
    noisy = given.clone()
    noisy[0, 7:] = 100.0
    torch.testing.assert_close(model(noisy, mask, target)[0], before[0], rtol=0, atol=1e-6)


def test_shares_sum_to_one_and_the_probability_is_their_weighted_sum(setup):
    _, _, encoder, validation = setup
    model = M.build_session_model(encoder)
    mixed = M.predict_probabilities(model, validation)
    real = validation.target_mask
    np.testing.assert_allclose(mixed.shares[real].sum(-1), 1.0, atol=1e-6)
    np.testing.assert_allclose((mixed.shares * mixed.predictions).sum(-1)[real], mixed.prediction[real], atol=1e-6)
    assert mixed.shares.shape[-1] == len(SUBSETS)


def test_training_reports_progress_keeps_the_best_epoch_and_can_be_cancelled(setup):
    sittings, split, encoder, validation = setup
    rng = np.random.default_rng(0)

    def windows(epoch):
        return encoder.encode(S.windows_of(sittings, split.train, rng))

    seen = []
    model = M.build_session_model(encoder, config=M.SessionModelConfig(width=8, heads=2, feed_forward=8))
    record = M.train_session_model(model, windows, validation, M.SessionTraining(epochs=3, batch_size=8),
                                   TaskState(lambda f, m: seen.append(f)))
    assert record.epochs_run == 3 and seen[-1] == 1.0 and 1 <= record.best_epoch <= 3
    assert M.validation_accuracy(model, validation) == pytest.approx(max(record.validation_accuracy))
    with pytest.raises(Cancelled):
        M.train_session_model(M.build_session_model(encoder), windows, validation, M.SessionTraining(epochs=2),
                              TaskState(should_cancel=lambda: True))


def test_a_control_has_one_expert_that_always_decides(setup):
    _, _, encoder, validation = setup
    control = M.build_session_model(encoder, interpretable=False, config=M.SessionModelConfig(width=8, heads=2))
    assert control.expert_keys == ("control",)
    mixed = M.predict_probabilities(control, validation)
    np.testing.assert_allclose(mixed.shares[validation.target_mask], 1.0, atol=1e-6)


def test_a_profiles_timeline_without_retraining(data, setup):
    _, _, encoder, _ = setup
    predictor = M.SessionPredictor(M.build_session_model(encoder), encoder)
    profile = Profile(movies=(1, 2, 3, 4, 5), ratings=(5, 4, 1, None, 2), gender="F")
    mixed = predictor.window(S.profile_window(profile), User(0, "F"))
    assert mixed.shares.shape == (2, 8) and mixed.prediction.shape == (2,)  # 4 rated: 2 given, 2 guessed
    np.testing.assert_allclose(mixed.shares.sum(-1), 1.0, atol=1e-6)
    assert set(GROUPS) == set(encoder.columns)
