"""Argument checks shared by the rnnlib modules (package-internal: not part of the public API).

Every check either returns its argument normalized (an int, a float, a float array, an
`RNNParams` of float arrays) or raises a ValueError that names the argument, what was expected
and what was given, e.g. "t: expected an integer 0 <= t <= T = 4, got 5". Notebooks and tests
match some of these messages, so change their wording only together with those.

The modules of rnnlib import from here; nothing here is re-exported by `rnnlib`. Numpy only.
"""

from __future__ import annotations

import math

import numpy as np

# core imports this module while it is being loaded, so its classes are looked up at call time
# (core.RNNParams, core.Trace), never at import time.
from . import core

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


def check_params(params) -> core.RNNParams:
    """params (an RNNParams, or any 5-tuple in its field order) -> RNNParams of finite float arrays.

    Checks W_hh (H, H), W_hx (H, X), b_h (H,), W_yh (Y, H), b_y (Y,).
    """
    RNNParams = core.RNNParams
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
    if W_yh.ndim != 2 or W_yh.shape[1] != H:
        raise ValueError(f"params.W_yh: expected shape (Y, {H}), got {W_yh.shape}")
    Y = W_yh.shape[0]
    if b_y.shape != (Y,):
        raise ValueError(f"params.b_y: expected shape ({Y},) to match W_yh, got {b_y.shape}")
    for name, p in zip(RNNParams._fields, (W_hx, W_hh, b_h, W_yh, b_y)):
        if not np.all(np.isfinite(p)):
            raise ValueError(f"params.{name}: expected finite values, got NaN or inf")
    return RNNParams(W_hx, W_hh, b_h, W_yh, b_y)


def check_xs(xs, params: core.RNNParams) -> np.ndarray:
    """xs (T, B, X) with T, B >= 1 and X = params.n_in, finite -> xs in the dtype of W_hh."""
    xs = np.asarray(xs)
    if xs.ndim != 3:
        hint = " (for a single sequence use xs[:, None, :])" if xs.ndim == 2 else ""
        raise ValueError(f"xs: expected a time-major array (T, B, X) with 3 dimensions, got shape {xs.shape}{hint}")
    T, B, X = xs.shape
    if T < 1 or B < 1:
        raise ValueError(f"xs: expected T >= 1 and B >= 1, got shape {xs.shape}")
    if X != params.n_in:
        raise ValueError(f"xs: expected last dimension X = {params.n_in} (W_hx is {params.W_hx.shape}), got shape {xs.shape}")
    if not np.all(np.isfinite(xs)):
        raise ValueError("xs: expected finite values, got NaN or inf")
    return xs.astype(params.W_hh.dtype, copy=False)


def check_h0(h0, B: int, params: core.RNNParams) -> np.ndarray:
    """h0 (B, H) finite, or None for zeros -> (B, H) in the dtype of W_hh."""
    H = params.n_hidden
    if h0 is None:
        return np.zeros((B, H), dtype=params.W_hh.dtype)
    h0 = np.asarray(h0)
    if h0.shape != (B, H):
        raise ValueError(f"h0: expected shape (B, H) = ({B}, {H}), got {h0.shape}")
    if not np.all(np.isfinite(h0)):
        raise ValueError("h0: expected finite values, got NaN or inf")
    return h0.astype(params.W_hh.dtype, copy=False)


def check_targets(targets, T: int, B: int, Y: int) -> np.ndarray:
    """targets (T, B) of integer classes in 0..Y-1 -> the same array."""
    targets = np.asarray(targets)
    if targets.shape != (T, B):
        raise ValueError(f"targets: expected shape (T, B) = ({T}, {B}), got {targets.shape}")
    if not np.issubdtype(targets.dtype, np.integer):
        raise ValueError(f"targets: expected integer class indices, got dtype {targets.dtype}")
    if targets.size and (targets.min() < 0 or targets.max() >= Y):
        raise ValueError(
            f"targets: expected classes in 0..{Y - 1} (Y = {Y}), got values from {targets.min()} to {targets.max()}"
        )
    return targets


def check_trace(trace, params: core.RNNParams) -> None:
    """trace must be a `Trace` from `rnnlib.forward` with the hidden size H of params."""
    if not isinstance(trace, core.Trace):
        raise ValueError(f"trace: expected the Trace returned by rnnlib.forward, got {type(trace).__name__}")
    if trace.h.shape[2] != params.n_hidden:
        raise ValueError(f"trace: expected hidden size H = {params.n_hidden} (W_hh is {params.W_hh.shape}), "
                         f"got a trace with H = {trace.h.shape[2]}")
