"""Taking the BPTT gradient apart: terms by (t, k), immediate vs total derivatives (notebooks 03, 04).

The gradient of L = sum_t L_t with respect to W_hh is a double sum (notebook 03):

    dL/dW_hh = sum_{t=1}^{T} sum_{k=1}^{t}  dL_t/dh_t . dh_t/dh_k . d+h_k/dW_hh

where d+h_k/dW_hh is the *immediate* derivative (h_{k-1} held constant) and dh_t/dh_k is the
product of step Jacobians (the starred term of the source note). Term (t, k) says how much of
the gradient comes from the loss at step t through the use of W_hh at step k, a lag of t - k
steps back. Written with the pre-activations a_k, the term is an outer product

    C[t, k] = delta[t, k]^T h_{k-1},    delta[t, k] = dL_t/da_k   (a row vector per example)

and delta obeys the backward recursion delta[t, k-1] = (delta[t, k] W_hh) * f'(a_{k-1}).

Arrays indexed by (t, k) follow the convention of `rnnlib.core` on both axes: shape (T + 1, T + 1,
...), entry [t, k] belongs to loss step t and use step k; row 0, column 0 and every k > t are 0
(there is no L_0, h_0 does not depend on the weights, and L_t cannot depend on later steps).

numpy only.
"""

from __future__ import annotations

import numpy as np

from ._checks import (check_activation, check_choice, check_finite_trace, check_h0, check_int, check_int_array,
                      check_nonnegative, check_nonnegative_array, check_params, check_result_size, check_square,
                      check_targets, check_tk_terms, check_xs)
from .containers import RNNParams, Trace
from .core import _cross_entropy, _fprimes, _forward, _output_gradients, _step_jacobian

__all__ = [
    "bptt_deltas",
    "bptt_contributions",
    "bptt_contribution_norms",
    "lag_diagonals",
    "carried_gradients",
    "loss_from",
    "immediate_dh_dW_hh",
    "total_dh_dW_hh",
    "jacobian_log_norm_bound",
    "bound_log_line",
]

_WRT = ("W_hh", "W_hx", "b_h")


# ----------------------------------------------------------------------------------------------
# The double sum of BPTT, term by term (notebook 03)
# ----------------------------------------------------------------------------------------------


def _forward_and_output_grads(params, xs, targets, h0, activation, result=None):
    """The checks, once; then the forward pass plus dL_t/dh_t through the output layer and f'(a_t).

    result(params, T, B): the shape of the caller's (t, k) array, checked against MAX_RESULT before any work.
    Returns (params, trace, dh_out (T, B, H), fprime (T, B, H)), rows t = 1..T stored at t - 1.
    """
    params = check_params(params)
    xs = check_xs(xs, params)
    T, B, _ = xs.shape
    if result is not None:
        check_result_size("xs", result(params, T, B), f"T = {T}, B = {B}",
                          "; bptt_contribution_norms keeps only the norms of the (t, k) terms")
    h0 = check_h0(h0, B, params)
    targets = check_targets(targets, T, B, params.n_out)
    trace = _forward(params, xs, h0, check_activation(activation))
    _, _, dh_out = _output_gradients(params, trace, targets)  # dL_t/dh_t, from y^_t - onehot(y_t)
    return params, trace, dh_out, _fprimes(trace)


def _lags(params, dh_out, fprime):
    """Yield (lag, carry) for lag = 0..T-1, carry (T - lag, B, H): row k - 1 is delta[k + lag, k].

    One pass for all loss steps at once: a matrix product per lag, not per (t, k) pair.
    """
    T = dh_out.shape[0]
    carry = dh_out * fprime  # delta[t, t] = dL_t/dh_t * f'(a_t)
    for lag in range(T):
        yield lag, carry
        if lag + 1 < T:
            n = T - lag - 1  # k = 1..n still has a term at the next lag
            carry = (carry[1:] @ params.W_hh) * fprime[:n]  # delta[t, k-1] = (delta[t, k] W_hh) f'(a_{k-1})


