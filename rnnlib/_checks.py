"""Argument checks shared by the rnnlib modules (package-internal: not part of the public API).

Every check either returns its argument normalized (an int, a float, a float array, an
`RNNParams` of float arrays) or raises a ValueError that names the argument, what was expected
and what was given, e.g. "t: expected an integer 0 <= t <= T = 4, got 5". Notebooks and tests
match some of these messages, so change their wording only together with those.

The modules of rnnlib import from here; nothing here is re-exported by `rnnlib`. Numpy only.
One check at the boundary: a public function calls these once on its arguments and hands the
normalized values to private workers (`_forward`, `_backward`, ...) that trust them.

The checks of numbers, choices and plain arrays live in `rnnlib._values` (so that
`rnnlib.containers`, imported here for its types, can use them too) and are re-exported here:
import every validator from `_checks`.
"""

from __future__ import annotations

import math  # noqa: F401 - used by the validators appended below by the analysis and training groups
import numbers  # noqa: F401

import numpy as np

from .activations import Activation, get_activation
from .containers import RNNParams, Trace  # types only: no import cycle with core
from ._values import (  # noqa: F401 - re-exported: every module imports its validators from _checks
    is_int, real_scalar, check_int, check_positive_int, check_positive, check_real, check_nonnegative,
    check_fraction, check_bool, _same_option, check_choice, check_generator,
    check_truncate, check_ord, _short, _got_dtype, as_array, check_real_array, check_array_list,
    check_float_dtype, _cast,
)

def check_activation(activation) -> Activation:
    """The Activation for a name ("tanh", ...) or a custom `Activation` object; else ValueError."""
    return get_activation(activation)


# ----------------------------------------------------------------------------------------------
# RNN parameters, inputs, states, targets and traces (shapes as in core's docstring)
# ----------------------------------------------------------------------------------------------


def as_float(a) -> np.ndarray:
    """a as an array; integer or boolean arrays become float64 (float32 and float64 stay).

    No checks: use check_real_array(name, a) at a public boundary.
    """
    a = np.asarray(a)
    return a if np.issubdtype(a.dtype, np.floating) else a.astype(np.float64)


def check_square(name: str, W, *, allow_complex: bool = False) -> np.ndarray:
    """W as a float (or, if allowed, complex) array if it is a finite square matrix (H, H); else ValueError."""
    a = as_array(name, W)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"{name}: expected a square matrix (H, H), got shape {a.shape}")
    if a.dtype.kind not in ("iufc" if allow_complex else "iuf"):
        kind = "real or complex" if allow_complex else "real"
        raise ValueError(f"{name}: expected a {kind} matrix, got dtype {a.dtype}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: expected finite values, got NaN or inf")
    return a if a.dtype.kind in "fc" else a.astype(np.float64)


def check_int_array(name: str, values, low: int = 0, high: int | None = None) -> np.ndarray:
    """values as an integer array with low <= every entry (<= high if given); else ValueError."""
    a = as_array(name, values)
    expected = f">= {low}" if high is None else f"in {low}..{high}"
    if a.dtype.kind not in "iu":  # bool, float, complex, str and object arrays are not integers
        raise ValueError(f"{name}: expected integers {expected}, got {_got_dtype(values, a)}")
    if a.size and (a.min() < low or (high is not None and a.max() > high)):
        got = f"values from {a.min()} to {a.max()}" if a.size > 8 else f"{values!r}"
        raise ValueError(f"{name}: expected integers {expected}, got {got}")
    return a


def check_params(params) -> RNNParams:
    """params (an RNNParams, or a plain 5-tuple in its field order) -> RNNParams of finite float arrays.

    Checks W_hh (H, H), W_hx (H, X), b_h (H,), W_yh (Y, H), b_y (Y,) with H, X, Y >= 1, real
    dtypes (no bool, complex, str, object). Another container (a list, an LSTMParams, a StepCache)
    is rejected.
    """
    if not isinstance(params, RNNParams):
        if isinstance(params, tuple) and not hasattr(params, "_fields") and len(params) == 5:
            params = RNNParams(*params)
        else:
            got = type(params).__name__ + (f" of length {len(params)}" if isinstance(params, (tuple, list)) else "")
            raise ValueError(f"params: expected an RNNParams(W_hx, W_hh, b_h, W_yh, b_y), got {got}")
    W_hx, W_hh, b_h, W_yh, b_y = (check_real_array(f"params.{name}", p, finite=False)
                                  for name, p in zip(RNNParams._fields, params))
    if W_hh.ndim != 2 or W_hh.shape[0] != W_hh.shape[1]:
        raise ValueError(f"params.W_hh: expected a square matrix (H, H), got shape {W_hh.shape}")
    H = W_hh.shape[0]
    if H < 1:
        raise ValueError(f"params.W_hh: expected H >= 1 hidden units, got shape {W_hh.shape}")
    if W_hx.ndim != 2 or W_hx.shape[0] != H:
        raise ValueError(f"params.W_hx: expected shape ({H}, X), got {W_hx.shape}")
    if W_hx.shape[1] < 1:
        raise ValueError(f"params.W_hx: expected X >= 1 inputs, got shape {W_hx.shape}")
    if b_h.shape != (H,):
        raise ValueError(f"params.b_h: expected shape ({H},), got {b_h.shape}")
    check_output_layer(W_yh, b_y, H)
    check_finite_fields(RNNParams._fields, (W_hx, W_hh, b_h, W_yh, b_y))
    return RNNParams(W_hx, W_hh, b_h, W_yh, b_y)


