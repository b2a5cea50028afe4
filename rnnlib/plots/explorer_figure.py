"""Notebook 05's eigenvalue explorer, drawn: the panel styles it shares with the live widget, the
short notes written in its panels, and the static figure of presets side by side.

The numbers come from `rnnlib.spectra` (numpy only): `explorer_profile(**settings)` is the model,
`PRESETS` the named regimes, `verdict` the (word, line) of each. The live widget is in
`rnnlib.plots.explorer`. `presets_figure()` is the figure under the widget in notebook 05 and
figures/05-regimes.svg (the README gallery).
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter

from ..spectra import (
    PRESETS,
    GradientProfile,
    explorer_profile,
    explorer_settings,
    format_pow10,
    principal_components,
    verdict,
)

__all__ = ["presets_figure", "FIGURE_PRESETS", "FIGURES"]

Y_LOG10 = (-20.0, 20.0)  # the y range of the ||dh_t/dh_0|| panel, in decades
# Bounded 2-D states get fixed boxes that hold both the range of f (dashed square) and any h_0 of the sliders.
H_LIMITS = {"tanh": (-1.6, 1.6), "sigmoid": (-1.6, 1.6)}
F_RANGES = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}  # h_t = f(a_t) lies in this square for t >= 1
H_BOXES = (1.6, 2.5, 10.0, 50.0, 250.0, 1000.0)  # other states get the first box that holds them
EIG_LIMIT = 2.25
ELLIPSE_LIMIT = 1.6
COLORS = {"norm": "#1565C0", "rho": "#2E7D32", "bound": "#C62828", "unit": "#90A4AE", "eig": "#E65100",
          "gsigma": "#6A1B9A", "f1": "#1565C0", "f2": "#E65100", "marker": "#D81B60"}

# The four presets of the static figure (under the widget in 05, and figures/05-regimes.svg).
FIGURE_PRESETS = ("non-normal transient", "Jordan-type block", "tanh: quasi-periodic drift", "tanh: mode-locked cycle")


# ----------------------------------------------------------------------------------------------
# Numbers -> short notes (what leaves a panel is said in words)
# ----------------------------------------------------------------------------------------------


def clipped(log10_values: np.ndarray) -> np.ndarray:
    """10**values for a log axis spanning Y_LOG10: values beyond it (even +-inf) are pinned a few
    decades outside, so matplotlib clips the line at the axes edge and nothing overflows."""
    lo, hi = Y_LOG10
    return 10.0 ** np.clip(np.nan_to_num(log10_values, nan=lo - 5), lo - 5, hi + 5)


def norm_note(profile: GradientProfile) -> tuple[str, str]:
    """(short note for the figure, longer sentence) when the curve leaves the panel, else ("", "")."""
    L = profile.log_norm
    lo, hi = Y_LOG10
    short, long = [], []
    with np.errstate(invalid="ignore"):
        if np.any(L == -np.inf):
            t0 = int(np.argmax(L == -np.inf))
            short.append(f"exactly 0 from t = {t0}")
            long.append(f"∂h_t/∂h_0 is exactly 0 from t = {t0} on" + (f" (W^{t0} = 0)" if profile.activation == "linear" else ""))
        elif np.any(L < lo):
            t0 = int(np.argmax(L < lo))
            short.append(f"clipped below 1e{lo:+.0f} from t = {t0}")
            extra = ", below float64's range (1e-308), yet exact as a log-norm" if np.nanmin(L) < -308 else ""
            long.append(f"the curve goes down to {format_pow10(np.nanmin(L))}{extra}")
        if np.any(L > hi):
            t0 = int(np.argmax(L > hi))
            short.append(f"clipped above 1e{hi:+.0f} from t = {t0}")
            extra = ", beyond float64's range (1e+308), yet exact as a log-norm" if np.nanmax(L) > 308 else ""
            long.append(f"the curve goes up to {format_pow10(np.nanmax(L))}{extra}")
    return "\n".join(short), "; ".join(long)


def state_xy(profile: GradientProfile) -> np.ndarray:
    """The points the hidden-state panel draws, (T + 1, 2): h_t itself for H = 2, else its first two
    principal components (`spectra.principal_components`)."""
    return principal_components(profile.h)


def h_limits(profile: GradientProfile, xy: np.ndarray) -> tuple[float, float]:
    """The (equal) x and y limits of the hidden-state panel: fixed for a 2-D tanh or sigmoid state;
    otherwise the first of H_BOXES that holds the whole trajectory (or the largest)."""
    if xy.shape[1] == 2 and profile.h.shape[1] == 2 and profile.activation in H_LIMITS:
        return H_LIMITS[profile.activation]
    finite = xy[np.all(np.isfinite(xy), axis=1)]
    reach = float(np.abs(finite).max()) if finite.size else 1.0
    half = next((b for b in H_BOXES if 1.05 * reach <= b), H_BOXES[-1])
    return (-half, half)


def trajectory_note(profile: GradientProfile, xy: np.ndarray, limits: tuple[float, float]) -> str:
    lo, hi = limits
    if profile.escaped_at is not None:
        return f"|h_t| > 1e100 at t = {profile.escaped_at}: stopped"
    with np.errstate(invalid="ignore"):
        outside = np.nonzero(np.any((xy < lo) | (xy > hi), axis=1))[0]
    if outside.size:
        return f"h_t leaves the plot at t = {outside[0]}"
    return ""


def dead_units_note(profile: GradientProfile) -> str:
    """'unit 2 dead (f' = 0) from t = 1' for ReLU units whose derivative stays 0 to the end, else ""."""
    if profile.activation != "relu":
        return ""
    fp = profile.fprime[1:]
    ok = np.all(np.isfinite(fp), axis=1)
    fp = fp[ok]
    if not len(fp):
        return ""
    dead = np.flatnonzero(fp[-1] == 0)
    if profile.h.shape[1] == 2:
        notes = []
        for unit in dead:
            alive = np.flatnonzero(fp[:, unit] != 0)
            start = int(alive[-1]) + 2 if alive.size else 1
            notes.append(f"unit {unit + 1} dead (f' = 0) from t = {start}")
        return "\n".join(notes)
    return f"{dead.size} of {fp.shape[1]} units dead (f' = 0) at t = {len(fp)}" if dead.size else ""


