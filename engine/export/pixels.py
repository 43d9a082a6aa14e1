"""The pixel lens's relation model for ONNX: the logit q_u - d_u of two product images for a shopper.

Inputs `query` and `candidate` (batch, 1, 28, 28, float32 in [0, 1]: the uint8 image / 255, brand
mark planted) and `shopper` (batch, int64: position in the vocabulary's `shoppers`); output `logit`
(batch, float32). P(related) = sigmoid(logit). The LRP heatmaps are not part of the graph.
"""
from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from engine.export import OnnxProgram


class RelationLogit(nn.Module):
    """A frozen copy of the served relation model, so exporting never touches the one explaining."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.model = copy.deepcopy(module).eval()
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)

    def forward(self, query: torch.Tensor, candidate: torch.Tensor, shopper: torch.Tensor) -> torch.Tensor:
        # The branch runs once per image rather than on one stacked batch (as RelationCNN.forward
        # does): the tracer would freeze the split point of the stack at the example's batch size.
        model = self.model
        return model.offset[shopper] - model.distance(model.features(query), model.features(candidate), shopper)


def pixels_program(module, test_catalogue, manifest: dict) -> OnnxProgram:
    """`module` is the served RelationCNN; `test_catalogue` the items it explains; `manifest` its cache record."""
    from engine.data.product_catalogue import SHOPPER_RULES, SHOPPERS

    images = test_catalogue.floats([0, 1])[:, None]
    example = (images, images[::-1].copy(), np.array([0, 1], dtype=np.int64))
    side = module.config.image_size
    image_input = {"dtype": "float32", "shape": ["batch", 1, side, side],
                   "meaning": "greyscale product image, pixel / 255 in [0, 1], brand mark planted"}
    return OnnxProgram(
        module=RelationLogit(module),
        example_inputs=example,
        input_names=("query", "candidate", "shopper"),
        output_names=("logit",),
        vocabulary={
            "inputs": {
                "query": image_input,
                "candidate": image_input,
                "shopper": {"dtype": "int64", "shape": ["batch"], "meaning": "position of the shopper in shoppers"},
            },
            "outputs": {"logit": {"dtype": "float32", "shape": ["batch"],
                                  "meaning": "relation logit q_u - d_u; P(related) = sigmoid(logit)"}},
            "shoppers": [{"id": name, "rule": SHOPPER_RULES[name]} for name in SHOPPERS],
            "class_names": list(test_catalogue.class_names),
            "catalogue": test_catalogue.note,
        },
        metadata={
            "lens": "pixels", "model": "relation-cnn", "dataset": manifest.get("dataset", "fashion-mnist"),
            "fingerprint": manifest.get("fingerprint", test_catalogue.fingerprint),
            "config": manifest.get("config", module.config.to_dict()),
        },
    )
