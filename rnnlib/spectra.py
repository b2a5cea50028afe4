"""Eigenvalues, singular values and the fate of dh_t/dh_0 in a small RNN (notebook 05).

The linear RNN h_t = W h_{t-1} has dh_t/dh_0 = W^t. With W = V diag(lambda) V^{-1},
W^t = V diag(lambda)^t V^{-1}, so the spectral radius rho(W) = max |lambda| sets the long-run
rate: ||W^t||^(1/t) -> rho. It does not set every step: for every t,

    rho^t  <=  ||W^t||_2  <=  sigma_max(W)^t,

and a non-normal W (eigenvectors far from orthogonal) can keep growing for a long while, far
above the lower end (though soon below the upper one), before the lower end takes over. With a
nonlinearity, dh_t/dh_0 = prod diag(f'(a_i)) W and ||dh_t/dh_0||_2 <= (gamma sigma_max)^t,
gamma = max |f'| (Pascanu, Mikolov and Bengio 2013).

This module holds the numpy computations behind notebook 05's eigenvalue explorer (drawn by
`rnnlib.plots.explorer` and `rnnlib.plots.explorer_figure`): its model (settings -> W_hh, h_0, u
-> `GradientProfile`, `explorer_profile`), its named presets (`PRESETS`), the matrices with chosen
eigenvalues and non-normality, the hidden trajectory under a constant input, the log-norm profile
of dh_t/dh_0 (exact even far outside the float range), the singular values of the product at any
step, and the verdict as (word, line). "Explodes" there means exponential growth; a linear RNN
with rho = 1 and a Jordan-type block grows only polynomially and is called that.
It imports numpy only.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np

from ._checks import (MAX_STEPS, check_activation, check_choice, check_extended_real, check_int, check_ord, check_positive,
                      check_profile, check_real, check_square, check_square_stack, check_trajectory, check_vector,
                      check_work)
from .jacobians import frobenius_rescale  # unit-Frobenius rescaling with a log10 scale, shared

__all__ = [
    "triangular_2x2",
    "complex_pair_2x2",
    "departure_from_normality",
    "prefix_log_norms",
    "hidden_trajectory",
    "GradientProfile",
    "gradient_profile",
    "format_pow10",
    "grows_exponentially",
    "verdict",
    "Verdict",
    "VERDICT_WORDS",
    "product_at",
    "log_singular_values_at",
    "unit_circle_image",
    "principal_components",
    "EXPLORER_DEFAULTS",
    "EXPLORER_RANGES",
    "EXPLORER_KINDS",
    "EXPLORER_ACTIVATIONS",
    "explorer_settings",
    "explorer_matrix",
    "explorer_state",
    "explorer_profile",
    "explorer_controls_used",
    "Preset",
    "PRESETS",
]

VANISH_LOG10 = -3.0  # ||dh_T/dh_0|| below 1e-3 counts as vanished
EXPLODE_LOG10 = 3.0  # above 1e3 as grown: exploded if the growth is exponential
RHO_ONE_TOL = 1e-9  # rho within this of 1 counts as rho = 1
# The words that can open a verdict line (before its colon).
VERDICT_WORDS = (
    "vanishes",
    "survives",
    "explodes",
    "grows polynomially (ρ = 1)",
    "grows for now (ρ < 1, transient)",
    "grows, not exponentially",
)


# ----------------------------------------------------------------------------------------------
# 2 x 2 matrices with chosen eigenvalues and a chosen amount of non-normality
# ----------------------------------------------------------------------------------------------


def triangular_2x2(lam1: float, lam2: float, shear: float = 0.0) -> np.ndarray:
    """The real Schur form [[lam1, shear], [0, lam2]]: eigenvalues lam1, lam2, shape (2, 2).

    shear = 0 gives a diagonal (normal) matrix; the larger |shear|, the further from normal
    (its departure from normality is exactly |shear|), while the eigenvalues stay put. With
    lam1 = lam2 and shear != 0 it is a Jordan block, not diagonalizable (notebook 05).
    """
    lam1, lam2 = check_real("lam1", lam1), check_real("lam2", lam2)
    shear = check_real("shear", shear)
    return np.array([[lam1, shear], [0.0, lam2]])


def complex_pair_2x2(r: float, theta: float, shear: float = 0.0) -> np.ndarray:
    """A real (2, 2) matrix with eigenvalues r e^{+i theta}, r e^{-i theta} and non-normality |shear|.

    r >= 0, theta in radians in [0, pi]. The matrix is [[alpha, -(q + s/2)], [q - s/2, alpha]]
    with alpha = r cos(theta), omega = r sin(theta), q = sqrt(omega^2 + s^2/4): its trace is
    2 alpha and its determinant alpha^2 + omega^2 = r^2, so the eigenvalues are alpha +- i omega.
    shear = 0 gives r times the rotation by +theta, r [[cos, -sin], [sin, cos]] (normal: h_t turns
    counter-clockwise by theta a step, as z -> r e^{i theta} z does, and its length scales by r).
    At theta = 0 or pi it is the Jordan-type block [[+-r, -s], [0, +-r]] = `triangular_2x2(+-r, +-r, -s)`.
    """
    r = check_real("r", r, low=0.0)
    theta = check_real("theta", theta, low=0.0, high=math.pi)
    s = check_real("shear", shear)
    alpha, omega = r * math.cos(theta), r * math.sin(theta)
    q = math.hypot(omega, s / 2)
    return np.array([[alpha, -(q + s / 2)], [q - s / 2, alpha]])


def departure_from_normality(W) -> float:
    """Henrici's departure from normality sqrt(||W||_F^2 - sum |lambda_i|^2) of a square W (H, H).

    Zero exactly when W is normal (W W^T = W^T W, orthogonal eigenvectors); for the Schur forms
    above it equals |shear|.
    """
    W = check_square("W", W, allow_complex=True)
    lam = np.linalg.eigvals(W)
    d2 = float(np.sum(np.abs(W) ** 2) - np.sum(np.abs(lam) ** 2))
    return math.sqrt(max(d2, 0.0))


# ----------------------------------------------------------------------------------------------
# log10 ||J_t ... J_1|| for all t at once: a parallel prefix product with rescaling
# ----------------------------------------------------------------------------------------------


def _prefix_products(J: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(U (T + 1, H, H), L (T + 1,)) with J_t ... J_1 = 10**L[t] U[t] and ||U[t]||_F = 1 (or U[t] = 0).

    Row 0 is the empty product I = sqrt(H) (I / sqrt(H)). A Hillis-Steele prefix scan: log2(T)
    batched matrix products instead of T small ones.
    """
    T, H = J.shape[0], J.shape[1]
    U0 = np.eye(H)[None] / math.sqrt(H)
    L0 = np.array([0.5 * math.log10(H)])
    if T == 0:
        return U0, L0
    U, L = frobenius_rescale(J)  # U[i] = J_{i+1} / ||J_{i+1}||_F, L[i] = log10 ||J_{i+1}||_F
    d = 1
    while d < T:
        # After this level, U[i] (scaled by 10**L[i]) is the product of the 2d factors ending at i.
        P, log_p = frobenius_rescale(U[d:] @ U[:-d])  # (later block) @ (earlier block)
        L = np.concatenate([L[:d], L[d:] + L[:-d] + log_p])
        U = np.concatenate([U[:d], P])
        d *= 2
    return np.concatenate([U0, U]), np.concatenate([L0, L])


