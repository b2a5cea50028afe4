"""rnnlib.jacobians: log-norms of long Jacobian products, against direct norms where those are
representable and against exact values far outside the floating-point range."""

import numpy as np
import pytest

import rnnlib
from rnnlib import analysis, jacobians
from rnnlib.jacobians import (
    jacobian_log_norms,
    jacobian_log_norms_from,
    jacobian_log_singular_values,
    matrix_power_log_norms,
)


def problem(activation="tanh", T=12, B=2, H=6, seed=0, scale=1.2):
    params = rnnlib.init_params(3, H, 2, seed=seed, scale=scale)
    xs = np.random.default_rng(seed).standard_normal((T, B, 3))
    return params, rnnlib.forward(params, xs, None, activation)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "linear"])
@pytest.mark.parametrize("ord", [2, "fro"])
def test_log_norms_equal_direct_norms(activation, ord):
    params, trace = problem(activation)
    t = 10
    got = jacobian_log_norms(params, trace, t, ord=ord)
    assert got.shape == (t + 1, 2)
    direct = np.array([np.linalg.norm(rnnlib.jacobian(params, trace, t, k), ord, axis=(1, 2)) for k in range(t + 1)])
    np.testing.assert_allclose(got, np.log10(direct), atol=1e-10)


@pytest.mark.parametrize("ord", [2, "fro"])
def test_log_norms_from_equal_direct_norms(ord):
    params, trace = problem("sigmoid")
    k = 3
    got = jacobian_log_norms_from(params, trace, k, ord=ord)
    assert got.shape == (13, 2) and np.all(np.isnan(got[:k]))
    direct = np.array([np.linalg.norm(rnnlib.jacobian(params, trace, t, k), ord, axis=(1, 2)) for t in range(k, 13)])
    np.testing.assert_allclose(got[k:], np.log10(direct), atol=1e-10)


def test_log_singular_values_equal_direct_svd():
    params, trace = problem("tanh")
    got = jacobian_log_singular_values(params, trace, 9)
    assert got.shape == (10, 2, 6)
    direct = np.array([np.linalg.svd(rnnlib.jacobian(params, trace, 9, k), compute_uv=False) for k in range(10)])
    np.testing.assert_allclose(got, np.log10(direct), atol=1e-8)
    np.testing.assert_allclose(got[:, :, 0], jacobian_log_norms(params, trace, 9), atol=1e-10)


def scaled_orthogonal_linear_rnn(log10_c, H=64, T=1000):
    """A linear RNN with W_hh = c Q, Q orthogonal: ||dh_t/dh_k||_2 = c^(t-k) exactly."""
    Q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((H, H)))
    W_hh = 10.0**log10_c * Q
    params = rnnlib.RNNParams(np.zeros((H, 1)), W_hh, np.zeros(H), np.zeros((1, H)), np.zeros(1))
    return params, rnnlib.forward(params, np.zeros((T, 1, 1)), None, "linear")  # h stays 0: no overflow


@pytest.mark.filterwarnings("ignore:invalid value encountered in matmul:RuntimeWarning")  # the naive way
@pytest.mark.parametrize("log10_c", [-0.7, 0.7])
def test_thousand_step_norms_far_outside_float_range(log10_c):
    # 10^(-0.7 * 1000) = 1e-700 underflows to 0 in float64; 1e+700 overflows to inf.
    params, trace = scaled_orthogonal_linear_rnn(log10_c)
    lags = 1000 - np.arange(1001)
    for ord in (2, "fro"):
        got = jacobian_log_norms(params, trace, ord=ord)[:, 0]
        expected = log10_c * lags + (0 if ord == 2 else 0.5 * np.log10(64))  # ||cQ^t||_F = c^t sqrt(H)
        np.testing.assert_allclose(got, expected, atol=1e-8)
    assert jacobian_log_norms(params, trace)[0, 0] == pytest.approx(log10_c * 1000, abs=1e-8)
    from_zero = jacobian_log_norms_from(params, trace, 0)[:, 0]
    np.testing.assert_allclose(from_zero, log10_c * np.arange(1001), atol=1e-8)
    with np.errstate(over="ignore", under="ignore"):  # the naive way fails
        naive = np.linalg.norm(np.linalg.matrix_power(params.W_hh, 1000))
    assert naive == 0.0 or not np.isfinite(naive)  # 0 (underflow), or inf or nan (overflow)


def test_matrix_power_log_norms():
    W = np.array([[0.5, 2.0], [0.0, 0.5]])  # a Jordan-like, non-normal matrix
    got = matrix_power_log_norms(W, 30)
    direct = [np.linalg.norm(np.linalg.matrix_power(W, t), 2) for t in range(31)]
    np.testing.assert_allclose(got, np.log10(direct), atol=1e-10)
    rot = 0.9 * np.array([[np.cos(1.0), -np.sin(1.0)], [np.sin(1.0), np.cos(1.0)]])
    np.testing.assert_allclose(matrix_power_log_norms(rot, 2000), np.arange(2001) * np.log10(0.9), atol=1e-9)
    complex_diag = np.diag([0.5j, -0.25])
    np.testing.assert_allclose(matrix_power_log_norms(complex_diag, 10), np.arange(11) * np.log10(0.5), atol=1e-12)


