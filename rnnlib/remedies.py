"""Remedies for exploding and vanishing gradients: truncated BPTT, clipping, initialization.

Introduced in notebook 06. Three kinds of truncated BPTT are easy to confuse; rnnlib names them:

    per-term window   `rnnlib.bptt(..., truncate=k)`: each L_t back-propagates through its k most
                      recent steps only. Biased; cost O(T k). (In rnnlib.core.)
    chunked           `bptt_chunked(..., k)`: split the sequence into chunks of k steps, run the
                      forward pass straight through, but back-propagate only inside each chunk:
                      the hidden state handed from one chunk to the next is treated as a
                      constant ("detached"). What min-char-rnn and practice do. Cost O(T).
    randomized        `bptt_randomized(..., ks, probs, rng)`: the window length K is drawn at
                      random and the gradient of lag l is divided by P(K > l), so that the
                      estimate equals the full gradient on average (in the spirit of Tallec and
                      Ollivier 2017, who reweight random chunk borders in a stream).

Clipping (Pascanu, Mikolov and Bengio 2013, Algorithm 1): `clip_by_norm` rescales the whole
gradient, one norm over all parameters, and keeps its direction; `clip_elementwise` (min-char-rnn's
np.clip(g, -5, 5)) clips each entry and in general changes the direction.

Initializations of W_hh (`init_recurrent`, `init_rnn`): small random, Gaussian, orthogonal,
identity (Le, Jaitly and Hinton 2015, with ReLU), each optionally rescaled to a spectral radius.

All functions reuse `rnnlib.core` (`forward`, `bptt`); nothing here re-implements the recurrence.
Core math: numpy only.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .activations import get_activation
from ._checks import (MAX_UNITS, check_arrays_like, check_bool, check_choice, check_generator, check_increasing_ints,
                      check_int, check_nonnegative, check_positive, check_positive_int, check_real, check_real_array,
                      check_real_nd, check_seed, check_shape, check_square, check_targets, describe)
from .containers import RNNParams, global_norm, same_kind  # global_norm: re-exported (notebook 06 calls remedies.global_norm)
from .core import _backward, _check_sequence, _forward, _with_spectral_radius, init_params

__all__ = [
    "bptt_chunked",
    "bptt_randomized",
    "randomized_expectation",
    "backward_cost",
    "randomized_cost",
    "gradient_errors",
    "global_norm",
    "clip_by_norm",
    "clip_elementwise",
    "cosine",
    "init_recurrent",
    "init_rnn",
    "INIT_KINDS",
    "cliff_loss",
    "gradient_descent_path",
]


# ----------------------------------------------------------------------------------------------
# Truncated BPTT (notebook 06)
# ----------------------------------------------------------------------------------------------


def bptt_chunked(params: RNNParams, xs, targets, h0=None, activation: str = "tanh", k: int = 1):
    """Chunked truncated BPTT: back-propagate inside chunks of k steps, carry h_t across borders.

    xs (T, B, X), targets (T, B), h0 (B, H) or None, k >= 1 -> (loss, grads, h_T):
    loss = sum_t L_t (the same number as full BPTT's: the forward pass is not truncated),
    grads an RNNParams, h_T (B, H) the last hidden state, to start the next sequence with.

    Chunk c covers steps s+1..s+k. It goes through `rnnlib.forward` / `rnnlib.backward` with h0 = h_s, the last
    hidden state of the previous chunk, as a plain array: a *constant* for that chunk's
    backward pass. That is what "detaching the hidden state" means in autodiff frameworks
    (`h = h.detach()` in PyTorch): the value flows forward, the gradient stops at the border.
    The parameter gradients of all chunks are summed (shared weights). With k >= T there is one
    chunk and the result is full BPTT's exactly. Cost O(T) vector-Jacobian products, memory
    O(k) states. Equation: the gradient of sum_t L_t with dh_s/dh_{s-1} set to 0 at borders s.
    """
    params, xs, h, targets, f = _check_sequence_with_targets(params, xs, h0, targets, activation)
    k = check_int("k", k, 1)
    loss, grads = 0.0, params.zeros_like()
    for s in range(0, xs.shape[0], k):
        trace = _forward(params, xs[s : s + k], h, f)
        loss_c, grads_c, _ = _backward(params, trace, targets[s : s + k], None)  # no gradient leaves the chunk's start
        loss += loss_c
        grads = grads.add(grads_c)
        h = trace.h[-1]  # carried forward as a constant: detached
    return loss, grads, h


def _check_distribution(ks, probs):
    ks = check_increasing_ints("ks", ks, 1, "window lengths")
    probs = check_real_nd("probs", probs, 1).astype(np.float64, copy=False)
    check_shape("probs", probs, ks.shape, "(one probability per k)")
    if np.any(probs <= 0) or not np.isclose(probs.sum(), 1.0):
        raise ValueError(f"probs: expected positive probabilities summing to 1, got {probs.tolist()}")
    return ks.astype(int), probs


def bptt_randomized(params: RNNParams, xs, targets, h0=None, activation: str = "tanh", *,
                    ks=(4, 10**9), probs=(0.9, 0.1), rng=None):
    """Randomized truncation: a random window K, lags reweighted so the mean is the full gradient.

    xs (T, B, X), targets (T, B), h0 (B, H) or None; ks strictly increasing window lengths,
    probs their probabilities; rng a numpy Generator. Returns (loss, grads, K), K the drawn window.

    Write G(j) = bptt(truncate=j) (rnnlib.core, the per-term window) and G(0) = 0. The part of the
    gradient that travels exactly l steps back is G(l+1) - G(l), so the full gradient is
    sum_l [G(l+1) - G(l)]. Keeping lag l only when K > l and dividing it by P(K > l) gives

        g = sum_{i : k_i <= K} [G(k_i) - G(k_{i-1})] / P(K >= k_i),    E[g] = G(T) = full BPTT,

    since P(K > l) is constant for k_{i-1} <= l < k_i. The default (K = 4 with probability 0.9,
    full BPTT with probability 0.1) is unbiased, at the price of variance: rare long windows are
    up-weighted by 10. One K is drawn per call (per sequence) and applied to the per-term window,
    so all T states are kept and sometimes full BPTT is run: no memory is saved (cost:
    `randomized_cost`). Tallec and Ollivier (2017) reweight random chunk borders of a stream in
    the same spirit; see notebook 06.
    """
    ks, probs = _check_distribution(ks, probs)
    rng = check_generator("rng", rng)
    checked = _check_sequence_with_targets(params, xs, h0, targets, activation)
    K = int(ks[rng.choice(ks.size, p=probs)])
    return (*_randomized_gradient(*checked, ks, probs, K), K)


def _randomized_gradient(params, xs, h0, targets, f, ks, probs, K):
    """`bptt_randomized`'s gradient for a given K, checked arguments (as `_check_sequence` returns them)."""
    survive = probs[::-1].cumsum()[::-1]  # survive[i] = P(K >= k_i)
    trace = _forward(params, xs, h0, f)  # one forward pass for every window length
    grads, prev, loss = params.zeros_like(), None, 0.0
    for i, k_i in enumerate(ks):
        if k_i > K:
            break
        loss, G, _ = _backward(params, trace, targets, int(k_i))
        delta = G if prev is None else G.add(prev, -1.0)  # G(k_i) - G(k_{i-1})
        grads = grads.add(delta, 1.0 / survive[i])
        prev = G
    return loss, grads


def randomized_expectation(params: RNNParams, xs, targets, h0=None, activation: str = "tanh", *,
                           ks=(4, 10**9), probs=(0.9, 0.1)) -> RNNParams:
    """The exact mean of `bptt_randomized` over K: sum_i probs[i] * g(K = ks[i]).

    Same arguments without rng; returns an RNNParams. Equals full BPTT's gradient (the claim
    tested in tests/test_remedies.py and notebook 06) up to rounding.
    """
    ks, probs = _check_distribution(ks, probs)
    checked = _check_sequence_with_targets(params, xs, h0, targets, activation)
    total = checked[0].zeros_like()
    for k_i, p_i in zip(ks, probs):
        _, g = _randomized_gradient(*checked, ks, probs, int(k_i))
        total = total.add(g, p_i)
    return total


def backward_cost(T: int, k: int | None, mode: str) -> dict[str, int]:
    """Cost of one backward pass over T steps, counted exactly (no timings).

    mode "full", "window" (per-term window k) or "chunked" (chunks of k) ->
    {"vjp": number of products with a step Jacobian (dh_{t-1} <- W_hh^T diag(f'(a_t)) dh_t),
     "states": hidden states that must be kept in memory}.
    Full: T products, T + 1 states. Window: sum_t min(k, t) ~ T k products for k < T, and T for
    k >= T (then it is full BPTT and rnnlib.backward carries one gradient); T + 1 states either
    way. Chunked: T products, k + 1 states (only the current chunk's).
    """
    T = check_int("T", T, 1)
    check_choice("mode", mode, ("full", "window", "chunked"))
    if mode == "full":
        return {"vjp": T, "states": T + 1}
    k = check_int("k", k, 1)
    if mode == "window":
        if k >= T:
            return {"vjp": T, "states": T + 1}
        t = np.arange(1, T + 1)
        return {"vjp": int(np.minimum(k, t).sum()), "states": T + 1}
    check_choice("mode", mode, ("full", "window", "chunked"))
    return {"vjp": T, "states": min(k, T) + 1}  # chunked


def randomized_cost(T: int, ks, probs) -> dict[str, float]:
    """Expected cost of one `bptt_randomized` call over T steps, counted exactly (no timings).

    ks, probs as in `bptt_randomized` -> {"vjp": expected number of step-Jacobian products,
    "states": hidden states kept}. The call computes the window gradient G(k_i) for every
    k_i <= K, so vjp = sum_i P(K >= k_i) * backward_cost(T, k_i, "window")["vjp"]; every window
    needs all T + 1 states.
    """
    T = check_int("T", T, 1)
    ks, probs = _check_distribution(ks, probs)
    survive = probs[::-1].cumsum()[::-1]  # P(K >= k_i)
    vjp = sum(float(s) * backward_cost(T, int(k_i), "window")["vjp"] for k_i, s in zip(ks, survive))
    return {"vjp": vjp, "states": T + 1}


def _flat(g) -> np.ndarray:
    return np.concatenate([np.ravel(a) for a in g])


def _check_gradient(name: str, g, like=None, like_name: str = "a", *, nonzero: bool = False) -> np.ndarray:
    """A gradient (RNNParams or tuple of finite arrays) flattened into one float vector."""
    flat = _flat(check_arrays_like(name, g))
    if like is not None and flat.size != like.size:
        raise ValueError(f"{name}: expected {like.size} entries in total like {like_name}, got {flat.size}")
    if nonzero and not np.any(flat):
        raise ValueError(f"{name}: expected a nonzero gradient, got a zero vector")
    return flat


def _rescaled(*vectors):
    """The vectors divided by their largest |entry| together: the same directions and ratios of
    norms, with norms between 1 and sqrt(size), so that nothing under- or overflows."""
    m = max(float(np.max(np.abs(v))) for v in vectors)
    return [v / m for v in vectors]


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    with np.errstate(over="ignore", under="ignore"):
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        ok = 0 < na * nb < np.inf
    if not ok:  # entries like 1e-200 or 1e200: rescale each, the cosine does not change
        (a,), (b,) = _rescaled(a), _rescaled(b)
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return float(a @ b / (na * nb))


def cosine(a, b) -> float:
    """Cosine of the angle between two gradients (RNNParams or tuples of arrays), all entries flattened.

    cos = <a, b> / (||a|| ||b||); 1.0 means the same direction.
    """
    a = _check_gradient("a", a, nonzero=True)
    return _cosine(a, _check_gradient("b", b, a, "a", nonzero=True))


def gradient_errors(g, g_full) -> dict[str, float]:
    """How far an approximate gradient g is from the full one: {"cosine": cos(g, g_full),
    "rel_norm": ||g - g_full|| / ||g_full||}, norms over all parameters together."""
    g = _check_gradient("g", g, nonzero=True)
    g_full = _check_gradient("g_full", g_full, g, "g", nonzero=True)
    with np.errstate(all="ignore"):
        rel = np.linalg.norm(g - g_full) / np.linalg.norm(g_full)
    if not np.isfinite(rel) or rel == 0 and np.any(g != g_full):  # under- or overflow: rescale both together
        gs, fs = _rescaled(g, g_full)
        rel = np.linalg.norm(gs - fs) / np.linalg.norm(fs)
    return {"cosine": _cosine(g, g_full), "rel_norm": float(rel)}


# ----------------------------------------------------------------------------------------------
# Clipping (notebook 06)
# ----------------------------------------------------------------------------------------------



def clip_by_norm(grads, theta: float):
    """Norm clipping, Pascanu et al. (2013) Algorithm 1: if ||g|| >= theta then g <- theta g / ||g||.

    grads: an RNNParams (or tuple of arrays) -> (clipped of the same type, ||g|| before clipping).
    One norm over all parameters, so every entry is scaled by the same factor: the direction is
    kept, only the step length changes.
    """
    arrays = check_arrays_like("grads", grads)
    theta = check_positive("theta", theta)
    with np.errstate(over="ignore"):
        norm = global_norm(arrays)
    if not np.isfinite(norm) or (norm == 0 and any(np.any(a) for a in arrays)):
        # finite entries whose squares over- or underflow (|g| > 1e154 or < 1e-154): measure a rescaled copy
        m = max(float(np.max(np.abs(a))) for a in arrays)
        unit = [a / m for a in arrays]
        n_unit = global_norm(unit)
        with np.errstate(over="ignore"):
            norm = m * n_unit
        if norm < theta:
            return same_kind(grads, arrays), norm
        return same_kind(grads, [u * (theta / n_unit) for u in unit]), norm
    scale = theta / norm if norm >= theta else 1.0
    clipped = [g * scale for g in arrays]
    return same_kind(grads, clipped), norm


def clip_elementwise(grads, limit: float = 5.0):
    """Elementwise clipping, min-char-rnn's np.clip(g, -limit, limit, out=g) on every array.

    grads: an RNNParams (or tuple of arrays) -> clipped gradients of the same type (new arrays).
    Large entries are cut, small ones kept: the direction changes unless no entry exceeds limit.
    """
    arrays = check_arrays_like("grads", grads)
    limit = check_positive("limit", limit)
    clipped = [np.clip(g, -limit, limit) for g in arrays]
    return same_kind(grads, clipped)


# ----------------------------------------------------------------------------------------------
# Initialization of W_hh (notebook 06)
# ----------------------------------------------------------------------------------------------

INIT_KINDS = ("small", "gaussian", "orthogonal", "identity")


def init_recurrent(n_hidden: int, kind: str = "orthogonal", *, spectral_radius: float | None = None,
                   seed: int = 0) -> np.ndarray:
    """A recurrent matrix W_hh (H, H) of one of four kinds, optionally rescaled to a spectral radius.

    kind:
        "small"       Gaussian entries with std 0.01: every long product vanishes at once.
        "gaussian"    Gaussian entries with std 1/sqrt(H): spectral radius about 1, but non-normal,
                      so norms of its powers can grow before they shrink.
        "orthogonal"  Q from the QR decomposition of a Gaussian matrix (signs fixed so Q is
                      uniformly distributed): all singular values and all |eigenvalues| equal 1.
        "identity"    the identity matrix (Le, Jaitly and Hinton 2015, "IRNN", used with ReLU).
    spectral_radius: if given, W_hh is multiplied so that max |eigenvalue| equals it exactly.
    Seeded: the same arguments give the same matrix.
    """
    H = check_int("n_hidden", check_positive_int("n_hidden", n_hidden), 1, MAX_UNITS)
    check_choice("kind", kind, INIT_KINDS)
    if spectral_radius is not None:
        spectral_radius = check_nonnegative("spectral_radius", spectral_radius)
    seed = check_seed("seed", seed)
    rng = np.random.default_rng(seed)
    if kind == "small":
        W = 0.01 * rng.standard_normal((H, H))
    elif kind == "gaussian":
        W = rng.standard_normal((H, H)) / np.sqrt(H)
    elif kind == "orthogonal":  # the one home of the QR construction (rnnlib.examples calls this)
        Q, R = np.linalg.qr(rng.standard_normal((H, H)))
        W = Q * np.sign(np.diag(R))  # sign fix: without it Q is not uniformly (Haar) distributed
    else:  # "identity"
        W = np.eye(H)
    if spectral_radius is not None:
        W = _with_spectral_radius(W, spectral_radius, f"for kind = {kind!r}")
    return W


def init_rnn(n_in: int, n_hidden: int, n_out: int, kind: str = "orthogonal", *,
             spectral_radius: float | None = None, input_scale: float = 1.0, seed: int = 0) -> RNNParams:
    """RNN parameters with W_hh from `init_recurrent(kind, spectral_radius)`.

    Shapes as in `rnnlib.init_params`: W_hx (H, X) Gaussian with std input_scale / sqrt(X),
    W_yh (Y, H) Gaussian with std 1 / sqrt(H), zero biases. Seeded.
    """
    for name, value in (("n_in", n_in), ("n_hidden", n_hidden), ("n_out", n_out)):
        check_int(name, check_positive_int(name, value), 1, MAX_UNITS)
    check_choice("kind", kind, INIT_KINDS)
    if spectral_radius is not None:
        check_nonnegative("spectral_radius", spectral_radius)
    input_scale = check_real("input_scale", input_scale, 0.0)
    seed = check_seed("seed", seed)
    p = init_params(n_in, n_hidden, n_out, seed=seed)
    W_hh = init_recurrent(n_hidden, kind, spectral_radius=spectral_radius, seed=seed + 1)
    return p._replace(W_hx=p.W_hx * input_scale, W_hh=W_hh)


# ----------------------------------------------------------------------------------------------
# The cliff: a one-unit RNN whose error surface has a wall (notebook 06)
# ----------------------------------------------------------------------------------------------


_sigmoid = get_activation("sigmoid").f  # sigma, computed without overflow


def cliff_loss(w, b, *, x0: float = 0.5, T: int = 50, target: float = 0.7, return_grad: bool = False):
    """Loss (x_T - target)^2 of the one-unit RNN x_t = w sigma(x_{t-1}) + b, and its gradient.

    w, b: arrays of any (broadcastable) shape S, e.g. a grid -> loss of shape S, or with
    return_grad (loss, dL/dw, dL/db), each of shape S. sigma is the logistic sigmoid; the state
    is the pre-activation x_t, as in Pascanu, Mikolov and Bengio (2013, Figure 6), so the step
    Jacobian is dx_t/dx_{t-1} = w sigma'(x_{t-1}). The gradient is BPTT on this scalar model:
    delta_t = dL/dx_t, delta_{t-1} = delta_t w sigma'(x_{t-1}),
    dL/dw = sum_t delta_t sigma(x_{t-1}), dL/db = sum_t delta_t.
    (A regression model with a scalar state; rnnlib.core's softmax RNN does not cover it.)
    """
    w = check_real_array("w", w).astype(np.float64, copy=False)
    b = check_real_array("b", b).astype(np.float64, copy=False)
    try:
        w, b = np.broadcast_arrays(w, b)
    except ValueError:
        raise ValueError(f"b: expected a shape that broadcasts with w's {w.shape}, got {b.shape}") from None
    x0, target = check_real("x0", x0), check_real("target", target)
    T = check_int("T", T, 1)
    return_grad = check_bool("return_grad", return_grad)
    x = np.empty((T + 1, *w.shape))
    x[0] = x0
    for t in range(1, T + 1):
        x[t] = w * _sigmoid(x[t - 1]) + b  # x_t = w sigma(x_{t-1}) + b
    loss = (x[T] - target) ** 2
    if not return_grad:
        return loss
    delta = 2.0 * (x[T] - target)  # dL/dx_T
    dw, db = np.zeros_like(w), np.zeros_like(b)
    for t in range(T, 0, -1):
        s = _sigmoid(x[t - 1])
        dw += delta * s  # immediate derivative of x_t with respect to w
        db += delta
        delta = delta * w * s * (1.0 - s)  # dL/dx_{t-1} = dL/dx_t * w sigma'(x_{t-1})
    return loss, dw, db


def gradient_descent_path(w0: float, b0: float, lr: float, n_steps: int, *, clip=None, **cliff_kwargs):
    """Plain gradient descent on `cliff_loss` from (w0, b0), optionally with norm clipping.

    Returns (path (n_steps + 1, 2) of (w, b), grad_norms (n_steps,) before clipping).
    With clip = theta, each step is -lr * clip_by_norm(g, theta): at most lr * theta long.
    """
    w0, b0 = check_real("w0", w0), check_real("b0", b0)
    lr = check_positive("lr", lr)
    n_steps = check_int("n_steps", n_steps, 0)
    clip = None if clip is None else check_positive("clip", clip)
    cliff_loss(np.array([w0]), np.array([b0]), **cliff_kwargs)  # checks cliff_kwargs (T, x0, target) up front
    path = np.empty((n_steps + 1, 2))
    path[0] = w0, b0
    norms = np.empty(n_steps)
    for i in range(n_steps):
        _, dw, db = cliff_loss(path[i, 0], path[i, 1], return_grad=True, **cliff_kwargs)
        g = (np.array([float(dw)]), np.array([float(db)]))
        norms[i] = global_norm(g)
        if clip is not None:
            g, _ = clip_by_norm(g, clip)
        path[i + 1] = path[i] - lr * np.array([g[0][0], g[1][0]])
    return path, norms


# ----------------------------------------------------------------------------------------------
# Pascanu, Mikolov and Bengio's vanishing-gradient regularizer Omega (notebook 08)
# ----------------------------------------------------------------------------------------------
# Omega needs the error signal delta_t = dL/dh_t at every step, which rnnlib.backward uses but
# does not return, so `omega_signals` carries it back itself (the same recurrence as
# rnnlib.core.backward's full-BPTT loop; the forward pass is rnnlib.forward's).


__all__ += ["OmegaSignals", "omega_signals", "omega_from_signals", "omega", "bptt_omega"]


class OmegaSignals(NamedTuple):
    """What Omega holds constant, from one forward and backward pass (rows 0..T-1 = steps 1..T).

    delta (T, B, H): delta_t = dL/dh_t, the total error at h_t (its output and all later steps);
    fprime (T, B, H): f'(a_t), the derivative of the nonlinearity at step t.
    """

    delta: np.ndarray
    fprime: np.ndarray


def omega_signals(params: RNNParams, xs, targets, h0=None, activation: str = "tanh") -> OmegaSignals:
    """delta_t = dL/dh_t and f'(a_t) for t = 1..T: the quantities Omega treats as constants.

    xs (T, B, X), targets (T, B), h0 (B, H) or None -> OmegaSignals of two (T, B, H) arrays.
    delta_t is per example (not divided by B); Omega only uses its direction.
    """
    params, xs, h0, targets, f = _check_sequence_with_targets(params, xs, h0, targets, activation)
    return _omega_signals(params, _forward(params, xs, h0, f), targets)


def _check_sequence_with_targets(params, xs, h0, targets, activation):
    """`_check_sequence` with targets required (None is not "no targets" here)."""
    params, xs, h0, checked, f = _check_sequence(params, xs, h0, targets, activation)
    if checked is None:
        checked = check_targets(targets, xs.shape[0], xs.shape[1], params.n_out)
    return params, xs, h0, checked, f


def _omega_signals(params: RNNParams, trace, targets) -> OmegaSignals:
    T, B, _ = trace.xs.shape
    f = trace.activation
    dlogits = trace.y_hat[1:].copy()
    dlogits[np.arange(T)[:, None], np.arange(B)[None, :], targets] -= 1.0  # dL_t/dlogits_t per example
    dh_out = dlogits @ params.W_yh
    fprime = f.derivative(trace.a[1:], trace.h[1:])
    delta = np.empty_like(dh_out)
    dh_next = np.zeros((B, params.n_hidden))
    for t in range(T - 1, -1, -1):  # row t is step t + 1
        delta[t] = dh_out[t] + dh_next  # dL/dh_t: its own output and everything after it
        dh_next = (delta[t] * fprime[t]) @ params.W_hh  # dL/dh_{t-1} = W_hh^T diag(f'(a_t)) dL/dh_t
    return OmegaSignals(delta, fprime)


def omega_from_signals(W_hh, signals: OmegaSignals, bound: float = 1e-20):
    """Omega and its gradient with respect to W_hh, with delta_t and f'(a_t) held constant.

    W_hh (H, H), signals from `omega_signals` -> (omega, dOmega/dW_hh (H, H)):

        Omega = mean over (t, b) of ( ||delta_t diag(f'(a_t)) W_hh|| / ||delta_t|| - 1 )^2,

    with delta_t a row vector, so that delta_t (dh_t/dh_{t-1}) = delta_t diag(f'(a_t)) W_hh is the
    error handed from h_t back to h_{t-1}. Omega is 0 when every step keeps the error's norm: it
    penalizes the Jacobian for shrinking (or growing) the norm *in the direction that matters*,
    delta_t. Pairs (t, b) with ||delta_t||^2 < bound are left out of the mean.

    Which terms are held constant (Pascanu, Mikolov and Bengio 2013, section 3.3): the paper
    treats dE/dx_{k+1} as a constant when differentiating Omega, so only the W_hh of the one-step
    Jacobian is differentiated, not the W_hh inside delta_t (which would need second derivatives
    through the whole backward pass). Their published Theano code (pascanur/trainingRNNs, RNN.py)
    also holds the hidden states, hence f'(a_t), constant and adds the gradient to W_hh only; we do
    the same. (That code divides *squared* norms; this is the paper's formula with plain norms.)
    With u = v W_hh, v = delta_t * f'(a_t): d||u||/dW_hh = v^T u / ||u||, so
    dOmega/dW_hh = mean over (t, b) of 2 (r - 1) / (||delta_t|| ||u||) v^T u, r = ||u|| / ||delta_t||.
    """
    if not isinstance(signals, tuple) or len(signals) != 2:
        raise ValueError(f"signals: expected the OmegaSignals(delta, fprime) of omega_signals, got {describe(signals)}")
    delta = check_real_nd("signals.delta", signals[0], 3)
    fprime = check_real_nd("signals.fprime", signals[1], 3)
    check_shape("signals.fprime", fprime, delta.shape, "like signals.delta")
    H = delta.shape[-1]
    W_hh = check_square("W_hh", W_hh).astype(np.float64, copy=False)
    check_shape("W_hh", W_hh, (H, H), "to match the signals")
    bound = check_positive("bound", bound)
    v = (delta * fprime).reshape(-1, H)
    d_sq = np.sum(delta * delta, axis=-1).reshape(-1)
    keep = d_sq >= bound
    if not np.any(keep):
        return 0.0, np.zeros_like(W_hh)
    v, d = v[keep], np.sqrt(d_sq[keep])
    u = v @ W_hh  # delta_t diag(f'(a_t)) W_hh, one row per (t, b)
    u_norm = np.linalg.norm(u, axis=-1)
    r = u_norm / d
    n = v.shape[0]
    omega = float(np.sum((r - 1.0) ** 2) / n)
    coef = np.divide(2.0 * (r - 1.0), d * u_norm * n, out=np.zeros_like(r), where=u_norm > 0)
    return omega, v.T @ (u * coef[:, None])


def omega(params: RNNParams, xs, targets, h0=None, activation: str = "tanh", bound: float = 1e-20):
    """Pascanu et al.'s regularizer Omega for the vanilla RNN on one batch, and dOmega/dW_hh.

    xs (T, B, X), targets (T, B), h0 (B, H) or None -> (omega (float), dOmega/dW_hh (H, H)).
    `omega_signals` followed by `omega_from_signals`; see there for the formula and for which
    terms are held constant. Introduced in notebook 08.
    """
    params, xs, h0, targets, f = _check_sequence_with_targets(params, xs, h0, targets, activation)
    bound = check_positive("bound", bound)
    return omega_from_signals(params.W_hh, _omega_signals(params, _forward(params, xs, h0, f), targets), bound)


def bptt_omega(params: RNNParams, xs, targets, alpha: float, h0=None, activation: str = "tanh"):
    """BPTT with Omega added: (loss, grads, omega), grads.W_hh = dL/dW_hh + alpha dOmega/dW_hh.

    The loss returned is L alone (the cross-entropy, as `rnnlib.bptt`); alpha >= 0 weighs Omega.
    With alpha = 0 the gradients are `rnnlib.bptt`'s exactly.
    """
    params, xs, h0, targets, f = _check_sequence_with_targets(params, xs, h0, targets, activation)
    alpha = check_nonnegative("alpha", alpha)
    trace = _forward(params, xs, h0, f)  # one forward pass for both
    loss, grads, _ = _backward(params, trace, targets, None)
    om, d_om = omega_from_signals(params.W_hh, _omega_signals(params, trace, targets))
    if alpha == 0:
        return loss, grads, om
    return loss, grads._replace(W_hh=grads.W_hh + alpha * d_om), om
