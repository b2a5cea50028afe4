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
    with pytest.raises(ValueError, match=r"J: expected a stack of square matrices \(T, H, H\), got shape \(3, 2\)"):
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
    assert S.verdict(S.gradient_profile(np.diag([0.9, 0.5]), 100)) == "vanishes: ‖∂h_t/∂h_0‖ = 2.7e-05 after 100 steps"
    assert S.verdict(S.gradient_profile(np.diag([1.1, 0.5]), 100)).startswith("explodes: ‖∂h_t/∂h_0‖ = 1.4e+04")
    assert S.verdict(S.gradient_profile(np.eye(2), 10)).startswith("survives")
    transient = S.verdict(S.gradient_profile(S.triangular_2x2(0.95, 0.94, 10.0), 300))
    assert transient.startswith("vanishes") and "(transient growth)" in transient
    assert S.verdict(S.gradient_profile(np.zeros((2, 2)), 5)) == "vanishes: ‖∂h_t/∂h_0‖ = 0 after 5 steps"


def test_growth_at_rho_one_is_polynomial_not_an_explosion():
    # ||W^t|| of [[1, s], [0, 1]] is about s t: above 1e3, but only polynomial.
    jordan = S.gradient_profile(S.triangular_2x2(1.0, 1.0, 10.0), 1000)
    assert not S.grows_exponentially(jordan)
    assert S.verdict(jordan) == "grows polynomially (ρ = 1): ‖∂h_t/∂h_0‖ = 1.0e+04 after 1000 steps"
    rotated = S.gradient_profile(S.complex_pair_2x2(1.0, math.pi, 5.0), 1000)  # the explorer's r = 1, theta = 180
    assert S.verdict(rotated) == "grows polynomially (ρ = 1): ‖∂h_t/∂h_0‖ = 5.0e+03 after 1000 steps"
    # rho just above 1 explodes; rho < 1 with a large transient still going at T grows "for now".
    assert S.verdict(S.gradient_profile(S.triangular_2x2(1.01, 1.01, 10.0), 1000)).startswith("explodes")
    assert S.verdict(S.gradient_profile(S.triangular_2x2(0.999, 0.999, 10.0), 200)).startswith(
        "grows for now (ρ < 1, transient): ‖∂h_t/∂h_0‖ = 1.6e+03")
    for profile in (jordan, rotated):
        assert S.verdict(profile).split(":")[0] in S.VERDICT_WORDS


def test_nonlinear_growth_is_judged_from_the_curve():
    h0 = np.array([1.0, 1.0])
    # relu on a positive state is the identity: the Jordan block again, polynomial growth.
    poly = S.gradient_profile(S.triangular_2x2(1.0, 1.0, 10.0), 1000, "relu", h0=h0)
    assert poly.log_norm[-1] > 3 and not S.grows_exponentially(poly)
    assert S.verdict(poly).startswith("grows, not exponentially")
    expo = S.gradient_profile(np.diag([1.1, 1.0]), 100, "relu", h0=h0)
    assert S.grows_exponentially(expo) and S.verdict(expo).startswith("explodes")
    # A tanh RNN whose gradient grows exponentially (found by sweeping the explorer's settings).
    growing = S.gradient_profile(S.triangular_2x2(1.25, 0.0, 2.5), 1000, "tanh", h0=np.array([0.8, -0.4]))
    assert growing.log_norm[-1] > 50 and S.verdict(growing).startswith("explodes")


def test_escaped_relu_state_stops_the_curve_and_is_called_explosion():
    # relu'(NaN) would be 0: after the state leaves the range, the curve must stop, not fall to -inf.
    profile = S.gradient_profile(2 * np.eye(2), 400, "relu", h0=np.ones(2))
    assert profile.escaped_at is not None
    L = profile.log_norm
    assert np.all(np.isnan(L[profile.escaped_at + 1 :])) and np.all(np.isfinite(L[: profile.escaped_at + 1]))
    assert S.verdict(profile).startswith("explodes")
