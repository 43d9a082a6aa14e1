"""The influence lens's rating models for ONNX: predicted stars for (user, movie) pairs, MF or NCF.

Inputs `user` and `item` (batch, int64) are positions in the vocabulary's `user_ids` and
`movie_ids`; output `rating` (batch, float64) is the raw predicted rating, as the lens serves it
(float64 end to end, like the numpy models). A profile that is not a dataset user is folded in by
the engine (a ridge fit of its own user factors); that fit is not part of the graph.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from engine.export import OnnxProgram


def _tensor(array) -> torch.Tensor:
    return torch.from_numpy(np.array(array, dtype=np.float64))


class MFRatings(nn.Module):
    """r̂ = μ + b_u + b_i + p_u · q_i (engine.models.mf.MatrixFactorization)."""

    def __init__(self, model):
        super().__init__()
        self.register_buffer("mean", _tensor([model.mean]))
        self.register_buffer("user_factors", _tensor(model.user_factors))
        self.register_buffer("item_factors", _tensor(model.item_factors))
        self.register_buffer("user_bias", _tensor(model.user_bias))
        self.register_buffer("item_bias", _tensor(model.item_bias))

    def forward(self, user: torch.Tensor, item: torch.Tensor) -> torch.Tensor:
        dots = (self.user_factors[user] * self.item_factors[item]).sum(dim=1)
        return self.mean + self.user_bias[user] + self.item_bias[item] + dots


class NCFRatings(nn.Module):
    """r̂ = offset + b_u + b_i + p_u · q_i + wᵀ tanh(W [p_u; q_i] + c) (engine.models.ncf.NCF)."""

    def __init__(self, model):
        super().__init__()
        k = model.factors
        self.register_buffer("offset", _tensor([model.offset]))
        self.register_buffer("user_factors", _tensor(model.user_factors))
        self.register_buffer("item_factors", _tensor(model.item_factors))
        self.register_buffer("user_bias", _tensor(model.user_bias))
        self.register_buffer("item_bias", _tensor(model.item_bias))
        self.register_buffer("user_weight", _tensor(model.hidden_weight[:, :k].T))  # W split by input half
        self.register_buffer("item_weight", _tensor(model.hidden_weight[:, k:].T))
        self.register_buffer("hidden_bias", _tensor(model.hidden_bias))
        self.register_buffer("output_weight", _tensor(model.output_weight))

    def forward(self, user: torch.Tensor, item: torch.Tensor) -> torch.Tensor:
        p, q = self.user_factors[user], self.item_factors[item]
        hidden = torch.tanh(p @ self.user_weight + q @ self.item_weight + self.hidden_bias)
        return self.offset + self.user_bias[user] + self.item_bias[item] + (p * q).sum(dim=1) + hidden @ self.output_weight


MODULES = {"mf": MFRatings, "ncf": NCFRatings}


def influence_program(model_name: str, model, user_ids: np.ndarray, movie_ids: np.ndarray, dataset) -> OnnxProgram:
    """`model` is the served rating model; `user_ids` and `movie_ids` map its rows to dataset ids."""
    users = [int(u) for u in user_ids]
    movies = [int(m) for m in movie_ids]
    example = (np.array([0, len(users) - 1], dtype=np.int64), np.array([0, len(movies) - 1], dtype=np.int64))
    return OnnxProgram(
        module=MODULES[model_name](model),
        example_inputs=example,
        input_names=("user", "item"),
        output_names=("rating",),
        vocabulary={
            "inputs": {
                "user": {"dtype": "int64", "shape": ["batch"], "meaning": "position of the dataset user in user_ids"},
                "item": {"dtype": "int64", "shape": ["batch"], "meaning": "position of the movie in movie_ids"},
            },
            "outputs": {"rating": {"dtype": "float64", "shape": ["batch"],
                                   "meaning": "predicted stars (raw, not clipped to 1-5)"}},
            "user_ids": users,
            "movie_ids": movies,
        },
        metadata={"lens": "influence", "model": model_name, "dataset": dataset.name,
                  "fingerprint": dataset.fingerprint, "factors": int(model.factors)},
    )
