"""The LSTM: parameters, forward pass, backpropagation through time, Jacobians (notebook 08).

Equations (gate blocks stacked i, f, g, o as `torch.nn.LSTM` stacks them; sigma the logistic
sigmoid, * the elementwise product):

    z_t = W_x x_t + W_h h_{t-1} + b                  (4H,) pre-activations of the four gates
    i_t = sigma(z_t[0:H])                            input gate              (L1)
    f_t = sigma(z_t[H:2H])                           forget gate             (L2)
    g_t = tanh(z_t[2H:3H])                           cell candidate          (L3)
    o_t = sigma(z_t[3H:4H])                          output gate             (L4)
    c_t = f_t * c_{t-1} + i_t * g_t                  cell state              (L5)
    h_t = o_t * tanh(c_t)                            hidden state            (L6)
    y^_t = softmax(W_yh h_t + b_y)                   output, equation (3) of the vanilla RNN

The loss is the vanilla RNN's: L = sum_t L_t, cross-entropy averaged over the batch.

Indexing: exactly as in `rnnlib.core` (stated there): time-major, xs[t - 1] is x_t, and every
time-indexed array of an `LSTMTrace` has T + 1 rows with row t = step t, so h[0] = h_0 and
c[0] = c_0; rows 0 of the gate arrays are NaN (there is no step 0).

`W_x` is `torch.nn.LSTM(...).weight_ih_l0`, `W_h` is `weight_hh_l0` and `b` is
`bias_ih_l0 + bias_hh_l0` (PyTorch keeps two bias vectors whose sum is all that matters).

Notation against `rnnlib.core`: z_t plays the part of the pre-activation a_t, and W_x, W_h, b
stack four blocks shaped like W_hx, W_hh, b_h. Here f_t is the forget gate, not the vanilla
RNN's nonlinearity f.

The state of an LSTM is the pair s_t = (h_t, c_t). Jacobians here are with respect to that
pair, in numerator layout (rows index s_t, columns s_{t-1}): `step_jacobian` is ds_t/ds_{t-1}
(B, 2H, 2H), and the blocks of products of it are dh_t/dh_k (c_k held fixed) and dc_t/dc_k
(h_k held fixed). `cell_jacobian` returns dc_t/dc_{t-1} = diag(f_t) + the paths through the
gates, which reach c_{t-1} through h_{t-1} = o_{t-1} * tanh(c_{t-1}), and separately its first
term diag(f_t): the "constant error carousel" of Hochreiter and Schmidhuber (whose cell had
f_t = 1 and no gradient through the gate paths).
Core math: numpy only.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import (MAX_UNITS, check_choice, check_finite, check_finite_fields, check_float_dtype, check_int,
                      check_ord, check_output_layer, check_positive, check_positive_int, check_real, check_real_array,
                      check_real_fields, check_seed, check_shape, check_state, check_targets, check_time_major,
                      describe)
from .core import RNNParams, Trace, _logsumexp, _softmax_into, softmax
from .jacobians import _running_products

__all__ = [
    "LSTMParams",
    "LSTMTrace",
    "LSTMStepCache",
    "init_lstm_params",
    "gates",
    "step_forward",
    "step_backward",
    "bptt_steps",
    "forward",
    "backward",
    "bptt",
    "step_jacobian",
    "cell_jacobian",
    "jacobian",
    "jacobian_log_norms",
    "loss_gradient_log_norms",
    "rnn_loss_gradient_log_norms",
    "flops_per_step",
    "last_step_accuracy",
    "run_remember_first",
    "gradient_profiles",
]

GATES = ("i", "f", "g", "o")  # the order of the four blocks of W_x, W_h and b (PyTorch's)


# ----------------------------------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------------------------------


class LSTMParams(NamedTuple):
    """The parameters of equations (L1)-(L6) and (3), shared by every time step.

    W_x (4H, X), W_h (4H, H), b (4H,), W_yh (Y, H), b_y (Y,): math orientation, rows in four
    blocks of H for the gates i, f, g, o. The same container holds gradients.
    """

    W_x: np.ndarray
    W_h: np.ndarray
    b: np.ndarray
    W_yh: np.ndarray
    b_y: np.ndarray

    @property
    def n_in(self) -> int:
        """X, the input size."""
        return self.W_x.shape[1]

    @property
    def n_hidden(self) -> int:
        """H, the hidden size (and cell size)."""
        return self.W_h.shape[1]

    @property
    def n_out(self) -> int:
        """Y, the output size (number of classes)."""
        return self.W_yh.shape[0]

    def count(self) -> int:
        """Number of scalar parameters: 4H(X + H + 1) + Y(H + 1), whatever the sequence length."""
        return sum(p.size for p in self)

    def copy(self) -> "LSTMParams":
        """A deep copy (new arrays)."""
        return LSTMParams(*(p.copy() for p in self))

    def zeros_like(self) -> "LSTMParams":
        """Zeros with the same shapes and dtype: the start of a gradient accumulation."""
        return LSTMParams(*(np.zeros_like(p) for p in self))

    def block(self, name: str) -> slice:
        """The rows of W_x, W_h and b that belong to gate `name` ("i", "f", "g" or "o")."""
        check_choice("name", name, GATES)
        H, j = self.n_hidden, GATES.index(name)
        return slice(j * H, (j + 1) * H)


def check_lstm_params(params) -> LSTMParams:
    """params (an LSTMParams or a 5-tuple in its field order) -> LSTMParams of finite float arrays.

    Checks W_h (4H, H), W_x (4H, X), b (4H,), W_yh (Y, H), b_y (Y,); else a ValueError naming
    the field, the expected and the given shape.
    """
    if not isinstance(params, LSTMParams):
        if isinstance(params, tuple) and not isinstance(params, RNNParams) and len(params) == 5:
            params = LSTMParams(*params)
        else:
            raise ValueError(f"params: expected an LSTMParams(W_x, W_h, b, W_yh, b_y), got {type(params).__name__}")
    W_x, W_h, b, W_yh, b_y = check_real_fields(LSTMParams._fields, params)
    if W_h.ndim != 2 or W_h.shape[0] != 4 * W_h.shape[1] or W_h.shape[1] < 1:
        raise ValueError(f"params.W_h: expected shape (4H, H), four gate blocks i, f, g, o of H rows, got {W_h.shape}")
    H = W_h.shape[1]
    if W_x.ndim != 2 or W_x.shape[0] != 4 * H:
        raise ValueError(f"params.W_x: expected shape ({4 * H}, X) = (4H, X) for H = {H}, got {W_x.shape}")
    if b.shape != (4 * H,):
        raise ValueError(f"params.b: expected shape ({4 * H},) = (4H,) for H = {H}, got {b.shape}")
    check_output_layer(W_yh, b_y, H)
    check_finite_fields(LSTMParams._fields, (W_x, W_h, b, W_yh, b_y))
    return LSTMParams(W_x, W_h, b, W_yh, b_y)


def _check_xs(xs, params: LSTMParams, name: str = "xs") -> np.ndarray:
    """xs (T, B, X) (or x_t (B, X) with name="x_t") -> a new array in the dtype of W_h: the trace keeps
    its own copy, so editing the caller's array afterwards changes nothing computed from the trace."""
    xs = check_real_array(name, xs, finite=False)
    if name == "xs":
        xs = check_time_major(xs)
    elif xs.ndim != 2 or xs.shape[0] < 1:
        raise ValueError(f"x_t: expected one step's inputs (B, X) with B >= 1, got shape {xs.shape}")
    if xs.shape[-1] != params.n_in:
        raise ValueError(f"{name}: expected last dimension X = {params.n_in} (W_x is {params.W_x.shape}), got shape "
                         f"{xs.shape}")
    return check_finite(name, xs).astype(params.W_h.dtype, copy=True)


