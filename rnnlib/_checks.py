"""Argument checks shared by the rnnlib modules (package-internal: not part of the public API).

Every check either returns its argument normalized (an int, a float, a float array, an
`RNNParams` of float arrays) or raises a ValueError that names the argument, what was expected
and what was given, e.g. "t: expected an integer 0 <= t <= T = 4, got 5". Notebooks and tests
match some of these messages, so change their wording only together with those.

The modules of rnnlib import from here; nothing here is re-exported by `rnnlib`. Numpy only.
One check at the boundary: a public function calls these once on its arguments and hands the
normalized values to private workers (`_forward`, `_backward`, ...) that trust them.
"""

from __future__ import annotations

import math

import numpy as np

from .activations import Activation, get_activation
from .containers import RNNParams, Trace  # types only: no import cycle with core

# ----------------------------------------------------------------------------------------------
# Numbers
# ----------------------------------------------------------------------------------------------


def is_int(value) -> bool:
    """True for Python and numpy integers; False for bools (True is not the integer 1 here)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_int(name: str, value, low: int, high: int | None = None, *, high_name: str | None = None,
              noun: str = "integer") -> int:
    """value as an int if it is an integer (not a bool) with low <= value <= high; else ValueError.

    high=None means no upper bound. Messages:
        "{name}: expected an integer {low} <= {name} <= {high}, got {value!r}"
        "{name}: expected an integer {low} <= {name} <= {high_name} = {high}, got {value!r}"
        "{name}: expected an integer >= {low}, got {value!r}"                   (high=None)
    `noun` replaces the word "integer" (core's step_jacobian says "integer step").
    """
    if not is_int(value) or value < low or (high is not None and value > high):
        if high is None:
            expected = f">= {low}"
        else:
            bound = high if high_name is None else f"{high_name} = {high}"
            expected = f"{low} <= {name} <= {bound}"
        raise ValueError(f"{name}: expected an {noun} {expected}, got {value!r}")
    return int(value)


def check_positive_int(name: str, value) -> int:
    """value as an int if it is an integer >= 1 (not a bool); else "expected a positive integer"."""
    if not is_int(value) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def check_positive(name: str, value) -> float:
    """value as a float if it is a finite real scalar > 0 (not a bool); else ValueError."""
    if isinstance(value, bool) or not np.isscalar(value) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: expected a finite number > 0, got {value!r}")
    return float(value)


def check_real(name: str, value, low: float | None = None, high: float | None = None) -> float:
    """value as a float if it is a finite real number in [low, high] (None: unbounded); else ValueError."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a real number, got {value!r}") from None
    if not math.isfinite(x) or (low is not None and x < low) or (high is not None and x > high):
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise ValueError(f"{name}: expected a finite number in [{lo}, {hi}], got {value!r}")
    return x


def check_nonnegative(name: str, value) -> float:
    """value as a float if it is a finite real scalar >= 0 (not a bool); else ValueError."""
    if isinstance(value, bool) or not np.isscalar(value) or not np.isreal(value) or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name}: expected a finite number >= 0, got {value!r}")
    return float(value)


def check_fraction(name: str, value, *, low_open: bool = False, high_open: bool = True) -> float:
    """value as a float in the unit interval, [0, 1) by default (momentum, Adam's betas); else ValueError.

    low_open / high_open exclude 0 / 1. Message: "{name}: expected 0 <= {name} < 1, got {value!r}".
    """
    x = None if isinstance(value, bool) or not np.isscalar(value) else value
    lo, hi = ("<" if low_open else "<="), ("<" if high_open else "<=")
    ok = x is not None and np.isreal(x) and np.isfinite(x)
    ok = ok and (x > 0 if low_open else x >= 0) and (x < 1 if high_open else x <= 1)
    if not ok:
        raise ValueError(f"{name}: expected 0 {lo} {name} {hi} 1, got {value!r}")
    return float(x)


def check_choice(name: str, value, options):
    """value if it is one of `options`; else "{name}: expected one of {options}, got {value!r}"."""
    try:
        ok = value in options
    except TypeError:  # an unhashable value tested against a dict or set
        ok = False
    if not ok:
        raise ValueError(f"{name}: expected one of {tuple(options)}, got {value!r}")
    return value


