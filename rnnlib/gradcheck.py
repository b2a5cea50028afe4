"""Finite-difference gradient checks, shared by the tests and the notebooks (notebook 03).

Gradients are checked against central differences (f(x + eps) - f(x - eps)) / (2 eps), an
oracle independent of the backward code, never against themselves. Use float64: in float32 the
rounding error of f swamps the difference quotient.
"""

from __future__ import annotations

import inspect
from typing import Callable

import numpy as np

from ._checks import check_positive, check_real_array, check_truncate, check_writable_float64
from ._values import check_callable
from .core import RNNParams, _check_sequence, _required, bptt

__all__ = ["numerical_gradient", "numerical_jacobian", "rel_error", "check_bptt_gradients"]


def numerical_jacobian(f: Callable[[], np.ndarray], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference Jacobian of the array-valued f() with respect to x: f().shape + x.shape.

    Numerator layout: entry [i..., j...] is d f()[i...] / d x[j...]. f takes no arguments and
    reads x, which is perturbed in place one entry at a time and restored afterwards.
    Costs 2 * x.size evaluations of f. Notebooks 03 and 04.
    """
    _check_function_of_nothing(f)
    check_writable_float64("x", x)  # perturbed in place, finite
    eps = check_positive("eps", eps)
    f0 = _value_of(f)
    out_shape = f0.shape
    jac = np.zeros((f0.size, x.size))
    for j, idx in enumerate(np.ndindex(x.shape)):  # entries in C order, whatever x's memory layout
        old = x[idx]
        try:
            x[idx] = old + eps
            f_plus = _value_of(f, out_shape)
            x[idx] = old - eps
            f_minus = _value_of(f, out_shape)
        finally:
            x[idx] = old
        jac[:, j] = (f_plus - f_minus) / (2 * eps)
    return jac.reshape(out_shape + x.shape)


def _check_function_of_nothing(f) -> None:
    """f must be callable with no arguments (it reads x itself)."""
    check_callable("f", f, "a function of no arguments that reads x, e.g. lambda: loss(params)")
    try:
        inspect.signature(f).bind()
    except TypeError:
        raise ValueError(f"f: expected a function of no arguments that reads x, got {f!r}, which needs arguments "
                         f"(wrap it: lambda: f(...))") from None
    except ValueError:  # no signature available (some builtins): let the call tell
        pass


def _value_of(f, shape=None) -> np.ndarray:
    """f() as a finite float64 array (of the given shape, if any); else a ValueError naming f."""
    y = f()
    a = check_real_array("f", y)  # "f: expected a real (integer or float) array, got ..." / finite values
    if shape is not None and a.shape != shape:
        raise ValueError(f"f: expected f() to return the same shape {shape} every time, got {a.shape}")
    return a.astype(np.float64, copy=False).reshape(-1) if shape is not None else a.astype(np.float64, copy=False)


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar f() with respect to the array x, same shape as x.

    The scalar case of `numerical_jacobian`: f takes no arguments and reads x, which is perturbed
    in place one entry at a time and restored afterwards. Costs 2 * x.size evaluations of f.
    """
    return numerical_jacobian(f, x, eps)


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """Largest entrywise difference, relative to the largest entry of either array.

    max|a - b| / max(max|a|, max|b|); 0.0 when both are all zeros. Scaling by the largest entry
    (not entry by entry) keeps tiny entries, where both methods sit at rounding level, from
    dominating the score.
    """
    a, b = check_real_array("a", a).astype(np.float64), check_real_array("b", b).astype(np.float64)
    if a.shape != b.shape:
        raise ValueError(f"b: expected the shape of a, {a.shape}, got {b.shape}")
    scale = max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0))
    if scale == 0.0:
        return 0.0
    return float(np.max(np.abs(a - b)) / scale)


def check_bptt_gradients(params: RNNParams, xs, targets, h0=None, activation: str = "tanh",
                         truncate=None, eps: float = 1e-6) -> dict[str, float]:
    """Relative error of every gradient of `bptt` against central differences of its loss.

    Returns {"W_hx": err, "W_hh": err, "b_h": err, "W_yh": err, "b_y": err, "h0": err}
    with err = rel_error(analytic, numerical). Everything is cast to float64 first.
    With `truncate` set, the analytic gradient is the truncated one and will NOT match: only
    full BPTT is the gradient of the loss.
    """
    params, xs, h0, targets, f = _check_sequence(params, xs, h0, _required(targets), activation)
    truncate, eps = check_truncate(truncate), check_positive("eps", eps)
    params = RNNParams(*(np.array(p, dtype=np.float64) for p in params))  # copies: perturbed in place below
    xs, h0 = xs.astype(np.float64), np.array(h0, dtype=np.float64)
    activation = f
    _, grads, dh0 = bptt(params, xs, targets, h0, activation, truncate, return_dh0=True)

    def loss() -> float:
        return bptt(params, xs, targets, h0, activation)[0]

    errors = {}
    for name, p, g in zip(RNNParams._fields, params, grads):
        errors[name] = rel_error(g, numerical_gradient(loss, p, eps))
    errors["h0"] = rel_error(dh0, numerical_gradient(loss, h0, eps))
    return errors