def _check_state(name: str, s, B: int, params: LSTMParams, *, none_is_zeros: bool = True) -> np.ndarray:
    if s is not None or not none_is_zeros:  # the step functions take arrays only, as their equations do
        check_real_array(name, s, finite=False)
    return check_state(name, s, B, params.n_hidden, params.W_h.dtype)


def init_lstm_params(n_in: int, n_hidden: int, n_out: int, *, seed: int = 0, forget_bias: float = 1.0,
                     scale: float = 1.0, dtype=np.float64) -> LSTMParams:
    """Random LSTM parameters: Gaussian weights with std scale / sqrt(fan_in), biases 0 except f.

    Shapes: W_x (4H, X), W_h (4H, H), b (4H,), W_yh (Y, H), b_y (Y,). The forget gate's bias
    block b[H:2H] is `forget_bias` (1.0 by default, as Jozefowicz, Zaremba and Sutskever 2015
    recommend: f_t starts near sigma(1) = 0.73, not 0.5). Seeded.
    """
    for name, value in (("n_in", n_in), ("n_hidden", n_hidden), ("n_out", n_out)):
        check_int(name, check_positive_int(name, value), 1, MAX_UNITS)
    seed = check_seed("seed", seed)
    forget_bias = check_real("forget_bias", forget_bias)
    scale = check_real("scale", scale, 0.0)
    dtype = check_float_dtype("dtype", dtype)
    rng = np.random.default_rng(seed)
    H = n_hidden
    W_x = rng.standard_normal((4 * H, n_in)) * (scale / np.sqrt(n_in))
    W_h = rng.standard_normal((4 * H, H)) * (scale / np.sqrt(H))
    W_yh = rng.standard_normal((n_out, H)) * (scale / np.sqrt(H))
    b = np.zeros(4 * H)
    b[H:2 * H] = forget_bias
    return LSTMParams(*(p.astype(dtype) for p in (W_x, W_h, b, W_yh, np.zeros(n_out))))


# ----------------------------------------------------------------------------------------------
# Step functions: one time step, one line per equation
# ----------------------------------------------------------------------------------------------


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-z)); exp overflows to inf for z < -709, and then 1 / inf = 0 is right."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


class LSTMStepCache(NamedTuple):
    """What step_forward keeps for step_backward: x_t, h_{t-1}, c_{t-1}, the gates, c_t, tanh(c_t), h_t."""

    x_t: np.ndarray
    h_prev: np.ndarray
    c_prev: np.ndarray
    i_t: np.ndarray
    f_t: np.ndarray
    g_t: np.ndarray
    o_t: np.ndarray
    c_t: np.ndarray
    tanh_c_t: np.ndarray
    h_t: np.ndarray
    params: LSTMParams


def gates(z_t: np.ndarray):
    """The four gate activations from the stacked pre-activations z_t (B, 4H): (i, f, g, o), each (B, H)."""
    z_t = check_real_array("z_t", z_t)
    if z_t.ndim < 1 or z_t.shape[-1] < 4 or z_t.shape[-1] % 4:
        raise ValueError(f"z_t: expected a last dimension 4H, four gate blocks i, f, g, o, got shape {z_t.shape}")
    H = z_t.shape[-1] // 4
    return (_sigmoid(z_t[..., :H]), _sigmoid(z_t[..., H:2 * H]), np.tanh(z_t[..., 2 * H:3 * H]),
            _sigmoid(z_t[..., 3 * H:]))


