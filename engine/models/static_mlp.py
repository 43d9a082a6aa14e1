"""The inputs of the static expert-lens models, and the two plain models beside the Intrp-MLP.

Groups, in the order the Intrp-MLP reads them (notes §1.8):
- content (32): c_u = [gender 2, age group 6, occupation 8] embeddings and c_i = tanh(Dense16(item
  content)), concatenated: the reference code merges them into one group;
- user (F): either the paper's learned embedding p_u of the user id ("embedding": a user outside
  the training data has none), or a vector built from the profile's rated movies ("profile": a
  learned item table, mean-pooled over the user's movies, times a constant (POOL_SCALE) and
  projected), so any profile gets one without retraining. While training, a positive's own movie
  is left out of its pooled history, as it would be for a movie the user has not rated yet;
- item (F): the learned embedding q_i.

The control ("NCF-MLP" with content, `Aug_NCF_MLP` mode 7 of the reference code) is a plain MLP on
all three groups; the content-only model the same on the content group alone (mode 4).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from engine.models.static_features import StaticFeatures

USER_GROUPS = ("embedding", "profile")
# The profile-built group's pooled mean is multiplied by this constant before its projection: the mean of
# ~100 rows of a 0.05-std table starts ~10x smaller than an embedding row and, Adam's steps being of fixed
# size, learns as slowly. 9 is about sqrt(n) for the mean ML-100k training profile (SVD++'s 1/sqrt(n)
# scale). Validation HR@10 of the profile-built Intrp-MLP on ML-100k (mixture loss weight 1.0, best of 20
# epochs, training seeds 0 / 1): plain mean 0.787 / 0.783; mean x 9 0.805 / 0.799; sum / sqrt(n)
# 0.804 / 0.804 (as good, but the ONNX graph would then need the power). Folded into the served
# projection weights (static_model_cache.static_arrays): serving computes the plain mean.
POOL_SCALE = 9.0
CONTENT_WIDTH = 32  # 2 + 6 + 8 user, 16 item
_CATEGORY_WIDTHS = (2, 6, 8)


class History(NamedTuple):
    """Rated movies of some profiles: a dense (rows x items) 0/1 float32 matrix and each row's count.
    Dense on purpose: a batch's pooled sums are then one small matrix product of its distinct rows,
    forward and backward, several times faster on CPU than a sparse product or an embedding bag
    (ML-1M: 6,040 x 3,706 floats, 90 MB)."""

    matrix: torch.Tensor  # float32 (rows, items), 1 where the row rated the movie
    counts: torch.Tensor  # float32 (rows,)

    @staticmethod
    def of(rows: sp.csr_matrix) -> "History":
        dense = torch.from_numpy(np.asarray(sp.csr_matrix(rows).toarray() != 0, np.float32))
        return History(dense, dense.sum(dim=1))


class Pairs(NamedTuple):
    """(profile, movie) pairs to score: profile rows (of `history`, and of the user table in
    "embedding" mode), movie columns, demographics (n, 3), whether the movie is in the row's
    history (left out of the pooling), and the histories."""

    users: torch.Tensor  # int64 (n,)
    items: torch.Tensor  # int64 (n,)
    categories: torch.Tensor  # int64 (n, 3)
    in_history: torch.Tensor  # float32 (n,)
    history: History | None = None

    @staticmethod
    def for_profile(movies: sp.csr_matrix, categories: np.ndarray, items: np.ndarray) -> "Pairs":
        """Pairs of one profile (any profile: its rated movies as a 1 x n_items row, demographics
        from StaticFeatures.categories_of) with `items`: what the app scores, no user id needed."""
        row = sp.csr_matrix(movies)
        items = np.asarray(items, np.int64)
        in_history = np.isin(items, row.indices).astype(np.float32)
        n = len(items)
        return Pairs(torch.zeros(n, dtype=torch.int64), torch.from_numpy(items),
                     torch.from_numpy(np.asarray(categories, np.int64)).reshape(1, 3).expand(n, 3),
                     torch.from_numpy(in_history), History.of(row))


@dataclass(frozen=True)
class StaticInputsConfig:
    factors: int = 32
    user_group: str = "embedding"
    pool_scale: float = POOL_SCALE  # the profile-built group's (above); unused by "embedding"

    def __post_init__(self) -> None:
        if self.user_group not in USER_GROUPS:
            raise ValueError(f"user_group must be one of {USER_GROUPS}, got {self.user_group!r}")
        if not self.pool_scale > 0:
            raise ValueError(f"pool_scale must be positive, got {self.pool_scale!r}")

    def to_dict(self) -> dict:
        return asdict(self)


class StaticInputs(nn.Module):
    """(content, user, item) columns of a batch of pairs: (n, 32 + F + F)."""

    def __init__(self, features: StaticFeatures, n_users: int, n_items: int, config: StaticInputsConfig):
        super().__init__()
        self.config = config
        self.categories = nn.ModuleList(nn.Embedding(size, width)
                                        for size, width in zip(features.category_sizes, _CATEGORY_WIDTHS))
        self.item_content = nn.Linear(features.n_item_content, 16)
        self.register_buffer("content_table", torch.from_numpy(features.item_content))
        self.item_table = nn.Embedding(n_items, config.factors)
        if config.user_group == "embedding":
            self.user_table = nn.Embedding(n_users, config.factors)
            tables = [self.item_table, self.user_table]
        else:
            self.history_table = nn.Embedding(n_items, config.factors)
            self.pool = nn.Linear(config.factors, config.factors)
            tables = [self.item_table, self.history_table]
        for table in tables:  # Keras random_normal, as the reference code
            nn.init.normal_(table.weight, 0.0, 0.05)

    @property
    def widths(self) -> dict[str, int]:
        return {"content": CONTENT_WIDTH, "user_embedding": self.config.factors, "item_embedding": self.config.factors}

    def content(self, pairs: Pairs) -> torch.Tensor:
        user = [table(pairs.categories[:, j]) for j, table in enumerate(self.categories)]
        item = torch.tanh(self.item_content(self.content_table[pairs.items]))
        return torch.cat(user + [item], dim=1)

    def user(self, pairs: Pairs) -> torch.Tensor:
        if self.config.user_group == "embedding":
            return self.user_table(pairs.users)
        if pairs.history is None:
            raise ValueError("the profile-built user group needs the profiles' histories")
        # Sum each distinct profile's rows once (a batch repeats profiles), then spread to the pairs.
        rows, inverse = torch.unique(pairs.users, return_inverse=True)
        sums = (pairs.history.matrix[rows] @ self.history_table.weight)[inverse]
        own = pairs.in_history.unsqueeze(1)
        sums = sums - own * self.history_table(pairs.items)
        counts = (pairs.history.counts[pairs.users] - pairs.in_history).clamp(min=1.0)
        return self.pool(self.config.pool_scale * sums / counts.unsqueeze(1))

    def forward(self, pairs: Pairs) -> torch.Tensor:
        return torch.cat([self.content(pairs), self.user(pairs), self.item_table(pairs.items)], dim=1)


@dataclass(frozen=True)
class MLPConfig:
    hidden: tuple[int, ...] = (128, 64, 32)
    content_only: bool = False

    def to_dict(self) -> dict:
        return {"hidden": list(self.hidden), "content_only": self.content_only}


class ControlMLP(nn.Module):
    """A plain MLP on the same inputs (or the content group alone): one logit per pair."""

    def __init__(self, inputs: StaticInputs, config: MLPConfig = MLPConfig()):
        super().__init__()
        self.inputs = inputs
        self.config = config
        width = CONTENT_WIDTH if config.content_only else sum(inputs.widths.values())
        layers: list[nn.Module] = []
        for size in config.hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def logits(self, pairs: Pairs) -> torch.Tensor:
        x = self.inputs.content(pairs) if self.config.content_only else self.inputs(pairs)
        return self.net(x).squeeze(-1)

    def loss(self, pairs: Pairs, labels: torch.Tensor) -> torch.Tensor:
        return nn.functional.binary_cross_entropy_with_logits(self.logits(pairs), labels)

    def scores(self, pairs: Pairs) -> torch.Tensor:
        """Ranking scores: the logit (a monotone map of the probability that does not saturate)."""
        return self.logits(pairs).double()
