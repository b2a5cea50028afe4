"""Notebook 05's eigenvalue explorer (ipywidgets) and its static figures (matplotlib).

`eigenvalue_explorer()` builds the widget: sliders for the eigenvalues of a 2 x 2 W_hh (two real
ones, or a complex pair r e^{+-i theta}), a non-normality (shear) amount, the activation, a
constant input u and the number of steps T; one image with three panels redrawn on every change:

    1. ||dh_t/dh_0|| over t on a log scale, with rho^t and (gamma sigma_max)^t overlaid;
    2. the eigenvalues in the complex plane, with the unit circle, the circle |z| = sigma_max and,
       for the sigmoid (gamma = 1/4), the circle |z| = gamma sigma_max;
    3. the 2-D hidden trajectory h_0, h_1, ..., h_T;

the verdict as the image's title (so a saved PNG carries it), and the verdict with the numbers
in an HTML line under the image. The numbers come from `rnnlib.spectra` (numpy only). An
exception inside the callback is caught and shown in that HTML line as "error: ...", never
swallowed (ipykernel would only log it on the server).

Speed: the figure is built once. An update sets the artists' data and redraws only them over a
cached background (blitting), then encodes the canvas as PNG for an `ipywidgets.Image`. The
background has two layers: the axes (redrawn only when the activation or the box of the
hidden-state panel changes) and, over it, the t axis of the left panel, which runs from 0 to T
(redrawn, ticks and labels only, when T changes). Text is the slowest thing Agg draws (about
0.2 ms a glyph here, rendered one by one), so the text that changes with the sliders, the title
line and the notes in the panels, is written onto the finished frame by Pillow (FreeType, the same
DejaVu Sans font) in well under a millisecond.
`benchmarks/bench_explorer.py` measures one update.

Tests drive the explorer without a browser: set `explorer.controls[name].value` and read
`explorer.lines`, `explorer.texts`, `explorer.verdict`, `explorer.profile`, `explorer.error`.
"""

from __future__ import annotations

import html
import io
import math
import traceback

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib import font_manager
from PIL import Image, ImageDraw, ImageFont

from ..spectra import (
    GradientProfile,
    complex_pair_2x2,
    departure_from_normality,
    format_pow10,
    gradient_profile,
    triangular_2x2,
    verdict,
)

__all__ = [
    "EigenvalueExplorer",
    "eigenvalue_explorer",
    "explorer_matrix",
    "explorer_profile",
    "DEFAULTS",
    "RANGES",
    "REGIMES",
    "regimes_figure",
    "FIGURES",
]

H0 = np.array([0.8, -0.4])  # the initial hidden state h_0 of every trajectory
U_DIRECTION = np.array([0.6, 0.8])  # the constant input is u * U_DIRECTION (a unit vector)
ESCAPE = 1e100  # a linear state this large is stopped before it overflows
Y_LOG10 = (-20.0, 20.0)  # the y range of the ||dh_t/dh_0|| panel, in decades
# Bounded states get fixed boxes that hold both the range of f (dashed square) and h_0 = H0.
H_LIMITS = {"tanh": (-1.15, 1.15), "sigmoid": (-0.5, 1.1)}
F_RANGES = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}  # h_t = f(a_t) lies in this square for t >= 1
H_LINEAR_BOXES = (2.5, 10.0, 50.0, 250.0, 1000.0)  # a linear state gets the first box that holds it
EIG_LIMIT = 2.25
TITLE_PX = 12  # the title line over the live figure: font size and top margin in pixels
NOTE_PX = 10  # the notes in its panels: font size in pixels
NOTE_PLACES = {  # note name -> (axes, anchor (x, y) in axes coordinates, horizontal, vertical side)
    "note": ("norm", (0.99, 0.03), "right", "bottom"),  # the curve left the panel
    "eig": ("eig", (0.03, 0.03), "left", "bottom"),  # a circle is drawn beyond the panel
    "h": ("h", (0.03, 0.97), "left", "top"),  # the state left the panel
}