def step_forward(x_t, h_prev, c_prev, params: LSTMParams):
    """One LSTM step: equations (L1)-(L6) and (3).

    Args:
        x_t: inputs at step t, (B, X).
        h_prev: h_{t-1}, (B, H).
        c_prev: c_{t-1}, (B, H).
    Returns:
        h_t (B, H), c_t (B, H), y_hat_t (B, Y), cache (LSTMStepCache).
    """
    params = check_lstm_params(params)
    x_t = _check_xs(x_t, params, "x_t")
    B = x_t.shape[0]
    h_prev = _check_state("h_prev", h_prev, B, params, none_is_zeros=False)
    c_prev = _check_state("c_prev", c_prev, B, params, none_is_zeros=False)
    z_t = x_t @ params.W_x.T + h_prev @ params.W_h.T + params.b  # (B, 4H) pre-activations
    i_t, f_t, g_t, o_t = gates(z_t)  # (L1)-(L4)
    c_t = f_t * c_prev + i_t * g_t  # (L5): keep part of the old cell, add part of the candidate
    tanh_c_t = np.tanh(c_t)
    h_t = o_t * tanh_c_t  # (L6)
    y_hat_t = softmax(h_t @ params.W_yh.T + params.b_y)  # (3)
    return h_t, c_t, y_hat_t, LSTMStepCache(x_t, h_prev, c_prev, i_t, f_t, g_t, o_t, c_t, tanh_c_t, h_t, params)


def step_backward(dlogits_t, dh_next, dc_next, cache: LSTMStepCache):
    """Backward through one LSTM step: the local derivatives of (3) and (L6)-(L1).

    Args:
        dlogits_t: dL/d(logits_t) from this step's loss, (B, Y).
        dh_next: dL/dh_t carried back from step t + 1 (zeros at t = T), (B, H).
        dc_next: dL/dc_t carried back from step t + 1 through c_{t+1} = f_{t+1} c_t + ..., (B, H).
    Returns:
        dh_prev = dL/dh_{t-1} (B, H), dc_prev = dL/dc_{t-1} (B, H), grads (LSTMParams) of this
        step's contribution.
    """
    cache = _check_cache(cache)
    B, H, Y = cache.h_t.shape[0], cache.params.n_hidden, cache.params.n_out
    dlogits_t = check_shape("dlogits_t", check_real_array("dlogits_t", dlogits_t), (B, Y), "like the cache",
                            symbols="(B, Y)")
    dh_next = _check_state("dh_next", dh_next, B, cache.params, none_is_zeros=False)
    dc_next = _check_state("dc_next", dc_next, B, cache.params, none_is_zeros=False)
    x_t, h_prev, c_prev, i_t, f_t, g_t, o_t, c_t, tanh_c_t, h_t, params = cache
    dW_yh = dlogits_t.T @ h_t  # logits_t = W_yh h_t + b_y
    db_y = dlogits_t.sum(axis=0)
    dh_t = dlogits_t @ params.W_yh + dh_next  # two paths reach h_t: its output and step t + 1
    do_t = dh_t * tanh_c_t  # (L6) h_t = o_t tanh(c_t)
    dc_t = dh_t * o_t * (1.0 - tanh_c_t**2) + dc_next  # (L6), plus the carousel from c_{t+1}
    df_t = dc_t * c_prev  # (L5) c_t = f_t c_{t-1} + i_t g_t
    di_t = dc_t * g_t
    dg_t = dc_t * i_t
    dc_prev = dc_t * f_t  # the constant error carousel: dc_{t-1} = f_t dc_t (+ paths via h_{t-1})
    dz_t = np.concatenate([di_t * i_t * (1.0 - i_t),  # (L1) sigma' = sigma (1 - sigma)
                           df_t * f_t * (1.0 - f_t),  # (L2)
                           dg_t * (1.0 - g_t**2),  # (L3) tanh' = 1 - tanh^2
                           do_t * o_t * (1.0 - o_t)], axis=-1)  # (L4)
    dh_prev = dz_t @ params.W_h  # z_t = W_x x_t + W_h h_{t-1} + b
    grads = LSTMParams(dz_t.T @ x_t, dz_t.T @ h_prev, dz_t.sum(axis=0), dW_yh, db_y)
    return dh_prev, dc_prev, grads


def _check_cache(cache) -> LSTMStepCache:
    """cache from `step_forward`: an LSTMStepCache whose arrays fit its params; else ValueError."""
    if not isinstance(cache, LSTMStepCache):
        raise ValueError(f"cache: expected the LSTMStepCache returned by lstm.step_forward, got {describe(cache)}")
    try:
        params = check_lstm_params(cache.params)
    except ValueError as e:
        raise ValueError(f"cache.{e}") from None
    B, X, H = np.shape(cache.x_t)[0] if np.ndim(cache.x_t) == 2 else -1, params.n_in, params.n_hidden
    fields = {name: (B, X if name == "x_t" else H) for name in LSTMStepCache._fields[:-1]}
    arrays = {}
    for name, shape in fields.items():
        a = check_real_array(f"cache.{name}", getattr(cache, name))
        if a.shape != shape or B < 1:
            raise ValueError(f"cache.{name}: expected shape {shape} like the rest of the cache, got {a.shape}")
        arrays[name] = a
    return LSTMStepCache(**arrays, params=params)


def _loss_and_dlogits(logits: np.ndarray, targets: np.ndarray):
    """Summed-over-time, batch-mean cross-entropy of logits (T, B, Y) and dL/dlogits (T, B, Y)."""
    T, B, _ = logits.shape
    t_idx, b_idx = np.arange(T)[:, None], np.arange(B)[None, :]
    loss = float(np.sum(_logsumexp(logits) - logits[t_idx, b_idx, targets])) / B
    dlogits = _softmax_into(logits, np.empty_like(logits))
    dlogits[t_idx, b_idx, targets] -= 1.0
    dlogits /= B
    return loss, dlogits


