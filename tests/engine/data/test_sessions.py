"""Rating sittings, windows, the user split, the feature groups and an ad-hoc profile's sitting, on
small hand-made data."""
import numpy as np
import pytest

from engine.data import sessions as S
from engine.data.session_features import (
    GROUPS, SUBSETS, SessionEncoder, children, fit_crowd,
)
from engine.data.types import Dataset, Interactions, Movie, User
from engine.errors import InvalidInputError
from engine.profile import Profile


def test_a_gap_over_an_hour_starts_a_new_sitting():
    times = np.array([0, 10, 3610, 7211, 7300, 7300])
    # 10 -> 3610 is exactly an hour (same sitting); 3610 -> 7211 is an hour and a second
    assert S.sitting_bounds(times) == [(0, 3), (3, 6)]
    assert S.sitting_bounds(np.array([5])) == [(0, 1)]
    assert S.sitting_bounds(np.array([], dtype=np.int64)) == []


def test_windows_of_up_to_twenty_drop_short_tails():
    assert S.window_bounds(9) == []
    assert S.window_bounds(10) == [(0, 10)]
    assert S.window_bounds(35) == [(0, 20), (20, 35)]
    assert S.window_bounds(25) == [(0, 20)]  # a tail of 5 is dropped
    assert S.window_bounds(35, offset=5) == [(5, 25), (25, 35)]


def test_random_offsets_always_leave_a_window():
    for length in range(10, 80):
        top = S.max_offset(length)
        assert S.window_bounds(length, top), length
    assert S.max_offset(15) == 5 and S.max_offset(40) == 0 and S.max_offset(35) == 15