def circle_note(profile: GradientProfile) -> str:
    """A note for the eigenvalue panel when a circle is drawn beyond its edges, else ""."""

    def where(radius):  # beyond the corners, or crossing the edges
        return "off-panel" if radius > math.sqrt(2) * EIG_LIMIT else "partly off-panel"

    notes = []
    if profile.sigma_max > EIG_LIMIT:
        notes.append(f"σ_max = {profile.sigma_max:.3g} (circle {where(profile.sigma_max)})")
    gs = profile.gamma * profile.sigma_max
    if profile.gamma != 1 and gs > EIG_LIMIT:
        notes.append(f"γσ_max = {gs:.3g} (circle {where(gs)})")
    return "\n".join(notes)


def info_items(profile: GradientProfile) -> list[str]:
    """The numbers line under the live image, as items that must not be broken across lines."""
    lam = profile.eigenvalues
    if lam.size <= 4:
        mods = "|λ| = " + ", ".join(f"{abs(v):.3g}" for v in lam)
    else:
        mods = f"{lam.size} eigenvalues, |λ| from {np.abs(lam).min():.3g} to {np.abs(lam).max():.3g}"
    gs = profile.gamma * profile.sigma_max
    items = [mods, f"ρ(W) = {profile.rho:.3g}", f"σ_max(W) = {profile.sigma_max:.3g} (dotted circle)",
             f"γ = {profile.gamma:g}", f"γ σ_max = {gs:.3g}" + (" (dash-dot circle)" if profile.gamma != 1 else "")]
    _, long = norm_note(profile)
    if long:
        items.append(f"note: {long}")
    return items


