"""Activation functions f of equation (2a), each with its derivative and its bound gamma.

gamma is the bound sup |f'(a)| used by the vanishing condition of Pascanu, Mikolov and Bengio
(2013): if sigma_max(W_hh) < 1 / gamma, then ||dh_t/dh_k|| <= (gamma * sigma_max)^(t - k).
Introduced in notebook 01; gamma is used from notebook 04 on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._values import _short, check_callable, check_nonnegative, check_text

__all__ = ["Activation", "ACTIVATIONS", "get_activation"]


@dataclass(frozen=True)
class Activation:
    """An elementwise nonlinearity f with its derivative f' and the bound gamma >= |f'|.

    `derivative(a, h)` returns f'(a) evaluated at the pre-activation a; h = f(a) is passed too,
    because for tanh and sigmoid f'(a) is cheapest written in terms of h (1 - h^2, h(1 - h)).
    """

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray, np.ndarray], np.ndarray]
    gamma: float
    # derivative_into(a, h, out) writes f'(a) into out without temporaries (optional: speed only).
    derivative_into: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None

    def __post_init__(self):
        """Check the fields: a non-empty name, callables f and derivative, a finite gamma >= 0."""
        check_text("name", self.name, "a non-empty string such as 'softsign'")
        check_callable("f", self.f, "a function a -> f(a) on arrays")
        check_callable("derivative", self.derivative, "a function (a, h) -> f'(a) on arrays")
        if self.derivative_into is not None:
            check_callable("derivative_into", self.derivative_into, "None or a function (a, h, out) -> out")
        object.__setattr__(self, "gamma", check_nonnegative("gamma", self.gamma))

    def __call__(self, a: np.ndarray) -> np.ndarray:
        return self.f(a)

    def into(self, a: np.ndarray, out: np.ndarray) -> np.ndarray:
        """out[...] = f(a), written in place when f is a numpy ufunc (no temporary array)."""
        if isinstance(self.f, np.ufunc):
            return self.f(a, out=out)
        out[...] = self.f(a)
        return out

    def fprime_into(self, a: np.ndarray, h: np.ndarray, out: np.ndarray) -> np.ndarray:
        """out[...] = f'(a) (h = f(a)), in place when the activation provides `derivative_into`."""
        if self.derivative_into is not None:
            return self.derivative_into(a, h, out)
        out[...] = self.derivative(a, h)
        return out


def _sigmoid(a: np.ndarray) -> np.ndarray:
    # 1 / (1 + e^-a) written so that neither branch overflows for large |a|.
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _tanh_prime_into(a, h, out):  # 1 - h^2, in two in-place passes
    np.multiply(h, h, out=out)
    return np.subtract(1.0, out, out=out)


def _sigmoid_prime_into(a, h, out):  # h (1 - h)
    np.subtract(1.0, h, out=out)
    return np.multiply(out, h, out=out)


def _linear_prime_into(a, h, out):
    out[...] = 1.0
    return out


ACTIVATIONS: dict[str, Activation] = {
    "tanh": Activation("tanh", np.tanh, lambda a, h: 1.0 - h * h, 1.0, _tanh_prime_into),
    "sigmoid": Activation("sigmoid", _sigmoid, lambda a, h: h * (1.0 - h), 0.25, _sigmoid_prime_into),
    "relu": Activation("relu", lambda a: np.maximum(a, 0.0), lambda a, h: (a > 0).astype(a.dtype), 1.0,
                       lambda a, h, out: np.greater(a, 0.0, out=out)),
    "linear": Activation("linear", lambda a: a, lambda a, h: np.ones_like(a), 1.0, _linear_prime_into),
}


def get_activation(activation: str | Activation) -> Activation:
    """Return the Activation named `activation` ("tanh", "sigmoid", "relu" or "linear"), or `activation`
    itself if it is an Activation."""
    if isinstance(activation, Activation):
        return activation
    if isinstance(activation, str) and activation in ACTIVATIONS:
        return ACTIVATIONS[activation]
    raise ValueError(f"activation: expected one of {sorted(ACTIVATIONS)}, got {_short(activation)}")
