"""Diagrams of the unrolled RNN, its loss and backpropagation through time, drawn with matplotlib.

Every function returns a matplotlib Figure created through pyplot (nothing is shown or saved here),
so a notebook cell that calls one ends with `plt.show()`; code that builds many should `plt.close(fig)`.
`rnnlib.plots.figures` writes the ones listed in `FIGURES` to `figures/`. Colours come from
`rnnlib.plots.style` (x_t green, h_t blue, y^_t orange, one colour per shared matrix, red for the
backward path).

`memory_fade` draws numbers computed by numpy-only functions: `rnnlib.jacobians.memory_norms`
(||dh_t/dx_1||), `rnnlib.jacobians.fade_rate` and `rnnlib.examples.contracting_params`. Those
three are also importable from here under their old names, for the notebooks.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from .._checks import check_int
from ..activations import get_activation
from ..analysis import bound_log_line
from ..containers import RNNParams
from ..examples import contracting_params
from ..jacobians import fade_rate, memory_norms
from .style import BACKWARD, FADED, GRID, INK, NODE, NOTE, WEIGHT

__all__ = [
    "unrolled_graph",
    "loss_graph",
    "bptt_graph",
    "memory_norms",
    "contracting_params",
    "memory_fade",
    "fade_rate",
    "text_color_on",
    "contrast_ratio",
    "FIGURES",
]

# ----------------------------------------------------------------------------------------------
# Style
# ----------------------------------------------------------------------------------------------

WEIGHT_TEX = {"W_hx": r"$W_{hx}$", "W_hh": r"$W_{hh}$", "W_yh": r"$W_{yh}$"}

R = 0.36  # node radius, data units
SCALE = 0.78  # inches per data unit: every diagram has the same text and node size
FS_NODE, FS_EDGE, FS_TITLE, FS_NOTE = 13, 11.5, 14, 11


class _Canvas:
    """A figure whose single axes maps 1 data unit to SCALE inches, with room for a title."""

    def __init__(self, xlim, ylim, title: str, note: str | None = None, note_height: float = 0.55,
                 note_size: float = FS_NOTE, min_width: float = 0.0):
        (x0, x1), (y0, y1) = xlim, ylim
        if x1 - x0 < min_width:  # small T: widen both sides so the title and the note fit
            pad = (min_width - (x1 - x0)) / 2
            x0, x1 = x0 - pad, x1 + pad
        top = 0.62  # inches for the title
        bottom = note_height if note else 0.1  # inches for the note
        w, h = (x1 - x0) * SCALE, (y1 - y0) * SCALE
        self.fig = plt.figure(figsize=(w, h + top + bottom))
        H = h + top + bottom
        self.ax = self.fig.add_axes((0, bottom / H, 1, h / H))
        self.ax.set_xlim(x0, x1)
        self.ax.set_ylim(y0, y1)
        self.ax.set_aspect("equal")
        self.ax.axis("off")
        self.fig.text(0.5, 1 - 0.36 / H, title, ha="center", va="center", fontsize=FS_TITLE,
                      color=INK, fontweight="bold")
        if note:
            self.fig.text(0.5, (bottom / 2 + 0.03) / H, note, ha="center", va="center", fontsize=note_size,
                          color=NOTE)

    @staticmethod
    def pt(d: float) -> float:
        """Data units -> points (for arrow shrink and line widths)."""
        return d * SCALE * 72


def _node(ax, xy, label, kind="h", radius=R, alpha=1.0, fill=None, lw=1.6, fontsize=FS_NODE, color=None):
    face, edge = NODE[kind]
    ax.add_patch(Circle(xy, radius, facecolor=fill or face, edgecolor=edge, lw=lw, zorder=3, alpha=alpha))
    ax.text(xy[0], xy[1], label, ha="center", va="center", fontsize=fontsize, zorder=4,
            color=color or (INK if alpha >= 1 else FADED))


def _arrow(ax, p, q, color=INK, lw=1.6, rad=0.0, shrink=R, shrink_a=None, shrink_b=None, ls="-",
           alpha=1.0, z=2, head=13):
    sa = _Canvas.pt(shrink if shrink_a is None else shrink_a) + 1.5
    sb = _Canvas.pt(shrink if shrink_b is None else shrink_b) + 1.5
    ax.add_patch(FancyArrowPatch(p, q, arrowstyle="-|>", mutation_scale=head, color=color, lw=lw,
                                 connectionstyle=f"arc3,rad={rad}", shrinkA=sa, shrinkB=sb,
                                 linestyle=ls, alpha=alpha, zorder=z))


def _label(ax, xy, text, color=INK, ha="center", va="center", fontsize=FS_EDGE, alpha=1.0, box=False):
    bbox = dict(boxstyle="round,pad=0.12", facecolor="white", edgecolor="none", alpha=0.9) if box else None
    ax.text(xy[0], xy[1], text, ha=ha, va=va, fontsize=fontsize, color=color, alpha=alpha, zorder=5, bbox=bbox)


# ----------------------------------------------------------------------------------------------
# The unrolled network (notebook 01) and its loss (notebook 02)
# ----------------------------------------------------------------------------------------------

DX, DY = 2.2, 1.6  # column and row spacing


def _draw_unrolled(ax, T, rows=("x", "h", "y"), x0=0.0, weight_labels=True):
    """Nodes h_0..h_T, x_1..x_T, y^_1..y^_T with one colour per shared weight matrix."""
    yx, yh, yy = 0.0, DY, 2 * DY
    col = [x0 + k * DX for k in range(T + 1)]
    _node(ax, (col[0], yh), r"$h_0$", "h")
    for t in range(1, T + 1):
        c = col[t]
        _node(ax, (c, yx), rf"$x_{{{t}}}$", "x")
        _node(ax, (c, yh), rf"$h_{{{t}}}$", "h")
        _node(ax, (c, yy), rf"$\hat y_{{{t}}}$", "y")
        _arrow(ax, (c, yx), (c, yh), WEIGHT["W_hx"])
        _arrow(ax, (col[t - 1], yh), (c, yh), WEIGHT["W_hh"])
        _arrow(ax, (c, yh), (c, yy), WEIGHT["W_yh"])
        if weight_labels:
            _label(ax, (c + 0.12, (yx + yh) / 2), WEIGHT_TEX["W_hx"], WEIGHT["W_hx"], ha="left")
            _label(ax, ((col[t - 1] + c) / 2, yh + 0.27), WEIGHT_TEX["W_hh"], WEIGHT["W_hh"])
            _label(ax, (c + 0.12, (yh + yy) / 2), WEIGHT_TEX["W_yh"], WEIGHT["W_yh"], ha="left")
    return col


def unrolled_graph(T: int = 4) -> Figure:
    """The RNN of equations (2a) and (3), rolled (left) and unrolled over T steps (right). Notebook 01.

    Each step has two inputs, x_t and h_{t-1}; each of the three matrices has one colour, and the
    same colour recurs at every step: the weights are shared, so their number does not grow with T.
    T: 1..12. Returns a Figure with one axes.
    """
    T = check_int("T", T, 1, 12)
    x_roll = -3.3
    cv = _Canvas((x_roll - 1.75, T * DX + 1.0), (-1.25, 2 * DY + 0.75),
                 "One set of weights, reused at every step",
                 r"Same colour = same matrix: $W_{hx}$, $W_{hh}$, $W_{yh}$ (and $b_h$, $b_y$) are shared by every "
                 r"step, so the parameter count does not depend on $T$.", min_width=13.0)
    ax = cv.ax
    # Rolled form: one cell with a self-loop.
    _node(ax, (x_roll, 0), r"$x_t$", "x")
    _node(ax, (x_roll, DY), r"$h_t$", "h")
    _node(ax, (x_roll, 2 * DY), r"$\hat y_t$", "y")
    _arrow(ax, (x_roll, 0), (x_roll, DY), WEIGHT["W_hx"])
    _arrow(ax, (x_roll, DY), (x_roll, 2 * DY), WEIGHT["W_yh"])
    a = np.deg2rad(58)
    _arrow(ax, (x_roll - R * np.cos(a), DY + R * np.sin(a)), (x_roll - R * np.cos(a), DY - R * np.sin(a)),
           WEIGHT["W_hh"], rad=1.6, shrink=0.0)
    _label(ax, (x_roll - 1.05, DY), WEIGHT_TEX["W_hh"], WEIGHT["W_hh"], ha="right")
    _label(ax, (x_roll + 0.12, DY / 2), WEIGHT_TEX["W_hx"], WEIGHT["W_hx"], ha="left")
    _label(ax, (x_roll + 0.12, 1.5 * DY), WEIGHT_TEX["W_yh"], WEIGHT["W_yh"], ha="left")
    ax.text(-1.35, DY, "unroll", ha="center", va="bottom", fontsize=FS_NOTE, color="#546E7A")
    ax.annotate("", (-0.7, DY - 0.05), (-2.0, DY - 0.05),
                arrowprops=dict(arrowstyle="-|>", color="#546E7A", lw=1.4, mutation_scale=14))
    # One step highlighted: its two inputs x_t and h_{t-1}.
    s = min(2, T)
    cs = s * DX
    ax.add_patch(FancyBboxPatch((cs - 0.6, -0.5), 1.33, DY + 0.95,
                                boxstyle="round,pad=0,rounding_size=0.25", facecolor="#ECEFF1",
                                edgecolor="#90A4AE", lw=1.0, ls=(0, (4, 3)), zorder=0))
    ax.text(cs + 0.06, -0.88, rf"step {s}: two inputs, $x_{{{s}}}$ and $h_{{{s - 1}}}$", ha="center",
            va="center", fontsize=FS_NOTE, color=NOTE)
    _draw_unrolled(ax, T)
    return cv.fig


def loss_graph(T: int = 4) -> Figure:
    """Computational graph of the summed loss L = sum_t L_t(y^_t, y_t), on the unrolled RNN. Notebook 02.

    Each L_t is fed by the prediction y^_t and the target y_t; all L_t add up into one L.
    T: 1..12. Returns a Figure with one axes.
    """
    T = check_int("T", T, 1, 12)
    yL, ysum = 3 * DY + 0.2, 4 * DY + 0.5
    cv = _Canvas((-0.75, T * DX + 1.75), (-0.75, ysum + 0.75),
                 r"One loss term per step, all added into one $L$",
                 r"$L_t=-\log\,\hat y_t[y_t]$, the cross-entropy of $\hat y_t$ against the target $y_t$;"
                 "\nsummed over time, averaged over the batch.", note_height=0.8, min_width=9.0)
    ax = cv.ax
    col = _draw_unrolled(ax, T, weight_labels=True)
    xc = (col[1] + col[T]) / 2
    _node(ax, (xc, ysum), r"$L$", "L", radius=0.42, lw=2.2, fontsize=FS_NODE + 1)
    for t in range(1, T + 1):
        c = col[t]
        _node(ax, (c, yL), rf"$L_{{{t}}}$", "L")
        _node(ax, (c + 1.05, 2 * DY + 0.35), rf"$y_{{{t}}}$", "target", radius=0.3)
        _arrow(ax, (c, 2 * DY), (c, yL), NODE["L"][1])
        _arrow(ax, (c + 1.05, 2 * DY + 0.35), (c, yL), NODE["target"][1], shrink_a=0.3)
        _arrow(ax, (c, yL), (xc, ysum), NODE["L"][1], shrink_b=0.42)
    total = {1: r"$=L_1$", 2: r"$=L_1+L_2$"}.get(T, rf"$=L_1+\cdots+L_{{{T}}}$")
    _label(ax, (xc + 0.62, ysum + 0.02), total, NODE["L"][1], ha="left")
    return cv.fig


# ----------------------------------------------------------------------------------------------
# Backpropagation through time (notebook 03)
# ----------------------------------------------------------------------------------------------


def bptt_graph(T: int = 4, t: int = 3) -> Figure:
    """The paths by which one loss term L_t reaches W_hh, highlighted on the unrolled RNN. Notebook 03.

    Forward edges are grey. In red, going back: dL_t/dy^_t, dy^_t/dh_t, then the Jacobians
    dh_i/dh_{i-1} = diag(f'(a_i)) W_hh along h_t, ..., h_1; the dashed edges into the one shared
    W_hh carry the immediate derivatives d+h_k/dW_hh (h_{k-1} held constant), one per step k <= t.
    Steps after t are faded: they do not affect L_t. T: 1..10, t: 1..T. Returns a Figure with one axes.
    """
    T = check_int("T", T, 1, 10)
    t = check_int("t", t, 1, T)
    DXB = 2.5
    yW, yh, yy, yL = -1.75, 0.0, DY, 2 * DY
    formula = (r"$\dfrac{\partial L_t}{\partial W_{hh}}=\sum_{k=1}^{t}\;"
               r"\dfrac{\partial L_t}{\partial \hat y_t}\,\dfrac{\partial \hat y_t}{\partial h_t}"
               r"\left(\prod_{i=k+1}^{t}\dfrac{\partial h_i}{\partial h_{i-1}}\right)"
               r"\dfrac{\partial^+ h_k}{\partial W_{hh}}$")
    top = yL + (1.35 if t < T else 0.75)
    cv = _Canvas((-0.8, T * DXB + 1.25), (yW - 0.75, top),
                 rf"BPTT: $L_{{{t}}}$ reaches the shared $W_{{hh}}$ through every step $k\leq {t}$",
                 formula, note_height=1.0, note_size=FS_NODE + 1, min_width=12.0)
    ax = cv.ax
    col = [k * DXB for k in range(T + 1)]
    grey = "#90A4AE"
    _node(ax, (col[0], yh), r"$h_0$", "h")
    for s in range(1, T + 1):
        c, on = col[s], s <= t
        _node(ax, (c, yh), rf"$h_{{{s}}}$", "h" if on else "faded", alpha=1.0 if on else 0.9,
              color=None if on else grey)
        _arrow(ax, (col[s - 1], yh), (c, yh), grey if on else FADED, lw=1.3)
        here = s == t
        _node(ax, (c, yy), rf"$\hat y_{{{s}}}$", "y" if here else "faded", color=None if here else grey)
        _node(ax, (c, yL), rf"$L_{{{s}}}$", "L" if here else "faded", color=None if here else grey)
        _arrow(ax, (c, yh), (c, yy), grey if here else FADED, lw=1.3)
        _arrow(ax, (c, yy), (c, yL), grey if here else FADED, lw=1.3)
    # The backward path, red.
    c = col[t]
    _arrow(ax, (c, yL), (c, yy), BACKWARD, lw=2.2, rad=-0.45)
    _arrow(ax, (c, yy), (c, yh), BACKWARD, lw=2.2, rad=-0.45)
    _label(ax, (c + 0.5, (yy + yL) / 2), rf"$\partial L_{{{t}}}/\partial\hat y_{{{t}}}$", BACKWARD, ha="left")
    _label(ax, (c + 0.5, (yh + yy) / 2), rf"$\partial\hat y_{{{t}}}/\partial h_{{{t}}}$", BACKWARD, ha="left")
    for i in range(t, 1, -1):
        _arrow(ax, (col[i], yh), (col[i - 1], yh), BACKWARD, lw=2.2, rad=0.5)
        _label(ax, ((col[i] + col[i - 1]) / 2, yh + 0.78), rf"$\partial h_{{{i}}}/\partial h_{{{i - 1}}}$",
               BACKWARD)
    # The one shared W_hh, and the immediate derivatives into it.
    mid = (col[1] + col[T]) / 2
    x_left, x_right = min(col[1] - 0.75, mid - 3.0), max(col[T] + 0.75, mid + 3.0)
    ax.add_patch(FancyBboxPatch((x_left, yW - 0.32), x_right - x_left, 0.64,
                                boxstyle="round,pad=0,rounding_size=0.22", facecolor="#E3F2FD",
                                edgecolor=WEIGHT["W_hh"], lw=1.8, zorder=3))
    ax.text((x_left + x_right) / 2, yW, r"$W_{hh}$  (one matrix, shared by all steps)", ha="center",
            va="center", fontsize=FS_NODE, color=INK, zorder=4)
    for k in range(1, T + 1):
        on = k <= t
        _arrow(ax, (col[k], yh), (col[k], yW + 0.32), BACKWARD if on else FADED, lw=1.8 if on else 1.2,
               ls=(0, (4, 2.5)), shrink_b=0.0)
        if on:
            _label(ax, (col[k] + 0.1, (yh + yW) / 2 - 0.1), rf"$\partial^+ h_{{{k}}}/\partial W_{{hh}}$", BACKWARD,
                   ha="left")
    ax.text(-0.6, yL + 0.1, "red: the backward path\n" r"dashed: immediate $\partial^+$," "\n" r"$h_{k-1}$ held constant",
            ha="left", va="center", fontsize=FS_NOTE - 0.5, color=BACKWARD, linespacing=1.4)
    if t < T:
        ax.text((col[t + 1] + col[T]) / 2, yL + 0.85, f"steps after {t}:\n" rf"no effect on $L_{{{t}}}$",
                ha="center", va="center", fontsize=FS_NOTE - 0.5, color=grey, linespacing=1.3)
    return cv.fig


# ----------------------------------------------------------------------------------------------
# Memory fades (notebook 01; explained in notebooks 04-05)
# ----------------------------------------------------------------------------------------------




def _luminance(color) -> float:
    """Relative luminance (WCAG 2) of a matplotlib colour, 0 for black to 1 for white."""
    rgb = np.array(to_rgb(color))
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(lin @ [0.2126, 0.7152, 0.0722])


def contrast_ratio(fg, bg) -> float:
    """WCAG 2 contrast ratio of two matplotlib colours, from 1 (none) to 21 (black on white)."""
    hi, lo = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def text_color_on(fill) -> str:
    """White or INK, whichever contrasts more with the background colour `fill` (node labels, notebook 01)."""
    return "white" if contrast_ratio("white", fill) > contrast_ratio(INK, fill) else INK



def memory_fade(params: RNNParams | None = None, T: int = 12, xs=None, seed: int = 0,
                activation: str = "tanh") -> Figure:
    """How much of x_1 still reaches h_t: shaded nodes h_1..h_T (top) and the same ratios on a log axis.

    params: defaults to `contracting_params()` (every singular value of W_hh is 0.9). xs (T, 1, X) or
    None for a seeded normal sequence with standard deviation 0.5. Nodes, numbers and the line plot
    all show the ratio ||dh_t/dx_1|| / ||dh_1/dx_1|| (from `memory_norms`), next to the bound
    (gamma sigma_max)^(t-1); the title states the measured rate per step (`fade_rate`) against that
    bound. Notebook 01; the reason is notebooks 04-05. Returns a Figure with two axes (chain, plot):
    line 0 of the plot is the measured ratio, line 1 the bound.
    """
    params = contracting_params() if params is None else params
    if xs is None:
        T = check_int("T", T, 1, 40)
        xs = 0.5 * np.random.default_rng(seed).standard_normal((T, 1, params.n_in))
    xs = np.asarray(xs)
    norms = memory_norms(params, xs, activation=activation)
    T = len(norms)
    share = norms / norms[0]
    cmap = plt.get_cmap("Blues")
    bound_rate = get_activation(activation).gamma * np.linalg.norm(params.W_hh, 2)  # gamma sigma_max

    if T >= 2 and np.all(share > 0):
        rate = fade_rate(share)
        if rate >= 1:
            finding = rf"Memory does not fade: $x_1$'s influence on $h_t$ grows $\approx${rate:.2f}$\times$ per step"
        else:
            how = ("faster than" if rate < 0.99 * bound_rate else "as fast as")
            finding = (rf"Memory fades: $x_1$'s influence on $h_t$ shrinks $\approx${rate:.2f}$\times$ per step, "
                       rf"{how} the {bound_rate:.2g} bound")
    else:
        finding = r"The influence of $x_1$ on $h_t$"

    spacing = 1.0
    width = max(9.5, (T + 1.2) * spacing * SCALE)
    fig = plt.figure(figsize=(width, 5.4))
    fig.text(0.5, 0.965, finding, ha="center", va="center", fontsize=FS_TITLE, color=INK, fontweight="bold")
    ax = fig.add_axes((0.04, 0.66, 0.92, 0.24))
    ax.set_xlim(-1.1, T + 0.6)
    ax.set_ylim(-0.9, 0.55)
    ax.set_aspect("equal")
    ax.axis("off")
    r = 0.36
    x_fill = cmap(0.85)
    _node(ax, (-0.45, 0), r"$x_1$", "x", radius=r, fill=x_fill, color=text_color_on(x_fill))
    for t in range(1, T + 1):
        shade = cmap(0.05 + 0.8 * float(np.clip(share[t - 1], 0, 1)))
        _node(ax, (t, 0), rf"$h_{{{t}}}$", "h", radius=r, fill=shade, color=text_color_on(shade),
              fontsize=FS_NODE - 1)
        if t > 1:
            ax.add_patch(FancyArrowPatch((t - 1 + r, 0), (t - r, 0), arrowstyle="-|>", mutation_scale=9,
                                         color=WEIGHT["W_hh"], lw=1.0, zorder=2))
        ax.text(t, -0.62, f"{share[t - 1]:.2f}", ha="center", va="center", fontsize=9.5, color=NOTE)
    ax.add_patch(FancyArrowPatch((-0.45 + r, 0), (1 - r, 0), arrowstyle="-|>", mutation_scale=9,
                                 color=WEIGHT["W_hx"], lw=1.0, zorder=2))

    axp = fig.add_axes((0.09, 0.1, 0.86, 0.45))
    steps = np.arange(1, T + 1)
    axp.semilogy(steps, share, "o-", color=WEIGHT["W_hh"], lw=2, ms=5,
                 label=r"$\|\partial h_t/\partial x_1\|\,/\,\|\partial h_1/\partial x_1\|$ (from the model)")
    axp.semilogy(steps, 10.0 ** bound_log_line(bound_rate, steps - 1), "--", color="#78909C", lw=1.4,
                 label=rf"bound $(\gamma\,\sigma_{{\max}})^{{t-1}}$, $\gamma\sigma_{{\max}}={bound_rate:.2g}$")
    axp.set_xlabel(r"step $t$", fontsize=FS_NOTE)
    axp.set_ylabel(r"$\|\partial h_t/\partial x_1\|\,/\,\|\partial h_1/\partial x_1\|$", fontsize=FS_NOTE)
    axp.set_xlim(0.5, T + 0.5)
    axp.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    axp.grid(True, which="major", color=GRID)
    axp.spines[["top", "right"]].set_visible(False)
    axp.legend(fontsize=FS_NOTE - 1, frameon=False, loc="lower left")
    fig.text(0.5, 0.615, r"node shade, number and curve: $\|\partial h_t/\partial x_1\|\,/\,\|\partial h_1/\partial x_1\|$",
             ha="center", va="center", fontsize=FS_NOTE - 1, color=NOTE)
    return fig


FIGURES = {
    "01-unrolled-graph.svg": unrolled_graph,
    "01-memory-fade.svg": memory_fade,
    "02-loss-graph.svg": loss_graph,
    "03-bptt-graph.svg": bptt_graph,
}