DEFAULTS = dict(kind="real", r1=0.9, r2=0.5, angle=30.0, shear=0.0, activation="linear", u=0.0, T=100)
RANGES = {  # name -> (min, max, step) of each slider
    "r1": (0.0, 2.0, 0.01),
    "r2": (0.0, 2.0, 0.01),
    "angle": (0.0, 180.0, 1.0),
    "shear": (0.0, 10.0, 0.1),
    "u": (0.0, 3.0, 0.05),
    "T": (10, 1000, 10),
}
KINDS = ("real", "complex")
ACTIVATION_NAMES = ("linear", "tanh", "sigmoid")

COLORS = {"norm": "#1565C0", "rho": "#2E7D32", "bound": "#C62828", "unit": "#90A4AE", "eig": "#E65100",
          "gsigma": "#6A1B9A"}

# Representative settings: the static figure under the widget and the README gallery.
REGIMES = {
    "vanishing": dict(kind="complex", r1=0.9, angle=30.0, activation="linear", T=100),
    "exploding": dict(kind="complex", r1=1.08, angle=20.0, activation="linear", T=100),
    "non-normal transient": dict(kind="real", r1=0.95, r2=0.94, shear=10.0, activation="linear", T=300),
    "tanh saturation": dict(kind="real", r1=1.5, r2=1.2, activation="tanh", T=100),
}


def _settings(**settings) -> dict:
    unknown = set(settings) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"settings: expected names among {sorted(DEFAULTS)}, got {sorted(unknown)}")
    s = {**DEFAULTS, **settings}
    if s["kind"] not in KINDS:
        raise ValueError(f"kind: expected one of {KINDS}, got {s['kind']!r}")
    if s["activation"] not in ACTIVATION_NAMES:
        raise ValueError(f"activation: expected one of {ACTIVATION_NAMES}, got {s['activation']!r}")
    for name, (low, high, _) in RANGES.items():
        if not low <= s[name] <= high:
            raise ValueError(f"{name}: expected a value in [{low}, {high}], got {s[name]!r}")
    return s


def explorer_matrix(kind="real", r1=0.9, r2=0.5, angle=30.0, shear=0.0, **_) -> np.ndarray:
    """The explorer's W_hh (2, 2) for one setting of the sliders.

    kind "real": eigenvalues r1, r2, W = [[r1, shear], [0, r2]] (`spectra.triangular_2x2`);
    kind "complex": eigenvalues r1 e^{+-i angle} with angle in degrees (`spectra.complex_pair_2x2`).
    In both, shear is the departure from normality. Extra keyword arguments are ignored so a
    whole settings dict can be passed.
    """
    if kind == "real":
        return triangular_2x2(r1, r2, shear)
    if kind == "complex":
        return complex_pair_2x2(r1, math.radians(angle), shear)
    raise ValueError(f"kind: expected one of {KINDS}, got {kind!r}")


def explorer_profile(**settings) -> GradientProfile:
    """The `spectra.GradientProfile` the explorer draws for these settings (names as in DEFAULTS)."""
    s = _settings(**settings)
    return gradient_profile(
        explorer_matrix(**s), int(s["T"]), s["activation"], u=s["u"] * U_DIRECTION, h0=H0, escape=ESCAPE
    )


# ----------------------------------------------------------------------------------------------
# Drawing helpers shared by the live explorer and the static figures
# ----------------------------------------------------------------------------------------------


def _clipped(log10_values: np.ndarray) -> np.ndarray:
    """10**values for a log axis spanning Y_LOG10: values beyond it (even +-inf) are pinned a few
    decades outside, so matplotlib clips the line at the axes edge and nothing overflows."""
    lo, hi = Y_LOG10
    return 10.0 ** np.clip(np.nan_to_num(log10_values, nan=lo - 5), lo - 5, hi + 5)