def check_output_layer(W_yh: np.ndarray, b_y: np.ndarray, H: int) -> int:
    """The output layer of any model with H hidden units: W_yh (Y, H) with Y >= 1, b_y (Y,); returns Y."""
    if W_yh.ndim != 2 or W_yh.shape[1] != H:
        raise ValueError(f"params.W_yh: expected shape (Y, {H}), got {W_yh.shape}")
    if W_yh.shape[0] < 1:
        raise ValueError(f"params.W_yh: expected Y >= 1 outputs, got shape {W_yh.shape}")
    Y = W_yh.shape[0]
    if b_y.shape != (Y,):
        raise ValueError(f"params.b_y: expected shape ({Y},) to match W_yh, got {b_y.shape}")
    return Y


def check_finite_fields(names, arrays) -> None:
    """Every array finite; else a ValueError naming params.<field>."""
    for name, p in zip(names, arrays):
        if not np.all(np.isfinite(p)):
            raise ValueError(f"params.{name}: expected finite values, got NaN or inf")


def check_xs(xs, params: RNNParams) -> np.ndarray:
    """xs (T, B, X) with T, B >= 1 and X = params.n_in, finite -> xs in the dtype of W_hh."""
    return _check_inputs("xs", check_time_major(xs), params)


def check_time_major(xs) -> np.ndarray:
    """xs as a real array of shape (T, B, X) with T, B, X >= 1 (any model's inputs; X is checked by the caller)."""
    xs = check_real_array("xs", xs, finite=False)
    if xs.ndim != 3:
        hint = " (for a single sequence use xs[:, None, :])" if xs.ndim == 2 else ""
        raise ValueError(f"xs: expected a time-major array (T, B, X) with 3 dimensions, got shape {xs.shape}{hint}")
    if min(xs.shape) < 1:
        raise ValueError(f"xs: expected T >= 1, B >= 1 and X >= 1, got shape {xs.shape}")
    return xs


def check_x_t(x_t, params: RNNParams) -> np.ndarray:
    """x_t (B, X) with B >= 1 and X = params.n_in, finite (one step's inputs) -> in the dtype of W_hh."""
    x_t = check_real_array("x_t", x_t, finite=False)
    if x_t.ndim != 2 or x_t.shape[0] < 1:
        raise ValueError(f"x_t: expected one step's inputs (B, X) with B >= 1, got shape {x_t.shape}")
    return _check_inputs("x_t", x_t, params)


def _check_inputs(name: str, x: np.ndarray, params: RNNParams) -> np.ndarray:
    if x.shape[-1] != params.n_in:
        raise ValueError(f"{name}: expected last dimension X = {params.n_in} (W_hx is {params.W_hx.shape}), "
                         f"got shape {x.shape}")
    # one conversion; the finite check then runs in the working dtype
    return _cast(name, x, params.W_hh.dtype)


def check_h0(h0, B: int, params: RNNParams, name: str = "h0") -> np.ndarray:
    """h0 (B, H) finite, or None for zeros -> (B, H) in the dtype of W_hh. `name`: h_prev, h_t, ..."""
    return check_state(name, h0, B, params.n_hidden, params.W_hh.dtype)


def check_state(name: str, s, B: int, H: int, dtype) -> np.ndarray:
    """A state of any model: s (B, H) real and finite, or None for zeros -> (B, H) in `dtype`."""
    if s is None:
        return np.zeros((B, H), dtype=dtype)
    s = check_real_array(name, s, finite=False)
    if s.shape != (B, H):
        raise ValueError(f"{name}: expected shape (B, H) = ({B}, {H}), got {s.shape}")
    return _cast(name, s, dtype)


