"""Figures of the BPTT gradient taken apart and of Jacobian products (notebooks 03 and 04).

Every function returns a matplotlib Figure created through pyplot (nothing is shown or saved here),
so a notebook cell that calls one ends with `plt.show()`; code that builds many should
`plt.close(fig)`. `rnnlib.plots.figures` writes the ones listed in `FIGURES` to `figures/`. The
plotting functions take arrays computed with `rnnlib.analysis` and `rnnlib.jacobians`; the
functions in `FIGURES` plot the examples of `rnnlib.examples` (same sizes and settings as the
notebooks', inputs from their own seeded generators, so individual numbers can differ from a
notebook's). `lag_example`, `norm_example_params`, `underflow_example` (rnnlib.examples) and
`naive_log_norms` (rnnlib.jacobians) are also importable from here, for the notebooks.
"""

from __future__ import annotations

import numpy as np
import matplotlib.pyplot as plt
from matplotlib import colormaps, patheffects
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from .._checks import check_dims, check_nonempty, check_shape
from ..activations import get_activation
from ..analysis import bound_log_line, bptt_contribution_norms, lag_diagonals
from ..core import forward
from ..examples import jacobian_norm_curves, lag_example, norm_example_params, underflow_example
from ..jacobians import jacobian_log_norms, jacobian_log_singular_values, naive_log_norms
from .style import BLUE, CMAP, INK, NOTE, ORANGE, SERIES

__all__ = [
    "contributions_figure",
    "jacobian_norms_figure",
    "singular_values_figure",
    "log_norm_figure",
    "lag_example",
    "norm_example_params",
    "underflow_example",
    "naive_log_norms",
    "FIGURES",
]

BOUND_LS = ":"  # bounds are drawn thin and dotted, measured curves thick and solid


# ----------------------------------------------------------------------------------------------
# Notebook 03: the terms of dL/dW_hh by (t, k) and by lag
# ----------------------------------------------------------------------------------------------


def contributions_figure(norms: dict[str, np.ndarray], title: str | None = None) -> Figure:
    """Heatmap of ||C[t, k]|| (first entry of `norms`) and the per-term norms against the lag t - k.

    norms: {label: array (T + 1, T + 1)} from `rnnlib.analysis.bptt_contribution_norms`, one per
    setting (e.g. two initializations); all entries share T. Zeros (k > t) are left blank. Left:
    log10 ||C[t, k]|| over loss step t and use step k. Right: every term's norm against its lag
    (dots) and the median per lag (line), log axis. Notebook 03.
    """
    check_nonempty("norms", norms, "at least one {label: (T + 1, T + 1) array}")
    labels = list(norms)
    first = np.asarray(norms[labels[0]])
    if first.ndim != 2 or first.shape[0] != first.shape[1] or first.shape[0] < 3:
        raise ValueError(f"norms[{labels[0]!r}]: expected a square array (T + 1, T + 1) with T >= 2, got {first.shape}")
    T = first.shape[0] - 1
    fig = plt.figure(figsize=(11.5, 4.6), layout="constrained")
    ax_map, ax_lag = fig.subplots(1, 2, width_ratios=(1.0, 1.25))

    with np.errstate(divide="ignore"):
        logn = np.log10(first[1:, 1:])
    logn = np.where(np.isfinite(logn), logn, np.nan)
    im = ax_map.imshow(logn, origin="lower", cmap=CMAP, extent=(0.5, T + 0.5, 0.5, T + 0.5), aspect="equal",
                       interpolation="nearest")
    cb = fig.colorbar(im, ax=ax_map, shrink=0.9)
    cb.set_label(r"$\log_{10}\,\|C_{t,k}\|_F$")
    ax_map.set_xlabel(r"step $k$ where $W_{hh}$ is used")
    ax_map.set_ylabel(r"loss step $t$")
    ax_map.set_title(f"{labels[0]}:\nterms fade away from the diagonal $k = t$", fontsize=10.5)

    colors = SERIES
    for i, label in enumerate(labels):
        A = np.asarray(norms[label])
        check_shape(f"norms[{label!r}]", A, first.shape, "like the first entry")
        diags = lag_diagonals(A)
        c = colors[i % len(colors)]
        for lag, d in enumerate(diags):
            d = d[d > 0]
            ax_lag.scatter(np.full(d.size, lag), d, s=5, color=c, alpha=0.25, lw=0)
        med = np.array([np.median(d[d > 0]) if np.any(d > 0) else np.nan for d in diags])
        ax_lag.plot(np.arange(T), med, color=c, lw=2, label=f"{label} (median per lag)")
    ax_lag.set_yscale("log")
    ax_lag.set_xlabel(r"lag $t-k$ (steps back)")
    ax_lag.set_ylabel(r"$\|C_{t,k}\|_F$, one dot per term")
    ax_lag.grid(True, which="major", alpha=0.3)
    ax_lag.legend(frameon=False, fontsize=9, loc="lower left")
    ax_lag.set_title("the median term shrinks by a roughly constant factor < 1 per step back", fontsize=10.5)
    fig.suptitle(title or r"Terms $C_{t,k}$ of $\partial L/\partial W_{hh}$ shrink geometrically with the lag $t-k$",
                 fontsize=12.5, color=INK)
    return fig