def check_generator(name: str, rng) -> np.random.Generator:
    """rng if it is a numpy Generator; else "expected a numpy Generator (np.random.default_rng(seed))"."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"{name}: expected a numpy Generator (np.random.default_rng(seed)), got {rng!r}")
    return rng


def check_activation(activation) -> Activation:
    """The Activation for a name ("tanh", ...) or a custom `Activation` object; else ValueError."""
    return get_activation(activation)


def check_truncate(truncate) -> int | None:
    """None (full BPTT) or an integer window k >= 1 (not a bool), as an int; else ValueError."""
    if truncate is None:
        return None
    if not is_int(truncate) or truncate < 1:
        raise ValueError(f"truncate: expected None (full BPTT) or an integer k >= 1, got {truncate!r}")
    return int(truncate)


def check_ord(ord) -> None:
    """The matrix norm of the Jacobian functions: 2 (spectral) or 'fro' (Frobenius); else ValueError."""
    if ord not in (2, "fro"):
        raise ValueError(f"ord: expected 2 (spectral norm) or 'fro' (Frobenius), got {ord!r}")


# ----------------------------------------------------------------------------------------------
# RNN parameters, inputs, states, targets and traces (shapes as in core's docstring)
# ----------------------------------------------------------------------------------------------


def as_float(a) -> np.ndarray:
    """a as an array; integer or boolean arrays become float64 (float32 and float64 stay)."""
    a = np.asarray(a)
    return a if np.issubdtype(a.dtype, np.floating) else a.astype(np.float64)


def check_square(name: str, W, *, allow_complex: bool = False) -> np.ndarray:
    """W as a float (or, if allowed, complex) array if it is a finite square matrix (H, H); else ValueError."""
    W = np.asarray(W)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"{name}: expected a square matrix (H, H), got shape {W.shape}")
    numeric = np.issubdtype(W.dtype, np.number) or W.dtype == np.bool_
    if not numeric or (np.iscomplexobj(W) and not allow_complex):
        kind = "real or complex" if allow_complex else "real"
        raise ValueError(f"{name}: expected a {kind} matrix, got dtype {W.dtype}")
    if not np.all(np.isfinite(W)):
        raise ValueError(f"{name}: expected finite values, got NaN or inf")
    return W if np.iscomplexobj(W) else as_float(W)


def check_int_array(name: str, values, low: int = 0, high: int | None = None) -> np.ndarray:
    """values as an integer array with low <= every entry (<= high if given); else ValueError."""
    a = np.asarray(values)
    bad = not np.issubdtype(a.dtype, np.integer) or (a.size and (a.min() < low or (high is not None and a.max() > high)))
    if bad:
        expected = f">= {low}" if high is None else f"in {low}..{high}"
        got = (f"dtype {a.dtype}" if not np.issubdtype(a.dtype, np.integer) else
               f"values from {a.min()} to {a.max()}" if a.size > 8 else f"{values!r}")
        raise ValueError(f"{name}: expected integers {expected}, got {got}")
    return a


def check_params(params) -> RNNParams:
    """params (an RNNParams, or any 5-tuple in its field order) -> RNNParams of finite float arrays.

    Checks W_hh (H, H), W_hx (H, X), b_h (H,), W_yh (Y, H), b_y (Y,).
    """
    if not isinstance(params, RNNParams):
        if isinstance(params, tuple) and len(params) == 5:
            params = RNNParams(*params)
        else:
            raise ValueError(f"params: expected an RNNParams(W_hx, W_hh, b_h, W_yh, b_y), got {type(params).__name__}")
    W_hx, W_hh, b_h, W_yh, b_y = (as_float(p) for p in params)
    if W_hh.ndim != 2 or W_hh.shape[0] != W_hh.shape[1]:
        raise ValueError(f"params.W_hh: expected a square matrix (H, H), got shape {W_hh.shape}")
    H = W_hh.shape[0]
    if W_hx.ndim != 2 or W_hx.shape[0] != H:
        raise ValueError(f"params.W_hx: expected shape ({H}, X), got {W_hx.shape}")
    if b_h.shape != (H,):
        raise ValueError(f"params.b_h: expected shape ({H},), got {b_h.shape}")
    check_output_layer(W_yh, b_y, H)
    check_finite_fields(RNNParams._fields, (W_hx, W_hh, b_h, W_yh, b_y))
    return RNNParams(W_hx, W_hh, b_h, W_yh, b_y)


def check_output_layer(W_yh: np.ndarray, b_y: np.ndarray, H: int) -> int:
    """The output layer of any model with H hidden units: W_yh (Y, H), b_y (Y,); returns Y."""
    if W_yh.ndim != 2 or W_yh.shape[1] != H:
        raise ValueError(f"params.W_yh: expected shape (Y, {H}), got {W_yh.shape}")
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
    """xs as an array of shape (T, B, X) with T, B >= 1 (any model's inputs; X is checked by the caller)."""
    xs = np.asarray(xs)
    if xs.ndim != 3:
        hint = " (for a single sequence use xs[:, None, :])" if xs.ndim == 2 else ""
        raise ValueError(f"xs: expected a time-major array (T, B, X) with 3 dimensions, got shape {xs.shape}{hint}")
    T, B, X = xs.shape
    if T < 1 or B < 1:
        raise ValueError(f"xs: expected T >= 1 and B >= 1, got shape {xs.shape}")
    return xs


def check_x_t(x_t, params: RNNParams) -> np.ndarray:
    """x_t (B, X) with B >= 1 and X = params.n_in, finite (one step's inputs) -> in the dtype of W_hh."""
    x_t = np.asarray(x_t)
    if x_t.ndim != 2 or x_t.shape[0] < 1:
        raise ValueError(f"x_t: expected one step's inputs (B, X) with B >= 1, got shape {x_t.shape}")
    return _check_inputs("x_t", x_t, params)


def _check_inputs(name: str, x: np.ndarray, params: RNNParams) -> np.ndarray:
    if x.shape[-1] != params.n_in:
        raise ValueError(f"{name}: expected last dimension X = {params.n_in} (W_hx is {params.W_hx.shape}), "
                         f"got shape {x.shape}")
    dtype = params.W_hh.dtype
    x = x.astype(dtype, copy=False)  # one conversion; the finite check then runs in the working dtype
    if not np.isfinite(x).all():
        raise ValueError(f"{name}: expected finite values, got NaN or inf")
    return x


def check_h0(h0, B: int, params: RNNParams, name: str = "h0") -> np.ndarray:
    """h0 (B, H) finite, or None for zeros -> (B, H) in the dtype of W_hh. `name`: h_prev, h_t, ..."""
    return check_state(name, h0, B, params.n_hidden, params.W_hh.dtype)


def check_state(name: str, s, B: int, H: int, dtype) -> np.ndarray:
    """A state of any model: s (B, H) finite, or None for zeros -> (B, H) in `dtype`."""
    if s is None:
        return np.zeros((B, H), dtype=dtype)
    s = np.asarray(s)
    if s.shape != (B, H):
        raise ValueError(f"{name}: expected shape (B, H) = ({B}, {H}), got {s.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError(f"{name}: expected finite values, got NaN or inf")
    return s.astype(dtype, copy=False)


def check_targets(targets, T: int | None, B: int, Y: int) -> np.ndarray:
    """targets (T, B) of integer classes in 0..Y-1 -> the same array; T=None checks one step, (B,)."""
    targets = np.asarray(targets)
    shape, text = ((B,), f"(B,) = ({B},)") if T is None else ((T, B), f"(T, B) = ({T}, {B})")
    if targets.shape != shape:
        raise ValueError(f"targets: expected shape {text}, got {targets.shape}")
    if not np.issubdtype(targets.dtype, np.integer):
        raise ValueError(f"targets: expected integer class indices, got dtype {targets.dtype}")
    if targets.size and (targets.min() < 0 or targets.max() >= Y):
        raise ValueError(
            f"targets: expected classes in 0..{Y - 1} (Y = {Y}), got values from {targets.min()} to {targets.max()}"
        )
    return targets


def check_trace(trace, params: RNNParams) -> None:
    """trace must be a `Trace` from `rnnlib.forward` with the hidden size H of params.

    A non-Trace (an array, a tuple) gets this ValueError before any attribute is read, never
    numpy's "truth value of an array is ambiguous".
    """
    if not isinstance(trace, Trace):
        raise ValueError(f"trace: expected the Trace returned by rnnlib.forward, got {type(trace).__name__}")
    if trace.h.shape[2] != params.n_hidden:
        raise ValueError(f"trace: expected hidden size H = {params.n_hidden} (W_hh is {params.W_hh.shape}), "
                         f"got a trace with H = {trace.h.shape[2]}")


# ---- validators for the training group ----
# rnnlib.train, remedies, tasks, ngram and lstm. Same contract as above: return the argument
# normalized, or raise a ValueError "<argument>: expected <what>, got <what>".

# A bound on sizes that enter a product (n x n count tables, H x H matrices): beyond it the
# argument gets a clear error instead of numpy's "array is too big" or "maximum allowed dimension".
MAX_UNITS = 100_000


def describe(value) -> str:
    """A short description of a value for a message: arrays by shape and dtype, others by repr."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _as_array(name: str, value, what: str) -> np.ndarray:
    """np.asarray(value), or "{name}: expected {what}, got ..." when that fails or gives an object array."""
    if value is None or isinstance(value, (str, bytes)):
        raise ValueError(f"{name}: expected {what}, got {describe(value)}")
    try:
        a = np.asarray(value)
    except (TypeError, ValueError):  # ragged nesting
        raise ValueError(f"{name}: expected {what}, got {describe(value)}") from None
    return a


def check_real_array(name: str, value, *, ndim: int | None = None, finite: bool = True) -> np.ndarray:
    """value as a float array (integers become float64; float32/float64 stay) if its dtype is real
    (not bool, complex, str or object), with `ndim` dimensions if given, finite if asked; else ValueError."""
    what = "a real array" if ndim is None else f"a real {ndim}-D array"
    a = _as_array(name, value, what)
    if a.dtype.kind not in "iuf":
        raise ValueError(f"{name}: expected {what}, got dtype {a.dtype}")
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name}: expected {what}, got shape {a.shape}")
    if finite and not np.isfinite(a).all():
        raise ValueError(f"{name}: expected finite values, got NaN or inf")
    return as_float(a)


def check_real_fields(names, arrays, prefix: str = "params") -> list:
    """Each field of a parameter container as a float array of a real dtype; else a ValueError
    naming {prefix}.{field} (finiteness is checked separately, after the shapes)."""
    return [check_real_array(f"{prefix}.{n}", a, finite=False) for n, a in zip(names, arrays)]


def check_array_list(name: str, arrays, like=None, like_name: str = "params") -> list:
    """arrays (an RNNParams, LSTMParams or any tuple/list of arrays) -> list of finite float arrays.

    With `like` (a sequence of arrays): the same number of arrays with the same shapes. Entries are
    named {name}.{field} for NamedTuples and {name}[i] otherwise.
    """
    if not isinstance(arrays, (tuple, list)) or not arrays:
        raise ValueError(f"{name}: expected a non-empty tuple of arrays (e.g. an RNNParams), got {describe(arrays)}")
    fields = getattr(arrays, "_fields", None)
    labels = [f"{name}.{f}" for f in fields] if fields else [f"{name}[{i}]" for i in range(len(arrays))]
    if like is not None and len(like) != len(arrays):
        raise ValueError(f"{name}: expected {len(like)} arrays like {like_name}, got {len(arrays)}")
    out = []
    for i, (label, a) in enumerate(zip(labels, arrays)):
        a = check_real_array(label, a)
        if like is not None and a.shape != np.shape(like[i]):
            raise ValueError(f"{label}: expected shape {np.shape(like[i])} like {like_name}, got {a.shape}")
        out.append(a)
    return out


def check_flag(name: str, value) -> bool:
    """value as a bool if it is True or False (not 0, 1 or a string); else ValueError."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}: expected True or False, got {describe(value)}")
    return bool(value)


def check_callable(name: str, value, what: str = "a function"):
    """value if it is callable; else ValueError."""
    if not callable(value):
        raise ValueError(f"{name}: expected {what}, got {describe(value)}")
    return value


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


def check_float_dtype(name: str, dtype) -> np.dtype:
    """A numpy floating dtype (np.float64, np.float32, "float32", ...); else ValueError."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dtype is None or not np.issubdtype(dt, np.floating):
        raise ValueError(f"{name}: expected a floating dtype such as np.float64, got {describe(dtype)}")
    return dt