def _inputs_of(wrt: str, trace: Trace) -> np.ndarray | None:
    """The vector multiplied by the weight `wrt` (checked by the caller) at step k, rows k - 1."""
    if wrt == "W_hh":
        return trace.h[:-1]  # h_{k-1}
    if wrt == "W_hx":
        return trace.xs  # x_k
    return None  # b_h: the immediate derivative of a_k is the identity


def bptt_deltas(params: RNNParams, xs, targets, h0=None, activation: str = "tanh") -> np.ndarray:
    """delta[t, k] = dL_t/da_k for every loss step t and earlier step k: (T + 1, T + 1, B, H).

    xs (T, B, X), targets (T, B), h0 (B, H) or None. Entry [t, k, b] is the gradient of the loss
    at step t (batch mean, as in `bptt`) with respect to the pre-activation a_k of example b,
    through every path; zero unless 1 <= k <= t. Summing over t gives bptt's dL/da_k. Notebook 03.
    """
    params, trace, dh_out, fprime = _forward_and_output_grads(params, xs, targets, h0, activation,
                                                              lambda p, T, B: (T + 1, T + 1, B, p.n_hidden))
    T, B, H = dh_out.shape
    deltas = np.zeros((T + 1, T + 1, B, H), dtype=dh_out.dtype)
    for lag, carry in _lags(params, dh_out, fprime):
        k = np.arange(1, T - lag + 1)
        deltas[k + lag, k] = carry
    return deltas


def bptt_contributions(params: RNNParams, xs, targets, h0=None, activation: str = "tanh",
                       wrt: str = "W_hh") -> np.ndarray:
    """Every term of the BPTT double sum for one weight: (T + 1, T + 1) + shape of the weight.

    C[t, k] = dL_t/dh_t . dh_t/dh_k . d+h_k/dW, the part of dL/dW that the loss at step t sends
    back to the use of W at step k (lag t - k); zero unless 1 <= k <= t. wrt is "W_hh" (H, H),
    "W_hx" (H, X) or "b_h" (H,). C.sum(axis=(0, 1)) is bptt's gradient; C.sum(axis=0)[k] is
    `step_backward`'s contribution at step k; C.sum(axis=1)[t] is dL_t/dW. Memory
    O(T^2 H^2): for long sequences use `bptt_contribution_norms`. Notebook 03.
    """
    check_choice("wrt", wrt, _WRT)
    params, trace, dh_out, fprime = _forward_and_output_grads(
        params, xs, targets, h0, activation, lambda p, T, B: (T + 1, T + 1) + getattr(p, wrt).shape)
    T, B, H = dh_out.shape
    u = _inputs_of(wrt, trace)
    shape = tuple(np.shape(getattr(params, wrt)))
    C = np.zeros((T + 1, T + 1) + shape, dtype=dh_out.dtype)
    for lag, carry in _lags(params, dh_out, fprime):
        n = T - lag
        k = np.arange(1, n + 1)
        if u is None:
            C[k + lag, k] = carry.sum(axis=1)  # sum over the batch
        else:
            C[k + lag, k] = np.einsum("kbi,kbj->kij", carry, u[:n])  # delta^T u, summed over b
    return C


def bptt_contribution_norms(params: RNNParams, xs, targets, h0=None, activation: str = "tanh",
                            wrt: str = "W_hh") -> np.ndarray:
    """Frobenius norms ||C[t, k]|| of the terms of `bptt_contributions`, shape (T + 1, T + 1).

    Same terms, without storing them all: memory O(T H^2). Zero where the term is zero
    (k > t, row 0, column 0). Notebook 03's heatmap.
    """
    check_choice("wrt", wrt, _WRT)
    params, trace, dh_out, fprime = _forward_and_output_grads(params, xs, targets, h0, activation,
                                                              lambda p, T, B: (T + 1, T + 1))
    T, B, H = dh_out.shape
    u = _inputs_of(wrt, trace)
    norms = np.zeros((T + 1, T + 1))
    for lag, carry in _lags(params, dh_out, fprime):
        n = T - lag
        k = np.arange(1, n + 1)
        if u is None:
            block = carry.sum(axis=1)
            norms[k + lag, k] = np.linalg.norm(block, axis=-1)
        else:
            block = np.einsum("kbi,kbj->kij", carry, u[:n])
            norms[k + lag, k] = np.linalg.norm(block, axis=(-2, -1))
    return norms


