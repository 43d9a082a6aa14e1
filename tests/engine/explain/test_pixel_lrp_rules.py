"""The pixel lens's LRP rules against naive loops written from their formulas, their per-layer
conservation on random layers (hypothesis, float32), and the distance head's exact closed form."""
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from engine.explain.pixel_lrp_rules import (
    box_input, conv_epsilon, conv_gamma, dense_epsilon, distance_head, maxpool_proportional, maxpool_wta, relu_pass,
)


def sign(z):
    return 1.0 if z >= 0 else -1.0


def pos(w):
    return max(w, 0.0)


def neg(w):
    return min(w, 0.0)


# ---- naive references: explicit sums over output units j and their input units i -----------------


def conv_connections(conv, in_shape):
    """For each output unit (co, oy, ox): the list of ((ci, iy, ix), (ky, kx)) it reads (zero padding
    contributes nothing, so padded positions are left out)."""
    _, height, width = in_shape
    (kh, kw), (sh, sw), (ph, pw) = conv.kernel_size, conv.stride, conv.padding
    out_h = (height + 2 * ph - kh) // sh + 1
    out_w = (width + 2 * pw - kw) // sw + 1
    table = {}
    for co, oy, ox in itertools.product(range(conv.out_channels), range(out_h), range(out_w)):
        table[(co, oy, ox)] = [
            ((ci, oy * sh + ky - ph, ox * sw + kx - pw), (ky, kx))
            for ci, ky, kx in itertools.product(range(conv.in_channels), range(kh), range(kw))
            if 0 <= oy * sh + ky - ph < height and 0 <= ox * sw + kx - pw < width
        ]
    return table


def naive_rule(units_out, contributions, rho_bias, relevance, epsilon, in_shape):
    """R_i = sum_j t_ij / (sum_i' t_i'j + rho(b_j) + eps sign(.)) R_j for one sample, with
    contributions[j] = [(i, t_ij)]. Returns (R_in, bias share, absorbed)."""
    r_in = np.zeros(in_shape)
    bias_share = absorbed = 0.0
    for j in units_out:
        z = sum(t for _, t in contributions[j]) + rho_bias[j]
        stabilised = z + epsilon * sign(z)
        for i, t in contributions[j]:
            r_in[i] += t / stabilised * relevance[j]
        bias_share += rho_bias[j] / stabilised * relevance[j]
        absorbed += (stabilised - z) / stabilised * relevance[j]
    return r_in, bias_share, absorbed


def naive_conv(kind, a, conv, relevance, epsilon, gamma=0.0, low=0.0, high=1.0):
    """One sample a (C, H, W) through conv with the epsilon, gamma or z^B rule, from the formulas."""
    w = conv.weight.detach().double().numpy()
    b = np.zeros(conv.out_channels) if conv.bias is None else conv.bias.detach().double().numpy()
    table = conv_connections(conv, a.shape)
    contributions, rho_bias = {}, {}
    for (co, oy, ox), inputs in table.items():
        terms = []
        for (ci, iy, ix), (ky, kx) in inputs:
            weight, x = w[co, ci, ky, kx], a[ci, iy, ix]
            if kind == "epsilon":
                t = x * weight
            elif kind == "gamma":
                t = x * (weight + gamma * pos(weight))
            else:  # z^B
                t = x * weight - low * pos(weight) - high * neg(weight)
            terms.append(((ci, iy, ix), t))
        contributions[(co, oy, ox)] = terms
        rho_bias[(co, oy, ox)] = b[co] + gamma * pos(b[co]) if kind == "gamma" else b[co]
    return naive_rule(list(table), contributions, rho_bias, relevance, epsilon, a.shape)


