"""Long-range toy tasks for notebook 06: learning fails as the dependency grows longer.

`remember_first`: the first input is one of C symbols; then come T - 2 random distractor
symbols and a "query" marker at step T; the network must say "blank" while it waits and name
the first symbol when the query arrives.
The only information that solves step T lies T - 1 steps back, so its gradient must travel
through the product dh_T/dh_1 of notebooks 04-05. Bengio, Simard and Frasconi (1994) showed that
gradient descent rarely learns such a latch once it spans 10-20 steps.
Core math: numpy only.
"""

from __future__ import annotations

import numpy as np

from ._checks import (check_activation, check_choice, check_generator, check_int, check_int_array, check_nonnegative, check_optimizer,
                      check_positive, check_seed, check_targets)
from . import remedies
from .containers import RNNParams, global_norm
from .core import _check_sequence, _forward
from .remedies import init_rnn
from .train import Adam, train_on_batches

__all__ = ["remember_first", "last_step_accuracy", "run_remember_first", "run_remember_first_omega", "wilson_interval"]

BLANK = 0  # output class for "nothing to report yet"


def remember_first(T: int, B: int, rng, *, n_symbols: int = 2, n_distractors: int = 4):
    """A batch of the remember-the-first-input task.

    T >= 2 steps, B sequences, rng a numpy Generator. Inputs are one-hot over
    X = n_symbols + n_distractors + 1: x_1 is symbol s (id 0..C-1, C = n_symbols),
    x_2..x_{T-1} are random distractors (ids C..X-2) and x_T is the query marker (id X-1).
    Targets (T, B): class 0 ("blank") at steps 1..T-1 and class s + 1 at step T, so Y = C + 1.
    Returns (xs (T, B, X), targets (T, B) int64, first (B,) the symbols).
    Chance accuracy at step T is 1 / C.
    """
    for name, v, low in (("T", T, 2), ("B", B, 1), ("n_symbols", n_symbols, 2), ("n_distractors", n_distractors, 1)):
        check_int(name, v, low)
    rng = check_generator("rng", rng)
    X = n_symbols + n_distractors + 1
    first = rng.integers(0, n_symbols, size=B)
    ids = np.empty((T, B), dtype=np.int64)
    ids[0] = first
    ids[1:-1] = rng.integers(n_symbols, X - 1, size=(T - 2, B))
    ids[-1] = X - 1  # the query: "report now"
    xs = np.eye(X)[ids]
    targets = np.full((T, B), BLANK, dtype=np.int64)
    targets[-1] = first + 1
    return xs, targets, first


def last_step_accuracy(params: RNNParams, xs, targets, activation: str = "tanh") -> float:
    """Fraction of sequences whose most likely class at step T is the target y_T.

    xs (T, B, X), targets (T, B) -> a float in [0, 1].
    """
    params, xs, h0, _, f = _check_sequence(params, xs, None, None, activation)
    targets = check_targets(targets, xs.shape[0], xs.shape[1], params.n_out)
    trace = _forward(params, xs, h0, f)
    return float(np.mean(np.argmax(trace.logits[-1], axis=-1) == targets[-1]))


def run_remember_first(T: int, seed: int, *, n_hidden: int = 16, n_steps: int = 200, batch: int = 32,
                       optimizer=None, clip_norm=None, kind: str = "gaussian", spectral_radius: float = 1.0,
                       n_test: int = 500, activation: str = "tanh"):
    """Train an RNN (tanh by default) on `remember_first` with T steps from seed; notebooks 06 and 08.

    Parameters from `remedies.init_rnn(kind, spectral_radius)`; fresh batches of `batch`
    sequences each step, full BPTT, `optimizer` (default Adam(lr=0.01)), optional norm clipping,
    `activation` in the forward and backward passes and in the test (activation="relu",
    kind="identity", spectral_radius=None is the IRNN of Le, Jaitly & Hinton 2015).
    Returns (accuracy at step T on n_test held-out sequences, history from
    `train.train_on_batches`, params). Deterministic given its arguments.
    """
    _check_run(T, seed, n_hidden, n_steps, batch, clip_norm, kind, spectral_radius, n_test)
    check_activation(activation)
    optimizer = Adam(0.01) if optimizer is None else check_optimizer(optimizer)
    rng = np.random.default_rng(seed)
    n_symbols, n_distractors = 2, 4
    X, Y = n_symbols + n_distractors + 1, n_symbols + 1
    params = init_rnn(X, n_hidden, Y, kind, spectral_radius=spectral_radius, seed=seed)
    params, history = train_on_batches(params, lambda i: remember_first(T, batch, rng)[:2], n_steps,
                                       optimizer, clip_norm=clip_norm, activation=activation)
    xs, targets, _ = remember_first(T, n_test, np.random.default_rng(10_000 + seed))
    return last_step_accuracy(params, xs, targets, activation=activation), history, params


