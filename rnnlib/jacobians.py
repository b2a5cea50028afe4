"""Norms of long Jacobian products, kept exact as log-norms (notebooks 04 and 05).

The product dh_t/dh_k = prod_{i=k+1}^{t} diag(f'(a_i)) W_hh shrinks or grows geometrically in
t - k. Forming it and taking `np.linalg.norm` fails twice over: the entries underflow to 0 below
about 1e-308 (or overflow to inf above 1e308), and forming every product from scratch costs
O(T^2) matrix products. Here the product is propagated once, one factor per step, and rescaled
to unit Frobenius norm whenever it drifts far from 1; the scale that was divided out is added to
a running log10-norm. The returned numbers are log10 of the norms, exact to rounding even when the norm
itself (say 1e-700) is far outside the floating-point range.

    log10 ||P_k|| = (sum of log10 of the scales divided out so far) + log10 ||P_k / scale||

(The running product is rescaled only when its norm leaves [1e-100, 1e100], which is all that
float64 needs; the norms of every row are then taken at once.)
Norms: ord=2 is the spectral norm (largest singular value), the norm in the bound of Pascanu,
Mikolov and Bengio (2013), ||dh_t/dh_k||_2 <= (gamma sigma_max(W_hh))^(t-k). It needs one small
SVD per row. ord="fro" is the Frobenius norm, free once the product is rescaled, and within a
factor sqrt(H) of the spectral norm: ||P||_2 <= ||P||_F <= sqrt(H) ||P||_2.
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import (MAX_STEPS, check_finite_trace, check_int, check_one_sequence, check_ord, check_params,
                      check_result_size, check_square, check_vector, check_work)
from .containers import RNNParams, Trace
from .core import _check_sequence, _forward, _fprimes, _step_jacobian

__all__ = [
    "jacobian_log_norms",
    "jacobian_log_norms_from",
    "jacobian_log_singular_values",
    "matrix_power_log_norms",
    "naive_log_norms",
    "memory_norms",
    "fade_rate",
]


def frobenius_rescale(P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Divide each matrix of the stack P (B, H, H) by its Frobenius norm; return (P, log10 norms).

    Works for real and complex stacks. A zero matrix stays zero and gets log10 norm -inf.
    Package-internal (not in __all__); `spectra.prefix_log_norms` uses it too.
    """
    flat = P.reshape(P.shape[0], -1)
    s = np.sqrt(np.linalg.vecdot(flat, flat).real)  # vecdot conjugates its first argument
    with np.errstate(divide="ignore"):
        log_s = np.log10(s)
    inv = np.divide(1.0, s, out=np.zeros_like(s), where=s > 0)
    return P * inv[:, None, None], log_s


def _times(P: np.ndarray, M: np.ndarray) -> np.ndarray:
    """P @ M for a stack P (B, H, H) and one matrix M (H, H), as a single 2-D matrix product.

    Same numbers as the broadcast `P @ M`, which numpy runs as B small products (slower for the
    many short calls of a running product).
    """
    B, H, _ = P.shape
    return (P.reshape(B * H, H) @ M).reshape(B, H, H)


def _running_products(B: int, H: int, n: int, step, dtype=np.float64, keep: bool = False):
    """P_0 = I, P_j = step(P_{j-1}, j) for j = 1..n, for a batch of B matrices (H, H).

    Returns (log10 ||P_j||_F as (n + 1, B), stack (n + 1, B, H, H) of P_j / 10**log_scale_j or
    None, log_scale (n + 1, B)). The stack is only kept when `keep` (for spectral norms and
    singular values). P is rescaled only when its squared norm leaves [1e-200, 1e200], so nothing
    under- or overflows and most steps cost one matrix product and one norm.
    """
    P = np.broadcast_to(np.eye(H, dtype=dtype), (B, H, H)).copy()
    sq = np.empty((n + 1, B))  # ||P_j / 10**log_scale_j||_F^2
    log_scale = np.zeros((n + 1, B))
    stack = np.empty((n + 1, B, H, H), dtype=dtype) if keep else None
    scale = np.zeros(B)
    for j in range(n + 1):
        if j > 0:
            P = step(P, j)
        flat = P.reshape(B, -1)
        sq_j = np.linalg.vecdot(flat, flat).real
        if not (1e-200 < sq_j.min() and sq_j.max() < 1e200):
            P, log_s = frobenius_rescale(P)
            scale = scale + np.where(np.isfinite(log_s), log_s, 0.0)  # a zero product stays zero
            flat = P.reshape(B, -1)
            sq_j = np.linalg.vecdot(flat, flat).real
        sq[j], log_scale[j] = sq_j, scale
        if keep:
            stack[j] = P
    with np.errstate(divide="ignore"):
        log_fro = log_scale + 0.5 * np.log10(sq)
    return log_fro, stack, log_scale