def naive_dense(a, linear, relevance, epsilon):
    w = linear.weight.detach().double().numpy()
    b = np.zeros(linear.out_features) if linear.bias is None else linear.bias.detach().double().numpy()
    contributions = {j: [((i,), a[i] * w[j, i]) for i in range(len(a))] for j in range(linear.out_features)}
    r_in, bias_share, absorbed = naive_rule(
        [(j,) for j in range(linear.out_features)], {(j,): c for j, c in contributions.items()},
        {(j,): b[j] for j in range(len(b))}, {(j,): relevance[j] for j in range(len(relevance))}, epsilon, a.shape)
    return r_in, bias_share, absorbed


def naive_maxpool(a, kernel, stride, relevance):
    """Each window's relevance to its first maximum, windows added up. a: (C, H, W)."""
    r_in = np.zeros(a.shape)
    channels, out_h, out_w = relevance.shape
    for c, oy, ox in itertools.product(range(channels), range(out_h), range(out_w)):
        window = [(oy * stride + dy, ox * stride + dx) for dy in range(kernel) for dx in range(kernel)]
        best = max(window, key=lambda p: (a[c][p], -window.index(p)))
        r_in[c][best] += relevance[c, oy, ox]
    return r_in


def naive_maxpool_proportional(a, kernel, stride, relevance):
    """Each window's relevance split in proportion to its activations, windows added up. a: (C, H, W)."""
    r_in = np.zeros(a.shape)
    channels, out_h, out_w = relevance.shape
    for c, oy, ox in itertools.product(range(channels), range(out_h), range(out_w)):
        window = [(oy * stride + dy, ox * stride + dx) for dy in range(kernel) for dx in range(kernel)]
        total = sum(a[c][p] for p in window)
        for p in window:
            r_in[c][p] += a[c][p] / total * relevance[c, oy, ox]
    return r_in


# ---- random layers ----------------------------------------------------------------------------------


def make_conv(seed, c_in, c_out, kernel, stride, padding, bias, dtype=torch.float64):
    torch.manual_seed(seed)
    conv = nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=bias).to(dtype)
    with torch.no_grad():
        conv.weight.normal_(0, 0.5)
        if bias:
            conv.bias.normal_(0, 0.3)
    return conv


def relevance_for(z, generator):
    """Relevance as the layer above hands it down: zero where the ReLU is off, R = relu(z) * c."""
    return F.relu(z) * torch.randn(z.shape, generator=generator, dtype=z.dtype)


def as_dict(t):
    return {idx: float(t[idx]) for idx in itertools.product(*map(range, t.shape))}


CONV_CASES = [(1, 3, 3, 1, 1, False), (2, 3, 3, 1, 0, True), (3, 2, 3, 2, 1, True), (2, 4, 2, 2, 0, False)]


@pytest.mark.parametrize("kind", ["epsilon", "gamma", "box"])
@pytest.mark.parametrize("c_in,c_out,kernel,stride,padding,bias", CONV_CASES)
def test_conv_rules_equal_their_formula(kind, c_in, c_out, kernel, stride, padding, bias):
    conv = make_conv(7, c_in, c_out, kernel, stride, padding, bias)
    generator = torch.Generator().manual_seed(11)
    a = torch.rand((2, c_in, 6, 5), generator=generator, dtype=torch.float64)
    if kind == "epsilon":  # arbitrary signs: the epsilon rule is used on any layer
        a = a * 2 - 1
    relevance = torch.randn(conv(a).shape, generator=generator, dtype=torch.float64)
    epsilon, gamma, low, high = 0.05, 0.25, 0.0, 1.0
    if kind == "epsilon":
        got = conv_epsilon(a, conv, relevance, epsilon)
    elif kind == "gamma":
        got = conv_gamma(a, conv, relevance, gamma, epsilon)
    else:
        low, high = -0.2, 1.3  # bounds other than [0, 1] so low and high both matter
        got = box_input(a, conv, relevance, low, high, epsilon)
    for n in range(2):
        r_in, bias_share, absorbed = naive_conv(kind, a[n].numpy(), conv, as_dict(relevance[n]), epsilon,
                                                gamma if kind == "gamma" else 0.0, low, high)
        np.testing.assert_allclose(got.input[n].numpy(), r_in, rtol=1e-9, atol=1e-12)
        assert got.bias[n].item() == pytest.approx(bias_share, rel=1e-9, abs=1e-12)
        assert got.absorbed[n].item() == pytest.approx(absorbed, rel=1e-9, abs=1e-12)
    if not bias:
        assert torch.all(got.bias == 0)


