"""The relevance lens's model for ONNX: RecoNet's logits and probabilities for a batch of profiles.

Input `features` (batch, n_features, float32) holds 1 at the position of each feature the profile
has and 0 elsewhere; the graph takes their mean embedding (zeros for an empty profile), exactly as
serving does, so that a consumer only needs the vocabulary to build a row. Outputs `logits` and
`probabilities` (batch, n_movies) are over the vocabulary's movie positions.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from engine.export import OnnxProgram
from engine.lenses import LensContext
from engine.profile import POSITIVE_STARS


class RecoNetScores(nn.Module):
    """Served RecoNet weights (engine.models.reconet.RecoNetWeights) as a dense-input torch module."""

    def __init__(self, weights):
        super().__init__()
        tensor = lambda a: torch.from_numpy(np.array(a, dtype=np.float32))  # noqa: E731 (a copy, writable)
        self.register_buffer("embedding", tensor(weights.embedding))
        self.register_buffer("output_weight", tensor(weights.output_weight))
        self.register_buffer("output_bias", tensor(weights.output_bias))
        self.has_hidden = weights.hidden_weight is not None
        if self.has_hidden:
            self.register_buffer("hidden_weight", tensor(weights.hidden_weight))
            self.register_buffer("hidden_bias", tensor(weights.hidden_bias))

    def forward(self, features: torch.Tensor):
        # The weights stay float32 in the file (as served) but the sums run in float64: a float32
        # graph differed from exact scores by up to 1e-5 at ML-100k's logits (~15), this by < 1e-6.
        features = features.double()
        count = features.sum(dim=1, keepdim=True).clamp(min=1.0)
        pooled = (features @ self.embedding.double()) / count  # the mean of the profile's feature vectors
        if self.has_hidden:
            pooled = torch.relu(pooled @ self.hidden_weight.double().T + self.hidden_bias.double())
        logits = pooled @ self.output_weight.double().T + self.output_bias.double()
        return logits.float(), torch.softmax(logits, dim=1).float()


def relevance_program(context: LensContext) -> OnnxProgram:
    served, vocabulary, dataset = context.recommender, context.vocabulary, context.dataset
    config = served.config
    example = np.zeros((2, vocabulary.n_features), dtype=np.float32)
    example[0, :3] = 1.0  # a small profile and an empty one
    features = []
    for position, feature in enumerate(vocabulary.features):
        entry = {"position": position, "kind": feature.kind, "key": feature.key, "name": feature.name}
        if feature.kind == "movie":
            entry["genres"] = list(dataset.movies[int(feature.key)].genres)
        features.append(entry)
    movie_ids = [int(m) for m in vocabulary.item_ids]
    rule = (f"Set 1 at each movie the profile likes (rated {POSITIVE_STARS} stars or more, or without stars)"
            + (", at its gender, age group and occupation" if config.use_user_attributes else "")
            + (", and at each genre of any liked movie (once)" if config.use_item_attributes else "")
            + "; 0 elsewhere. An empty row gives the logits' bias (the app then ranks by popularity).")
    return OnnxProgram(
        module=RecoNetScores(served.weights),
        example_inputs=(example,),
        input_names=("features",),
        output_names=("logits", "probabilities"),
        vocabulary={
            "inputs": {"features": {"dtype": "float32", "shape": ["batch", vocabulary.n_features], "rule": rule,
                                    "positions": features}},
            "outputs": {
                "logits": {"dtype": "float32", "shape": ["batch", len(movie_ids)], "movie_ids": movie_ids},
                "probabilities": {"dtype": "float32", "shape": ["batch", len(movie_ids)],
                                  "meaning": "softmax of the logits over every movie", "movie_ids": movie_ids},
            },
        },
        metadata={
            "lens": "relevance", "model": "reconet", "variant": config.variant, "dataset": dataset.name,
            "fingerprint": dataset.fingerprint, "use_user_attributes": config.use_user_attributes,
            "use_item_attributes": config.use_item_attributes, "positive_stars": POSITIVE_STARS,
        },
    )
