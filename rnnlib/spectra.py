"""Eigenvalues, singular values and the fate of dh_t/dh_0 in a small RNN (notebook 05).

The linear RNN h_t = W h_{t-1} has dh_t/dh_0 = W^t. With W = V diag(lambda) V^{-1},
W^t = V diag(lambda)^t V^{-1}, so the spectral radius rho(W) = max |lambda| sets the long-run
rate: ||W^t||^(1/t) -> rho. It does not set every step: for every t,

    rho^t  <=  ||W^t||_2  <=  sigma_max(W)^t,

and a non-normal W (eigenvectors far from orthogonal) can keep growing for a long while, far
above the lower end (though soon below the upper one), before the lower end takes over. With a
nonlinearity, dh_t/dh_0 = prod diag(f'(a_i)) W and ||dh_t/dh_0||_2 <= (gamma sigma_max)^t,
gamma = max |f'| (Pascanu, Mikolov and Bengio 2013).

This module holds the numpy computations behind notebook 05's eigenvalue explorer
(`rnnlib.explorer`): the 2 x 2 matrices with chosen eigenvalues and non-normality, the hidden
trajectory under a constant input, the log-norm profile of dh_t/dh_0 (exact even far outside
the float range) and a one-line verdict. "Explodes" there means exponential growth; a linear RNN
with rho = 1 and a Jordan-type block grows only polynomially (like t) and is called that.
It imports numpy only.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ._checks import check_int, check_ord, check_real
from .activations import get_activation
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
    "VERDICT_WORDS",
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
    W = np.asarray(W)
    lam = np.linalg.eigvals(W)
    d2 = float(np.sum(np.abs(W) ** 2) - np.sum(np.abs(lam) ** 2))
    return math.sqrt(max(d2, 0.0))


# ----------------------------------------------------------------------------------------------
# log10 ||J_t ... J_1|| for all t at once: a parallel prefix product with rescaling
# ----------------------------------------------------------------------------------------------


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
    J = np.asarray(J, dtype=np.float64)
    if J.ndim != 3 or J.shape[1] != J.shape[2]:
        raise ValueError(f"J: expected a stack of square matrices (T, H, H), got shape {J.shape}")
    if not np.all(np.isfinite(J)):
        raise ValueError("J: expected finite values, got NaN or inf")
    check_ord(ord)
    T, H = J.shape[0], J.shape[1]
    out = np.empty(T + 1)
    out[0] = 0.0 if ord == 2 else 0.5 * math.log10(H)
    if T == 0:
        return out
    U, L = frobenius_rescale(J)  # U[i] = J_{i+1} / ||J_{i+1}||_F, L[i] = log10 ||J_{i+1}||_F
    d = 1
    while d < T:
        # After this level, U[i] (scaled by 10**L[i]) is the product of the 2d factors ending at i.
        P, log_p = frobenius_rescale(U[d:] @ U[:-d])  # (later block) @ (earlier block)
        L = np.concatenate([L[:d], L[d:] + L[:-d] + log_p])
        U = np.concatenate([U[:d], P])
        d *= 2
    if ord == "fro":
        out[1:] = L
    else:
        with np.errstate(divide="ignore"):
            out[1:] = L + np.log10(np.linalg.norm(U, ord=2, axis=(1, 2)))
    return out


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
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W: expected a square matrix (H, H), got shape {W.shape}")
    H = W.shape[0]
    h0 = np.asarray(h0, dtype=np.float64)
    if h0.shape != (H,):
        raise ValueError(f"h0: expected shape ({H},), got {h0.shape}")
    u = np.zeros(H) if u is None else np.asarray(u, dtype=np.float64)
    if u.shape != (H,):
        raise ValueError(f"u: expected shape ({H},), got {u.shape}")
    T = check_int("T", T, 0)
    f = get_activation(activation)
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
    for t in range(1, T + 1):
        a[t] = W @ h[t - 1] + u  # a_t = W h_{t-1} + u
        h[t] = f(a[t])  # h_t = f(a_t)
        if np.max(np.abs(h[t])) > escape:
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


def gradient_profile(W, T: int, activation: str = "linear", u=None, h0=None, escape: float = 1e100) -> GradientProfile:
    """||dh_t/dh_0|| for t = 0..T of h_t = f(W h_{t-1} + u), with its two reference rates.

    W (H, H), T >= 0, u (H,) or None, h0 (H,) or None (zeros; a linear RNN's Jacobian does
    not depend on it). For the linear RNN dh_t/dh_0 = W^t; otherwise
    dh_t/dh_0 = prod_{i=1}^{t} diag(f'(a_i)) W with f' at the pre-activation a_i.
    Returns a GradientProfile (notebook 05).
    """
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W: expected a square matrix (H, H), got shape {W.shape}")
    if not np.all(np.isfinite(W)):
        raise ValueError("W: expected finite values, got NaN or inf")
    H = W.shape[0]
    f = get_activation(activation)
    h0 = np.zeros(H) if h0 is None else h0
    h, a = hidden_trajectory(W, h0, T, f.name, u, escape)
    with np.errstate(invalid="ignore"):
        out = np.nonzero(np.abs(h).max(axis=1) > escape)[0]  # NaN rows compare False
    escaped_at = int(out[0]) if out.size else None
    log_norm = np.full(T + 1, np.nan)
    if f.name == "linear":
        J = np.broadcast_to(W, (T, H, H))  # dh_t/dh_{t-1} = W for every t, whatever the state
        log_norm[:] = prefix_log_norms(J)
    else:
        # f' needs the state; after an escape (relu) there is none: the curve stops there (NaN).
        n = T if escaped_at is None else escaped_at
        fprime = f.derivative(a[1 : n + 1], h[1 : n + 1])  # f'(a_t), (n, H)
        log_norm[: n + 1] = prefix_log_norms(fprime[:, :, None] * W)  # diag(f'(a_t)) W
    lam = np.linalg.eigvals(W)
    rho = float(np.max(np.abs(lam)))
    sigma_max = float(np.linalg.norm(W, ord=2))
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
    )


# ----------------------------------------------------------------------------------------------
# Words: numbers far outside the float range, and the verdict line
# ----------------------------------------------------------------------------------------------


def format_pow10(log10_value: float, digits: int = 2) -> str:
    """Write 10**log10_value as '2.3e-460' without ever forming the float (which may not exist).

    -inf gives '0' (an exactly zero product), +inf 'inf'. digits: significant digits.
    """
    x = float(log10_value)
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
    rho = 1 a Jordan-type block grows like t, which is polynomial growth (notebook 05, section 4).
    Nonlinear RNN, which has no such formula: judged from the curve L(t) = log10 ||dh_t/dh_0||.
    Exponential growth adds the same amount to L per step at any t; polynomial growth t^k adds
    k log10(2) per doubling of t, so its per-step rise over [T/2, T] is half that over [T/4, T/2].
    Counted as exponential when the later per-step rise is positive and at least 3/4 of the earlier.
    """
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


def verdict(profile: GradientProfile) -> str:
    """One line on the fate of dh_T/dh_0: 'vanishes: ||dh_t/dh_0|| = 1.0e-12 after 100 steps'.

    Vanishes below 1e-3, survives between 1e-3 and 1e3. Above 1e3 it explodes only if the
    growth is exponential (`grows_exponentially`); otherwise a linear RNN says 'grows
    polynomially (rho = 1)' or, with rho < 1, 'grows for now (rho < 1, transient)', and a
    nonlinear one 'grows, not exponentially'. The line opens with one of VERDICT_WORDS. A peak at
    least 10 times above both the start (1) and the end is reported as transient growth (non-normal W).
    """
    L = profile.log_norm
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
    line = f"{word}: ‖∂h_t/∂h_0‖ = {format_pow10(end)} after {T} steps"
    if T < profile.T:
        line += f" (h_t left the plotted range at t = {profile.escaped_at}; stopped there)"
    peak_t = int(np.nanargmax(L))
    if L[peak_t] >= max(end, 0.0) + 1.0:
        line += f", after growing to {format_pow10(L[peak_t])} at t = {peak_t} (transient growth)"
    return line
