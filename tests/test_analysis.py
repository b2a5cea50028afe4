"""Tests of rnnlib.analysis (the BPTT sum term by term) and the figures of rnnlib.plots.gradients.

Oracles: rnnlib.bptt / bptt_steps (independently written backward passes), central differences,
and exact cases (a linear RNN with W_hh = c Q, Q orthogonal).
"""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rnnlib
from rnnlib import analysis, examples, jacobians
from rnnlib.plots import gradients as gradient_plots


def _setup(T=6, B=2, X=3, H=4, Y=3, seed=0, scale=1.0):
    params = rnnlib.init_params(X, H, Y, seed=seed, scale=scale)
    rng = np.random.default_rng(seed + 100)
    xs = rng.standard_normal((T, B, X))
    targets = rng.integers(0, Y, size=(T, B))
    h0 = np.tanh(rng.standard_normal((B, H)))
    return params, xs, targets, h0


def _orthogonal(H, seed=0):
    Q, R = np.linalg.qr(np.random.default_rng(seed).standard_normal((H, H)))
    return Q * np.sign(np.diag(R))


# ----------------------------------------------------------------------------------------------
# bptt_contributions and friends
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "linear"])
@pytest.mark.parametrize("wrt", ["W_hh", "W_hx", "b_h"])
def test_contributions_sum_to_bptt_gradient(activation, wrt):
    params, xs, targets, h0 = _setup()
    _, grads = rnnlib.bptt(params, xs, targets, h0, activation)
    C = analysis.bptt_contributions(params, xs, targets, h0, activation, wrt=wrt)
    T = xs.shape[0]
    assert C.shape == (T + 1, T + 1) + getattr(params, wrt).shape
    assert rnnlib.rel_error(C.sum(axis=(0, 1)), getattr(grads, wrt)) < 1e-12


def test_contributions_zero_outside_k_le_t():
    params, xs, targets, h0 = _setup(T=5)
    C = analysis.bptt_contributions(params, xs, targets, h0)
    t, k = np.meshgrid(np.arange(6), np.arange(6), indexing="ij")
    outside = (k > t) | (t == 0) | (k == 0)
    assert np.all(C[outside] == 0)
    assert np.all(np.linalg.norm(C[~outside], axis=(1, 2)) > 0)


def test_contributions_columns_are_step_backward_terms():
    """Column k sums to step k's dW_hh in the loop over step functions (an independent backward pass)."""
    params, xs, targets, h0 = _setup(T=5, B=2)
    T = xs.shape[0]
    C = analysis.bptt_contributions(params, xs, targets, h0)
    caches, h = [], h0
    for t in range(1, T + 1):
        h, _, cache = rnnlib.step_forward(xs[t - 1], h, params)
        caches.append(cache)
    dh_next = np.zeros_like(h0)
    for t in range(T, 0, -1):
        _, dlogits = rnnlib.softmax_cross_entropy(caches[t - 1][3] @ params.W_yh.T + params.b_y, targets[t - 1])
        _, dh_next, g = rnnlib.step_backward(dlogits, dh_next, caches[t - 1])
        assert rnnlib.rel_error(C[:, t].sum(axis=0), g.W_hh) < 1e-12


def test_contribution_rows_are_gradients_of_single_loss_terms():
    params, xs, targets, h0 = _setup(T=5, B=2)
    C = analysis.bptt_contributions(params, xs, targets, h0)
    W = params.W_hh.copy()
    for t in (1, 3, 5):
        def loss_t():
            logits = rnnlib.forward(params._replace(W_hh=W), xs, h0).logits[t]
            return rnnlib.softmax_cross_entropy(logits, targets[t - 1])[0]
        assert rnnlib.rel_error(C[t].sum(axis=0), rnnlib.numerical_gradient(loss_t, W)) < 1e-7


