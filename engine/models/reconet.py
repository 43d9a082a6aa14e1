"""RecoNet: the mean of a profile's feature embeddings, mapped by a linear layer to one logit per movie.

Training uses the torch module; serving and explanations use `RecoNetWeights`, plain numpy copies of
the parameters, so an explanation never touches a model another thread may be training.
"""
from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

# torch warns once that sparse CSR support is "beta"; the one product used here is well supported.
warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta", category=UserWarning)


@dataclass(frozen=True)
class RecoNetConfig:
    dim: int = 128
    hidden: int | None = None  # width of the "+ Layer" variant's ReLU layer; None = plain RecoNet
    use_user_attributes: bool = True
    use_item_attributes: bool = True
    beta: float = 1.0  # extra removals happen with probability 1/(r+1)^beta (paper section 4.2)
    learning_rate: float = 2e-3
    batch_size: int = 1024
    max_epochs: int = 30
    checks_per_epoch: int = 1  # validations per epoch; early stopping counts these checks
    patience: int = 2
    seed: int = 0
    positive_threshold: float = 3.0

    @property
    def variant(self) -> str:
        name = "RecoNet + Layer" if self.hidden else "RecoNet"
        attrs = [a for a, on in (("user", self.use_user_attributes), ("item", self.use_item_attributes)) if on]
        return f"{name} ({'+'.join(attrs)} attributes)" if attrs else f"{name} (no attributes)"

    def to_dict(self) -> dict:
        return asdict(self)


class RecoNetModule(nn.Module):
    def __init__(self, n_features: int, n_items: int, config: RecoNetConfig):
        super().__init__()
        self.embedding = nn.Parameter(torch.empty(n_features, config.dim))
        self.hidden = nn.Linear(config.dim, config.hidden) if config.hidden else None
        self.output = nn.Linear(config.hidden or config.dim, n_items)
        nn.init.xavier_uniform_(self.embedding)
        nn.init.xavier_uniform_(self.output.weight)
        nn.init.zeros_(self.output.bias)
        if self.hidden is not None:
            nn.init.xavier_uniform_(self.hidden.weight)
            nn.init.zeros_(self.hidden.bias)

    def forward(self, profiles: torch.Tensor) -> torch.Tensor:
        # Rows of `profiles` hold 1/|profile| per feature, so this product is the paper's mean of
        # feature vectors; a sparse product's backward is much cheaper than EmbeddingBag's here.
        pooled = torch.sparse.mm(profiles, self.embedding)
        if self.hidden is not None:
            pooled = torch.relu(self.hidden(pooled))
        return self.output(pooled)

    def to_weights(self) -> "RecoNetWeights":
        def numpy(t: torch.Tensor) -> np.ndarray:
            return t.detach().cpu().numpy().astype(np.float32, copy=True)

        return RecoNetWeights(
            embedding=numpy(self.embedding),
            output_weight=numpy(self.output.weight),
            output_bias=numpy(self.output.bias),
            hidden_weight=numpy(self.hidden.weight) if self.hidden is not None else None,
            hidden_bias=numpy(self.hidden.bias) if self.hidden is not None else None,
        )


def to_torch_csr(profiles: sp.csr_matrix) -> torch.Tensor:
    return torch.sparse_csr_tensor(
        torch.from_numpy(profiles.indptr.astype(np.int64)),
        torch.from_numpy(profiles.indices.astype(np.int64)),
        torch.from_numpy(profiles.data.astype(np.float32)),
        size=profiles.shape,
        check_invariants=False,  # scipy built these arrays; checking again costs time per batch
    )


@dataclass(frozen=True, eq=False)
class RecoNetWeights:
    embedding: np.ndarray  # (features, dim)
    output_weight: np.ndarray  # (items, dim or hidden)
    output_bias: np.ndarray  # (items,)
    hidden_weight: np.ndarray | None = None  # (hidden, dim)
    hidden_bias: np.ndarray | None = None  # (hidden,)

    @property
    def n_items(self) -> int:
        return self.output_weight.shape[0]

    def pooled(self, rows: np.ndarray) -> np.ndarray:
        """The profile vector x_u: mean of the rows' embeddings (zeros for an empty profile)."""
        if len(rows) == 0:
            return np.zeros(self.embedding.shape[1], dtype=np.float32)
        return self.embedding[rows].mean(axis=0)

    def hidden_activations(self, pooled: np.ndarray) -> np.ndarray:
        if self.hidden_weight is None:
            return pooled
        return np.maximum(pooled @ self.hidden_weight.T + self.hidden_bias, 0.0)

    def logits(self, rows: np.ndarray) -> np.ndarray:
        return self.output_weight @ self.hidden_activations(self.pooled(rows)) + self.output_bias

    def logits_batch(self, profiles: sp.csr_matrix) -> np.ndarray:
        """Logits for many profiles at once; `profiles` is row-normalised (users x features)."""
        pooled = np.asarray(profiles @ self.embedding, dtype=np.float32)
        return self.hidden_activations(pooled) @ self.output_weight.T + self.output_bias

    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays = {"embedding": self.embedding, "output_weight": self.output_weight, "output_bias": self.output_bias}
        if self.hidden_weight is not None:
            arrays.update(hidden_weight=self.hidden_weight, hidden_bias=self.hidden_bias)
        return arrays

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "RecoNetWeights":
        arrays = {k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()}
        return cls(
            embedding=arrays["embedding"],
            output_weight=arrays["output_weight"],
            output_bias=arrays["output_bias"],
            hidden_weight=arrays.get("hidden_weight"),
            hidden_bias=arrays.get("hidden_bias"),
        )
