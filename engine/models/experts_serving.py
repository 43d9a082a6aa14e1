"""The interpretable experts network served with numpy: the app explains a prediction without
importing torch (start-up cost; tests/test_serving_imports.py). Same numbers as
InterpretableExperts: at inference the detached links are ordinary weights, so each layer is one
dense product with the masked weight W * (own + linked), zeros where no link is allowed.

Arrays come from InterpretableExperts.to_arrays() and go through the model store (an .npz)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.models.experts_gating import GateConfig, Mixture, mixture


@dataclass(frozen=True, eq=False)
class ExpertsWeights:
    weights: tuple[np.ndarray, ...]  # (out, in) per layer, masks applied; the last is the head (H, .)
    biases: tuple[np.ndarray, ...]
    children: np.ndarray  # (H, H) bool
    output: str  # "tanh" or "sigmoid", as ExpertsConfig.output
    gate: GateConfig

    @staticmethod
    def from_arrays(arrays: dict[str, np.ndarray], output: str, gate: GateConfig) -> "ExpertsWeights":
        n = int(arrays["layers"])
        return ExpertsWeights(
            tuple(np.asarray(arrays[f"layer{k}.weight"]) for k in range(n)),
            tuple(np.asarray(arrays[f"layer{k}.bias"]) for k in range(n)),
            np.asarray(arrays["children"], dtype=bool),
            output,
            gate,
        )

    def logits(self, x: np.ndarray) -> np.ndarray:
        """(..., D) -> per-expert logits of P(y = 1), (..., H)."""
        z = np.asarray(x, dtype=self.weights[0].dtype)
        last = len(self.weights) - 1
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = z @ w.T + b
            if k < last:
                z = np.maximum(z, 0.0)
        return 2 * z if self.output == "tanh" else z

    def mixture(self, x: np.ndarray) -> Mixture:
        logits = self.logits(x)
        predictions = 0.5 * (1.0 + np.tanh(0.5 * logits))  # the logistic function, without overflow
        return mixture(predictions, self.children, self.gate)
