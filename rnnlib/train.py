"""Training a vanilla RNN: optimizers, text data helpers, training loops, sampling.

Introduced in notebooks 06 (the long-range task) and 07 (a character-level language model).
Optimizers are small classes with one method, `step(params, grads) -> new params`, that keep
their running statistics inside; parameters and gradients are `RNNParams` (or any tuple of
arrays of matching shapes). Core math: numpy only.

    SGD       w <- w - lr g                              (with momentum: v <- mu v + g, w -= lr v)
    Adagrad   G <- G + g^2,  w <- w - lr g / (sqrt(G) + eps)                   (min-char-rnn)
    Adam      m <- b1 m + (1-b1) g,  v <- b2 v + (1-b2) g^2,
              w <- w - lr m^ / (sqrt(v^) + eps),  m^ = m/(1-b1^t), v^ = v/(1-b2^t)

w stands for any parameter array (theta is kept for the clipping threshold of notebook 06).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ._checks import (MAX_UNITS, check_activation, check_arrays_like, check_bool, check_callable, check_dims,
                      check_float_dtype, check_fraction, check_generator, check_h0, check_ids, check_int,
                      check_int_array, check_nonnegative, check_optimizer, check_params, check_positive, check_real,
                      check_real_nd, check_shape, check_targets, check_text, check_vocab, check_xs, describe)
from .containers import RNNParams, global_norm, same_kind
from .core import _backward, _cross_entropy, _forward, _step_forward, softmax
from .remedies import clip_by_norm

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "load_text",
    "CharRNNSetup",
    "char_rnn_setup",
    "build_vocab",
    "encode",
    "decode",
    "one_hot",
    "batch_streams",
    "chunk_batches",
    "train_step",
    "train_on_batches",
    "train_char_rnn",
    "char_loss",
    "bigram_loss",
    "probe_r2",
    "sample",
]


def _check_pair(params, grads, state):
    """params and grads as lists of finite float arrays of the same shapes; after the first step
    (state: the optimizer's running arrays) also the shapes of the first step's params."""
    if state is not None:
        check_arrays_like("params", params, like=state, like_name="the parameters of the optimizer's first step")
    p = check_arrays_like("params", params)
    return p, check_arrays_like("grads", grads, like=p)


class SGD:
    """Gradient descent, w <- w - lr g; with momentum mu: v <- mu v + g, w <- w - lr v.

    step(params, grads) -> new params (same type; inputs untouched).
    """

    def __init__(self, lr: float = 0.1, momentum: float = 0.0):
        self.lr = check_positive("lr", lr)
        self.momentum = check_fraction("momentum", momentum)
        self.v = None

    def step(self, params, grads):
        """One update; returns the new parameters."""
        template = params
        params, grads = _check_pair(params, grads, self.v)
        if self.v is None:
            self.v = [np.zeros_like(p) for p in params]
        self.v = [self.momentum * v + g for v, g in zip(self.v, grads)]
        return same_kind(template, [p - self.lr * v for p, v in zip(params, self.v)])


class Adagrad:
    """Adagrad (as in min-char-rnn): G <- G + g^2, w <- w - lr g / (sqrt(G) + eps).

    step(params, grads) -> new params. Each entry gets its own step size, shrinking as its
    squared gradients accumulate.
    """

    def __init__(self, lr: float = 0.1, eps: float = 1e-8):
        self.lr = check_positive("lr", lr)
        self.eps = check_positive("eps", eps)
        self.G = None

    def step(self, params, grads):
        """One update; returns the new parameters."""
        template = params
        params, grads = _check_pair(params, grads, self.G)
        if self.G is None:
            self.G = [np.zeros_like(p) for p in params]
        self.G = [G + g * g for G, g in zip(self.G, grads)]
        return same_kind(template, [p - self.lr * g / (np.sqrt(G) + self.eps) for p, g, G in zip(params, grads, self.G)])


class Adam:
    """Adam (Kingma and Ba 2015) with bias correction; see the module docstring for the equations.

    step(params, grads) -> new params. Defaults lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8.
    """

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.lr = check_positive("lr", lr)
        self.beta1, self.beta2 = check_fraction("beta1", beta1), check_fraction("beta2", beta2)
        self.eps = check_positive("eps", eps)
        self.m = self.v = None
        self.t = 0

    def step(self, params, grads):
        """One update; returns the new parameters."""
        template = params
        params, grads = _check_pair(params, grads, self.m)
        if self.m is None:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        self.m = [b1 * m + (1 - b1) * g for m, g in zip(self.m, grads)]  # first moment
        self.v = [b2 * v + (1 - b2) * g * g for v, g in zip(self.v, grads)]  # second moment
        c1, c2 = 1 - b1**self.t, 1 - b2**self.t  # bias corrections
        return same_kind(template, [p - self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)
                              for p, m, v in zip(params, self.m, self.v)])


# ----------------------------------------------------------------------------------------------
# Text data (notebook 07)
# ----------------------------------------------------------------------------------------------


def build_vocab(text: str) -> list[str]:
    """The sorted list of distinct characters of `text`; index i is character i's class id."""
    return sorted(set(check_text("text", text)))


def encode(text: str, vocab: list[str]) -> np.ndarray:
    """Characters -> integer ids (len(text),) with vocab[id] == char."""
    text, vocab = check_text("text", text), check_vocab(vocab)
    index = {c: i for i, c in enumerate(vocab)}
    missing = sorted(set(text) - set(index))
    if missing:
        raise ValueError(f"text: expected only characters of vocab, got {missing[:5]!r} not in it")
    return np.fromiter((index[c] for c in text), dtype=np.int64, count=len(text))


def decode(ids, vocab: list[str]) -> str:
    """Integer ids -> the string of their characters."""
    vocab = check_vocab(vocab)
    ids = check_ids("ids", ids, len(vocab), ndim=None, min_size=0)
    return "".join(vocab[int(i)] for i in np.ravel(ids))


def one_hot(ids, n: int, dtype=np.float64) -> np.ndarray:
    """Integer ids of any shape S -> one-hot array (*S, n): x[..., ids] = 1."""
    n = check_int("n", n, 1, MAX_UNITS)
    dtype = check_float_dtype("dtype", dtype)
    ids = check_int_array("ids", ids, 0, n - 1)
    return np.eye(n, dtype=dtype)[ids]


# Package data: rnnlib/data/tiny.txt is a link to the repository's data/tiny.txt, so the text is
# installed with the package (`pip install .`) and read from there; see data/README.md.
TEXT_PATH = Path(str(resources.files("rnnlib") / "data" / "tiny.txt"))


def load_text() -> str:
    """The text shipped for notebook 07: data/tiny.txt ("The Keeper's Log", about 20 kB, ASCII).

    Read from the package data rnnlib/data/tiny.txt (`TEXT_PATH`); a FileNotFoundError names
    the place it looked.
    """
    if not TEXT_PATH.is_file():
        raise FileNotFoundError(f"notebook 07's text: looked for {TEXT_PATH} (package data of rnnlib, a link to the "
                                "repository's data/tiny.txt) and found no file; reinstall rnnlib from the repository")
    return TEXT_PATH.read_text(encoding="ascii")


class CharRNNSetup(NamedTuple):
    """Data and settings of notebook 07's character-level model (see `char_rnn_setup`)."""

    text: str  # the whole text
    vocab: list[str]  # sorted distinct characters; V = len(vocab)
    ids: np.ndarray  # (N,) character ids of the whole text
    n_train: int  # ids[:n_train] is for training, ids[n_train:] is held out
    train_ids: np.ndarray  # (n_train,)
    heldout_ids: np.ndarray  # (N - n_train,)
    B: int  # parallel streams per update
    k: int  # truncation length: characters per chunk
    H: int  # hidden units
    theta: float  # norm-clipping threshold
    lr: float  # Adam learning rate


def char_rnn_setup(*, train_fraction: float = 0.9, B: int = 32, k: int = 25, H: int = 64, theta: float = 25.0,
                   lr: float = 0.01) -> CharRNNSetup:
    """The text of `load_text`, its vocabulary and ids, split into training and held-out parts.

    The first train_fraction of the characters is for training, the rest held out (no overlap).
    B, k, H, theta and lr are notebook 07's settings, returned with the data so that the notebook
    and `examples.char_rnn_experiment` train the same model.
    """
    train_fraction = check_fraction("train_fraction", train_fraction, low_open=True)
    B, k, H = (check_int(name, v, 1) for name, v in (("B", B), ("k", k), ("H", H)))
    theta, lr = check_positive("theta", theta), check_positive("lr", lr)
    text = load_text()
    vocab = build_vocab(text)
    ids = encode(text, vocab)
    n_train = int(train_fraction * ids.size)
    return CharRNNSetup(text, vocab, ids, n_train, ids[:n_train], ids[n_train:], B, k, H, theta, lr)


def batch_streams(ids, B: int) -> np.ndarray:
    """Cut a long id sequence into B parallel streams, time-major: (N // B, B).

    Stream b is the contiguous piece ids[b L : (b + 1) L], L = N // B, so a hidden state carried
    from one chunk to the next keeps reading the same text (what chunked TBPTT needs).
    """
    ids = check_ids("ids", ids, ndim=1, min_size=2)
    B = check_int("B", B, 1, ids.size // 2, high_name="len(ids) // 2")
    L = ids.size // B
    return ids[: L * B].reshape(B, L).T.copy()


def chunk_batches(streams, k: int):
    """Consecutive chunks of k steps: yields (inputs (k', B), targets (k', B)), targets = next id.

    streams (L, B) from `batch_streams`; chunk c reads steps c k .. c k + k - 1 and its targets
    are one step later, so the last chunk may be shorter (k' <= k). Feeding the chunks in order
    with the hidden state carried over is chunked truncated BPTT.
    """
    streams = _check_streams(streams)
    k = check_int("k", k, 1)
    return _chunks(streams, k)  # the arguments are checked now, not at the first next()


def _check_streams(streams, V=None):
    streams = check_ids("streams", streams, V, ndim=2, min_size=2)
    return check_dims("streams", streams, ("L", "B"), (2, 1))


def _chunks(streams, k):
    L = streams.shape[0]
    for s in range(0, L - 1, k):
        e = min(s + k, L - 1)
        yield streams[s:e], streams[s + 1 : e + 1]


# ----------------------------------------------------------------------------------------------
# Training loops
# ----------------------------------------------------------------------------------------------


def train_step(params: RNNParams, xs, targets, optimizer, *, h0=None, clip_norm=None,
               activation: str = "tanh"):
    """One update on one chunk: full BPTT inside it, optional norm clipping, one optimizer step.

    xs (T, B, X), targets (T, B), h0 (B, H) or None -> (new params, loss, ||g|| before clipping,
    h_T (B, H)). h0 is a constant here: no gradient flows out of the chunk. Calling train_step on
    consecutive chunks with h0 = the previous call's h_T is chunked truncated BPTT with an update
    after every chunk (notebook 07): the state is carried forward, "detached".
    """
    params = check_params(params)
    xs = check_xs(xs, params)
    T, B, _ = xs.shape
    h0 = check_h0(h0, B, params)
    targets = check_targets(targets, T, B, params.n_out)
    clip_norm = None if clip_norm is None else check_positive("clip_norm", clip_norm)
    optimizer = check_optimizer(optimizer)
    return _train_step(params, xs, targets, optimizer, h0, clip_norm, check_activation(activation))


def _train_step(params, xs, targets, optimizer, h0, clip_norm, f):
    """`train_step` for checked arguments (f an Activation)."""
    trace = _forward(params, xs, h0, f)
    loss, grads, _ = _backward(params, trace, targets, None)
    if clip_norm is not None:
        grads, norm = clip_by_norm(grads, clip_norm)
    else:
        norm = global_norm(grads)
    if not np.isfinite(norm):
        raise FloatingPointError(f"gradient norm is {norm}: training diverged (try clipping or a smaller lr)")
    return optimizer.step(params, grads), loss, norm, trace.h[-1]


def train_on_batches(params: RNNParams, make_batch, n_steps: int, optimizer, *, clip_norm=None,
                     activation: str = "tanh"):
    """Train on fresh batches: for step i, (xs, targets) = make_batch(i), full BPTT, one update.

    Returns (params, history) with history = {"loss": (n_steps,), "grad_norm": (n_steps,)}:
    the loss and the gradient norm (before clipping) seen at each step. Used for the
    long-range task of notebook 06.
    """
    params = check_params(params)
    make_batch = check_callable("make_batch", make_batch, "a function i -> (xs, targets)")
    n_steps = check_int("n_steps", n_steps, 0)
    optimizer = check_optimizer(optimizer)
    clip_norm = None if clip_norm is None else check_positive("clip_norm", clip_norm)
    f = check_activation(activation)
    losses, norms = np.empty(n_steps), np.empty(n_steps)
    for i in range(n_steps):
        xs, targets = _checked_batch(make_batch, i, params)  # every batch is new input: checked
        h0 = np.zeros((xs.shape[1], params.n_hidden), dtype=params.W_hh.dtype)
        params, losses[i], norms[i], _ = _train_step(params, xs, targets, optimizer, h0, clip_norm, f)
    return params, {"loss": losses, "grad_norm": norms}


def _checked_batch(make_batch, i, params):
    """make_batch(i) checked: (xs, targets) for params, else a ValueError naming make_batch."""
    batch = make_batch(i)
    if not isinstance(batch, tuple) or len(batch) != 2:
        raise ValueError(f"make_batch: expected a function returning a pair (xs, targets), got {describe(batch)} "
                         f"from make_batch({i})")
    try:
        xs = check_xs(batch[0], params)
        return xs, check_targets(batch[1], xs.shape[0], xs.shape[1], params.n_out)
    except ValueError as e:
        raise ValueError(f"make_batch: expected a valid batch from make_batch({i}), got {e}") from None


def train_char_rnn(params: RNNParams, streams, n_steps: int, optimizer, *, k: int = 25, clip_norm=5.0,
                   activation: str = "tanh", evaluate=None, eval_every: int = 100):
    """Character-level language model training with chunked truncated BPTT (notebook 07).

    streams (L, B) of character ids from `batch_streams`. Each step takes the next chunk of k
    characters of every stream, back-propagates inside the chunk only, clips the gradient norm
    and updates; the last hidden state is carried, detached, into the next chunk. At the end
    of the streams the state is reset to zeros and reading starts again.
    Returns (params, history) with history["loss"] (n_steps,) in nats per character (the chunk
    loss sum_t L_t divided by its length) and history["grad_norm"] (n_steps,).
    With evaluate, a function params -> float (e.g. the held-out loss from `char_loss`), it is
    also called after every eval_every updates and at the end: history["eval_step"] holds the
    update counts, history["eval"] the values.
    """
    params = check_params(params)
    eval_every = check_int("eval_every", eval_every, 1)
    n_steps = check_int("n_steps", n_steps, 0)
    k = check_int("k", k, 1)
    optimizer = check_optimizer(optimizer)
    clip_norm = None if clip_norm is None else check_positive("clip_norm", clip_norm)
    f = check_activation(activation)
    if evaluate is not None:
        check_callable("evaluate", evaluate, "None or a function params -> float")
    streams = _check_streams(streams, min(params.n_in, params.n_out))  # ids are inputs (X) and targets (Y)
    V = params.n_in
    losses, norms = np.empty(n_steps), np.empty(n_steps)
    eval_steps, evals = [], []
    chunks, h, i = iter(()), None, 0
    while i < n_steps:
        try:
            inputs, targets = next(chunks)
        except StopIteration:
            chunks, h = _chunks(streams, k), None  # a new pass: start from h_0 = 0
            continue
        xs = one_hot(inputs, V, dtype=params.W_hh.dtype)  # checked by one_hot: ids in 0..V-1
        h = np.zeros((xs.shape[1], params.n_hidden), dtype=xs.dtype) if h is None else h
        params, loss, norms[i], h = _train_step(params, xs, targets, optimizer, h, clip_norm, f)
        losses[i] = loss / inputs.shape[0]
        i += 1
        if evaluate is not None and (i % eval_every == 0 or i == n_steps):
            eval_steps.append(i)
            evals.append(_evaluated(evaluate, params))
    history = {"loss": losses, "grad_norm": norms}
    if evaluate is not None:
        history["eval_step"], history["eval"] = np.array(eval_steps), np.array(evals)
    return params, history


def _evaluated(evaluate, params) -> float:
    value = evaluate(params)
    try:
        return check_real("evaluate", value)
    except ValueError:
        if isinstance(value, (float, np.floating)):  # NaN or inf: a diverged model, reported as it is
            return float(value)
        raise ValueError(f"evaluate: expected a function returning a real number, got {describe(value)}") from None


def char_loss(params: RNNParams, ids, activation: str = "tanh") -> float:
    """Mean loss per character (nats) of reading `ids` as one stream from h_0 = 0.

    ids (N,) character ids, N >= 2 -> (1/(N-1)) sum_t L_t, predicting ids[t] from ids[:t]:
    the forward pass of equations (2b) and (3) with B = 1 and no truncation (nothing is
    back-propagated, so the whole text is read in one go). Used for held-out text in notebook 07.
    """
    params = check_params(params)
    ids = check_ids("ids", ids, min(params.n_in, params.n_out), ndim=1, min_size=2)
    xs = one_hot(ids[:-1, None], params.n_in, dtype=params.W_hh.dtype)  # checks the ids
    targets = check_targets(ids[1:, None], ids.size - 1, 1, params.n_out)
    trace = _forward(params, xs, np.zeros((1, params.n_hidden), dtype=xs.dtype), check_activation(activation))
    return _cross_entropy(trace.logits[1:], targets, trace.y_hat[1:])[0] / (ids.size - 1)


def bigram_loss(train_ids, test_ids, n: int, alpha: float = 0.1) -> float:
    """Loss per character (nats) on test_ids of a bigram model counted on train_ids: the baseline
    "predict the next character from the current one only".

    train_ids, test_ids 1-D ids in 0..n-1 -> -(1/(M-1)) sum_t log P(c_{t+1} | c_t) over the M test
    characters, with P(j | i) = (count(i, j) + alpha) / (count(i) + n alpha) (add-alpha smoothing,
    so an unseen pair does not get probability 0).
    """
    n = check_int("n", n, 1, MAX_UNITS)
    train_ids = check_ids("train_ids", train_ids, n, ndim=1, min_size=2)
    test_ids = check_ids("test_ids", test_ids, n, ndim=1, min_size=2)
    alpha = check_nonnegative("alpha", alpha)
    counts = np.full((n, n), alpha)
    np.add.at(counts, (train_ids[:-1], train_ids[1:]), 1.0)  # count(i, j): j follows i
    P = counts / counts.sum(axis=1, keepdims=True)
    return -float(np.mean(np.log(P[test_ids[:-1], test_ids[1:]])))


def probe_r2(states_fit, y_fit, states_test, y_test, ridge: float = 1e-3) -> float:
    """Held-out R^2 of a linear probe: how well a linear read-out of the states predicts y.

    states_fit (N, H), y_fit (N,), states_test (M, H), y_test (M,) -> R^2 on the test rows,
    1 - sum (y - y_pred)^2 / sum (y - mean y)^2. The probe y_pred = [s, 1] . beta is fitted by
    ridge regression on the fit rows: beta = (S^T S + ridge I)^{-1} S^T y with S = [states, 1].
    1 means y is a linear function of the state; 0 means no better than predicting the mean.
    """
    S_fit = check_real_nd("states_fit", states_fit, 2).astype(np.float64, copy=False)
    check_dims("states_fit", S_fit, ("N", "H"), (1, 1))
    y_fit = check_real_nd("y_fit", y_fit, 1).astype(np.float64, copy=False)
    check_shape("y_fit", y_fit, (S_fit.shape[0],), "like the rows of states_fit")
    S_test = check_real_nd("states_test", states_test, 2).astype(np.float64, copy=False)
    check_dims("states_test", S_test, ("M", S_fit.shape[1]), (2, None), "like states_fit")
    y_test = check_real_nd("y_test", y_test, 1).astype(np.float64, copy=False)
    check_shape("y_test", y_test, (S_test.shape[0],), "like the rows of states_test")
    if np.all(y_test == y_test[0]):
        raise ValueError(f"y_test: expected values that vary (R^2 divides by their variance), got all {y_test[0]!r}")
    ridge = check_real("ridge", ridge, 0.0)
    S_fit = np.column_stack([S_fit, np.ones(len(S_fit))])
    S_test = np.column_stack([S_test, np.ones(len(S_test))])
    beta = np.linalg.solve(S_fit.T @ S_fit + ridge * np.eye(S_fit.shape[1]), S_fit.T @ y_fit)
    resid = y_test - S_test @ beta
    return float(1.0 - resid @ resid / np.sum((y_test - y_test.mean()) ** 2))


def sample(params: RNNParams, prefix_ids, n: int, *, temperature: float = 1.0, rng=None,
           activation: str = "tanh", return_states: bool = False):
    """Generate n ids after reading prefix_ids, drawing y_{t+1} ~ softmax(logits_t / temperature).

    prefix_ids: 1-D ids (at least one); rng: a numpy Generator (seeded, so samples repeat).
    Returns the (n,) generated ids, or (ids, hs) with hs (len(prefix) + n - 1, H) the hidden
    state after each character read if return_states. temperature < 1 sharpens the
    distribution (towards argmax), > 1 flattens it (towards uniform).
    Each draw is an inverse-CDF lookup of one uniform number, so a tiny floating-point
    difference changes a character only if u falls within rounding of a CDF boundary.
    """
    params = check_params(params)
    prefix_ids = check_ids("prefix_ids", prefix_ids, params.n_in, ndim=1, min_size=1)
    n = check_int("n", n, 0)
    temperature = check_positive("temperature", temperature)
    rng = check_generator("rng", rng)
    f = check_activation(activation)
    return_states = check_bool("return_states", return_states)
    V = params.n_in
    h = np.zeros((1, params.n_hidden), dtype=params.W_hh.dtype)
    np.empty(n, dtype=np.int64)  # an absurd n is a MemoryError now, not a loop that never ends
    out, hs = [], []
    ids = list(prefix_ids)
    for j in range(prefix_ids.size + n - 1):
        x = one_hot(np.array([ids[j] if j < prefix_ids.size else out[-1]]), V)
        h, _, _ = _step_forward(x, h, params, f)  # (2a): read one character
        hs.append(h[0])
        if j < prefix_ids.size - 1:
            continue
        p = softmax((h[0] @ params.W_yh.T + params.b_y) / temperature)  # (3) with logits / temperature
        cdf = np.cumsum(p)
        out.append(int(min(np.searchsorted(cdf, rng.random(), side="right"), V - 1)))
    ids_out = np.array(out, dtype=np.int64)
    return (ids_out, np.array(hs)) if return_states else ids_out
