"""Layer-wise relevance propagation rules for the pixel lens's relation CNN, one function per rule.

Each rule takes a layer's input activations `a` (batch first), the layer itself and the relevance
of the layer's output (same shape as the output, pre- or post-ReLU: a ReLU passes relevance
unchanged), and returns a `LayerRelevance`: the relevance of `a` plus the shares the layer's bias
and the stabiliser epsilon absorbed, per sample, so that conservation can be checked layer by layer:

    input.sum() + bias + absorbed == relevance_out.sum()          (per sample, up to rounding)

Rules (research notes specs/pixels.md section 1.5; Montavon et al. 2019 for LRP-0/epsilon/gamma/z^B):

* every linear map z_k = sum_j a_j rho(w_jk) + rho(b_k) is explained by
  R_j = sum_k a_j rho(w_jk) / stab(z_k) * R_k,  stab(z) = z + epsilon * sign(z)  (sign(0) = +1),
  computed with the four-step trick: s = R / stab(z), c = d(z . s)/da (torch.autograd.grad, so
  no `.grad` of the served model is touched), R_in = a * c;
  bias share = sum_k s_k rho(b_k), absorbed = sum_k s_k (stab(z_k) - z_k);
* epsilon rule: rho = identity (the paper's eq. 4; with a tiny epsilon it is LRP-0). Kept for every
  layer type (`conv_epsilon`, `dense_epsilon`) so the paper's epsilon-everywhere can be compared;
* gamma rule: rho(w) = w + gamma w+, rho(b) = b + gamma b+ (inner convolutions);
* z^B (box) rule for the pixel layer, pixels bounded by [low, high]:
  R_i = sum_j (x_i w_ij - low_i w_ij+ - high_i w_ij-) / stab(z_j) * R_j with
  z_j = sum_i (x_i w_ij - low_i w_ij+ - high_i w_ij-) + b_j; zero padding contributes nothing;
* max-pool: winner-take-all, each window's relevance to its arg-max (the first one on ties), or the
  avg-pool rule, in proportion to the window's activations (`maxpool_proportional`);
* the distance head: an exact closed form without division (see `distance_head`).

The rules compute in the dtype of `a` (the layer's weights are cast to it): pass float64
activations where a float64 ledger is wanted; float32 conserves to about 1e-6 relative.
The rules are linear in the output relevance once `a` is fixed, so several starting relevances
for the same activations (the net and the shared view) can be stacked along the batch axis.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

# Only guards a zero denominator for the gamma and box rules: their denominators are at least the
# layer's own positive pre-activation wherever relevance flows through a ReLU.
GUARD_EPSILON = 1e-9


@dataclass(frozen=True)
class LayerRelevance:
    """Relevance of a layer's input (shape of the input) and the per-sample shares (shape (n,)) the
    bias and the stabiliser epsilon absorbed."""

    input: torch.Tensor
    bias: torch.Tensor
    absorbed: torch.Tensor

    def totals(self) -> torch.Tensor:
        """Per-sample sum of the input relevance."""
        return self.input.flatten(1).sum(1)

    def conservation_error(self, relevance_out: torch.Tensor) -> torch.Tensor:
        """Per sample: what the layer received minus what it passed on and absorbed (0 if exact)."""
        return relevance_out.flatten(1).sum(1).to(self.input.dtype) - (self.totals() + self.bias + self.absorbed)


@dataclass(frozen=True)
class HeadRelevance:
    """The distance head's exact decomposition for n pairs (query i, candidate j), all (n, F) or (n,).

    distance_query + distance_candidate sum to `distance`; net_* = -distance_* so that
    net_query + net_candidate + offset = logit; shared_* each sum to `similarity` = <s_i, s_j>;
    own_* sum to ||s_i||^2 and ||s_j||^2; net_* = shared_* - own_* feature by feature.
    """

    distance: torch.Tensor
    logit: torch.Tensor
    offset: torch.Tensor
    similarity: torch.Tensor
    distance_query: torch.Tensor
    distance_candidate: torch.Tensor
    net_query: torch.Tensor
    net_candidate: torch.Tensor
    shared_query: torch.Tensor
    shared_candidate: torch.Tensor
    own_query: torch.Tensor
    own_candidate: torch.Tensor


def relu_pass(relevance: torch.Tensor) -> torch.Tensor:
    """A ReLU passes relevance unchanged: its output equals its input wherever relevance can be
    non-zero (the rule below it gives zero relevance to units whose activation is zero)."""
    return relevance


def _stabilise(z: torch.Tensor, epsilon: float) -> torch.Tensor:
    # epsilon with the sign of z (never of R); sign(0) = +1 so a zero pre-activation is never divided by.
    return z + epsilon * torch.where(z >= 0, 1.0, -1.0).to(z.dtype)


def _check_epsilon(epsilon: float) -> None:
    if not epsilon > 0:
        raise ValueError(f"epsilon must be positive (it keeps denominators away from zero), not {epsilon}")


def _per_sample(t: torch.Tensor) -> torch.Tensor:
    return t.flatten(1).sum(1)


def _bias_map(bias: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
    """A layer's bias broadcast over its output (channels on axis 1), or zeros."""
    if bias is None:
        return torch.zeros_like(like)
    shape = (1, -1) + (1,) * (like.dim() - 2)
    return bias.to(like.dtype).reshape(shape).expand_as(like)