def lag_diagonals(A: np.ndarray) -> list[np.ndarray]:
    """Group a (T + 1, T + 1, ...) array of (t, k) terms by lag: a list of T arrays.

    Element `lag` (0..T-1) has shape (T - lag, ...): its row k - 1 is A[k + lag, k], k = 1..T-lag.
    So `[d.sum(axis=0) for d in lag_diagonals(C)]` is the gradient split by lag, and the first
    m of those summed is the per-term-window truncated gradient `bptt(..., truncate=m)`.
    """
    A = check_tk_terms("A", A)
    T = A.shape[0] - 1
    return [A[np.arange(1, T - lag + 1) + lag, np.arange(1, T - lag + 1)] for lag in range(T)]


# ----------------------------------------------------------------------------------------------
# The carried gradient (notebook 03)
# ----------------------------------------------------------------------------------------------


def carried_gradients(params: RNNParams, xs, targets, h0=None, activation: str = "tanh") -> np.ndarray:
    """The carried gradient dh_next for every step: (T + 1, B, H), row t = d(sum_{s>t} L_s)/dh_t.

    Row t is what `step_backward` at step t receives as dh_next: the gradient at h_t of the
    losses of the *later* steps only (L_t itself reaches h_t through the output layer, inside the
    step). Row T is zero; row 0 is dL/dh_0, bptt's dh0. Notebook 03.
    """
    params, trace, dh_out, fprime = _forward_and_output_grads(params, xs, targets, h0, activation)
    T, B, H = dh_out.shape
    dh_next = np.zeros((T + 1, B, H), dtype=dh_out.dtype)
    for t in range(T, 0, -1):
        da_t = (dh_out[t - 1] + dh_next[t]) * fprime[t - 1]  # dL/da_t, all of L_t..L_T
        dh_next[t - 1] = da_t @ params.W_hh  # = W_hh^T da_t per example: reaches h_{t-1}
    return dh_next


def loss_from(params: RNNParams, xs, targets, t: int, h_t, activation: str = "tanh") -> float:
    """sum_{s>t} L_s, the loss of steps t+1..T when the state at step t is set to h_t (B, H).

    xs (T, B, X) and targets (T, B) are the whole sequences; steps 1..t are skipped. Returns 0.0
    for t = T. The function whose finite-difference gradient the carried gradient is (notebook 03).
    """
    params = check_params(params)
    xs = check_xs(xs, params)
    T, B, _ = xs.shape
    targets = check_targets(targets, T, B, params.n_out)
    t = check_int("t", t, 0, T, high_name="T")
    h_t = check_h0(h_t, B, params, name="h_t")
    f = check_activation(activation)
    if t == T:
        return 0.0
    trace = _forward(params, xs[t:], h_t, f)  # steps t+1..T
    return _cross_entropy(trace.logits[1:], targets[t:], trace.y_hat[1:])[0]


# ----------------------------------------------------------------------------------------------
# Immediate and total derivative of h_k with respect to W_hh (notebook 03)
# ----------------------------------------------------------------------------------------------


