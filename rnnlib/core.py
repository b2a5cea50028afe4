"""The vanilla RNN: parameters, forward pass, loss, backpropagation through time, Jacobians.

Equations (numbers as in the source note; introduced in notebooks 01-04):

    a_t   = W_hx x_t + W_hh h_{t-1} + b_h            pre-activation
    h_t   = f(a_t)                                   (2a); f = tanh is (2b)
    y^_t  = softmax(W_yh h_t + b_y)                  (3)
    L     = sum_t L_t,  L_t = cross-entropy(y^_t, y_t), averaged over the batch

Indexing convention (the only place it is stated)
-------------------------------------------------
Arrays are time-major. Inputs `xs` have shape (T, B, X) and `xs[t - 1]` is x_t, because Python
counts from 0 and the equations count from 1. Every time-indexed array of a `Trace` has T + 1
rows so that row t belongs to step t and loops read like the equations:

    trace.h[t]       = h_t        for t = 0..T     (trace.h[0] = h_0)
    trace.a[t]       = a_t        for t = 1..T     (trace.a[0] is NaN: there is no a_0)
    trace.logits[t]  = W_yh h_t + b_y, t = 1..T    (row 0 NaN)
    trace.y_hat[t]   = y^_t       for t = 1..T     (row 0 NaN)

Targets `targets[t - 1]` hold the integer class y_t, shape (T, B).

Two implementations live here on purpose: the step functions (`step_forward`, `step_backward`)
mirror the equations one line each, and the sequence functions (`forward`, `bptt`) compute the
same numbers with only the recurrence itself in a Python loop. Tests assert they agree.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import (as_float, check_h0, check_int, check_params, check_positive_int, check_targets, check_trace,
                      check_xs)
from .activations import Activation, get_activation

__all__ = [
    "RNNParams",
    "Trace",
    "init_params",
    "global_norm",
    "softmax",
    "logsumexp",
    "log_softmax",
    "softmax_cross_entropy",
    "step_forward",
    "step_backward",
    "forward",
    "bptt",
    "backward",
    "bptt_steps",
    "jacobian",
    "step_jacobian",
]


# ----------------------------------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------------------------------


class RNNParams(NamedTuple):
    """The five parameters of equations (2a) and (3), shared by every time step.

    W_hx (H, X), W_hh (H, H), b_h (H,), W_yh (Y, H), b_y (Y,): math orientation, so that
    a_t = W_hx @ x_t + W_hh @ h_{t-1} + b_h for a single column vector x_t.
    The same container holds gradients (dW_hx, ...), which have the same shapes.
    """

    W_hx: np.ndarray
    W_hh: np.ndarray
    b_h: np.ndarray
    W_yh: np.ndarray
    b_y: np.ndarray

    @property
    def n_in(self) -> int:
        """X, the input size."""
        return self.W_hx.shape[1]

    @property
    def n_hidden(self) -> int:
        """H, the hidden size."""
        return self.W_hh.shape[0]

    @property
    def n_out(self) -> int:
        """Y, the output size (number of classes)."""
        return self.W_yh.shape[0]

    def count(self) -> int:
        """Number of scalar parameters: H*X + H*H + H + Y*H + Y, whatever the sequence length."""
        return sum(p.size for p in self)

    def copy(self) -> "RNNParams":
        """A deep copy (new arrays)."""
        return RNNParams(*(p.copy() for p in self))

    def zeros_like(self) -> "RNNParams":
        """Zeros with the same shapes and dtype: the start of a gradient accumulation."""
        return RNNParams(*(np.zeros_like(p) for p in self))

    def astype(self, dtype) -> "RNNParams":
        """The same parameters cast to `dtype` (e.g. np.float32)."""
        return RNNParams(*(p.astype(dtype) for p in self))

    def norm(self) -> float:
        """The Euclidean norm over all five arrays together: `global_norm(self)`."""
        return global_norm(self)


def global_norm(arrays) -> float:
    """||g||: the Euclidean norm of several arrays together, as if concatenated into one vector.

    arrays: an RNNParams or any sequence of arrays -> float, sqrt(sum of all squares), summed in
    float64. The norm that gradient-norm clipping measures (notebook 06).
    """
    return float(np.sqrt(sum(float(np.sum(np.square(np.asarray(a, dtype=np.float64)))) for a in arrays)))


def init_params(
    n_in: int,
    n_hidden: int,
    n_out: int,
    *,
    seed: int = 0,
    scale: float = 1.0,
    spectral_radius: float | None = None,
    dtype=np.float64,
) -> RNNParams:
    """Random RNN parameters: Gaussian weights with std scale / sqrt(fan_in), zero biases.

    Shapes: W_hx (H, X), W_hh (H, H), b_h (H,), W_yh (Y, H), b_y (Y,) with X = n_in,
    H = n_hidden, Y = n_out. With `spectral_radius` given, W_hh is rescaled so that its largest
    |eigenvalue| equals it exactly (notebooks 05 and 06 use this). Seeded: the same arguments
    always give the same parameters.
    """
    for name, value in (("n_in", n_in), ("n_hidden", n_hidden), ("n_out", n_out)):
        check_positive_int(name, value)
    if not np.isfinite(scale) or scale < 0:
        raise ValueError(f"scale: expected a finite number >= 0, got {scale!r}")
    rng = np.random.default_rng(seed)
    W_hx = rng.standard_normal((n_hidden, n_in)) * (scale / np.sqrt(n_in))
    W_hh = rng.standard_normal((n_hidden, n_hidden)) * (scale / np.sqrt(n_hidden))
    W_yh = rng.standard_normal((n_out, n_hidden)) * (scale / np.sqrt(n_hidden))
    if spectral_radius is not None:
        if not np.isfinite(spectral_radius) or spectral_radius < 0:
            raise ValueError(f"spectral_radius: expected a finite number >= 0, got {spectral_radius!r}")
        rho = np.max(np.abs(np.linalg.eigvals(W_hh)))
        if rho == 0:
            raise ValueError(f"spectral_radius: cannot rescale W_hh to {spectral_radius} when scale = {scale} "
                             "makes every eigenvalue 0")
        W_hh = W_hh * (spectral_radius / rho)
    params = RNNParams(W_hx, W_hh, np.zeros(n_hidden), W_yh, np.zeros(n_out))
    return params.astype(dtype)


# ----------------------------------------------------------------------------------------------
# Softmax and cross-entropy (equation 3 and the loss; notebook 02)
# ----------------------------------------------------------------------------------------------


def logsumexp(z: np.ndarray) -> np.ndarray:
    """log(sum(exp(z))) along the last axis, shifted by max(z) so exp never overflows.

    z (..., Y) -> (...). Equals max(z) + log(sum(exp(z - max(z)))).
    """
    z = as_float(z)
    z_max = np.max(z, axis=-1)
    e = z - z_max[..., None]
    np.exp(e, out=e)  # in place: one temporary array, not two
    return z_max + np.log(np.sum(e, axis=-1))


def log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax(z) along the last axis, computed with log-sum-exp so it never overflows."""
    z = as_float(z)
    return z - logsumexp(z)[..., None]