def _norm_note(profile: GradientProfile) -> tuple[str, str]:
    """(short note for the figure, longer sentence) when the curve leaves the panel, else ("", "")."""
    L, T = profile.log_norm, profile.T
    lo, hi = Y_LOG10
    short, long = [], []
    if np.any(L == -np.inf):
        t0 = int(np.argmax(L == -np.inf))
        short.append(f"exactly 0 from t = {t0}")
        long.append(f"∂h_t/∂h_0 is exactly 0 from t = {t0} on" + (f" (W^{t0} = 0)" if profile.activation == "linear" else ""))
    elif np.any(L < lo):
        t0 = int(np.argmax(L < lo))
        short.append(f"clipped below 1e{lo:+.0f} from t = {t0}")
        extra = ", below float64's range (1e-308), yet exact as a log-norm" if L.min() < -308 else ""
        long.append(f"the curve goes down to {format_pow10(L.min())}{extra}")
    if np.any(L > hi):
        t0 = int(np.argmax(L > hi))
        short.append(f"clipped above 1e{hi:+.0f} from t = {t0}")
        extra = ", beyond float64's range (1e+308), yet exact as a log-norm" if L.max() > 308 else ""
        long.append(f"the curve goes up to {format_pow10(L.max())}{extra}")
    return "\n".join(short), "; ".join(long)


def _h_limits(profile: GradientProfile) -> tuple[float, float]:
    """The (equal) x and y limits of the hidden-state panel: fixed for tanh and sigmoid; for a linear
    state the first of H_LINEAR_BOXES that holds the whole trajectory (or the largest)."""
    if profile.activation in H_LIMITS:
        return H_LIMITS[profile.activation]
    reach = float(np.nanmax(np.abs(profile.h)))
    half = next((b for b in H_LINEAR_BOXES if 1.05 * reach <= b), H_LINEAR_BOXES[-1])
    return (-half, half)


def _trajectory_note(profile: GradientProfile) -> str:
    lo, hi = _h_limits(profile)
    h = profile.h
    if profile.escaped_at is not None:
        return f"|h_t| > 1e100 at t = {profile.escaped_at}: stopped"
    with np.errstate(invalid="ignore"):
        outside = np.nonzero(np.any((h < lo) | (h > hi), axis=1))[0]
    if outside.size:
        return f"h_t leaves the plot at t = {outside[0]}"
    return ""


def _title(profile: GradientProfile) -> str:
    lam = ", ".join(f"{abs(v):.3g}" for v in profile.eigenvalues)
    gs = profile.gamma * profile.sigma_max
    circle = " (dash-dot circle)" if profile.gamma != 1 else ""
    return (f"|λ| = {lam} · ρ(W) = {profile.rho:.3g} · σ_max(W) = {profile.sigma_max:.3g} "
            f"(dotted circle) · γ = {profile.gamma:g} · γ σ_max = {gs:.3g}{circle}")


def _circle_note(profile: GradientProfile) -> str:
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


def _style_norm_axes(ax, T: int):
    ax.set_yscale("log")
    ax.set_ylim(10.0 ** Y_LOG10[0], 10.0 ** Y_LOG10[1])
    ax.set_xlim(0, T)
    ax.set_yticks([10.0**k for k in range(int(Y_LOG10[0]), int(Y_LOG10[1]) + 1, 10)])
    ax.set_yticks([10.0**k for k in range(int(Y_LOG10[0]), int(Y_LOG10[1]) + 1, 5)], minor=True)
    ax.set_yticklabels([], minor=True)
    ax.axhline(1.0, color="#CFD8DC", lw=0.8, zorder=0)
    ax.set_xlabel("step $t$")
    ax.set_ylabel(r"$\|\partial h_t / \partial h_0\|_2$")


