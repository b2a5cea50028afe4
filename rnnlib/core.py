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

from ._checks import (check_activation, check_bool, check_dims, check_finite, check_float_dtype, check_h0, check_int,
                      check_nonnegative, check_params, check_positive_int, check_real_array, check_shape,
                      check_targets, check_trace, check_truncate, check_x_t, check_xs)
from .activations import Activation
from .containers import RNNParams, Trace, global_norm  # re-exported: rnnlib.core.RNNParams works as before

__all__ = [
    "RNNOverflowError",
    "RNNParams",
    "Trace",
    "StepCache",
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
# The named overflow: an exploding RNN stops with this error instead of returning NaN states
# ----------------------------------------------------------------------------------------------


class RNNOverflowError(OverflowError):
    """An RNN's numbers left the floating-point range: a state, a logit or a gradient became inf or NaN.

    Raised by `forward`, `bptt`, `bptt_steps`, `backward`, `step_forward` and `step_backward` (and
    every function built on them) instead of returning NaN states with numpy's "overflow
    encountered in matmul". Its attributes: `step`, the first step t where it happened (None when
    unknown), `T`, the number of steps, and `what` ("h_t", "logits", "gradient"). The message
    says where and points to the exact log-norm routines of `rnnlib.jacobians`.
    """

    def __init__(self, message: str, step: int | None = None, T: int | None = None, what: str = "h_t"):
        super().__init__(message)
        self.step, self.T, self.what = step, T, what


_LOG_NORMS_HINT = ("To follow an exploding network past this point, work with logarithms: "
                   "rnnlib.jacobians.jacobian_log_norms(params, trace) and "
                   "rnnlib.jacobians.matrix_power_log_norms(W_hh, T) give log10 of the norms of long Jacobian "
                   "products exactly, without overflow (a linear RNN's Jacobians do not depend on its states, so a "
                   "trace of zero inputs serves).")


def _overflow_error(where: str, what: str, step: int | None, T: int | None, dtype) -> RNNOverflowError:
    """The RNNOverflowError for `what` ("h_t", "logits" or "gradient") leaving the range of dtype at `step`."""
    limit = f"{np.finfo(dtype).max:.2g}"
    name = np.dtype(dtype).name
    at = "" if step is None else f" at step t = {step}" + ("" if T is None else f" of T = {T}")
    if what == "h_t":
        text = (f"{where}: the hidden state overflowed{at}: |h_t| left the {name} range (about {limit}) and became "
                f"inf or NaN, and every later state would be NaN. The network explodes (spectral radius of W_hh "
                f"above 1 with unbounded units such as linear or relu).")
    elif what == "logits":
        text = (f"{where}: the output logits W_yh h_t + b_y overflowed{at}: they left the {name} range (about "
                f"{limit}), so y_hat and the loss would be NaN. The hidden state has grown too large.")
    elif step is not None:
        text = (f"{where}: the gradient overflowed{at} on its way back: dL/da_t left the {name} range (about "
                f"{limit}), so the gradients would be inf or NaN. The Jacobian products dh_t/dh_k explode.")
    else:
        text = (f"{where}: the gradient overflowed: a weight gradient (a sum over the {T or ''} steps) left the "
                f"{name} range (about {limit}) and would be inf or NaN. The states and the Jacobian products "
                f"dh_t/dh_k are too large.").replace("the  steps", "the steps")
    return RNNOverflowError(f"{text} {_LOG_NORMS_HINT}", step, T, what)


def _first_bad_row(x: np.ndarray) -> int | None:
    """Index of the first row (axis 0) of x holding an inf or NaN, or None: a fast sum first, exact rows if needed."""
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.sum(x)):
            return None
    bad = ~np.isfinite(x.reshape(x.shape[0], -1)).all(axis=1)
    return int(np.argmax(bad)) if bad.any() else None


def _check_no_overflow(where: str, h: np.ndarray, logits: np.ndarray, offset: int = 0) -> None:
    """Raise RNNOverflowError naming the first step whose h_t (or, if all h_t are finite, logits) is not finite.

    h, logits: rows for steps 1..T (row i = step i + 1 + offset).
    """
    T = h.shape[0] + offset
    for what, x in (("h_t", h), ("logits", logits)):
        row = _first_bad_row(x)
        if row is not None:
            raise _overflow_error(where, what, row + 1 + offset, T, h.dtype)


