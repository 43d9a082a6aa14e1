"""The user-by-movie matrices built at every start: movie ids map to vocabulary rows, unknown ids fail."""
import numpy as np
import pytest

from engine.data.splits import positives_matrix, ratings_matrix
from engine.data.types import Dataset, Interactions
from engine.data.vocabulary import Vocabulary


def test_matrices_put_each_rating_at_its_user_and_movie_row(tiny_dataset):
    vocabulary = Vocabulary(tiny_dataset)
    user_ids, positives = positives_matrix(tiny_dataset, vocabulary)
    assert user_ids.tolist() == [1, 2]
    assert positives.toarray().tolist() == [[1, 1, 1, 0], [0, 1, 0, 0]]  # ratings >= 3
    stars = ratings_matrix(tiny_dataset, vocabulary, user_ids)
    assert stars.toarray().tolist() == [[5, 4, 3, 0], [0, 5, 0, 1]]


def test_sparse_movie_ids_map_to_their_rows(tiny_dataset):
    """Ids with gaps (1, 2, 3, 4 here, but as 10, 20, ... in real data) map through the sorted vocabulary."""
    movies = {10 * m.id: type(m)(10 * m.id, m.title, m.year, m.genres) for m in tiny_dataset.movies.values()}
    interactions = Interactions(np.array([1, 2]), np.array([40, 10]), np.array([4, 5], dtype=np.float32))
    data = Dataset("gaps", movies, tiny_dataset.users, interactions)
    vocabulary = Vocabulary(data)
    _, positives = positives_matrix(data, vocabulary)
    assert positives.toarray().tolist() == [[0, 0, 0, 1], [1, 0, 0, 0]]


def test_a_rating_of_an_unknown_movie_names_it(tiny_dataset):
    interactions = Interactions(np.array([1, 1]), np.array([2, 99]), np.array([4, 5], dtype=np.float32))
    data = Dataset("unknown", tiny_dataset.movies, tiny_dataset.users, interactions)
    with pytest.raises(KeyError, match="99"):
        positives_matrix(data, Vocabulary(data))