def _fig_contributions() -> Figure:
    norms = {}
    for label, scale in ((r"$W_{hh}$ std $1/\sqrt{3H}$ (PyTorch default)", 1 / np.sqrt(3)), (r"$W_{hh}$ std $1/\sqrt{H}$", 1.0)):
        params, xs, targets, h0 = lag_example(scale=scale)
        norms[label] = bptt_contribution_norms(params, xs, targets, h0)
    return contributions_figure(norms)


# ----------------------------------------------------------------------------------------------
# Notebook 04: ||dh_t/dh_k|| against the lag, with the bound (gamma sigma_max)^(t-k)
# ----------------------------------------------------------------------------------------------


def jacobian_norms_figure(curves: dict[str, dict[float, np.ndarray]], title: str | None = None) -> Figure:
    """log10 ||dh_t/dh_k||_2 against the lag, one panel per activation, with the bound dotted.

    curves: {activation: {sigma_max: log10 norms by lag, shape (L + 1,)}}; entry `lag` of each
    array is log10 ||dh_T/dh_{T - lag}||_2 (`jacobians.jacobian_log_norms(...)[::-1]`). Each norm
    is a thick solid line, labelled with its sigma_max at the right end; its bound
    lag * log10(gamma sigma_max) a thin dotted line in the same colour, drawn on top with a white edge
    so that it stays visible where it runs along another scale's norm (sigmoid). Notebook 04.
    """
    check_nonempty("curves", curves, "{activation: {sigma_max: log-norms}}")
    acts = list(curves)
    sigmas = sorted({s for c in curves.values() for s in c})
    cmap = colormaps["plasma"]
    color = {s: cmap(0.05 + 0.7 * i / max(len(sigmas) - 1, 1)) for i, s in enumerate(sigmas)}  # no pale yellow
    fig = plt.figure(figsize=(4.0 * len(acts) + 0.6, 4.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(acts), sharey=False))
    for ax, act in zip(axes, acts):
        gamma = get_activation(act).gamma
        lo, hi = 0.0, 0.0
        for s in sorted(curves[act]):
            y = np.asarray(curves[act][s])
            lags = np.arange(y.size)
            bound = bound_log_line(gamma * s, lags)
            ax.plot(lags, y, color=color[s], lw=2.4, ls="-", label=rf"$\sigma_{{max}} = {s:g}$", zorder=2)
            # Bounds on top, with a white edge: where a norm runs along another scale's bound (sigmoid panel),
            # the dotted line stays visible on the thick one and its colour tells the two apart.
            ax.plot(lags, bound, color=color[s], lw=1.6, ls=BOUND_LS, zorder=3,
                    path_effects=[patheffects.withStroke(linewidth=3.2, foreground="white")])
            ax.annotate(rf"{s:g}", (lags[-1], y[-1]), xytext=(-3, 3), textcoords="offset points", ha="right",
                        va="bottom", color=color[s], fontsize=8.5, fontweight="bold")  # which solid line is which
            lo, hi = min(lo, np.min(y)), max(hi, np.max(y))
        span = hi - lo
        ax.set_ylim(lo - 0.08 * span - 0.5, hi + 0.25 * span + 1.0)
        ax.set_xlim(0, lags[-1])
        ax.set_title(rf"{act}, $\gamma = {gamma:g}$", fontsize=11)
        ax.set_xlabel(r"lag $t-k$")
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel(r"$\log_{10}\|\partial h_t/\partial h_k\|_2$")
    axes[0].plot([], [], color=NOTE, ls=BOUND_LS, lw=1.6, label=r"bound $(\gamma\,\sigma_{max})^{t-k}$, same colour",
                 path_effects=[patheffects.withStroke(linewidth=3.2, foreground="white")])
    axes[0].legend(frameon=False, fontsize=8.5, loc="lower left", title=r"norm (solid, labelled by $\sigma_{max}$)",
                   title_fontsize=8.5)
    fig.suptitle(title or r"$\|\partial h_t/\partial h_k\|_2$ always stays below $(\gamma\,\sigma_{max})^{t-k}$"
                 r" (dotted): a guarantee of vanishing when $\gamma\sigma_{max}<1$, never of exploding",
                 fontsize=11.5, color=INK)
    return fig