def check_targets(targets, T: int | None, B: int, Y: int) -> np.ndarray:
    """targets (T, B) of integer classes in 0..Y-1 -> the same array; T=None checks one step, (B,)."""
    shape, text = ((B,), f"(B,) = ({B},)") if T is None else ((T, B), f"(T, B) = ({T}, {B})")
    if targets is None:
        raise ValueError(f"targets: expected integer classes of shape {text}, got None")
    targets = as_array("targets", targets)
    if targets.shape != shape:
        raise ValueError(f"targets: expected shape {text}, got {targets.shape}")
    if targets.dtype.kind not in "iu":
        raise ValueError(f"targets: expected integer class indices, got dtype {targets.dtype}")
    if targets.size and (targets.min() < 0 or targets.max() >= Y):
        raise ValueError(
            f"targets: expected classes in 0..{Y - 1} (Y = {Y}), got values from {targets.min()} to {targets.max()}"
        )
    return targets


def check_trace(trace, params: RNNParams) -> None:
    """trace must be a `Trace` that `rnnlib.forward` made with these params.

    A non-Trace (an array, a tuple) gets this ValueError before any attribute is read, never
    numpy's "truth value of an array is ambiguous". A trace of another model is foreign: its
    X, H or Y differ from params' (checked by shape), or its first and last pre-activations are
    not W_hx x_t + W_hh h_{t-1} + b_h for these params (checked numerically, O(B H (X + H))).
    """
    if not isinstance(trace, Trace):
        raise ValueError(f"trace: expected the Trace returned by rnnlib.forward, got {type(trace).__name__}")
    for field in ("h", "a", "logits", "y_hat", "xs"):
        value = getattr(trace, field)
        if not isinstance(value, np.ndarray) or value.ndim != 3 or value.dtype.kind != "f":
            raise ValueError(f"trace: expected the Trace returned by rnnlib.forward, got a Trace whose {field} "
                             f"is not a 3-d float array")
    if not isinstance(trace.activation, Activation):
        raise ValueError(f"trace: expected the Trace returned by rnnlib.forward, got a Trace whose activation is "
                         f"{_short(trace.activation)}")
    T, B, X = trace.xs.shape
    H, Y = params.n_hidden, params.n_out
    if trace.h.shape[2] != H:
        raise ValueError(f"trace: expected hidden size H = {H} (W_hh is {params.W_hh.shape}), "
                         f"got a trace with H = {trace.h.shape[2]}")
    if X != params.n_in:
        raise ValueError(f"trace: expected a trace of a model with X = {params.n_in} inputs (W_hx is "
                         f"{params.W_hx.shape}), got a trace with X = {X}")
    if trace.logits.shape[2] != Y:
        raise ValueError(f"trace: expected a trace of a model with Y = {Y} outputs (W_yh is {params.W_yh.shape}), "
                         f"got a trace with Y = {trace.logits.shape[2]}")
    if T < 1 or B < 1 or trace.h.shape != (T + 1, B, H) or trace.a.shape != (T + 1, B, H) \
            or trace.logits.shape != (T + 1, B, Y) or trace.y_hat.shape != (T + 1, B, Y):
        raise ValueError(f"trace: expected h, a of shape (T + 1, B, H) = ({T + 1}, {B}, {H}) and logits, y_hat of "
                         f"shape ({T + 1}, {B}, {Y}) for xs of shape {trace.xs.shape}, got h {trace.h.shape}, "
                         f"a {trace.a.shape}, logits {trace.logits.shape}, y_hat {trace.y_hat.shape}")
    for t in {1, T}:
        if not _is_pre_activation(trace, params, t):
            raise ValueError(f"trace: expected a trace of these params, got one whose a_{t} is not "
                             f"W_hx x_{t} + W_hh h_{t - 1} + b_h for them (a trace of another model, or of params "
                             f"changed since forward ran)")


def _is_pre_activation(trace: Trace, params: RNNParams, t: int) -> bool:
    """a_t == W_hx x_t + W_hh h_{t-1} + b_h, to rounding (tolerance sqrt(eps) of the terms' size)."""
    x, h = trace.xs[t - 1], trace.h[t - 1]
    with np.errstate(all="ignore"):
        a = x @ params.W_hx.T + h @ params.W_hh.T + params.b_h
        size = np.abs(x) @ np.abs(params.W_hx.T) + np.abs(h) @ np.abs(params.W_hh.T) + np.abs(params.b_h)
        tol = np.sqrt(np.finfo(trace.a.dtype).eps) * (size + np.finfo(trace.a.dtype).tiny)
        return bool(np.all((trace.a[t] == a) | (np.abs(trace.a[t] - a) <= tol)))


# ---- validators for the training group ----
# rnnlib.train, remedies, tasks, ngram and lstm. Same contract as above: return the argument
# normalized, or raise a ValueError "<argument>: expected <what>, got <what>".

# A bound on sizes that enter a product (n x n count tables, H x H matrices): beyond it the
# argument gets a clear error instead of numpy's "array is too big" or "maximum allowed dimension".
MAX_UNITS = 100_000

from ._values import check_callable  # noqa: E402,F401 - the core group's, re-exported for train