def _check_run(T, seed, n_hidden, n_steps, batch, clip_norm, kind, spectral_radius, n_test):
    """The arguments shared by the run_remember_first functions, checked before anything is built."""
    check_int("T", T, 2)
    check_seed("seed", seed)
    check_int("n_hidden", n_hidden, 1)
    check_int("n_steps", n_steps, 0)
    check_int("batch", batch, 1)
    if clip_norm is not None:
        check_positive("clip_norm", clip_norm)
    if kind is not None:
        check_choice("kind", kind, remedies.INIT_KINDS)
    if spectral_radius is not None:
        check_nonnegative("spectral_radius", spectral_radius)
    check_int("n_test", n_test, 1)


def wilson_interval(successes, n, z: float = 1.96):
    """Wilson score interval for a binomial success rate: successes of n trials.

    successes: int or int array (0 <= successes <= n), n: int >= 1, z: the normal quantile
    (1.96 for 95%). Returns (low, high), arrays of the shape of `successes`, within [0, 1].
    Unlike the normal approximation p +- z sqrt(p(1-p)/n), it never collapses to a point at
    0 of n or n of n: 0 successes in 10 gives (0, 0.278).
    """
    n = check_int("n", n, 1)
    k = check_int_array("successes", successes, 0, n)
    z = check_positive("z", z)
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def run_remember_first_omega(T: int, seed: int, alpha: float, *, n_hidden: int = 16, n_steps: int = 200,
                             batch: int = 32, lr: float = 0.01, clip_norm=None, kind: str = "gaussian",
                             spectral_radius: float = 1.0, n_test: int = 500):
    """`run_remember_first` with Pascanu's Omega: the same data, initialization and Adam budget.

    Each update uses `remedies.bptt_omega(..., alpha)` (alpha = 0 reproduces run_remember_first exactly),
    then optional norm clipping. Returns (accuracy at step T on n_test held-out sequences,
    history {"loss", "omega", "grad_norm"} per update, params). Notebook 08.
    """
    _check_run(T, seed, n_hidden, n_steps, batch, clip_norm, kind, spectral_radius, n_test)
    alpha = check_nonnegative("alpha", alpha)
    optimizer = Adam(lr)
    rng = np.random.default_rng(seed)
    n_symbols, n_distractors = 2, 4
    X, Y = n_symbols + n_distractors + 1, n_symbols + 1
    params = remedies.init_rnn(X, n_hidden, Y, kind, spectral_radius=spectral_radius, seed=seed)
    hist = {k: np.empty(n_steps) for k in ("loss", "omega", "grad_norm")}
    for i in range(n_steps):
        xs, targets, _ = remember_first(T, batch, rng)
        hist["loss"][i], grads, hist["omega"][i] = remedies.bptt_omega(params, xs, targets, alpha)
        if clip_norm is not None:
            grads, hist["grad_norm"][i] = remedies.clip_by_norm(grads, clip_norm)
        else:
            hist["grad_norm"][i] = global_norm(grads)
        params = optimizer.step(params, grads)
    xs, targets, _ = remember_first(T, n_test, np.random.default_rng(10_000 + seed))
    return last_step_accuracy(params, xs, targets), hist, params
