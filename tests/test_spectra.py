"""Tests of rnnlib.spectra: matrices with chosen spectra, prefix log-norms, trajectories, verdicts.

Oracles: numpy's eigvals / norms of explicit products, rnnlib.jacobians (a different algorithm:
one factor at a time), rnnlib.forward (a different implementation of the recurrence).
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rnnlib
from rnnlib import spectra as S
from rnnlib.jacobians import jacobian_log_norms_from, matrix_power_log_norms

finite = st.floats(-2.0, 2.0, allow_nan=False)


# ---------------------------------------------------------------------------- chosen spectra


@given(finite, finite, st.floats(-10, 10))
def test_triangular_has_the_chosen_eigenvalues_and_departure(lam1, lam2, shear):
    W = S.triangular_2x2(lam1, lam2, shear)
    assert np.allclose(np.sort(np.linalg.eigvals(W).real), np.sort([lam1, lam2]), atol=1e-6 * (1 + abs(shear)))
    assert S.departure_from_normality(W) == pytest.approx(abs(shear), abs=1e-5 * (1 + abs(shear)))


@given(st.floats(0, 2), st.floats(0, math.pi), st.floats(-10, 10))
def test_complex_pair_has_the_chosen_eigenvalues(r, theta, shear):
    W = S.complex_pair_2x2(r, theta, shear)
    assert np.trace(W) == pytest.approx(2 * r * math.cos(theta), abs=1e-12)
    assert np.linalg.det(W) == pytest.approx(r * r, abs=1e-9 * (1 + shear * shear))
    lam = np.linalg.eigvals(W)
    if abs(shear) < 1e-3 or r * math.sin(theta) > 0.1:  # double roots are ill-conditioned
        assert np.allclose(np.sort_complex(lam), np.sort_complex([r * np.exp(1j * theta), r * np.exp(-1j * theta)]),
                           atol=1e-6)


def test_complex_pair_without_shear_is_a_scaled_rotation():
    W = S.complex_pair_2x2(0.9, math.pi / 6)
    assert np.allclose(W @ W.T, 0.81 * np.eye(2)), "r R with R orthogonal"
    c, s = math.cos(math.pi / 6), math.sin(math.pi / 6)
    assert np.allclose(W, 0.9 * np.array([[c, -s], [s, c]])), "r times the rotation by +theta (counter-clockwise)"
    h = W @ np.array([1.0, 0.0])
    assert math.atan2(h[1], h[0]) == pytest.approx(math.pi / 6), "e_1 turns by +theta"
    for r, theta in ((0.7, 0.0), (1.2, math.pi)):  # the real ends of the slider: a Jordan-type block
        sign = math.cos(theta)
        assert np.allclose(S.complex_pair_2x2(r, theta, 3.0), S.triangular_2x2(sign * r, sign * r, -3.0), atol=1e-12)
    assert S.departure_from_normality(W) == pytest.approx(0.0, abs=1e-7)
    assert S.departure_from_normality(S.complex_pair_2x2(0.9, math.pi / 6, 3.0)) == pytest.approx(3.0)


def test_matrix_builders_reject_bad_values():
    with pytest.raises(ValueError, match="r: expected"):
        S.complex_pair_2x2(-1.0, 0.5)
    with pytest.raises(ValueError, match="theta"):
        S.complex_pair_2x2(1.0, 4.0)
    with pytest.raises(ValueError, match="shear"):
        S.triangular_2x2(1.0, 1.0, float("nan"))


# ---------------------------------------------------------------------------- prefix log-norms


@given(st.integers(1, 4), st.integers(0, 40), st.integers(0, 2**31 - 1), st.sampled_from([2, "fro"]))
def test_prefix_log_norms_match_matrix_power_log_norms(H, T, seed, ord):
    W = np.random.default_rng(seed).standard_normal((H, H))
    got = S.prefix_log_norms(np.broadcast_to(W, (T, H, H)), ord=ord)
    assert np.allclose(got, matrix_power_log_norms(W, T, ord=ord), atol=1e-9)


def test_prefix_log_norms_match_explicit_products():
    rng = np.random.default_rng(1)
    J = rng.standard_normal((13, 3, 3))
    P, want = np.eye(3), [0.0]
    for t in range(13):
        P = J[t] @ P  # J_t ... J_1: newest factor on the left
        want.append(np.log10(np.linalg.norm(P, 2)))
    assert np.allclose(S.prefix_log_norms(J), want, atol=1e-10)


def test_prefix_log_norms_match_jacobian_log_norms_from_for_tanh():
    W = S.complex_pair_2x2(1.3, 0.7, 2.0)
    params = rnnlib.RNNParams(np.eye(2), W, np.zeros(2), np.zeros((1, 2)), np.zeros(1))
    u = np.array([0.3, -0.2])
    trace = rnnlib.forward(params, np.broadcast_to(u, (300, 1, 2)), np.array([[0.8, -0.4]]), "tanh")
    profile = S.gradient_profile(W, 300, "tanh", u=u, h0=np.array([0.8, -0.4]))
    assert np.allclose(profile.log_norm, jacobian_log_norms_from(params, trace)[:, 0], atol=1e-9)


def test_prefix_log_norms_far_outside_the_float_range_and_exact_zero():
    T = 1000
    assert np.allclose(S.prefix_log_norms(np.broadcast_to(0.2 * np.eye(2), (T, 2, 2))), np.arange(T + 1) * np.log10(0.2))
    assert np.allclose(S.prefix_log_norms(np.broadcast_to(5.0 * np.eye(2), (T, 2, 2))), np.arange(T + 1) * np.log10(5.0))
    nilpotent = S.prefix_log_norms(np.broadcast_to(S.triangular_2x2(0, 0, 1.0), (5, 2, 2)))
    assert nilpotent[:2].tolist() == [0.0, 0.0] and np.all(nilpotent[2:] == -np.inf), "N^2 = 0"
    assert S.prefix_log_norms(np.zeros((0, 3, 3)), ord="fro").tolist() == [0.5 * np.log10(3)]


def test_prefix_log_norms_rejects_bad_input():
    with pytest.raises(ValueError, match=r"J: expected a stack of square matrices \(T, H, H\) with H >= 1, got shape \(3, 2\)"):
        S.prefix_log_norms(np.ones((3, 2)))
    with pytest.raises(ValueError, match="finite"):
        S.prefix_log_norms(np.full((2, 2, 2), np.nan))
    with pytest.raises(ValueError, match="ord"):
        S.prefix_log_norms(np.ones((2, 2, 2)), ord=1)


# ---------------------------------------------------------------------------- trajectories


@pytest.mark.parametrize("activation", ["linear", "tanh", "sigmoid", "relu"])
@pytest.mark.parametrize("H", [2, 3])
def test_hidden_trajectory_matches_rnnlib_forward(activation, H):
    rng = np.random.default_rng(H)
    W, u, h0 = 0.7 * rng.standard_normal((H, H)), rng.standard_normal(H), rng.standard_normal(H)
    h, a = S.hidden_trajectory(W, h0, 50, activation, u)
    params = rnnlib.RNNParams(np.eye(H), W, np.zeros(H), np.zeros((1, H)), np.zeros(1))
    trace = rnnlib.forward(params, np.broadcast_to(u, (50, 1, H)), h0[None], activation)
    assert np.allclose(h, trace.h[:, 0]) and np.allclose(a[1:], trace.a[1:, 0])
    assert np.all(np.isnan(a[0]))


@pytest.mark.parametrize("H", [2, 3])
def test_linear_trajectory_stops_before_overflow(H):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        h, _ = S.hidden_trajectory(3.0 * np.eye(H), np.ones(H), 1000, "linear", escape=1e100)
        profile = S.gradient_profile(3.0 * np.eye(H), 1000, "linear", h0=np.ones(H))
    first = int(np.ceil(100 / np.log10(3)))  # 3^t > 1e100 from here on
    assert np.all(np.isfinite(h[: first + 1])) and np.all(np.isnan(h[first + 1 :]))
    assert profile.escaped_at == first
    assert profile.log_norm[-1] == pytest.approx(1000 * np.log10(3)), "the Jacobian W^t does not need h"


def test_hidden_trajectory_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"h0: expected shape \(2,\), got \(3,\)"):
        S.hidden_trajectory(np.eye(2), np.ones(3), 5)
    with pytest.raises(ValueError, match="T: expected"):
        S.hidden_trajectory(np.eye(2), np.ones(2), -1)
    with pytest.raises(ValueError, match="activation"):
        S.hidden_trajectory(np.eye(2), np.ones(2), 5, "softsign")


# ---------------------------------------------------------------------------- profiles and bounds


@given(st.floats(0, 2), st.floats(0, 2), st.floats(0, 10), st.sampled_from(["linear", "tanh", "sigmoid"]))
def test_profile_respects_the_bounds(r1, r2, shear, activation):
    W = S.triangular_2x2(r1, r2, shear)
    p = S.gradient_profile(W, 60, activation, u=np.array([0.3, 0.4]), h0=np.array([0.8, -0.4]))
    ok = np.isfinite(p.log_norm)
    # Pascanu et al.: ||dh_t/dh_0|| <= (gamma sigma_max)^t for every t.
    assert np.all(p.log_norm[ok] <= p.log_bound[ok] + 1e-9)
    if activation == "linear":  # and rho^t <= ||W^t|| (the spectral radius of W^t is rho^t)
        ok &= np.isfinite(p.log_rho)
        assert np.all(p.log_rho[ok] <= p.log_norm[ok] + 1e-9)


def test_profile_of_a_normal_matrix_is_rho_to_the_t():
    p = S.gradient_profile(np.diag([0.9, 0.5]), 100)
    assert np.allclose(p.log_norm, p.log_rho) and np.allclose(p.log_norm, np.arange(101) * np.log10(0.9))
    assert p.rho == pytest.approx(0.9) and p.sigma_max == pytest.approx(0.9) and p.gamma == 1.0


def test_sigmoid_uses_gamma_one_quarter():
    p = S.gradient_profile(np.diag([2.0, 1.0]), 10, "sigmoid")
    assert p.gamma == 0.25 and p.log_bound[1] == pytest.approx(np.log10(0.5))


# ---------------------------------------------------------------------------- words


@pytest.mark.parametrize(
    "log10, text",
    [(-460.3, "5.0e-461"), (-12, "1.0e-12"), (2.9999, "1.0e+03"), (0.5, "3.2"), (-0.3, "0.50"), (1.0, "10"),
     (-np.inf, "0"), (np.inf, "inf"), (320.0, "1.0e+320")],
)
def test_format_pow10(log10, text):
    assert S.format_pow10(log10) == text


def test_verdicts():
    assert S.verdict(S.gradient_profile(np.diag([0.9, 0.5]), 100)).text == "vanishes: ‖∂h_t/∂h_0‖ = 2.7e-05 after 100 steps"
    assert S.verdict(S.gradient_profile(np.diag([1.1, 0.5]), 100)).text.startswith("explodes: ‖∂h_t/∂h_0‖ = 1.4e+04")
    assert S.verdict(S.gradient_profile(np.eye(2), 10)).text.startswith("survives")
    transient = S.verdict(S.gradient_profile(S.triangular_2x2(0.95, 0.94, 10.0), 300)).text
    assert transient.startswith("vanishes") and "(transient growth)" in transient
    assert S.verdict(S.gradient_profile(np.zeros((2, 2)), 5)).text == "vanishes: ‖∂h_t/∂h_0‖ = 0 after 5 steps"


def test_growth_at_rho_one_is_polynomial_not_an_explosion():
    # ||W^t|| of [[1, s], [0, 1]] is about s t: above 1e3, but only polynomial.
    jordan = S.gradient_profile(S.triangular_2x2(1.0, 1.0, 10.0), 1000)
    assert not S.grows_exponentially(jordan)
    assert S.verdict(jordan).text == "grows polynomially (ρ = 1): ‖∂h_t/∂h_0‖ = 1.0e+04 after 1000 steps"
    rotated = S.gradient_profile(S.complex_pair_2x2(1.0, math.pi, 5.0), 1000)  # the explorer's r = 1, theta = 180
    assert S.verdict(rotated).text == "grows polynomially (ρ = 1): ‖∂h_t/∂h_0‖ = 5.0e+03 after 1000 steps"
    # rho just above 1 explodes; rho < 1 with a large transient still going at T grows "for now".
    assert S.verdict(S.gradient_profile(S.triangular_2x2(1.01, 1.01, 10.0), 1000)).text.startswith("explodes")
    assert S.verdict(S.gradient_profile(S.triangular_2x2(0.999, 0.999, 10.0), 200)).text.startswith(
        "grows for now (ρ < 1, transient): ‖∂h_t/∂h_0‖ = 1.6e+03")
    for profile in (jordan, rotated):
        assert S.verdict(profile).word in S.VERDICT_WORDS


def test_nonlinear_growth_is_judged_from_the_curve():
    h0 = np.array([1.0, 1.0])
    # relu on a positive state is the identity: the Jordan block again, polynomial growth.
    poly = S.gradient_profile(S.triangular_2x2(1.0, 1.0, 10.0), 1000, "relu", h0=h0)
    assert poly.log_norm[-1] > 3 and not S.grows_exponentially(poly)
    assert S.verdict(poly).text.startswith("grows, not exponentially")
    expo = S.gradient_profile(np.diag([1.1, 1.0]), 100, "relu", h0=h0)
    assert S.grows_exponentially(expo) and S.verdict(expo).text.startswith("explodes")
    # A tanh RNN whose gradient grows exponentially (found by sweeping the explorer's settings).
    growing = S.gradient_profile(S.triangular_2x2(1.25, 0.0, 2.5), 1000, "tanh", h0=np.array([0.8, -0.4]))
    assert growing.log_norm[-1] > 50 and S.verdict(growing).text.startswith("explodes")


def test_escaped_relu_state_stops_the_curve_and_is_called_explosion():
    # relu'(NaN) would be 0: after the state leaves the range, the curve must stop, not fall to -inf.
    profile = S.gradient_profile(2 * np.eye(2), 400, "relu", h0=np.ones(2))
    assert profile.escaped_at is not None
    L = profile.log_norm
    assert np.all(np.isnan(L[profile.escaped_at + 1 :])) and np.all(np.isfinite(L[: profile.escaped_at + 1]))
    assert S.verdict(profile).text.startswith("explodes")


def test_verdict_comes_in_parts():
    v = S.verdict(S.gradient_profile(np.diag([0.9, 0.5]), 100))
    assert v == ("vanishes", "‖∂h_t/∂h_0‖ = 2.7e-05 after 100 steps") and v.word == "vanishes"
    assert v.text == "vanishes: ‖∂h_t/∂h_0‖ = 2.7e-05 after 100 steps"


# ---------------------------------------------------------------------------- products and singular values


@pytest.mark.parametrize("H", [2, 5, 12])
def test_sequential_and_prefix_products_agree(H):
    rng = np.random.default_rng(H)
    J = rng.standard_normal((37, H, H)) * 0.6
    U1, L1 = S._prefix_products(J)
    U2, L2 = S._sequential_products(J)
    assert np.allclose(L1, L2) and np.allclose(U1, U2, atol=1e-12)
    explicit = np.eye(H)
    for t in range(1, 38):
        explicit = J[t - 1] @ explicit
        assert np.allclose(10 ** L1[t] * U1[t], explicit, rtol=1e-9, atol=1e-12 * np.abs(explicit).max())


@pytest.mark.parametrize("linear", [True, False])
def test_sequential_diag_products_match_the_stack_of_factors(linear):
    rng = np.random.default_rng(7)
    W = rng.standard_normal((12, 12)) * 0.4
    D = None if linear else rng.uniform(0.0, 1.0, (40, 12))
    J = np.broadcast_to(W, (40, 12, 12)) if linear else D[:, :, None] * W  # diag(d_t) W
    U1, L1 = S._sequential_products(np.asarray(J))
    U2, L2 = S._sequential_diag_products(W, D, 40)
    assert np.allclose(L1, L2, rtol=0, atol=1e-12) and np.allclose(U1, U2, atol=1e-12)
    D0 = np.ones((40, 12))
    D0[5, :] = 0.0  # a dead step: the product is exactly 0 from t = 6 on
    U3, L3 = S._sequential_diag_products(W, D0, 40)
    assert np.all(L3[6:] == -np.inf) and np.all(U3[6:] == 0) and np.all(np.isfinite(L3[:6]))

def test_sequential_diag_products_far_outside_the_float_range_at_the_kept_steps():
    """The linear loop carries the scale and rescales only when ||B|| leaves 1e+-20: norms and kept
    products stay exact across 1e+-400 (against t log10(c) for c times an orthogonal matrix)."""
    Q = S.explorer_matrix(kind="orthogonal", r1=1.0, size=12)
    keep = np.array([0, 1, 7, 100, 333, 600])
    for c in (0.2, 5.0):
        U, L = S._sequential_diag_products(c * Q, None, 600, keep=keep)
        t = np.arange(601)
        assert np.allclose(L, t * np.log10(c) + 0.5 * np.log10(12), rtol=0, atol=1e-9), "||c^t Q^t||_F"
        assert np.allclose(U, np.stack([np.linalg.matrix_power(Q, k) for k in keep]) / np.sqrt(12), atol=1e-9)
        D = np.full((600, 12), 0.5)  # the same with f' = 1/2: the scale rides on the column of f'
        U2, L2 = S._sequential_diag_products(c * Q, D, 600, keep=keep)
        assert np.allclose(L2, t * np.log10(c / 2) + 0.5 * np.log10(12), rtol=0, atol=1e-9)
        assert np.allclose(U2, U, atol=1e-9)


def _exact_top(U):
    return np.linalg.svd(U, compute_uv=False)[:, 0] ** 2


@pytest.mark.parametrize("kind, r1, activation", [("random", 0.9, "tanh"), ("random", -2.0, "tanh"),
                                                   ("random", 1.0, "relu"), ("random", 1.5, "linear"),
                                                   ("orthogonal", 1.0, "linear"), ("orthogonal", 1.3, "tanh")])
def test_top_gram_eigenvalues_equal_the_largest_squared_singular_value(kind, r1, activation):
    """The checked subspace iteration against numpy's SVD, on the explorer's own 64 x 64 products at the
    norm grid (a few dominant directions: the iteration answers) and orthogonal ones (all singular values
    equal at first: those answers must come from the eigvalsh fallback)."""
    p = S.explorer_profile(kind=kind, r1=r1, size=64, activation=activation, T=1000)
    D = None if activation == "linear" else p.fprime[1:]
    U, _ = S._sequential_diag_products(p.W, D, 1000, keep=S._norm_grid(1000))
    assert np.allclose(S._top_gram_eigenvalues(U), _exact_top(U), rtol=1e-12, atol=0)


def test_top_gram_eigenvalues_on_hard_stacks():
    """Near-equal top singular values, a zero matrix, a rank-one matrix, tiny and huge scales, 2 x 2."""
    rng = np.random.default_rng(3)
    Q1, _ = np.linalg.qr(rng.standard_normal((16, 16)))
    Q2, _ = np.linalg.qr(rng.standard_normal((16, 16)))
    stacks = [Q1 @ np.diag(s) @ Q2 for s in (np.r_[1.0, 1.0 - 1e-9, np.linspace(0.5, 0.1, 14)],
                                               np.r_[1.0, 0.999, np.full(14, 0.998)],
                                               np.r_[1.0, np.zeros(15)], np.zeros(16),
                                               np.r_[1e-150, 1e-160, np.full(14, 1e-170)],
                                               np.r_[1e150, 1e100, np.full(14, 1.0)])]
    stacks += [rng.standard_normal((16, 16)) for _ in range(20)]
    U = np.stack(stacks)
    assert np.allclose(S._top_gram_eigenvalues(U), _exact_top(U), rtol=1e-12, atol=0)
    small = rng.standard_normal((30, 2, 2))
    assert np.allclose(S._top_gram_eigenvalues(small), _exact_top(small), rtol=1e-12, atol=0)
    assert S._top_gram_eigenvalues(np.empty((0, 3, 3))).shape == (0,)


def test_explorer_matrices_are_init_recurrent_bit_for_bit_after_the_cache():
    """The seeded H x H matrices come from a per-size cache; every r1 (either sign, 0, repeated) gives
    exactly what init_recurrent gives, and the cached base is never changed by a caller."""
    from rnnlib.remedies import init_recurrent

    for size in (4, 20, 64):
        for r1 in (0.9, -0.9, 0.0, 2.0, -1.37, 0.9):
            W = S.explorer_matrix(kind="random", r1=r1, size=size)
            assert np.array_equal(W, init_recurrent(size, "gaussian", spectral_radius=abs(r1), seed=S.MATRIX_SEED))
            W[0, 0] = 123.0  # the caller's copy, not the cache
            O = S.explorer_matrix(kind="orthogonal", r1=r1, size=size)
            assert np.array_equal(O, r1 * init_recurrent(size, "orthogonal", seed=S.MATRIX_SEED))
    assert np.array_equal(S.explorer_matrix(kind="random", r1=1.0, size=4),
                          init_recurrent(4, "gaussian", spectral_radius=1.0, seed=S.MATRIX_SEED))


def test_singular_values_and_ellipse_of_the_product_match_an_explicit_product():
    W = S.triangular_2x2(0.95, 0.94, 10.0)
    p = S.gradient_profile(W, 300)
    for t in (0, 1, 18, 300):
        Wt = np.linalg.matrix_power(W, t)
        s = np.linalg.svd(Wt, compute_uv=False)
        assert np.allclose(S.log_singular_values_at(p, t), np.log10(s)), t
        points, L = S.unit_circle_image(p, t)
        assert L == pytest.approx(np.log10(s[0]))
        phi = np.linspace(0, 2 * np.pi, len(points))
        assert np.allclose(points * 10**L, (Wt @ np.stack([np.cos(phi), np.sin(phi)])).T), "W^t applied to the circle"
    with pytest.raises(ValueError, match="t: expected an integer 0 <= t <= T = 300, got 301"):
        S.log_singular_values_at(p, 301)


def test_large_matrices_get_exact_norms_on_a_grid():
    W = S.explorer_matrix(kind="random", r1=0.95, size=24)
    p = S.gradient_profile(W, 600, "tanh", h0=np.full(24, 0.3))
    steps = p.norm_steps
    assert 60 < steps.size < 70 and steps[0] == 0 and steps[-1] == 600 and {150, 300} <= set(steps.tolist())
    rest = np.setdiff1d(np.arange(601), steps)
    assert np.all(np.isnan(p.log_norm[rest])) and np.all(np.isfinite(p.log_norm[steps]))
    oracle = jacobian_log_norms_from(
        rnnlib.RNNParams(np.zeros((24, 1)), W, np.zeros(24), np.zeros((1, 24)), np.zeros(1)),
        rnnlib.forward(rnnlib.RNNParams(np.zeros((24, 1)), W, np.zeros(24), np.zeros((1, 24)), np.zeros(1)),
                       np.zeros((600, 1, 1)), np.full((1, 24), 0.3), activation="tanh"))[:, 0]
    assert np.allclose(p.log_norm[steps], oracle[steps], atol=1e-8)



def test_a_large_matrix_keeps_only_the_grid_products_and_regrows_the_others():
    W = S.explorer_matrix(kind="random", r1=0.95, size=24)
    p = S.gradient_profile(W, 200, "tanh", h0=np.full(24, 0.3))
    assert np.array_equal(p.product_steps, p.norm_steps) and p.products.shape == (p.norm_steps.size, 24, 24)
    assert 101 not in p.product_steps.tolist()
    explicit = np.eye(24)
    for t in range(1, 201):
        explicit = (p.fprime[t][:, None] * W) @ explicit  # diag(f'(a_t)) W, one factor at a time
        U, L = S.product_at(p, t)
        assert np.allclose(10**L * U, explicit, rtol=1e-9, atol=1e-12 * np.abs(explicit).max()), t
        if t == 101:
            s101 = np.linalg.svd(explicit, compute_uv=False)
    log_s = S.log_singular_values_at(p, 101)  # the rest sit below 1e-9 sigma_max: rounding noise (see its docs)
    assert log_s.shape == (24,) and log_s[0] == pytest.approx(np.log10(s101[0]), abs=1e-9)
    assert S.unit_circle_image(p, 101)[1] == pytest.approx(np.log10(s101[0]))
    with pytest.raises(ValueError, match="t: expected an integer 0 <= t <= T = 200, got 201"):
        S.product_at(p, 201)

# ---------------------------------------------------------------------------- the explorer's model


def test_explorer_settings_are_checked():
    assert S.explorer_settings() == S.EXPLORER_DEFAULTS
    with pytest.raises(ValueError, match=r"r1: expected a finite number in \[-2, 2\], got 3"):
        S.explorer_settings(r1=3)
    with pytest.raises(ValueError, match="activation: expected one of"):
        S.explorer_settings(activation="relu6")
    with pytest.raises(ValueError, match="settings: expected names among"):
        S.explorer_settings(rho=0.5)
    with pytest.raises(ValueError, match="t: expected an integer 0 <= t <= T = 50, got 60"):
        S.explorer_settings(T=50, t=60)
    with pytest.raises(ValueError, match="size: expected an integer"):
        S.explorer_settings(size=2.5)


def test_negative_real_eigenvalue_flips_the_sign_every_step():
    p = S.explorer_profile(kind="real", r1=-0.95, r2=0.5, T=20, h0_1=0.8, h0_2=0.0)
    assert np.allclose(np.sort(p.eigenvalues.real), [-0.95, 0.5])
    signs = np.sign(p.h[:, 0])
    assert np.all(signs[1:] == -signs[:-1]), "h_t[0] = (-0.95)^t h_0[0] changes sign every step"
    assert np.allclose(p.log_norm, np.arange(21) * np.log10(0.95)), "the norm sees |λ| only"


def test_complex_pair_with_negative_r_has_eigenvalues_r_e_to_the_i_theta():
    W = S.explorer_matrix(kind="complex", r1=-0.8, angle=30.0)
    lam = np.sort_complex(np.linalg.eigvals(W))
    assert np.allclose(lam, np.sort_complex(-0.8 * np.exp([30j * np.pi / 180, -30j * np.pi / 180])))


def test_larger_matrices():
    W8 = S.explorer_matrix(kind="8x8 example")
    assert W8.shape == (8, 8) and np.allclose(np.sort(np.linalg.eigvals(W8).real), np.linspace(0.8, 0.9, 8))
    Wr = S.explorer_matrix(kind="random", r1=-1.2, size=64)
    assert Wr.shape == (64, 64) and np.max(np.abs(np.linalg.eigvals(Wr))) == pytest.approx(1.2)
    Wo = S.explorer_matrix(kind="orthogonal", r1=0.9, size=32)
    assert np.allclose(np.linalg.svd(Wo, compute_uv=False), 0.9), "r1 times an orthogonal matrix"
    h0, u = S.explorer_state(kind="random", size=64, u=2.0, h0_1=0.5, h0_2=-0.5)
    assert h0.shape == (64,) and h0[:2].tolist() == [0.5, -0.5] and not h0[2:].any()
    assert np.linalg.norm(u) == pytest.approx(2.0)
    p = S.explorer_profile(kind="orthogonal", r1=1.0, size=64, T=300)
    assert np.allclose(p.log_norm[p.norm_steps], 0.0, atol=1e-9), "an orthogonal W^t has norm 1"


def test_h0_matters_for_tanh_and_relu_but_not_for_the_linear_jacobian():
    base = dict(kind="complex", r1=1.5, angle=30.0, T=200)
    lin = [S.explorer_profile(**base, h0_1=x).log_norm for x in (0.8, -0.3)]
    assert np.array_equal(lin[0], lin[1])
    tanh = [S.explorer_profile(**base, activation="tanh", h0_1=x).log_norm for x in (0.8, -0.3)]
    assert not np.allclose(tanh[0], tanh[1])
    relu = [S.explorer_profile(kind="real", r1=1.0, r2=1.0, activation="relu", h0_2=x, T=50) for x in (-0.4, 0.4)]
    assert relu[0].fprime[1:, 1].max() == 0 and relu[1].fprime[1:, 1].min() == 1, "negative start: a dead unit"


def test_principal_components():
    rng = np.random.default_rng(0)
    h = rng.standard_normal((200, 2)) @ np.array([[3.0, 0, 0, 0], [0, 1.0, 0, 0]]) + 5.0
    xy = S.principal_components(h)
    assert np.allclose(xy.std(axis=0), h[:, :2].std(axis=0), rtol=0.05)
    assert np.allclose(xy.mean(axis=0), 0, atol=1e-12)
    two = rng.standard_normal((10, 2))
    assert S.principal_components(two) is two or np.array_equal(S.principal_components(two), two)


@pytest.mark.parametrize("name", list(S.PRESETS))
def test_every_preset_ends_as_its_story_says(name):
    preset = S.PRESETS[name]
    s = S.explorer_settings(**preset.settings)
    assert s["t"] == s["T"], "a preset puts the scrubber at the end"
    assert S.verdict(S.explorer_profile(**s)).word == preset.word


def test_preset_stories_hold_numerically():
    P = {name: S.explorer_profile(**p.settings) for name, p in S.PRESETS.items()}
    assert int(np.argmax(P["vanishing"].log_norm < -3)) == 66
    assert 10 ** P["exploding"].log_norm[-1] == pytest.approx(2200, rel=0.01)
    assert np.allclose(P["rotation on the unit circle"].log_norm, 0, atol=1e-9)
    jordan = P["Jordan-type block"]
    assert 10 ** jordan.log_norm[-1] / 1000 == pytest.approx(5, rel=0.01), "||W^t|| about 5t"
    transient = P["non-normal transient"]
    assert int(np.argmax(transient.log_norm)) == 18 and 10 ** transient.log_norm.max() == pytest.approx(69, rel=0.01)
    drift, locked = P["tanh: quasi-periodic drift"], P["tanh: mode-locked cycle"]
    turn = lambda h: np.degrees(np.angle((h[1:, 0] + 1j * h[1:, 1]) / (h[:-1, 0] + 1j * h[:-1, 1])))  # noqa: E731
    assert abs(turn(drift.h[-200:]).mean() - 29) < 0.5, "about 29 degrees a step"
    assert np.abs(drift.h[-1] - drift.h[-5]).max() > 0.1, "and no 4-cycle"
    assert np.abs(locked.h[-1] - locked.h[-5]).max() < 1e-12, "a period-4 cycle"
    assert S.format_pow10(locked.log_norm[-1]).endswith("e-404")
    assert P["sigmoid, γ = 1/4"].log_bound[1] == pytest.approx(np.log10(0.5))
    relu = P["ReLU, identity W"]
    assert np.allclose(relu.log_norm, 0) and np.all(relu.fprime[1:, 0] == 1) and np.all(relu.fprime[1:, 1] == 0)
    assert S.format_pow10(P["below the float range"].log_norm[-1]) == "1.3e-523"
    assert 10 ** P["8 × 8 non-normal (§5)"].log_norm[P["8 × 8 non-normal (§5)"].norm_steps].max() > 1e5
    assert np.allclose(P["orthogonal 64 × 64"].log_norm[P["orthogonal 64 × 64"].norm_steps], 0, atol=1e-9)


# ---------------------------------------------------------------------------- bad input, by name (issue 14)


def test_profile_readers_reject_what_is_not_a_profile_before_reading_it():
    p = S.gradient_profile(np.array([[0.9, 0.5], [0.0, 0.5]]), 20, "tanh")
    readers = (S.verdict, S.grows_exponentially, lambda q: S.product_at(q, 3), lambda q: S.log_singular_values_at(q, 3),
               lambda q: S.unit_circle_image(q, 3))
    for read in readers:
        read(p)
        for bad, got in ((tuple(p), "tuple"), (S.verdict(p), "Verdict"), (None, "NoneType")):
            with pytest.raises(ValueError, match=rf"^profile: expected the GradientProfile .*, got {got}$"):
                read(bad)
        with pytest.raises(ValueError, match=r"^profile: expected .*fields do not fit together"):
            read(p._replace(log_norm=np.full(21, np.nan)))


def test_the_explorer_model_checks_its_settings_wherever_it_is_entered():
    with pytest.raises(ValueError, match=r"^r1: expected a finite number in \[-2, 2\], got 5"):
        S.explorer_matrix(kind="random", r1=5)
    with pytest.raises(ValueError, match=r"^size: expected an integer 4 <= size <= 64, got 2.5"):
        S.explorer_state(kind="random", size=2.5)
    with pytest.raises(ValueError, match=r"^T: expected an integer 10 <= T <= 1000, got 50.5"):
        S.explorer_settings(T=50.5)
    with pytest.raises(ValueError, match=r"^angle: expected a real number, got '30'"):
        S.explorer_settings(angle="30")
    with pytest.raises(ValueError, match=r"^kind: expected one of"):
        S.explorer_controls_used("Random")
    assert S.explorer_matrix(**S.explorer_settings(kind="complex")).shape == (2, 2)  # a whole settings dict works


def test_numbers_and_arrays_of_the_wrong_kind_are_named():
    with pytest.raises(ValueError, match=r"^log10_value: expected a real number \(inf, -inf or nan allowed\), got '3'"):
        S.format_pow10("3")
    assert S.format_pow10(np.float64(-460.3)) == "5.0e-461" and S.format_pow10(-math.inf) == "0"
    with pytest.raises(ValueError, match=r"^digits: expected an integer 1 <= digits <= 17, got 0"):
        S.format_pow10(1.0, 0)
    with pytest.raises(ValueError, match=r"^W: expected a real matrix, got dtype complex128"):
        S.hidden_trajectory(np.eye(2) * 1j, [1.0, 0.0], 5)
    with pytest.raises(ValueError, match=r"^escape: expected a finite number > 0"):
        S.hidden_trajectory(np.eye(2), [1.0, 0.0], 5, escape=float("inf"))
    with pytest.raises(ValueError, match=r"^h: expected states of shape \(T \+ 1, H\) with H >= 2"):
        S.principal_components(np.ones((5, 1)))
    with pytest.raises(ValueError, match=r"^h: expected rows that are all finite or all NaN"):
        S.principal_components(np.full((5, 3), np.nan))
    assert S.departure_from_normality(np.array([[1j, 2.0], [0.0, 1.0]])) == pytest.approx(2.0)  # complex is fine here


def _same(a, b):
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    return a == b


@pytest.mark.parametrize("size", [2, 24])
def test_profile_memos_give_what_a_fresh_computation_gives(size):
    """gradient_profile remembers W's spectrum and the linear RNN's products (they depend on W and T
    only): a profile built from the memos equals one computed with them emptied, field by field, and
    the shared arrays are read-only."""
    W = S.explorer_matrix(kind="random", r1=0.95, size=size) if size > 2 else S.triangular_2x2(0.9, -0.5, 3.0)
    h0, u = np.full(size, 0.3), np.full(size, 0.1)
    first = S.gradient_profile(W, 300, "linear", h0=h0)
    for activation, kwargs in (("linear", dict(h0=-h0, u=u)), ("tanh", dict(h0=-h0, u=u)), ("linear", dict(h0=h0))):
        memo = S.gradient_profile(W, 300, activation, **kwargs)
        assert (memo.products is first.products) == (activation == "linear"), "the linear products are reused"
        assert memo.eigenvalues is first.eigenvalues, "W's spectrum is reused"
        S._SPECTRA.clear()
        S._LINEAR_PRODUCTS.clear()
        fresh = S.gradient_profile(W, 300, activation, **kwargs)
        assert all(_same(x, y) for x, y in zip(memo, fresh)), activation
        first = S.gradient_profile(W, 300, "linear", h0=h0)
    with pytest.raises(ValueError, match="read-only"):
        first.products[0, 0, 0] = 1.0
    other = S.gradient_profile(W, 200, "linear", h0=h0)  # another T: other products
    assert other.products is not first.products and other.T == 200