def _style_eig_axes(ax):
    z = np.exp(1j * np.linspace(0, 2 * np.pi, 181))
    ax.plot(z.real, z.imag, color=COLORS["unit"], lw=1.2)
    ax.axhline(0, color="#ECEFF1", lw=0.8, zorder=0)
    ax.axvline(0, color="#ECEFF1", lw=0.8, zorder=0)
    ax.set_xlim(-EIG_LIMIT, EIG_LIMIT)
    ax.set_ylim(-EIG_LIMIT, EIG_LIMIT)
    ax.set_aspect("equal")
    ax.set_xlabel(r"Re $\lambda$")
    ax.set_ylabel(r"Im $\lambda$", labelpad=0)
    ax.set_title("eigenvalues of $W_{hh}$", fontsize=10)


def _style_h_axes(ax, activation: str, limits: tuple[float, float]):
    lo, hi = limits
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    ax.set_xlabel("$h_t[0]$")
    ax.set_ylabel("$h_t[1]$", labelpad=0)
    ax.set_title(f"hidden state, f = {activation}", fontsize=10)


def _range_square(ax) -> Rectangle:
    """A dashed square (hidden at first) for the range of a bounded f in the hidden-state panel."""
    square = Rectangle((0, 0), 1, 1, fill=False, ec="#B0BEC5", lw=0.8, ls="--", zorder=0, visible=False)
    ax.add_patch(square)
    return square


def _show_range(square: Rectangle, activation: str):
    """Fit the square to the range of f (tanh: [-1, 1]^2, sigmoid: [0, 1]^2); hide it for linear."""
    if activation in F_RANGES:
        lo, hi = F_RANGES[activation]
        square.set_bounds(lo, lo, hi - lo, hi - lo)
    square.set_visible(activation in F_RANGES)


# ----------------------------------------------------------------------------------------------
# The live explorer
# ----------------------------------------------------------------------------------------------