def bptt_steps(params: LSTMParams, xs, targets, h0=None, c0=None):
    """Full BPTT as a plain loop over `step_forward` / `step_backward`: the readable reference.

    Same arguments and results as `bptt`: (loss, grads). Slower; tests assert the two agree.
    """
    params = check_lstm_params(params)
    xs = _check_xs(xs, params)
    T, B, _ = xs.shape
    h, c = _check_state("h0", h0, B, params), _check_state("c0", c0, B, params)
    targets = check_targets(targets, T, B, params.n_out)
    caches = []
    for t in range(1, T + 1):
        h, c, _, cache = step_forward(xs[t - 1], h, c, params)
        caches.append(cache)
    logits = np.stack([cache.h_t @ params.W_yh.T + params.b_y for cache in caches])
    loss, dlogits = _loss_and_dlogits(logits, targets)
    grads = params.zeros_like()
    dh_next, dc_next = np.zeros((B, params.n_hidden)), np.zeros((B, params.n_hidden))
    for t in range(T, 0, -1):
        dh_next, dc_next, step_grads = step_backward(dlogits[t - 1], dh_next, dc_next, caches[t - 1])
        grads = LSTMParams(*(g + s for g, s in zip(grads, step_grads)))  # shared weights: sum over t
    return loss, grads


# ----------------------------------------------------------------------------------------------
# Sequence functions: vectorized over batch and time, only the recurrence in a loop
# ----------------------------------------------------------------------------------------------


class LSTMTrace(NamedTuple):
    """Everything the LSTM forward pass computed, row t = step t (see the module docstring).

    h, c (T+1, B, H) with h[0] = h_0, c[0] = c_0; gates (T+1, B, 4H) holding i, f, g, o side by
    side (row 0 NaN; the properties i, f, g, o are views of the blocks); tanh_c (T+1, B, H)
    = tanh(c_t) (row 0 NaN); logits, y_hat (T+1, B, Y) (row 0 NaN); xs (T, B, X).
    """

    h: np.ndarray
    c: np.ndarray
    gates: np.ndarray
    tanh_c: np.ndarray
    logits: np.ndarray
    y_hat: np.ndarray
    xs: np.ndarray

    @property
    def T(self) -> int:
        """Number of time steps."""
        return self.xs.shape[0]

    def _gate(self, j: int) -> np.ndarray:
        H = self.h.shape[2]
        return self.gates[..., j * H:(j + 1) * H]

    @property
    def i(self) -> np.ndarray:
        """Input gate i_t, (T+1, B, H)."""
        return self._gate(0)

    @property
    def f(self) -> np.ndarray:
        """Forget gate f_t, (T+1, B, H)."""
        return self._gate(1)

    @property
    def g(self) -> np.ndarray:
        """Cell candidate g_t, (T+1, B, H)."""
        return self._gate(2)

    @property
    def o(self) -> np.ndarray:
        """Output gate o_t, (T+1, B, H)."""
        return self._gate(3)


def forward(params: LSTMParams, xs, h0=None, c0=None) -> LSTMTrace:
    """Run equations (L1)-(L6) and (3) over a whole sequence.

    Args:
        xs: inputs (T, B, X).
        h0, c0: initial states (B, H), or None for zeros.
    Returns:
        LSTMTrace with h, c (T+1, B, H), h[0] = h0, c[0] = c0.
    The input projection W_x x_t + b and the output layer are one matmul over all steps; only
    the recurrence is looped.
    """
    params = check_lstm_params(params)
    xs = _check_xs(xs, params)
    B = xs.shape[1]
    return _forward(params, xs, _check_state("h0", h0, B, params), _check_state("c0", c0, B, params))


def _forward(params: LSTMParams, xs, h0, c0) -> LSTMTrace:
    T, B, _ = xs.shape
    H, dtype = params.n_hidden, params.W_h.dtype
    h = np.empty((T + 1, B, H), dtype=dtype)
    c = np.empty((T + 1, B, H), dtype=dtype)
    z = np.empty((T + 1, B, 4 * H), dtype=dtype)  # becomes the gate activations, in place
    h[0], c[0], z[0] = h0, c0, np.nan
    # One sigmoid for all four blocks: tanh(x) = 2 sigma(2x) - 1, so the g rows are doubled, and
    # every row is negated so that the loop computes sigma(z) = 1 / (1 + exp(-z)) in three
    # in-place operations. Same numbers as `step_forward` to rounding (tests assert it).
    scale = np.full((4 * H, 1), -1.0, dtype=dtype)
    scale[2 * H:3 * H] = -2.0
    np.matmul(xs, (scale * params.W_x).T, out=z[1:])  # -(W_x x_t + b) for all t at once
    z[1:] += scale[:, 0] * params.b
    W_h_T = (scale * params.W_h).T
    i, f, g, o = slice(0, H), slice(H, 2 * H), slice(2 * H, 3 * H), slice(3 * H, 4 * H)
    with np.errstate(over="ignore"):  # exp(-z) = inf for z < -709 gives sigma = 1 / inf = 0: right
        for t in range(1, T + 1):
            z_t = z[t]
            z_t += h[t - 1] @ W_h_T  # -z_t, z_t = W_x x_t + W_h h_{t-1} + b
            np.exp(z_t, out=z_t)
            z_t += 1.0
            np.reciprocal(z_t, out=z_t)  # (L1), (L2), (L4): sigma(z); the g block holds sigma(2 z)
            g_t = z_t[:, g]
            g_t *= 2.0
            g_t -= 1.0  # (L3) g_t = tanh(z) = 2 sigma(2 z) - 1
            c_t = c[t]
            np.multiply(z_t[:, f], c[t - 1], out=c_t)  # (L5) f_t c_{t-1}
            c_t += z_t[:, i] * g_t  # ... + i_t g_t
            np.tanh(c_t, out=h[t])
            h[t] *= z_t[:, o]  # (L6) h_t = o_t tanh(c_t)
    tanh_c = np.empty_like(c)
    tanh_c[0] = np.nan
    np.tanh(c[1:], out=tanh_c[1:])  # kept for the backward pass (h_t / o_t fails where o_t = 0)
    logits = np.empty((T + 1, B, params.n_out), dtype=dtype)
    logits[0] = np.nan
    np.matmul(h[1:], params.W_yh.T, out=logits[1:])
    logits[1:] += params.b_y
    y_hat = np.empty_like(logits)
    y_hat[0] = np.nan
    _softmax_into(logits[1:], y_hat[1:])  # (3)
    return LSTMTrace(h, c, z, tanh_c, logits, y_hat, xs)


