"""Baseline pixel attributions of the relation logit z = q_u - d_u, to compare the LRP heatmaps with.

Each method returns one map per image of each pair, `{"query": (n, H, W), "candidate": (n, H, W)}`,
oriented like LRP's net view: positive = evidence for "related" (raises z). Methods:

* gradient x input: x * dz/dx (the paper's epsilon rule everywhere reduces to it on this ReLU
  branch, up to a factor 1/2; specs/pixels.md section 7 item 5);
* gradient: |dz/dx|, Simonyan's sensitivity map; unsigned, so it has no "against" side;
* occlusion: a patch of one image set to 0 (the background), the logit drop z(x) - z(x occluded)
  averaged over the patches covering each pixel (4x4, stride 2: 169 patches per 28x28 image);
* random: seeded standard normal maps, the chance baseline.

Gradients come from torch.autograd.grad with respect to the images only, so no parameter's `.grad`
is touched (the served model may be in use elsewhere).
"""
from __future__ import annotations

import numpy as np
import torch

from engine.models.relation_cnn import RelationCNN, image_tensor

IMAGES = ("query", "candidate")
OCCLUSION_PATCH = 4
OCCLUSION_STRIDE = 2
OCCLUSION_BATCH = 4096  # occluded images per forward pass (memory, not speed)

Maps = dict[str, np.ndarray]  # "query" / "candidate" -> (n, H, W)


def _shoppers(shopper, n: int) -> torch.Tensor:
    return torch.as_tensor(np.broadcast_to(np.asarray(shopper, dtype=np.int64), (n,)).copy())


def _logit_gradients(module: RelationCNN, images_a, images_b, shopper) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(x_a, x_b, dz/dx_a, dz/dx_b), each (n, 1, H, W); pairs are independent, so one backward of sum(z)."""
    x_a = image_tensor(images_a).requires_grad_(True)
    x_b = image_tensor(images_b).requires_grad_(True)
    with torch.enable_grad():
        z = module(x_a, x_b, _shoppers(shopper, len(x_a)))
        g_a, g_b = torch.autograd.grad(z.sum(), [x_a, x_b])
    return x_a.detach(), x_b.detach(), g_a, g_b


def gradient_times_input(module: RelationCNN, images_a, images_b, shopper) -> Maps:
    x_a, x_b, g_a, g_b = _logit_gradients(module, images_a, images_b, shopper)
    return {"query": (x_a * g_a)[:, 0].numpy(), "candidate": (x_b * g_b)[:, 0].numpy()}


def gradient(module: RelationCNN, images_a, images_b, shopper) -> Maps:
    """Sensitivity |dz/dx| (unsigned)."""
    _, _, g_a, g_b = _logit_gradients(module, images_a, images_b, shopper)
    return {"query": g_a.abs()[:, 0].numpy(), "candidate": g_b.abs()[:, 0].numpy()}


def random_maps(n: int, size: int, seed: int) -> Maps:
    """Chance: independent standard normal values, reproducible from `seed`."""
    rng = np.random.default_rng(seed)
    return {image: rng.standard_normal((n, size, size)).astype(np.float32) for image in IMAGES}


def patch_corners(size: int, patch: int = OCCLUSION_PATCH, stride: int = OCCLUSION_STRIDE) -> list[tuple[int, int]]:
    """Top-left corners of the occlusion patches; the last row and column reach the image's edge."""
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:
        starts.append(size - patch)
    return [(r, c) for r in starts for c in starts]


def occlusion(module: RelationCNN, images_a, images_b, shopper, images: tuple[str, ...] = IMAGES,
              patch: int = OCCLUSION_PATCH, stride: int = OCCLUSION_STRIDE) -> Maps:
    """Per pixel, the mean logit drop of the patches covering it, occluding one image at a time
    (`images` picks which maps to compute: pixel flipping needs the candidate's only)."""
    x = {"query": image_tensor(images_a), "candidate": image_tensor(images_b)}
    n, size = len(x["query"]), x["query"].shape[-1]
    shoppers = _shoppers(shopper, n)
    corners = patch_corners(size, patch, stride)
    maps: Maps = {}
    with torch.no_grad():
        style = {image: module.style(module.features(x[image]), shoppers) for image in IMAGES}
        base = module.offset[shoppers] - ((style["query"] - style["candidate"]) ** 2).sum(-1)
        for image in images:
            other = style["candidate" if image == "query" else "query"]
            drops = torch.zeros(n, size, size)
            cover = torch.zeros(size, size)
            per_batch = max(1, OCCLUSION_BATCH // max(n, 1))
            for start in range(0, len(corners), per_batch):
                chunk = corners[start:start + per_batch]
                occluded = x[image].repeat(len(chunk), 1, 1, 1)  # patch-major: rows k*n .. (k+1)*n-1
                for k, (r, c) in enumerate(chunk):
                    occluded[k * n:(k + 1) * n, :, r:r + patch, c:c + patch] = 0.0
                s = module.style(module.features(occluded), shoppers.repeat(len(chunk)))
                z = module.offset[shoppers].repeat(len(chunk)) - ((s - other.repeat(len(chunk), 1)) ** 2).sum(-1)
                drop = (base.repeat(len(chunk)) - z).view(len(chunk), n)
                for k, (r, c) in enumerate(chunk):
                    drops[:, r:r + patch, c:c + patch] += drop[k].view(n, 1, 1)
                    cover[r:r + patch, c:c + patch] += 1
            maps[image] = (drops / cover).numpy()
    return maps