class EigenvalueExplorer:
    """The widget of notebook 05 and handles for testing it (build it with `eigenvalue_explorer`).

    Attributes: widget (the ipywidgets box to display), controls (name -> widget, names as in
    DEFAULTS), figure (the matplotlib Figure, never shown through pyplot), axes (norm, eig, h),
    lines (the artists each update rewrites), texts (the notes written in the panels, name ->
    str, "" for none; names as in NOTE_PLACES), profile (the last `GradientProfile`),
    verdict (the last verdict line, also the image's title), info (the line of numbers under the
    image), png (the last image bytes), error (None, or "error: ..." when the last
    callback raised; errors keeps them all), full_redraws and axis_redraws (how often the axes,
    and the t axis alone, were redrawn, for the benchmark).
    """

    def __init__(self, **settings):
        s = _settings(**settings)
        self._build_controls(s)
        self._build_figure(s)
        self.image = widgets.Image(format="png", layout=widgets.Layout(width="100%", max_width="960px"))
        self.verdict_html = widgets.HTML()
        self.full_redraws = 0
        self.axis_redraws = 0
        self.error = None
        self.errors = []
        self._holding = False
        self._layout_key = None
        self._t_end = None
        self._background = None
        self._background_t = None
        c = self.controls
        self.widget = widgets.VBox(
            [
                widgets.HBox([c["kind"], c["activation"]]),
                widgets.HBox([widgets.VBox([c["r1"], c["r2"], c["angle"]]), widgets.VBox([c["shear"], c["u"], c["T"]])]),
                self.image,
                self.verdict_html,
            ]
        )
        for control in c.values():
            control.observe(self._on_change, names="value")
        self.update()

    # -- construction ---------------------------------------------------------------------------

    def _build_controls(self, s: dict):
        style = {"description_width": "64px"}
        layout = widgets.Layout(width="330px")

        def slider(name, description, cls=widgets.FloatSlider, fmt=".2f"):
            low, high, step = RANGES[name]
            return cls(value=s[name], min=low, max=high, step=step, description=description,
                       readout_format=fmt if cls is widgets.FloatSlider else "d",
                       continuous_update=True, style=style, layout=layout)

        self.controls = {
            "kind": widgets.ToggleButtons(options=[("real λ₁, λ₂", "real"), ("complex r·e^(±iθ)", "complex")],
                                          value=s["kind"], description="eigenvalues", style=style),
            "activation": widgets.ToggleButtons(options=list(ACTIVATION_NAMES), value=s["activation"],
                                                description="f", style={"description_width": "20px"}),
            "r1": slider("r1", "|λ₁| or r"),
            "r2": slider("r2", "|λ₂|"),
            "angle": slider("angle", "θ (deg)", fmt=".0f"),
            "shear": slider("shear", "shear s", fmt=".1f"),
            "u": slider("u", "input u"),
            "T": slider("T", "steps T", cls=widgets.IntSlider),
        }
        self._sync_enabled()

    def _sync_enabled(self):
        complex_pair = self.controls["kind"].value == "complex"
        self.controls["r2"].disabled = complex_pair  # a complex pair has one modulus
        self.controls["angle"].disabled = not complex_pair

    def _build_figure(self, s: dict):
        fig = Figure(figsize=(11.0, 3.8), dpi=80)
        FigureCanvasAgg(fig)
        gs = fig.add_gridspec(1, 3, width_ratios=[1.9, 1, 1], left=0.065, right=0.985, bottom=0.13, top=0.84,
                              wspace=0.3)
        ax_n, ax_e, ax_h = (fig.add_subplot(g) for g in gs)
        self.figure, self.axes = fig, {"norm": ax_n, "eig": ax_e, "h": ax_h}
        _style_norm_axes(ax_n, s["T"])
        _style_eig_axes(ax_e)
        self._range_square = _range_square(ax_h)
        anim = dict(animated=True)
        self.lines = {
            "norm": ax_n.plot([], [], color=COLORS["norm"], lw=2.0, label=r"$\|\partial h_t/\partial h_0\|$", **anim)[0],
            "rho": ax_n.plot([], [], color=COLORS["rho"], lw=1.3, ls="--", label=r"$\rho^t$", **anim)[0],
            "bound": ax_n.plot([], [], color=COLORS["bound"], lw=1.3, ls=":", label=r"$(\gamma\sigma_{max})^t$", **anim)[0],
            "eig": ax_e.plot([], [], ls="none", marker="X", ms=9, color=COLORS["eig"], **anim)[0],
            "sigma": ax_e.plot([], [], color=COLORS["bound"], lw=1.0, ls=":", **anim)[0],  # |z| = sigma_max
            "gsigma": ax_e.plot([], [], color=COLORS["gsigma"], lw=1.0, ls="-.", **anim)[0],  # |z| = gamma sigma_max
            "h_path": ax_h.plot([], [], color="#90A4AE", lw=0.7, **anim)[0],  # the first 60 steps
            "h_points": ax_h.plot([], [], ls="none", marker=".", ms=3, color=COLORS["norm"], **anim)[0],
            "h0": ax_h.plot([], [], ls="none", marker="o", ms=6, color="k", **anim)[0],
            "hT": ax_h.plot([], [], ls="none", marker="s", ms=6, color=COLORS["eig"], **anim)[0],
        }
        ax_n.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), fontsize=9, ncol=3, frameon=False,
                    borderaxespad=0.1)
        # Text is the slowest thing Agg draws: the numbers go to the HTML line under the image, and
        # the verdict (title) and the notes are written onto the frame by Pillow (see _overlay).
        self.texts = {name: "" for name in NOTE_PLACES}
        self._animated = list(self.lines.values())
        font_file = font_manager.findfont("DejaVu Sans")
        self._title_font = ImageFont.truetype(font_file, TITLE_PX)
        self._note_font = ImageFont.truetype(font_file, NOTE_PX)

    # -- updates --------------------------------------------------------------------------------

    def settings(self) -> dict:
        """The current slider values, {name: value} with the names of DEFAULTS."""
        return {name: control.value for name, control in self.controls.items()}

    def set(self, **settings):
        """Move several controls at once (names as in DEFAULTS; the others are left alone), redraw once.

        Unlike a slider's callback, this raises: a bad setting is a ValueError naming it.
        """
        s = _settings(**{**self.settings(), **settings})
        self._holding = True
        try:
            for name, value in s.items():
                self.controls[name].value = value
        finally:
            self._holding = False
        self._sync_enabled()
        self.update()

    def _on_change(self, change):
        """The controls' callback. ipykernel only logs what a callback raises, out of the reader's
        sight, so any exception is caught here and shown under the image as "error: ..."."""
        if self._holding:
            return
        try:
            if change["owner"] is self.controls["kind"]:
                self._sync_enabled()
            self.update()
        except Exception as exc:  # noqa: BLE001 -- shown to the reader, never swallowed
            self._show_error(exc)

    def _show_error(self, exc: BaseException):
        self.error = f"error: {type(exc).__name__}: {exc}"
        self.errors.append(self.error)
        trace = "".join(traceback.format_exception(exc))
        self.verdict_html.value = (f'<b style="color:#C62828">{html.escape(self.error)}</b>'
                                   f"<details><summary>traceback</summary><pre>{html.escape(trace)}</pre></details>")

    def update(self):
        """Recompute for the current settings and redraw the image (called by every control)."""
        s = self.settings()
        p = explorer_profile(**s)
        self.profile = p
        T = p.T
        t = np.arange(T + 1)
        self.lines["norm"].set_data(t, _clipped(p.log_norm))
        self.lines["rho"].set_data(t, _clipped(p.log_rho))
        self.lines["bound"].set_data(t, _clipped(p.log_bound))
        note, note_long = _norm_note(p)
        self._set_text("note", note)

        lam = p.eigenvalues
        self.lines["eig"].set_data(lam.real, lam.imag)
        z = np.exp(1j * np.linspace(0, 2 * np.pi, 181))
        self.lines["sigma"].set_data(p.sigma_max * z.real, p.sigma_max * z.imag)
        gs = p.gamma * p.sigma_max
        self.lines["gsigma"].set_data(gs * z.real, gs * z.imag)
        self.lines["gsigma"].set_visible(p.gamma != 1)  # for gamma = 1 it is the sigma_max circle
        self._set_text("eig", _circle_note(p))

        n = T + 1 if p.escaped_at is None else p.escaped_at + 1
        h = p.h[:n]
        self.lines["h_path"].set_data(h[:61, 0], h[:61, 1])  # a line through the first 60 steps
        self.lines["h_points"].set_data(h[:, 0], h[:, 1])
        self.lines["h0"].set_data(h[:1, 0], h[:1, 1])
        self.lines["hT"].set_data(h[-1:, 0], h[-1:, 1])
        self._set_text("h", _trajectory_note(p))

        self.verdict = verdict(p)
        self.info = _title(p) + (f" · note: {note_long}" if note_long else "")
        self._render((p.activation, _h_limits(p)), T)
        self.error = None
        self.verdict_html.value = f"<b>{html.escape(self.verdict)}</b><br>{html.escape(self.info)}"

    def _set_text(self, name: str, text: str):
        self.texts[name] = text

    def _render(self, layout_key, T: int):
        canvas = self.figure.canvas
        ax_n = self.axes["norm"]
        if layout_key != self._layout_key:  # a new box for h (or a new f): redraw the axes, cache them
            activation, h_limits = layout_key
            _style_h_axes(self.axes["h"], activation, h_limits)  # limits, labels, title: no new artists
            _show_range(self._range_square, activation)
            ax_n.xaxis.set_visible(False)  # the t axis is a layer of its own, drawn below
            try:
                canvas.draw()  # animated artists are skipped: this is the background
            finally:
                ax_n.xaxis.set_visible(True)
            self._background = canvas.copy_from_bbox(self.figure.bbox)
            self._layout_key, self._t_end = layout_key, None
            self.full_redraws += 1
        if T != self._t_end:  # the t axis runs from 0 to T: redraw its ticks and labels only
            canvas.restore_region(self._background)
            ax_n.set_xlim(0, T)
            ax_n.draw_artist(ax_n.xaxis)
            self._background_t = canvas.copy_from_bbox(self.figure.bbox)
            self._t_end = T
            self.axis_redraws += 1
        canvas.restore_region(self._background_t)
        for artist in self._animated:
            if artist.get_visible():
                artist.axes.draw_artist(artist)
        rgba = np.asarray(canvas.buffer_rgba())  # (height, width, 4), a view of Agg's buffer
        height, width = rgba.shape[:2]
        frame = Image.frombuffer("RGBA", (width, height), rgba, "raw", "RGBA", 0, 1).convert("RGB")
        self._overlay(frame)
        buffer = io.BytesIO()
        frame.save(buffer, format="png", compress_level=1)
        self.png = buffer.getvalue()
        self.image.value = self.png

    def _overlay(self, frame: Image.Image):
        """Write the title (the verdict) and the panels' notes onto the rendered frame, with Pillow."""
        draw = ImageDraw.Draw(frame)
        width, height = frame.size
        draw.text((width / 2, TITLE_PX / 2), self.verdict, font=self._title_font, fill=(0, 0, 0), anchor="mt")
        pad = 3
        for name, text in self.texts.items():
            if not text:
                continue
            ax_name, anchor, horizontal, vertical = NOTE_PLACES[name]
            x, y = self.axes[ax_name].transAxes.transform(anchor)
            y = height - y  # display y runs up, image rows run down
            left, top, right, bottom = draw.multiline_textbbox((0, 0), text, font=self._note_font, spacing=2)
            w, h = right - left, bottom - top
            x0 = x - w - pad if horizontal == "right" else x + pad
            y0 = y - h - pad if vertical == "bottom" else y + pad
            draw.rounded_rectangle((x0 - pad, y0 - pad, x0 + w + pad, y0 + h + pad), radius=3, fill=(255, 255, 255),
                                   outline=(207, 216, 220))
            draw.multiline_text((x0 - left, y0 - top), text, font=self._note_font, fill=(0, 0, 0), spacing=2)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def eigenvalue_explorer(**settings) -> EigenvalueExplorer:
    """Build notebook 05's eigenvalue explorer; display the result (or its `.widget`) in a cell.

    settings: starting values by name, any of kind ("real" | "complex"), r1, r2, angle (degrees),
    shear, activation ("linear" | "tanh" | "sigmoid"), u, T; the rest from DEFAULTS. Ranges are in
    RANGES. The widget is 2-D: W_hh is `explorer_matrix(...)`, h_0 = H0, input u * U_DIRECTION.
    """
    return EigenvalueExplorer(**settings)


