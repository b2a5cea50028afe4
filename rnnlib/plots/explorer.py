"""Notebook 05's eigenvalue explorer: the ipywidgets instrument (its numbers: `rnnlib.spectra`).

`eigenvalue_explorer()` builds the widget. Controls: a preset menu (one click sets every control
to a named regime of `spectra.PRESETS`; moving any control afterwards shows "custom"), the matrix
kind (2 x 2 with real eigenvalues lambda_1, lambda_2 of either sign, 2 x 2 with a complex pair
r e^{+-i theta}, the 8 x 8 matrix of 05 section 5, a random or an orthogonal H x H matrix), the
activation (linear, tanh, sigmoid, relu), sliders for the eigenvalues, the shear (non-normality),
the size H, a constant input u, the initial state h_0, the number of steps T and a time scrubber t.
One image redrawn on every change, with the verdict as its title line and five panels:

    1. ||dh_t/dh_0|| over t on a log scale, with rho^t and (gamma sigma_max)^t, and the scrubbed t;
    2. under it, f'(a_t) of the first two units (for H > 2: the mean and the smallest over units);
    3. the eigenvalues in the complex plane with the unit circle, the circle |z| = sigma_max, for the
       sigmoid |z| = gamma sigma_max, and the dashed circle of the average rate up to t,
       ||dh_t/dh_0||^(1/t);
    4. the hidden trajectory h_0 ... h_T (for H > 2 its first two principal components), h_t ringed;
    5. the unit circle and its image under dh_t/dh_0 at the scrubbed t: an ellipse whose semi-axes
       are sigma_max and sigma_min of the product (drawn scaled, with a note, when it is too big or
       small for the panel). This is the picture of non-normal growth: all |lambda| < 1, yet the
       circle is stretched far outside itself.

Under the image: the preset's one-line story and the numbers (rho, sigma_max, gamma ...), each in
a fixed-height line whose items never break inside a number; the widget keeps its height while
the controls move. An exception inside a callback is caught and shown in red under the image as
"error: ...", never swallowed (ipykernel would only log it on the server).

Speed: the figure is built once. An update sets the artists' data and redraws only them over a
cached background (blitting), then encodes the canvas as PNG (`png_bytes`: lossless, twice as
fast as Pillow's writer). The backgrounds (the axes, and the t axes over them) are cached per box of
the state panel, kind of state labels (h_t or principal components) and T (see `_render`). Text
that changes with the controls (the title line, the notes) is rendered by Pillow once per distinct
string and copied onto the finished frame, much faster than Agg's text. Each update holds BLAS to
one thread (`one_blas_thread`, through threadpoolctl): its hundreds of small products and LAPACK
calls only lose when OpenBLAS wakes a second thread on a busy 2-core machine. Recent profiles are
cached (up to CACHED_PROFILE_BYTES), so moving the scrubber t, or going back to a preset, redraws
without recomputing (for H > 8 the scrubber regrows the product at t from the nearest one the
profile keeps: `spectra.product_at`). `benchmarks/bench_explorer.py` measures every control.

Tests drive it without a browser: set `explorer.controls[name].value` and read `explorer.lines`,
`explorer.texts`, `explorer.verdict`, `explorer.profile`, `explorer.error`.
"""

from __future__ import annotations

import html
import struct
import traceback
import zlib

import ipywidgets as widgets
import numpy as np
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image, ImageDraw, ImageFont
from threadpoolctl import ThreadpoolController

from ..spectra import (
    EXPLORER_ACTIVATIONS,
    EXPLORER_DEFAULTS,
    EXPLORER_RANGES,
    PRESETS,
    explorer_controls_used,
    explorer_profile,
    explorer_settings,
    format_pow10,
    log_singular_values_at,
    product_at,
    unit_circle_image,
    verdict,
)
from .._checks import check_choice
from . import explorer_figure as F

__all__ = ["EigenvalueExplorer", "eigenvalue_explorer", "CUSTOM", "SLIDERS", "KIND_LABELS"]

CUSTOM = "custom"
SLIDERS = ("r1", "r2", "angle", "shear", "size", "u", "h0_1", "h0_2", "T", "t")
KIND_LABELS = {"real": "2×2, real λ₁, λ₂", "complex": "2×2, complex r·e^(±iθ)", "8x8 example": "8×8 of §5",
               "random": "random H×H, ρ = |λ₁|", "orthogonal": "orthogonal H×H, times λ₁"}