def test_contributions_match_literal_four_factor_product():
    params, xs, targets, h0 = _setup(T=4, B=1)
    trace = rnnlib.forward(params, xs, h0)
    C = analysis.bptt_contributions(params, xs, targets, h0)
    for t in range(1, 5):
        _, dlogits = rnnlib.softmax_cross_entropy(trace.logits[t], targets[t - 1])
        for k in range(1, t + 1):
            term = np.einsum("bm,bmn,bnij->ij", dlogits @ params.W_yh, rnnlib.jacobian(params, trace, t, k),
                             analysis.immediate_dh_dW_hh(params, trace, k))
            assert rnnlib.rel_error(C[t, k], term) < 1e-12


@given(T=st.integers(1, 7), B=st.integers(1, 3), H=st.integers(1, 5), seed=st.integers(0, 10_000))
def test_contributions_sum_property(T, B, H, seed):
    params, xs, targets, h0 = _setup(T=T, B=B, H=H, seed=seed)
    _, grads = rnnlib.bptt(params, xs, targets, h0)
    C = analysis.bptt_contributions(params, xs, targets, h0)
    assert np.allclose(C.sum(axis=(0, 1)), grads.W_hh, rtol=1e-10, atol=1e-13)
    norms = analysis.bptt_contribution_norms(params, xs, targets, h0)
    assert np.allclose(norms, np.linalg.norm(C, axis=(2, 3)), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("wrt", ["W_hh", "W_hx", "b_h"])
def test_contribution_norms_match_contributions(wrt):
    params, xs, targets, h0 = _setup(T=6, B=3)
    C = analysis.bptt_contributions(params, xs, targets, h0, wrt=wrt)
    norms = analysis.bptt_contribution_norms(params, xs, targets, h0, wrt=wrt)
    T = xs.shape[0]
    assert np.allclose(norms, np.linalg.norm(C.reshape(T + 1, T + 1, -1), axis=-1), rtol=1e-12, atol=0)


def test_lag_prefix_sums_are_truncated_bptt():
    params, xs, targets, h0 = _setup(T=7)
    diags = analysis.lag_diagonals(analysis.bptt_contributions(params, xs, targets, h0))
    assert len(diags) == 7 and [d.shape[0] for d in diags] == [7, 6, 5, 4, 3, 2, 1]
    for m in (1, 3, 7):
        _, g = rnnlib.bptt(params, xs, targets, h0, truncate=m)
        assert rnnlib.rel_error(sum(d.sum(axis=0) for d in diags[:m]), g.W_hh) < 1e-12


def test_deltas_sum_over_t_is_dL_da():
    params, xs, targets, h0 = _setup(T=5, B=2)
    D = analysis.bptt_deltas(params, xs, targets, h0)
    trace = rnnlib.forward(params, xs, h0)
    # dL/da_k from the b_h contributions per column equals the column sum of D over t and batch.
    Cb = analysis.bptt_contributions(params, xs, targets, h0, wrt="b_h")
    assert np.allclose(D.sum(axis=2), Cb)
    assert D.shape == (6, 6, 2, trace.h.shape[2])


def test_exact_linear_case_contributions():
    """Linear RNN, exact: C[t, k] = (W_hh^T)^(t-k) dL_t/dh_t h_{k-1}^T, summed over the batch."""
    H, T = 4, 6
    params, xs, targets, h0 = _setup(T=T, B=2, H=H)
    params = params._replace(W_hh=0.8 * _orthogonal(H))
    trace = rnnlib.forward(params, xs, h0, "linear")
    C = analysis.bptt_contributions(params, xs, targets, h0, "linear")
    for t in range(1, T + 1):
        _, dlogits = rnnlib.softmax_cross_entropy(trace.logits[t], targets[t - 1])
        g = dlogits @ params.W_yh  # (B, H): dL_t/dh_t
        for k in range(1, t + 1):
            delta = g @ np.linalg.matrix_power(params.W_hh, t - k)  # rows: (W_hh^T)^(t-k) g
            assert rnnlib.rel_error(C[t, k], delta.T @ trace.h[k - 1]) < 1e-12


# ----------------------------------------------------------------------------------------------
# The carried gradient
# ----------------------------------------------------------------------------------------------


def test_carried_gradients_are_gradients_of_later_losses():
    params, xs, targets, h0 = _setup(T=5, B=2)
    trace = rnnlib.forward(params, xs, h0)
    dh_next = analysis.carried_gradients(params, xs, targets, h0)
    assert dh_next.shape == (6, 2, 4) and np.all(dh_next[5] == 0)
    for t in range(6):
        h_t = trace.h[t].copy()
        fd = rnnlib.numerical_gradient(lambda: analysis.loss_from(params, xs, targets, t, h_t), h_t)
        assert rnnlib.rel_error(dh_next[t], fd) < 1e-7
    _, _, dh0 = rnnlib.bptt(params, xs, targets, h0, return_dh0=True)
    assert rnnlib.rel_error(dh_next[0], dh0) < 1e-12


def test_loss_from_zero_is_the_loss():
    params, xs, targets, h0 = _setup()
    loss, _ = rnnlib.bptt(params, xs, targets, h0)
    assert analysis.loss_from(params, xs, targets, 0, h0) == pytest.approx(loss, rel=1e-13)
    assert analysis.loss_from(params, xs, targets, xs.shape[0], h0) == 0.0


# ----------------------------------------------------------------------------------------------
# Immediate and total derivatives
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_immediate_and_total_against_finite_differences(activation):
    params, xs, _, h0 = _setup(T=4, B=2)
    f = rnnlib.get_activation(activation)
    trace = rnnlib.forward(params, xs, h0, activation)
    W = params.W_hh.copy()
    for k in (1, 2, 4):
        frozen = rnnlib.numerical_jacobian(lambda: f(xs[k - 1] @ params.W_hx.T + trace.h[k - 1] @ W.T + params.b_h), W)
        rerun = rnnlib.numerical_jacobian(lambda: rnnlib.forward(params._replace(W_hh=W), xs, h0, activation).h[k], W)
        assert rnnlib.rel_error(analysis.immediate_dh_dW_hh(params, trace, k), frozen) < 1e-7
        assert rnnlib.rel_error(analysis.total_dh_dW_hh(params, trace, k), rerun) < 1e-7
    assert np.all(analysis.immediate_dh_dW_hh(params, trace, 0) == 0)


def test_total_is_sum_of_jacobian_times_immediate():
    params, xs, _, h0 = _setup(T=5, B=2)
    trace = rnnlib.forward(params, xs, h0)
    k = 5
    by_sum = sum(np.einsum("bmn,bnij->bmij", rnnlib.jacobian(params, trace, k, j),
                           analysis.immediate_dh_dW_hh(params, trace, j)) for j in range(1, k + 1))
    assert rnnlib.rel_error(analysis.total_dh_dW_hh(params, trace, k), by_sum) < 1e-12


# ----------------------------------------------------------------------------------------------
# numerical_jacobian, the bound, and the exact linear case of the log-norms
# ----------------------------------------------------------------------------------------------


def test_numerical_jacobian_of_linear_map_is_the_matrix():
    A = np.random.default_rng(0).standard_normal((3, 4))
    x = np.random.default_rng(1).standard_normal(4)
    assert np.allclose(rnnlib.numerical_jacobian(lambda: A @ x, x), A, atol=1e-9)


def test_bound_holds_and_is_exact_for_scaled_orthogonal_linear():
    H, T, c = 6, 40, 0.7
    params = rnnlib.init_params(2, H, 2, seed=0)._replace(W_hh=c * _orthogonal(H))
    trace = rnnlib.forward(params, np.zeros((T, 1, 2)), activation="linear")
    log_norms = jacobians.jacobian_log_norms(params, trace, ord=2)[::-1, 0]
    bound = analysis.jacobian_log_norm_bound(params.W_hh, "linear", np.arange(T + 1))
    assert np.allclose(log_norms, np.arange(T + 1) * np.log10(c), atol=1e-10)  # ||(cQ)^n|| = c^n
    assert np.allclose(bound, log_norms, atol=1e-10)  # the bound is attained


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_bound_holds_at_every_lag(activation):
    params = examples.norm_example_params(2.0, n_hidden=8)
    xs = np.random.default_rng(0).standard_normal((30, 2, 10))
    trace = rnnlib.forward(params, xs, activation=activation)
    log_norms = jacobians.jacobian_log_norms(params, trace, ord=2)[::-1]  # (T + 1, B)
    bound = analysis.jacobian_log_norm_bound(params.W_hh, activation, np.arange(31))
    assert np.all(log_norms <= bound[:, None] + 1e-9)


def test_long_product_log_norm_minus_700():
    params, xs = examples.underflow_example(c_log10=-0.7, T=1000)
    trace = rnnlib.forward(params, xs, activation="linear")
    log_norms = jacobians.jacobian_log_norms(params, trace, ord=2)[:, 0]
    assert log_norms[0] == pytest.approx(-700.0, abs=1e-9)
    naive = jacobians.naive_log_norms(params.W_hh, 1000)
    assert np.isneginf(naive[-1]) and np.allclose(naive[:300], -0.7 * np.arange(300), atol=1e-9)


def test_naive_product_is_zero_once_below_half_the_smallest_subnormal():
    # Round to nearest: anything below half of 4.9e-324 (about 2.5e-324) becomes 0; ||W^t|| = 10^(-0.7 t) exactly.
    params, _ = examples.underflow_example(c_log10=-0.7, T=500)
    naive = jacobians.naive_log_norms(params.W_hh, 500)
    first_zero = int(np.argmax(np.isneginf(naive)))
    predicted = int(np.ceil((np.log10(np.finfo(float).smallest_subnormal) - np.log10(2.0)) / -0.7))
    assert predicted == 463 and abs(first_zero - predicted) <= 1
    assert np.isfinite(naive[:first_zero]).all() and np.isneginf(naive[first_zero:]).all()


# ----------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------


def test_errors_name_the_argument():
    params, xs, targets, h0 = _setup()
    trace = rnnlib.forward(params, xs, h0)
    with pytest.raises(ValueError, match="wrt"):
        analysis.bptt_contributions(params, xs, targets, h0, wrt="W_yh")
    with pytest.raises(ValueError, match="targets"):
        analysis.bptt_contributions(params, xs, targets[:-1], h0)
    with pytest.raises(ValueError, match="k: expected"):
        analysis.immediate_dh_dW_hh(params, trace, 99)
    with pytest.raises(ValueError, match="t: expected"):
        analysis.loss_from(params, xs, targets, -1, h0)
    with pytest.raises(ValueError, match="x: expected a float64"):
        rnnlib.numerical_jacobian(lambda: 0.0, np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError, match="W_hh: expected a square"):
        analysis.jacobian_log_norm_bound(np.zeros((2, 3)), "tanh", [1])
    with pytest.raises(ValueError, match="lags"):
        analysis.jacobian_log_norm_bound(np.eye(2), "tanh", [-1])
    with pytest.raises(ValueError, match="A: expected"):
        analysis.lag_diagonals(np.zeros((3, 4)))


# ----------------------------------------------------------------------------------------------
# Figures (Agg backend, set in conftest.py)
# ----------------------------------------------------------------------------------------------


def test_norms_figure_draws_curves_solid_and_bounds_dotted_in_the_same_colour():
    lags = np.arange(11)
    fig = gradient_plots.jacobian_norms_figure({"tanh": {1.0: -0.5 * lags, 4.0: 0.0 * lags}})
    try:
        lines = [ln for ln in fig.axes[0].get_lines() if len(ln.get_xdata())]
        solid = [ln for ln in lines if ln.get_linestyle() == "-"]
        dotted = [ln for ln in lines if ln.get_linestyle() == ":"]
        assert len(solid) == 2 and len(dotted) == 2, [ln.get_linestyle() for ln in lines]
        assert [ln.get_color() for ln in solid] == [ln.get_color() for ln in dotted]
        assert all(d.get_linewidth() < s.get_linewidth() for s, d in zip(solid, dotted))
        assert np.allclose(dotted[1].get_ydata(), lags * np.log10(4.0))  # the bound (gamma sigma_max)^lag, gamma = 1
    finally:
        plt.close(fig)


def test_log_norm_figure_marks_the_normal_and_subnormal_limits():
    exact = -0.7 * np.arange(501)
    naive = np.where(exact > -324, exact, -np.inf)
    fig = gradient_plots.log_norm_figure(naive, exact)
    try:
        levels = [ln.get_ydata()[0] for ln in fig.axes[0].get_lines() if ln.get_linestyle() == ":"]
        expected = np.log10([np.finfo(float).smallest_normal, np.finfo(float).smallest_subnormal])
        assert np.allclose(sorted(levels), sorted(expected))
        texts = " ".join(t.get_text() for t in fig.axes[0].texts)
        assert "4.9e-324" in texts and "2.5e-324" in texts and "2.2e-308" in texts
    finally:
        plt.close(fig)


@pytest.mark.parametrize("name", sorted(gradient_plots.FIGURES))
def test_gallery_figures_build(name):
    fig = gradient_plots.FIGURES[name]()
    try:
        assert name.endswith(".svg") and len(fig.axes) >= 1
        assert all(ax.has_data() for ax in fig.axes if ax.get_label() != "<colorbar>")
    finally:
        plt.close(fig)


# ---------------------------------------------------------------------------- bad input, by name (issue 14)


def test_loss_from_names_h_t_not_h0():
    params, xs, targets, h0 = examples.lag_example(T=6, n_hidden=4, vocab=3)
    with pytest.raises(ValueError, match=r"^h_t: expected shape \(B, H\) = \(1, 4\), got \(1, 5\)"):
        analysis.loss_from(params, xs, targets, 2, np.zeros((1, 5)))


def test_term_arrays_too_large_for_memory_are_refused_before_any_work():
    params = rnnlib.init_params(3, 5, 3)
    xs, targets = np.zeros((3000, 1, 3)), np.zeros((3000, 1), dtype=int)
    with pytest.raises(ValueError, match=r"^xs: expected sizes whose result \(3001, 3001, 5, 5\) holds at most 1e\+08"
                                         r" numbers; bptt_contribution_norms keeps only the norms"):
        analysis.bptt_contributions(params, xs, targets)
    assert analysis.bptt_contribution_norms(params, xs[:300], targets[:300]).shape == (301, 301)


def test_bound_lines_and_lag_groups_check_their_arrays():
    with pytest.raises(ValueError, match=r"^rate: expected a finite number >= 0, got True"):
        analysis.bound_log_line(True, [0, 1])
    with pytest.raises(ValueError, match=r"^lags: expected entries >= 0, got a smallest entry of -1.0"):
        analysis.bound_log_line(0.5, [0, -1])
    with pytest.raises(ValueError, match=r"^A: expected a real \(integer or float\) array, got dtype complex128"):
        analysis.lag_diagonals(np.ones((3, 3), dtype=complex))


def test_examples_name_their_own_arguments():
    with pytest.raises(ValueError, match=r"^vocab: expected a positive integer, got 0"):
        examples.lag_example(T=4, vocab=0)
    with pytest.raises(ValueError, match=r"^activations\[1\]: expected an activation name"):
        examples.jacobian_norm_curves(T=3, activations=("tanh", "softplus"))
    with pytest.raises(ValueError, match=r"^activations: expected a non-empty tuple or list, got 'tanh'"):
        examples.jacobian_norm_curves(T=3, activations="tanh")
    with pytest.raises(ValueError, match=r"^seeds\[0\]: expected an integer >= 0, got 1.5"):
        examples.clipping_experiment(T=3, seeds=[1.5], n_steps=1)
    with pytest.raises(ValueError, match=r"^seed: expected an integer >= 0, got None"):
        examples.contracting_params(seed=None)