def _dataset() -> Dataset:
    """User 1: a sitting of 12 (times with ties), an hour-and-more gap, then 3; user 2: 11 in one."""
    movies = {m: Movie(m, f"M{m}", 1980 + m, ("Drama",) if m % 2 else ("Comedy",)) for m in range(1, 31)}
    users = {1: User(1, "F", "25-34", "writer"), 2: User(2, "M", "18-24", "artist"), 3: User(3, "M", "35-44", "writer")}
    u, i, r, t = [], [], [], []
    for k in range(12):
        u.append(1), i.append(k + 1), r.append(5 if k % 3 else 2), t.append(1000 + 60 * (k // 2))  # pairs share a second
    for k in range(3):
        u.append(1), i.append(20 + k), r.append(4), t.append(100_000 + k)
    for k in range(11):
        u.append(2), i.append(k + 1), r.append(4 if k < 6 else 1), t.append(5000 + k)
    for k in range(10):
        u.append(3), i.append(k + 1), r.append(3), t.append(9000 + k)
    interactions = Interactions(np.array(u), np.array(i), np.array(r, dtype=np.float32), np.array(t))
    return Dataset("hand", movies, users, interactions)


def test_sittings_follow_time_with_seeded_ties():
    data = _dataset()
    sittings = S.user_sittings(data, seed=3)
    assert [len(s) for s in sittings[1]] == [12, 3] and [len(s) for s in sittings[2]] == [11]
    first = sittings[1][0]
    assert np.all(np.diff(first.timestamps) >= 0)
    assert sorted(first.items.tolist()) == list(range(1, 13))
    orders = {tuple(S.user_sittings(data, seed=s)[1][0].items.tolist()) for s in range(8)}
    assert len(orders) > 1  # same-second pairs are drawn, not taken in file or id order
    assert tuple(S.user_sittings(data, seed=3)[1][0].items.tolist()) == tuple(first.items.tolist())


def test_windows_of_a_dataset_and_their_halves():
    sittings = S.user_sittings(_dataset(), seed=0)
    windows = S.windows_of(sittings, [1, 2])
    assert [(w.user, w.sitting, len(w), w.given) for w in windows] == [(1, 0, 12, 6), (2, 0, 11, 5)]
    w = windows[1]
    assert w.liked.tolist() == [True] * 6 + [False] * 5
    assert w.gaps[0] == 0 and np.all(w.gaps[1:] == 1)


def test_a_short_sitting_is_one_timeline_window():
    sittings = S.user_sittings(_dataset(), seed=0)
    short = sittings[1][1]  # 3 ratings: no benchmark window
    assert S.sitting_windows(short) == []
    (window,) = S.timeline_windows(short)
    assert len(window) == 3 and window.given == 1 and window.sitting == 1
    assert [len(w) for w in S.timeline_windows(sittings[1][0])] == [12]
    single = S.Sitting(1, 0, short.items[:1], short.ratings[:1], short.timestamps[:1])
    assert S.timeline_windows(single) == []


def test_a_dataset_without_times_has_no_sittings():
    data = _dataset()
    bare = Dataset("bare", data.movies, data.users,
                   Interactions(data.interactions.users, data.interactions.items, data.interactions.ratings))
    with pytest.raises(InvalidInputError):
        S.user_sittings(bare)


def test_user_split_is_disjoint_complete_and_seeded():
    ids = range(1, 944)
    split = S.split_users(ids, seed=7)
    assert not (split.train & split.validation) and not (split.train & split.test) and not (split.validation & split.test)
    assert split.train | split.validation | split.test == set(ids)
    assert (len(split.train), len(split.validation), len(split.test)) == (754, 94, 95)
    assert S.split_users(ids, seed=7) == split and S.split_users(ids, seed=8).test != split.test


def test_user_folds_test_every_user_once_and_never_train_on_them():
    ids = range(1, 101)
    folds = S.user_folds(ids, seed=3, folds=5)
    tested = [u for fold in folds for u in fold.test]
    assert sorted(tested) == list(ids)
    for fold in folds:
        assert not (fold.train & fold.test) and not (fold.train & fold.validation) and not (fold.validation & fold.test)
        assert fold.train | fold.validation | fold.test == set(ids)
        assert (len(fold.test), len(fold.validation), len(fold.train)) == (20, 10, 70)
    with pytest.raises(InvalidInputError):
        S.user_folds(ids, folds=2)


def test_crowd_features_read_train_users_only():
    data = _dataset()
    train_only = fit_crowd(data, [1])
    # user 2 liked movies 1-6 and disliked 7-11; with only user 1 as the crowd, none of that shows
    assert train_only.counts[train_only.movie_row[7]] == 1
    everyone = fit_crowd(data, [1, 2])
    assert everyone.counts[everyone.movie_row[7]] == 2
    changed = fit_crowd(_with_user2_reversed(data), [1])
    for a, b in zip((train_only.counts, train_only.likes, train_only.vectors), (changed.counts, changed.likes, changed.vectors)):
        np.testing.assert_array_equal(a, b)
    assert 13 not in train_only.movie_row and 20 in train_only.movie_row  # 13: nobody rated it


def _with_user2_reversed(data: Dataset) -> Dataset:
    """The same data with every rating of user 2 flipped: a test user's labels must not move the crowd."""
    ratings = data.interactions.ratings.copy()
    ratings[data.interactions.users == 2] = 6 - ratings[data.interactions.users == 2]
    i = data.interactions
    return Dataset(data.name, data.movies, data.users, Interactions(i.users, i.items, ratings, i.timestamps))


def test_the_encoded_test_window_is_blind_to_its_own_labels_in_the_crowd():
    data = _dataset()
    crowd = fit_crowd(data, [1, 3])
    window = S.windows_of(S.user_sittings(data), [2])[0]
    rows = SessionEncoder(data, crowd).window_rows(window)
    flipped = _with_user2_reversed(data)
    rows_flipped = SessionEncoder(flipped, fit_crowd(flipped, [1, 3])).window_rows(S.windows_of(S.user_sittings(flipped), [2])[0])
    enc = SessionEncoder(data, crowd)
    np.testing.assert_array_equal(rows[:, enc.columns["crowd"]], rows_flipped[:, enc.columns["crowd"]])


def test_a_train_users_own_rating_is_left_out_of_the_like_rate():
    data = _dataset()
    crowd = fit_crowd(data, [1])
    movie = np.array([1])
    rated_low = crowd.like_rate(movie)  # user 1 gave movie 1 two stars: likes 0 of 1
    assert rated_low[0] == pytest.approx((0 + 10 * crowd.global_rate) / (1 + 10))
    assert crowd.like_rate(movie, np.array([False]))[0] == pytest.approx(crowd.global_rate)


def test_feature_groups_and_the_guessed_half():
    data = _dataset()
    enc = SessionEncoder(data, fit_crowd(data, [1]))
    window = S.windows_of(S.user_sittings(data), [2])[0]
    rows = enc.window_rows(window)
    c = enc.columns
    assert list(c) == list(GROUPS) and enc.width == c["crowd"].stop
    np.testing.assert_allclose(rows[:5, c["history"]][:, 0], [1, 1, 1, 1, 1])
    assert not rows[5:, c["history"]].any()  # the label is never an input of the guessed half
    assert rows[0, c["user"]].sum() == 3  # gender, age group and occupation
    np.testing.assert_allclose(rows[:, c["position"]][:, 0], np.arange(11) / 20)
    arrays = enc.encode([window])
    assert arrays.given_mask.sum() == 5 and arrays.target_mask.sum() == 6
    assert arrays.labels[0, :6].tolist() == [1, 0, 0, 0, 0, 0]
    assert arrays.target_items[0, :6].tolist() == window.items[5:].tolist()


def test_the_eight_subsets_and_their_children():
    assert len(SUBSETS) == 8 and all("position" in s.groups for s in SUBSETS)
    kids = children()
    assert kids["S1"] == () and kids["S5"] == ("S1", "S2") and kids["S6"] == ("S1", "S3")
    assert kids["S7"] == ("S2", "S3", "S4") and kids["S8"] == ("S1", "S2", "S3", "S4", "S5", "S6", "S7")
    data = _dataset()
    enc = SessionEncoder(data, fit_crowd(data, [1]))
    s1 = SUBSETS[0]
    assert enc.subset_columns(s1, "given")[enc.columns["history"]].all()
    assert not enc.subset_columns(s1, "target")[enc.columns["history"]].any()


def test_a_profiles_sitting_is_the_order_movies_were_added():
    profile = Profile(movies=(5, 3, 9, 1), ratings=(5, None, 2, 4), gender="F")
    window = S.profile_window(profile)
    assert window.items.tolist() == [5, 9, 1] and window.ratings.tolist() == [5, 2, 4]
    assert window.given == 1 and window.timestamps is None and not window.gaps.any()
    long = Profile(movies=tuple(range(1, 31)), ratings=tuple([4] * 30))
    assert S.profile_window(long).items.tolist() == list(range(11, 31))
    with pytest.raises(InvalidInputError):
        S.profile_window(Profile(movies=(1, 2), ratings=(4, None)))
    data = _dataset()
    enc = SessionEncoder(data, fit_crowd(data, [1]))
    user = User(0, "F", None, None)
    arrays = enc.encode([window], [user])
    assert arrays.given[0, 0, enc.columns["user"]].tolist()[:2] == [1.0, 0.0]
    assert arrays.users.tolist() == [-1]