def _fig_jacobian_norms() -> Figure:
    return jacobian_norms_figure(jacobian_norm_curves())


def singular_values_figure(log_sv: np.ndarray, title: str | None = None, label: str = "",
                           resolved_decades: float = 13.0) -> Figure:
    """All singular values of dh_t/dh_k against the lag, log10 scale: one line per index j.

    log_sv: (L + 1, H), row `lag` is log10 sigma_j(dh_T/dh_{T - lag}) largest first
    (`jacobians.jacobian_log_singular_values(...)[::-1, b]`). A product formed in float64 carries
    rounding errors of about eps * sigma_1, so singular values more than `resolved_decades`
    decades below sigma_1 are noise: they are not drawn, and eps * sigma_1 is shown dotted with the
    unresolvable region shaded. Notebook 04.
    """
    log_sv = np.asarray(log_sv, dtype=float)
    check_dims("log_sv", log_sv, ("lags", "H"))
    L, H = log_sv.shape
    fig = plt.figure(figsize=(7.6, 4.5), layout="constrained")
    ax = fig.subplots()
    cmap = colormaps[CMAP]
    lags = np.arange(L)
    resolved = log_sv >= log_sv[:, :1] - resolved_decades
    for j in range(H):
        y = np.where(resolved[:, j], log_sv[:, j], np.nan)
        ax.plot(lags, y, color=cmap(j / max(H - 1, 1)), lw=1.3)
    floor = log_sv[:, 0] + np.log10(np.finfo(float).eps)
    lo = min(np.nanmin(np.where(resolved, log_sv, np.nan)), np.min(floor)) - 1.0
    ax.fill_between(lags, lo, floor, color="#ECEFF1", zorder=0)
    ax.plot(lags, floor, color=NOTE, lw=1, ls=":", label=r"rounding level $\varepsilon\,\sigma_1$ (lines stop $10^{13}$ below $\sigma_1$)")
    ax.set_ylim(lo, max(1.0, np.max(log_sv[:, 0]) + 1.0))
    cb = fig.colorbar(ScalarMappable(norm=Normalize(1, H), cmap=cmap), ax=ax)
    cb.set_label(r"index $j$ ($\sigma_1$ largest)")
    ax.set_xlabel(r"lag $t-k$")
    ax.set_ylabel(r"$\log_{10}\sigma_j(\partial h_t/\partial h_k)$")
    ax.set_xlim(0, L - 1)
    ax.grid(True, alpha=0.3)
    ax.legend(frameon=False, fontsize=9, loc="lower left")
    ax.set_title(title or f"{label}after a few steps, every singular value shrinks geometrically",
                 fontsize=11, color=INK)
    return fig