DESCRIPTIONS = {"r1": "λ₁ or r", "r2": "λ₂", "angle": "θ (deg)", "shear": "shear s", "size": "size H",
                "u": "input u", "h0_1": "h₀[0]", "h0_2": "h₀[1]", "T": "steps T", "t": "scrub t"}
TITLE_PX = 12  # the title line over the live figure: font size in pixels
NOTE_PX = 10  # the notes in its panels
NOTE_PLACES = {  # note name -> (axes, anchor (x, y) in axes coordinates, horizontal, vertical side)
    "note": ("norm", (0.99, 0.03), "right", "bottom"),  # the curve left the panel
    "eig": ("eig", (0.03, 0.03), "left", "bottom"),  # a circle is drawn beyond the panel
    "h": ("h", (0.03, 0.97), "left", "top"),  # the state left the panel
    "f": ("h", (0.97, 0.97), "right", "top"),  # the activation
    "fprime": ("fprime", (0.99, 0.5), "right", "bottom"),  # dead ReLU units
    "ellipse": ("ellipse", (0.03, 0.97), "left", "top"),  # sigma_max, sigma_min of the product at t
}
CACHED_LAYERS = 12  # backgrounds kept of each layer (about 1.4 MB each)
CACHED_TEXTS = 200  # rendered titles and notes kept (a few kB each)
# Recent profiles kept (going back to a preset or an activation recomputes nothing), up to this many
# bytes of products: dozens of 2 x 2 ones, or of 64 x 64 ones with T = 1000 (2.2 MB each: only the
# products at the norm steps are kept, see `spectra.GradientProfile`).
CACHED_PROFILE_BYTES = 40_000_000
# Two lines of fixed height under the image (story, numbers): the widget keeps its height however
# the text wraps, and no number is broken across lines ("3.1e-" / "62").
LINE_CSS = "height:3.2em; line-height:1.6em; overflow:hidden"


_BLAS = []  # the ThreadpoolController of this process, made on the first update (it costs about 1 ms)


def one_blas_thread():
    """A context manager that holds BLAS (numpy's OpenBLAS) to one thread in its block and restores
    the previous count on leaving, through `threadpoolctl`. An update makes hundreds of small BLAS and
    LAPACK calls (64 x 64 products, eigenvalues, a PCA); with OpenBLAS's default threads some of them
    wake a second thread, which on a 2-core machine shared with other work spins beside the main one
    or makes the call wait for it. Only the update is limited, never the rest of the kernel."""
    if not _BLAS:
        _BLAS.append(ThreadpoolController())
    return _BLAS[0].limit(limits=1, user_api="blas")


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def png_bytes(rgb: np.ndarray) -> bytes:
    """The PNG file of an RGB image (height, width, 3) uint8: lossless, every row with the "Up" filter
    (its difference from the row above), zlib level 1. Twice as fast as Pillow's writer at level 1,
    whose adaptive per-row filter choice costs more than the compression (4 ms against 8 ms for the
    1000 x 344 frame), for a file about 20 % larger (60 kB)."""
    height, width = rgb.shape[:2]
    raw = np.empty((height, width * 3 + 1), np.uint8)
    raw[:, 0] = 2  # filter type Up
    rows = raw[:, 1:].reshape(height, width, 3)  # a view of raw
    rows[0] = rgb[0]  # the row above the first is zeros
    np.subtract(rgb[1:], rgb[:-1], out=rows[1:])  # modulo 256, as PNG wants
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8 bits, RGB, deflate, no interlace
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(raw, 1)) + _png_chunk(b"IEND", b""))  # raw: no copy


def _paste(rgb: np.ndarray, tile: np.ndarray, alpha: np.ndarray, x: int, y: int):
    """Put tile (h, w, 3) into rgb at column x, row y, cut at rgb's edges: where alpha (h, w, 1) is True
    (bool), or blended by alpha in 0..255 (uint16)."""
    height, width = rgb.shape[:2]
    h, w = tile.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, width), min(y + h, height)
    if x0 >= x1 or y0 >= y1:
        return
    region = rgb[y0:y1, x0:x1]
    t, a = tile[y0 - y : y1 - y, x0 - x : x1 - x], alpha[y0 - y : y1 - y, x0 - x : x1 - x]
    if a.dtype == bool:  # an opaque box: copied where it is
        np.copyto(region, t, where=a)
    else:  # antialiased text, alpha 0..255: blended in integers, rounded
        region[...] = (t * a + region * (255 - a) + 127) // 255


