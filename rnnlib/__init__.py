"""rnnlib: a small, tested numpy implementation of the vanilla RNN for the notebook series.

Core math (this package's top level) needs numpy only. Plotting and widget modules import
matplotlib / ipywidgets themselves and are imported on demand, e.g. `from rnnlib import explorer`.
The indexing convention for time (row t of every array is step t, h[0] = h_0) is stated once,
in `rnnlib.core`.
"""

from .activations import ACTIVATIONS, Activation, get_activation
from .core import (
    RNNParams,
    StepCache,
    Trace,
    backward,
    bptt,
    bptt_steps,
    forward,
    init_params,
    jacobian,
    log_softmax,
    logsumexp,
    softmax,
    softmax_cross_entropy,
    step_backward,
    step_forward,
    step_jacobian,
)
from .gradcheck import check_bptt_gradients, numerical_gradient, numerical_jacobian, rel_error

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "get_activation",
    "RNNParams",
    "StepCache",
    "Trace",
    "backward",
    "bptt",
    "bptt_steps",
    "forward",
    "init_params",
    "jacobian",
    "log_softmax",
    "logsumexp",
    "softmax",
    "softmax_cross_entropy",
    "step_backward",
    "step_forward",
    "step_jacobian",
    "check_bptt_gradients",
    "numerical_gradient",
    "numerical_jacobian",
    "rel_error",
]

__version__ = "0.1.0"