def _check_trace(trace, params: LSTMParams) -> None:
    """trace must be an LSTMTrace of `forward` for a model with the sizes X, H, Y of params."""
    if not isinstance(trace, LSTMTrace):
        raise ValueError(f"trace: expected the LSTMTrace returned by rnnlib.lstm.forward, got {type(trace).__name__}")
    xs = trace.xs
    if not isinstance(xs, np.ndarray) or xs.ndim != 3 or xs.shape[0] < 1 or xs.shape[1] < 1:
        raise ValueError(f"trace: expected trace.xs of shape (T, B, X), got {describe(xs)}")
    T, B, X = xs.shape
    H, Y = params.n_hidden, params.n_out
    if trace.h.ndim == 3 and trace.h.shape[2] != H:
        raise ValueError(f"trace: expected hidden size H = {H} (W_h is {params.W_h.shape}), "
                         f"got a trace with H = {trace.h.shape[2]}")
    if X != params.n_in:
        raise ValueError(f"trace: expected a trace of a model with X = {params.n_in} inputs like params, got X = {X}")
    if trace.logits.ndim == 3 and trace.logits.shape[2] != Y:
        raise ValueError(f"trace: expected a trace of a model with Y = {Y} outputs like params, "
                         f"got Y = {trace.logits.shape[2]}")
    shapes = {"h": (T + 1, B, H), "c": (T + 1, B, H), "gates": (T + 1, B, 4 * H), "tanh_c": (T + 1, B, H),
              "logits": (T + 1, B, Y), "y_hat": (T + 1, B, Y)}
    for name, shape in shapes.items():
        a = getattr(trace, name)
        if not isinstance(a, np.ndarray) or a.shape != shape:
            raise ValueError(f"trace: expected trace.{name} of shape {shape}, got {describe(a)}")


def backward(params: LSTMParams, trace: LSTMTrace, targets):
    """The backward half of `bptt`, from a trace of `forward`: (loss, grads, dh0, dc0).

    trace from forward(params, xs, h0, c0), targets (T, B) -> loss (float), grads (LSTMParams),
    dh0 = dL/dh_0 (B, H), dc0 = dL/dc_0 (B, H). Everything that does not need the carried
    gradient (gate derivatives, the output layer, the weight sums) is computed for all steps at
    once; the loop holds only the recurrence.
    """
    params = check_lstm_params(params)
    _check_trace(trace, params)
    T, B, _ = trace.xs.shape
    targets = check_targets(targets, T, B, params.n_out)
    return _backward(params, trace, targets)


def _backward(params: LSTMParams, trace: LSTMTrace, targets):
    T, B, _ = trace.xs.shape
    H = params.n_hidden
    loss, dlogits = _loss_and_dlogits(trace.logits[1:], targets)
    dh_out = dlogits @ params.W_yh  # dL_t/dh_t through the output layer, all t at once

    # The loop works on (B, 4H) and (B, H) buffers that stay in cache; every operation writes in
    # place. Rows of dz: 0..T-1 = steps 1..T.
    gates_, tanh_c, c = trace.gates, trace.tanh_c, trace.c
    dz = np.empty((T, B, 4 * H))
    D = np.empty((B, 4 * H))  # the gates' derivatives at their pre-activations
    dh, dc, dh_next, dc_next = (np.zeros((B, H)) for _ in range(4))
    W_h = params.W_h
    i, f, g, o = slice(0, H), slice(H, 2 * H), slice(2 * H, 3 * H), slice(3 * H, 4 * H)
    for t in range(T, 0, -1):
        G, tc, dz_t = gates_[t], tanh_c[t], dz[t - 1]
        np.add(dh_out[t - 1], dh_next, out=dh)  # dL/dh_t: its output and step t + 1
        np.multiply(tc, tc, out=dc)
        np.subtract(1.0, dc, out=dc)
        dc *= G[:, o]
        dc *= dh
        dc += dc_next  # dL/dc_t = dL/dh_t o_t tanh'(c_t) + f_{t+1} dL/dc_{t+1}  (L6), (L5)
        np.subtract(1.0, G, out=D)
        D *= G  # sigma' = sigma (1 - sigma) for i, f, o
        np.multiply(G[:, g], G[:, g], out=D[:, g])
        np.subtract(1.0, D[:, g], out=D[:, g])  # tanh' = 1 - g^2 for g
        np.multiply(dc, G[:, g], out=dz_t[:, i])  # dL/di_t = dL/dc_t g_t
        np.multiply(dc, c[t - 1], out=dz_t[:, f])  # dL/df_t = dL/dc_t c_{t-1}
        np.multiply(dc, G[:, i], out=dz_t[:, g])  # dL/dg_t = dL/dc_t i_t
        np.multiply(dh, tc, out=dz_t[:, o])  # dL/do_t = dL/dh_t tanh(c_t)
        dz_t *= D  # dL/dz_t, (L1)-(L4)
        np.matmul(dz_t, W_h, out=dh_next)  # dL/dh_{t-1} through z_t = ... + W_h h_{t-1}
        np.multiply(dc, G[:, f], out=dc_next)  # dL/dc_{t-1} = f_t dL/dc_t: the carousel

    TB = T * B
    dz2 = dz.reshape(TB, 4 * H)
    dlog2 = dlogits.reshape(TB, -1)
    grads = LSTMParams(
        W_x=dz2.T @ trace.xs.reshape(TB, -1),
        W_h=dz2.T @ trace.h[:-1].reshape(TB, H),
        b=dz2.sum(axis=0),
        W_yh=dlog2.T @ trace.h[1:].reshape(TB, H),
        b_y=dlog2.sum(axis=0),
    )
    return loss, grads, dh_next, dc_next


