"""The models and experiments behind the notebooks' figures: numbers only, no drawing.

Each function builds an example exactly as a figure of `rnnlib.plots` (and the notebook that
shows it) uses it, so that a test can check the numbers a figure shows without matplotlib:

    contracting_params      notebook 01   every singular value of W_hh equal to sigma
    lag_example             notebook 03   a next-token sequence for the terms of dL/dW_hh by lag
    norm_example_params     notebook 04   one W_hh direction, rescaled to a chosen sigma_max
    jacobian_norm_curves    notebook 04   log10 ||dh_T/dh_{T-lag}|| per activation and sigma_max
    underflow_example       notebook 04   a linear RNN whose Jacobian norm is 10^-700
    clipping_experiment     notebook 06   SGD with and without norm clipping, several seeds
    char_rnn_experiment     notebook 07   the character model trained on data/tiny.txt

Numpy only; seeded, so the same arguments give the same numbers.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_activation_as, check_int, check_items, check_positive, check_positive_int, check_real
from .containers import RNNParams
from .core import forward, init_params
from .jacobians import jacobian_log_norms
from .remedies import init_recurrent
from .tasks import run_remember_first
from .train import SGD, Adam, batch_streams, char_loss, char_rnn_setup, train_char_rnn

__all__ = [
    "contracting_params",
    "lag_example",
    "norm_example_params",
    "jacobian_norm_curves",
    "underflow_example",
    "clipping_experiment",
    "char_rnn_experiment",
]


def contracting_params(n_in: int = 4, n_hidden: int = 16, n_out: int = 4, sigma: float = 0.9,
                       seed: int = 0) -> RNNParams:
    """`init_params(n_in, n_hidden, n_out, seed=seed)` with W_hh = sigma * Q, Q a random orthogonal matrix.

    Every singular value of W_hh equals sigma, so with tanh (|f'| <= 1) and sigma < 1 each factor
    dh_i/dh_{i-1} = diag(f'(a_i)) W_hh multiplies every vector's length by at most sigma:
    ||dh_t/dx_1|| decreases strictly with t, by about sigma per step while tanh is unsaturated
    (notebooks 04-05 explain why). Q is `remedies.init_recurrent(n_hidden, "orthogonal", seed=seed + 1)`.
    Returns RNNParams with W_hx (H, X), W_hh (H, H), ... as usual. Notebook 01.
    """
    sigma = check_positive("sigma", sigma)
    seed = check_int("seed", seed, 0)
    p = init_params(n_in, n_hidden, n_out, seed=seed)
    return p._replace(W_hh=sigma * init_recurrent(n_hidden, "orthogonal", seed=seed + 1))


def lag_example(T: int = 40, n_hidden: int = 32, vocab: int = 10, scale: float = 1 / np.sqrt(3), seed: int = 3):
    """The model and sequence of notebook 03's lag figure: (params, xs (T, 1, V), targets (T, 1), h0 (1, H)).

    A next-token task on random tokens with one-hot inputs; `scale` multiplies the default init
    (std 1/sqrt(fan_in) for each matrix, so W_hx has std scale/sqrt(vocab)); 1/sqrt(3) gives W_hh the
    spread of PyTorch's default uniform init U(-1/sqrt(H), 1/sqrt(H)). h0 is a random state, as if carried over from an earlier chunk.
    """
    T = check_int("T", T, 1)
    n_hidden, vocab = check_positive_int("n_hidden", n_hidden), check_positive_int("vocab", vocab)
    seed = check_int("seed", seed, 0)
    params = init_params(vocab, n_hidden, vocab, seed=seed, scale=scale)
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, vocab, size=(T + 1, 1))
    xs = np.eye(vocab)[tokens[:-1]]
    h0 = np.tanh(rng.standard_normal((1, n_hidden)))
    return params, xs, tokens[1:], h0


def norm_example_params(sigma_max: float, n_in: int = 10, n_hidden: int = 32, seed: int = 4) -> RNNParams:
    """Notebook 04's model: the default init with W_hh rescaled so that sigma_max(W_hh) = sigma_max.

    Same direction of W_hh for every sigma_max, so curves for different scales are comparable.
    Returns RNNParams with W_hx (H, X), W_hh (H, H), b_h (H,), W_yh (X, H), b_y (X,).
    """
    sigma_max = check_positive("sigma_max", sigma_max)
    seed = check_int("seed", seed, 0)
    params = init_params(n_in, n_hidden, n_in, seed=seed)
    W0 = params.W_hh / np.linalg.norm(params.W_hh, ord=2)
    return params._replace(W_hh=sigma_max * W0)


def jacobian_norm_curves(T: int = 60, sigmas=(0.5, 1.0, 2.0, 4.0), activations=("tanh", "sigmoid", "linear"),
                         seed: int = 4) -> dict[str, dict[float, np.ndarray]]:
    """log10 ||dh_T/dh_{T - lag}||_2 for lag = 0..T: {activation: {sigma_max: (T + 1,)}}. Notebook 04's figure.

    Models from `norm_example_params(sigma_max, seed=seed)`, one seeded input sequence (T, 1, 10).
    """
    T, seed = check_int("T", T, 1), check_int("seed", seed, 0)
    check_items("sigmas", sigmas, check_positive)
    check_items("activations", activations, check_activation_as)
    xs = np.random.default_rng(seed).standard_normal((T, 1, 10))
    curves = {}
    for act in activations:
        curves[act] = {}
        for s in sigmas:
            params = norm_example_params(s, seed=seed)
            trace = forward(params, xs, activation=act)
            curves[act][s] = jacobian_log_norms(params, trace, ord=2)[::-1, 0]
    return curves


def underflow_example(c_log10: float = -0.7, T: int = 1000, n_hidden: int = 8, seed: int = 0):
    """Notebook 04's long product: W_hh = c Q with Q orthogonal, c = 10**c_log10, linear activation.

    Then dh_t/dh_k = W_hh^(t-k) and ||W_hh^n||_2 = c^n exactly, so log10 ||dh_T/dh_0|| = T c_log10
    (-700 for the defaults), far below the float64 range. Returns (params, xs (T, 1, 1)); the inputs
    are zeros, because a linear RNN's Jacobians do not depend on them (and the states stay finite).
    Q is `remedies.init_recurrent(n_hidden, "orthogonal", seed=seed)`.
    """
    c_log10 = check_real("c_log10", c_log10, -300.0, 300.0)
    T = check_int("T", T, 1)
    n_hidden, seed = check_positive_int("n_hidden", n_hidden), check_int("seed", seed, 0)
    Q = init_recurrent(n_hidden, "orthogonal", seed=seed)
    params = init_params(1, n_hidden, 2, seed=seed)._replace(W_hh=10.0 ** c_log10 * Q)
    return params, np.zeros((T, 1, 1))


def clipping_experiment(*, T: int = 10, seeds=range(6), lr: float = 0.3, lr_small: float = 0.03,
                        spectral_radius: float = 1.5, percentile: float = 90, n_steps: int = 200):
    """Notebook 06's clipping experiment on the remember-first task, plain SGD, several seeds.

    Three runs per seed: "control" (SGD(lr_small), no clipping), "large" (SGD(lr),
    no clipping) and "clipped" (SGD(lr), norm clipping at theta). theta is the given
    percentile of the gradient norms seen by all the control runs, so that only the largest
    gradients of a well-behaved run would be clipped.
    Returns {"theta": float, "percentile", "lr", "lr_small", "seeds": list,
    "runs": {name: [(accuracy, history, params) per seed]}} with history from `train.train_on_batches`.
    """
    T, n_steps = check_int("T", T, 2), check_positive_int("n_steps", n_steps)  # remember_first needs T >= 2
    seeds = check_items("seeds", seeds, lambda name, seed: check_int(name, seed, 0))
    lr, lr_small = check_positive("lr", lr), check_positive("lr_small", lr_small)
    spectral_radius = check_positive("spectral_radius", spectral_radius)
    percentile = check_real("percentile", percentile, 0.0, 100.0)

    def run(seed, eta, clip):
        return run_remember_first(T, seed, optimizer=SGD(eta), clip_norm=clip, spectral_radius=spectral_radius,
                                  n_steps=n_steps)

    control = [run(s, lr_small, None) for s in seeds]
    theta = float(np.percentile(np.concatenate([h["grad_norm"] for _, h, _ in control]), percentile))
    runs = {"control": control, "large": [run(s, lr, None) for s in seeds], "clipped": [run(s, lr, theta) for s in seeds]}
    return {"theta": theta, "percentile": percentile, "lr": lr, "lr_small": lr_small, "seeds": seeds, "runs": runs}


def char_rnn_experiment(n_updates: int = 1000, *, seed: int = 0, eval_every: int = 100, **settings):
    """Notebook 07's training run on data/tiny.txt: returns (params, history, vocab, train_ids, heldout_ids).

    Data and settings from `train.char_rnn_setup(**settings)` (defaults: 90/10 split, B = 32,
    k = 25, H = 64, theta = 25, Adam lr = 0.01; pass e.g. k=50 to change one): chunked
    truncated BPTT (k), norm clipping (theta), Adam(lr); the held-out loss (`train.char_loss`) is
    recorded every eval_every updates. Seeded. About 10 s for the default 1000 updates on an idle
    2-core machine.
    """
    n_updates, seed = check_positive_int("n_updates", n_updates), check_int("seed", seed, 0)
    eval_every = check_positive_int("eval_every", eval_every)
    s = char_rnn_setup(**settings)
    V = len(s.vocab)
    streams = batch_streams(s.train_ids, s.B)
    params = init_params(V, s.H, V, seed=seed)
    params, history = train_char_rnn(params, streams, n_updates, Adam(s.lr), k=s.k, clip_norm=s.theta,
                                     evaluate=lambda p: char_loss(p, s.heldout_ids), eval_every=eval_every)
    return params, history, s.vocab, s.train_ids, s.heldout_ids