def _log_spectral(stack: np.ndarray, log_scale: np.ndarray) -> np.ndarray:
    """log10 of the spectral norms of the stack (..., H, H) of products kept at 10**-log_scale."""
    sigma_max = np.linalg.norm(stack, ord=2, axis=(-2, -1))
    with np.errstate(divide="ignore"):
        return log_scale + np.log10(sigma_max)


def _fprime(params: RNNParams, trace: Trace) -> np.ndarray:
    """f'(a_i) for i = 1..T as an array (T + 1, B, H) with row i = step i (row 0 unused)."""
    check_finite_trace(trace, params)
    out = np.empty_like(trace.a)
    out[0] = np.nan
    out[1:] = _fprimes(trace)
    return out


def _backward_products(params: RNNParams, trace: Trace, t: int | None, keep: bool):
    """The running product P_k = dh_t/dh_k for k = t, t-1, ..., 0; rows returned in order k = 0..t."""
    params = check_params(params)
    fprime = _fprime(params, trace)
    t = trace.T if t is None else check_int("t", t, 0, trace.T)
    B, H = trace.h.shape[1], params.n_hidden
    if keep:
        check_result_size("trace", (t + 1, B, H, H), f"T = {trace.T}, B = {B}, H = {H}", " (ord='fro' keeps none)")

    def step(P, j):  # j factors so far: P_{t-j} = P_{t-j+1} diag(f'(a_{t-j+1})) W_hh
        return _times(P * fprime[t - j + 1][:, None, :], params.W_hh)

    log_fro, stack, log_scale = _running_products(B, H, t, step, keep=keep)
    flip = slice(None, None, -1)  # row j holds k = t - j
    return log_fro[flip], (stack[flip] if keep else None), log_scale[flip]


def jacobian_log_norms(params: RNNParams, trace: Trace, t: int | None = None, ord=2) -> np.ndarray:
    """log10 ||dh_t/dh_k|| for every k = 0..t: how much of L_t's gradient can reach each h_k.

    params, trace from `rnnlib.forward` (T steps, batch B); t defaults to T.
    Returns (t + 1, B): row k is log10 of the norm of dh_t/dh_k (row t is log10 ||I||: 0 for
    ord=2). The product is grown from the right, P_k = P_{k+1} diag(f'(a_{k+1})) W_hh, once for
    all k, with rescaling (see the module docstring). Cost O(t B H^3), plus t small SVDs for ord=2.
    Introduced in notebook 04.
    """
    check_ord(ord)
    log_fro, stack, log_scale = _backward_products(params, trace, t, keep=ord == 2)
    return log_fro if ord == "fro" else _log_spectral(stack, log_scale)


def jacobian_log_singular_values(params: RNNParams, trace: Trace, t: int | None = None) -> np.ndarray:
    """log10 of all singular values of dh_t/dh_k for k = 0..t, largest first: (t + 1, B, H).

    Row k, column j is log10 sigma_j(dh_t/dh_k). Shows that every singular value, not just the
    largest, shrinks or grows geometrically with the lag t - k (notebook 04). Zero singular
    values give -inf.

    Limit: the product is stored rescaled, so its entries carry rounding errors of about 1e-16
    relative to sigma_1. Singular values more than about 1e13 below sigma_1 in the same row are
    rounding noise, not the true values (notebook 04 cuts them off). Exact small singular values
    of very long products need a QR-based method (as for Lyapunov exponents).
    """
    _, stack, log_scale = _backward_products(params, trace, t, keep=True)
    sv = np.linalg.svd(stack, compute_uv=False)
    with np.errstate(divide="ignore"):
        return log_scale[:, :, None] + np.log10(sv)


def jacobian_log_norms_from(params: RNNParams, trace: Trace, k: int = 0, ord=2) -> np.ndarray:
    """log10 ||dh_t/dh_k|| for every t = k..T: how the influence of h_k on later states evolves.

    Returns (T + 1, B): row t is log10 ||dh_t/dh_k|| for t >= k, NaN for t < k. The product is
    grown from the left, Q_t = diag(f'(a_t)) W_hh Q_{t-1}, with rescaling; in code its transpose
    R_t = Q_t^T = R_{t-1} W_hh^T diag(f'(a_t)) is grown from the right (both norms are the same
    for a matrix and its transpose). Notebook 05's ||dh_t/dh_0|| curves are this with k = 0.
    """
    params = check_params(params)
    check_ord(ord)
    fprime = _fprime(params, trace)
    T = trace.T
    k = check_int("k", k, 0, T)
    B, H = trace.h.shape[1], params.n_hidden
    if ord == 2:
        check_result_size("trace", (T - k + 1, B, H, H), f"T = {T}, B = {B}, H = {H}", " (ord='fro' keeps none)")
    W_hh_T = params.W_hh.T

    def step(R, j):  # R_{k+j} = R_{k+j-1} W_hh^T diag(f'(a_{k+j}))
        return _times(R, W_hh_T) * fprime[k + j][:, None, :]

    log_fro, stack, log_scale = _running_products(B, H, T - k, step, keep=ord == 2)
    out = np.full((T + 1, B), np.nan)
    out[k:] = log_fro if ord == "fro" else _log_spectral(stack, log_scale)
    return out


