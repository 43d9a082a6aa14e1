"""RecoNet: the mean of a profile's feature embeddings, mapped by a linear layer to one logit per movie.

Training uses the torch module (engine.models.reconet_module); serving and explanations use
`RecoNetWeights`, plain numpy copies of the parameters, so an explanation never touches a model another
thread may be training, and serving never imports torch (importing it costs over a second at start-up).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from functools import cached_property

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # serving scores one profile with numpy; scipy matrices come only from training code
    import scipy.sparse as sp


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

    def variant_on(self, has_user_attributes: bool, has_genres: bool) -> str:
        """The variant as the data lets it be: a dataset without genres (the re-indexed ML-1M) trains
        no item attributes, whatever the settings ask for."""
        return replace(self, use_user_attributes=self.use_user_attributes and has_user_attributes,
                       use_item_attributes=self.use_item_attributes and has_genres).variant

    def to_dict(self) -> dict:
        return asdict(self)


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
        # np.mean's own arithmetic (float32 sum, then one division), without its Python overhead.
        return np.add.reduce(self.embedding[rows], axis=0) / len(rows)

    def hidden_activations(self, pooled: np.ndarray) -> np.ndarray:
        if self.hidden_weight is None:
            return pooled
        return np.maximum(pooled @ self.hidden_weight.T + self.hidden_bias, 0.0)

    def logits(self, rows: np.ndarray) -> np.ndarray:
        return self.logits_of_pooled(self.pooled(rows))

    def logits_of_pooled(self, pooled: np.ndarray) -> np.ndarray:
        """The logits of a profile vector from `pooled` (so that its explanation can reuse it)."""
        return self.output_weight @ self.hidden_activations(pooled) + self.output_bias

    # float64 copies for LRP, made once per model rather than per explanation (exact copies: the
    # explanation's sums run in float64 over the float32 weights either way).
    @cached_property
    def embedding64(self) -> np.ndarray:
        return self.embedding.astype(np.float64)

    @cached_property
    def output_weight64(self) -> np.ndarray:
        return self.output_weight.astype(np.float64)

    @cached_property
    def output_bias64(self) -> np.ndarray:
        return self.output_bias.astype(np.float64)

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


def __getattr__(name: str):
    """The torch parts, imported only when asked for (training, export)."""
    if name in ("RecoNetModule", "to_torch_csr"):
        from engine.models import reconet_module

        return getattr(reconet_module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
