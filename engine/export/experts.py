"""The expert lens's static model for ONNX: the profile-built Intrp-MLP with its gate, so any runtime
gets the four experts' predictions, their shares and the mixed probability, the numbers the lens shows.

Inputs: `demographics` (batch, 3, int64: gender, age group, occupation as positions in the
vocabulary's lists; the list's length means "not given"), `history` (batch, n_movies, float32: 1 for
each movie the profile rated, by position in `movie_ids`) and `item` (batch, int64: the movie to
score). Outputs (float64): `predictions` and `shares` (batch, 4: experts S1-S4) and `probability`
(batch,) == sum(shares * predictions). The session model is not exported (it explains sittings).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from engine.export import OnnxProgram
from engine.models.experts_gating import mixture
from engine.models.static_serving import StaticServing


def _buffer(array, dtype=torch.float32) -> torch.Tensor:
    return torch.from_numpy(np.array(array)).to(dtype)


class StaticExpertsGraph(nn.Module):
    """engine.models.static_serving.StaticServing.mixture as a torch graph over a multi-hot history."""

    def __init__(self, serving: StaticServing):
        super().__init__()
        t = serving.tables
        for name in ("gender", "age", "occupation", "content_weight", "content_bias", "content_table", "item_table",
                     "history_table", "pool_weight", "pool_bias"):
            self.register_buffer(name, _buffer(t[name]))
        experts = serving.experts
        self.layers = len(experts.weights)
        for k, (w, b) in enumerate(zip(experts.weights, experts.biases)):
            self.register_buffer(f"weight{k}", _buffer(w))
            self.register_buffer(f"bias{k}", _buffer(b))
        self.register_buffer("children_mask", _buffer(experts.children, torch.float64))
        self.gate = experts.gate

    def forward(self, demographics: torch.Tensor, history: torch.Tensor, item: torch.Tensor):
        user_content = torch.cat([self.gender[demographics[:, 0]], self.age[demographics[:, 1]],
                                  self.occupation[demographics[:, 2]]], dim=1)
        item_content = torch.tanh(self.content_table[item] @ self.content_weight.T + self.content_bias)
        own = history.gather(1, item[:, None])  # 1 when the scored movie is among the rated ones
        sums = history @ self.history_table - own * self.history_table[item]
        counts = (history.sum(dim=1, keepdim=True) - own).clamp(min=1.0)
        user = (sums / counts) @ self.pool_weight.T + self.pool_bias
        z = torch.cat([user_content, item_content, user, self.item_table[item]], dim=1)
        for k in range(self.layers):
            z = z @ getattr(self, f"weight{k}").T + getattr(self, f"bias{k}")
            if k < self.layers - 1:
                z = torch.relu(z)
        mixed = mixture(torch.sigmoid(z.double()), self.children_mask, self.gate)
        return mixed.predictions, mixed.shares, mixed.prediction


def static_experts_program(serving: StaticServing, experts, dataset) -> OnnxProgram:
    """`experts` are the lens's ExpertInfo entries (model order)."""
    n_items = len(serving.item_ids)
    history = np.zeros((2, n_items), dtype=np.float32)
    history[0, [0, 1, 2]] = 1.0
    history[1, [1, n_items - 1]] = 1.0
    example = (np.array([[0, 0, 0], [len(n) for n in serving.category_names]], dtype=np.int64), history,
               np.array([1, 3], dtype=np.int64))
    names = serving.category_names
    return OnnxProgram(
        module=StaticExpertsGraph(serving).eval(),
        example_inputs=example,
        input_names=("demographics", "history", "item"),
        output_names=("predictions", "shares", "probability"),
        vocabulary={
            "inputs": {
                "demographics": {"dtype": "int64", "shape": ["batch", 3],
                                 "meaning": "gender, age group, occupation: position in genders, ages, occupations; "
                                            "the list's length means not given"},
                "history": {"dtype": "float32", "shape": ["batch", n_items],
                            "meaning": "1 for each movie the profile rated, by position in movie_ids"},
                "item": {"dtype": "int64", "shape": ["batch"], "meaning": "position of the scored movie in movie_ids"},
            },
            "outputs": {
                "predictions": {"dtype": "float64", "shape": ["batch", len(experts)],
                                "meaning": "each expert's own probability that the profile picks the movie"},
                "shares": {"dtype": "float64", "shape": ["batch", len(experts)],
                           "meaning": "each expert's share of the decision (sums to 1)"},
                "probability": {"dtype": "float64", "shape": ["batch"], "meaning": "sum of shares * predictions"},
            },
            "experts": [e.to_dict() for e in experts],
            "genders": list(names[0]), "ages": list(names[1]), "occupations": list(names[2]),
            "movie_ids": [int(m) for m in serving.item_ids],
        },
        metadata={"lens": "experts", "model": "intrp-mlp", "dataset": dataset.name, "fingerprint": dataset.fingerprint,
                  "user_group": "profile", "gate": serving.gate.to_dict()},
    )
