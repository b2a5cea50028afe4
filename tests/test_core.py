"""Unit tests of rnnlib.core: gradients against finite differences, step loop vs vectorized,
truncation, Jacobians, and every documented ValueError."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rnnlib
from rnnlib import RNNParams, bptt, bptt_steps, forward, init_params, jacobian, step_forward
from rnnlib.gradcheck import check_bptt_gradients, numerical_gradient, rel_error

ACTIVATIONS = ["tanh", "sigmoid", "relu", "linear"]


def make_problem(T, B, X, H, Y, seed=0, scale=0.9):
    """A random problem with nonzero biases and h0, so every gradient is exercised."""
    rng = np.random.default_rng(seed)
    params = init_params(X, H, Y, seed=seed, scale=scale)
    params = params._replace(b_h=0.3 * rng.standard_normal(H), b_y=rng.standard_normal(Y))
    xs = rng.standard_normal((T, B, X))
    targets = rng.integers(0, Y, size=(T, B))
    h0 = 0.5 * rng.standard_normal((B, H))
    return params, xs, targets, h0


# ---------------------------------------------------------------------------------------------
# Gradients against central finite differences (the oracle)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("sizes", [(1, 1, 1, 1, 2), (5, 3, 4, 6, 3), (9, 2, 3, 5, 7)])
def test_bptt_gradients_match_finite_differences(activation, sizes):
    params, xs, targets, h0 = make_problem(*sizes, seed=sum(sizes))
    errors = check_bptt_gradients(params, xs, targets, h0, activation)
    assert set(errors) == {"W_hx", "W_hh", "b_h", "W_yh", "b_y", "h0"}
    assert max(errors.values()) < 1e-6, errors


def test_numerical_gradient_of_a_quadratic_is_exact():
    x = np.array([1.0, -2.0, 3.0])
    g = numerical_gradient(lambda: float(np.sum(x**2)), x)
    np.testing.assert_allclose(g, 2 * x, rtol=1e-9)
    np.testing.assert_array_equal(x, [1.0, -2.0, 3.0])  # restored after perturbing


def test_numerical_gradient_rejects_non_float64():
    with pytest.raises(ValueError, match="x: expected a float64"):
        numerical_gradient(lambda: 0.0, np.zeros(3, dtype=np.float32))


def test_rel_error():
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.2])) == pytest.approx(0.2 / 2.2)
    with pytest.raises(ValueError, match="b: expected the shape"):
        rel_error(np.zeros(2), np.zeros(3))


# ---------------------------------------------------------------------------------------------
# Vectorized sequence functions equal the loop over the step functions
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_forward_equals_loop_over_step_forward(activation):
    params, xs, _, h0 = make_problem(7, 3, 4, 5, 6, seed=1)
    trace = forward(params, xs, h0, activation)
    h = h0
    assert trace.h.shape == (8, 3, 5) and trace.y_hat.shape == (8, 3, 6)
    np.testing.assert_array_equal(trace.h[0], h0)
    for t in range(1, 8):
        h, y_hat, _ = step_forward(xs[t - 1], h, params, activation)
        np.testing.assert_allclose(trace.h[t], h, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(trace.y_hat[t], y_hat, rtol=1e-12, atol=1e-14)
    assert np.all(np.isnan(trace.a[0])) and np.all(np.isnan(trace.y_hat[0]))


@given(
    T=st.integers(1, 8), B=st.integers(1, 4), X=st.integers(1, 5), H=st.integers(1, 6),
    Y=st.integers(2, 5), seed=st.integers(0, 2**16), activation=st.sampled_from(ACTIVATIONS),
)
def test_bptt_equals_step_loop_property(T, B, X, H, Y, seed, activation):
    params, xs, targets, h0 = make_problem(T, B, X, H, Y, seed=seed)
    loss, grads, dh0 = bptt(params, xs, targets, h0, activation, return_dh0=True)
    loss_ref, grads_ref, dh0_ref = bptt_steps(params, xs, targets, h0, activation)
    assert loss == pytest.approx(loss_ref, rel=1e-12)
    assert loss > 0
    for g, g_ref in zip(grads, grads_ref):
        assert g.shape == g_ref.shape
        np.testing.assert_allclose(g, g_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dh0, dh0_ref, rtol=1e-9, atol=1e-12)


def test_loss_is_sum_over_time_of_batch_mean():
    params, xs, targets, h0 = make_problem(6, 4, 3, 5, 4, seed=2)
    trace = forward(params, xs, h0)
    per_step = [np.mean(-np.log(trace.y_hat[t][np.arange(4), targets[t - 1]])) for t in range(1, 7)]
    loss, _ = bptt(params, xs, targets, h0)
    assert loss == pytest.approx(sum(per_step), rel=1e-12)
    assert isinstance(loss, float)


def test_float32_stays_float32_and_agrees_with_float64():
    params, xs, targets, h0 = make_problem(10, 4, 3, 8, 5, seed=3)
    loss64, grads64 = bptt(params, xs, targets, h0)
    loss32, grads32 = bptt(params.astype(np.float32), xs.astype(np.float32), targets, h0.astype(np.float32))
    assert all(g.dtype == np.float32 for g in grads32)
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    for g32, g64 in zip(grads32, grads64):
        assert rel_error(g32, g64) < 1e-4


# ---------------------------------------------------------------------------------------------
# Truncation (per-term window)
# ---------------------------------------------------------------------------------------------


def windowed_reference(params, xs, targets, h0, activation, k):
    """Brute force: back-propagate each L_t alone through at most k steps with step_backward."""
    T, B, _ = xs.shape
    caches, h = [], h0
    for t in range(1, T + 1):
        h, _, cache = step_forward(xs[t - 1], h, params, activation)
        caches.append(cache)
    total, dh0 = params.zeros_like(), np.zeros_like(h0)
    for t in range(1, T + 1):
        logits = caches[t - 1][3] @ params.W_yh.T + params.b_y
        _, dlogits = rnnlib.softmax_cross_entropy(logits, targets[t - 1])
        dh_next = np.zeros_like(h0)
        for s in range(t, max(t - k, 0), -1):  # steps t, t-1, ..., t-k+1
            dl = dlogits if s == t else np.zeros_like(dlogits)
            _, dh_next, g = rnnlib.step_backward(dl, dh_next, caches[s - 1])
            total = RNNParams(*(a + b for a, b in zip(total, g)))
        if t - k <= 0:  # the window reached step 1: h_0 receives the term
            dh0 += dh_next
    return total, dh0


@pytest.mark.parametrize("k", [1, 2, 3, 5, 6, 7, 50])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_truncated_window_equals_brute_force(k, activation):
    params, xs, targets, h0 = make_problem(6, 2, 3, 4, 3, seed=4)
    _, grads, dh0 = bptt(params, xs, targets, h0, activation, truncate=k, return_dh0=True)
    ref, dh0_ref = windowed_reference(params, xs, targets, h0, activation, k)
    for g, r in zip(grads, ref):
        np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(dh0, dh0_ref, rtol=1e-10, atol=1e-13)


def test_truncation_k_at_least_T_equals_full_bptt_exactly():
    params, xs, targets, h0 = make_problem(8, 3, 4, 5, 6, seed=5)
    loss, full, dh0 = bptt(params, xs, targets, h0, return_dh0=True)
    for k in (8, 9, 1000):
        loss_k, grads_k, dh0_k = bptt(params, xs, targets, h0, truncate=k, return_dh0=True)
        assert loss_k == loss
        for g, f in zip(grads_k, full):
            np.testing.assert_array_equal(g, f)  # the same code path: bit for bit
        np.testing.assert_array_equal(dh0_k, dh0)


def test_truncation_changes_the_gradient():
    params, xs, targets, h0 = make_problem(8, 3, 4, 5, 6, seed=6, scale=1.5)
    _, full = bptt(params, xs, targets, h0)
    _, short = bptt(params, xs, targets, h0, truncate=2)
    assert rel_error(short.W_hh, full.W_hh) > 1e-3
    np.testing.assert_array_equal(short.W_yh, full.W_yh)  # the output layer is never truncated


# ---------------------------------------------------------------------------------------------
# Jacobians
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_jacobian_matches_finite_differences(activation):
    params, xs, _, h0 = make_problem(7, 2, 3, 4, 3, seed=7)
    trace = forward(params, xs, h0, activation)
    t, k = 6, 2
    J = jacobian(params, trace, t, k)
    assert J.shape == (2, 4, 4)

    def h_t_given_h_k(h_k):
        h = h_k
        for s in range(k + 1, t + 1):
            h, _, _ = step_forward(xs[s - 1], h, params, activation)
        return h

    eps = 1e-6
    J_num = np.zeros_like(J)
    for n in range(4):
        dh = np.zeros((2, 4))
        dh[:, n] = eps
        J_num[:, :, n] = (h_t_given_h_k(trace.h[k] + dh) - h_t_given_h_k(trace.h[k] - dh)) / (2 * eps)
    assert rel_error(J, J_num) < 1e-7


def test_jacobian_of_linear_rnn_is_matrix_power():
    params, xs, _, h0 = make_problem(9, 2, 3, 5, 3, seed=8)
    trace = forward(params, xs, h0, "linear")
    for t, k in [(9, 0), (5, 2), (4, 4)]:
        expected = np.linalg.matrix_power(params.W_hh, t - k)
        np.testing.assert_allclose(jacobian(params, trace, t, k), np.broadcast_to(expected, (2, 5, 5)),
                                   rtol=1e-12, atol=1e-14)


def test_jacobian_identity_when_k_equals_t_and_step_jacobian():
    params, xs, _, h0 = make_problem(4, 3, 2, 5, 3, seed=9)
    trace = forward(params, xs, h0)
    np.testing.assert_array_equal(jacobian(params, trace, 3, 3), np.broadcast_to(np.eye(5), (3, 5, 5)))
    np.testing.assert_allclose(jacobian(params, trace, 3, 2), rnnlib.step_jacobian(params, trace, 3))
    # f' is taken at a_i: for tanh, 1 - h_i^2 (source-note erratum 1)
    D = (1 - trace.h[3] ** 2)[:, :, None] * params.W_hh
    np.testing.assert_allclose(rnnlib.step_jacobian(params, trace, 3), D, rtol=1e-13)


# ---------------------------------------------------------------------------------------------
# Softmax, activations, init
# ---------------------------------------------------------------------------------------------


def test_softmax_is_stable_on_large_logits():
    z = np.array([[1000.0, 999.0, -1000.0]])
    p = rnnlib.softmax(z)
    assert np.all(np.isfinite(p)) and p.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(np.exp(rnnlib.log_softmax(z)), p)
    np.testing.assert_allclose(rnnlib.softmax(z - 5.0), p)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_derivative_and_bound(name):
    f = rnnlib.get_activation(name)
    a = np.linspace(-6, 6, 1001) + 1e-3  # avoid relu's kink at exactly 0
    h = f(a)
    eps = 1e-6
    numeric = (f(a + eps) - f(a - eps)) / (2 * eps)
    np.testing.assert_allclose(f.derivative(a, h), numeric, atol=1e-8)
    assert np.max(np.abs(f.derivative(a, h))) <= f.gamma + 1e-12


def test_sigmoid_does_not_overflow():
    f = rnnlib.get_activation("sigmoid")
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = f(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_allclose(out, [0.0, 0.5, 1.0])


def test_init_params_shapes_seed_and_spectral_radius():
    p = init_params(3, 7, 4, seed=11)
    assert [a.shape for a in p] == [(7, 3), (7, 7), (7,), (4, 7), (4,)]
    assert p.count() == 7 * 3 + 7 * 7 + 7 + 4 * 7 + 4
    np.testing.assert_array_equal(p.W_hh, init_params(3, 7, 4, seed=11).W_hh)
    q = init_params(3, 7, 4, seed=11, spectral_radius=0.5)
    assert np.max(np.abs(np.linalg.eigvals(q.W_hh))) == pytest.approx(0.5, rel=1e-12)
    assert init_params(2, 2, 2, dtype=np.float32).W_hh.dtype == np.float32


# ---------------------------------------------------------------------------------------------
# Bad input: a ValueError that names the argument, the expected and the given
# ---------------------------------------------------------------------------------------------


def good():
    return make_problem(4, 2, 3, 5, 6, seed=10)


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda p, x, y, h: (p, x[0], y, h), r"xs: expected a time-major array \(T, B, X\).*got shape \(2, 3\).*xs\[:, None, :\]"),
        (lambda p, x, y, h: (p, x[..., :2], y, h), r"xs: expected last dimension X = 3.*got shape \(4, 2, 2\)"),
        (lambda p, x, y, h: (p, np.where(x > 1, np.nan, x), y, h), r"xs: expected finite values"),
        (lambda p, x, y, h: (p, x, y, h[:, :4]), r"h0: expected shape \(B, H\) = \(2, 5\), got \(2, 4\)"),
        (lambda p, x, y, h: (p, x, y, h * np.inf), r"h0: expected finite values"),
        (lambda p, x, y, h: (p, x, y[:3], h), r"targets: expected shape \(T, B\) = \(4, 2\), got \(3, 2\)"),
        (lambda p, x, y, h: (p, x, y + 6, h), r"targets: expected classes in 0..5 \(Y = 6\), got values"),
        (lambda p, x, y, h: (p, x, y.astype(float), h), r"targets: expected integer class indices, got dtype float64"),
        (lambda p, x, y, h: (p._replace(W_hh=p.W_hh[:, :4]), x, y, h), r"params.W_hh: expected a square matrix \(H, H\), got shape \(5, 4\)"),
        (lambda p, x, y, h: (p._replace(b_h=np.zeros(4)), x, y, h), r"params.b_h: expected shape \(5,\), got \(4,\)"),
        (lambda p, x, y, h: (p._replace(b_y=np.zeros(5)), x, y, h), r"params.b_y: expected shape \(6,\) to match W_yh, got \(5,\)"),
        (lambda p, x, y, h: (p._replace(W_yh=np.zeros((6, 4))), x, y, h), r"params.W_yh: expected shape \(Y, 5\), got \(6, 4\)"),
        (lambda p, x, y, h: (p._replace(W_hx=np.full((5, 3), np.inf)), x, y, h), r"params.W_hx: expected finite values"),
        (lambda p, x, y, h: ("weights", x, y, h), r"params: expected an RNNParams"),
    ],
)
def test_bad_inputs_raise_value_errors(mutate, match):
    args = mutate(*good())
    with pytest.raises(ValueError, match=match):
        bptt(*args)


def test_bad_activation_and_truncate():
    p, x, y, h = good()
    with pytest.raises(ValueError, match=r"activation: expected one of \['linear', 'relu', 'sigmoid', 'tanh'\], got 'softplus'"):
        forward(p, x, h, "softplus")
    for bad in (0, -3, 2.5, True, "all"):
        with pytest.raises(ValueError, match="truncate: expected None"):
            bptt(p, x, y, h, truncate=bad)


def test_jacobian_bad_steps():
    p, x, _, h = good()
    trace = forward(p, x, h)
    with pytest.raises(ValueError, match=r"t: expected an integer 0 <= t <= T = 4, got 5"):
        jacobian(p, trace, 5, 0)
    with pytest.raises(ValueError, match=r"k: expected an integer 0 <= k <= t = 2, got 3"):
        jacobian(p, trace, 2, 3)
    with pytest.raises(ValueError, match=r"k: expected an integer 0 <= k <= t = 2, got -1"):
        jacobian(p, trace, 2, -1)
    with pytest.raises(ValueError, match=r"i: expected an integer step 1 <= i <= T = 4, got 0"):
        rnnlib.step_jacobian(p, trace, 0)


def test_init_params_bad_sizes():
    with pytest.raises(ValueError, match="n_hidden: expected a positive integer, got 0"):
        init_params(3, 0, 2)
    with pytest.raises(ValueError, match="spectral_radius: expected a finite number >= 0, got -1"):
        init_params(3, 4, 2, spectral_radius=-1)


# ---------------------------------------------------------------------------------------------
# Edge cases found in review
# ---------------------------------------------------------------------------------------------


def test_trace_keeps_the_activation_object():
    # A custom activation (here a scaled tanh reusing the name "tanh") must be the one the
    # backward pass differentiates, not the registered function of the same name.
    from rnnlib.activations import Activation

    scaled = Activation("tanh", lambda a: np.tanh(2 * a), lambda a, h: 2 * (1 - h * h), 2.0)
    params, xs, targets, h0 = make_problem(5, 2, 3, 4, 3, seed=12)
    trace = forward(params, xs, h0, scaled)
    assert trace.activation is scaled
    errors = check_bptt_gradients(params, xs, targets, h0, scaled)
    assert max(errors.values()) < 1e-6, errors


def test_integer_inputs_are_computed_in_float():
    params = RNNParams(np.ones((2, 1), dtype=int), np.eye(2, dtype=int), np.zeros(2, dtype=int),
                       np.ones((3, 2), dtype=int), np.zeros(3, dtype=int))
    trace = forward(params, np.ones((2, 1, 1), dtype=int))
    assert trace.h.dtype == np.float64
    np.testing.assert_allclose(rnnlib.softmax(np.array([[1, 1]])), [[0.5, 0.5]])
    assert rnnlib.logsumexp(np.array([0, 0])) == pytest.approx(np.log(2))


def test_spectral_radius_of_a_zero_matrix_is_an_error():
    with pytest.raises(ValueError, match="spectral_radius: cannot rescale W_hh to 0.9 when scale = 0"):
        init_params(3, 4, 2, scale=0.0, spectral_radius=0.9)


def test_numerical_jacobian_of_a_fortran_ordered_array():
    A = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    x = np.asfortranarray(np.ones((3, 2)))
    J = rnnlib.numerical_jacobian(lambda: A @ x, x)  # d(A x)[i, j] / dx[k, l] = A[i, k] [j == l]
    assert J.shape == (2, 2, 3, 2)
    np.testing.assert_allclose(J[:, 0, :, 0], A, atol=1e-8)
    np.testing.assert_allclose(J[:, 0, :, 1], 0.0, atol=1e-8)


def test_softmax_cross_entropy_bad_input():
    with pytest.raises(ValueError, match=r"logits: expected shape \(B, Y\), got \(3,\)"):
        rnnlib.softmax_cross_entropy(np.zeros(3), np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match=r"targets: expected classes in 0..2"):
        rnnlib.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))


def test_jacobian_rejects_a_trace_of_another_model():
    p, x, _, h = good()
    trace = forward(p, x, h)
    other = init_params(3, 7, 6)
    with pytest.raises(ValueError, match=r"trace: expected hidden size H = 7"):
        jacobian(other, trace, 2, 1)
    with pytest.raises(ValueError, match=r"trace: expected hidden size H = 7"):
        rnnlib.step_jacobian(other, trace, 1)
    with pytest.raises(ValueError, match=r"t: expected an integer"):
        jacobian(p, trace, True, 0)