# ----------------------------------------------------------------------------------------------
# Parameters (the RNNParams and Trace containers live in rnnlib.containers)
# ----------------------------------------------------------------------------------------------


_MAX_PARAMS = 10**9  # init_params refuses more: a clear error instead of numpy's MemoryError


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
    sizes = {name: check_positive_int(name, value) for name, value in
             (("n_in", n_in), ("n_hidden", n_hidden), ("n_out", n_out))}
    count = n_hidden * (n_in + n_hidden + 1 + n_out) + n_out
    if count > _MAX_PARAMS:
        largest = max(sizes, key=sizes.get)
        raise ValueError(f"{largest}: expected sizes giving at most {_MAX_PARAMS:.0e} parameters (8 GB in float64), "
                         f"got n_in = {n_in}, n_hidden = {n_hidden}, n_out = {n_out}: {count:.3g} parameters")
    seed = check_int("seed", seed, 0)
    scale = check_nonnegative("scale", scale)
    dtype = check_float_dtype("dtype", dtype)
    if spectral_radius is not None:
        spectral_radius = check_nonnegative("spectral_radius", spectral_radius)
    rng = np.random.default_rng(seed)
    W_hx = rng.standard_normal((n_hidden, n_in)) * (scale / np.sqrt(n_in))
    W_hh = rng.standard_normal((n_hidden, n_hidden)) * (scale / np.sqrt(n_hidden))
    W_yh = rng.standard_normal((n_out, n_hidden)) * (scale / np.sqrt(n_hidden))
    if spectral_radius is not None:
        W_hh = _with_spectral_radius(W_hh, spectral_radius, f"when scale = {scale:g} makes every eigenvalue 0")
    params = RNNParams(W_hx, W_hh, np.zeros(n_hidden), W_yh, np.zeros(n_out))
    return params.astype(dtype)


def _with_spectral_radius(W: np.ndarray, rho_wanted: float, why_zero: str = "") -> np.ndarray:
    """W rescaled so that max |eigenvalue| = rho_wanted (checked by the caller: finite, >= 0)."""
    rho = np.max(np.abs(np.linalg.eigvals(W)))
    if rho == 0:
        raise ValueError(f"spectral_radius: cannot rescale W_hh to {rho_wanted:g} {why_zero or 'when it is nilpotent'}"
                         .rstrip())
    return W * (rho_wanted / rho)


# ----------------------------------------------------------------------------------------------
# Softmax and cross-entropy (equation 3 and the loss; notebook 02)
# ----------------------------------------------------------------------------------------------


def logsumexp(z: np.ndarray) -> np.ndarray:
    """log(sum(exp(z))) along the last axis, shifted by max(z) so exp never overflows.

    z (..., Y) -> (...). Equals max(z) + log(sum(exp(z - max(z)))).
    """
    return _logsumexp(_check_logits("z", z))


def _check_logits(name: str, z) -> np.ndarray:
    """z as a finite real float array (..., Y) with Y >= 1; else ValueError. (Row 0 of trace.logits,
    NaN because there is no step 0, is not logits: pass trace.logits[1:].)"""
    z = check_real_array(name, z, finite=False)
    if z.ndim < 1 or z.shape[-1] < 1:
        raise ValueError(f"{name}: expected an array (..., Y) with Y >= 1 entries along the last axis, got shape {z.shape}")
    return check_finite(name, z)


def _logsumexp(z: np.ndarray) -> np.ndarray:
    """`logsumexp` for a checked z."""
    z_max = np.max(z, axis=-1)
    with np.errstate(over="ignore"):  # z - max(z) below -1.8e308 is -inf, and exp(-inf) = 0 is right
        e = z - z_max[..., None]
    np.exp(e, out=e)  # in place: one temporary array, not two
    return z_max + np.log(np.sum(e, axis=-1))


def log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax(z) along the last axis, computed with log-sum-exp so it never overflows."""
    z = _check_logits("z", z)
    with np.errstate(over="ignore"):  # only for |z| near 1.8e308, where -inf is the rounded answer
        return z - _logsumexp(z)[..., None]


def softmax(z: np.ndarray) -> np.ndarray:
    """softmax(z) along the last axis, shifted by max(z) so exp never overflows. Equation (3).

    z (..., Y) finite.
    """
    z = _check_logits("z", z)
    return _softmax_into(z, np.empty_like(z))


def _softmax_into(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    """softmax(z) along the last axis written into out (same shape): no temporary of z's size."""
    with np.errstate(over="ignore"):  # z - max(z) below -1.8e308 is -inf, and exp(-inf) = 0 is right
        np.subtract(z, np.max(z, axis=-1, keepdims=True), out=out)
    np.exp(out, out=out)  # in place: large temporaries cost page faults on every call
    out /= np.sum(out, axis=-1, keepdims=True)
    return out