def bptt(params: LSTMParams, xs, targets, h0=None, c0=None):
    """Loss and gradients of L = sum_t L_t for the LSTM by backpropagation through time.

    Args:
        xs: inputs (T, B, X).
        targets: integer classes (T, B).
        h0, c0: initial states (B, H) or None for zeros.
    Returns:
        (loss, grads): loss a float (sum over t of the batch-mean cross-entropy), grads an
        LSTMParams of dL/dW_x, dL/dW_h, dL/db, dL/dW_yh, dL/db_y.
    `forward` followed by `backward`; call those two yourself to keep the trace.
    """
    params = check_lstm_params(params)
    xs = _check_xs(xs, params)
    T, B, _ = xs.shape
    h0, c0 = _check_state("h0", h0, B, params), _check_state("c0", c0, B, params)
    targets = check_targets(targets, T, B, params.n_out)
    trace = _forward(params, xs, h0, c0)
    loss, grads, _, _ = _backward(params, trace, targets)
    return loss, grads


# ----------------------------------------------------------------------------------------------
# Jacobians of the state s_t = (h_t, c_t)
# ----------------------------------------------------------------------------------------------


def _step_blocks(params: LSTMParams, trace: LSTMTrace, t: int):
    """The four blocks of ds_t/ds_{t-1} at step t, each (B, H, H), numerator layout.

    With W_h^(f) = W_h[block("f")] etc., sigma' = sigma (1 - sigma) and tanh' = 1 - tanh^2:
    dc_t/dh_{t-1} = diag(c_{t-1} f_t (1 - f_t)) W_h^(f) + diag(g_t i_t (1 - i_t)) W_h^(i)
                    + diag(i_t (1 - g_t^2)) W_h^(g)                                  (through z_t)
    dc_t/dc_{t-1} = diag(f_t)                                                      (the carousel)
    dh_t/dh_{t-1} = diag(tanh(c_t) o_t (1 - o_t)) W_h^(o) + diag(o_t tanh'(c_t)) dc_t/dh_{t-1}
    dh_t/dc_{t-1} = diag(o_t tanh'(c_t) f_t)
    """
    H = params.n_hidden
    G, tc = trace.gates[t], trace.tanh_c[t]
    i, f, g, o = G[:, :H], G[:, H:2 * H], G[:, 2 * H:3 * H], G[:, 3 * H:]
    W = params.W_h
    bl = {name: W[params.block(name)] for name in GATES}
    dc_dh = ((trace.c[t - 1] * f * (1 - f))[:, :, None] * bl["f"] + (g * i * (1 - i))[:, :, None] * bl["i"]
             + (i * (1 - g * g))[:, :, None] * bl["g"])
    dc_dc = np.zeros_like(dc_dh)
    idx = np.arange(H)
    dc_dc[:, idx, idx] = f
    o_dtanh = o * (1 - tc * tc)
    dh_dh = (tc * o * (1 - o))[:, :, None] * bl["o"] + o_dtanh[:, :, None] * dc_dh
    dh_dc = o_dtanh[:, :, None] * dc_dc
    return dh_dh, dh_dc, dc_dh, dc_dc


def _check_lstm_trace(params, trace):
    params = check_lstm_params(params)
    _check_trace(trace, params)
    return params


def step_jacobian(params: LSTMParams, trace: LSTMTrace, t: int) -> np.ndarray:
    """ds_t/ds_{t-1} for the state s = (h, c): (B, 2H, 2H), rows (h_t, c_t), columns (h_{t-1}, c_{t-1}).

    Numerator layout. The blocks are given in `_step_blocks`; dc_t/dc_{t-1} = diag(f_t) is the
    lower right block. 1 <= t <= T.
    """
    params = _check_lstm_trace(params, trace)
    t = check_int("t", t, 1, trace.T, high_name="T", noun="integer step")
    return _step_jacobian(params, trace, t)


def _step_jacobian(params: LSTMParams, trace: LSTMTrace, t: int) -> np.ndarray:
    dh_dh, dh_dc, dc_dh, dc_dc = _step_blocks(params, trace, t)
    return np.concatenate([np.concatenate([dh_dh, dh_dc], axis=2), np.concatenate([dc_dh, dc_dc], axis=2)], axis=1)


def cell_jacobian(params: LSTMParams, trace: LSTMTrace, t: int):
    """dc_t/dc_{t-1} when h_{t-1} = o_{t-1} tanh(c_{t-1}) moves with c_{t-1}: the carousel and the gates.

    2 <= t <= T (h_0 is given, not computed from c_0). Returns (total, carousel), both (B, H, H):
        carousel = diag(f_t)                                          (c_t = f_t c_{t-1} + ...)
        total    = diag(f_t) + dc_t/dh_{t-1} diag(o_{t-1} tanh'(c_{t-1}))   (paths through i, f, g)
    The output gate o_{t-1} depends on h_{t-2}, not on c_{t-1}, so it is held fixed here.
    """
    params = _check_lstm_trace(params, trace)
    t = check_int("t", t, 2, trace.T, high_name="T", noun="integer step")
    _, _, dc_dh, dc_dc = _step_blocks(params, trace, t)
    H = params.n_hidden
    tc_prev = trace.tanh_c[t - 1]
    dh_prev_dc_prev = trace.gates[t - 1][:, 3 * H:] * (1 - tc_prev * tc_prev)  # diag(o_{t-1} tanh'(c_{t-1}))
    return dc_dc + dc_dh * dh_prev_dc_prev[:, None, :], dc_dc