def _linear_map_rule(inputs, forward, bias, relevance, epsilon) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
    """Four-step LRP for z = forward(*inputs) + bias (forward linear in each input, bias-free).

    Returns (the gradients c of z . s with respect to each input, bias share, absorbed share)."""
    _check_epsilon(epsilon)
    with torch.enable_grad():
        leaves = [x.detach().requires_grad_(True) for x in inputs]
        z_linear = forward(*leaves)
        b = _bias_map(bias, z_linear)
        z = z_linear.detach() + b
        stabilised = _stabilise(z, epsilon)
        s = relevance.to(z.dtype) / stabilised
        grads = torch.autograd.grad(z_linear, leaves, grad_outputs=s)
    return list(grads), _per_sample(s * b), _per_sample(s * (stabilised - z))


def _conv_forward(conv: nn.Conv2d, weight: torch.Tensor):
    if conv.padding_mode != "zeros":
        raise ValueError(f"only zero padding is supported, not {conv.padding_mode!r}")
    return lambda x: F.conv2d(x, weight, None, conv.stride, conv.padding, conv.dilation, conv.groups)


def _weights(layer: nn.Module, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor | None]:
    weight = layer.weight.detach().to(dtype)
    bias = None if layer.bias is None else layer.bias.detach().to(dtype)
    return weight, bias


def conv_epsilon(a: torch.Tensor, conv: nn.Conv2d, relevance: torch.Tensor, epsilon: float = 1e-6) -> LayerRelevance:
    """Epsilon rule (the paper's eq. 4) through a convolution. a: (n, C_in, H, W); relevance: the
    convolution's output shape (n, C_out, H', W')."""
    weight, bias = _weights(conv, a.dtype)
    (c,), bias_share, absorbed = _linear_map_rule([a], _conv_forward(conv, weight), bias, relevance, epsilon)
    return LayerRelevance(a * c, bias_share, absorbed)


def dense_epsilon(a: torch.Tensor, linear: nn.Linear, relevance: torch.Tensor, epsilon: float = 1e-6) -> LayerRelevance:
    """Epsilon rule through a dense layer. a: (n, in); relevance: (n, out)."""
    weight, bias = _weights(linear, a.dtype)
    (c,), bias_share, absorbed = _linear_map_rule([a], lambda x: x @ weight.T, bias, relevance, epsilon)
    return LayerRelevance(a * c, bias_share, absorbed)


def conv_gamma(a: torch.Tensor, conv: nn.Conv2d, relevance: torch.Tensor, gamma: float,
               epsilon: float = GUARD_EPSILON) -> LayerRelevance:
    """Gamma rule through an inner convolution (inputs a >= 0, i.e. after a ReLU/pool):
    rho(w) = w + gamma w+, and the same for a bias. The bias share is the modified bias's."""
    if gamma < 0:
        raise ValueError(f"gamma must be >= 0, not {gamma}")
    weight, bias = _weights(conv, a.dtype)
    rho_weight = weight + gamma * weight.clamp(min=0)
    rho_bias = None if bias is None else bias + gamma * bias.clamp(min=0)
    (c,), bias_share, absorbed = _linear_map_rule([a], _conv_forward(conv, rho_weight), rho_bias, relevance, epsilon)
    return LayerRelevance(a * c, bias_share, absorbed)


def box_input(x: torch.Tensor, conv: nn.Conv2d, relevance: torch.Tensor, low: float | torch.Tensor = 0.0,
              high: float | torch.Tensor = 1.0, epsilon: float = GUARD_EPSILON) -> LayerRelevance:
    """z^B rule for the pixel layer: x (n, C, H, W) within [low, high] (floats or tensors that
    broadcast to x; for inputs standardised as (x - mu) / sigma use low = -mu/sigma, high = (1-mu)/sigma).
    Gives relevance to dark pixels too (absence of ink), which the epsilon rule never can."""
    weight, bias = _weights(conv, x.dtype)
    low_map = torch.as_tensor(low, dtype=x.dtype).expand_as(x)
    high_map = torch.as_tensor(high, dtype=x.dtype).expand_as(x)
    plain = _conv_forward(conv, weight)
    positive = _conv_forward(conv, weight.clamp(min=0))
    negative = _conv_forward(conv, weight.clamp(max=0))

    def forward(xs, lows, highs):
        return plain(xs) - positive(lows) - negative(highs)

    (c_x, c_low, c_high), bias_share, absorbed = _linear_map_rule(
        [x, low_map, high_map], forward, bias, relevance, epsilon)
    return LayerRelevance(x * c_x + low_map * c_low + high_map * c_high, bias_share, absorbed)


