"""The served static Intrp-MLP of the expert lens, with numpy only: the app explains a recommendation
without importing torch (start-up cost; tests/test_serving_imports.py).

The same computation as engine.models.intrp_mlp.IntrpMLP with the profile-built user group
(engine.models.static_mlp.StaticInputs, user_group="profile"):
- content: the gender, age group and occupation embeddings and tanh(W c_i + b) of the movie's content;
- user: pool(mean of the history table over the profile's rated movies, the scored movie left out), the
  model's constant scale of the mean (static_mlp.POOL_SCALE) folded into pool_weight;
- item: the movie's learned embedding;
then the four masked experts (engine.models.experts_serving) and the boosted gate in float64, as the
torch model mixes (float32 sigmoids saturate).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from engine.models.experts_gating import GateConfig, Mixture, mixture
from engine.models.experts_serving import ExpertsWeights

# Plain names of the four experts (the notes' S1-S4), shared by the view, the CLI and the dialogue.
STATIC_EXPERTS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("S1", "content", "the movie's genres and year, and your demographics", ("content",)),
    ("S2", "content+user", "...plus the movies you rated", ("content", "user_embedding")),
    ("S3", "content+item", "...plus what other viewers' choices say about the movie", ("content", "item_embedding")),
    ("S4", "all", "everything together (collaborative)", ("content", "user_embedding", "item_embedding")),
)
INPUT_TABLES = ("gender", "age", "occupation", "content_weight", "content_bias", "content_table", "item_table",
                "history_table", "pool_weight", "pool_bias", "item_ids")


@dataclass(frozen=True, eq=False)
class StaticServing:
    """The input tables and the expert network of a trained profile-built Intrp-MLP."""

    tables: dict[str, np.ndarray]
    experts: ExpertsWeights
    category_names: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]

    @staticmethod
    def from_arrays(arrays: dict[str, np.ndarray], gate: GateConfig, category_names) -> "StaticServing":
        tables = {name: np.asarray(arrays[f"inputs.{name}"]) for name in INPUT_TABLES}
        layers = {k.removeprefix("experts."): v for k, v in arrays.items() if k.startswith("experts.")}
        layers["layers"] = np.asarray(layers["layers"]).reshape(())  # the store keeps scalars as (1,)
        experts = ExpertsWeights.from_arrays(layers, output="sigmoid", gate=gate)
        return StaticServing(tables, experts, tuple(tuple(n) for n in category_names))

    @property
    def item_ids(self) -> np.ndarray:
        return self.tables["item_ids"]

    @property
    def gate(self) -> GateConfig:
        return self.experts.gate

    def columns(self, movie_ids) -> np.ndarray:
        """Column of each movie id; -1 for a movie the model never saw (no rating in its data)."""
        ids = np.asarray(movie_ids, dtype=np.int64).ravel()
        cols = np.searchsorted(self.item_ids, ids)
        cols = np.minimum(cols, len(self.item_ids) - 1)
        return np.where(self.item_ids[cols] == ids, cols, -1)

    def categories_of(self, gender: str | None, age: str | None, occupation: str | None) -> np.ndarray:
        """Category indices; an unknown or missing value is "not given" (the last index)."""
        return np.array([names.index(v) if v in names else len(names)
                         for names, v in zip(self.category_names, (gender, age, occupation))], np.int64)

    def inputs(self, categories: np.ndarray, history: np.ndarray, items: np.ndarray) -> np.ndarray:
        """(len(items), D) float32 input rows of one profile: `history` are the columns of its rated
        movies, `items` the columns to score (a rated one is left out of its own pooling)."""
        t = self.tables
        n = len(items)
        user_content = np.concatenate([t["gender"][categories[0]], t["age"][categories[1]],
                                       t["occupation"][categories[2]]])
        item_content = np.tanh(t["content_table"][items] @ t["content_weight"].T + t["content_bias"])
        history = np.unique(np.asarray(history, dtype=np.int64))
        sums = t["history_table"][history].sum(axis=0, dtype=np.float32)
        held = np.isin(items, history)
        own = np.where(held[:, None], t["history_table"][items], 0.0).astype(np.float32)
        counts = np.maximum(len(history) - held.astype(np.float32), 1.0)
        pooled = (sums[None, :] - own) / counts[:, None]
        user = pooled @ t["pool_weight"].T + t["pool_bias"]
        return np.concatenate([np.broadcast_to(user_content, (n, len(user_content))), item_content, user,
                               t["item_table"][items]], axis=1).astype(np.float32)

    def mixture(self, categories: np.ndarray, history: np.ndarray, items: np.ndarray) -> Mixture:
        """Each expert's prediction, confidence, alpha and share, and the mixed probability, per item."""
        logits = self.logits(categories, history, items).astype(np.float64)
        predictions = 0.5 * (1.0 + np.tanh(0.5 * logits))  # the logistic function, without overflow
        return mixture(predictions, self.experts.children, self.gate)

    def logits(self, categories: np.ndarray, history: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Per-expert logits (len(items), H): the same numbers as experts.logits(inputs(...)), faster.

        The first layer is linear in the input columns, so the movie's own columns (content and
        embedding) go through it once per model (`_item_part`), and the profile's columns once per
        call: one pooled taste for every movie, recomputed only for the rated movies (left out of
        their own pooling). Ranking a profile's whole catalogue then costs the deeper layers only."""
        t, w = self.tables, self.experts.weights[0]
        items = np.asarray(items, dtype=np.int64)
        user_cols, _, taste_cols, _ = self._first_layer_columns
        user_content = np.concatenate([t["gender"][categories[0]], t["age"][categories[1]], t["occupation"][categories[2]]])
        history = np.unique(np.asarray(history, dtype=np.int64))
        rows = t["history_table"][history]
        sums = rows.sum(axis=0, dtype=np.float32)
        held = np.isin(items, history)
        own = np.where(held[:, None], t["history_table"][items], np.float32(0.0))
        counts = np.maximum(len(history) - held.astype(np.float32), 1.0)
        taste = ((sums[None, :] - own) / counts[:, None]) @ t["pool_weight"].T + t["pool_bias"]
        z = self._item_part[items] + user_content @ w[:, user_cols].T + taste @ w[:, taste_cols].T
        for k in range(1, len(self.experts.weights)):
            z = np.maximum(z, 0.0) @ self.experts.weights[k].T + self.experts.biases[k]
        return z

    @cached_property
    def _first_layer_columns(self) -> tuple[slice, slice, slice, slice]:
        """Input columns of the user content, the item content, the taste and the item embedding."""
        t = self.tables
        widths = (t["gender"].shape[1] + t["age"].shape[1] + t["occupation"].shape[1], t["content_weight"].shape[0],
                  t["pool_weight"].shape[0], t["item_table"].shape[1])
        edges = np.cumsum((0, *widths)).tolist()
        return tuple(slice(a, b) for a, b in zip(edges[:-1], edges[1:]))

    @cached_property
    def _item_part(self) -> np.ndarray:
        """(n_items, units) first-layer pre-activation from every movie's own columns, bias included."""
        t, w = self.tables, self.experts.weights[0]
        _, content_cols, _, item_cols = self._first_layer_columns
        content = np.tanh(t["content_table"] @ t["content_weight"].T + t["content_bias"])
        return (content @ w[:, content_cols].T + t["item_table"] @ w[:, item_cols].T + self.experts.biases[0]).astype(np.float32)