def _sequential_products(J: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Same result as `_prefix_products`, one factor at a time: T products (H, H) @ (H, H).

    Cheaper than the scan for large H (T H^3 flops against T log2(T) H^3).
    """
    T, H = J.shape[0], J.shape[1]
    U = np.empty((T + 1, H, H))
    L = np.empty(T + 1)
    scale = 0.5 * math.log10(H)
    U[0], L[0] = np.eye(H) / math.sqrt(H), scale
    for t in range(T):
        P = np.matmul(J[t], U[t], out=U[t + 1])  # in place: no temporary per step
        s = math.sqrt(float(np.vdot(P, P)))
        if s == 0.0:  # an exactly zero product stays zero
            U[t + 1 :], L[t + 1 :] = 0.0, -math.inf
            break
        P *= 1.0 / s
        scale += math.log10(s)
        L[t + 1] = scale
    return U, L


def _diag_step(W: np.ndarray, d: np.ndarray | None, P: np.ndarray, out: np.ndarray) -> float:
    """out = diag(d) W P rescaled to unit Frobenius norm (d None: W P); returns that norm (0: out = 0)."""
    Q = np.matmul(W, P, out=out)
    if d is not None:
        Q *= d[:, None]  # diag(f'(a_t)) W P
    s = math.sqrt(float(np.vdot(Q, Q)))
    if s != 0.0:
        Q *= 1.0 / s
    return s


def _sequential_diag_products(W: np.ndarray, D: np.ndarray | None, T: int,
                              keep: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """`_sequential_products` of the factors J_t = diag(D[t - 1]) W (D (T, H), or None: J_t = W, linear).

    The stack J (T, H, H) is never formed (32 MB at H = 64, T = 1000): each step computes
    diag(d_t) (W P) in place, the same product as (diag(d_t) W) P up to rounding.
    keep: increasing steps in 0..T whose products are returned (None: all): (U (len(keep), H, H),
    L (T + 1,)), L at every step. The others are never stored (the 64 x 64 explorer at T = 1000
    would write 33 MB per update); `product_at` regrows any of them from the nearest kept one.
    """
    H = W.shape[0]
    keep = np.arange(T + 1) if keep is None else np.asarray(keep)
    U = np.empty((len(keep), H, H))
    L = np.empty(T + 1)
    base = 0.5 * math.log10(H)
    P, spare = np.eye(H) / math.sqrt(H), np.empty((H, H))
    L[0], k = base, 0
    if k < len(keep) and keep[k] == 0:
        U[k], k = P, k + 1
    Dc = None if D is None else D[:, :, None]
    matmul, multiply, dot, sqrt, log10 = np.matmul, np.multiply, np.dot, math.sqrt, math.log10
    next_kept = int(keep[k]) if k < len(keep) else -1
    # The running product is 10**base B with B of any size; L[t] = base + log10 ||B_t||_F. B is brought
    # back to unit norm (base absorbing its norm) without a pass of its own: with f' the factor 1/||B||
    # rides on the column diag(f'(a_t)) / ||B|| (H numbers, not H^2); the linear RNN rescales only when
    # ||B|| leaves 1e+-20 (far from over- or underflow in the next products and norms). So most steps
    # cost one product, one row scaling (with f') and one norm.
    s = 1.0  # ||B_0||_F
    flat = {id(P): P.reshape(-1), id(spare): spare.reshape(-1)}  # 1-D views: np.dot of them is 5x faster than vdot
    for t in range(T):  # _diag_step, inlined: at H = 64 the Python around each product costs as much as it
        Q = matmul(W, P, out=spare)
        if Dc is not None:
            multiply(Q, Dc[t] * (1.0 / s), out=Q)  # diag(f'(a_t)) W B / ||B||
            base += log10(s)
        q = flat[id(Q)]
        s = sqrt(float(dot(q, q)))
        P, spare = Q, P
        if s == 0.0:  # an exactly zero product stays zero
            U[k:], L[t + 1 :] = 0.0, -math.inf
            break
        L[t + 1] = base + log10(s)
        if t + 1 == next_kept:
            multiply(P, 1.0 / s, out=U[k])  # kept at unit Frobenius norm
            k += 1
            next_kept = int(keep[k]) if k < len(keep) else -1
        if Dc is None and not 1e-20 < s < 1e20:
            P *= 1.0 / s
            base, s = L[t + 1], 1.0
    return U, L


def _top_gram_eigenvalues(U: np.ndarray, k: int = 3, iterations: int = 4) -> np.ndarray:
    """The largest eigenvalue of U[i]^T U[i] (sigma_max(U[i])^2) for a stack U (n, H, H): exact to rounding.

    A batched subspace iteration with k vectors on G^2, G = U^T U (started from each U's k largest
    rows, near its leading right singular vectors), then Rayleigh-Ritz: the Ritz values
    theta_1 >= ... >= theta_k of G on the subspace, and the unit Ritz vector y of theta_1. Each answer
    is checked by a bound that holds for any such subspace: theta_i <= lambda_i (interlacing), so with
    tau = trace G = the sum of the eigenvalues (all >= 0), lambda_2 <= alpha = tau - theta_1 - theta_3
    - ... - theta_k; when alpha < theta_1, the Kato-Temple inequality gives 0 <= lambda_1 - theta_1 <=
    |G y - theta_1 y|^2 / (theta_1 - alpha). Where that bound is above 1e-14 theta_1 (singular values
    too close to separate: an orthogonal product, the first steps, a zero matrix) the answer comes
    from `np.linalg.eigvalsh` of G instead. Long products of the explorer's factors have a few
    dominant directions, so the fallback is rare there. Several vectors, not one: for a random W with
    rho < 1 sigma_2 / sigma_1 of its products stays near 0.8, where a single vector converges slowly
    and its bound (alpha = tau - theta_1) is too weak.
    """
    U = np.asarray(U, dtype=np.float64)
    n, H = U.shape[0], U.shape[-1]
    if n == 0:
        return np.empty(0)
    k = min(k, H)
    G = np.swapaxes(U, 1, 2) @ U
    scale = np.trace(G, axis1=1, axis2=2).copy()  # ||U||_F^2: the answer scales with it
    scale[scale == 0.0] = 1.0
    G /= scale[:, None, None]  # trace 1: no overflow below
    tau = np.trace(G, axis1=1, axis2=2)
    A = G @ G
    rows = np.argsort(-np.einsum("nij,nij->ni", U, U), axis=1)[:, :k]  # each U's k largest rows
    X = np.swapaxes(U[np.arange(n)[:, None], rows], 1, 2)  # (n, H, k)
    for _ in range(iterations):
        X, _ = np.linalg.qr(A @ X)  # orthonormal columns
    theta, S = np.linalg.eigh(np.swapaxes(X, 1, 2) @ G @ X)  # Ritz values, ascending
    y = X @ S[:, :, -1:]  # the unit Ritz vector of theta_1
    top = theta[:, -1]
    r = G @ y - top[:, None, None] * y
    r2 = np.einsum("nij,nij->n", r, r)
    gap = top - (tau - top - theta[:, : k - 2].sum(axis=1))  # theta_1 - alpha
    ok = (gap > 0.0) & (r2 <= 1e-14 * top * gap)
    if not np.all(ok):
        bad = np.nonzero(~ok)[0]
        top[bad] = np.linalg.eigvalsh(G[bad])[:, -1]
    return top * scale


def prefix_log_norms(J, ord=2) -> np.ndarray:
    """log10 ||J_t J_{t-1} ... J_1|| for t = 0..T: the norms of dh_t/dh_0 from the step Jacobians.

    J (T, H, H) real, J[t - 1] = J_t = dh_t/dh_{t-1} -> (T + 1,), row 0 = log10 ||I||.
    Same numbers as `rnnlib.jacobians.matrix_power_log_norms` (J_t = W) and
    `jacobian_log_norms_from` (J_t = diag(f'(a_t)) W_hh, k = 0), computed differently: a
    Hillis-Steele prefix scan does log2(T) batched matrix products instead of T small ones,
    which is what lets the explorer of notebook 05 redraw T = 1000 in a few milliseconds. Every
    partial product is kept as (unit-norm matrix, log10 of its norm), so nothing under- or
    overflows: 1e-700 comes out as -700. ord: 2 (spectral) or "fro".
    """
    J = check_square_stack("J", J).astype(np.float64, copy=False)
    check_ord(ord)
    U, L = _prefix_products(J)
    return _log_norms(U, L, ord)


def _log_norms(U: np.ndarray, L: np.ndarray, ord=2) -> np.ndarray:
    """log10 of the ord-norms of the products 10**L[t] U[t] (U of unit Frobenius norm; row 0 = I)."""
    if ord == "fro":
        return L.copy()
    out = _log_spectral_norms(U, L)
    out[0] = 0.0  # ||I||_2 = 1 exactly
    return out


def _log_spectral_norms(U: np.ndarray, L: np.ndarray) -> np.ndarray:
    if U.shape[1] == 2:  # closed form for 2 x 2, free of cancellation: sigma_max = (|p| + |q|) / 2
        a, b, c, d = U[:, 0, 0], U[:, 0, 1], U[:, 1, 0], U[:, 1, 1]
        sigma = 0.5 * (np.hypot(a + d, c - b) + np.hypot(a - d, b + c))
        with np.errstate(divide="ignore"):
            return L + np.log10(sigma)
    with np.errstate(divide="ignore"):
        return L + np.log10(np.linalg.norm(U, ord=2, axis=(1, 2)))


# ----------------------------------------------------------------------------------------------
# The RNN of the explorer: h_t = f(W h_{t-1} + u), a constant input u
# ----------------------------------------------------------------------------------------------


def _scalar_sigmoid(a: float) -> float:
    e = math.exp(-abs(a))  # never overflows
    return 1.0 / (1.0 + e) if a >= 0 else e / (1.0 + e)


_SCALAR_F = {"linear": lambda a: a, "tanh": math.tanh, "sigmoid": _scalar_sigmoid, "relu": lambda a: max(a, 0.0)}


def hidden_trajectory(W, h0, T: int, activation: str = "linear", u=None, escape: float = 1e100):
    """Run h_t = f(a_t), a_t = W h_{t-1} + u for t = 1..T: equation (2a) with W_hx x_t + b_h = u.

    W (H, H), h0 (H,), u (H,) or None for zeros -> (h (T + 1, H), a (T + 1, H)) with h[0] = h0
    and a[0] = NaN (row t = step t, as everywhere in rnnlib). A linear RNN whose state grows past
    `escape` in absolute value is stopped there, before it overflows: the remaining rows are NaN.
    Used by notebook 05; for batches and inputs x_t use `rnnlib.forward`.
    """
    W = check_square("W", W).astype(np.float64, copy=False)
    H = W.shape[0]
    h0 = check_vector("h0", h0, H).astype(np.float64, copy=False)
    u = np.zeros(H) if u is None else check_vector("u", u, H).astype(np.float64, copy=False)
    T = check_int("T", T, 0, MAX_STEPS)
    check_work("T", T, H, f"T = {T} for H = {H}", power=2)
    f = check_activation(activation)
    if H == 2:  # the scalar fast path below knows the four built-in activations by name
        check_choice("activation", f.name, tuple(_SCALAR_F))
    escape = check_positive("escape", escape)
    h = np.full((T + 1, H), np.nan)
    a = np.full((T + 1, H), np.nan)
    h[0] = h0
    # Python floats for the 2-D state of the explorer (several times faster than numpy on
    # 2-vectors); numpy for any other size. Same arithmetic either way.
    if H == 2:
        scalar_f = _SCALAR_F[f.name]
        (w11, w12), (w21, w22) = W.tolist()
        u1, u2 = u.tolist()
        x, y = h0.tolist()
        rows_a, rows_h = [], []
        for _ in range(T):
            a1, a2 = w11 * x + w12 * y + u1, w21 * x + w22 * y + u2  # a_t = W h_{t-1} + u
            x, y = scalar_f(a1), scalar_f(a2)  # h_t = f(a_t)
            rows_a.append((a1, a2))
            rows_h.append((x, y))
            if abs(x) > escape or abs(y) > escape:  # unbounded f (linear, relu) only
                break
        n = len(rows_h)
        if n:
            a[1 : n + 1] = rows_a
            h[1 : n + 1] = rows_h
        return h, a
    bounded = f.name in ("tanh", "sigmoid") and escape >= 1.0  # |h_t| <= 1: no escape to look for
    tanh = f.name == "tanh"  # written in place: no temporary per step (the 64 x 64 explorer runs 1000 of them)
    with_u = bool(np.any(u))  # u = 0 (the explorer's default): no addition per step
    for t in range(1, T + 1):
        a_t = np.matmul(W, h[t - 1], out=a[t])
        if with_u:
            a_t += u  # a_t = W h_{t-1} + u
        if tanh:
            np.tanh(a_t, out=h[t])  # h_t = f(a_t)
        else:
            h[t] = f(a_t)  # h_t = f(a_t)
        if not bounded and np.abs(h[t]).max() > escape:
            break
    return h, a


class GradientProfile(NamedTuple):
    """What notebook 05's explorer draws for one setting (every log is log10; row t = step t).

    log_norm (T + 1,): log10 ||dh_t/dh_0||_2, exact where the norm leaves the float range.
    log_rho (T + 1,): t log10 rho(W), the long-run rate (for a linear RNN a lower bound).
    log_bound (T + 1,): t log10(gamma sigma_max(W)), the upper bound of Pascanu et al.
    eigenvalues (H,) complex; rho, sigma_max, gamma: floats.
    h (T + 1, H): the hidden trajectory (NaN after `escaped_at`); escaped_at: the first step at
    which a linear state passed the escape threshold, or None.
    fprime (T + 1, H): f'(a_t), row 0 NaN (no step 0), NaN after an escape; all 1 for linear.
    W (H, H): the recurrent matrix.
    log_scales (T + 1,) and products (n, H, H) at the steps product_steps (n,): dh_t/dh_0 =
    10**log_scales[t] products[i] for t = product_steps[i], each products[i] of unit Frobenius norm
    (0 for an exactly zero product); log_scales is NaN after an escape, and no product is kept there.
    For H <= SCAN_MAX_H product_steps = 0..T (or 0..escaped_at): products[t] is the step-t product.
    For larger H only the norm_steps' products are kept (4 MB instead of 33 MB at H = 64, T = 1000);
    `product_at(profile, t)` gives any step's, regrown from the nearest kept one.
    norm_steps (n,): the steps t at which log_norm is computed: every step for H <= SCAN_MAX_H;
    for larger H at most NORM_GRID + 3 steps spread over 0..T (a spectral norm of a 64 x 64 matrix
    at each of 1000 steps costs 0.2 s); log_norm is NaN at the other steps.
    """

    log_norm: np.ndarray
    log_rho: np.ndarray
    log_bound: np.ndarray
    eigenvalues: np.ndarray
    rho: float
    sigma_max: float
    gamma: float
    h: np.ndarray
    escaped_at: int | None
    activation: str
    fprime: np.ndarray
    W: np.ndarray
    products: np.ndarray
    log_scales: np.ndarray
    norm_steps: np.ndarray
    product_steps: np.ndarray

    @property
    def T(self) -> int:
        """Number of steps."""
        return self.log_norm.shape[0] - 1


def _rate_line(log_rate: float, T: int) -> np.ndarray:
    """t * log_rate for t = 0..T, with 0 at t = 0 even when the rate is 0 (log -inf)."""
    t = np.arange(T + 1, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        line = t * log_rate
    line[0] = 0.0
    return line


SCAN_MAX_H = 8  # up to this size the prefix scan is faster than one product at a time, and every step gets a norm
NORM_GRID = 64  # beyond it, spectral norms at about this many steps: one per 5 pixels of the ~300-pixel norm panel


def _norm_grid(n: int) -> np.ndarray:
    """Steps 0..n at which a large matrix gets its spectral norm: an even grid plus n // 4 and n // 2
    (the steps `grows_exponentially` compares)."""
    if n <= NORM_GRID:
        return np.arange(n + 1)
    return np.unique(np.concatenate([np.round(np.linspace(0, n, NORM_GRID + 1)).astype(int), [n // 4, n // 2]]))


# Small memos of gradient_profile, most recent last (the explorer asks again for the same W when only the
# state, the input or the activation moves): W's eigenvalues, rho and sigma_max by W's bytes, and the
# linear RNN's products and norms by (H, T, W's bytes). Their arrays are read-only: profiles share them.
MEMO_SPECTRA = 16
MEMO_PRODUCTS = 4
_SPECTRA: dict = {}
_LINEAR_PRODUCTS: dict = {}


def _remember(memo: dict, key, value=None, size: int = 0):
    """memo[key], moved to the end (value None), or value stored there as read-only arrays, the oldest
    entries dropped beyond size. Returns the entry."""
    if value is None:
        value = memo.pop(key)
    else:
        for item in value:
            if isinstance(item, np.ndarray):
                item.setflags(write=False)
    memo[key] = value
    while size and len(memo) > size:
        del memo[next(iter(memo))]
    return value


def _products_and_norms(W: np.ndarray, D: np.ndarray | None, T: int, n: int):
    """gradient_profile's products of the factors diag(D[t - 1]) W (D None: W) for t = 1..n of T steps:
    (log_norm (T + 1,), products, log_scales (T + 1,), steps), as GradientProfile describes them."""
    H = W.shape[0]
    log_norm = np.full(T + 1, np.nan)
    if H <= SCAN_MAX_H:
        J = np.broadcast_to(W, (n, H, H)) if D is None else D[:, :, None] * W
        U, L = _prefix_products(np.asarray(J))
        steps = np.arange(n + 1)
        log_norm[: n + 1] = _log_norms(U, L)
    else:  # one product at a time, without forming the stack of factors, kept at the grid steps only
        steps = _norm_grid(n)
        U, L = _sequential_diag_products(W, D, n, keep=steps)
        # sigma_max^2 = the largest eigenvalue of U^T U, all grid steps at once (a checked subspace iteration)
        top = _top_gram_eigenvalues(U)
        with np.errstate(divide="ignore"):
            log_norm[steps] = L[steps] + 0.5 * np.log10(np.maximum(top, 0.0))
        log_norm[0] = 0.0  # ||I||_2 = 1 exactly
    log_scales = np.full(T + 1, np.nan)  # NaN after an escaped state: no products after it
    log_scales[: n + 1] = L
    return log_norm, U, log_scales, steps


def gradient_profile(W, T: int, activation: str = "linear", u=None, h0=None, escape: float = 1e100) -> GradientProfile:
    """||dh_t/dh_0|| for t = 0..T of h_t = f(W h_{t-1} + u), with its two reference rates.

    W (H, H), T >= 0, u (H,) or None, h0 (H,) or None (zeros; a linear RNN's Jacobian does
    not depend on it). For the linear RNN dh_t/dh_0 = W^t; otherwise
    dh_t/dh_0 = prod_{i=1}^{t} diag(f'(a_i)) W with f' at the pre-activation a_i.
    Returns a GradientProfile (notebook 05).
    """
    W = check_square("W", W).astype(np.float64, copy=False)
    H = W.shape[0]
    T = check_int("T", T, 0, MAX_STEPS)
    check_work("T", T, H, f"T = {T} for H = {H}")
    f = check_activation(activation)
    u = None if u is None else check_vector("u", u, H)
    h0 = np.zeros(H) if h0 is None else check_vector("h0", h0, H)
    escape = check_positive("escape", escape)
    h, a = hidden_trajectory(W, h0, T, f.name, u, escape)
    with np.errstate(invalid="ignore"):
        out = np.nonzero(np.abs(h).max(axis=1) > escape)[0]  # NaN rows compare False
    escaped_at = int(out[0]) if out.size else None
    fprime = np.full((T + 1, H), np.nan)
    if f.name == "linear":
        n = T  # dh_t/dh_{t-1} = W for every t, whatever the state
        fprime[1:] = 1.0
    else:
        # f' needs the state; after an escape (relu) there is none: the curve stops there (NaN).
        n = T if escaped_at is None else escaped_at
        fprime[1 : n + 1] = f.derivative(a[1 : n + 1], h[1 : n + 1])  # f'(a_t), (n, H)
    D = None if f.name == "linear" else fprime[1 : n + 1]  # diag(f'(a_t)) W, t = 1..n
    key = W.tobytes()
    linear_key = (H, n, key) if D is None else None  # the linear RNN's products depend on W and T only
    if linear_key in _LINEAR_PRODUCTS:
        log_norm, U, log_scales, steps = _remember(_LINEAR_PRODUCTS, linear_key)
    else:
        log_norm, U, log_scales, steps = _products_and_norms(W, D, T, n)
        if linear_key is not None:
            _remember(_LINEAR_PRODUCTS, linear_key, (log_norm, U, log_scales, steps), MEMO_PRODUCTS)
    if key not in _SPECTRA:
        lam = np.linalg.eigvals(W)
        _remember(_SPECTRA, key, (lam, float(np.max(np.abs(lam))), float(np.linalg.norm(W, ord=2))), MEMO_SPECTRA)
    lam, rho, sigma_max = _remember(_SPECTRA, key)
    with np.errstate(divide="ignore"):
        log_rho, log_gs = np.log10(rho), np.log10(f.gamma * sigma_max)
    return GradientProfile(
        log_norm=log_norm,
        log_rho=_rate_line(log_rho, T),
        log_bound=_rate_line(log_gs, T),
        eigenvalues=lam,
        rho=rho,
        sigma_max=sigma_max,
        gamma=f.gamma,
        h=h,
        escaped_at=escaped_at,
        activation=f.name,
        fprime=fprime,
        W=W,
        products=U,
        log_scales=log_scales,
        norm_steps=steps,
        product_steps=steps,
    )


def product_at(profile: GradientProfile, t: int) -> tuple[np.ndarray, float]:
    """(U (H, H), L) with dh_t/dh_0 = 10**L U and ||U||_F = 1 (U = 0, L = -inf for a zero product).

    The kept product (`GradientProfile.product_steps`) if there is one, else the nearest kept one
    before t times the factors diag(f'(a_i)) W up to t, the same arithmetic as when the profile was
    computed (at most a few 64 x 64 products: the scrubber never recomputes the profile). After an
    escape: all NaN.
    """
    profile = check_profile(profile, GradientProfile)
    t = check_int("t", t, 0, profile.T, high_name="T")
    L = float(profile.log_scales[t])
    H = profile.W.shape[0]
    if math.isnan(L):
        return np.full((H, H), np.nan), L
    steps = profile.product_steps
    i = int(np.searchsorted(steps, t, side="right")) - 1  # the last kept step <= t (step 0 is always kept)
    P = profile.products[i]
    if steps[i] == t or L == -math.inf:
        return (P if L != -math.inf else np.zeros((H, H))), L
    P, spare = P.copy(), np.empty((H, H))
    linear = profile.activation == "linear"
    for step in range(int(steps[i]) + 1, t + 1):
        _diag_step(profile.W, None if linear else profile.fprime[step], P, spare)
        P, spare = spare, P
    return P, L


def log_singular_values_at(profile: GradientProfile, t: int) -> np.ndarray:
    """log10 of the singular values of dh_t/dh_0, largest first, (H,): exact beyond the float range.

    sigma_max and sigma_min of the product are the semi-axes of the ellipse into which it maps
    the unit sphere (the explorer's fourth panel). All NaN after an escape; -inf for a zero one.
    Exact means to rounding relative to the largest: a singular value below about 1e-16 sigma_max
    (a long contracting product of H > 2 factors) is rounding noise, and its digits are not meaningful.
    """
    P, L = product_at(profile, t)
    s = np.linalg.svd(P, compute_uv=False) if np.isfinite(L) else None
    if s is None:
        value = -np.inf if L == -np.inf else np.nan
        return np.full(profile.W.shape[0], value)
    with np.errstate(divide="ignore"):
        return L + np.log10(s)


def unit_circle_image(profile: GradientProfile, t: int, n: int = 121) -> tuple[np.ndarray, np.ndarray]:
    """The image of the unit circle under dh_t/dh_0 / 10**L, L = log10 sigma_max: (points (n, 2), L).

    2 x 2: the points P [cos phi, sin phi] of the ellipse, scaled so its major semi-axis is 1 (the
    true one is 10**L, possibly far outside the float range). H > 2: the same for the circle in
    the plane of the two leading right singular vectors, drawn in the coordinates of the two
    leading left ones, so the semi-axes are sigma_1 and sigma_2 (scaled). Zero or NaN product:
    points all 0 or NaN, L = -inf or NaN.
    """
    P, L_t = product_at(profile, t)
    n = check_int("n", n, 2, 10**6)
    phi = np.linspace(0.0, 2 * np.pi, n)
    circle = np.stack([np.cos(phi), np.sin(phi)])  # (2, n)
    if not np.isfinite(L_t):
        fill = 0.0 if L_t == -np.inf else np.nan
        return np.full((n, 2), fill), L_t
    # Singular values only (no singular vectors, which cost 30 times more at H = 64 on a busy machine).
    s = np.linalg.svd(P, compute_uv=False)
    if s[0] == 0.0:
        return np.zeros((n, 2)), -math.inf
    L = L_t + math.log10(s[0])
    if P.shape[0] == 2:
        return (P @ circle).T / s[0], L
    return (np.diag(s[:2]) @ circle).T / s[0], L  # in the bases of the leading singular vectors


# ----------------------------------------------------------------------------------------------
# Words: numbers far outside the float range, and the verdict line
# ----------------------------------------------------------------------------------------------


def format_pow10(log10_value: float, digits: int = 2) -> str:
    """Write 10**log10_value as '2.3e-460' without ever forming the float (which may not exist).

    -inf gives '0' (an exactly zero product), +inf 'inf'. digits: significant digits.
    """
    x = check_extended_real("log10_value", log10_value)
    digits = check_int("digits", digits, 1, 17)
    if x == -math.inf:
        return "0"
    if math.isnan(x):
        return "nan"
    if x == math.inf:
        return "inf"
    exponent = math.floor(x)
    mantissa = round(10 ** (x - exponent), digits - 1)
    if mantissa >= 10:  # 9.99 rounds to 10.0: write 1.0e+01
        mantissa, exponent = mantissa / 10, exponent + 1
    if -1 <= exponent <= 1:  # 0.1 .. 99: plain decimals read better
        return f"{mantissa * 10.0**exponent:.{max(digits - 1 - exponent, 0)}f}"
    return f"{mantissa:.{digits - 1}f}e{exponent:+03d}"


def grows_exponentially(profile: GradientProfile) -> bool:
    """Whether ||dh_t/dh_0|| grows exponentially in t (explodes), not just polynomially.

    Linear RNN: exactly when rho(W) > 1, because ||W^t||^(1/t) -> rho (Gelfand's formula); at
    rho = 1 a Jordan block of size m grows like t^(m-1) (like t for the 2 x 2 explorer), which is
    polynomial growth (notebook 05, section 4).
    Nonlinear RNN, which has no such formula: judged from the curve L(t) = log10 ||dh_t/dh_0||.
    Exponential growth adds the same amount to L per step at any t; polynomial growth t^k adds
    k log10(2) per doubling of t, so its per-step rise over [T/2, T] is half that over [T/4, T/2].
    Counted as exponential when the later per-step rise is positive and at least 3/4 of the earlier.
    """
    profile = check_profile(profile, GradientProfile)
    if profile.activation == "linear":
        return profile.rho > 1.0 + RHO_ONE_TOL
    L = profile.log_norm
    T = int(np.flatnonzero(~np.isnan(L))[-1])  # the last step with a value (an escaped relu stops early)
    q, h = T // 4, T // 2
    if q < 1 or h <= q or not np.all(np.isfinite(L[[q, h, T]])):
        return bool(L[T] > 0)
    early = (L[h] - L[q]) / (h - q)
    late = (L[T] - L[h]) / (T - h)
    return bool(late > 0 and late >= 0.75 * early)


class Verdict(NamedTuple):
    """The fate of dh_T/dh_0 in parts: word (one of VERDICT_WORDS) and line (the numbers behind it).

    `text` joins them as the explorer's title shows it: 'vanishes: ||dh_t/dh_0|| = 2.7e-05 after 100 steps'.
    """

    word: str
    line: str

    @property
    def text(self) -> str:
        return f"{self.word}: {self.line}"


def verdict(profile: GradientProfile) -> Verdict:
    """The fate of dh_T/dh_0 as (word, line), e.g. ('vanishes', '||dh_t/dh_0|| = 1.0e-12 after 100 steps').

    Vanishes below 1e-3, survives between 1e-3 and 1e3. Above 1e3 it explodes only if the
    growth is exponential (`grows_exponentially`); otherwise a linear RNN says 'grows
    polynomially (rho = 1)' or, with rho < 1, 'grows for now (rho < 1, transient)', and a
    nonlinear one 'grows, not exponentially'. The word is one of VERDICT_WORDS. A peak at
    least 10 times above both the start (1) and the end is reported as transient growth (non-normal W).
    """
    L = check_profile(profile, GradientProfile).log_norm
    T = int(np.flatnonzero(~np.isnan(L))[-1])  # the last step with a value (an escaped relu stops early)
    end = L[T]
    if end <= VANISH_LOG10:
        word = "vanishes"
    elif end < EXPLODE_LOG10:
        word = "survives"
    elif grows_exponentially(profile):
        word = "explodes"
    elif profile.activation != "linear":
        word = "grows, not exponentially"
    elif profile.rho >= 1.0 - RHO_ONE_TOL:
        word = "grows polynomially (ρ = 1)"
    else:
        word = "grows for now (ρ < 1, transient)"
    line = f"‖∂h_t/∂h_0‖ = {format_pow10(end)} after {T} steps"
    if T < profile.T:
        line += f" (h_t left the plotted range at t = {profile.escaped_at}; stopped there)"
    peak_t = int(np.nanargmax(L))
    if L[peak_t] >= max(end, 0.0) + 1.0:
        line += f", after growing to {format_pow10(L[peak_t])} at t = {peak_t} (transient growth)"
    return Verdict(word, line)


# ----------------------------------------------------------------------------------------------
# The explorer's model: its settings -> W_hh, h_0, u -> profile; its presets
# ----------------------------------------------------------------------------------------------

EXPLORER_KINDS = ("real", "complex", "8x8 example", "random", "orthogonal")
EXPLORER_ACTIVATIONS = ("linear", "tanh", "sigmoid", "relu")
EXPLORER_DEFAULTS = dict(kind="real", r1=0.9, r2=0.5, angle=30.0, shear=0.0, size=16, activation="linear",
                         u=0.0, h0_1=0.8, h0_2=-0.4, T=100, t=100)
EXPLORER_RANGES = {  # name -> (min, max, step) of each slider
    "r1": (-2.0, 2.0, 0.01),
    "r2": (-2.0, 2.0, 0.01),
    "angle": (0.0, 180.0, 1.0),
    "shear": (0.0, 10.0, 0.1),
    "size": (4, 64, 4),
    "u": (0.0, 3.0, 0.05),
    "h0_1": (-1.5, 1.5, 0.05),
    "h0_2": (-1.5, 1.5, 0.05),
    "T": (10, 1000, 10),
    "t": (0, 1000, 1),
}
EXPLORER_INTS = ("size", "T", "t")
EXPLORER_ESCAPE = 1e100  # a linear (or relu) state this large is stopped before it overflows
U_DIRECTION_2D = (0.6, 0.8)  # the constant input of the 2 x 2 explorer is u * U_DIRECTION_2D
MATRIX_SEED = 0  # the random and orthogonal H x H matrices are seeded: the same settings, the same W


def explorer_settings(**settings) -> dict:
    """All the explorer's settings, checked: the given ones over EXPLORER_DEFAULTS.

    The scrubbed step t defaults to T. A name outside EXPLORER_DEFAULTS, a kind or activation outside
    its list, a value outside EXPLORER_RANGES or t > T is a ValueError naming it.
    """
    unknown = set(settings) - set(EXPLORER_DEFAULTS)
    if unknown:
        raise ValueError(f"settings: expected names among {sorted(EXPLORER_DEFAULTS)}, got {sorted(unknown)}")
    s = {**EXPLORER_DEFAULTS, **settings}
    if "t" not in settings:  # the scrubber defaults to the last step
        s["t"] = s["T"]
    check_choice("kind", s["kind"], EXPLORER_KINDS)
    check_choice("activation", s["activation"], EXPLORER_ACTIVATIONS)
    for name, (low, high, _) in EXPLORER_RANGES.items():
        if name in EXPLORER_INTS:
            s[name] = check_int(name, s[name], low, high)
        else:
            s[name] = check_real(name, s[name], low, high)
    s["t"] = check_int("t", s["t"], 0, s["T"], high_name="T")
    return s


def explorer_size(kind: str, size: int) -> int:
    """H, the number of hidden units, of an explorer matrix kind: 2, 8, or `size`."""
    return {"real": 2, "complex": 2, "8x8 example": 8}.get(kind, size)


def explorer_matrix(kind="real", r1=0.9, r2=0.5, angle=30.0, shear=0.0, size=16, **_) -> np.ndarray:
    """The explorer's W_hh (H, H) for one setting; extra keyword arguments (a whole settings dict) are ignored.

    real: eigenvalues r1, r2 (either sign: a negative one flips the sign of its component every
        step), W = [[r1, shear], [0, r2]] (`triangular_2x2`);
    complex: eigenvalues r1 e^{+-i angle} (angle in degrees), W = sign(r1) `complex_pair_2x2(|r1|, angle, shear)`;
    8x8 example: notebook 05's section 5 matrix, diag(0.9 ... 0.8) plus ones above the diagonal;
    random: size x size Gaussian (seeded), rescaled to spectral radius |r1|;
    orthogonal: r1 times a seeded random orthogonal size x size matrix (every |lambda| = sigma = |r1|).
    """
    s = explorer_settings(kind=kind, r1=r1, r2=r2, angle=angle, shear=shear, size=size)
    kind, r1, r2, angle, shear, size = (s[name] for name in ("kind", "r1", "r2", "angle", "shear", "size"))
    if kind == "real":
        return triangular_2x2(r1, r2, shear)
    if kind == "complex":
        return math.copysign(1.0, r1) * complex_pair_2x2(abs(r1), math.radians(angle), shear)
    if kind == "8x8 example":
        return np.diag(np.linspace(0.9, 0.8, 8)) + np.eye(8, k=1)
    if kind == "random":  # = init_recurrent(size, "gaussian", spectral_radius=|r1|, seed=MATRIX_SEED), bit for bit
        base, rho = _seeded_matrix("gaussian", size)
        return base * (abs(r1) / rho)
    if kind == "orthogonal":
        return r1 * _seeded_matrix("orthogonal", size)[0]
    raise ValueError(f"kind: expected one of {EXPLORER_KINDS}, got {kind!r}")


@functools.lru_cache(maxsize=64)
def _seeded_matrix(kind: str, size: int) -> tuple[np.ndarray, float]:
    """(init_recurrent(size, kind, seed=MATRIX_SEED), its spectral radius), made once per (kind, size):
    moving r1 only rescales it, so the explorer does not draw it and compute its eigenvalues again on
    every move. The same arithmetic as `rnnlib.core._with_spectral_radius`; read-only (shared)."""
    from .remedies import init_recurrent  # one home for the random initializations

    W = init_recurrent(size, kind, seed=MATRIX_SEED)
    W.setflags(write=False)
    return W, np.max(np.abs(np.linalg.eigvals(W)))


def explorer_state(kind="real", size=16, u=0.0, h0_1=0.8, h0_2=-0.4, **_) -> tuple[np.ndarray, np.ndarray]:
    """(h_0, u) as vectors (H,) for one setting: h_0 = (h0_1, h0_2, 0, ..., 0); the input is u times
    (0.6, 0.8) for H = 2, else u times a seeded random unit vector."""
    s = explorer_settings(kind=kind, size=size, u=u, h0_1=h0_1, h0_2=h0_2)
    kind, size, u, h0_1, h0_2 = (s[name] for name in ("kind", "size", "u", "h0_1", "h0_2"))
    H = explorer_size(kind, size)
    h0 = np.zeros(H)
    h0[:2] = h0_1, h0_2
    if H == 2:
        direction = np.array(U_DIRECTION_2D)
    else:
        direction = np.random.default_rng(MATRIX_SEED + 1).standard_normal(H)
        direction /= np.linalg.norm(direction)
    return h0, u * direction


def explorer_profile(**settings) -> GradientProfile:
    """The GradientProfile the explorer draws for these settings (names as in EXPLORER_DEFAULTS)."""
    s = explorer_settings(**settings)
    h0, u = explorer_state(**s)
    return gradient_profile(explorer_matrix(**s), s["T"], s["activation"], u=u, h0=h0, escape=EXPLORER_ESCAPE)


def explorer_controls_used(kind: str) -> tuple[str, ...]:
    """The matrix sliders that act for this kind (the explorer disables the others)."""
    check_choice("kind", kind, EXPLORER_KINDS)
    return {"real": ("r1", "r2", "shear"), "complex": ("r1", "angle", "shear"), "8x8 example": (),
            "random": ("r1", "size"), "orthogonal": ("r1", "size")}[kind]


def principal_components(h: np.ndarray) -> np.ndarray:
    """The states h (T + 1, H) in the plane of their two leading principal directions -> (T + 1, 2).

    Centred on the mean of the finite rows; NaN rows stay NaN. For H = 2 it returns h unchanged
    (the explorer draws the state itself). Signs are fixed so the largest |coordinate| of each
    direction is positive (the picture does not flip from one setting to the next).
    """
    h = check_trajectory("h", h).astype(np.float64, copy=False)
    if h.shape[1] == 2:
        return h
    ok = np.all(np.isfinite(h), axis=1)
    centred = h - h[ok].mean(axis=0)
    _, vectors = np.linalg.eigh(centred[ok].T @ centred[ok])  # the covariance's eigenvectors, ascending
    V = vectors[:, [-1, -2]]  # (H, 2): the two leading principal directions
    V = V * np.sign(V[np.argmax(np.abs(V), axis=0), [0, 1]])
    return centred @ V


class Preset(NamedTuple):
    """A named regime of the explorer: settings (over EXPLORER_DEFAULTS), a one-line story, and the
    verdict word its profile must get (tests hold every story to it)."""

    settings: dict
    story: str
    word: str


PRESETS = {
    "vanishing": Preset(
        dict(kind="complex", r1=0.9, angle=30.0, T=100),
        "|λ| = 0.9 < 1 and W is normal: ‖W^t‖ = 0.9^t, below 1e-3 after 66 steps.", "vanishes"),
    "exploding": Preset(
        dict(kind="complex", r1=1.08, angle=20.0, T=100),
        "ρ = 1.08 > 1: ‖W^t‖ = 1.08^t grows exponentially, 2200-fold in 100 steps.", "explodes"),
    "rotation on the unit circle": Preset(
        dict(kind="complex", r1=1.0, angle=30.0, T=1000),
        "|λ| = 1 and W is a rotation: h turns 30° a step, its length and ‖∂h_t/∂h_0‖ = 1 stay put.", "survives"),
    "negative eigenvalue": Preset(
        dict(kind="real", r1=-0.95, r2=0.5, T=200),
        "λ₁ = −0.95: h_t[0] flips sign every step; the norm sees only |λ₁| = 0.95 and vanishes.", "vanishes"),
    "Jordan-type block": Preset(
        dict(kind="real", r1=1.0, r2=1.0, shear=5.0, T=1000),
        "A double eigenvalue 1 with one eigenvector: ‖W^t‖ ≈ 5t, polynomial growth with no |λ| > 1.",
        "grows polynomially (ρ = 1)"),
    "non-normal transient": Preset(
        dict(kind="real", r1=0.95, r2=0.94, shear=10.0, T=300),
        "|λ| = 0.95, 0.94 < 1, yet shear 10 makes ‖W^t‖ grow 69-fold by t = 18 before ρ^t wins.", "vanishes"),
    "tanh saturation": Preset(
        dict(kind="real", r1=1.5, r2=1.2, activation="tanh", T=100),
        "ρ = 1.5, yet tanh saturates: the state settles where f' is small and every step contracts.", "vanishes"),
    "tanh: quasi-periodic drift": Preset(
        dict(kind="complex", r1=1.5, angle=30.0, activation="tanh", T=1000),
        "ρ = 1.5 turning 30°: the state turns about 29° a step without repeating; the gradient survives.",
        "survives"),
    "tanh: mode-locked cycle": Preset(
        dict(kind="complex", r1=1.5, angle=90.0, activation="tanh", T=1000),
        "ρ = 1.5 turning 90°: the state locks onto a 4-cycle, along which each lap contracts: about 1e-403 at T = 1000.",
        "vanishes"),
    "sigmoid, γ = 1/4": Preset(
        dict(kind="real", r1=2.0, r2=2.0, activation="sigmoid", T=100),
        "ρ = σ_max = 2, but f' ≤ 1/4: (γσ_max)^t = 0.5^t forces vanishing.", "vanishes"),
    "ReLU, identity W": Preset(
        dict(kind="real", r1=1.0, r2=1.0, activation="relu", T=1000),
        "W = I with ReLU: unit 1 passes the gradient on unchanged (norm 1); unit 2 starts negative, dead (f' = 0).",
        "survives"),
    "below the float range": Preset(
        dict(kind="real", r1=0.3, r2=0.3, T=1000),
        "0.3^1000 = 1.3e-523: float64 rounds it to 0; the running log-norm keeps it exact.", "vanishes"),
    "8 × 8 non-normal (§5)": Preset(
        dict(kind="8x8 example", T=500),
        "Eight eigenvalues in [0.8, 0.9], nearly parallel eigenvectors: 100 000-fold growth before decay.",
        "vanishes"),
    "orthogonal 64 × 64": Preset(
        dict(kind="orthogonal", r1=1.0, size=64, T=1000),
        "Every singular value is 1: ‖W^t‖ = 1 for ever, the unit circle maps onto itself.", "survives"),
}
for _name, _preset in PRESETS.items():  # every preset ends with the scrubber at T
    _preset.settings.setdefault("t", _preset.settings.get("T", EXPLORER_DEFAULTS["T"]))
del _name, _preset
