"""Tests of rnnlib.remedies: truncation modes, clipping, initializations, the cliff model."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rnnlib
from rnnlib import remedies
from rnnlib.gradcheck import numerical_gradient, rel_error


def _problem(T=7, B=3, X=4, H=5, Y=3, seed=0, rho=1.2):
    rng = np.random.default_rng(seed)
    params = rnnlib.init_params(X, H, Y, seed=seed, spectral_radius=rho)
    params = params._replace(b_h=0.1 * rng.standard_normal(H), b_y=0.1 * rng.standard_normal(Y))
    xs = rng.standard_normal((T, B, X))
    targets = rng.integers(0, Y, size=(T, B))
    h0 = 0.5 * rng.standard_normal((B, H))
    return params, xs, targets, h0


# ---- chunked truncation --------------------------------------------------------------------


@pytest.mark.parametrize("k", [7, 8, 100])
def test_chunked_with_k_at_least_T_is_full_bptt_exactly(k):
    params, xs, targets, h0 = _problem()
    loss, grads, h_T = remedies.bptt_chunked(params, xs, targets, h0, k=k)
    loss_full, grads_full = rnnlib.bptt(params, xs, targets, h0)
    assert loss == loss_full
    for g, f in zip(grads, grads_full):
        np.testing.assert_array_equal(g, f)
    np.testing.assert_array_equal(h_T, rnnlib.forward(params, xs, h0).h[-1])


def test_chunked_equals_finite_differences_with_detached_states():
    """Oracle: the chunked gradient is the gradient of sum_c L_c(theta; h_s fixed) -- central
    differences of the chunk losses with the carried states frozen at their values."""
    params, xs, targets, h0 = _problem(T=7)
    k = 3
    _, grads, _ = remedies.bptt_chunked(params, xs, targets, h0, k=k)
    h_all = rnnlib.forward(params, xs, h0).h.copy()  # frozen carried states
    p64 = rnnlib.RNNParams(*(np.array(p) for p in params))

    def detached_loss():
        return sum(rnnlib.bptt(p64, xs[s:s + k], targets[s:s + k], h_all[s])[0] for s in range(0, 7, k))

    for name, p, g in zip(rnnlib.RNNParams._fields, p64, grads):
        assert rel_error(g, numerical_gradient(detached_loss, p)) < 1e-6, name


def test_chunked_loss_equals_full_loss_and_gradient_differs():
    params, xs, targets, h0 = _problem()
    loss, grads, _ = remedies.bptt_chunked(params, xs, targets, h0, k=2)
    loss_full, grads_full = rnnlib.bptt(params, xs, targets, h0)
    assert np.isclose(loss, loss_full, rtol=1e-13)  # the forward pass is not truncated
    assert rel_error(grads.W_hh, grads_full.W_hh) > 1e-3


def test_chunked_k1_is_per_term_window_k1():
    """With chunks of one step, each L_t reaches only a_t: the same as the window k = 1."""
    params, xs, targets, h0 = _problem()
    _, g1, _ = remedies.bptt_chunked(params, xs, targets, h0, k=1)
    _, w1 = rnnlib.bptt(params, xs, targets, h0, truncate=1)
    for a, b in zip(g1, w1):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_chunked_bad_k():
    params, xs, targets, h0 = _problem()
    with pytest.raises(ValueError, match="k: expected an integer >= 1"):
        remedies.bptt_chunked(params, xs, targets, h0, k=0)


# ---- randomized truncation -----------------------------------------------------------------


def test_randomized_expectation_is_full_gradient():
    params, xs, targets, h0 = _problem(T=9)
    ks, probs = (1, 3, 9), (0.5, 0.3, 0.2)
    mean = remedies.randomized_expectation(params, xs, targets, h0, ks=ks, probs=probs)
    _, full = rnnlib.bptt(params, xs, targets, h0)
    for a, b in zip(mean, full):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_randomized_average_of_draws_is_unbiased():
    """Average N draws; the error must be within 5 standard errors (computed exactly from the
    two possible values), and the single draws must be far from the full gradient."""
    params, xs, targets, h0 = _problem(T=12)
    ks, probs = (2, 12), (0.75, 0.25)
    rng = np.random.default_rng(1)
    _, full = rnnlib.bptt(params, xs, targets, h0)
    _, g_short = rnnlib.bptt(params, xs, targets, h0, truncate=2)
    N = 400
    draws = [remedies.bptt_randomized(params, xs, targets, h0, ks=ks, probs=probs, rng=rng) for _ in range(N)]
    K = np.array([d[2] for d in draws])
    mean_W = np.mean([d[1].W_hh for d in draws], axis=0)
    # g = G(2) + 1[K = 12] (G(12) - G(2)) / 0.25: std of the mean is |G(12) - G(2)| sqrt(p(1-p)/N) / p
    diff = full.W_hh - g_short.W_hh
    se = np.abs(diff) * np.sqrt(0.25 * 0.75 / N) / 0.25
    assert np.all(np.abs(mean_W - full.W_hh) <= 5 * se + 1e-12)
    assert 0.15 < np.mean(K == 12) < 0.35
    assert rel_error(draws[int(np.argmax(K == 2))][1].W_hh, full.W_hh) > 1e-3


def test_randomized_bad_distribution():
    params, xs, targets, h0 = _problem()
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="probs"):
        remedies.bptt_randomized(params, xs, targets, h0, ks=(1, 5), probs=(0.5, 0.6), rng=rng)
    with pytest.raises(ValueError, match="ks"):
        remedies.bptt_randomized(params, xs, targets, h0, ks=(5, 1), probs=(0.5, 0.5), rng=rng)
    with pytest.raises(ValueError, match="rng"):
        remedies.bptt_randomized(params, xs, targets, h0, rng=0)


def test_backward_cost():
    assert remedies.backward_cost(10, None, "full") == {"vjp": 10, "states": 11}
    assert remedies.backward_cost(10, 3, "window")["vjp"] == 1 + 2 + 3 * 8
    assert remedies.backward_cost(10, 10, "window") == {"vjp": 10, "states": 11}  # k >= T is full BPTT
    assert remedies.backward_cost(10, 12, "window")["vjp"] == 10
    assert remedies.backward_cost(10, 3, "chunked") == {"vjp": 10, "states": 4}
    with pytest.raises(ValueError, match="mode"):
        remedies.backward_cost(10, 3, "bogus")


def test_randomized_cost_exact():
    # K = 3 with prob 0.9, K = 10 with prob 0.1: always the window 3 (27 products), and the
    # window 10 = full BPTT (10 products) one time in ten.
    assert remedies.randomized_cost(10, (3, 10), (0.9, 0.1)) == {"vjp": 27 + 0.1 * 10, "states": 11}
    assert remedies.randomized_cost(10, (10,), (1.0,)) == {"vjp": 10, "states": 11}
    with pytest.raises(ValueError, match="probs"):
        remedies.randomized_cost(10, (3, 10), (0.9, 0.2))


def test_gradient_errors_exact_case():
    g = (np.array([1.0, 0.0]),)
    e = remedies.gradient_errors((np.array([0.0, 2.0]),), g)
    assert e["cosine"] == 0.0 and np.isclose(e["rel_norm"], np.sqrt(5))


# ---- clipping ------------------------------------------------------------------------------


@given(st.integers(0, 10**6), st.floats(0.01, 100.0))
def test_norm_clipping_keeps_direction_and_caps_norm(seed, theta):
    rng = np.random.default_rng(seed)
    g = rnnlib.RNNParams(*(rng.standard_normal(s) * 10 for s in [(3, 2), (3, 3), (3,), (2, 3), (2,)]))
    clipped, norm = remedies.clip_by_norm(g, theta)
    assert isinstance(clipped, rnnlib.RNNParams)
    assert np.isclose(norm, remedies.global_norm(g))
    if norm >= theta:   # clipped: the norm becomes theta exactly (to rounding), not merely <= theta
        assert np.isclose(remedies.global_norm(clipped), theta, rtol=1e-12)
    else:               # below the threshold the gradient is returned unchanged
        assert all(np.array_equal(a, b) for a, b in zip(clipped, g))
    assert np.isclose(remedies.cosine(clipped, g), 1.0, atol=1e-12)


def test_norm_clipping_below_threshold_is_identity():
    g = (np.array([3.0]), np.array([4.0]))
    clipped, norm = remedies.clip_by_norm(g, 5.0 + 1e-9)
    assert norm == 5.0 and clipped[0][0] == 3.0 and clipped[1][0] == 4.0
    clipped, _ = remedies.clip_by_norm(g, 1.0)
    np.testing.assert_allclose([clipped[0][0], clipped[1][0]], [0.6, 0.8])


def test_elementwise_clipping_changes_direction():
    g = (np.array([100.0, 1.0]),)
    c = remedies.clip_elementwise(g, 5.0)
    np.testing.assert_array_equal(c[0], [5.0, 1.0])
    assert remedies.cosine(c, g) < 0.99


def test_clipping_bad_threshold():
    with pytest.raises(ValueError, match="theta"):
        remedies.clip_by_norm((np.ones(2),), 0.0)
    with pytest.raises(ValueError, match="limit"):
        remedies.clip_elementwise((np.ones(2),), -1.0)


# ---- initialization ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", remedies.INIT_KINDS)
@pytest.mark.parametrize("rho", [0.5, 1.0, 1.3])
def test_init_spectral_radius_exact(kind, rho):
    W = remedies.init_recurrent(8, kind, spectral_radius=rho, seed=3)
    assert W.shape == (8, 8)
    assert np.isclose(np.max(np.abs(np.linalg.eigvals(W))), rho, rtol=1e-10)


def test_orthogonal_and_identity():
    Q = remedies.init_recurrent(6, "orthogonal", seed=1)
    np.testing.assert_allclose(Q.T @ Q, np.eye(6), atol=1e-12)
    np.testing.assert_array_equal(remedies.init_recurrent(4, "identity"), np.eye(4))
    np.testing.assert_array_equal(remedies.init_recurrent(6, "orthogonal", seed=1), Q)  # seeded


def test_identity_relu_keeps_jacobian_norm():
    """Le et al. (2015): with W_hh = I, ReLU and positive states, dh_T/dh_0 = I."""
    params = remedies.init_rnn(3, 4, 2, "identity", seed=0)
    params = params._replace(b_h=np.ones(4))
    trace = rnnlib.forward(params, np.abs(np.random.default_rng(0).standard_normal((20, 1, 3))), activation="relu")
    np.testing.assert_array_equal(rnnlib.jacobian(params, trace, 20, 0)[0], np.eye(4))


def test_init_bad_kind():
    with pytest.raises(ValueError, match="kind"):
        remedies.init_recurrent(4, "xavier")
    with pytest.raises(ValueError, match="n_hidden"):
        remedies.init_recurrent(0)


# ---- the cliff model -----------------------------------------------------------------------


def test_cliff_gradient_against_finite_differences():
    for w, b in [(5.0, -2.0), (8.0, -4.1), (1.0, 0.3)]:
        _, dw, db = remedies.cliff_loss(w, b, T=20, return_grad=True)
        eps = 1e-6
        fw = (remedies.cliff_loss(w + eps, b, T=20) - remedies.cliff_loss(w - eps, b, T=20)) / (2 * eps)
        fb = (remedies.cliff_loss(w, b + eps, T=20) - remedies.cliff_loss(w, b - eps, T=20)) / (2 * eps)
        assert np.isclose(dw, fw, rtol=1e-5, atol=1e-8) and np.isclose(db, fb, rtol=1e-5, atol=1e-8)


def test_cliff_vectorized_matches_scalar():
    W, B = np.meshgrid([2.0, 6.0], [-3.0, 0.5])
    L = remedies.cliff_loss(W, B)
    assert L.shape == (2, 2)
    assert L[1, 0] == remedies.cliff_loss(2.0, 0.5)


def test_clipped_path_steps_are_bounded():
    path, norms = remedies.gradient_descent_path(9.0, -5.5, 0.05, 40, clip=10.0)
    steps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    assert np.all(steps <= 0.05 * 10.0 * (1 + 1e-12))
    assert norms.shape == (40,)


def test_wilson_interval_matches_hand_computed_values():
    from rnnlib.tasks import wilson_interval

    low, high = wilson_interval(0, 10)
    assert low == 0.0 and abs(high - 0.27753) < 1e-4  # z^2/(n+z^2) = 3.8416/13.8416
    low, high = wilson_interval(np.array([5, 10]), 10)
    np.testing.assert_allclose(low, [0.23659, 0.72247], atol=1e-4)
    np.testing.assert_allclose(high, [0.76341, 1.0], atol=1e-4)
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(11, 10)


# ---- bad input and extreme values (issue 14) ------------------------------------------------


def test_clip_by_norm_rejects_an_infinite_gradient_instead_of_returning_zeros():
    g = rnnlib.init_params(3, 4, 2)
    with pytest.raises(ValueError, match=r"^grads\.W_hh: expected finite values, got NaN or inf$"):
        remedies.clip_by_norm(g._replace(W_hh=g.W_hh * np.inf), 1.0)


def test_clip_by_norm_of_huge_finite_entries_keeps_the_direction():
    """Entries of 1e200: the sum of squares overflows, yet the clipped gradient has norm theta and
    the direction of g (before the fix it was all zeros)."""
    g = rnnlib.init_params(3, 4, 2, seed=1)
    big = rnnlib.RNNParams(*(a * 1e200 + 1e200 for a in g))
    clipped, norm = remedies.clip_by_norm(big, 2.0)
    assert np.isfinite(norm) and norm > 1e200
    assert np.isclose(remedies.global_norm(clipped), 2.0, rtol=1e-12)
    assert np.isclose(remedies.cosine(clipped, big), 1.0, rtol=1e-12)


@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_cosine_and_gradient_errors_are_scale_free_at_extreme_magnitudes(scale):
    a, b = rnnlib.init_params(3, 4, 2, seed=1), rnnlib.init_params(3, 4, 2, seed=2)
    a, b = (rnnlib.RNNParams(*(x + 0.5 for x in p)) for p in (a, b))  # no zero arrays (the biases)
    small = lambda p: rnnlib.RNNParams(*(x * scale for x in p))
    assert np.isclose(remedies.cosine(small(a), small(b)), remedies.cosine(a, b), rtol=1e-12)
    got, want = remedies.gradient_errors(small(a), small(b)), remedies.gradient_errors(a, b)
    assert np.isclose(got["rel_norm"], want["rel_norm"], rtol=1e-12) and np.isclose(got["cosine"], want["cosine"])


def test_cosine_names_the_zero_argument():
    a = rnnlib.init_params(3, 4, 2, seed=1)
    with pytest.raises(ValueError, match="^b: expected a nonzero gradient, got a zero vector$"):
        remedies.cosine(a, a.zeros_like())
    with pytest.raises(ValueError, match="^a: expected a nonzero gradient"):
        remedies.cosine(a.zeros_like(), a)


def test_omega_functions_require_targets():
    params, xs, targets = _problem()[:3]
    for fn in (remedies.omega_signals, remedies.omega, remedies.bptt_chunked):
        with pytest.raises(ValueError, match=r"^targets: expected .*\(T, B\) = \(7, 3\), got"):
            fn(params, xs, None)


def test_clip_by_norm_of_tiny_entries_reports_their_norm_and_leaves_them():
    g = rnnlib.RNNParams(*(a * 1e-200 + 1e-200 for a in rnnlib.init_params(3, 4, 2, seed=1)))
    clipped, norm = remedies.clip_by_norm(g, 1.0)
    flat = np.concatenate([np.ravel(a) for a in g])
    assert np.isclose(norm, 1e-200 * np.linalg.norm(flat / 1e-200), rtol=1e-12)
    assert all(np.array_equal(c, a) for c, a in zip(clipped, g))