def softmax_cross_entropy(logits: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy over the batch of softmax(logits) against integer targets, and its gradient.

    logits (B, Y), targets (B,) -> (loss, dlogits (B, Y)) with
    loss = -(1/B) sum_b log y^_{b, y_b} and dlogits = (y^ - onehot(y)) / B.
    """
    logits = check_dims("logits", check_real_array("logits", logits), ("B", "Y"), (1, 1))
    B, Y = logits.shape
    targets = check_targets(targets, None, B, Y)
    loss, dlogits = _cross_entropy(logits[None], targets[None], softmax(logits)[None])
    return loss, dlogits[0]


def _cross_entropy(z: np.ndarray, targets: np.ndarray, y_hat: np.ndarray) -> tuple[float, np.ndarray]:
    """L = sum_t mean_b -log y^_t[y_t] and dL/dz = (y^ - onehot(y)) / B, for checked inputs.

    z (T, B, Y) logits, targets (T, B), y_hat = softmax(z) -> (loss, dlogits (T, B, Y), a new
    array). The one place the one-hot gradient y^ - onehot(y) is written. The loss is read from
    y_hat where the target's probability is a normal float; where it underflowed, it is
    logsumexp(z) - z[y] (never the log of 0).
    """
    T, B, Y = z.shape
    flat = _target_index(targets, Y)  # index of (t, b, y_t) in the flattened (T, B, Y) array
    dlogits = y_hat.reshape(-1).copy()
    p = dlogits[flat]  # y^_t[y_t]
    tiny = p < np.finfo(p.dtype).tiny * 1e4
    loss_terms = np.log(p, where=~tiny, out=np.zeros_like(p))
    if tiny.any():  # exact for the few terms whose probability is too small to take the log of
        rows = z.reshape(-1, Y)[tiny]
        loss_terms[tiny] = rows[np.arange(rows.shape[0]), targets.reshape(-1)[tiny]] - _logsumexp(rows)
    dlogits[flat] -= 1.0  # d(-log y^_y)/dz = y^ - onehot(y)
    dlogits /= B  # the loss is the batch mean
    return -float(np.sum(loss_terms, dtype=np.float64)) / B, dlogits.reshape(T, B, Y)


def _target_index(targets: np.ndarray, Y: int) -> np.ndarray:
    """Flat positions of the targets' entries in a C-contiguous (T, B, Y) array: (T * B,)."""
    return np.arange(0, targets.size * Y, Y) + targets.reshape(-1)


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


def step_forward(x_t, h_prev, params: RNNParams, activation: str | Activation = "tanh"):
    """One step of the RNN: equations (2a) and (3).

    Args:
        x_t: inputs at step t, (B, X).
        h_prev: h_{t-1}, (B, H).
        params: RNNParams.
        activation: a name ("tanh", ...) or an Activation.
    Returns (h_t (B, H), y_hat_t (B, Y), cache (StepCache)).
    Row vectors: x_t @ W_hx.T is W_hx x_t for every example of the batch at once.
    """
    params = check_params(params)
    x_t = check_x_t(x_t, params)
    if h_prev is None:
        raise ValueError(f"h_prev: expected h_(t-1), an array (B, H) = ({x_t.shape[0]}, {params.n_hidden}), got None "
                         f"(forward takes h0=None for zeros; step_forward needs the state)")
    h_prev = check_h0(h_prev, x_t.shape[0], params, name="h_prev")
    f = check_activation(activation)
    with np.errstate(over="ignore", invalid="ignore"):
        h_t, y_hat_t, cache = _step_forward(x_t, h_prev, params, f)
    if not np.isfinite(h_t).all():
        raise _overflow_error("step_forward", "h_t", None, None, h_t.dtype)
    if not np.isfinite(y_hat_t).all():
        raise _overflow_error("step_forward", "logits", None, None, h_t.dtype)
    return h_t, y_hat_t, cache


def _step_forward(x_t, h_prev, params: RNNParams, f: Activation):
    """`step_forward` for checked arguments."""
    a_t = x_t @ params.W_hx.T + h_prev @ params.W_hh.T + params.b_h  # pre-activation a_t
    h_t = f(a_t)  # (2a): h_t = f(a_t); (2b) when f = tanh
    logits_t = h_t @ params.W_yh.T + params.b_y  # W_yh h_t + b_y
    y_hat_t = _softmax_into(logits_t, np.empty_like(logits_t))  # (3)
    cache = StepCache(x_t, h_prev, a_t, h_t, params, f)
    return h_t, y_hat_t, cache


def step_backward(dlogits_t, dh_next, cache):
    """Backward through one step: the local derivatives of equations (3) and (2a).

    Args:
        dlogits_t: dL/d(logits_t) from this step's loss, (B, Y).
        dh_next: dL/dh_t carried back from step t + 1 (zeros at t = T), (B, H).
        cache: the StepCache of `step_forward` at step t (or a tuple in its field order).
    Returns (dx_t (B, X), dh_prev (B, H), grads): dh_prev = dL/dh_{t-1} is what the previous step
    receives as its dh_next; grads is an RNNParams of this step's contribution to each gradient.
    """
    cache = _check_cache(cache)
    B, H, Y = cache.h_t.shape[0], cache.params.n_hidden, cache.params.n_out
    checked = []
    for name, value, shape in (("dlogits_t", dlogits_t, (B, Y)), ("dh_next", dh_next, (B, H))):
        value = check_shape(name, check_real_array(name, value, finite=False), shape, "to match the cache")
        checked.append(check_finite(name, value))
    with np.errstate(over="ignore", invalid="ignore"):
        dx_t, dh_prev, grads = _step_backward(*checked, cache)
    if not (np.isfinite(dx_t).all() and np.isfinite(dh_prev).all() and all(np.isfinite(g).all() for g in grads)):
        raise _overflow_error("step_backward", "gradient", None, None, dh_prev.dtype)
    return dx_t, dh_prev, grads


def _check_cache(cache) -> StepCache:
    """cache: a StepCache of step_forward (or a plain tuple in its field order) with consistent fields."""
    if isinstance(cache, tuple) and not hasattr(cache, "_fields") and len(cache) == len(StepCache._fields):
        cache = StepCache(*cache)  # a plain tuple in StepCache's field order
    if not isinstance(cache, StepCache):
        raise ValueError(f"cache: expected the StepCache returned by rnnlib.step_forward, got {type(cache).__name__}")
    try:
        params = check_params(cache.params)
    except ValueError as e:
        raise ValueError(f"cache: expected the StepCache returned by rnnlib.step_forward, got one whose {e}") from None
    f = cache.f
    if not isinstance(f, Activation):
        raise ValueError(f"cache: expected the StepCache returned by rnnlib.step_forward, got one whose f is "
                         f"{type(f).__name__}, not the Activation step_forward used")
    B = np.shape(cache.h_t)[0] if np.ndim(cache.h_t) == 2 else 0
    H, X = params.n_hidden, params.n_in
    fields = []
    for name, shape in (("x_t", (B, X)), ("h_prev", (B, H)), ("a_t", (B, H)), ("h_t", (B, H))):
        value = getattr(cache, name)
        ok = isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.shape == shape and B >= 1
        if not ok or not np.isfinite(value).all():
            raise ValueError(f"cache: expected the StepCache returned by rnnlib.step_forward, got one whose {name} is "
                             f"not a finite float array of shape (B, ...) = {shape}")
        fields.append(value)
    return StepCache(*fields, params, f)


def _step_backward(dlogits_t, dh_next, cache: StepCache):
    """`step_backward` for checked arguments."""
    x_t, h_prev, a_t, h_t, params, f = cache
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


def bptt_steps(params: RNNParams, xs, targets, h0=None, activation: str | Activation = "tanh"):
    """Full BPTT as a plain loop over `step_forward` / `step_backward`: the readable reference.

    Same arguments and results as `bptt` (without truncation): returns (loss, grads, dh0).
    Slower than `bptt`; tests assert the two agree.
    """
    params, xs, h0, targets, f = _check_sequence(params, xs, h0, _required(targets), activation)
    T = xs.shape[0]

    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is named below, not warned about
        h, caches, loss = h0, [], 0.0
        for t in range(1, T + 1):
            h, _, cache = _step_forward(xs[t - 1], h, params, f)
            caches.append(cache)
        logits = np.stack([cache.h_t @ params.W_yh.T + params.b_y for cache in caches])
        _check_no_overflow("bptt_steps", np.stack([cache.h_t for cache in caches]), logits)
        dlogits = []
        for t in range(1, T + 1):
            logits_t = logits[t - 1]
            y_hat_t = _softmax_into(logits_t, np.empty_like(logits_t))
            loss_t, dlogits_t = _cross_entropy(logits_t[None], targets[t - 1][None], y_hat_t[None])
            loss += loss_t  # L = sum_t L_t
            dlogits.append(dlogits_t[0])

        grads = params.zeros_like()
        dh_next = np.zeros_like(h0)
        for t in range(T, 0, -1):
            _, dh_next, step_grads = _step_backward(dlogits[t - 1], dh_next, caches[t - 1])
            if not np.isfinite(dh_next).all():
                raise _overflow_error("bptt_steps", "gradient", t, T, dh_next.dtype)
            grads = grads.add(step_grads)  # shared weights: sum over t
    if not (np.isfinite(loss) and all(np.isfinite(g).all() for g in grads)):
        raise _overflow_error("bptt_steps", "gradient", None, T, dh_next.dtype)
    return loss, grads, dh_next


# ----------------------------------------------------------------------------------------------
# Sequence functions: vectorized over batch and time, only the recurrence in a loop
# ----------------------------------------------------------------------------------------------


def _check_sequence(params, xs, h0, targets, activation):
    """The checks of every sequence function, once: (params, xs, h0, targets or None, f).

    targets=None: the caller takes no targets (forward, the Jacobian functions); a function that
    needs targets passes `_required(targets)`, so that None is rejected, naming targets.
    """
    params = check_params(params)
    xs = check_xs(xs, params)
    T, B, _ = xs.shape
    h0 = check_h0(h0, B, params)
    if targets is not None:
        targets = check_targets(None if targets is _MISSING else targets, T, B, params.n_out)
    return params, xs, h0, targets, check_activation(activation)


_MISSING = object()


def _required(targets):
    """targets as given, with None marked as missing (so that check_targets rejects it, naming targets)."""
    return _MISSING if targets is None else targets


def forward(params: RNNParams, xs, h0=None, activation: str | Activation = "tanh") -> Trace:
    """Run equations (2a) and (3) over a whole sequence.

    Args:
        params: RNNParams.
        xs: inputs, (T, B, X).
        h0: h_0, (B, H), or None for zeros.
        activation: a name ("tanh", ...) or an Activation.
    Returns a Trace with h (T+1, B, H), h[0] = h0 (see the module docstring for every field).
    The input projection W_hx x_t + b_h and the output layer are one matmul over all steps;
    only a_t = (...) + W_hh h_{t-1} is looped. The trace keeps its own copy of xs.
    Raises RNNOverflowError (naming the first such step) if a state or logit leaves the float
    range: an exploding network, whose norms `rnnlib.jacobians` computes as exact log-norms.
    """
    given = xs
    params, xs, h0, _, f = _check_sequence(params, xs, h0, None, activation)
    if isinstance(given, np.ndarray) and np.may_share_memory(xs, given):
        xs = xs.copy()  # the trace keeps its own inputs: editing the caller's xs later cannot change backward
    return _forward(params, xs, h0, f)


def _forward(params: RNNParams, xs: np.ndarray, h0: np.ndarray, f: Activation, where: str = "forward") -> Trace:
    """`forward` for checked arguments: xs and h0 already in the dtype of the parameters.

    Raises RNNOverflowError (naming `where` and the first step) if a state or logit overflows.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is named below, not warned about
        trace = _forward_unchecked(params, xs, h0, f)
    _check_no_overflow(where, trace.h[1:], trace.logits[1:])
    return trace


def _forward_unchecked(params: RNNParams, xs: np.ndarray, h0: np.ndarray, f: Activation) -> Trace:
    T, B, X = xs.shape
    H, Y, dtype = params.n_hidden, params.n_out, params.W_hh.dtype

    h = np.empty((T + 1, B, H), dtype=dtype)
    a = np.empty((T + 1, B, H), dtype=dtype)
    h[0], a[0] = h0, np.nan
    # W_hx x_t + b_h for all t at once: one (T B, X) x (X, H) product, written in place
    np.matmul(xs.reshape(T * B, X), params.W_hx.T, out=a[1:].reshape(T * B, H))
    a[1:] += params.b_h
    W_hh_T = params.W_hh.T
    recur = np.empty((B, H), dtype=dtype)
    for t in range(1, T + 1):
        np.matmul(h[t - 1], W_hh_T, out=recur)
        a[t] += recur  # a_t = W_hx x_t + W_hh h_{t-1} + b_h
        f.into(a[t], out=h[t])  # (2a): h_t = f(a_t)
    logits = np.empty((T + 1, B, Y), dtype=dtype)
    logits[0] = np.nan
    np.matmul(h[1:].reshape(T * B, H), params.W_yh.T, out=logits[1:].reshape(T * B, Y))  # W_yh h_t, all t
    logits[1:] += params.b_y
    y_hat = np.empty_like(logits)
    y_hat[0] = np.nan
    _softmax_into(logits[1:], y_hat[1:])  # (3)
    return Trace(h, a, logits, y_hat, xs, f)


def bptt(params: RNNParams, xs, targets, h0=None, activation: str | Activation = "tanh", truncate=None, *,
         return_dh0=False):
    """Loss and gradients of L = sum_t L_t by backpropagation through time.

    Args:
        params: RNNParams.
        xs: inputs, (T, B, X).
        targets: integer classes y_t, (T, B).
        h0: h_0, (B, H), or None for zeros.
        activation: a name ("tanh", ...) or an Activation.
        truncate: None or a window k >= 1 (below).
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

    `forward` followed by `backward`; call those two yourself to keep the trace. Raises
    RNNOverflowError where either overflows.
    """
    params, xs, h0, targets, f = _check_sequence(params, xs, h0, _required(targets), activation)
    k = check_truncate(truncate)
    return_dh0 = check_bool("return_dh0", return_dh0)
    loss, grads, dh0 = _backward(params, _forward(params, xs, h0, f, "bptt"), targets, k, "bptt")
    if return_dh0:
        return loss, grads, dh0
    return loss, grads


def backward(params: RNNParams, trace: Trace, targets, truncate=None):
    """The backward half of `bptt`, from a trace of `forward`: (loss, grads, dh0).

    trace from forward(params, xs, h0, activation), targets (T, B) -> loss (float),
    grads (RNNParams), dh0 (B, H). `truncate` as in `bptt`. The output layer and the
    weight-gradient sums are single matmuls over all steps; only the carried gradient is looped.
    The trace must be of these params (another model's trace is a ValueError naming trace);
    RNNOverflowError names the step where the carried gradient leaves the float range.
    """
    params = check_params(params)
    check_trace(trace, params)
    T, B, _ = trace.xs.shape
    targets = check_targets(targets, T, B, params.n_out)
    return _backward(params, trace, targets, check_truncate(truncate))


def _output_gradients(params: RNNParams, trace: Trace, targets: np.ndarray):
    """loss, dL/dlogits (T, B, Y) and dL_t/dh_t through the output layer (T, B, H), rows t - 1."""
    loss, dlogits = _cross_entropy(trace.logits[1:], targets, trace.y_hat[1:])
    T, B, Y = dlogits.shape
    return loss, dlogits, (dlogits.reshape(T * B, Y) @ params.W_yh).reshape(T, B, -1)


def _fprimes(trace: Trace) -> np.ndarray:
    """f'(a_t) for t = 1..T as one array (T, B, H), row t - 1 = step t."""
    return trace.activation.derivative(trace.a[1:], trace.h[1:])


_BLOCK_ENTRIES = 32768  # f'(a_t) of several steps at once: up to 256 kB in float64 (the size of an L2 cache)


def _backward(params: RNNParams, trace: Trace, targets: np.ndarray, k: int | None, where: str = "backward"):
    """`backward` for checked arguments (k: None or a window >= 1).

    Raises RNNOverflowError (naming `where` and the step where the carried gradient overflowed).
    """
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is named below, not warned about
        loss, grads, dh0, da = _backward_unchecked(params, trace, targets, k)
    if np.isfinite(loss) and np.isfinite(dh0).all() and all(np.isfinite(g).all() for g in grads):
        return loss, grads, dh0
    T = trace.xs.shape[0]
    bad = ~np.isfinite(da.reshape(T, -1)).all(axis=1)  # row t - 1: dL/da_t
    step = int(np.flatnonzero(bad)[-1]) + 1 if bad.any() else None  # the first step reached going back
    raise _overflow_error(where, "gradient", step, T, trace.h.dtype)


def _backward_unchecked(params: RNNParams, trace: Trace, targets: np.ndarray, k: int | None):
    T, B, _ = trace.xs.shape
    H = params.n_hidden
    loss, dlogits, da = _output_gradients(params, trace, targets)  # da starts as dL_t/dh_t, all t
    W_hh = params.W_hh

    if k is None or k >= T:
        # Full BPTT: the carried gradient dh_next = dL/dh_t from all later steps; da is
        # overwritten in place, row t - 1 becoming dL/da_t. f'(a_t) is computed a block of
        # steps at a time, small enough to stay in the CPU cache until the loop uses it.
        f = trace.activation
        block = max(1, min(T, _BLOCK_ENTRIES // (B * H)))
        fprime = np.empty((block, B, H), dtype=da.dtype)
        dh_next = np.zeros((B, H), dtype=da.dtype)
        for t in range(T, 0, -1):
            if (T - t) % block == 0:  # f'(a_s) for the steps s = lo + 1..t, row s - lo - 1
                lo = max(t - block, 0)
                f.fprime_into(trace.a[lo + 1 : t + 1], trace.h[lo + 1 : t + 1], fprime[: t - lo])
            da_t = da[t - 1]
            da_t += dh_next
            da_t *= fprime[t - lo - 1]  # dL/da_t = (dL_t/dh_t + dh_next) * f'(a_t), at the pre-activation
            np.matmul(da_t, W_hh, out=dh_next)  # dL/dh_{t-1} = W_hh^T diag(f'(a_t)) dL/dh_t
        dh0 = dh_next
    else:
        fprime = _fprimes(trace)  # f'(a_t) for all t at once
        # Per-term window (k < T): walk back one lag at a time for all terms L_s together.
        # carry[j - 1] = gradient at h_j that came from L_{j + lag}; it survives k lags at most.
        carry, da = da, np.zeros_like(da)
        dh0 = np.zeros((B, params.n_hidden), dtype=da.dtype)
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
    return loss, grads, dh0, da


# ----------------------------------------------------------------------------------------------
# Jacobians dh_t/dh_k (notebook 04)
# ----------------------------------------------------------------------------------------------


def step_jacobian(params: RNNParams, trace: Trace, i: int) -> np.ndarray:
    """dh_i/dh_{i-1} = diag(f'(a_i)) W_hh, numerator layout (rows index h_i), shape (B, H, H).

    Note the derivative is taken at the pre-activation a_i of step i (source-note erratum 1).
    """
    params = check_params(params)
    check_trace(trace, params)
    i = check_int("i", i, 1, trace.T, high_name="T", noun="integer step")
    return _step_jacobian(params, trace, i)


def _step_jacobian(params: RNNParams, trace: Trace, i: int) -> np.ndarray:
    """`step_jacobian` for checked arguments: the one place diag(f'(a_i)) W_hh is formed."""
    fprime = trace.activation.derivative(trace.a[i], trace.h[i])  # (B, H)
    return fprime[:, :, None] * params.W_hh[None, :, :]


def jacobian(params: RNNParams, trace: Trace, t: int, k: int) -> np.ndarray:
    """dh_t/dh_k = prod_{i=k+1}^{t} diag(f'(a_i)) W_hh, shape (B, H, H); the identity when k = t.

    Numerator layout: entry [b, m, n] is d h_t[m] / d h_k[n] for example b. The product is built
    newest factor on the left: J = (dh_t/dh_{t-1}) ... (dh_{k+1}/dh_k). 0 <= k <= t <= T.
    """
    params = check_params(params)
    check_trace(trace, params)
    t = check_int("t", t, 0, trace.T, high_name="T")
    k = check_int("k", k, 0, t, high_name="t")
    return _jacobian(params, trace, t, k)


def _jacobian(params: RNNParams, trace: Trace, t: int, k: int) -> np.ndarray:
    """`jacobian` for checked arguments."""
    B, H = trace.h.shape[1], params.n_hidden
    J = np.broadcast_to(np.eye(H, dtype=trace.h.dtype), (B, H, H)).copy()
    for i in range(k + 1, t + 1):
        J = _step_jacobian(params, trace, i) @ J  # diag(f'(a_i)) W_hh (dh_{i-1}/dh_k)
    return J