def test_box_rule_gives_relevance_to_black_pixels():
    # A dark pixel under a negative weight is evidence the epsilon rule can never see (x_i w_ij = 0).
    conv = nn.Conv2d(1, 1, 1, bias=False).double()
    with torch.no_grad():
        conv.weight.fill_(-1.0)
    x = torch.zeros((1, 1, 1, 2), dtype=torch.float64)
    x[0, 0, 0, 1] = 0.5
    relevance = torch.ones((1, 1, 1, 2), dtype=torch.float64)
    box = box_input(x, conv, relevance)
    eps = conv_epsilon(x, conv, relevance, 1e-6)
    # z^B: (0 * -1 - 1 * -1) / 1 = 1 for the black pixel, (0.5 * -1 + 1) / 0.5 = 1 for the grey one.
    np.testing.assert_allclose(box.input.numpy().ravel(), [1.0, 1.0], rtol=1e-6)
    assert eps.input[0, 0, 0, 0].item() == 0.0


def test_box_rule_bounds_can_be_per_pixel_tensors():
    conv = make_conv(3, 1, 2, 3, 1, 1, False)
    x = torch.rand((1, 1, 5, 5), dtype=torch.float64)
    relevance = torch.rand(conv(x).shape, dtype=torch.float64)
    low = torch.full((1, 1, 5, 5), -0.4, dtype=torch.float64)
    high = torch.full((1, 1, 5, 5), 2.0, dtype=torch.float64)
    low[..., 0, 0] = -1.0  # only one pixel's bound changes, so a scalar cannot stand in for the map
    got = box_input(x, conv, relevance, low, high).input
    scalar = box_input(x, conv, relevance, -0.4, 2.0).input
    assert not torch.allclose(got, scalar)
    r_in, _, _ = naive_rule(*_box_with_map(conv, x[0].numpy(), low[0].numpy(), high[0].numpy(), as_dict(relevance[0])))
    np.testing.assert_allclose(got[0].numpy(), r_in, rtol=1e-9, atol=1e-12)


def _box_with_map(conv, x, low, high, relevance):
    w = conv.weight.detach().double().numpy()
    table = conv_connections(conv, x.shape)
    contributions = {
        j: [(i, x[i] * w[(j[0],) + i[:1] + k] - low[i] * pos(w[(j[0],) + i[:1] + k]) - high[i] * neg(w[(j[0],) + i[:1] + k]))
            for i, k in inputs]
        for j, inputs in table.items()
    }
    return list(table), contributions, {j: 0.0 for j in table}, relevance, 1e-9, x.shape


@pytest.mark.parametrize("bias", [False, True])
def test_dense_epsilon_equals_its_formula(bias):
    torch.manual_seed(5)
    linear = nn.Linear(7, 4, bias=bias).double()
    a = torch.randn(3, 7, dtype=torch.float64)
    relevance = torch.randn(3, 4, dtype=torch.float64)
    for epsilon in (1e-6, 0.3):
        got = dense_epsilon(a, linear, relevance, epsilon)
        for n in range(3):
            r_in, bias_share, absorbed = naive_dense(a[n].numpy(), linear, relevance[n].numpy(), epsilon)
            np.testing.assert_allclose(got.input[n].numpy(), r_in, rtol=1e-9, atol=1e-12)
            assert got.bias[n].item() == pytest.approx(bias_share, rel=1e-9, abs=1e-12)
            assert got.absorbed[n].item() == pytest.approx(absorbed, rel=1e-9, abs=1e-12)


