"""Unit tests of rnnlib.core: gradients against finite differences, step loop vs vectorized,
truncation, Jacobians, and every documented ValueError."""

import warnings

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


# ---------------------------------------------------------------------------------------------
# Issue 14: the named overflow, foreign traces, inputs the trace owns, values that are not numbers
# ---------------------------------------------------------------------------------------------


def _exploding(T=2000):
    """A linear RNN with spectral radius 3 (the issue's example): |h_t| grows like 3^t."""
    params = init_params(3, 8, 4, seed=0, spectral_radius=3.0)
    xs = np.random.default_rng(0).standard_normal((T, 2, 3))
    return params, xs, np.zeros((T, 2), dtype=int)


def _overflow_step(params, xs):
    """The first step whose state is not finite, found by an independent plain loop (errors silenced)."""
    h = np.zeros((xs.shape[1], params.n_hidden))
    with np.errstate(all="ignore"):
        for t in range(1, xs.shape[0] + 1):
            h = xs[t - 1] @ params.W_hx.T + h @ params.W_hh.T + params.b_h
            if not np.isfinite(h).all():
                return t
    return None


@pytest.mark.parametrize("call", ["forward", "bptt", "bptt_steps"])
def test_an_exploding_rnn_raises_the_named_overflow_at_the_right_step(call):
    params, xs, targets = _exploding()
    t_inf = _overflow_step(params, xs)
    assert t_inf is not None and 600 < t_inf < 700  # 3^t * O(1) passes 1.8e308 near t = 646
    run = {"forward": lambda: forward(params, xs, activation="linear"),
           "bptt": lambda: bptt(params, xs, targets, activation="linear"),
           "bptt_steps": lambda: bptt_steps(params, xs, targets, activation="linear")}[call]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy "overflow encountered in matmul" may escape
        with pytest.raises(rnnlib.RNNOverflowError) as info:
            run()
    e = info.value
    assert isinstance(e, OverflowError) and (e.step, e.T, e.what) == (t_inf, 2000, "h_t")
    message = str(e)
    assert message.startswith(f"{call}: the hidden state overflowed at step t = {t_inf} of T = 2000")
    assert "rnnlib.jacobians.jacobian_log_norms" in message and "matrix_power_log_norms" in message
    # one step fewer runs cleanly: the error is about the step, not about the parameters
    trace = forward(params, xs[: t_inf - 1], activation="linear")
    assert np.isfinite(trace.h).all()


def test_the_log_norm_routines_the_message_names_work_where_forward_overflows():
    from rnnlib import jacobians

    params, xs, _ = _exploding()
    zero_trace = forward(params, np.zeros_like(xs), activation="linear")  # linear: Jacobians do not depend on h
    log_norms = jacobians.jacobian_log_norms(params, zero_trace)[:, 0]
    assert np.isfinite(log_norms).all() and log_norms[0] > 900  # ||dh_2000/dh_0|| ~ 3^2000 = 10^954
    np.testing.assert_allclose(log_norms[0], jacobians.matrix_power_log_norms(params.W_hh, 2000)[-1], rtol=1e-9)


def test_a_gradient_that_overflows_while_the_states_do_not_is_named_too():
    params, xs, targets = _exploding()
    t_inf = _overflow_step(params, xs)
    T = t_inf - 3  # states finite (up to 1e307), the weight gradients sum products of 3^t and 3^(T-t)
    trace = forward(params, xs[:T], activation="linear")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(rnnlib.RNNOverflowError, match=r"^backward: the gradient overflowed") as info:
            rnnlib.backward(params, trace, targets[:T])
    assert info.value.what == "gradient"


def test_step_functions_name_an_overflow_instead_of_warning():
    p, x, _, h = good()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(rnnlib.RNNOverflowError, match=r"^step_forward: the hidden state overflowed"):
            step_forward(x[0] * 1e308, h * 0 + 1e308, p._replace(W_hh=p.W_hh * 1e10), "linear")
        _, _, cache = step_forward(x[0], h, p, "linear")
        with pytest.raises(rnnlib.RNNOverflowError, match=r"^step_backward: the gradient overflowed"):
            rnnlib.step_backward(np.ones((2, 6)), np.full((2, 5), 1e308), cache._replace(params=p._replace(W_hh=p.W_hh * 1e10)))


