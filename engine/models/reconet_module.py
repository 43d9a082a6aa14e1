"""RecoNet's torch module, for training and export only: serving reads `RecoNetWeights` (numpy)."""
from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from engine.models.reconet import RecoNetConfig, RecoNetWeights

# torch warns once that sparse CSR support is "beta"; the one product used here is well supported.
warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta", category=UserWarning)


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

    def to_weights(self) -> RecoNetWeights:
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