def test_rules_leave_the_layer_gradients_alone():
    conv = make_conv(1, 2, 3, 3, 1, 1, True, dtype=torch.float32)
    a = torch.rand(2, 2, 5, 5)
    conv_gamma(a, conv, torch.rand(conv(a).shape), 0.25)
    assert conv.weight.grad is None and conv.bias.grad is None


@pytest.mark.parametrize("bad", [0.0, -1e-3])
def test_a_non_positive_epsilon_is_refused(bad):
    linear = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="epsilon"):
        dense_epsilon(torch.rand(1, 3), linear, torch.rand(1, 2), bad)


# ---- max-pool and ReLU -------------------------------------------------------------------------------


@pytest.mark.parametrize("kernel,stride", [(2, 2), (3, 2), (2, 1)])
def test_maxpool_sends_each_window_to_its_argmax(kernel, stride):
    generator = torch.Generator().manual_seed(2)
    a = torch.rand((2, 3, 7, 6), generator=generator, dtype=torch.float64)
    pool = nn.MaxPool2d(kernel, stride)
    relevance = torch.randn(pool(a).shape, generator=generator, dtype=torch.float64)
    got = maxpool_wta(a, pool, relevance)
    for n in range(2):
        np.testing.assert_allclose(got[n].numpy(), naive_maxpool(a[n].numpy(), kernel, stride, relevance[n].numpy()),
                                   rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(got.sum((1, 2, 3)), relevance.sum((1, 2, 3)))


@pytest.mark.parametrize("kernel,stride", [(2, 2), (3, 2), (2, 1)])
def test_avgpool_rule_splits_each_window_by_its_activations(kernel, stride):
    generator = torch.Generator().manual_seed(3)
    a = torch.rand((2, 3, 7, 6), generator=generator, dtype=torch.float64) + 0.01
    pool = nn.MaxPool2d(kernel, stride)
    relevance = torch.randn(pool(a).shape, generator=generator, dtype=torch.float64)
    got = maxpool_proportional(a, pool, relevance)
    for n in range(2):
        np.testing.assert_allclose(got[n].numpy(),
                                   naive_maxpool_proportional(a[n].numpy(), kernel, stride, relevance[n].numpy()),
                                   rtol=1e-7, atol=1e-12)
    torch.testing.assert_close(got.sum((1, 2, 3)), relevance.sum((1, 2, 3)))


def test_avgpool_rule_passes_nothing_through_an_all_zero_window():
    a = torch.zeros((1, 1, 4, 2))
    a[0, 0, 2, 0], a[0, 0, 3, 1] = 1.0, 3.0  # the lower window is lit, the upper one is not
    got = maxpool_proportional(a, nn.MaxPool2d(2), torch.tensor([[[[0.0], [2.0]]]]))
    assert torch.isfinite(got).all() and got[0, 0, :2].abs().sum() == 0
    assert got[0, 0, 2, 0].item() == pytest.approx(0.5) and got[0, 0, 3, 1].item() == pytest.approx(1.5)


def test_maxpool_puts_all_of_a_window_on_one_maximum_on_ties():
    a = torch.zeros((1, 1, 2, 2))
    a[0, 0, 1, 0] = a[0, 0, 1, 1] = 3.0
    got = maxpool_wta(a, nn.MaxPool2d(2), torch.full((1, 1, 1, 1), 0.7))
    assert torch.count_nonzero(got) == 1
    assert a[got != 0].item() == 3.0 and got.sum().item() == pytest.approx(0.7)


def test_relu_passes_relevance_unchanged():
    relevance = torch.randn(2, 5)
    assert relu_pass(relevance) is relevance


# ---- conservation per layer, float32, hypothesis ------------------------------------------------------

TOLERANCE = 1e-4


def assert_conserved(result, relevance_out):
    """sum in + bias + absorbed = sum out per sample, within 1e-4 of the relevance mass handed down."""
    scale = torch.clamp(relevance_out.abs().flatten(1).sum(1), min=1.0)
    error = result.conservation_error(relevance_out).abs()
    assert torch.all(error <= TOLERANCE * scale), (error, scale)


conv_layers = st.fixed_dictionaries({
    "seed": st.integers(0, 2**31 - 1),
    "c_in": st.integers(1, 4), "c_out": st.integers(1, 6), "kernel": st.integers(1, 3),
    "stride": st.integers(1, 2), "padding": st.integers(0, 1), "bias": st.booleans(),
    "size": st.integers(4, 12), "batch": st.integers(1, 3), "scale": st.sampled_from([0.01, 1.0, 30.0]),
})


def random_conv_case(p):
    conv = make_conv(p["seed"], p["c_in"], p["c_out"], p["kernel"], p["stride"], p["padding"], p["bias"],
                     dtype=torch.float32)
    generator = torch.Generator().manual_seed(p["seed"])
    x = torch.rand((p["batch"], p["c_in"], p["size"], p["size"]), generator=generator)
    with torch.no_grad():
        relevance = relevance_for(conv(x), generator) * p["scale"]
    return conv, x, relevance, generator


@settings(max_examples=40, deadline=None)
@given(conv_layers)
def test_box_rule_conserves_per_layer(p):
    conv, x, relevance, _ = random_conv_case(p)
    assert_conserved(box_input(x, conv, relevance), relevance)


@settings(max_examples=40, deadline=None)
@given(conv_layers, st.sampled_from([0.0, 0.25, 1.0]))
def test_gamma_rule_conserves_per_layer(p, gamma):
    conv, x, relevance, generator = random_conv_case(p)
    a = F.relu(torch.randn(x.shape, generator=generator))  # inner layers see post-ReLU activations
    with torch.no_grad():
        relevance = relevance_for(conv(a), generator) * p["scale"]
    assert_conserved(conv_gamma(a, conv, relevance, gamma), relevance)


@settings(max_examples=40, deadline=None)
@given(conv_layers, st.sampled_from([1e-6, 1e-2, 0.25]))
def test_conv_epsilon_conserves_per_layer(p, epsilon):
    conv, x, relevance, _ = random_conv_case(p)
    assert_conserved(conv_epsilon(x, conv, relevance, epsilon), relevance)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 40), st.integers(1, 20), st.booleans(),
       st.sampled_from([1e-6, 1e-2, 0.25]), st.sampled_from([0.01, 1.0, 30.0]))
