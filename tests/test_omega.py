"""Unit tests of Pascanu, Mikolov and Bengio's regularizer Omega (rnnlib.remedies, notebook 08).

The gradient is checked against finite differences of the *same approximation*: Omega as a
function of W_hh with delta_t = dL/dh_t and f'(a_t) held constant (the terms the paper's
section 3.3 and its published code treat as constants). A separate test shows that this is an
approximation: the total derivative, with delta_t and f'(a_t) recomputed, is different.
"""

import numpy as np
import pytest

import rnnlib
from rnnlib import remedies, tasks
from rnnlib.gradcheck import numerical_gradient, rel_error


def problem(T=8, B=3, H=5, seed=1, rho=1.0):
    p = remedies.init_rnn(7, H, 3, "gaussian", spectral_radius=rho, seed=seed)
    xs, ys, _ = tasks.remember_first(T, B, np.random.default_rng(seed))
    return p, xs, ys


@pytest.mark.parametrize("seed,rho", [(1, 1.0), (2, 0.5), (3, 1.5)])
def test_omega_gradient_matches_finite_differences_of_the_held_constant_approximation(seed, rho):
    p, xs, ys = problem(seed=seed, rho=rho)
    sig = remedies.omega_signals(p, xs, ys)
    W = p.W_hh.copy()
    om, g = remedies.omega_from_signals(W, sig)
    num = numerical_gradient(lambda: remedies.omega_from_signals(W, sig)[0], W)
    assert om > 0
    assert rel_error(g, num) < 1e-7, rel_error(g, num)
    om2, g2 = remedies.omega(p, xs, ys)  # the public function is the same two steps
    assert om2 == om and np.array_equal(g2, g)


def test_the_held_constant_gradient_is_not_the_total_derivative():
    p, xs, ys = problem(seed=4)
    _, g = remedies.omega(p, xs, ys)
    W = p.W_hh.copy()
    total = numerical_gradient(lambda: remedies.omega(p._replace(W_hh=W), xs, ys)[0], W)
    assert rel_error(g, total) > 0.05  # delta_t and f'(a_t) also depend on W_hh


def test_delta_is_dL_dh_t_from_the_rest_of_the_sequence():
    # Independent route: dL/dh_t = (its own output term) + dh0 of the suffix sequence started at h_t.
    p, xs, ys = problem(T=9, B=2)
    sig = remedies.omega_signals(p, xs, ys)
    tr = rnnlib.forward(p, xs)
    for t in (1, 4, 8):
        _, _, dh0 = rnnlib.bptt(p, xs[t:], ys[t:], tr.h[t], return_dh0=True)
        own = tr.y_hat[t].copy()
        own[np.arange(2), ys[t - 1]] -= 1.0
        np.testing.assert_allclose(sig.delta[t - 1], 2 * dh0 + own @ p.W_yh, atol=1e-13)  # bptt divides by B
    np.testing.assert_allclose(sig.fprime, 1 - tr.h[1:] ** 2)


def test_omega_value_is_the_mean_squared_deviation_of_the_norm_ratio_from_one():
    # Omega from the step Jacobians of rnnlib.core, one (t, b) at a time.
    p, xs, ys = problem(T=6, B=2)
    sig = remedies.omega_signals(p, xs, ys)
    tr = rnnlib.forward(p, xs)
    terms = []
    for t in range(1, 7):
        J = rnnlib.step_jacobian(p, tr, t)  # dh_t/dh_{t-1}, (B, H, H)
        for b in range(2):
            d = sig.delta[t - 1, b]
            terms.append((np.linalg.norm(d @ J[b]) / np.linalg.norm(d) - 1) ** 2)
    assert remedies.omega(p, xs, ys)[0] == pytest.approx(np.mean(terms), rel=1e-12)


def test_omega_is_zero_for_a_norm_preserving_linear_rnn():
    p, xs, ys = problem()
    Q = remedies.init_recurrent(5, "orthogonal", seed=0)
    om, g = remedies.omega(p._replace(W_hh=Q), xs, ys, activation="linear")
    assert om == pytest.approx(0.0, abs=1e-20) and np.allclose(g, 0.0)


