"""Figures for notebook 06 (remedies): truncation, the cliff, initializations, clipping.

Every function returns a matplotlib Figure and does not call plt.show(). `FIGURES` maps file
names in figures/ to functions that need no arguments (`python -m rnnlib.plots.figures` saves
them). The numbers come from `rnnlib.remedies` and `rnnlib.examples`; `clipping_experiment`
(rnnlib.examples) is also importable from here, for notebook 06.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from .. import remedies, tasks
from ..examples import clipping_experiment  # re-exported: notebook 06 calls rp.clipping_experiment

__all__ = [
    "truncation_figure",
    "cliff_figure",
    "init_figure",
    "success_figure",
    "clipping_figure",
    "clipping_experiment",
    "FIGURES",
]

COLORS = {"window": "C0", "chunked": "C1", "randomized": "C2", "full": "0.3"}


def truncation_figure(ks, errors: dict, costs: dict, states: dict, T: int, *, k_level: int = 12):
    """Error of truncated gradients against full BPTT, their cost and their memory, as k varies.

    ks (n,); errors[mode] = {"cosine": (n,), "rel_norm": (n,)} for modes among window, chunked,
    randomized (randomized: root-mean-square over its draws, computed exactly); costs[mode] (n,)
    vector-Jacobian products of one backward pass (randomized: expected); states[mode] (n,)
    hidden states kept. Titles are computed from the data: the chunked error range for
    k_level <= k < T, and the window's fall over the same range.
    """
    ks = np.asarray(ks)
    fig, axs = plt.subplots(2, 2, figsize=(12, 7.5), constrained_layout=True)
    axs = axs.ravel()
    style = {"window": dict(marker="o", ls="-"), "chunked": dict(marker="s", ls="-"),
             "randomized": dict(marker="^", ls="--", mfc="none", ms=7)}
    for mode, e in errors.items():
        kw = dict(color=COLORS[mode], label=mode, **{"ms": 4, **style[mode]})
        angle = np.degrees(np.arccos(np.clip(e["cosine"], -1, 1)))
        keep = angle > 1e-6  # exactly 0 at k = T: not drawable on a log axis
        axs[0].semilogy(ks[keep], angle[keep], **kw)
        keep = np.asarray(e["rel_norm"]) > 1e-12
        axs[1].semilogy(ks[keep], np.asarray(e["rel_norm"])[keep], **kw)
    band = (ks >= k_level) & (ks < T)
    ch, wi = np.asarray(errors["chunked"]["rel_norm"])[band], np.asarray(errors["window"]["rel_norm"])[band]
    ang = np.degrees(np.arccos(np.clip(np.asarray(errors["chunked"]["cosine"])[band], -1, 1)))
    axs[0].set(xlabel="truncation length $k$", ylabel=r"angle between $g_k$ and $g$ (degrees)",
               title=f"direction: chunked stays {ang.min():.1f}°–{ang.max():.1f}° off for ${k_level} \\leq k < T$;\n"
                     "the window's angle keeps falling")
    axs[1].set(xlabel="truncation length $k$", ylabel=r"$\|g_k - g\| / \|g\|$",
               title=f"chunked error levels off at {ch.min():.1%}–{ch.max():.1%} for ${k_level} \\leq k < T$;\n"
                     f"the window's keeps falling ({wi[0]:.1%} to {wi[-1]:.0e})")
    full = dict(color=COLORS["full"], ls=":", lw=1.5, label="no truncation (full BPTT)")
    shift = {"randomized": 0.6}  # drawn slightly to the right: its cost is the window's + 0.1 T, hidden otherwise
    for mode, c in costs.items():
        label = mode + (f" (expected; drawn at $k + {shift[mode]:g}$)" if mode in shift else "")
        axs[2].plot(ks + shift.get(mode, 0), c, color=COLORS[mode], label=label, **{"ms": 4, **style[mode]})
    axs[2].axhline(T, **full)
    axs[2].annotate("$k = T$: full BPTT", xy=(T, T), xytext=(T - 1, 2.2 * T), ha="right", fontsize=8,
                    arrowprops=dict(arrowstyle="->", color="0.3"))
    axs[2].set(xlabel="truncation length $k$", ylabel="vector-Jacobian products (one backward pass)",
               yscale="log", title=f"cost: the window pays about $Tk$, more than full BPTT's $T = {T}$")
    for mode, c in states.items():
        label = mode + (f" (drawn at $k + {shift[mode]:g}$)" if mode in shift else "")
        axs[3].plot(ks + shift.get(mode, 0), c, color=COLORS[mode], label=label, **{"ms": 4, **style[mode]})
    axs[3].axhline(T + 1, **full)
    axs[3].set(xlabel="truncation length $k$", ylabel="hidden states kept in memory", ylim=(0, 1.15 * (T + 1)),
               title="memory: only chunking saves it ($k + 1$ states, not $T + 1$)")
    for ax in axs:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig


def cliff_figure(*, w0: float = 9.0, b0: float = -5.5, lr: float = 0.05, n_steps: int = 40, theta: float = 10.0,
                 T: int = 50, w_slice: float = 4.4):
    """The error surface of x_t = w sigma(x_{t-1}) + b over (w, b), with gradient-descent paths.

    Left: the loss L = (x_T - 0.7)^2 on a linear colour scale, with the paths of plain and of
    norm-clipped gradient descent and the slice w = w_slice. Middle: log10 ||grad L|| near the
    wall, zoomed on the last steps. Right: L and ||grad L|| along the slice, across the wall.
    """
    w = np.linspace(0, 13, 261)
    b = np.linspace(-8, 12, 301)
    W, B = np.meshgrid(w, b)
    L = remedies.cliff_loss(W, B, T=T)
    paths = {}
    for name, clip in (("plain", None), ("clipped", theta)):
        paths[name], _ = remedies.gradient_descent_path(w0, b0, lr, n_steps, clip=clip, T=T)
    jump = int(np.argmax(np.linalg.norm(np.diff(paths["plain"], axis=0), axis=1)))
    pstyle = {"plain": dict(color="C3", marker="o", ms=3.5, ls="-", lw=1.2, label="gradient descent"),
              "clipped": dict(color="white", marker="^", ms=4, ls="--", lw=1.2, mec="k", mew=0.4,
                              label=rf"clipped, $\theta = {theta:g}$")}
    fig, axs = plt.subplots(1, 3, figsize=(16, 4.8), constrained_layout=True)
    vmax = 20.0
    im = axs[0].pcolormesh(W, B, L, shading="auto", cmap="viridis", vmin=0, vmax=vmax, rasterized=True)
    fig.colorbar(im, ax=axs[0], label=rf"$L(w, b)$ (linear; capped at {vmax:g})", extend="max")
    for name, path in paths.items():
        axs[0].plot(path[:, 0], path[:, 1], **pstyle[name])
    axs[0].plot([w0], [b0], "ko", ms=6, label="start")
    zoom_w, zoom_b = (3.9, 5.1), (-3.0, -1.5)  # the middle panel's window
    axs[0].add_patch(Rectangle((zoom_w[0], zoom_b[0]), zoom_w[1] - zoom_w[0], zoom_b[1] - zoom_b[0], fill=False,
                               ec="C1", lw=1.5, label="zoom (middle panel)"))
    axs[0].axvline(w_slice, color="0.9", lw=1, ls=":", label=f"slice $w = {w_slice:g}$ (right panel)")
    axs[0].set(xlim=(0, 13), ylim=(-8, 12), xlabel="$w$", ylabel="$b$",
               title=f"a wall: at step {jump} unclipped descent is thrown\n"
                     f"{np.linalg.norm(paths['plain'][jump + 1] - paths['plain'][jump]):.0f} units away")
    axs[0].legend(loc="upper left", fontsize=8, facecolor="0.85")

    # Zoom on the wall: log10 of the gradient norm, where the wall is a bright ridge.
    wz, bz = np.linspace(*zoom_w, 301), np.linspace(*zoom_b, 751)  # fine in b: the ridge is ~0.01 wide
    Wz, Bz = np.meshgrid(wz, bz)
    _, dw, db = remedies.cliff_loss(Wz, Bz, T=T, return_grad=True)
    im = axs[1].pcolormesh(Wz, Bz, np.log10(np.hypot(dw, db) + 1e-12), shading="auto", cmap="magma",
                           vmin=0, vmax=2.5, rasterized=True)
    fig.colorbar(im, ax=axs[1], label=r"$\log_{10}\|\nabla L\|$", extend="both")
    for name, path in paths.items():
        axs[1].plot(path[:, 0], path[:, 1], **pstyle[name])
    axs[1].text(wz[-1] - 0.03, bz[-1] - 0.05, f"the red line leaving: the jump to (w, b) = {tuple(np.round(paths['plain'][jump + 1], 1).tolist())}", color="C3",
                ha="right", va="top", fontsize=8, bbox=dict(fc="white", ec="none", alpha=0.8))
    axs[1].axvline(w_slice, color="0.9", lw=1, ls=":")
    axs[1].set(xlim=(wz[0], wz[-1]), ylim=(bz[0], bz[-1]), xlabel="$w$", ylabel="$b$",
               title="zoom: the thin bright ridge is the wall ($\\|\\nabla L\\|$ explodes);\n"
                     "the black line at its foot is the valley floor ($L = 0$)")

    bs = np.linspace(-3.5, -0.5, 3001)
    Ls, dws, dbs = remedies.cliff_loss(w_slice, bs, T=T, return_grad=True)
    axs[2].plot(bs, Ls, color="k", label="$L$")
    axs[2].set(xlabel=f"$b$ (slice at $w = {w_slice:g}$)", ylabel="$L$ (linear)",
               title="across the wall: $L$ jumps, its gradient spikes")
    ax2 = axs[2].twinx()
    ax2.semilogy(bs, np.hypot(dws, dbs) + 1e-12, color="C1", lw=1, label=r"$\|\nabla L\|$")
    ax2.set_ylabel(r"$\|\nabla L\|$ (log)", color="C1")
    axs[2].legend(handles=axs[2].get_lines() + ax2.get_lines(), fontsize=8, loc="upper right")
    axs[2].grid(alpha=0.3)
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


def success_figure(Ts, accuracies: dict, threshold: float = 0.9, title: str | None = None):
    """Success rate (accuracy >= threshold) with its 95% Wilson interval, and accuracies at step T,
    against the span T, per setup.

    Ts (n,); accuracies maps a setup name (e.g. "Gaussian init") to an array (n, seeds).
    The interval is `tasks.wilson_interval(successes, seeds)`: with 10 seeds, 10 of 10 still
    allows a rate of 0.72 and 0 of 10 one of 0.28. title: the left panel's title (state the
    finding); a neutral one if None.
    """
    Ts = np.asarray(Ts)
    fig, axs = plt.subplots(1, 2, figsize=(11, 3.8), constrained_layout=True)
    n = len(accuracies)
    for i, (name, acc) in enumerate(accuracies.items()):
        acc = np.asarray(acc)
        color, marker = f"C{i}", "os^D"[i % 4]
        offset = (i - (n - 1) / 2) * 0.35  # side by side, so dots of different setups do not hide each other
        wins = np.sum(acc >= threshold, axis=1)
        low, high = tasks.wilson_interval(wins, acc.shape[1])
        rate = wins / acc.shape[1]
        axs[0].errorbar(Ts + offset, rate, yerr=[rate - low, high - rate], marker=marker, color=color, ls=":",
                        capsize=4, label=f"{name} ({acc.shape[1]} seeds, 95% Wilson interval)")
        for j in range(acc.shape[1]):
            axs[1].plot(Ts + offset, acc[:, j], marker, color=color, alpha=0.7, label=name if j == 0 else None)
    axs[0].set(xlabel="dependency span $T$", ylabel=f"success rate (accuracy $\\geq$ {threshold:g})",
               ylim=(-0.05, 1.05), title=title or "success rate against the span")
    axs[1].axhline(0.5, color="0.5", ls="--", label="chance")
    axs[1].set(xlabel="dependency span $T$", ylabel="accuracy at step $T$", ylim=(0.35, 1.05),
               title="one dot per seed: a run either learns the latch\nor stays well short of it (chance is 0.5)")
    for ax, loc in zip(axs, ("lower left", "best")):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc=loc)
    return fig


CLIP_RUNS = {"control": "$\\eta = {lr_small:g}$, no clipping", "large": "$\\eta = {lr:g}$, no clipping",
             "clipped": "$\\eta = {lr:g}$, clipped at $\\theta = {theta:.3g}$"}



def _smooth(y, n: int = 5):
    return np.convolve(y, np.ones(n) / n, mode="valid")


def clipping_figure(results: dict | None = None, title: str | None = None):
    """Loss curves of the three runs of `clipping_experiment` (every seed; the legend counts the
    seeds learned, accuracy >= 0.9) and the gradient norms of the clipped and unclipped
    large-step runs against theta. title: the left panel's title; from the data if None."""
    results = clipping_experiment() if results is None else results
    theta, n = results["theta"], len(results["seeds"])
    learned = {name: sum(acc >= 0.9 for acc, _, _ in runs) for name, runs in results["runs"].items()}
    fig, axs = plt.subplots(1, 2, figsize=(12, 4.2), constrained_layout=True)
    colors = {"control": "C0", "large": "C3", "clipped": "C2"}
    for name, runs in results["runs"].items():
        label = CLIP_RUNS[name].format(**results) + f" (learned {learned[name]}/{n})"
        for j, (acc, hist, _) in enumerate(runs):
            loss = _smooth(hist["loss"])
            axs[0].semilogy(np.arange(loss.size) + 2, loss, color=colors[name], lw=1, alpha=0.75,
                            label=label if j == 0 else None)
    clipped_at = np.concatenate([np.flatnonzero(h["grad_norm"] >= theta) for _, h, _ in results["runs"]["clipped"]])
    n_updates = sum(h["grad_norm"].size for _, h, _ in results["runs"]["clipped"])
    early = int(clipped_at.max()) + 1 if clipped_at.size else 0
    if title is None:
        title = (f"clipping {clipped_at.size / n_updates:.0%} of the updates lets $\\eta = {results['lr']:g}$ learn:\n"
                 f"{learned['clipped']}/{n} seeds, against {learned['large']}/{n} without clipping")
    axs[0].set(xlabel="update", ylabel="loss $L$ (moving average of 5)", title=title)
    for name, lw, alpha in (("large", 0.6, 0.35), ("clipped", 0.6, 0.6)):
        for j, (acc, hist, _) in enumerate(results["runs"][name]):
            axs[1].semilogy(hist["grad_norm"], color=colors[name], lw=lw, alpha=alpha,
                            label=CLIP_RUNS[name].format(**results).split(",")[0] + (", clipped" if name == "clipped" else ", no clipping")
                            if j == 0 else None)
    for j, (acc, hist, _) in enumerate(results["runs"]["clipped"]):
        g = hist["grad_norm"]
        axs[1].semilogy(np.flatnonzero(g >= theta), g[g >= theta], "v", color="k", ms=3,
                        label="clipped update" if j == 0 else None)
    axs[1].axhline(theta, color="0.3", ls="--", label=rf"$\theta = {theta:.3g}$ ({results['percentile']:g}th percentile of the control runs' $\|g\|$)")
    axs[1].set(xlabel="update", ylabel=r"$\|g\|$ before clipping",
               title=f"all clipped updates are among the first {early} (large loss);\n"
                     "without clipping, $\\|g\\|$ stays large")
    for ax in axs:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7.5)
    return fig




def _cliff():
    return cliff_figure()



def _clipping():
    return clipping_figure()


FIGURES = {
    "06-cliff.svg": _cliff,
    "06-clipping-curves.svg": _clipping,
}