def test_zero_products_give_minus_infinity():
    log_norms = matrix_power_log_norms(np.zeros((3, 3)), 4)
    assert log_norms[0] == pytest.approx(0.0, abs=1e-15)
    assert np.all(np.isneginf(log_norms[1:]))
    params, trace = problem("relu", scale=1.0)
    params = params._replace(W_hh=np.zeros_like(params.W_hh))
    trace = rnnlib.forward(params, trace.xs, None, "relu")
    assert np.all(np.isneginf(jacobian_log_norms(params, trace, 5)[:5]))


def test_bad_arguments():
    params, trace = problem()
    with pytest.raises(ValueError, match=r"ord: expected 2 \(spectral norm\) or 'fro'"):
        jacobian_log_norms(params, trace, ord=1)
    with pytest.raises(ValueError, match=r"t: expected an integer 0 <= t <= 12, got 13"):
        jacobian_log_norms(params, trace, 13)
    with pytest.raises(ValueError, match=r"k: expected an integer 0 <= k <= 12, got -1"):
        jacobian_log_norms_from(params, trace, -1)
    with pytest.raises(ValueError, match=r"trace: expected the Trace returned by rnnlib.forward"):
        jacobian_log_norms(params, trace.h)
    with pytest.raises(ValueError, match=r"W: expected a square matrix \(H, H\), got shape \(2, 3\)"):
        matrix_power_log_norms(np.zeros((2, 3)), 5)
    with pytest.raises(ValueError, match=r"T: expected an integer 0 <= T"):
        matrix_power_log_norms(np.eye(2), -1)


# ---------------------------------------------------------------------------- foreign and overflowed traces (issue 14)

ROUTINES = {
    "jacobian_log_norms": lambda p, tr: jacobian_log_norms(p, tr),
    "jacobian_log_norms_from": lambda p, tr: jacobian_log_norms_from(p, tr),
    "jacobian_log_singular_values": lambda p, tr: jacobian_log_singular_values(p, tr),
    "immediate_dh_dW_hh": lambda p, tr: analysis.immediate_dh_dW_hh(p, tr, 2),
    "total_dh_dW_hh": lambda p, tr: analysis.total_dh_dW_hh(p, tr, 2),
}


@pytest.mark.parametrize("name", ROUTINES)
def test_a_trace_of_another_model_is_rejected_by_name(name):
    """Same shapes, other weights: the Jacobians would be those of a model that never ran."""
    params, trace = problem()
    other = params._replace(W_hh=params.W_hh * 0.5)
    assert np.isfinite(ROUTINES[name](params, trace)).all() or name == "jacobian_log_norms_from"
    with pytest.raises(ValueError, match=r"^trace: expected a trace of these params"):
        ROUTINES[name](other, trace)
    with pytest.raises(ValueError, match=r"^trace: expected a trace of a model with X = 4"):
        ROUTINES[name](rnnlib.init_params(4, 6, 2), trace)
    with pytest.raises(ValueError, match=r"^trace: expected the Trace returned by rnnlib.forward, got tuple"):
        ROUTINES[name](params, tuple(trace))


@pytest.mark.parametrize("name", ROUTINES)
def test_a_trace_with_non_finite_states_names_the_first_step(name):
    params, trace = problem()
    h = trace.h.copy()
    h[5:, 0, 0] = np.inf  # as if the state had left the float range at step 5
    with pytest.raises(ValueError, match=r"^trace: expected finite states, got NaN or inf from step t = 5 on"):
        ROUTINES[name](params, trace._replace(h=h))


def test_fade_rate_does_not_overflow_where_the_ratio_would():
    """share[-1] / share[0] = 1e600 is inf in float64; the average factor per step is 1e100."""
    share = np.geomspace(1e-300, 1e300, 7)
    assert jacobians.fade_rate(share) == pytest.approx(1e100, rel=1e-9)
    assert jacobians.fade_rate([1.0, 0.5, 0.25]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match=r"^share: expected an average factor per step within the float range"):
        jacobians.fade_rate([1e-300, 1e300])
    with pytest.raises(ValueError, match=r"^share: expected positive entries"):
        jacobians.fade_rate([1.0, 0.0])


def test_sizes_beyond_a_few_seconds_or_the_memory_get_a_clear_error():
    with pytest.raises(ValueError, match=r"^T: expected an integer 0 <= T <= 100000, got 100001"):
        matrix_power_log_norms(np.eye(2), 10**5 + 1)
    with pytest.raises(ValueError, match=r"^T: expected T \* H\^3 <= 3e\+09 \(T matrix products of size H, a few "
                                         r"seconds\), got T = 20000 for H = 64"):
        matrix_power_log_norms(np.eye(64), 20000)
    assert matrix_power_log_norms(np.eye(64), 2000, ord="fro").shape == (2001,)