def test_bptt_omega_adds_alpha_times_the_omega_gradient_to_W_hh_only():
    p, xs, ys = problem()
    loss0, g0 = rnnlib.bptt(p, xs, ys)
    loss, g, om = remedies.bptt_omega(p, xs, ys, alpha=2.0)
    _, d_om = remedies.omega(p, xs, ys)
    assert loss == loss0
    np.testing.assert_allclose(g.W_hh, g0.W_hh + 2.0 * d_om)
    for name in ("W_hx", "b_h", "W_yh", "b_y"):
        np.testing.assert_array_equal(getattr(g, name), getattr(g0, name))
    _, g_zero, _ = remedies.bptt_omega(p, xs, ys, alpha=0.0)
    for a, b in zip(g_zero, g0):
        np.testing.assert_array_equal(a, b)


def test_run_with_alpha_zero_reproduces_run_remember_first():
    acc0, hist0, p0 = tasks.run_remember_first(6, 3, n_steps=30)
    acc, hist, p = tasks.run_remember_first_omega(6, 3, 0.0, n_steps=30)
    assert acc == acc0
    np.testing.assert_array_equal(hist["loss"], hist0["loss"])
    for a, b in zip(p, p0):
        np.testing.assert_array_equal(a, b)


def test_the_approximate_gradient_still_lowers_the_true_omega_from_a_vanishing_start():
    # From rho = 0.3 each step shrinks the error (Omega near 1); steps along -dOmega/dW_hh with
    # delta_t and f'(a_t) held constant lower Omega recomputed exactly, step after step.
    p, xs, ys = problem(T=10, B=4, rho=0.3)
    values = []
    for _ in range(20):
        om, g = remedies.omega(p, xs, ys)
        values.append(om)
        p = p._replace(W_hh=p.W_hh - 0.5 * g)
    assert values[0] > 0.3
    assert np.all(np.diff(values) < 0) and values[-1] < 0.5 * values[0], np.round(values, 3)


def test_bad_input():
    p, xs, ys = problem()
    sig = remedies.omega_signals(p, xs, ys)
    with pytest.raises(ValueError, match=r"W_hh: expected shape \(5, 5\)"):
        remedies.omega_from_signals(np.zeros((4, 4)), sig)
    with pytest.raises(ValueError, match="alpha: expected a finite number >= 0"):
        remedies.bptt_omega(p, xs, ys, alpha=-1.0)
    with pytest.raises(ValueError, match="bound: expected a finite number > 0"):
        remedies.omega_from_signals(p.W_hh, sig, bound=0.0)
    with pytest.raises(ValueError, match="targets: expected shape"):
        remedies.omega(p, xs, ys[:3])


def test_run_with_an_activation_reproduces_run_remember_first_and_trains_an_irnn():
    # tanh with notebook 06's start: the same run, bit for bit
    acc0, hist0, p0 = tasks.run_remember_first(6, 3, n_steps=30, clip_norm=1.0)
    acc, hist, p = tasks.run_remember_first(6, 3, activation="tanh", kind="gaussian", spectral_radius=1.0,
                                            n_steps=30, clip_norm=1.0)
    assert acc == acc0 and np.array_equal(hist["loss"], hist0["loss"])
    assert all(np.array_equal(a, b) for a, b in zip(p, p0))
    # ReLU with W_hh = I (the IRNN) is a different model: the default, and it trains to a different result
    acc_r, hist_r, p_r = tasks.run_remember_first(6, 3, activation="relu", kind="identity", spectral_radius=None,
                                                  n_steps=30, clip_norm=1.0)
    assert np.array_equal(remedies.init_rnn(7, 16, 3, "identity", seed=3).W_hh, np.eye(16))
    assert not np.array_equal(hist_r["loss"], hist0["loss"]) and np.all(np.isfinite(hist_r["loss"]))
    assert acc_r == tasks.last_step_accuracy(p_r, *tasks.remember_first(6, 500, np.random.default_rng(10_003))[:2],
                                             activation="relu")