# ----------------------------------------------------------------------------------------------
# Static figures: the regimes side by side (under the widget, and in the README gallery)
# ----------------------------------------------------------------------------------------------


def _describe(s: dict) -> str:
    if s["kind"] == "complex":
        eig = rf"$\lambda = {s['r1']:g}\,e^{{\pm i {s['angle']:g}°}}$"
    else:
        eig = rf"$\lambda = {s['r1']:g}, {s['r2']:g}$"
    extra = f", s = {s['shear']:g}" if s["shear"] else ""
    extra += f", u = {s['u']:g}" if s["u"] else ""
    return f"{eig}{extra}, f = {s['activation']}"


def _coinciding(p: GradientProfile, W: np.ndarray) -> str:
    """Which of the three curves lie on top of each other, for a title line ("" if none do)."""
    ok = np.isfinite(p.log_norm) & np.isfinite(p.log_rho) & np.isfinite(p.log_bound)
    if not ok[1:].any():
        return ""
    same = lambda x, y: bool(np.allclose(x[ok], y[ok], atol=1e-6))  # noqa: E731
    why = " (normal W)" if departure_from_normality(W) < 1e-6 else ""  # sqrt of rounding errors: ~1e-8
    if same(p.log_rho, p.log_bound) and same(p.log_norm, p.log_rho):
        return "all three curves coincide" + why
    if same(p.log_rho, p.log_bound):
        return r"$\rho^t$ and $(\gamma\sigma_{max})^t$ coincide" + why
    return ""


