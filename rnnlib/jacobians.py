"""Norms of long Jacobian products, kept exact as log-norms (notebooks 04 and 05).

The product dh_t/dh_k = prod_{i=k+1}^{t} diag(f'(a_i)) W_hh shrinks or grows geometrically in
t - k. Forming it and taking `np.linalg.norm` fails twice over: the entries underflow to 0 below
about 1e-308 (or overflow to inf above 1e308), and forming every product from scratch costs
O(T^2) matrix products. Here the product is propagated once, one factor per step, and rescaled
to unit Frobenius norm after every factor; the scale that was divided out is added to a running
log10-norm. The returned numbers are log10 of the norms, exact to rounding even when the norm
itself (say 1e-700) is far outside the floating-point range.

    log10 ||P_k|| = (sum of log10 of the scales divided out so far) + log10 ||P_k / scale||

Norms: ord=2 is the spectral norm (largest singular value), the norm in the bound of Pascanu,
Mikolov and Bengio (2013), ||dh_t/dh_k||_2 <= (gamma sigma_max(W_hh))^(t-k). It needs one small
SVD per row. ord="fro" is the Frobenius norm, free once the product is rescaled, and within a
factor sqrt(H) of the spectral norm: ||P||_2 <= ||P||_F <= sqrt(H) ||P||_2.
"""

from __future__ import annotations

import numpy as np

from .activations import get_activation
from .core import RNNParams, Trace, _check_params

__all__ = [
    "jacobian_log_norms",
    "jacobian_log_norms_from",
    "jacobian_log_singular_values",
    "matrix_power_log_norms",
]


def _check_ord(ord):
    if ord not in (2, "fro"):
        raise ValueError(f"ord: expected 2 (spectral norm) or 'fro' (Frobenius), got {ord!r}")