# ----------------------------------------------------------------------------------------------
# Panel styles shared by the live explorer and the static figure
# ----------------------------------------------------------------------------------------------


_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _pow10_label(y, _pos=None) -> str:
    """'10⁻²⁰' for a log-axis tick, in plain text (mathtext costs a few hundred ms on first use)."""
    if y <= 0:
        return ""
    return "10" + str(round(math.log10(y))).translate(_SUPERSCRIPTS)


def style_norm_axes(ax, T: int):
    ax.set_yscale("log")
    ax.set_ylim(10.0 ** Y_LOG10[0], 10.0 ** Y_LOG10[1])
    ax.set_xlim(0, T)
    ax.set_yticks([10.0**k for k in range(int(Y_LOG10[0]), int(Y_LOG10[1]) + 1, 10)])
    ax.set_yticks([10.0**k for k in range(int(Y_LOG10[0]), int(Y_LOG10[1]) + 1, 5)], minor=True)
    ax.set_yticklabels([], minor=True)
    ax.yaxis.set_major_formatter(FuncFormatter(_pow10_label))
    ax.axhline(1.0, color="#CFD8DC", lw=0.8, zorder=0)
    ax.set_ylabel("‖∂hₜ/∂h₀‖₂")


def style_fprime_axes(ax, T: int):
    ax.set_xlim(0, T)
    ax.set_ylim(-0.08, 1.12)
    ax.set_yticks([0, 0.25, 1])
    ax.set_yticklabels(["0", "¼", "1"])
    ax.axhline(0.25, color="#ECEFF1", lw=0.8, zorder=0)
    ax.set_xlabel("step t")
    ax.set_ylabel("f'(aₜ)", labelpad=8)


def style_eig_axes(ax):
    z = np.exp(1j * np.linspace(0, 2 * np.pi, 181))
    ax.plot(z.real, z.imag, color=COLORS["unit"], lw=1.2)
    ax.axhline(0, color="#ECEFF1", lw=0.8, zorder=0)
    ax.axvline(0, color="#ECEFF1", lw=0.8, zorder=0)
    ax.set_xlim(-EIG_LIMIT, EIG_LIMIT)
    ax.set_ylim(-EIG_LIMIT, EIG_LIMIT)
    ax.set_aspect("equal")
    ax.set_xlabel("Re λ")
    ax.set_ylabel("Im λ", labelpad=0)
    ax.set_title("eigenvalues of W_hh", fontsize=10)


def style_h_axes(ax, limits: tuple[float, float], components: bool):
    lo, hi = limits
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    if components:
        ax.set_xlabel("1st principal component of hₜ")
        ax.set_ylabel("2nd", labelpad=0)
    else:
        ax.set_xlabel("hₜ[0]")
        ax.set_ylabel("hₜ[1]", labelpad=0)
    ax.set_title("hidden state", fontsize=10)


def style_ellipse_axes(ax):
    z = np.exp(1j * np.linspace(0, 2 * np.pi, 181))
    ax.plot(z.real, z.imag, color=COLORS["unit"], lw=1.2)
    ax.axhline(0, color="#ECEFF1", lw=0.8, zorder=0)
    ax.axvline(0, color="#ECEFF1", lw=0.8, zorder=0)
    ax.set_xlim(-ELLIPSE_LIMIT, ELLIPSE_LIMIT)
    ax.set_ylim(-ELLIPSE_LIMIT, ELLIPSE_LIMIT)
    ax.set_aspect("equal")
    ax.set_xticks([-1, 0, 1])
    ax.set_yticks([-1, 0, 1])
    ax.set_title("unit circle under ∂hₜ/∂h₀", fontsize=10)