def test_backward_rejects_traces_of_other_models():
    p, x, y, h = good()
    trace = forward(p, x, h)
    other_x = forward(init_params(4, 5, 6, seed=0), np.ones((4, 2, 4)))
    other_y = forward(init_params(3, 5, 7, seed=0), x)
    same_shapes = forward(init_params(3, 5, 6, seed=9), x, h)
    for bad, match in ((other_x, r"^trace: expected a trace of a model with X = 3 inputs"),
                       (other_y, r"^trace: expected a trace of a model with Y = 6 outputs"),
                       (same_shapes, r"^trace: expected a trace of these params"),
                       (trace._replace(h=trace.h[:, :, :4]), r"^trace: expected hidden size H = 5"),
                       (tuple(trace), r"^trace: expected the Trace returned by rnnlib.forward, got tuple")):
        with pytest.raises(ValueError, match=match):
            rnnlib.backward(p, bad, y)
    rnnlib.backward(p, trace, y)  # the control: its own trace is accepted
    rnnlib.backward(p.astype(np.float32), forward(p.astype(np.float32), x, h), y)  # float32 round-off is no foreign trace


def test_trace_keeps_its_own_copy_of_xs():
    p, x, y, h = good()
    trace = forward(p, x, h)
    before = rnnlib.backward(p, trace, y)[1].W_hx.copy()
    x += 1.0  # the caller edits their inputs after forward
    np.testing.assert_array_equal(rnnlib.backward(p, trace, y)[1].W_hx, before)
    assert not np.shares_memory(trace.xs, x)


def test_step_functions_check_their_arguments():
    p, x, _, h = good()
    h_t, _, cache = step_forward(x[0], h, tuple(p))  # a plain 5-tuple works as in forward
    np.testing.assert_allclose(h_t, forward(p, x[:1], h).h[1])
    for kwargs, match in (({"x_t": np.where(x[0] > 0, np.nan, x[0])}, r"^x_t: expected finite values"),
                          ({"h_prev": None}, r"^h_prev: expected h_\(t-1\)"),
                          ({"params": p._replace(W_hh=p.W_hh > 0)}, r"^params.W_hh: expected a real"),
                          ({"x_t": x[0] + 0j}, r"^x_t: expected a real")):
        args = {"x_t": x[0], "h_prev": h, "params": p, **kwargs}
        with pytest.raises(ValueError, match=match):
            step_forward(**args)
    with pytest.raises(ValueError, match=r"^cache: expected the StepCache"):
        rnnlib.step_backward(np.ones((2, 6)), np.ones((2, 5)), cache._replace(h_t=None))
    with pytest.raises(ValueError, match=r"^dh_next: expected finite values"):
        rnnlib.step_backward(np.ones((2, 6)), np.full((2, 5), np.nan), cache)


def test_softmax_family_rejects_what_is_not_finite_logits():
    for fn in (rnnlib.softmax, rnnlib.logsumexp, rnnlib.log_softmax):
        for bad, match in ((None, r"^z: expected a real"), (np.array([0.0, np.nan]), r"^z: expected finite values"),
                           (np.ones((2, 0)), r"^z: expected an array \(\.\.\., Y\) with Y >= 1"),
                           (np.array([True, False]), r"^z: expected a real")):
            with pytest.raises(ValueError, match=match):
                fn(bad)
    # row 0 of trace.logits (NaN: there is no step 0) is not logits: rejected like any other NaN
    trace = rnnlib.forward(rnnlib.init_params(3, 4, 3), np.zeros((2, 1, 3)))
    for fn in (rnnlib.softmax, rnnlib.logsumexp, rnnlib.log_softmax):
        with pytest.raises(ValueError, match=r"^z: expected finite values, got NaN or inf"):
            fn(trace.logits)
        assert np.all(np.isfinite(fn(trace.logits[1:])))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(rnnlib.softmax(np.array([1e308, -1e308])), [1.0, 0.0])


def test_numbers_are_not_bools_strings_or_complex():
    from rnnlib._checks import check_positive, check_real

    for bad in (True, np.bool_(True), "0.5", 0.5 + 1j, np.array([0.5]), None):
        with pytest.raises(ValueError, match=r"^x: expected a real number, got "):
            check_real("x", bad)
        with pytest.raises(ValueError, match=r"^eps: expected a finite number > 0, got "):
            check_positive("eps", bad)
    assert check_real("x", np.float32(0.5)) == 0.5 and check_real("x", np.array(2)) == 2.0
    with pytest.raises(ValueError, match=r"^seed: expected an integer >= 0, got None"):
        init_params(3, 4, 5, seed=None)


def test_global_norm_is_finite_for_large_finite_entries():
    g = [np.full(4, 2e200), np.array([3e200])]  # sqrt(4 * 4 + 9) = 5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert rnnlib.core.global_norm(g) == pytest.approx(5e200, rel=1e-12)
    with pytest.raises(ValueError, match=r"^arrays\[1\]: expected finite values"):
        rnnlib.core.global_norm([np.ones(2), np.array([np.inf])])