def _fig_singular_values() -> Figure:
    T = 60
    xs = np.random.default_rng(4).standard_normal((T, 1, 10))
    params = norm_example_params(2.0, n_hidden=16)
    trace = forward(params, xs)
    log_sv = jacobian_log_singular_values(params, trace)[::-1, 0]
    return singular_values_figure(log_sv, label=r"tanh, $\sigma_{max}(W_{hh}) = 2$: ")




def _fig_log_norms() -> Figure:
    params, xs = underflow_example()
    trace = forward(params, xs, activation="linear")
    exact = jacobian_log_norms(params, trace, ord=2)[::-1, 0]
    return log_norm_figure(naive_log_norms(params.W_hh, xs.shape[0]), exact)


def log_norm_figure(naive_log: np.ndarray, exact_log: np.ndarray, title: str | None = None) -> Figure:
    """log10 ||W^t|| from a plain running product (stops where it underflows) and from log-norms.

    naive_log, exact_log: (T + 1,) log10 norms by power t; -inf or nan entries of naive_log (the
    product underflowed to 0) are not drawn, and the first of them is marked. Two float64 limits
    are drawn dotted: the smallest normal number (2.2e-308, below it precision is lost) and the
    smallest subnormal (4.9e-324; anything below half of it, about 2.5e-324, rounds to 0).
    Notebook 04.
    """
    naive_log, exact_log = np.asarray(naive_log, dtype=float), np.asarray(exact_log, dtype=float)
    if naive_log.shape != exact_log.shape or naive_log.ndim != 1:
        raise ValueError(f"naive_log: expected the 1-d shape of exact_log {exact_log.shape}, got {naive_log.shape}")
    t = np.arange(exact_log.size)
    fig = plt.figure(figsize=(7.2, 4.2), layout="constrained")
    ax = fig.subplots()
    ax.plot(t, exact_log, color=BLUE, lw=2.5, label="running log-norm (jacobian_log_norms)")
    ok = np.isfinite(naive_log)
    ax.plot(t[ok], naive_log[ok], color=ORANGE, lw=1.5, ls="--", label="np.linalg.norm of the product")
    if not ok.all():
        t0 = int(t[~ok][0])
        ax.axvline(t0, color=ORANGE, lw=1, alpha=0.6)
        ax.annotate(f"product underflows to 0 at t = {t0}", (t0, exact_log[t0]), xytext=(8, 30),
                    textcoords="offset points", color=ORANGE, fontsize=9.5)
    normal, subnormal = np.finfo(float).smallest_normal, np.finfo(float).smallest_subnormal
    for value, text, dy, va in ((normal, "smallest normal float64, 2.2e-308", 3, "bottom"),
                                (subnormal, "smallest subnormal, 4.9e-324\n(anything below ~2.5e-324 rounds to 0)", -3, "top")):
        ax.axhline(np.log10(value), color=NOTE, lw=0.9, ls=":")
        ax.annotate(text, (t[0], np.log10(value)), xytext=(4, dy), textcoords="offset points", ha="left", va=va,
                    color=NOTE, fontsize=8.5)
    ax.set_xlabel(r"number of factors $t$")
    ax.set_ylabel(r"$\log_{10}\|W_{hh}^{\,t}\|_2$")
    ax.grid(True, alpha=0.3)
    ax.legend(frameon=False, fontsize=9, loc="lower left")
    ax.set_title(title or "Log-norms stay exact where the product itself underflows", fontsize=11, color=INK)
    return fig


FIGURES = {
    "03-bptt-contributions-by-lag.svg": _fig_contributions,
    "04-jacobian-norms-vs-lag.svg": _fig_jacobian_norms,
    "04-singular-values-vs-lag.svg": _fig_singular_values,
    "04-log-norms-vs-underflow.svg": _fig_log_norms,
}