def ellipse_scale(log_sigma_max: float) -> tuple[float, str]:
    """(log10 of the factor the ellipse is drawn at, a note) so that it fits its panel: true size when
    sigma_max is in [0.05, 1.5], else scaled so its major semi-axis is 1."""
    if not math.isfinite(log_sigma_max):
        return 0.0, ""
    if math.log10(0.05) <= log_sigma_max <= math.log10(1.5):
        return 0.0, ""
    return -log_sigma_max, f"drawn × {format_pow10(-log_sigma_max)}"


def range_square(ax) -> Rectangle:
    """A dashed square (hidden at first) for the range of a bounded f in the hidden-state panel."""
    square = Rectangle((0, 0), 1, 1, fill=False, ec="#B0BEC5", lw=0.8, ls="--", zorder=0, visible=False)
    ax.add_patch(square)
    return square


def show_range(square: Rectangle, activation: str | None):
    """Fit the square to the range of f (tanh: [-1, 1]^2, sigmoid: [0, 1]^2); hide it for None."""
    visible = activation in F_RANGES
    if visible:
        lo, hi = F_RANGES[activation]
        square.set_bounds(lo, lo, hi - lo, hi - lo)
    square.set_visible(visible)


# ----------------------------------------------------------------------------------------------
# The static figure: presets side by side
# ----------------------------------------------------------------------------------------------


def _describe(s: dict) -> str:
    if s["kind"] == "complex":
        eig = rf"$\lambda = {s['r1']:g}\,e^{{\pm i {s['angle']:g}°}}$"
    elif s["kind"] == "real":
        eig = rf"$\lambda = {s['r1']:g}, {s['r2']:g}$"
    else:
        eig = s["kind"]
    extra = f", s = {s['shear']:g}" if s["shear"] and s["kind"] in ("real", "complex") else ""
    extra += f", u = {s['u']:g}" if s["u"] else ""
    return f"{eig}{extra}, f = {s['activation']}"


def _coinciding(p: GradientProfile) -> str:
    """Which of the three curves lie on top of each other ("all", "rho-bound", "norm-rho" or "")."""
    ok = np.isfinite(p.log_norm) & np.isfinite(p.log_rho) & np.isfinite(p.log_bound)
    if not ok[1:].any():
        return ""

    def same(x, y):  # within 2 % of a decade: indistinguishable at the figure's size
        return bool(np.allclose(x[ok], y[ok], atol=0.02))

    if same(p.log_rho, p.log_bound) and same(p.log_norm, p.log_rho):
        return "all"
    if same(p.log_rho, p.log_bound):
        return "rho-bound"
    if same(p.log_norm, p.log_rho):
        return "norm-rho"
    return ""


LABELS = {"norm": "‖∂hₜ/∂h₀‖", "rho": "ρᵗ", "bound": "(γσ_max)ᵗ"}