def softmax(z: np.ndarray) -> np.ndarray:
    """softmax(z) along the last axis, shifted by max(z) so exp never overflows. Equation (3)."""
    z = as_float(z)
    e = z - np.max(z, axis=-1, keepdims=True)
    np.exp(e, out=e)  # in place: large temporaries cost page faults on every call
    e /= np.sum(e, axis=-1, keepdims=True)
    return e


def softmax_cross_entropy(logits: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy over the batch of softmax(logits) against integer targets, and its gradient.

    logits (B, Y), targets (B,) -> (loss, dlogits (B, Y)) with
    loss = -(1/B) sum_b log y^_{b, y_b} and dlogits = (y^ - onehot(y)) / B.
    """
    logits = as_float(logits)
    if logits.ndim != 2:
        raise ValueError(f"logits: expected shape (B, Y), got {logits.shape}")
    B, Y = logits.shape
    targets = check_targets(np.asarray(targets)[None], 1, B, Y)[0]
    logp = log_softmax(logits)
    rows = np.arange(B)
    loss = -float(np.mean(logp[rows, targets]))
    dlogits = np.exp(logp)
    dlogits[rows, targets] -= 1.0  # d(-log y^_y)/dz = y^ - onehot(y)
    return loss, dlogits / B


# ----------------------------------------------------------------------------------------------
# Step functions: one time step, one line per equation (notebooks 01 and 03)
# ----------------------------------------------------------------------------------------------


class StepCache(NamedTuple):
    """What step_forward keeps for step_backward: the inputs and results of one step.

    x_t (B, X), h_prev = h_{t-1} (B, H), a_t (B, H), h_t (B, H), params (RNNParams),
    f: the Activation used (f.derivative(a_t, h_t) is f'(a_t)).
    """

    x_t: np.ndarray
    h_prev: np.ndarray
    a_t: np.ndarray
    h_t: np.ndarray
    params: RNNParams
    f: Activation


def step_forward(x_t, h_prev, params: RNNParams, activation: str = "tanh"):
    """One step of the RNN: equations (2a) and (3).

    x_t (B, X), h_prev = h_{t-1} (B, H) -> (h_t (B, H), y_hat_t (B, Y), cache (StepCache)).
    Row vectors: x_t @ W_hx.T is W_hx x_t for every example of the batch at once.
    """
    f = get_activation(activation)
    a_t = x_t @ params.W_hx.T + h_prev @ params.W_hh.T + params.b_h  # pre-activation a_t
    h_t = f(a_t)  # (2a): h_t = f(a_t); (2b) when f = tanh
    logits_t = h_t @ params.W_yh.T + params.b_y  # W_yh h_t + b_y
    y_hat_t = softmax(logits_t)  # (3)
    cache = StepCache(x_t, h_prev, a_t, h_t, params, f)
    return h_t, y_hat_t, cache


def step_backward(dlogits_t, dh_next, cache):
    """Backward through one step: the local derivatives of equations (3) and (2a).

    dlogits_t (B, Y): dL/d(logits_t), from this step's loss.
    dh_next (B, H): dL/dh_t carried back from step t + 1 (zeros at t = T).
    Returns (dx_t (B, X), dh_prev (B, H), grads): dh_prev = dL/dh_{t-1} is what the previous step
    receives as its dh_next; grads is an RNNParams of this step's contribution to each gradient.
    """
    x_t, h_prev, a_t, h_t, params, f = cache  # a StepCache (or a tuple in that order)
    dW_yh = dlogits_t.T @ h_t  # logits_t = W_yh h_t + b_y
    db_y = dlogits_t.sum(axis=0)
    dh_t = dlogits_t @ params.W_yh + dh_next  # two paths reach h_t: its output and step t + 1
    da_t = dh_t * f.derivative(a_t, h_t)  # backprop through f, at the pre-activation a_t
    dW_hx = da_t.T @ x_t  # a_t = W_hx x_t + W_hh h_{t-1} + b_h
    dW_hh = da_t.T @ h_prev
    db_h = da_t.sum(axis=0)
    dx_t = da_t @ params.W_hx
    dh_prev = da_t @ params.W_hh  # (dh_t/dh_{t-1})^T applied to da_t: W_hh^T diag(f') dh_t
    return dx_t, dh_prev, RNNParams(dW_hx, dW_hh, db_h, dW_yh, db_y)


def bptt_steps(params: RNNParams, xs, targets, h0=None, activation: str = "tanh"):
    """Full BPTT as a plain loop over `step_forward` / `step_backward`: the readable reference.

    Same arguments and results as `bptt` (without truncation): returns (loss, grads, dh0).
    Slower than `bptt`; tests assert the two agree.
    """
    params = check_params(params)
    xs = check_xs(xs, params)
    T, B, _ = xs.shape
    h0 = check_h0(h0, B, params)
    targets = check_targets(targets, T, B, params.n_out)
    get_activation(activation)

    h, caches, loss = h0, [], 0.0
    for t in range(1, T + 1):
        h, _, cache = step_forward(xs[t - 1], h, params, activation)
        caches.append(cache)
    dlogits = []
    for t in range(1, T + 1):
        loss_t, dlogits_t = softmax_cross_entropy(caches[t - 1].h_t @ params.W_yh.T + params.b_y, targets[t - 1])
        loss += loss_t  # L = sum_t L_t
        dlogits.append(dlogits_t)

    grads = params.zeros_like()
    dh_next = np.zeros_like(h0)
    for t in range(T, 0, -1):
        _, dh_next, step_grads = step_backward(dlogits[t - 1], dh_next, caches[t - 1])
        grads = RNNParams(*(g + s for g, s in zip(grads, step_grads)))  # shared weights: sum over t
    return loss, grads, dh_next


# ----------------------------------------------------------------------------------------------
# Sequence functions: vectorized over batch and time, only the recurrence in a loop
# ----------------------------------------------------------------------------------------------


class Trace(NamedTuple):
    """Everything the forward pass computed, indexed as in the module docstring (row t = step t).

    h (T+1, B, H), a (T+1, B, H), logits (T+1, B, Y), y_hat (T+1, B, Y), xs (T, B, X),
    activation: the Activation f (f.name is its name, e.g. "tanh"), kept so that backward
    passes use the very function the forward pass used.
    """

    h: np.ndarray
    a: np.ndarray
    logits: np.ndarray
    y_hat: np.ndarray
    xs: np.ndarray
    activation: Activation

    @property
    def T(self) -> int:
        """Number of time steps."""
        return self.xs.shape[0]


def forward(params: RNNParams, xs, h0=None, activation: str = "tanh") -> Trace:
    """Run equations (2a) and (3) over a whole sequence.

    xs (T, B, X), h0 (B, H) or None for zeros -> Trace with h (T+1, B, H), h[0] = h0.
    The input projection W_hx x_t + b_h and the output layer are one matmul over all steps;
    only a_t = (...) + W_hh h_{t-1} is looped.
    """
    params = check_params(params)
    xs = check_xs(xs, params)
    T, B, _ = xs.shape
    h0 = check_h0(h0, B, params)
    f = get_activation(activation)
    H, dtype = params.n_hidden, params.W_hh.dtype

    h = np.empty((T + 1, B, H), dtype=dtype)
    a = np.empty((T + 1, B, H), dtype=dtype)
    h[0], a[0] = h0, np.nan
    np.matmul(xs, params.W_hx.T, out=a[1:])  # W_hx x_t for all t at once, written in place
    a[1:] += params.b_h
    W_hh_T = params.W_hh.T
    for t in range(1, T + 1):
        a[t] += h[t - 1] @ W_hh_T  # a_t = W_hx x_t + W_hh h_{t-1} + b_h
        h[t] = f(a[t])  # (2a)
    logits = np.empty((T + 1, B, params.n_out), dtype=dtype)
    logits[0] = np.nan
    np.matmul(h[1:], params.W_yh.T, out=logits[1:])  # W_yh h_t + b_y for all t at once
    logits[1:] += params.b_y
    y_hat = softmax(logits)  # (3); row 0 stays NaN
    return Trace(h, a, logits, y_hat, xs, f)


def _check_truncate(truncate):
    if truncate is None:
        return None
    if isinstance(truncate, bool) or not isinstance(truncate, (int, np.integer)) or truncate < 1:
        raise ValueError(f"truncate: expected None (full BPTT) or an integer k >= 1, got {truncate!r}")
    return int(truncate)


def bptt(params: RNNParams, xs, targets, h0=None, activation: str = "tanh", truncate=None, *, return_dh0=False):
    """Loss and gradients of L = sum_t L_t by backpropagation through time.

    xs (T, B, X), targets (T, B) integer classes, h0 (B, H) or None.
    Returns (loss, grads), or (loss, grads, dh0) with return_dh0=True:
    loss is a float, sum over t of the batch-mean cross-entropy; grads is an RNNParams of
    dL/dW_hx, dL/dW_hh, dL/db_h, dL/dW_yh, dL/db_y; dh0 (B, H) is dL/dh_0.

    truncate:
        None  full BPTT: every L_t back-propagates to h_0.
        k     per-term window: each L_t back-propagates through the k most recent steps only,
              a_t, a_{t-1}, ..., a_{t-k+1}; h_{t-k} is held constant for that term (when t <= k
              the window reaches step 1, and the term also flows into dh0). So k = 1 keeps only
              the immediate terms, and any k >= T is full BPTT exactly. Costs O(T k).
        (Chunked and randomized truncation live in `rnnlib.remedies`; see notebook 06.)

    `forward` followed by `backward`; call those two yourself to keep the trace.
    """
    params = check_params(params)
    trace = forward(params, xs, h0, activation)
    loss, grads, dh0 = backward(params, trace, targets, truncate)
    if return_dh0:
        return loss, grads, dh0
    return loss, grads


def backward(params: RNNParams, trace: Trace, targets, truncate=None):
    """The backward half of `bptt`, from a trace of `forward`: (loss, grads, dh0).

    trace from forward(params, xs, h0, activation), targets (T, B) -> loss (float),
    grads (RNNParams), dh0 (B, H). `truncate` as in `bptt`. The output layer and the
    weight-gradient sums are single matmuls over all steps; only the carried gradient is looped.
    """
    params = check_params(params)
    check_trace(trace, params)
    T, B, _ = trace.xs.shape
    targets = check_targets(targets, T, B, params.n_out)
    k = _check_truncate(truncate)
    f = get_activation(trace.activation)

    # Loss and dL/dlogits for all steps at once. L_t = -log y^_t[y_t] = logsumexp(z_t) - z_t[y_t]
    # (never log of an underflowed probability), and dL/dz_t = (y^_t - onehot(y_t)) / B.
    z = trace.logits[1:]
    t_idx, b_idx = np.meshgrid(np.arange(T), np.arange(B), indexing="ij")
    loss = float(np.sum(logsumexp(z) - z[t_idx, b_idx, targets])) / B
    dlogits = trace.y_hat[1:].copy()
    dlogits[t_idx, b_idx, targets] -= 1.0
    dlogits /= B

    dh_out = dlogits @ params.W_yh  # dL_t/dh_t through the output layer, all t at once
    W_hh = params.W_hh

    if k is None or k >= T:
        # Full BPTT: the carried gradient dh_next = dL/dh_t from all later steps.
        da = np.empty_like(dh_out)
        dh_next = np.zeros((B, params.n_hidden), dtype=dh_out.dtype)
        for t in range(T, 0, -1):
            fprime_t = f.derivative(trace.a[t], trace.h[t])  # f'(a_t), at the pre-activation
            da[t - 1] = (dh_out[t - 1] + dh_next) * fprime_t
            dh_next = da[t - 1] @ W_hh  # dL/dh_{t-1} = W_hh^T diag(f'(a_t)) dL/dh_t
        dh0 = dh_next
    else:
        # Per-term window (k < T): walk back one lag at a time for all terms L_s together.
        fprime = f.derivative(trace.a[1:], trace.h[1:])  # f'(a_t), (T, B, H)
        # carry[j - 1] = gradient at h_j that came from L_{j + lag}; it survives k lags at most.
        da = np.zeros_like(dh_out)
        dh0 = np.zeros((B, params.n_hidden), dtype=dh_out.dtype)
        carry = dh_out
        for lag in range(k):
            n = T - lag  # steps j = 1..n still receive a term from L_{j + lag}
            da_lag = carry * fprime[:n]
            da[:n] += da_lag
            dh0 += da_lag[0] @ W_hh  # the term at step 1 (from L_{1 + lag}) flows on into h_0
            if lag + 1 < k:
                carry = da_lag[1:] @ W_hh  # to h_{j-1} for j = 2..n: rows for steps 1..n-1

    # Shared weights: the gradient is the sum over time of each step's contribution,
    # computed as one matmul over all (t, b) pairs.
    TB = T * B
    da2 = da.reshape(TB, -1)
    dlog2 = dlogits.reshape(TB, -1)
    grads = RNNParams(
        W_hx=da2.T @ trace.xs.reshape(TB, -1),
        W_hh=da2.T @ trace.h[:-1].reshape(TB, -1),
        b_h=da2.sum(axis=0),
        W_yh=dlog2.T @ trace.h[1:].reshape(TB, -1),
        b_y=dlog2.sum(axis=0),
    )
    return loss, grads, dh0


# ----------------------------------------------------------------------------------------------
# Jacobians dh_t/dh_k (notebook 04)
# ----------------------------------------------------------------------------------------------


def step_jacobian(params: RNNParams, trace: Trace, i: int) -> np.ndarray:
    """dh_i/dh_{i-1} = diag(f'(a_i)) W_hh, numerator layout (rows index h_i), shape (B, H, H).

    Note the derivative is taken at the pre-activation a_i of step i (source-note erratum 1).
    """
    params = check_params(params)
    check_trace(trace, params)
    T = trace.T
    i = check_int("i", i, 1, T, high_name="T", noun="integer step")
    f = get_activation(trace.activation)
    fprime = f.derivative(trace.a[i], trace.h[i])  # (B, H)
    return fprime[:, :, None] * params.W_hh[None, :, :]


def jacobian(params: RNNParams, trace: Trace, t: int, k: int) -> np.ndarray:
    """dh_t/dh_k = prod_{i=k+1}^{t} diag(f'(a_i)) W_hh, shape (B, H, H); the identity when k = t.

    Numerator layout: entry [b, m, n] is d h_t[m] / d h_k[n] for example b. The product is built
    newest factor on the left: J = (dh_t/dh_{t-1}) ... (dh_{k+1}/dh_k). 0 <= k <= t <= T.
    """
    params = check_params(params)
    T = trace.T
    t = check_int("t", t, 0, T, high_name="T")
    k = check_int("k", k, 0, t, high_name="t")
    check_trace(trace, params)
    B, H = trace.h.shape[1], params.n_hidden
    J = np.broadcast_to(np.eye(H, dtype=trace.h.dtype), (B, H, H)).copy()
    f = get_activation(trace.activation)
    for i in range(k + 1, t + 1):
        fprime = f.derivative(trace.a[i], trace.h[i])
        J = fprime[:, :, None] * (params.W_hh @ J)  # diag(f'(a_i)) W_hh (dh_{i-1}/dh_k)
    return J