def immediate_dh_dW_hh(params: RNNParams, trace: Trace, k: int) -> np.ndarray:
    """d+h_k/dW_hh: the derivative of h_k with h_{k-1} held constant, shape (B, H, H, H).

    Entry [b, m, i, j] = d h_k[m] / d W_hh[i, j] = [m == i] f'(a_k)[m] h_{k-1}[j]: only row m
    of W_hh feeds unit m, once. Zero for k = 0 (h_0 does not depend on W_hh). Notebook 03.
    """
    params = check_params(params)
    check_finite_trace(trace, params)
    check_result_size("trace", (trace.h.shape[1],) + (params.n_hidden,) * 3, f"B = {trace.h.shape[1]}, H = {params.n_hidden}")
    k = check_int("k", k, 0, trace.T, high_name="T")
    return _immediate_dh_dW_hh(params, trace, k)


def _immediate_dh_dW_hh(params: RNNParams, trace: Trace, k: int) -> np.ndarray:
    """`immediate_dh_dW_hh` for checked arguments."""
    B, H = trace.h.shape[1], params.n_hidden
    out = np.zeros((B, H, H, H), dtype=trace.h.dtype)
    if k == 0:
        return out
    fprime = trace.activation.derivative(trace.a[k], trace.h[k])  # (B, H)
    m = np.arange(H)
    out[:, m, m, :] = fprime[:, :, None] * trace.h[k - 1][:, None, :]
    return out


def total_dh_dW_hh(params: RNNParams, trace: Trace, k: int) -> np.ndarray:
    """dh_k/dW_hh through every path (h_{k-1}, h_{k-2}, ... depend on W_hh too): (B, H, H, H).

    Equals sum_{j=1}^{k} dh_k/dh_j . d+h_j/dW_hh; computed forward, G_j = d+h_j/dW_hh +
    (dh_j/dh_{j-1}) G_{j-1} with G_0 = 0, so the cost is O(k B H^4). Notebook 03.
    """
    params = check_params(params)
    check_finite_trace(trace, params)
    check_result_size("trace", (trace.h.shape[1],) + (params.n_hidden,) * 3, f"B = {trace.h.shape[1]}, H = {params.n_hidden}")
    k = check_int("k", k, 0, trace.T, high_name="T")
    G = _immediate_dh_dW_hh(params, trace, 0)
    for j in range(1, k + 1):
        J = _step_jacobian(params, trace, j)  # dh_j/dh_{j-1}, (B, H, H)
        G = _immediate_dh_dW_hh(params, trace, j) + np.einsum("bmn,bnij->bmij", J, G)
    return G


# ----------------------------------------------------------------------------------------------
# The vanishing bound (notebook 04)
# ----------------------------------------------------------------------------------------------


def jacobian_log_norm_bound(W_hh, activation: str, lags) -> np.ndarray:
    """log10 of the bound (gamma sigma_max(W_hh))^lag on ||dh_t/dh_k||_2, lag = t - k.

    W_hh (H, H), lags array-like of integers >= 0 -> array of the same shape. gamma = sup|f'| of
    the activation (1 for tanh and linear, 1/4 for sigmoid): each factor diag(f'(a_i)) W_hh has
    spectral norm <= gamma sigma_max, and norms are submultiplicative (Pascanu, Mikolov and
    Bengio 2013). Notebook 04.
    """
    W_hh = check_square("W_hh", W_hh)
    lags = check_int_array("lags", lags, 0)
    gamma = check_activation(activation).gamma
    return bound_log_line(gamma * np.linalg.norm(W_hh, ord=2), lags)


def bound_log_line(rate: float, lags) -> np.ndarray:
    """log10 of rate^lag for every lag: the bound line lag * log10(gamma sigma_max) of the figures.

    rate = gamma * sigma_max >= 0, lags array-like of numbers >= 0 -> array of lags' shape;
    exactly 0 at lag 0 (even for rate = 0), -inf at lag > 0 when rate = 0. The one formula behind
    every (gamma sigma_max)^(t-k) line of notebooks 01, 04 and 05 (plots draw 10 ** this).
    """
    rate = check_nonnegative("rate", rate)
    lags = check_nonnegative_array("lags", lags)
    with np.errstate(divide="ignore", invalid="ignore"):  # rate = 0 gives -inf for lag > 0
        return np.where(lags == 0, 0.0, lags * np.log10(rate))