def presets_figure(names=FIGURE_PRESETS) -> Figure:
    """Presets side by side: ||dh_t/dh_0|| with rho^t and (gamma sigma_max)^t (top), f'(a_t) (middle),
    the hidden state (bottom); the verdict in each title.

    names: keys of `spectra.PRESETS`, by default FIGURE_PRESETS. Where curves coincide they are drawn
    once and the legend says so, so no legend entry names a hidden line. Returns a pyplot Figure
    (end the cell with plt.show()). Notebook 05; `rnnlib.plots.figures` saves it as figures/05-regimes.svg.
    """
    n = len(names)
    fig, axs = plt.subplots(3, n, figsize=(3.7 * n, 8.2), gridspec_kw=dict(height_ratios=[1.2, 0.42, 1]),
                            squeeze=False)
    for j, name in enumerate(names):
        s = explorer_settings(**PRESETS[name].settings)
        p = explorer_profile(**s)
        v = verdict(p)
        ax = axs[0, j]
        t = np.arange(p.T + 1)
        style_norm_axes(ax, p.T)
        coincide = _coinciding(p)
        lines = {"norm": (p.log_norm, dict(color=COLORS["norm"], lw=2.0)),
                 "rho": (p.log_rho, dict(color=COLORS["rho"], lw=1.3, ls="--")),
                 "bound": (p.log_bound, dict(color=COLORS["bound"], lw=1.3, ls=":"))}
        merged = {"all": [("norm", "rho", "bound")], "rho-bound": [("norm",), ("rho", "bound")],
                  "norm-rho": [("norm", "rho"), ("bound",)], "": [("norm",), ("rho",), ("bound",)]}[coincide]
        for group in reversed(merged):  # the norm on top
            log, style = lines[group[0]]
            ax.plot(t, clipped(log), label=" = ".join(LABELS[g] for g in group), **style)
        clip_note, _ = norm_note(p)
        if clip_note:
            ax.text(0.97, 0.04, clip_note, transform=ax.transAxes, ha="right", va="bottom", fontsize=8.5)
        finite = p.log_norm[np.isfinite(p.log_norm)]
        lo = max(Y_LOG10[0], math.floor(min(finite.min(), -4.0)) - 1)
        hi = min(Y_LOG10[1], math.ceil(max(finite.max(), 4.0)) + 1)
        ax.set_ylim(10.0**lo, 10.0**hi)
        step = 2 if hi - lo <= 12 else 5 if hi - lo <= 30 else 10
        ax.set_yticks([10.0**k for k in range(int(lo), int(hi) + 1) if k % step == 0])
        ax.set_yticks([], minor=True)
        ax.set_title(f"{name}\n{_describe(s)}\nρ = {p.rho:.3g}, σ_max = {p.sigma_max:.3g}\n"
                     f"end {format_pow10(p.log_norm[-1])}: {v.word}", fontsize=10, pad=10)
        handles, labels = ax.get_legend_handles_labels()
        ax.legend(handles[::-1], labels[::-1], loc="upper left", fontsize=8, frameon=False)
        if j:
            ax.set_ylabel("")
        axf = axs[1, j]
        style_fprime_axes(axf, p.T)
        for unit, color in ((0, COLORS["f1"]), (1, COLORS["f2"])):
            axf.plot(t[1:], p.fprime[1:, unit], color=color, lw=0.6, label=f"unit {unit + 1}")
        if p.activation == "linear":
            axf.text(0.5, 0.55, "linear: f' = 1", transform=axf.transAxes, ha="center", fontsize=8.5)
        else:
            axf.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=7.5, frameon=False, ncol=2,
                       borderaxespad=0.1)
        if j:
            axf.set_ylabel("")
        axh = axs[2, j]
        xy = state_xy(p)
        limits = h_limits(p, xy)
        style_h_axes(axh, limits, components=p.h.shape[1] > 2)
        axh.set_title(f"hidden state, f = {p.activation}", fontsize=10)
        show_range(range_square(axh), p.activation if p.h.shape[1] == 2 else None)
        m = p.T + 1 if p.escaped_at is None else p.escaped_at + 1
        h = xy[:m]
        axh.plot(h[:61, 0], h[:61, 1], color="#78909C", lw=0.7)
        axh.scatter(h[:, 0], h[:, 1], s=6, c=np.arange(m) / p.T, cmap="viridis", vmin=0, vmax=1, zorder=3)
        axh.plot(*h[0], "ko", ms=5)
        note = trajectory_note(p, xy, limits)
        if note:
            axh.text(0.03, 0.97, note, transform=axh.transAxes, va="top", fontsize=8.5)
        if j:
            axh.set_ylabel("")
    title = ("The spectrum sets the long run, a non-normal W grows first, and with tanh the same ρ = 1.5 "
             "keeps the gradient or kills it") if tuple(names) == FIGURE_PRESETS else "Presets of the eigenvalue explorer"
    fig.suptitle(title, fontsize=12)
    fig.tight_layout()
    return fig


FIGURES = {"05-regimes.svg": presets_figure}