def maxpool_wta(a: torch.Tensor, pool: nn.MaxPool2d, relevance: torch.Tensor) -> torch.Tensor:
    """Winner-take-all through max-pooling: all of a window's relevance goes to the position torch
    selected as its maximum (the first on ties); overlapping windows add up. a: (n, C, H, W);
    relevance: the pool's output shape. Conserves exactly (no bias, no epsilon)."""
    _, indices = F.max_pool2d(a.detach(), pool.kernel_size, pool.stride, pool.padding, pool.dilation,
                              pool.ceil_mode, return_indices=True)
    n, channels = a.shape[:2]
    flat = torch.zeros(n, channels, a[0, 0].numel(), dtype=relevance.dtype, device=a.device)
    flat.scatter_add_(2, indices.flatten(2), relevance.flatten(2))
    return flat.view_as(a)


def maxpool_proportional(a: torch.Tensor, pool: nn.MaxPool2d, relevance: torch.Tensor) -> torch.Tensor:
    """The avg-pool rule through max-pooling (Montavon's tutorial; the notes' measured alternative to
    winner-take-all): each window's relevance split over its positions in proportion to their
    activations, R_i = a_i / sum_{i' in window} a_i' * R_window; overlapping windows add up.
    a >= 0 (after a ReLU): a window whose activations are all zero passes nothing on, and its relevance
    is zero anyway (the rule above gives none to a zero activation). Conserves exactly, like winner-take-all."""
    kernel, stride, padding = pool.kernel_size, pool.stride, pool.padding
    with torch.enable_grad():
        leaf = a.detach().requires_grad_(True)
        window_sum = F.avg_pool2d(leaf, kernel, stride, padding, ceil_mode=pool.ceil_mode,
                                  count_include_pad=True, divisor_override=1)
        total = window_sum.detach()
        s = relevance.to(a.dtype) / torch.where(total > 0, total, torch.ones_like(total))  # exact: no epsilon
        (c,) = torch.autograd.grad(window_sum, [leaf], grad_outputs=s)
    return a.detach() * c


def distance_head(f_query: torch.Tensor, f_candidate: torch.Tensor, projection: torch.Tensor,
                  weight: torch.Tensor, offset: float | torch.Tensor = 0.0) -> HeadRelevance:
    """Exact LRP-0 of the personalised distance head, in closed form.

    f_query, f_candidate: (n, F) features of the two images; projection E: (F, K); weight w_u:
    (K,) or (n, K) (the shopper's row(s); multiplies f E, never E, so n == F cannot mis-broadcast);
    offset q: scalar or (n,). With s = (f E) * w_u and delta = s_i - s_j:
    d = sum_k delta_k^2, logit = q - d,
    R_d(f_i) = f_i * E (w_u * delta), R_d(f_j) = -f_j * E (w_u * delta)  (sum exactly to d: the square
    gives delta_k^2, the difference splits it as s_ik delta_k and -s_jk delta_k, E diag(w_u) is linear
    and bias-free), shared: f_i * E (w_u * s_j) and f_j * E (w_u * s_i) (each sums to <s_i, s_j>).
    No division, so nothing is absorbed even when f_i = f_j. Computes in the promoted dtype of the
    inputs; pass float64 for sums exact to rounding (~1e-15 relative).
    """
    dtype = torch.promote_types(torch.promote_types(f_query.dtype, f_candidate.dtype),
                                torch.promote_types(projection.dtype, weight.dtype))
    f_i, f_j = f_query.detach().to(dtype), f_candidate.detach().to(dtype)
    e, w = projection.detach().to(dtype), weight.detach().to(dtype)
    if f_i.shape != f_j.shape or f_i.dim() != 2 or f_i.shape[1] != e.shape[0]:
        raise ValueError(f"features {tuple(f_i.shape)} and {tuple(f_j.shape)} do not fit a projection {tuple(e.shape)}")
    if w.shape[-1] != e.shape[1] or w.dim() > 2 or (w.dim() == 2 and w.shape[0] != f_i.shape[0]):
        raise ValueError(f"shopper weight {tuple(w.shape)} does not fit rank {e.shape[1]} and {f_i.shape[0]} pairs")
    s_i, s_j = (f_i @ e) * w, (f_j @ e) * w
    delta = s_i - s_j
    back_delta = (delta * w) @ e.T
    distance_query, distance_candidate = f_i * back_delta, -f_j * back_delta
    shared_query, shared_candidate = f_i * ((s_j * w) @ e.T), f_j * ((s_i * w) @ e.T)
    own_query, own_candidate = f_i * ((s_i * w) @ e.T), f_j * ((s_j * w) @ e.T)
    distance = (delta ** 2).sum(1)
    q = torch.as_tensor(offset, dtype=dtype).detach().expand_as(distance)
    return HeadRelevance(
        distance=distance, logit=q - distance, offset=q, similarity=(s_i * s_j).sum(1),
        distance_query=distance_query, distance_candidate=distance_candidate,
        net_query=-distance_query, net_candidate=-distance_candidate,
        shared_query=shared_query, shared_candidate=shared_candidate,
        own_query=own_query, own_candidate=own_candidate,
    )