def _nowrap(items, sep: str = " · ") -> str:
    """Items joined by sep, each in a span that the browser never breaks inside."""
    return sep.join(f'<span style="white-space:nowrap">{html.escape(item)}</span>' for item in items)


class EigenvalueExplorer:
    """The widget of notebook 05 and handles for testing it (build it with `eigenvalue_explorer`).

    Attributes: widget (the ipywidgets box to display), controls (name -> widget: "preset", "kind",
    "activation" and the SLIDERS), figure (the matplotlib Figure, never shown through pyplot), axes
    (norm, fprime, eig, h, ellipse), lines (the artists each update rewrites), texts (the notes
    written in the panels, name -> str, "" for none; names as in NOTE_PLACES), profile (the last
    `GradientProfile`), verdict (the last `spectra.Verdict`, drawn as the image's title), story (the
    preset's line, or "custom"), info (the numbers under the image), png (the last image bytes), error
    (None, or "error: ..." when the last callback raised; errors keeps them all), full_redraws (how
    often the axes were redrawn) and axis_redraws (the t axes alone), for the benchmark.
    """

    def __init__(self, **settings):
        s = explorer_settings(**settings)
        self._build_controls(s)
        self._build_figure()
        self.image = widgets.Image(format="png", layout=widgets.Layout(width="100%", max_width="1000px"))
        self.story_html = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.info_html = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.error_html = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.full_redraws = 0
        self.error = None
        self.errors = []
        self._holding = False
        self.axis_redraws = 0
        self._backgrounds = {}  # cached layers, oldest first (see _render)
        self._tiles = {}  # rendered texts, oldest first (see _text_tile)
        self._t_layers = {}
        self._profile_key = None
        self._profiles = {}  # settings without t -> (profile, state_xy, verdict), oldest first
        c = self.controls
        row = dict(flex_flow="row wrap", width="100%")
        self.widget = widgets.VBox(
            [
                widgets.HBox([c["preset"], c["kind"]], layout=widgets.Layout(**row)),
                widgets.HBox([c["activation"]], layout=widgets.Layout(**row)),  # its label stays with its buttons
                widgets.HBox([c[name] for name in SLIDERS], layout=widgets.Layout(**row)),
                self.image,
                self.story_html,
                self.info_html,
                self.error_html,
            ],
            layout=widgets.Layout(width="100%", overflow="hidden"),
        )
        for control in c.values():
            control.observe(self._on_change, names="value")
        self.update()

    # -- construction ---------------------------------------------------------------------------

    def _build_controls(self, s: dict):
        style = {"description_width": "58px"}
        layout = widgets.Layout(width="245px")

        def slider(name, fmt=".2f"):
            low, high, step = EXPLORER_RANGES[name]
            integer = isinstance(step, int)
            cls = widgets.IntSlider if integer else widgets.FloatSlider
            extra = {} if integer else dict(readout_format=fmt)
            return cls(value=s[name], min=low, max=high, step=step, description=DESCRIPTIONS[name],
                       continuous_update=True, style=style, layout=layout, **extra)

        self.controls = {
            "preset": widgets.Dropdown(options=[CUSTOM, *PRESETS], value=CUSTOM, description="preset",
                                       style={"description_width": "44px"}, layout=widgets.Layout(width="280px")),
            "kind": widgets.Dropdown(options=[(label, kind) for kind, label in KIND_LABELS.items()], value=s["kind"],
                                     description="W_hh", style={"description_width": "40px"},
                                     layout=widgets.Layout(width="250px")),
            "activation": widgets.ToggleButtons(options=list(EXPLORER_ACTIVATIONS), value=s["activation"],
                                                description="f", style={"description_width": "14px",
                                                                        "button_width": "78px"}),
        }
        for name in SLIDERS:
            self.controls[name] = slider(name, fmt=".0f" if name == "angle" else ".1f" if name == "shear" else ".2f")
        self.controls["t"].max = s["T"]
        self._sync_enabled()

    def _sync_enabled(self):
        used = explorer_controls_used(self.controls["kind"].value)
        for name in ("r1", "r2", "angle", "shear", "size"):
            self.controls[name].disabled = name not in used
        self.controls["t"].max = self.controls["T"].value

    def _build_figure(self):
        fig = Figure(figsize=(12.5, 4.3), dpi=80)
        FigureCanvasAgg(fig)
        outer = fig.add_gridspec(2, 4, width_ratios=[1.9, 1, 1, 1], height_ratios=[2.6, 1], left=0.06, right=0.99,
                                 bottom=0.12, top=0.86, wspace=0.28, hspace=0.12)
        ax_n = fig.add_subplot(outer[0, 0])
        ax_f = fig.add_subplot(outer[1, 0], sharex=ax_n)
        ax_e, ax_h, ax_c = (fig.add_subplot(outer[:, j]) for j in (1, 2, 3))
        self.figure = fig
        self.axes = {"norm": ax_n, "fprime": ax_f, "eig": ax_e, "h": ax_h, "ellipse": ax_c}
        F.style_norm_axes(ax_n, 100)
        ax_n.tick_params(labelbottom=False)
        F.style_fprime_axes(ax_f, 100)
        F.style_eig_axes(ax_e)
        F.style_ellipse_axes(ax_c)
        for ax in (ax_e, ax_h, ax_c):  # titles at the top edge, where matplotlib would put them anyway (no
            ax.set_title(ax.get_title(), fontsize=10, y=1.0)  # ticks above): it skips measuring the tick labels
        self._range_square = F.range_square(ax_h)
        anim = dict(animated=True)
        C = F.COLORS
        self.lines = {
            "norm": ax_n.plot([], [], color=C["norm"], lw=2.0, label=F.LABELS["norm"], **anim)[0],
            "rho": ax_n.plot([], [], color=C["rho"], lw=1.3, ls="--", label=F.LABELS["rho"], **anim)[0],
            "bound": ax_n.plot([], [], color=C["bound"], lw=1.3, ls=":", label=F.LABELS["bound"], **anim)[0],
            "t_norm": ax_n.plot([], [], color=C["marker"], lw=1.0, **anim)[0],  # the scrubbed step t
            "f1": ax_f.plot([], [], color=C["f1"], lw=1.0, **anim)[0],
            "f2": ax_f.plot([], [], color=C["f2"], lw=1.0, **anim)[0],
            "t_fprime": ax_f.plot([], [], color=C["marker"], lw=1.0, **anim)[0],
            "eig": ax_e.plot([], [], ls="none", marker="X", ms=8, color=C["eig"], **anim)[0],
            "sigma": ax_e.plot([], [], color=C["bound"], lw=1.0, ls=":", **anim)[0],  # |z| = sigma_max
            "gsigma": ax_e.plot([], [], color=C["gsigma"], lw=1.0, ls="-.", **anim)[0],  # |z| = gamma sigma_max
            "rate": ax_e.plot([], [], color=C["marker"], lw=1.0, ls="--", **anim)[0],  # ||dh_t/dh_0||^(1/t)
            "h_path": ax_h.plot([], [], color="#90A4AE", lw=0.7, **anim)[0],  # the first 60 steps
            "h_points": ax_h.plot([], [], ls="none", marker=".", ms=3, color=C["norm"], **anim)[0],
            "h0": ax_h.plot([], [], ls="none", marker="o", ms=6, color="k", **anim)[0],
            "hT": ax_h.plot([], [], ls="none", marker="s", ms=6, color=C["eig"], **anim)[0],
            "ht": ax_h.plot([], [], ls="none", marker="o", ms=10, mfc="none", mew=1.6, color=C["marker"], **anim)[0],
            "ellipse": ax_c.plot([], [], color=C["norm"], lw=1.8, **anim)[0],
            "axis_max": ax_c.plot([], [], color=C["bound"], lw=1.4, **anim)[0],  # semi-axis sigma_max
            "axis_min": ax_c.plot([], [], color=C["rho"], lw=1.4, **anim)[0],  # semi-axis sigma_min
        }
        ax_n.legend(handles=[self.lines[k] for k in ("norm", "rho", "bound")], loc="lower left",
                    bbox_to_anchor=(0.0, 1.0), fontsize=9, ncol=3, frameon=False, borderaxespad=0.1)
        self.texts = {name: "" for name in NOTE_PLACES}
        self._animated = list(self.lines.values())
        font_file = font_manager.findfont("DejaVu Sans")
        self._title_font = ImageFont.truetype(font_file, TITLE_PX)
        self._note_font = ImageFont.truetype(font_file, NOTE_PX)

    # -- updates --------------------------------------------------------------------------------

    def settings(self) -> dict:
        """The current control values, {name: value} with the names of `spectra.EXPLORER_DEFAULTS`."""
        return {name: self.controls[name].value for name in EXPLORER_DEFAULTS}

    def set(self, **settings):
        """Move several controls at once (names as in EXPLORER_DEFAULTS, or preset=NAME), redraw once.

        Unlike a control's callback, this raises: a bad setting is a ValueError naming it. A preset
        sets every other control from `spectra.PRESETS[NAME].settings` over EXPLORER_DEFAULTS.
        """
        preset = settings.pop("preset", CUSTOM)
        if preset != CUSTOM:
            check_choice("preset", preset, [CUSTOM, *PRESETS])
            settings = {**EXPLORER_DEFAULTS, **PRESETS[preset].settings, **settings}
        current = self.settings()
        if "T" in settings and "t" not in settings:  # the scrubber stays at the end, or within 0..T
            settings["t"] = settings["T"] if current["t"] == current["T"] else min(current["t"], settings["T"])
        s = explorer_settings(**{**current, **settings})
        self._holding = True
        try:
            self.controls["T"].value = s["T"]
            self.controls["t"].max = s["T"]
            for name, value in s.items():
                self.controls[name].value = value
            self.controls["preset"].value = preset
        finally:
            self._holding = False
        self._sync_enabled()
        self.update()

    def _on_change(self, change):
        """The controls' callback. ipykernel only logs what a callback raises, out of the reader's
        sight, so any exception is caught here and shown under the image as "error: ..."."""
        if self._holding:
            return
        old, new = change["old"], change["new"]
        if isinstance(new, float) and isinstance(old, (int, float)) and abs(new - old) <= 1e-9 * max(1.0, abs(old)):
            return  # a browser's slider snapped the value to its step (0.95 -> 0.9500000000000002): no move
        try:
            owner = change["owner"]
            if owner is self.controls["preset"]:
                if change["new"] != CUSTOM:
                    self.set(preset=change["new"])
                return
            if owner is self.controls["T"]:
                self._holding = True
                try:  # the scrubber runs over 0..T and stays at the end if it was there
                    at_end = self.controls["t"].value == change["old"]
                    self.controls["t"].max = change["new"]
                    if at_end:
                        self.controls["t"].value = change["new"]
                finally:
                    self._holding = False
            self._holding = True
            try:
                self.controls["preset"].value = CUSTOM  # a moved control leaves the preset
            finally:
                self._holding = False
            if owner is self.controls["kind"]:
                self._sync_enabled()
            self.update()
        except Exception as exc:  # noqa: BLE001 -- shown to the reader, never swallowed
            self._show_error(exc)

    def _show_error(self, exc: BaseException):
        self.error = f"error: {type(exc).__name__}: {exc}"
        self.errors.append(self.error)
        trace = "".join(traceback.format_exception(exc))
        self.error_html.value = (f'<b style="color:#C62828">{html.escape(self.error)}</b>'
                                 f"<details><summary>traceback</summary><pre>{html.escape(trace)}</pre></details>")

    def _current_profile(self, s: dict):
        """The profile of these settings (the scrubber t aside), from a small cache of recent ones."""
        key = tuple((k, v) for k, v in s.items() if k != "t")
        if key != self._profile_key:
            if key not in self._profiles:
                p = explorer_profile(**s)
                self._profiles[key] = (p, F.state_xy(p), verdict(p))
                while len(self._profiles) > 1 and sum(
                        c[0].products.nbytes for c in self._profiles.values()) > CACHED_PROFILE_BYTES:
                    del self._profiles[next(iter(self._profiles))]  # the oldest first, never the newest
            self.profile, self._xy, self.verdict = self._profiles[key]
            self._profile_key = key
        return self.profile

    def update(self):
        """Recompute for the current settings and redraw the image (called by every control), with
        BLAS held to one thread (`one_blas_thread`)."""
        with one_blas_thread():
            self._update()

    def _update(self):
        s = explorer_settings(**self.settings())
        p = self._current_profile(s)
        T, t_s = p.T, s["t"]
        t = np.arange(T + 1)
        steps = p.norm_steps
        self.lines["norm"].set_data(steps, F.clipped(p.log_norm[steps]))
        self.lines["rho"].set_data(t, F.clipped(p.log_rho))
        self.lines["bound"].set_data(t, F.clipped(p.log_bound))
        note, _ = F.norm_note(p)
        self.texts["note"] = note
        ylo, yhi = 10.0 ** F.Y_LOG10[0], 10.0 ** F.Y_LOG10[1]
        self.lines["t_norm"].set_data([t_s, t_s], [ylo, yhi])

        fp = p.fprime[1:]
        if fp.shape[1] == 2:
            f1, f2 = fp[:, 0], fp[:, 1]
        else:
            with np.errstate(invalid="ignore"):
                f1, f2 = fp.mean(axis=1), fp.min(axis=1)
        self.lines["f1"].set_data(t[1:], np.nan_to_num(f1, nan=-1.0))  # NaN (after an escape) off the panel
        self.lines["f2"].set_data(t[1:], np.nan_to_num(f2, nan=-1.0))
        self.lines["t_fprime"].set_data([t_s, t_s], [-0.08, 1.12])
        self.texts["fprime"] = "\n".join(x for x in (
            "" if fp.shape[1] == 2 else f"mean and smallest f' of {fp.shape[1]} units", F.dead_units_note(p)) if x)

        lam = p.eigenvalues
        self.lines["eig"].set_data(lam.real, lam.imag)
        z = np.exp(1j * np.linspace(0, 2 * np.pi, 181))
        self.lines["sigma"].set_data(p.sigma_max * z.real, p.sigma_max * z.imag)
        gs = p.gamma * p.sigma_max
        self.lines["gsigma"].set_data(gs * z.real, gs * z.imag)
        self.lines["gsigma"].set_visible(p.gamma != 1)  # for gamma = 1 it is the sigma_max circle
        log_s = log_singular_values_at(p, t_s)
        rate = 10.0 ** (log_s[0] / t_s) if t_s > 0 and np.isfinite(log_s[0]) else np.nan
        visible_rate = bool(np.isfinite(rate)) and rate < 2 * F.EIG_LIMIT
        if visible_rate:
            self.lines["rate"].set_data(rate * z.real, rate * z.imag)
        self.lines["rate"].set_visible(visible_rate)
        self.texts["eig"] = "\n".join(x for x in (F.circle_note(p), (
            f"- - ‖∂h_t/∂h_0‖^(1/t) = {rate:.3g} at t = {t_s}" if np.isfinite(rate) else "")) if x)

        xy, n = self._xy, (T + 1 if p.escaped_at is None else p.escaped_at + 1)
        limits = F.h_limits(p, xy)
        h = xy[:n]
        self.lines["h_path"].set_data(h[:61, 0], h[:61, 1])  # a line through the first 60 steps
        self.lines["h_points"].set_data(h[:, 0], h[:, 1])
        self.lines["h0"].set_data(h[:1, 0], h[:1, 1])
        self.lines["hT"].set_data(h[-1:, 0], h[-1:, 1])
        self.lines["ht"].set_data(xy[t_s : t_s + 1, 0], xy[t_s : t_s + 1, 1])
        self.lines["ht"].set_visible(bool(np.all(np.isfinite(xy[t_s]))))  # no ring after an escape
        self.texts["h"] = F.trajectory_note(p, xy, limits)
        self.texts["f"] = f"f = {p.activation}"

        points, log_smax = unit_circle_image(p, t_s)
        shift, scale_note = F.ellipse_scale(log_smax)
        k = 10.0 ** (log_smax + shift) if np.isfinite(log_smax) else 0.0
        self.lines["ellipse"].set_data(k * points[:, 0], k * points[:, 1])
        self._semi_axes(p, t_s, log_s, shift)
        sig = [f"σ_max = {format_pow10(log_s[0])}"] + ([f"σ_2 = {format_pow10(log_s[1])}"] if len(log_s) > 2 else [])
        sig.append(f"σ_min = {format_pow10(log_s[-1])}")
        self.texts["ellipse"] = "\n".join([f"t = {t_s}", *sig] + ([scale_note] if scale_note else []))
        known = not np.isnan(log_smax)  # NaN: the state was stopped before t, there is no product
        for name in ("ellipse", "axis_max", "axis_min"):
            self.lines[name].set_visible(known)
        if not known:
            self.texts["ellipse"] = f"t = {t_s}\nh_t stopped at t = {p.escaped_at}:\nno product beyond"

        self.story = PRESETS[self.controls["preset"].value].story if self.controls["preset"].value in PRESETS else (
            "custom: move any control, or pick a preset")
        self.info = " · ".join(F.info_items(p))
        square = p.activation if p.h.shape[1] == 2 and p.activation in F.F_RANGES else None
        self._render((square, limits, p.h.shape[1] > 2, T))
        self.error = None
        self.error_html.value = ""
        self.story_html.value = f'<div style="{LINE_CSS}"><i>{_nowrap(self.story.split(" "), " ")}</i></div>'
        self.info_html.value = f'<div style="{LINE_CSS}; font-size:90%">{_nowrap(F.info_items(p))}</div>'

    def _semi_axes(self, p, t_s: int, log_s, shift: float):
        """The two semi-axes of the ellipse, from the centre (2 x 2: along the left singular vectors)."""
        if not np.all(np.isfinite(log_s)) or p.h.shape[1] != 2:
            major = np.array([1.0, 0.0]) * (10.0 ** (log_s[0] + shift) if np.isfinite(log_s[0]) else 0.0)
            minor = np.array([0.0, 1.0]) * (10.0 ** (log_s[1] + shift) if np.isfinite(log_s[1]) else 0.0)
        else:
            Uu, _, _ = np.linalg.svd(product_at(p, t_s)[0])
            major = Uu[:, 0] * 10.0 ** (log_s[0] + shift)
            minor = Uu[:, 1] * 10.0 ** (log_s[1] + shift)
        self.lines["axis_max"].set_data([0, major[0]], [0, major[1]])
        self.lines["axis_min"].set_data([0, minor[0]], [0, minor[1]])

    def _render(self, layout_key):
        """Blit the animated artists over a cached background, then encode the frame as PNG.

        Two cached layers: the axes without the t axes, keyed by (range square, box of h, H > 2), and on
        it the t axes of the two left panels, keyed by T as well. A few of each are kept, so going back
        to a setting (a preset, an activation) does not redraw the axes again.
        """
        canvas = self.figure.canvas
        square, limits, components, T = layout_key
        axes_key = (square, limits, components)
        t_axes = (self.axes["norm"].xaxis, self.axes["fprime"].xaxis)
        # The axes objects must match the layer blitted under them (limits set the lines' transforms).
        F.style_h_axes(self.axes["h"], limits, components=components)
        F.show_range(self._range_square, square)
        if axes_key not in self._backgrounds:
            for axis in t_axes:
                axis.set_visible(False)
            try:
                canvas.draw()  # animated artists are skipped: this is the background
            finally:
                for axis in t_axes:
                    axis.set_visible(True)
            self._backgrounds[axes_key] = canvas.copy_from_bbox(self.figure.bbox)
            self.full_redraws += 1
            while len(self._backgrounds) > CACHED_LAYERS:
                del self._backgrounds[next(iter(self._backgrounds))]
        if layout_key not in self._t_layers:
            canvas.restore_region(self._backgrounds[axes_key])
            self.axes["norm"].set_xlim(0, T)  # shared with the f' strip
            for axis in t_axes:
                axis.axes.draw_artist(axis)
            self._t_layers[layout_key] = canvas.copy_from_bbox(self.figure.bbox)
            self.axis_redraws += 1
            while len(self._t_layers) > CACHED_LAYERS:
                del self._t_layers[next(iter(self._t_layers))]
        canvas.restore_region(self._t_layers[layout_key])
        self.axes["norm"].set_xlim(0, T)
        for artist in self._animated:
            if artist.get_visible():
                artist.axes.draw_artist(artist)
        # The RGB of Agg's buffer (opaque), copied contiguous (the PNG filter runs 10x slower on a strided view).
        rgb = np.ascontiguousarray(np.asarray(canvas.buffer_rgba())[:, :, :3])  # (height, width, 3): 1.4 ms
        self._overlay(rgb)
        self.png = png_bytes(rgb)
        self.image.value = self.png

    def _overlay(self, rgb: np.ndarray):
        """Write the title (the verdict) and the panels' notes onto the rendered frame (height, width, 3).

        Each distinct text is rendered once by Pillow into a tile (`_text_tile`) and then copied in at
        whole pixels: most notes and titles come back from one update to the next (laying out and
        rasterizing them again cost about 5 ms an update)."""
        height, width = rgb.shape[:2]
        tile, alpha, left = self._text_tile(self.verdict.text, self._title_font, box=False)
        _paste(rgb, tile, alpha, round(width / 2 + left), 0)
        pad = 3
        for name, text in self.texts.items():
            if not text:
                continue
            ax_name, anchor, horizontal, vertical = NOTE_PLACES[name]
            x, y = self.axes[ax_name].transAxes.transform(anchor)
            y = height - y  # display y runs up, image rows run down
            tile, alpha, _ = self._text_tile(text, self._note_font, box=True)
            w, h = tile.shape[1] - 4 * pad - 1, tile.shape[0] - 4 * pad - 1  # the text's own size
            x0 = x - w - pad if horizontal == "right" else x + pad
            y0 = y - h - pad if vertical == "bottom" else y + pad
            _paste(rgb, tile, alpha, round(x0 - 2 * pad), round(y0 - 2 * pad))

    def _text_tile(self, text: str, font, box: bool) -> tuple[np.ndarray, np.ndarray, int]:
        """(RGB tile (h, w, 3), alpha (h, w, 1), left) of a text: black on white in a rounded box with a
        grey border (box=True, the notes; alpha True inside the box, False at its corners; left 0), or
        black text alone with its antialiased coverage 0..255 as alpha (the title line, TITLE_PX / 2
        below the tile's top edge, its centre at -left from the tile's left edge).
        Cached: the CACHED_TEXTS most recent texts."""
        key = (text, font.size, box)
        hit = self._tiles.pop(key, None)
        if hit is None:
            probe = ImageDraw.Draw(Image.new("L", (1, 1)))
            if box:
                pad = 3
                left, top, right, bottom = probe.multiline_textbbox((0, 0), text, font=font, spacing=2)
                w, h = right - left, bottom - top
                shift = 0
                size = (w + 4 * pad + 1, h + 4 * pad + 1)
                tile, mask = Image.new("RGB", size, (255, 255, 255)), Image.new("L", size, 0)
                rect = (pad, pad, pad + w + 2 * pad, pad + h + 2 * pad)
                ImageDraw.Draw(mask).rounded_rectangle(rect, radius=3, fill=255, outline=255)
                draw = ImageDraw.Draw(tile)
                draw.rounded_rectangle(rect, radius=3, fill=(255, 255, 255), outline=(207, 216, 220))
                draw.multiline_text((2 * pad - left, 2 * pad - top), text, font=font, fill=(0, 0, 0), spacing=2)
            else:
                left, top, right, bottom = probe.textbbox((0, 0), text, font=font, anchor="mt")
                size = (right - left + 1, bottom + TITLE_PX // 2 + 1)
                mask = Image.new("L", size, 0)
                ImageDraw.Draw(mask).text((-left, TITLE_PX / 2), text, font=font, fill=255, anchor="mt")
                tile = Image.new("RGB", size, (0, 0, 0))
                shift = left
            alpha = np.asarray(mask)[:, :, None]
            hit = (np.asarray(tile).astype(np.uint16), alpha > 0 if box else alpha.astype(np.uint16), shift)
        self._tiles[key] = hit  # the most recent last
        while len(self._tiles) > CACHED_TEXTS:
            del self._tiles[next(iter(self._tiles))]
        return hit

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def eigenvalue_explorer(preset: str | None = None, **settings) -> EigenvalueExplorer:
    """Build notebook 05's eigenvalue explorer; display the result (or its `.widget`) in a cell.

    preset: a name of `spectra.PRESETS` to start from (optional). settings: starting values by
    name (see `spectra.EXPLORER_DEFAULTS` and EXPLORER_RANGES); a bad one is a ValueError naming it.
    """
    explorer = EigenvalueExplorer(**settings)
    if preset is not None:
        explorer.set(preset=preset)
    return explorer
