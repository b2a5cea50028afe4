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
    check_float_dtype, _cast, check_callable, check_text, check_nonempty, check_finite, check_shape, check_dims,
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


def check_vocab(vocab) -> list:
    """A vocabulary: a non-empty list (or tuple) of distinct one-character strings."""
    ok = isinstance(vocab, (list, tuple)) and len(vocab) > 0
    ok = ok and all(isinstance(c, str) and len(c) == 1 for c in vocab) and len(set(vocab)) == len(vocab)
    if not ok:
        raise ValueError(f"vocab: expected a non-empty list of distinct characters (build_vocab's), got {describe(vocab)}")
    return list(vocab)


# ---- validators for the analysis group ----
# rnnlib.analysis, jacobians, spectra, examples, exercises and the explorer's setter. They build
# on the validators above and keep their message form "<argument>: expected <what>, got <what>".

MAX_STEPS = 10**5  # the longest T of spectra's trajectories and the log-norm routines: a few seconds of Python steps
MAX_WORK = 3 * 10**9  # multiply-adds of a loop of T matrix products (T H^3), each with an SVD in the worst case: a few seconds
MAX_RESULT = 10**8  # numbers in one array a function allocates (800 MB of float64): beyond it a clear error


def check_result_size(name: str, shape: tuple, got: str, hint: str = "") -> None:
    """A ValueError naming the argument that sets `shape` when an array of that shape would exceed MAX_RESULT numbers.

    got: how the argument sets the size, e.g. "T = 2000"; hint: what to use instead.
    """
    shape = tuple(int(d) for d in shape)
    n = 1
    for d in shape:
        n *= d
    if n > MAX_RESULT:
        raise ValueError(f"{name}: expected sizes whose result {shape} holds at most "
                         f"{MAX_RESULT:.0e} numbers{hint}, got {got} ({n:.2e} numbers)")


def check_work(name: str, T: int, H: int, got: str, power: int = 3) -> None:
    """A ValueError naming the argument when a loop of T matrix products, T H^power multiply-adds (3: matrix @
    matrix, 2: matrix @ vector), exceeds MAX_WORK."""
    if T * H**power > MAX_WORK:
        what = "matrix products" if power == 3 else "matrix-vector products"
        raise ValueError(f"{name}: expected T * H^{power} <= {MAX_WORK:.0e} (T {what} of size H, a few seconds), "
                         f"got {got} (T * H^{power} = {T * H**power:.2e})")


def check_vector(name: str, value, n: int | None = None, *, min_size: int = 1, positive: bool = False,
                 finite: bool = True) -> np.ndarray:
    """value as a real float vector of shape (n,) (n None: any length >= min_size); else ValueError.

    positive=True also requires every entry > 0 (it implies finite).
    """
    v = check_real_array(name, value, finite=False)
    if v.ndim != 1 or (n is not None and v.shape[0] != n) or v.shape[0] < min_size:
        want = f"shape ({n},)" if n is not None else f"a vector (n,) with n >= {min_size}"
        raise ValueError(f"{name}: expected {want}, got {v.shape}")
    if (finite or positive) and not np.isfinite(v).all():
        raise ValueError(f"{name}: expected finite values, got NaN or inf")
    if positive and not (v > 0).all():
        raise ValueError(f"{name}: expected positive entries, got a smallest entry of {float(v.min())!r}")
    return v


def check_nonnegative_array(name: str, value) -> np.ndarray:
    """value as a real float array (any shape) of finite entries >= 0; else ValueError."""
    a = check_real_array(name, value)
    if a.size and a.min() < 0:
        raise ValueError(f"{name}: expected entries >= 0, got a smallest entry of {float(a.min())!r}")
    return a


def check_square_stack(name: str, value) -> np.ndarray:
    """value as a real, finite stack of square matrices (T, H, H) with H >= 1 (T = 0 allowed); else ValueError."""
    J = check_real_array(name, value, finite=False)
    if J.ndim != 3 or J.shape[1] != J.shape[2] or J.shape[1] < 1:
        raise ValueError(f"{name}: expected a stack of square matrices (T, H, H) with H >= 1, got shape {J.shape}")
    if not np.isfinite(J).all():
        raise ValueError(f"{name}: expected finite values, got NaN or inf")
    return J


def check_tk_terms(name: str, value) -> np.ndarray:
    """value as a real array (T + 1, T + 1, ...) of (t, k) terms with T >= 1 (NaN allowed); else ValueError."""
    A = check_real_array(name, value, finite=False)
    if A.ndim < 2 or A.shape[0] != A.shape[1] or A.shape[0] < 2:
        raise ValueError(f"{name}: expected an array (T + 1, T + 1, ...) of (t, k) terms with T >= 1, got shape {A.shape}")
    return A


def check_trajectory(name: str, value) -> np.ndarray:
    """value as states (n, H), n >= 1, H >= 2, each row all finite or all NaN (a stopped run), one finite at least."""
    h = check_real_array(name, value, finite=False)
    if h.ndim != 2 or h.shape[0] < 1 or h.shape[1] < 2:
        raise ValueError(f"{name}: expected states of shape (T + 1, H) with H >= 2, got shape {h.shape}")
    finite, nan = np.isfinite(h).all(axis=1), np.isnan(h).all(axis=1)
    if not np.all(finite | nan) or not finite.any():
        raise ValueError(f"{name}: expected rows that are all finite or all NaN (a stopped run), at least one finite, "
                         f"got {int(np.sum(~(finite | nan)))} mixed or infinite rows and {int(finite.sum())} finite ones")
    return h