def test_dense_epsilon_conserves_per_layer(seed, n_in, n_out, bias, epsilon, scale):
    torch.manual_seed(seed)
    linear = nn.Linear(n_in, n_out, bias=bias)
    generator = torch.Generator().manual_seed(seed)
    a = F.relu(torch.randn((3, n_in), generator=generator))
    with torch.no_grad():
        relevance = relevance_for(linear(a), generator) * scale
    assert_conserved(dense_epsilon(a, linear, relevance, epsilon), relevance)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(2, 3), st.integers(1, 3), st.integers(4, 12))
def test_maxpool_conserves_exactly(seed, kernel, stride, size):
    generator = torch.Generator().manual_seed(seed)
    a = torch.rand((2, 3, size, size), generator=generator)
    pool = nn.MaxPool2d(kernel, stride)
    relevance = torch.randn(pool(a).shape, generator=generator)
    got = maxpool_wta(a, pool, relevance)
    torch.testing.assert_close(got.sum((1, 2, 3)), relevance.sum((1, 2, 3)), atol=TOLERANCE, rtol=0)
    assert torch.all((got != 0) <= (a == F.max_unpool2d(*F.max_pool2d(a, kernel, stride, return_indices=True),
                                                        kernel, stride, output_size=a.shape[-2:])))
    proportional = maxpool_proportional(a, pool, relevance)
    torch.testing.assert_close(proportional.sum((1, 2, 3)), relevance.sum((1, 2, 3)), atol=TOLERANCE, rtol=0)


# ---- the distance head -------------------------------------------------------------------------------