def matrix_power_log_norms(W, T: int, ord=2) -> np.ndarray:
    """log10 ||W^t|| for t = 0..T: the linear RNN's dh_t/dh_0 = W^t (notebook 05).

    W (H, H) real or complex square, T >= 0 -> (T + 1,). Exact as log-norms even where W^t
    under- or overflows.
    """
    W = check_square("W", W, allow_complex=True)
    T = check_int("T", T, 0, MAX_STEPS)
    check_ord(ord)
    H = W.shape[0]
    check_work("T", T, H, f"T = {T} for H = {H}")
    if ord == 2:
        check_result_size("T", (T + 1, H, H), f"T = {T} for H = {H}", " (ord='fro' keeps none)")
    dtype = np.result_type(W.dtype, np.float64)
    W_T = W.T.astype(dtype)

    def step(R, j):  # R_j = (W^j)^T = R_{j-1} W^T
        return _times(R, W_T)

    log_fro, stack, log_scale = _running_products(1, H, T, step, dtype=dtype, keep=ord == 2)
    return (log_fro if ord == "fro" else _log_spectral(stack, log_scale))[:, 0]


def naive_log_norms(W_hh, T: int) -> np.ndarray:
    """log10 ||W_hh^t||_2 for t = 0..T from a plain running product, as code usually does it.

    Returns (T + 1,); -inf once the product has underflowed to 0 (inf once it overflowed).
    Only for showing what goes wrong; use `matrix_power_log_norms` instead. Notebook 04.
    """
    W_hh = check_square("W_hh", W_hh)
    T = check_int("T", T, 0, MAX_STEPS)
    check_work("T", T, W_hh.shape[0], f"T = {T} for H = {W_hh.shape[0]}")
    P = np.eye(W_hh.shape[0])
    out = np.empty(T + 1)
    with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
        for t in range(T + 1):
            out[t] = np.log10(np.linalg.norm(P, ord=2)) if np.all(np.isfinite(P)) else np.inf
            P = W_hh @ P
    return out


# ----------------------------------------------------------------------------------------------
# How far the first input reaches (notebook 01; explained in notebooks 04-05)
# ----------------------------------------------------------------------------------------------


def memory_norms(params: RNNParams, xs, h0=None, activation: str = "tanh") -> np.ndarray:
    """||dh_t/dx_1||_2 for t = 1..T: how strongly the first input still moves the state at step t.

    params: RNNParams; xs (T, 1, X), a single sequence; h0 (1, H) or None.
    Returns norms (T,), norms[t - 1] = || (dh_t/dh_1) diag(f'(a_1)) W_hx ||_2 (spectral norm), with
    dh_t/dh_1 as `rnnlib.jacobian` forms it, because x_1 enters only through a_1 = W_hx x_1 + ... (eq. 2a).
    """
    xs = check_one_sequence(xs)
    params, xs, h0, _, f = _check_sequence(params, xs, h0, None, activation)
    trace = _forward(params, xs, h0, f)
    dh1_dx1 = trace.activation.derivative(trace.a[1], trace.h[1])[0][:, None] * params.W_hx  # diag(f'(a_1)) W_hx
    J = np.eye(params.n_hidden)[None]  # dh_t/dh_1, grown one factor per step
    norms = np.empty(trace.T)
    for t in range(1, trace.T + 1):
        if t > 1:
            J = _step_jacobian(params, trace, t) @ J
        norms[t - 1] = np.linalg.norm(J[0] @ dh1_dx1, 2)
    return norms


def fade_rate(share) -> float:
    """Average shrink factor per step of a decaying sequence: (share[-1] / share[0]) ** (1 / (T - 1)).

    share (T,), T >= 2, positive entries (e.g. the ratios ||dh_t/dx_1|| / ||dh_1/dx_1|| of
    `memory_norms`) -> a float, the geometric mean of share[t] / share[t - 1]. Notebook 01.
    """
    share = check_vector("share", share, min_size=2, positive=True)
    log_rate = (math.log10(share[-1]) - math.log10(share[0])) / (share.size - 1)  # in logs: no overflow of the ratio
    if not -300.0 < log_rate < 300.0:
        raise ValueError(f"share: expected an average factor per step within the float range, got 10**{log_rate:.4g}")
    return float(10.0**log_rate)