def check_one_sequence(xs) -> np.ndarray:
    """xs as a real array (T, 1, X): a single sequence, time-major; else ValueError."""
    xs = check_time_major(xs)
    if xs.shape[1] != 1:
        raise ValueError(f"xs: expected one sequence of shape (T, 1, X), got {xs.shape}")
    return xs


def check_finite_trace(trace, params: RNNParams) -> Trace:
    """`check_trace`, and the states h_t, a_t finite: a trace whose forward pass overflowed has no Jacobians."""
    check_trace(trace, params)
    bad = ~np.isfinite(trace.h).all(axis=(1, 2))  # per step t = 0..T
    bad[1:] |= ~np.isfinite(trace.a[1:]).all(axis=(1, 2))  # a_0 is NaN by convention
    if bad.any():
        raise ValueError(f"trace: expected finite states, got NaN or inf from step t = {int(np.argmax(bad))} on "
                         f"(a run whose states left the float range has no Jacobians there)")
    return trace


def check_extended_real(name: str, value) -> float:
    """value as a float if it is a real number, inf, -inf and NaN included (not a bool, str, complex or array)."""
    x = real_scalar(value)
    if x is None:
        raise ValueError(f"{name}: expected a real number (inf, -inf or nan allowed), got {_short(value)}")
    return x


def check_items(name: str, values, check_one) -> list:
    """values (a non-empty tuple, list, range or 1-d array) -> [check_one(f"{name}[i]", v) for each item]."""
    if isinstance(values, np.ndarray) and values.ndim == 1:
        values = values.tolist()
    if not isinstance(values, (tuple, list, range)) or len(values) == 0:
        raise ValueError(f"{name}: expected a non-empty tuple or list, got {_short(values)}")
    return [check_one(f"{name}[{i}]", v) for i, v in enumerate(values)]


def check_activation_as(name: str, activation) -> Activation:
    """`check_activation` for an argument with another name (an item of a list: "activations[1]")."""
    try:
        return get_activation(activation)
    except ValueError:
        raise ValueError(f"{name}: expected an activation name ('linear', 'relu', 'sigmoid', 'tanh') or an Activation, "
                         f"got {_short(activation)}") from None


def check_profile(profile, profile_type: type):
    """profile must be the GradientProfile (`profile_type`, passed in by rnnlib.spectra, which imports this module)
    that `rnnlib.spectra.gradient_profile` returned, its arrays consistent.

    A tuple, a Verdict, or a profile whose arrays were replaced by ones of other shapes is rejected
    before any field is read.
    """
    what = "the GradientProfile returned by rnnlib.spectra.gradient_profile"
    if not isinstance(profile, profile_type):
        raise ValueError(f"profile: expected {what}, got {type(profile).__name__}")
    p = profile
    arrays = all(isinstance(getattr(p, f), np.ndarray) for f in ("log_norm", "log_scales", "W", "fprime", "h",
                                                                  "products", "product_steps", "norm_steps"))
    ok = arrays and p.log_norm.ndim == 1 and p.log_norm.size >= 1 and p.log_norm[0] == 0.0
    if ok:
        T, H = p.log_norm.size - 1, p.W.shape[-1]
        ok = (p.W.shape == (H, H) and H >= 1 and np.isfinite(p.W).all() and p.log_scales.shape == (T + 1,)
              and p.fprime.shape == (T + 1, H) and p.h.shape == (T + 1, H) and p.products.ndim == 3
              and p.products.shape[1:] == (H, H) and p.product_steps.shape == (p.products.shape[0],)
              and p.product_steps.size >= 1 and p.product_steps[0] == 0 and p.activation in ("linear", "tanh",
                                                                                            "sigmoid", "relu"))
    if not ok:
        raise ValueError(f"profile: expected {what}, got a GradientProfile whose fields do not fit together "
                         f"(log_norm {np.shape(p.log_norm)}, W {np.shape(p.W)}, products {np.shape(p.products)})")
    return profile


def check_increasing_ints(name: str, values, low: int = 0, what: str = "integers") -> np.ndarray:
    """values as a 1-D integer array, non-empty, entries >= low, strictly increasing (window lengths,
    lags, steps); else ValueError:
        "{name}: expected a 1-D array of integer {what} >= {low}, got array([0, 2])"
        "{name}: expected strictly increasing {what}, got [2, 2]"
    """
    a = check_ids(name, values, ndim=1, min_size=1)
    if np.any(a < low):
        raise ValueError(f"{name}: expected a 1-D array of integer {what} >= {low}, got {a!r}")
    if np.any(np.diff(a) <= 0):
        raise ValueError(f"{name}: expected strictly increasing {what}, got {a.tolist()}")
    return a


def check_writable_float64(name: str, x, why: str = "perturbed in place") -> np.ndarray:
    """x if it is a writable, finite float64 numpy array (a function changes it in place and reads
    the result); else ValueError naming what it got (a list, another dtype, a read-only view)."""
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise ValueError(f"{name}: expected a float64 numpy array ({why}), got {type(x).__name__} "
                         f"{getattr(x, 'dtype', '')}".rstrip())
    if not x.flags.writeable:
        raise ValueError(f"{name}: expected a writable float64 array ({why}), got a read-only one")
    check_real_array(name, x)  # finite
    return x
