"""RecoNet's example sampling (paper section 4.2) and a short real training run on MovieLens 100k."""
from dataclasses import replace

import numpy as np
import pytest

from engine.data.registry import load_dataset
from engine.data.splits import positives_matrix, random_split
from engine.data.vocabulary import Vocabulary
from engine.evaluation.metrics import mean_recall_at_k
from engine.models.baselines import Popularity
from engine.models.builder import default_config
from engine.models.reconet import RecoNetConfig
from engine.models.profiles import dataset_user_attributes, user_attribute_matrix
from engine.models.sampling import ExampleSampler, chain_lengths
from engine.models.training import train_reconet, validation_recall


def test_chain_lengths_follow_the_diminishing_probabilities():
    rng = np.random.default_rng(0)
    counts = chain_lengths(rng, 200_000, beta=1.0, already_removed=1)
    # P(at least one extra) = 1/2, P(at least two) = 1/(2*3), P(at least three) = 1/(2*3*4).
    for extra, expected in [(1, 1 / 2), (2, 1 / 6), (3, 1 / 24)]:
        assert np.mean(counts >= extra) == pytest.approx(expected, abs=0.005)
    assert chain_lengths(rng, 1000, beta=50.0).max() == 0  # a huge beta never removes more


def test_examples_remove_the_label_and_its_genre(tiny_dataset):
    data = tiny_dataset
    vocabulary = Vocabulary(data)
    user_ids, positives = positives_matrix(data, vocabulary)
    # User 1 liked A, B, C (3 >= threshold); user 2 liked B only.
    assert positives.toarray().tolist() == [[1, 1, 1, 0], [0, 1, 0, 0]]
    sampler = ExampleSampler(vocabulary, positives, None, True, beta=100.0)
    profiles, labels = sampler.batch(np.arange(len(sampler)))
    for row, label in enumerate(labels):
        features = {vocabulary.features[c].key for c in profiles[row].indices}
        assert str(vocabulary.item_ids[label]) not in features
        genre = data.movies[int(vocabulary.item_ids[label])].genres[0]
        assert genre not in features  # only the label had this genre, so it must not leak
        np.testing.assert_allclose(profiles[row].data, 1.0 / max(len(features), 1))


def test_user_attributes_are_kept_or_dropped_whole(tiny_dataset):
    data = tiny_dataset
    vocabulary = Vocabulary(data)
    user_ids, positives = positives_matrix(data, vocabulary)
    attributes = user_attribute_matrix(
        vocabulary, [vocabulary.user_attributes(data.users[u].gender, data.users[u].age, data.users[u].occupation) for u in user_ids]
    )
    sampler = ExampleSampler(vocabulary, positives, attributes, False, beta=0.01, seed=1)
    profiles, _ = sampler.batch(np.zeros(200, dtype=np.int64))  # user 1's first example, many times
    n_attrs = np.diff(profiles[:, vocabulary.n_items:].tocsr().indptr)
    assert n_attrs.min() < 3 and n_attrs.max() == 3  # with a tiny beta attributes do get dropped


@pytest.fixture(scope="module")
def ml100k_split(ml100k_folder):
    data = load_dataset("ml-100k", ml100k_folder, offline=True)
    vocabulary = Vocabulary(data)
    user_ids, positives = positives_matrix(data, vocabulary)
    attributes = dataset_user_attributes(vocabulary, data, user_ids)
    return vocabulary, random_split(user_ids, positives, seed=0), attributes


def test_short_training_beats_popularity_on_validation(ml100k_split):
    vocabulary, split, attributes = ml100k_split
    config = replace(default_config("ml-100k"), max_epochs=4, use_user_attributes=False, use_item_attributes=False)
    train, validation = split.fit_train, split.fit_validation
    result = train_reconet(vocabulary, train, attributes, config,
                           validation_recall(vocabulary, train, validation, attributes, config))
    popularity = mean_recall_at_k(Popularity().fit(train).score(train), train, validation, 50)
    assert max(result.validation_recall) > popularity + 0.1
    assert len(result.validation_recall) >= result.best_epoch >= 1


def test_early_stopping_counts_checks_within_an_epoch(tiny_dataset):
    vocabulary = Vocabulary(tiny_dataset)
    _, positives = positives_matrix(tiny_dataset, vocabulary)
    scripted = iter([0.5, 0.7, 0.6, 0.65, 0.9])  # best at the 2nd check, then one worse check
    seen = []

    def validate(weights):
        seen.append(weights)
        return next(scripted)

    config = RecoNetConfig(dim=4, batch_size=1, max_epochs=10, checks_per_epoch=2, patience=1)
    result = train_reconet(vocabulary, positives, None, config, validate)
    assert result.validation_recall == [0.5, 0.7, 0.6]  # stopped mid-epoch 2, right after the drop
    assert result.best_epoch == 1
    np.testing.assert_array_equal(result.weights.embedding, seen[1].embedding)
