"""rnnlib: a small, tested numpy implementation of the vanilla RNN for the notebook series.

`import rnnlib` and every math module import numpy only. Everything that draws lives in
`rnnlib.plots` (matplotlib, Pillow and ipywidgets are imported only there), imported on demand,
e.g. `from rnnlib.plots import diagrams`. The indexing convention for time (row t of every array
is step t, h[0] = h_0) is stated once, in `rnnlib.core`.

    containers   RNNParams, Trace (the types every module passes around)
    activations  f, f' and the bound gamma
    core         step functions, forward / bptt / backward, jacobian
    gradcheck    finite differences
    analysis     the BPTT gradient by (t, k); the bound line
    jacobians    long Jacobian products as log-norms
    spectra      eigenvalues and the fate of dh_t/dh_0; the explorer's model and presets (notebook 05)
    remedies     truncation, clipping, initialization, Pascanu's regularizer Omega
    train        optimizers, text data, training loops, sampling
    tasks        the long-range task, its training runs, Wilson intervals
    ngram        smoothed character n-gram baselines (notebook 07)
    lstm         the LSTM, its gradients and Jacobians (notebook 08)
    exercises    the checkers of the "Build it yourself" sections
    examples     the models and experiments behind the figures
    plots/       diagrams, gradients, explorer (widget) and explorer_figure, remedies, training and
                 lstm figures; figures (the command)
"""

from .activations import ACTIVATIONS, Activation, get_activation
from .core import (
    RNNOverflowError,
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
    "RNNOverflowError",
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