def _check_step(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ValueError(f"{name}: expected an integer {low} <= {name} <= {high}, got {value!r}")
    return int(value)


def _rescale(P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Divide each matrix of the stack P (B, H, H) by its Frobenius norm; return (P, log10 norms).

    A zero matrix stays zero and gets log10 norm -inf.
    """
    s = np.sqrt(np.einsum("bij,bij->b", P, P.conj()).real)  # real or complex
    with np.errstate(divide="ignore"):
        log_s = np.log10(s)
    return P / np.where(s > 0, s, 1.0)[:, None, None], log_s


def _finish(unit: np.ndarray, log_scale: np.ndarray, ord) -> np.ndarray:
    """log10 norms of the stack `unit` (..., H, H) of rescaled products times 10**log_scale."""
    if ord == "fro":
        # The rescaled products have norm 1 (or are zero, where log_scale is already -inf).
        return log_scale
    sigma_max = np.linalg.norm(unit, ord=2, axis=(-2, -1))
    with np.errstate(divide="ignore"):
        return log_scale + np.log10(sigma_max)


def _fprime(params: RNNParams, trace: Trace) -> np.ndarray:
    """f'(a_i) for i = 1..T as an array (T + 1, B, H) with row i = step i (row 0 unused)."""
    if not isinstance(trace, Trace):
        raise ValueError(f"trace: expected the Trace returned by rnnlib.forward, got {type(trace).__name__}")
    if trace.h.shape[2] != params.n_hidden:
        raise ValueError(f"trace: expected hidden size H = {params.n_hidden}, got {trace.h.shape[2]}")
    f = get_activation(trace.activation)
    out = np.empty_like(trace.a)
    out[0] = np.nan
    out[1:] = f.derivative(trace.a[1:], trace.h[1:])
    return out


def jacobian_log_norms(params: RNNParams, trace: Trace, t: int | None = None, ord=2) -> np.ndarray:
    """log10 ||dh_t/dh_k|| for every k = 0..t: how much of L_t's gradient can reach each h_k.

    params, trace from `rnnlib.forward` (T steps, batch B); t defaults to T.
    Returns (t + 1, B): row k is log10 of the norm of dh_t/dh_k (row t is log10 ||I|| = 0 for
    ord=2). The product is grown from the right, P_k = P_{k+1} diag(f'(a_{k+1})) W_hh, once for
    all k, with rescaling (see the module docstring). Cost O(t B H^3), plus t small SVDs for ord=2.
    Introduced in notebook 04.
    """
    params = _check_params(params)
    _check_ord(ord)
    fprime = _fprime(params, trace)
    t = trace.T if t is None else _check_step("t", t, 0, trace.T)
    B, H = trace.h.shape[1], params.n_hidden
    P = np.broadcast_to(np.eye(H), (B, H, H)).copy()
    log_scale = np.zeros((t + 1, B))
    units = np.empty((t + 1, B, H, H)) if ord == 2 else None
    P, log_scale[t] = _rescale(P)
    if units is not None:
        units[t] = P
    for k in range(t - 1, -1, -1):
        P = (P * fprime[k + 1][:, None, :]) @ params.W_hh  # P_k = P_{k+1} diag(f'(a_{k+1})) W_hh
        P, log_s = _rescale(P)
        log_scale[k] = log_scale[k + 1] + log_s
        if units is not None:
            units[k] = P
    return _finish(units, log_scale, ord)


def jacobian_log_norms_from(params: RNNParams, trace: Trace, k: int = 0, ord=2) -> np.ndarray:
    """log10 ||dh_t/dh_k|| for every t = k..T: how the influence of h_k on later states evolves.

    Returns (T + 1, B): row t is log10 ||dh_t/dh_k|| for t >= k, NaN for t < k. The product is
    grown from the left, Q_t = diag(f'(a_t)) W_hh Q_{t-1}, with rescaling. Notebook 05's
    ||dh_t/dh_0|| curves are this with k = 0.
    """
    params = _check_params(params)
    _check_ord(ord)
    fprime = _fprime(params, trace)
    T = trace.T
    k = _check_step("k", k, 0, T)
    B, H = trace.h.shape[1], params.n_hidden
    Q = np.broadcast_to(np.eye(H), (B, H, H)).copy()
    log_scale = np.full((T + 1, B), np.nan)
    units = np.full((T + 1, B, H, H), np.nan) if ord == 2 else None
    Q, log_scale[k] = _rescale(Q)
    if units is not None:
        units[k] = Q
    for t in range(k + 1, T + 1):
        Q = fprime[t][:, :, None] * (params.W_hh @ Q)  # Q_t = diag(f'(a_t)) W_hh Q_{t-1}
        Q, log_s = _rescale(Q)
        log_scale[t] = log_scale[t - 1] + log_s
        if units is not None:
            units[t] = Q
    if units is None:
        return log_scale
    out = np.full((T + 1, B), np.nan)
    out[k:] = _finish(units[k:], log_scale[k:], ord)
    return out


def jacobian_log_singular_values(params: RNNParams, trace: Trace, t: int | None = None) -> np.ndarray:
    """log10 of all singular values of dh_t/dh_k for k = 0..t, largest first: (t + 1, B, H).

    Row k, column j is log10 sigma_j(dh_t/dh_k). Shows that every singular value, not just the
    largest, shrinks or grows geometrically with the lag t - k (notebook 04). Zero singular
    values give -inf.

    Limit: the product is stored rescaled to unit norm, so its entries carry rounding errors of
    about 1e-16 relative to sigma_1. Singular values more than about 1e13 below sigma_1 in the
    same row are rounding noise, not the true values (notebook 04 cuts them off). Exact small
    singular values of very long products need a QR-based method (as for Lyapunov exponents).
    """
    params = _check_params(params)
    fprime = _fprime(params, trace)
    t = trace.T if t is None else _check_step("t", t, 0, trace.T)
    B, H = trace.h.shape[1], params.n_hidden
    P = np.broadcast_to(np.eye(H), (B, H, H)).copy()
    log_scale = np.zeros((t + 1, B))
    units = np.empty((t + 1, B, H, H))
    P, log_scale[t] = _rescale(P)
    units[t] = P
    for k in range(t - 1, -1, -1):
        P, log_s = _rescale((P * fprime[k + 1][:, None, :]) @ params.W_hh)
        log_scale[k] = log_scale[k + 1] + log_s
        units[k] = P
    sv = np.linalg.svd(units, compute_uv=False)
    with np.errstate(divide="ignore"):
        return log_scale[:, :, None] + np.log10(sv)


def matrix_power_log_norms(W, T: int, ord=2) -> np.ndarray:
    """log10 ||W^t|| for t = 0..T: the linear RNN's dh_t/dh_0 = W^t (notebook 05).

    W (H, H) real or complex square, T >= 0 -> (T + 1,). Exact as log-norms even where W^t
    under- or overflows.
    """
    W = np.asarray(W)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W: expected a square matrix (H, H), got shape {W.shape}")
    if not np.all(np.isfinite(W)):
        raise ValueError("W: expected finite values, got NaN or inf")
    T = _check_step("T", T, 0, 10**7)
    _check_ord(ord)
    H = W.shape[0]
    dtype = np.result_type(W.dtype, np.float64)
    P = np.eye(H, dtype=dtype)[None]
    log_scale = np.zeros(T + 1)
    units = np.empty((T + 1, H, H), dtype=dtype) if ord == 2 else None
    P, log_s = _rescale(P)
    log_scale[0] = log_s[0]
    if units is not None:
        units[0] = P[0]
    for t in range(1, T + 1):
        P, log_s = _rescale(W @ P)
        log_scale[t] = log_scale[t - 1] + log_s[0]
        if units is not None:
            units[t] = P[0]
    return _finish(units, log_scale, ord)