def jacobian(params: LSTMParams, trace: LSTMTrace, t: int, k: int) -> np.ndarray:
    """ds_t/ds_k = prod_{j=k+1}^{t} ds_j/ds_{j-1}, (B, 2H, 2H); the identity when k = t.

    The block [:H, :H] is dh_t/dh_k (with c_k held fixed), [H:, H:] is dc_t/dc_k (h_k fixed).
    0 <= k <= t <= T. Newest factor on the left.
    """
    params = _check_lstm_trace(params, trace)
    t = check_int("t", t, 0, trace.T, high_name="T")
    k = check_int("k", k, 0, t, high_name="t")
    B, H = trace.h.shape[1], params.n_hidden
    J = np.broadcast_to(np.eye(2 * H), (B, 2 * H, 2 * H)).copy()
    for j in range(k + 1, t + 1):
        J = _step_jacobian(params, trace, j) @ J
    return J


def _block_log_norms(stack, log_scale, H, ord):
    """log10 norms of the hh and cc blocks of a rescaled stack (n, B, 2H, 2H) kept at 10**-log_scale."""
    out = {}
    for name, blk in (("h", np.s_[..., :H, :H]), ("c", np.s_[..., H:, H:])):
        M = stack[blk]
        n = np.linalg.norm(M, ord=2, axis=(-2, -1)) if ord == 2 else np.sqrt(np.sum(M * M, axis=(-2, -1)))
        with np.errstate(divide="ignore"):
            out[name] = log_scale + np.log10(n)
    return out


def _products_to(params, trace, t):
    """P_k = ds_t/ds_k for k = t, ..., 0 through jacobians' rescaled running product; rows in order k = 0..t."""
    B, H = trace.h.shape[1], params.n_hidden

    def step(P, j):  # j factors so far: P_{t-j} = P_{t-j+1} ds_{t-j+1}/ds_{t-j}
        return P @ _step_jacobian(params, trace, t - j + 1)

    _, stack, log_scale = _running_products(B, 2 * H, t, step, keep=True)
    flip = slice(None, None, -1)
    return stack[flip], log_scale[flip]


def jacobian_log_norms(params: LSTMParams, trace: LSTMTrace, t: int | None = None, ord=2) -> dict:
    """log10 ||dh_t/dh_k|| and log10 ||dc_t/dc_k|| for every k = 0..t, exact as log-norms.

    Returns {"h": (t + 1, B), "c": (t + 1, B)}: row k is log10 of the norm of the block of
    ds_t/ds_k. The product is grown from the right once, P_k = P_{k+1} ds_{k+1}/ds_k, with
    rnnlib.jacobians' rescaling, so nothing underflows even at t = 1000 (notebook 04's method).
    """
    params = _check_lstm_trace(params, trace)
    check_ord(ord)
    t = trace.T if t is None else check_int("t", t, 0, trace.T, high_name="T")
    stack, log_scale = _products_to(params, trace, t)
    return _block_log_norms(stack, log_scale, params.n_hidden, ord)


def loss_gradient_log_norms(params: LSTMParams, trace: LSTMTrace, targets) -> dict:
    """log10 ||dL_T/dh_k|| and log10 ||dL_T/dc_k|| for k = 0..T: how far the last loss term reaches.

    targets (T, B) (only row T is used). Per example (not divided by B): returns
    {"h": (T + 1, B), "c": (T + 1, B)}, row k the log10 norm of the h or c part of
    dL_T/ds_k = dL_T/ds_T ds_T/ds_k, with dL_T/ds_T = (W_yh^T (y^_T - onehot(y_T)), 0).
    Row T of "c" is therefore -inf: with h_T held fixed, c_T does not reach L_T.
    """
    params = _check_lstm_trace(params, trace)
    T, B = trace.T, trace.h.shape[1]
    targets = check_targets(targets, T, B, params.n_out)
    H = params.n_hidden
    gT = trace.y_hat[T].copy()
    gT[np.arange(B), targets[-1]] -= 1.0
    v = np.concatenate([gT @ params.W_yh, np.zeros((B, H))], axis=1)  # dL_T/ds_T, (B, 2H)
    stack, log_scale = _products_to(params, trace, T)
    u = np.einsum("bi,kbij->kbj", v, stack)
    with np.errstate(divide="ignore"):
        return {"h": log_scale + np.log10(np.linalg.norm(u[..., :H], axis=-1)),
                "c": log_scale + np.log10(np.linalg.norm(u[..., H:], axis=-1))}


def rnn_loss_gradient_log_norms(params: RNNParams, trace: Trace, targets) -> np.ndarray:
    """The vanilla RNN's log10 ||dL_T/dh_k|| for k = 0..T, (T + 1, B), per example: the baseline.

    dL_T/dh_k = W_yh^T (y^_T - onehot(y_T)) dh_T/dh_k, with the product from
    `rnnlib.jacobians` (rescaled, exact as log-norms).
    """
    from ._checks import check_params, check_trace
    from .jacobians import _backward_products

    params = check_params(params)
    check_trace(params=params, trace=trace)
    T, B = trace.T, trace.h.shape[1]
    targets = check_targets(targets, T, B, params.n_out)
    gT = trace.y_hat[T].copy()
    gT[np.arange(B), targets[-1]] -= 1.0
    _, stack, log_scale = _backward_products(params, trace, T, keep=True)
    u = np.einsum("bi,kbij->kbj", gT @ params.W_yh, stack)
    with np.errstate(divide="ignore"):
        return log_scale + np.log10(np.linalg.norm(u, axis=-1))