def describe(value) -> str:
    """A short description of a value for a message (arrays by shape and dtype, others by repr)."""
    return _short(value)


def _as_array(name: str, value, what: str) -> np.ndarray:
    """np.asarray(value), or "{name}: expected {what}, got ..." for None, strings and ragged nesting."""
    if value is None or isinstance(value, (str, bytes)):
        raise ValueError(f"{name}: expected {what}, got {describe(value)}")
    try:
        return np.asarray(value)
    except (TypeError, ValueError):  # ragged nesting
        raise ValueError(f"{name}: expected {what}, got {describe(value)}") from None


def check_real_nd(name: str, value, ndim: int, *, finite: bool = True) -> np.ndarray:
    """`check_real_array` with exactly `ndim` dimensions; else "{name}: expected a real {ndim}-D array"."""
    a = check_real_array(name, value, finite=finite)
    if a.ndim != ndim:
        raise ValueError(f"{name}: expected a real {ndim}-D array, got shape {a.shape}")
    return a


def check_real_fields(names, arrays, prefix: str = "params") -> list:
    """Each field of a parameter container as a float array of a real dtype; else a ValueError
    naming {prefix}.{field} (finiteness is checked separately, after the shapes)."""
    return [check_real_array(f"{prefix}.{n}", a, finite=False) for n, a in zip(names, arrays)]


def check_arrays_like(name: str, arrays, like=None, like_name: str = "params") -> list:
    """`check_array_list` (finite real arrays), non-empty, and with `like` (a sequence of arrays) the
    same number of arrays with the same shapes; entries named {name}.{field} or {name}[i]."""
    out = check_array_list(name, arrays)
    if not out:
        raise ValueError(f"{name}: expected a non-empty tuple of arrays (e.g. an RNNParams), got {describe(arrays)}")
    if like is not None:
        if len(like) != len(out):
            raise ValueError(f"{name}: expected {len(like)} arrays like {like_name}, got {len(out)}")
        fields = getattr(arrays, "_fields", None)
        for i, a in enumerate(out):
            if a.shape != np.shape(like[i]):
                label = f"{name}.{fields[i]}" if fields else f"{name}[{i}]"
                raise ValueError(f"{label}: expected shape {np.shape(like[i])} like {like_name}, got {a.shape}")
    return out


def check_optimizer(optimizer):
    """An optimizer object with a method step(params, grads) (rnnlib.train.SGD, Adagrad, Adam, ...)."""
    if isinstance(optimizer, type) or not callable(getattr(optimizer, "step", None)):
        raise ValueError(f"optimizer: expected an optimizer object with a step(params, grads) method, e.g. "
                         f"rnnlib.train.Adam(0.01), got {describe(optimizer)}")
    return optimizer


def check_seed(name: str, seed) -> int:
    """A seed for np.random.default_rng: an integer >= 0 (not a bool)."""
    return check_int(name, seed, 0)


def check_ids(name: str, ids, V: int | None = None, *, ndim: int | None = 1, min_size: int = 1) -> np.ndarray:
    """ids as an integer array (not bool) of `ndim` dimensions (None: any) with at least min_size
    entries, each in 0..V-1 (>= 0 when V is None); else ValueError."""
    dims = "an" if ndim is None else f"a {ndim}-D"
    where = "" if V is None else f" in 0..{V - 1}"
    what = f"{dims} integer array of at least {min_size} ids{where}"
    a = _as_array(name, ids, what)
    if a.size == 0 and a.dtype == np.float64 and not isinstance(ids, np.ndarray):
        a = a.astype(np.int64)  # [] or (): no ids, and numpy's default dtype for them is float
    if not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{name}: expected {what}, got dtype {a.dtype}")
    if (ndim is not None and a.ndim != ndim) or a.size < min_size:
        raise ValueError(f"{name}: expected {what}, got shape {a.shape}")
    if a.size and (a.min() < 0 or (V is not None and a.max() >= V)):
        raise ValueError(f"{name}: expected {what}, got values from {a.min()} to {a.max()}")
    return a


def check_text(name: str, text) -> str:
    """A non-empty str; else ValueError."""
    if not isinstance(text, str) or not text:
        raise ValueError(f"{name}: expected a non-empty string, got {describe(text)}")
    return text


def check_vocab(vocab) -> list:
    """A vocabulary: a non-empty list (or tuple) of distinct one-character strings."""
    ok = isinstance(vocab, (list, tuple)) and len(vocab) > 0
    ok = ok and all(isinstance(c, str) and len(c) == 1 for c in vocab) and len(set(vocab)) == len(vocab)
    if not ok:
        raise ValueError(f"vocab: expected a non-empty list of distinct characters (build_vocab's), got {describe(vocab)}")
    return list(vocab)
