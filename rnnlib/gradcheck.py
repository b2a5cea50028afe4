"""Finite-difference gradient checks, shared by the tests and the notebooks (notebook 03).

Gradients are checked against central differences (f(x + eps) - f(x - eps)) / (2 eps), an
oracle independent of the backward code, never against themselves. Use float64: in float32 the
rounding error of f swamps the difference quotient.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .core import RNNParams, bptt

__all__ = ["numerical_gradient", "numerical_jacobian", "rel_error", "check_bptt_gradients"]


def numerical_jacobian(f: Callable[[], np.ndarray], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference Jacobian of the array-valued f() with respect to x: f().shape + x.shape.

    Numerator layout: entry [i..., j...] is d f()[i...] / d x[j...]. f takes no arguments and
    reads x, which is perturbed in place one entry at a time and restored afterwards.
    Costs 2 * x.size evaluations of f. Notebooks 03 and 04.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise ValueError(f"x: expected a float64 numpy array (perturbed in place), got {type(x).__name__} "
                         f"{getattr(x, 'dtype', '')}".rstrip())
    out_shape = np.shape(f())
    jac = np.zeros((int(np.prod(out_shape, dtype=int)), x.size))
    for j, idx in enumerate(np.ndindex(x.shape)):  # entries in C order, whatever x's memory layout
        old = x[idx]
        x[idx] = old + eps
        f_plus = np.array(f(), dtype=np.float64).reshape(-1)
        x[idx] = old - eps
        f_minus = np.array(f(), dtype=np.float64).reshape(-1)
        x[idx] = old
        jac[:, j] = (f_plus - f_minus) / (2 * eps)
    return jac.reshape(out_shape + x.shape)


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
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
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
    params = RNNParams(*(np.array(p, dtype=np.float64) for p in params))
    xs = np.asarray(xs, dtype=np.float64)
    h0 = np.zeros((xs.shape[1], params.n_hidden)) if h0 is None else np.array(h0, dtype=np.float64)
    _, grads, dh0 = bptt(params, xs, targets, h0, activation, truncate, return_dh0=True)

    def loss() -> float:
        return bptt(params, xs, targets, h0, activation)[0]

    errors = {}
    for name, p, g in zip(RNNParams._fields, params, grads):
        errors[name] = rel_error(g, numerical_gradient(loss, p, eps))
    errors["h0"] = rel_error(dh0, numerical_gradient(loss, h0, eps))
    return errors