def flops_per_step(n_in: int, n_hidden: int, n_out: int, model: str = "lstm") -> int:
    """Multiply-adds of the matrix products of one forward step, per example (no timings).

    "lstm": 4H(X + H) + YH; "rnn": H(X + H) + YH. The LSTM does four times the recurrent work.
    """
    X, H, Y = (check_positive_int(n, v) for n, v in (("n_in", n_in), ("n_hidden", n_hidden), ("n_out", n_out)))
    if model == "lstm":
        return 4 * H * (X + H) + Y * H
    if model == "rnn":
        return H * (X + H) + Y * H
    raise ValueError(f"model: expected 'lstm' or 'rnn', got {model!r}")


# ----------------------------------------------------------------------------------------------
# The long-range task of notebook 06, with an LSTM
# ----------------------------------------------------------------------------------------------


def last_step_accuracy(params: LSTMParams, xs, targets) -> float:
    """Fraction of sequences whose most likely class at step T is the target y_T. xs (T, B, X), targets (T, B)."""
    params = check_lstm_params(params)
    xs = _check_xs(xs, params)
    targets = check_targets(targets, xs.shape[0], xs.shape[1], params.n_out)
    trace = _forward(params, xs, *(np.zeros((xs.shape[1], params.n_hidden), dtype=xs.dtype) for _ in range(2)))
    return float(np.mean(np.argmax(trace.logits[-1], axis=-1) == targets[-1]))


def run_remember_first(T: int, seed: int, *, n_hidden: int = 16, n_steps: int = 200, batch: int = 32,
                       forget_bias: float = 1.0, lr: float = 0.01, clip_norm=None, n_test: int = 500):
    """`rnnlib.tasks.run_remember_first` with an LSTM: the same data stream, budget and test set.

    Fresh batches of `batch` sequences from np.random.default_rng(seed), full BPTT, Adam(lr),
    n_steps updates, optional norm clipping (one norm over all parameters); parameters from
    init_lstm_params(seed=seed, forget_bias=forget_bias). Returns (accuracy at step T on n_test
    held-out sequences from np.random.default_rng(10_000 + seed), history {"loss", "grad_norm"},
    params). Deterministic given its arguments. Notebook 08.
    """
    from .core import global_norm
    from .tasks import remember_first
    from .train import Adam

    T = check_int("T", T, 2)
    seed = check_seed("seed", seed)
    n_hidden = check_int("n_hidden", n_hidden, 1, MAX_UNITS)
    check_positive_int("n_steps", n_steps)
    batch, n_test = check_int("batch", batch, 1), check_int("n_test", n_test, 1)
    forget_bias, lr = check_real("forget_bias", forget_bias), check_positive("lr", lr)
    clip_norm = None if clip_norm is None else check_positive("clip_norm", clip_norm)
    rng = np.random.default_rng(seed)
    n_symbols, n_distractors = 2, 4
    X, Y = n_symbols + n_distractors + 1, n_symbols + 1
    params = init_lstm_params(X, n_hidden, Y, seed=seed, forget_bias=forget_bias)
    optimizer = Adam(lr)
    hist = {"loss": np.empty(n_steps), "grad_norm": np.empty(n_steps)}
    for step in range(n_steps):
        xs, targets, _ = remember_first(T, batch, rng)
        trace = _forward(params, xs, np.zeros((batch, n_hidden)), np.zeros((batch, n_hidden)))
        hist["loss"][step], grads, _, _ = _backward(params, trace, targets)
        norm = hist["grad_norm"][step] = global_norm(grads)
        if not np.isfinite(norm):
            raise FloatingPointError(f"gradient norm is {norm}: training diverged")
        if clip_norm is not None and norm >= clip_norm:
            grads = LSTMParams(*(g * (clip_norm / norm) for g in grads))
        params = LSTMParams(*optimizer.step(tuple(params), tuple(grads)))
    xs, targets, _ = remember_first(T, n_test, np.random.default_rng(10_000 + seed))
    return last_step_accuracy(params, xs, targets), hist, params


def gradient_profiles(T: int = 100, n_hidden: int = 16, batch: int = 8, *, forget_bias: float = 1.0,
                      input_scale: float = 1.0, seed: int = 0) -> dict:
    """How far the last loss term reaches back, vanilla RNN vs LSTM, at initialization (notebook 08).

    Both models get the same H = n_hidden, the same `batch` inputs of `tasks.remember_first(T)`
    and input weights multiplied by `input_scale`: the vanilla RNN is `remedies.init_rnn`'s
    Gaussian W_hh at spectral radius 1 (notebook 06's start), the LSTM `init_lstm_params` with
    `forget_bias`. Returns {"rnn", "lstm_h", "lstm_c"}: arrays (T + 1,) indexed by the lag
    T - k, the median over the batch of log10 ||dL_T/dh_k|| (or dc_k): what the widget and the
    figures of notebook 08 draw.
    """
    from .core import forward as rnn_forward
    from .remedies import init_rnn
    from .tasks import remember_first

    T = check_int("T", T, 2)
    n_hidden = check_int("n_hidden", n_hidden, 1, MAX_UNITS)
    batch = check_int("batch", batch, 1)
    forget_bias = check_real("forget_bias", forget_bias)
    input_scale = check_real("input_scale", input_scale, 0.0)
    seed = check_seed("seed", seed)
    xs, targets, _ = remember_first(T, batch, np.random.default_rng(seed))
    X, Y = xs.shape[2], 3
    rnn = init_rnn(X, n_hidden, Y, "gaussian", spectral_radius=1.0, input_scale=input_scale, seed=seed)
    p = init_lstm_params(X, n_hidden, Y, seed=seed, forget_bias=forget_bias)
    p = p._replace(W_x=p.W_x * input_scale)
    prof = loss_gradient_log_norms(p, forward(p, xs), targets)
    lag = slice(None, None, -1)  # row k -> lag T - k
    return {"rnn": np.median(rnn_loss_gradient_log_norms(rnn, rnn_forward(rnn, xs), targets), axis=1)[lag],
            "lstm_h": np.median(prof["h"], axis=1)[lag], "lstm_c": np.median(prof["c"], axis=1)[lag]}
