"""The named containers every rnnlib module passes around: `RNNParams` and `Trace`.

They live in a module of their own, below both `_checks` and `core`, so that the argument
checks can name these types without importing the functions that use them (no import cycle).
Their own arguments are checked with `rnnlib._values`, the part of `_checks` that needs no
rnnlib type.
Import them from `rnnlib` or `rnnlib.core` (both re-export them); the indexing convention for
the rows of a `Trace` is stated in `rnnlib.core`. Numpy only.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ._values import check_array_list, check_float_dtype, check_real, check_shape  # not _checks: it imports this module
from .activations import Activation

__all__ = ["RNNParams", "Trace", "global_norm", "same_kind"]


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
        """The same parameters cast to the floating `dtype` (e.g. np.float32)."""
        dtype = check_float_dtype("dtype", dtype)
        return RNNParams(*(p.astype(dtype) for p in self))

    def add(self, other, scale: float = 1.0) -> "RNNParams":
        """self + scale * other, array by array (new arrays): summing gradients over steps or chunks.

        other: an RNNParams (or any 5-tuple of arrays in its field order) of the same shapes, finite;
        scale: a finite real number.
        """
        scale = check_real("scale", scale)
        if not isinstance(other, RNNParams) and isinstance(other, tuple) and not hasattr(other, "_fields"):
            other = RNNParams(*other) if len(other) == 5 else other
        if not isinstance(other, RNNParams):
            raise ValueError(f"other: expected an RNNParams (or a plain 5-tuple) of arrays shaped like self's, "
                             f"got {type(other).__name__}")
        arrays = check_array_list("other", other)
        for name, a, b in zip(self._fields, self, arrays):
            check_shape(f"other.{name}", b, np.shape(a), "(self's)")
        return RNNParams(*(a + scale * b for a, b in zip(self, arrays)))

    def norm(self) -> float:
        """The Euclidean norm over all five arrays together: `global_norm(self)`."""
        return global_norm(self)


def global_norm(arrays) -> float:
    """||g||: the Euclidean norm of several arrays together, as if concatenated into one vector.

    arrays: an RNNParams or a tuple or list of finite real arrays -> float, sqrt(sum of all
    squares), summed in float64. The norm that gradient-norm clipping measures (notebook 06).
    Entries beyond 1e154, whose squares overflow, are scaled first: the norm is finite whenever
    it is below 1.8e308.
    """
    return _global_norm(check_array_list("arrays", arrays))


def _global_norm(arrays) -> float:
    """`global_norm` of checked, finite arrays."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    with np.errstate(over="ignore"):  # an overflowed square is handled below
        total = sum(float(np.sum(np.square(a))) for a in arrays)
    if math.isfinite(total) and total > 1e-290:
        return math.sqrt(total)
    # a square overflowed (or every entry is tiny): scale by the largest |entry| first
    m = max((float(np.max(np.abs(a))) for a in arrays if a.size), default=0.0)
    if m == 0.0:
        return 0.0
    return m * math.sqrt(sum(float(np.sum(np.square(a / m))) for a in arrays))


def same_kind(template, arrays):
    """`arrays` in a container of the kind of `template`: an RNNParams, or the tuple/list type given.

    What clipping and the optimizers return, so that an RNNParams in gives an RNNParams out.
    template: an RNNParams, tuple or list; arrays: a tuple or list of arrays (5 for an RNNParams).
    """
    if not isinstance(template, (tuple, list)) or (hasattr(template, "_fields") and not isinstance(template, RNNParams)):
        raise ValueError(f"template: expected an RNNParams, tuple or list, got {type(template).__name__}")
    if not isinstance(arrays, (tuple, list)):
        raise ValueError(f"arrays: expected a tuple or list of arrays, got {type(arrays).__name__}")
    if isinstance(template, RNNParams):
        if len(arrays) != len(RNNParams._fields):
            raise ValueError(f"arrays: expected 5 arrays for an RNNParams, got {len(arrays)}")
        return RNNParams(*arrays)
    return type(template)(arrays)


class Trace(NamedTuple):
    """Everything the forward pass computed, indexed as in `rnnlib.core`'s docstring (row t = step t).

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