def regimes_figure(regimes: dict | None = None) -> Figure:
    """The regimes side by side: ||dh_t/dh_0|| with its bounds (top) and the hidden state (bottom).

    regimes: {name: settings} (names of DEFAULTS), by default REGIMES (vanishing, exploding,
    non-normal transient growth, tanh saturation). Returns a pyplot Figure (end the cell with
    plt.show()). Notebook 05; `rnnlib.figures` saves it as figures/05-regimes.svg.
    """
    regimes = REGIMES if regimes is None else regimes
    n = len(regimes)
    fig, axs = plt.subplots(2, n, figsize=(3.6 * n, 6.6), gridspec_kw=dict(height_ratios=[1.15, 1]),
                            squeeze=False)
    for j, (name, settings) in enumerate(regimes.items()):
        s = _settings(**settings)
        p = explorer_profile(**s)
        ax = axs[0, j]
        t = np.arange(p.T + 1)
        _style_norm_axes(ax, p.T)
        ax.plot(t, _clipped(p.log_rho), color=COLORS["rho"], lw=1.3, ls="--", label=r"$\rho^t$")
        ax.plot(t, _clipped(p.log_bound), color=COLORS["bound"], lw=1.3, ls=":", label=r"$(\gamma\sigma_{max})^t$")
        ax.plot(t, _clipped(p.log_norm), color=COLORS["norm"], lw=2.0, label=r"$\|\partial h_t/\partial h_0\|$")
        clip_note, _ = _norm_note(p)
        if clip_note:
            ax.text(0.97, 0.96, clip_note, transform=ax.transAxes, ha="right", va="top", fontsize=8.5)
        word = verdict(p).split(":")[0]
        finite = p.log_norm[np.isfinite(p.log_norm)]
        lo = max(Y_LOG10[0], math.floor(min(finite.min(), -4.0)) - 1)
        hi = min(Y_LOG10[1], math.ceil(max(finite.max(), 4.0)) + 1)
        ax.set_ylim(10.0**lo, 10.0**hi)
        step = 2 if hi - lo <= 12 else 5 if hi - lo <= 30 else 10
        ax.set_yticks([10.0**k for k in range(int(lo), int(hi) + 1) if k % step == 0])
        ax.set_yticks([], minor=True)
        title = (f"{name}\n{_describe(s)}\nρ = {p.rho:.3g}, σ_max = {p.sigma_max:.3g}; "
                 f"end {format_pow10(p.log_norm[-1])}: {word}")
        coincide = _coinciding(p, explorer_matrix(**s))
        if coincide:
            title += f"\n{coincide}"
        ax.set_title(title, fontsize=10, pad=10)  # pad: clear of the top tick label
        if j:
            ax.set_ylabel("")
        else:
            ax.legend(loc="upper left", fontsize=8.5, frameon=False)
        axh = axs[1, j]
        _style_h_axes(axh, p.activation, _h_limits(p))
        _show_range(_range_square(axh), p.activation)
        m = p.T + 1 if p.escaped_at is None else p.escaped_at + 1
        h = p.h[:m]
        axh.plot(h[:61, 0], h[:61, 1], color="#78909C", lw=0.7)
        axh.scatter(h[:, 0], h[:, 1], s=6, c=np.arange(m) / p.T, cmap="viridis", vmin=0, vmax=1, zorder=3)
        axh.plot(*h[0], "ko", ms=5)
        note = _trajectory_note(p)
        if note:
            axh.text(0.03, 0.97, note, transform=axh.transAxes, va="top", fontsize=8.5)
        if j:
            axh.set_ylabel("")
    fig.suptitle("The spectrum sets the long run, σ_max bounds each step, and tanh can tame ρ > 1", fontsize=12)
    fig.tight_layout()
    return fig


FIGURES = {"05-regimes.svg": regimes_figure}