def random_head(seed, n=4, features=6, rank=3, dtype=torch.float64, per_pair=False):
    generator = torch.Generator().manual_seed(seed)
    f_i = F.relu(torch.randn((n, features), generator=generator, dtype=dtype))
    f_j = F.relu(torch.randn((n, features), generator=generator, dtype=dtype))
    e = torch.randn((features, rank), generator=generator, dtype=dtype)
    w = torch.randn((n, rank) if per_pair else (rank,), generator=generator, dtype=dtype)
    q = torch.randn((n,), generator=generator, dtype=dtype)
    return f_i, f_j, e, w, q


def test_head_distance_is_the_personalised_mahalanobis_distance():
    f_i, f_j, e, w, q = random_head(0)
    head = distance_head(f_i, f_j, e, w, q)
    metric = e @ torch.diag(w ** 2) @ e.T  # M_u = E diag(w_u)^2 E^T, positive semi-definite
    diff = f_i - f_j
    torch.testing.assert_close(head.distance, torch.einsum("nf,fg,ng->n", diff, metric, diff), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(head.logit, q - head.distance)


@pytest.mark.parametrize("seed", range(5))
def test_head_closed_form_sums_exactly_to_the_distance(seed):
    f_i, f_j, e, w, q = random_head(seed, n=5, features=64, rank=16)
    head = distance_head(f_i, f_j, e, w, q)
    total = head.distance_query.sum(1) + head.distance_candidate.sum(1)
    torch.testing.assert_close(total, head.distance, rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(head.net_query.sum(1) + head.net_candidate.sum(1) + head.offset, head.logit,
                               rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(head.shared_query.sum(1), head.similarity, rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(head.shared_candidate.sum(1), head.similarity, rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(head.net_query, head.shared_query - head.own_query, rtol=1e-12, atol=1e-13)
    torch.testing.assert_close(head.net_candidate, head.shared_candidate - head.own_candidate, rtol=1e-12, atol=1e-13)
    # The logit's three parts: q - ||s_i||^2 - ||s_j||^2 + 2 <s_i, s_j>.
    torch.testing.assert_close(head.offset - head.own_query.sum(1) - head.own_candidate.sum(1) + 2 * head.similarity,
                               head.logit, rtol=1e-12, atol=1e-12)


def test_head_closed_form_equals_lrp0_layer_by_layer():
    """Square, difference and projection, each by the generic LRP-0 formula with its divisions."""
    f_i, f_j, e, w, q = random_head(3, n=2, features=5, rank=4)
    head = distance_head(f_i, f_j, e, w, q)
    fi, fj, en, wn = f_i.numpy(), f_j.numpy(), e.numpy(), w.numpy()
    for n in range(2):
        s_i = [sum(fi[n, m] * en[m, k] for m in range(5)) * wn[k] for k in range(4)]
        s_j = [sum(fj[n, m] * en[m, k] for m in range(5)) * wn[k] for k in range(4)]
        r_delta = [(s_i[k] - s_j[k]) ** 2 for k in range(4)]  # the square: R = output
        # difference delta_k = 1 * s_ik + (-1) * s_jk
        r_si = [s_i[k] * 1.0 / (s_i[k] - s_j[k]) * r_delta[k] for k in range(4)]
        r_sj = [s_j[k] * -1.0 / (s_i[k] - s_j[k]) * r_delta[k] for k in range(4)]
        for f, r_s, got in ((fi, r_si, head.distance_query), (fj, r_sj, head.distance_candidate)):
            # projection s_k = sum_m f_m (E_mk w_k), no bias
            r_f = [sum(f[n, m] * en[m, k] * wn[k] / sum(f[n, mm] * en[mm, k] * wn[k] for mm in range(5)) * r_s[k]
                       for k in range(4)) for m in range(5)]
            np.testing.assert_allclose(got[n].numpy(), r_f, rtol=1e-8, atol=1e-12)


def test_head_of_identical_images_is_zero_without_division():
    f_i, _, e, w, q = random_head(4)
    head = distance_head(f_i, f_i.clone(), e, w, q)
    assert torch.all(head.distance == 0) and torch.all(head.distance_query == 0)
    assert torch.all(head.distance_candidate == 0) and torch.all(torch.isfinite(head.shared_query))
    torch.testing.assert_close(head.shared_query.sum(1), head.own_query.sum(1))


def test_head_uses_each_pairs_own_shopper_row():
    f_i, f_j, e, w, q = random_head(5, n=6, features=6, rank=3, per_pair=True)  # n == F on purpose
    head = distance_head(f_i, f_j, e, w, q)
    for n in range(6):
        alone = distance_head(f_i[n:n + 1], f_j[n:n + 1], e, w[n], q[n])
        torch.testing.assert_close(head.distance_query[n:n + 1], alone.distance_query)
        torch.testing.assert_close(head.distance[n:n + 1], alone.distance)


def test_head_refuses_a_shopper_weight_of_the_wrong_rank():
    f_i, f_j, e, _, q = random_head(6)
    with pytest.raises(ValueError, match="shopper weight"):
        distance_head(f_i, f_j, e, torch.ones(5, dtype=torch.float64), q)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 8), st.integers(1, 64), st.integers(1, 16), st.booleans())
def test_head_conserves_in_float32(seed, n, features, rank, per_pair):
    f_i, f_j, e, w, q = random_head(seed, n, features, rank, torch.float32, per_pair)
    head = distance_head(f_i, f_j, e, w, q)
    total = head.distance_query.sum(1) + head.distance_candidate.sum(1)
    mass = torch.clamp((head.distance_query.abs() + head.distance_candidate.abs()).sum(1), min=1.0)
    assert torch.all((total - head.distance).abs() <= TOLERANCE * mass)


# ---- composed: a bias-free branch like the relation CNN, pixels to logit ------------------------------


def test_rules_compose_from_the_logit_to_the_pixels_of_both_images():
    torch.manual_seed(8)
    conv1, conv2 = nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.Conv2d(4, 6, 3, padding=1, bias=False)
    fc1, fc2 = nn.Linear(6 * 2 * 2, 10, bias=False), nn.Linear(10, 8, bias=False)
    pool = nn.MaxPool2d(2)
    for layer in (conv1, conv2, fc1, fc2):
        layer.double()  # in place
    x = torch.rand((4, 1, 8, 8), dtype=torch.float64)  # two pairs: images 0, 1 against 2, 3

    with torch.no_grad():
        h1 = F.relu(conv1(x)); p1 = pool(h1)
        h2 = F.relu(conv2(p1)); p2 = pool(h2)
        flat = p2.flatten(1); g1 = F.relu(fc1(flat)); f = F.relu(fc2(g1))
    e = torch.randn(8, 3, dtype=torch.float64)
    w = torch.rand(3, dtype=torch.float64) + 0.5
    head = distance_head(f[:2], f[2:], e, w, 1.5)

    r = torch.cat([head.net_query, head.net_candidate])
    ledger = torch.zeros(4, dtype=torch.float64)
    for step in (lambda r: dense_epsilon(g1, fc2, relu_pass(r), 1e-9),
                 lambda r: dense_epsilon(flat, fc1, relu_pass(r), 1e-9)):
        out = step(r)
        ledger += out.bias + out.absorbed
        r = out.input
    r = maxpool_wta(h2, pool, r.view_as(p2))
    out = conv_gamma(p1, conv2, relu_pass(r), 0.25)
    ledger += out.bias + out.absorbed
    r = maxpool_wta(h1, pool, out.input)
    out = box_input(x, conv1, relu_pass(r))
    ledger += out.bias + out.absorbed
    pixels = out.totals() + ledger
    torch.testing.assert_close(pixels[:2] + pixels[2:] + head.offset, head.logit, rtol=1e-9, atol=1e-9)
    assert ledger.abs().max() < 1e-6  # bias-free with tiny epsilon: the pixels carry all of the logit
