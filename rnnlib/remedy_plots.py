"""Figures for notebooks 06 (remedies) and 07 (a character-level RNN). Imports matplotlib.

Every function returns a matplotlib Figure and does not call plt.show(). `FIGURES` maps file
names in figures/ to functions that need no arguments (the lead's rnnlib/figures.py saves them).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import Normalize
from matplotlib.patches import Rectangle

from . import remedies, tasks, train

__all__ = [
    "truncation_figure",
    "cliff_figure",
    "init_figure",
    "success_figure",
    "clipping_figure",
    "clipping_experiment",
    "char_rnn_experiment",
    "char_loss_figure",
    "text_activation_figure",
    "FIGURES",
]

COLORS = {"window": "C0", "chunked": "C1", "randomized": "C2", "full": "0.3"}


def truncation_figure(ks, errors: dict, costs: dict, T: int):
    """Error of truncated gradients against full BPTT and their cost, as k varies.

    ks (n,); errors[mode] = {"cosine": (n,), "rel_norm": (n,)} for modes among window, chunked,
    randomized (single draws: the mean over draws); costs[mode] (n,) vector-Jacobian products.
    """
    fig, axs = plt.subplots(1, 3, figsize=(13, 3.8), constrained_layout=True)
    for mode, e in errors.items():
        kw = dict(color=COLORS[mode], marker="o", ms=3, label=mode)
        axs[0].plot(ks, e["cosine"], **kw)
        keep = np.asarray(e["rel_norm"]) > 1e-12  # exactly 0 (to rounding) at k = T: not drawable on a log axis
        axs[1].semilogy(np.asarray(ks)[keep], np.asarray(e["rel_norm"])[keep], **kw)
    axs[0].set(xlabel="truncation length $k$", ylabel=r"$\cos(g_k, g)$", title="direction: approaches 1 as $k \\to T$")
    axs[1].set(xlabel="truncation length $k$", ylabel=r"$\|g_k - g\| / \|g\|$", title="relative error falls with $k$ (0 at $k = T$)")
    for mode, c in costs.items():
        axs[2].plot(ks, c, color=COLORS[mode], marker="o", ms=3, label=mode)
    axs[2].set(xlabel="truncation length $k$", ylabel="vector-Jacobian products",
               title=f"cost: window grows like $Tk$ (T = {T})")
    for ax in axs:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig


def cliff_figure(*, w0: float = 9.0, b0: float = -5.5, lr: float = 0.05, n_steps: int = 40, theta: float = 10.0,
                 T: int = 50, w_slice: float = 4.4):
    """The error surface of x_t = w sigma(x_{t-1}) + b over (w, b), with gradient-descent paths.

    Left: log10 of the loss (x_T - 0.7)^2 with the path of plain gradient descent (thrown off
    the wall) and of norm-clipped descent. Right: the loss along the slice w = w_slice across the wall.
    """
    w = np.linspace(0, 13, 261)
    b = np.linspace(-8, 12, 301)
    W, B = np.meshgrid(w, b)
    L = remedies.cliff_loss(W, B, T=T)
    fig, axs = plt.subplots(1, 2, figsize=(12, 4.6), constrained_layout=True)
    im = axs[0].pcolormesh(W, B, np.log10(L + 1e-8), shading="auto", cmap="viridis")
    fig.colorbar(im, ax=axs[0], label=r"$\log_{10} L(w, b)$")
    for clip, style, label in [(None, "r.-", "gradient descent"), (theta, "w.--", rf"clipped, $\theta = {theta:g}$")]:
        path, _ = remedies.gradient_descent_path(w0, b0, lr, n_steps, clip=clip, T=T)
        axs[0].plot(path[:, 0], path[:, 1], style, ms=3, lw=1, label=label)
    axs[0].plot([w0], [b0], "ko", ms=6, label="start")
    axs[0].axvline(w_slice, color="0.9", lw=0.8, ls=":")
    axs[0].set(xlim=(0, 13), ylim=(-8, 12), xlabel="$w$", ylabel="$b$",
               title="a wall: unclipped descent is thrown far away")
    axs[0].legend(loc="upper left", fontsize=8, facecolor="0.85")
    bs = np.linspace(-3.5, -0.5, 3001)
    axs[1].semilogy(bs, remedies.cliff_loss(w_slice, bs, T=T) + 1e-8, color="k")
    axs[1].set(xlabel=f"$b$ (slice at $w = {w_slice:g}$)", ylabel="$L$",
               title="the valley floor lies at the foot of the wall")
    axs[1].grid(alpha=0.3)
    return fig


def init_figure(curves: dict, T: int, zoom: int = 20):
    """log10 ||dh_t/dh_0|| against t at initialization, one curve per initialization; right: the first steps."""
    fig, axs = plt.subplots(1, 2, figsize=(12, 4), constrained_layout=True)
    for name, y in curves.items():
        for ax in axs:
            ax.plot(np.arange(len(y)), y, label=name)
    axs[0].set(xlabel="$t$", ylabel=r"$\log_{10}\|\partial h_t/\partial h_0\|_2$", xlim=(0, T),
               title="small weights vanish at once; identity + ReLU keeps norm 1")
    axs[1].set(xlabel="$t$", ylabel=r"$\log_{10}\|\partial h_t/\partial h_0\|_2$", xlim=(0, zoom), ylim=(-2, 0.5),
               title="zoom: the Gaussian $W_{hh}$ first grows, then decays")
    for ax in axs:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig


def success_figure(Ts, accuracies, threshold: float = 0.9):
    """Success rate (accuracy >= threshold) and accuracies at step T against the span T.

    Ts (n,), accuracies (n, seeds).
    """
    acc = np.asarray(accuracies)
    fig, axs = plt.subplots(1, 2, figsize=(11, 3.8), constrained_layout=True)
    axs[0].plot(Ts, np.mean(acc >= threshold, axis=1), "o-")
    axs[0].set(xlabel="dependency span $T$", ylabel="success rate", ylim=(-0.05, 1.05),
               title="learning the latch fails beyond 10-20 steps")
    for j in range(acc.shape[1]):
        axs[1].plot(Ts, acc[:, j], "o", alpha=0.6, color="C0")
    axs[1].axhline(0.5, color="0.5", ls="--", label="chance")
    axs[1].set(xlabel="dependency span $T$", ylabel="accuracy at step $T$", ylim=(0.4, 1.02),
               title="one dot per seed")
    axs[1].legend(fontsize=8)
    for ax in axs:
        ax.grid(alpha=0.3)
    return fig


def clipping_experiment(*, T: int = 10, seed: int = 0, lr: float = 0.3, spectral_radius: float = 1.5,
                        theta: float = 1.0, n_steps: int = 200):
    """Train the remember-first task with SGD, with and without norm clipping (notebook 06).

    Returns {"none": (accuracy, history), "clipped": (accuracy, history)}.
    """
    out = {}
    for name, clip in (("none", None), ("clipped", theta)):
        acc, hist, _ = tasks.run_remember_first(T, seed, n_steps=n_steps, optimizer=train.SGD(lr), clip_norm=clip,
                                                spectral_radius=spectral_radius)
        out[name] = (acc, hist)
    return out


def clipping_figure(results: dict | None = None, theta: float = 1.0):
    """Training curves (loss and gradient norm per step) with and without norm clipping."""
    results = clipping_experiment(theta=theta) if results is None else results
    fig, axs = plt.subplots(1, 2, figsize=(11, 3.8), constrained_layout=True)
    for (name, (acc, hist)), color in zip(results.items(), ("C3", "C0")):
        label = f"{'no clipping' if name == 'none' else 'norm clipping'} (accuracy {acc:.2f})"
        axs[0].semilogy(hist["loss"], color=color, label=label)
        axs[1].semilogy(hist["grad_norm"], color=color, label=label)
    axs[1].axhline(theta, color="0.4", ls="--", label=rf"$\theta = {theta:g}$")
    axs[0].set(xlabel="update", ylabel="loss $L$", title="without clipping, a few huge steps undo learning")
    axs[1].set(xlabel="update", ylabel=r"$\|g\|$ before clipping", title="gradient norms spike")
    for ax in axs:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig


def char_loss_figure(history: dict, baseline: float, window: int = 20):
    """Per-character training loss of the char-RNN (raw and moving average) with the uniform baseline."""
    loss = np.asarray(history["loss"])
    fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
    ax.plot(loss, color="0.75", lw=0.8, label="per update")
    if loss.size >= window:
        ax.plot(np.arange(window - 1, loss.size), np.convolve(loss, np.ones(window) / window, mode="valid"),
                color="C0", label=f"moving average ({window})")
    ax.axhline(baseline, color="C3", ls="--", label=r"uniform guess $\ln V$")
    ax.set(xlabel="update (one chunk of every stream)", ylabel="loss per character (nats)",
           title="the char-RNN learns far below the uniform guess")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def text_activation_figure(text: str, activations, titles, *, width: int = 64, cmap: str = "RdBu_r"):
    """Characters of `text` on coloured backgrounds: red where a unit's h is near +1, blue near -1.

    activations (n_units, len(text)) values in [-1, 1], one row per unit; titles (n_units,).
    """
    acts = np.atleast_2d(activations)
    n_rows = -(-len(text) // width)
    fig, axs = plt.subplots(len(acts), 1, figsize=(width * 0.16, 0.32 * n_rows * len(acts) + 0.5 * len(acts)),
                            constrained_layout=True, squeeze=False)
    norm, colormap = Normalize(-1, 1), plt.get_cmap(cmap)
    for ax, a, title in zip(axs[:, 0], acts, titles):
        for i, ch in enumerate(text):
            r, c = divmod(i, width)
            ax.add_patch(Rectangle((c, -r - 1), 1, 1, color=colormap(norm(a[i]))))
            ax.text(c + 0.5, -r - 0.5, "⏎" if ch == "\n" else ch, ha="center", va="center",
                    family="monospace", fontsize=8)
        ax.set(xlim=(0, width), ylim=(-n_rows, 0), title=title)
        ax.axis("off")
    return fig


def char_rnn_experiment(n_updates: int = 1000, *, H: int = 64, B: int = 32, k: int = 25, theta: float = 25.0,
                        lr: float = 0.01, seed: int = 0):
    """Notebook 07's training run on data/tiny.txt: returns (params, history, vocab).

    Chunked truncated BPTT (k), norm clipping (theta), Adam(lr); seeded. About half a minute for
    the default 1000 updates on a 2-core machine.
    """
    from pathlib import Path

    from .core import init_params

    text = (Path(__file__).resolve().parents[1] / "data" / "tiny.txt").read_text(encoding="ascii")
    vocab = train.build_vocab(text)
    streams = train.batch_streams(train.encode(text, vocab), B)
    params = init_params(len(vocab), H, len(vocab), seed=seed)
    params, history = train.train_char_rnn(params, streams, n_updates, train.Adam(lr), k=k, clip_norm=theta)
    return params, history, vocab


def _cliff():
    return cliff_figure()


def _char_loss():
    _, history, vocab = char_rnn_experiment()
    return char_loss_figure(history, baseline=float(np.log(len(vocab))))


def _clipping():
    return clipping_figure()


FIGURES = {
    "06-cliff.svg": _cliff,
    "06-clipping-curves.svg": _clipping,
    "07-char-rnn-loss.svg": _char_loss,
}
