"""A small dataset of rating sittings for the session expert tests: stars follow a planted taste."""
import numpy as np

from engine.data.types import Dataset, Interactions, Movie, User

GENRES = ("Action", "Comedy", "Drama", "Horror")


def synthetic_sittings(users: int = 40, seed: int = 0) -> Dataset:
    """`users` users with one sitting of 12-20 ratings each, 30 s apart; a user likes the genre
    matching their id modulo 4 (stars 3 + 1.5 + noise) and is lukewarm about the others."""
    rng = np.random.default_rng(seed)
    movies = {m: Movie(m, f"M{m}", 1970 + m % 30, (GENRES[m % 4],)) for m in range(1, 61)}
    people = {u: User(u, "FM"[u % 2], "25-34", ("writer", "artist")[u % 2]) for u in range(1, users + 1)}
    rows = []
    for u in people:
        length = int(rng.integers(12, 21))
        for k, m in enumerate(rng.choice(list(movies), size=length, replace=False)):
            taste = 1.5 if (m % 4) == (u % 4) else -0.5
            stars = int(np.clip(np.round(3 + taste + rng.normal(0, 0.8)), 1, 5))
            rows.append((u, m, stars, 880_000_000 + 10_000 * u + 30 * k))
    u, m, r, t = (np.array(c) for c in zip(*rows))
    return Dataset("synthetic", movies, people, Interactions(u, m, r.astype(np.float32), t))


def write_ml100k_folder(data: Dataset, folder) -> None:
    """`data` in the GroupLens ml-100k layout, for command-line runs (genre flags in ML-100k order)."""
    from engine.data.movielens import ML100K_GENRES

    folder.mkdir(parents=True)
    i = data.interactions
    (folder / "u.data").write_text("".join(
        f"{u}\t{m}\t{int(r)}\t{t}\n" for u, m, r, t in zip(i.users, i.items, i.ratings, i.timestamps)))
    (folder / "u.user").write_text("".join(f"{u.id}|30|{u.gender}|{u.occupation}|00000\n" for u in data.users.values()))
    (folder / "u.item").write_text("".join(
        f"{m.id}|{m.title} ({m.year})|01-Jan-{m.year}||http://x|"
        + "|".join("1" if g in m.genres else "0" for g in ML100K_GENRES) + "\n" for m in data.movies.values()))
