"""Figures and the small widget of notebook 08 (gates): only drawing lives here.

The numbers come from numpy-only functions a test can call: `rnnlib.lstm.gradient_profiles`
(log10 gradient norms against the lag) and `rnnlib.tasks.wilson_interval` (success-rate
intervals). Every figure function returns a matplotlib Figure; notebook cells end with plt.show().
"""

from __future__ import annotations

import io

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .._checks import check_nonempty
from ..lstm import gradient_profiles
from ..tasks import wilson_interval

__all__ = ["profile_figure", "success_rate_figure", "GateExplorer", "gate_explorer", "STYLE"]

# One look per curve kind, shared by every figure of notebook 08.
STYLE = {
    "rnn": dict(color="C3", lw=2.2, ls="-", label=r"vanilla RNN $\|\partial L_T/\partial h_k\|$"),
    "lstm_h": dict(color="C0", lw=2.2, ls="-", label=r"LSTM $\|\partial L_T/\partial h_k\|$"),
    "lstm_c": dict(color="C0", lw=1.6, ls="--", label=r"LSTM $\|\partial L_T/\partial c_k\|$"),
}


def _draw_profiles(ax, curves: dict, styles: dict | None = None):
    styles = styles or {}
    for key, y in curves.items():
        y = np.asarray(y)
        style = {**STYLE.get(key, {}), **styles.get(key, {})}
        style.setdefault("label", key)
        ax.plot(np.arange(y.size), y, **style)
    ax.set_xlabel(r"lag $T-k$")
    ax.set_ylabel(r"$\log_{10}$ norm (median over the batch)")
    ax.grid(True, alpha=0.3)
    ax.legend(frameon=False, fontsize=8.5, loc="lower left")


def profile_figure(panels: dict, title: str) -> Figure:
    """log10 ||dL_T/dh_k|| (and dc_k) against the lag, one panel per setting.

    panels: {panel title: {curve key: (L + 1,) log10 norms by lag}}; curve keys "rnn", "lstm_h",
    "lstm_c" get the shared STYLE, others are labelled by their key. Log10 on a linear axis, as
    in notebook 04, so geometric decay is a straight line. title: the finding.
    """
    check_nonempty("panels", panels, "{panel title: {curve: log-norms}}")
    n = len(panels)
    fig, axes = plt.subplots(1, n, figsize=(5.2 * n + 0.4, 4.0), sharey=True, layout="constrained", squeeze=False)
    for ax, (name, curves) in zip(axes[0], panels.items()):
        _draw_profiles(ax, curves)
        ax.set_title(name, fontsize=10.5)
    for ax in axes[0][1:]:
        ax.set_ylabel("")
    fig.suptitle(title, fontsize=11.5)
    return fig


def success_rate_figure(spans, successes: dict, n_seeds: int, title: str, z: float = 1.96) -> Figure:
    """Success rate against the span T, one line per model, with Wilson intervals (95% by default).

    spans (m,); successes {model name: (m,) integer counts of successful seeds out of n_seeds}.
    """
    spans = np.asarray(spans)
    fig, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
    n = len(successes)
    for j, (name, k) in enumerate(successes.items()):
        k = np.asarray(k)
        lo, hi = wilson_interval(k, n_seeds, z)
        p = k / n_seeds
        x = spans * (1.0 + 0.03 * (j - (n - 1) / 2))  # side by side so the bars do not hide each other
        ax.errorbar(x, p, yerr=[p - lo, hi - p], marker="os^D"[j % 4], capsize=3, lw=1.8, color=f"C{j}",
                    label=name)
    ax.set_xscale("log")
    ax.set_xticks(spans, [str(s) for s in spans])
    ax.minorticks_off()
    ax.set(xlabel="dependency span $T$", ylabel=f"success rate (of {n_seeds} seeds)", ylim=(-0.05, 1.05))
    ax.grid(True, alpha=0.3)
    ax.legend(frameon=False, fontsize=9)
    ax.set_title(title, fontsize=11)
    return fig


class GateExplorer:
    """Two sliders (forget-gate bias, input scale) and the lag profiles they produce.

    `widget` is the ipywidgets box to display; `sliders` maps "forget_bias" and "input_scale" to
    the FloatSliders; `figure` is the matplotlib Figure last drawn (a test reads its lines);
    `curves` the numbers it shows, from `rnnlib.lstm.gradient_profiles`. Changing a slider
    recomputes and redraws synchronously. Notebook 08.
    """

    def __init__(self, forget_bias: float = 1.0, input_scale: float = 1.0, T: int = 100, n_hidden: int = 16,
                 batch: int = 8, seed: int = 0):
        self.settings = dict(T=T, n_hidden=n_hidden, batch=batch, seed=seed)
        self.sliders = {
            "forget_bias": widgets.FloatSlider(value=forget_bias, min=-2.0, max=4.0, step=0.5,
                                               description="forget bias", continuous_update=False),
            "input_scale": widgets.FloatSlider(value=input_scale, min=0.25, max=4.0, step=0.25,
                                               description="input scale", continuous_update=False),
        }
        self.image = widgets.Image(format="png", layout=widgets.Layout(width="100%", max_width="760px"))
        self.figure = Figure(figsize=(7.0, 4.0), layout="constrained")
        FigureCanvasAgg(self.figure)
        for s in self.sliders.values():
            s.observe(lambda change: self.update(), names="value")
        self.widget = widgets.VBox([widgets.HBox(list(self.sliders.values())), self.image])
        self.update()

    def update(self) -> None:
        """Recompute the profiles for the sliders' values and redraw the figure and the image."""
        fb, scale = self.sliders["forget_bias"].value, self.sliders["input_scale"].value
        self.curves = gradient_profiles(forget_bias=fb, input_scale=scale, **self.settings)
        self.figure.clear()
        ax = self.figure.add_subplot()
        _draw_profiles(ax, self.curves)
        lowest = min(float(np.min(v[np.isfinite(v)])) for v in self.curves.values())  # lag 0 of dL_T/dc_k is -inf
        ax.set_ylim(min(-30.0, lowest - 1.0), 1.0)  # a fixed axis, extended only when a curve needs it
        slope = {k: (v[-1] - v[10]) / (v.size - 11) for k, v in self.curves.items()}
        ax.set_title(f"forget bias {fb:g}, input scale {scale:g}: per step, log10 norm changes by "
                     f"{slope['rnn']:+.3f} (RNN), {slope['lstm_c']:+.3f} (LSTM cell)", fontsize=9.5)
        buf = io.BytesIO()
        self.figure.savefig(buf, format="png", dpi=90)
        self.image.value = buf.getvalue()


def gate_explorer(**kwargs) -> GateExplorer:
    """Build the forget-bias / input-scale explorer of notebook 08; display `.widget`."""
    return GateExplorer(**kwargs)


def _fig_reach() -> Figure:
    """Notebook 08's lag profiles at forget bias 0 and 1 (the same settings as the notebook)."""
    prof = {fb: gradient_profiles(100, 16, 8, forget_bias=fb, seed=0) for fb in (0.0, 1.0)}
    return profile_figure({f"LSTM forget bias {fb:g}": pr for fb, pr in prof.items()},
                          title="with forget bias 0 the LSTM's gradient vanishes faster than the vanilla RNN's; "
                                "with bias 1, about half as fast")


FIGURES = {"08-gradient-reach.svg": _fig_reach}
