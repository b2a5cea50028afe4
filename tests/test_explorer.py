"""Tests of notebook 05's eigenvalue explorer (rnnlib.plots.explorer), driven through its factory
without a browser, and of its static figure (rnnlib.plots.explorer_figure).

Setting a control's `.value` fires the observers synchronously (no kernel needed); the tests
then read what the callback drew: the lines' data, the notes, the verdict, the image bytes.
The numbers are checked against independent computations (explicit matrix powers, numpy SVDs).
"""

import html
import io
import math
import re
import warnings

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from rnnlib import spectra as S
from rnnlib.plots import explorer as E
from rnnlib.plots import explorer_figure as EF


@pytest.fixture(scope="module")
def shared():
    return E.eigenvalue_explorer()  # built once: building draws the whole figure


@pytest.fixture
def ex(shared):
    """The explorer back at its default settings; fails the test if a callback raised meanwhile."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning (overflow, log of 0) is a failure
        shared.set(**S.EXPLORER_DEFAULTS)
        yield shared
    errors, shared.errors[:] = list(shared.errors), []
    assert not errors, f"a callback raised (shown in the widget as): {errors}"


def png_pixels(ex) -> np.ndarray:
    """The image the widget shows, decoded: (height, width, 3) uint8."""
    return np.asarray(Image.open(io.BytesIO(ex.image.value)).convert("RGB"))


def y_log10(line):
    return np.log10(np.asarray(line.get_ydata(), dtype=float))


def test_factory_draws_the_default_setting(ex):
    assert set(ex.controls) == {"preset", *S.EXPLORER_DEFAULTS}
    assert ex.settings() == S.EXPLORER_DEFAULTS
    x = np.asarray(ex.lines["norm"].get_xdata())
    assert x.tolist() == list(range(101))
    # W = diag(0.9, 0.5) is normal: ||W^t|| = rho^t = sigma_max^t = 0.9^t, all three lines agree.
    for name in ("norm", "rho", "bound"):
        assert np.allclose(y_log10(ex.lines[name]), x * math.log10(0.9)), name
    assert ex.verdict == ("vanishes", "‖∂h_t/∂h_0‖ = 2.7e-05 after 100 steps")
    assert ex.image.value == ex.png and ex.png[:8] == b"\x89PNG\r\n\x1a\n"
    assert ex.error is None and ex.axes["norm"].get_xlim() == (0, 100)


def test_the_verdict_is_shown_once_as_the_title_of_the_image(ex):
    top = slice(0, 2 * E.TITLE_PX)  # the title strip of the image
    before = png_pixels(ex)[top]
    assert before.min() < 100, "dark text in the title strip"
    for html_line in (ex.story_html.value, ex.info_html.value):
        assert "vanishes" not in html_line and "after 100 steps" not in html_line, "not repeated under the image"
    ex.controls["r1"].value = 1.1  # "vanishes" -> "explodes"
    after = png_pixels(ex)[top]
    assert after.min() < 100 and not np.array_equal(before, after), "the title follows the verdict"
    assert ex.verdict.word == "explodes"


def test_info_line_never_breaks_a_number_and_has_a_fixed_height(ex):
    ex.set(activation="sigmoid", kind="real", r1=2.0, r2=2.0, T=1000)  # numbers like 3.1e-62
    for widget in (ex.story_html, ex.info_html):
        assert "height:3.2em" in widget.value and "overflow:hidden" in widget.value, "a fixed height"
        for number in re.findall(r"\d[\d.]*e[-+]\d+", widget.value):  # every number with an exponent ...
            assert re.search(r'<span style="white-space:nowrap">[^<]*' + re.escape(number), widget.value), number
    assert "1.3e-523" not in ex.info_html.value and "e-" in ex.info_html.value
    assert ex.widget.layout.overflow == "hidden" and ex.image.layout.width == "100%"


@pytest.mark.parametrize("name", list(S.PRESETS))
def test_every_preset_sets_every_control_and_tells_its_story(name, ex):
    before = ex.png
    ex.controls["preset"].value = name  # as a click in the menu does
    preset = S.PRESETS[name]
    want = S.explorer_settings(**preset.settings)
    assert ex.settings() == want, "every control follows the preset (the others back to their defaults)"
    assert ex.verdict.word == preset.word and ex.story == preset.story
    assert html.unescape(re.sub(r"<[^>]+>", "", ex.story_html.value)) == preset.story, "the story, without tags"
    assert ex.png != before, "the image was redrawn"
    ex.controls["u"].value = 0.05  # any control moved afterwards: the preset is gone
    assert ex.controls["preset"].value == E.CUSTOM and ex.story.startswith("custom")


def test_negative_eigenvalue_flips_the_state(ex):
    ex.set(kind="real", r1=-0.95, r2=0.5, h0_1=0.8, h0_2=0.0)
    assert sorted(ex.lines["eig"].get_xdata()) == pytest.approx([-0.95, 0.5])
    x = np.asarray(ex.lines["h_points"].get_xdata())
    assert np.all(np.sign(x[1:11]) == -np.sign(x[:10])), "h_t[0] changes sign every step"


def test_relu_shows_dead_units_in_the_fprime_strip(ex):
    ex.set(preset="ReLU, identity W")
    f1, f2 = (np.asarray(ex.lines[k].get_ydata()) for k in ("f1", "f2"))
    assert np.all(f1 == 1) and np.all(f2 == 0)
    assert ex.texts["fprime"] == "unit 2 dead (f' = 0) from t = 1"
    ex.controls["h0_2"].value = 0.4  # start both units positive: no dead unit
    assert ex.texts["fprime"] == "" and np.all(np.asarray(ex.lines["f2"].get_ydata()) == 1)


def test_fprime_strip_shows_saturation(ex):
    ex.set(preset="tanh saturation")
    f1 = np.asarray(ex.lines["f1"].get_ydata())
    assert np.allclose(f1, ex.profile.fprime[1:, 0]) and f1[-1] < 0.3, "saturated: f' well below 1"


def test_h0_moves_the_tanh_curve(ex):
    ex.set(preset="tanh: quasi-periodic drift")
    before = y_log10(ex.lines["norm"]).copy()
    ex.controls["h0_1"].value = -0.5
    assert not np.allclose(y_log10(ex.lines["norm"]), before)
    assert np.allclose(np.column_stack(ex.lines["h0"].get_data())[0], [-0.5, -0.4])


def test_scrubber_marks_step_t_on_every_panel(ex):
    ex.set(preset="non-normal transient")
    T = ex.controls["T"].value
    assert ex.controls["t"].max == T and ex.controls["t"].value == T
    ex.controls["t"].value = 18
    assert ex.controls["preset"].value == E.CUSTOM
    assert ex.lines["t_norm"].get_xdata() == [18, 18] and ex.lines["t_fprime"].get_xdata() == [18, 18]
    assert np.allclose(np.column_stack(ex.lines["ht"].get_data())[0], ex.profile.h[18])
    W18 = np.linalg.matrix_power(S.explorer_matrix(**ex.settings()), 18)
    s = np.linalg.svd(W18, compute_uv=False)  # the semi-axes of the ellipse, 69 and 0.0037 here
    rate = np.hypot(*ex.lines["rate"].get_data())  # the dashed circle: ||dh_t/dh_0||^(1/t)
    assert np.allclose(rate, s[0] ** (1 / 18))
    assert ex.texts["ellipse"].splitlines()[:3] == ["t = 18", f"σ_max = {S.format_pow10(np.log10(s[0]))}",
                                                    f"σ_min = {S.format_pow10(np.log10(s[1]))}"]
    shift = -np.log10(s[0])  # drawn scaled so the major semi-axis is 1
    assert ex.texts["ellipse"].splitlines()[3] == f"drawn × {S.format_pow10(shift)}"
    major = np.column_stack(ex.lines["axis_max"].get_data())[1]
    assert np.linalg.norm(major) == pytest.approx(1.0)
    ellipse = np.column_stack(ex.lines["ellipse"].get_data())
    assert np.linalg.norm(ellipse, axis=1).max() == pytest.approx(1.0, rel=1e-3)
    ex.controls["T"].value = 100  # t stays inside 0..T
    assert ex.controls["t"].max == 100 and ex.controls["t"].value == 18
    ex.controls["t"].value = 100
    ex.controls["T"].value = 200  # at the end it follows the end
    assert ex.controls["t"].value == 200


def test_ellipse_at_true_size_shows_growth_with_every_eigenvalue_inside(ex):
    ex.set(kind="real", r1=0.9, r2=0.8, shear=0.5, T=100, t=2)
    W3 = np.linalg.matrix_power(S.explorer_matrix(**ex.settings()), 2)
    phi = np.linspace(0, 2 * np.pi, len(ex.lines["ellipse"].get_xdata()))
    assert np.allclose(np.column_stack(ex.lines["ellipse"].get_data()), (W3 @ [np.cos(phi), np.sin(phi)]).T)
    assert len(ex.texts["ellipse"].splitlines()) == 3, "no scaling note at true size"
    assert np.linalg.norm(W3, 2) > 1 and ex.profile.rho < 1, "the circle is stretched beyond itself"


def test_larger_matrices(ex):
    ex.set(kind="8x8 example", T=500)
    assert len(ex.lines["eig"].get_xdata()) == 8
    assert all(ex.controls[n].disabled for n in ("r1", "r2", "angle", "shear", "size"))
    assert ex.verdict.line.endswith("(transient growth)") and "1.1e+05" in ex.verdict.line
    steps = np.asarray(ex.lines["norm"].get_xdata())
    assert np.all(np.isfinite(y_log10(ex.lines["norm"]))) and steps[-1] == 500
    ex.set(kind="random", size=64, r1=1.3, activation="tanh", T=300)
    assert not ex.controls["size"].disabled and ex.controls["r2"].disabled
    assert len(ex.lines["eig"].get_xdata()) == 64 and ex.profile.rho == pytest.approx(1.3)
    assert np.allclose(np.hypot(*ex.lines["sigma"].get_data()), np.linalg.norm(ex.profile.W, 2))
    assert ex.axes["h"].get_xlabel().startswith("1st principal component")
    assert "σ_2 = " in ex.texts["ellipse"] and "of 64 units" in ex.texts["fprime"]
    ex.set(kind="orthogonal", size=32, r1=1.0, activation="linear", T=200)
    assert np.allclose(y_log10(ex.lines["norm"]), 0, atol=1e-9)
    ex.set(kind="real")
    assert ex.axes["h"].get_xlabel() == "hₜ[0]"


def test_layers_are_cached_and_T_redraws_only_the_t_axes(ex):
    ex.controls["T"].value = 130
    full, axis = ex.full_redraws, ex.axis_redraws
    ex.controls["T"].value = 140
    assert ex.axes["norm"].get_xlim() == (0, 140) and ex.axes["fprime"].get_xlim() == (0, 140)
    assert (ex.full_redraws, ex.axis_redraws) == (full, axis + 1), "T redraws the t axes only"
    ex.controls["r1"].value = 0.8
    ex.controls["t"].value = 20
    assert (ex.full_redraws, ex.axis_redraws) == (full, axis + 1), "other sliders redraw neither"


def test_complex_pair_and_angle(ex):
    assert ex.controls["angle"].disabled and not ex.controls["r2"].disabled
    ex.controls["kind"].value = "complex"
    assert not ex.controls["angle"].disabled and ex.controls["r2"].disabled
    ex.controls["angle"].value = 60.0
    lam = np.asarray(ex.lines["eig"].get_xdata()) + 1j * np.asarray(ex.lines["eig"].get_ydata())
    assert np.allclose(np.sort(np.angle(lam)), np.radians([-60, 60])) and np.allclose(np.abs(lam), 0.9)
    h = np.column_stack(ex.lines["h_points"].get_data())
    turns = np.diff(np.unwrap(np.angle(h[:5, 0] + 1j * h[:5, 1])))
    assert np.allclose(turns, np.radians(60)), "a rotation by +60 degrees a step (counter-clockwise)"


def test_circles_for_sigma_max_and_gamma_sigma_max(ex):
    radius = lambda name: np.hypot(*ex.lines[name].get_data())  # noqa: E731
    assert not ex.lines["gsigma"].get_visible(), "gamma = 1: the gamma sigma_max circle is the sigma_max circle"
    ex.set(activation="sigmoid", shear=10.0)
    assert ex.lines["gsigma"].get_visible()
    assert np.allclose(radius("sigma"), ex.profile.sigma_max) and np.allclose(radius("gsigma"), 0.25 * ex.profile.sigma_max)
    assert ex.texts["eig"].splitlines()[:2] == ["σ_max = 10.1 (circle off-panel)", "γσ_max = 2.51 (circle partly off-panel)"]


def test_extremes_draw_with_a_note(ex):
    c = ex.controls
    c["r1"].value, c["r2"].value = 0.0, 0.0  # W = 0: the gradient is exactly zero from t = 1
    assert ex.texts["note"] == "exactly 0 from t = 1"
    assert ex.verdict.text == "vanishes: ‖∂h_t/∂h_0‖ = 0 after 100 steps"
    c["shear"].value, c["r1"].value, c["r2"].value, c["T"].value = 0.0, 0.3, 0.3, 1000
    assert ex.texts["note"] == "clipped below 1e-20 from t = 39"
    assert "1.3e-523, below float64's range (1e-308)" in ex.info
    c["r1"].value, c["r2"].value, c["shear"].value = 2.0, 2.0, 10.0
    assert "clipped above 1e+20" in ex.texts["note"] and ex.profile.log_norm[-1] > 300
    assert "stopped" in ex.texts["h"], "the linear state is stopped before it overflows"


def test_a_callback_that_raises_shows_the_error_in_the_widget(ex, monkeypatch):
    def broken(**settings):
        raise RuntimeError("boom")

    monkeypatch.setattr(E, "explorer_profile", broken)
    ex.controls["r1"].value = 1.2  # the observer catches the exception: nothing propagates
    assert ex.error == "error: RuntimeError: boom"
    assert "error: RuntimeError: boom" in ex.error_html.value and "traceback" in ex.error_html.value
    monkeypatch.undo()
    ex.controls["r1"].value = 1.3
    assert ex.error is None and ex.error_html.value == "", "the next good update clears it"
    assert ex.errors == ["error: RuntimeError: boom"]
    ex.errors.clear()  # expected here: the fixture checks for unexpected ones
    with pytest.raises(ValueError, match="r1"):
        ex.set(r1=5.0)  # set() is for code: it raises
    with pytest.raises(ValueError, match="preset: expected one of"):
        ex.set(preset="no such regime")


def _assert_sane(ex):
    for ax in ex.axes.values():
        assert np.all(np.isfinite(ax.get_xlim() + ax.get_ylim()))
    for name, line in ex.lines.items():
        if line.get_visible() and name not in ("norm",):
            assert np.all(np.isfinite(np.asarray(line.get_ydata(), dtype=float))), name
    assert np.isfinite(y_log10(ex.lines["norm"])).any() or ex.texts["note"], "an empty norm panel says why"
    assert ex.verdict.word in S.VERDICT_WORDS
    assert ex.axes["norm"].get_xlim() == (0, ex.controls["T"].value)
    assert ex.error is None, ex.error
    assert png_pixels(ex).min() < 100, "something is drawn"


@pytest.mark.parametrize(
    "base",
    [dict(kind="real", activation="linear", T=1000), dict(kind="complex", activation="tanh", u=1.0, shear=5.0),
     dict(kind="real", activation="relu", T=300), dict(kind="complex", activation="sigmoid", T=20),
     dict(kind="random", activation="tanh", T=200, size=8)],
    ids=["real-linear", "complex-tanh", "real-relu", "complex-sigmoid", "random-tanh"],
)
def test_sweep_every_slider_over_its_range(base, ex):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ex.set(**base)
        for name in E.SLIDERS:
            control = ex.controls[name]
            start = control.value
            for value in np.linspace(control.min, control.max, 5):
                control.value = int(value) if isinstance(start, int) else float(value)
                _assert_sane(ex)
            control.value = start


def test_toggles_at_extreme_settings(ex):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ex.set(r1=2.0, r2=-2.0, shear=10.0, u=3.0, T=1000, size=4, h0_1=-1.5, h0_2=1.5)
        for kind in S.EXPLORER_KINDS:
            ex.controls["kind"].value = kind
            for activation in S.EXPLORER_ACTIVATIONS:
                ex.controls["activation"].value = activation
                _assert_sane(ex)


def test_bad_settings_raise():
    with pytest.raises(ValueError, match=r"r1: expected a finite number in \[-2, 2\], got 3"):
        E.eigenvalue_explorer(r1=3)
    with pytest.raises(ValueError, match="activation"):
        E.eigenvalue_explorer(activation="relu6")
    with pytest.raises(ValueError, match="settings"):
        E.eigenvalue_explorer(rho=0.5)


def test_presets_figure_and_gallery_entry():
    import matplotlib.pyplot as plt

    assert EF.FIGURES == {"05-regimes.svg": EF.presets_figure}
    fig = EF.presets_figure()
    try:
        n = len(EF.FIGURE_PRESETS)
        assert isinstance(fig, Figure) and len(fig.axes) == 3 * n
        top = fig.axes[:n]
        titles = [ax.get_title().split("\n") for ax in top]
        assert [t[0] for t in titles] == list(EF.FIGURE_PRESETS)
        assert [t[3].rsplit(": ", 1)[1] for t in titles] == [S.PRESETS[name].word for name in EF.FIGURE_PRESETS]
        assert [ax.get_xlim()[1] for ax in top] == [S.explorer_settings(**S.PRESETS[k].settings)["T"]
                                                    for k in EF.FIGURE_PRESETS], "the t axis ends at T"
        for ax in top:  # the legend lists exactly the lines drawn, merged where they coincide
            legend = ax.get_legend()
            assert len(legend.get_texts()) == len(ax.get_lines()) - 1  # minus the grey line at 1
        assert top[0].get_legend().get_texts()[0].get_text() == "‖∂hₜ/∂h₀‖", "non-normal: three distinct curves"
    finally:
        plt.close(fig)


def test_coinciding_curves_are_drawn_once():
    fig = EF.presets_figure(("vanishing",))
    try:
        ax = fig.axes[0]
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels == ["‖∂hₜ/∂h₀‖ = ρᵗ = (γσ_max)ᵗ"], "a normal W: all three curves are one line"
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def test_a_slider_snapping_to_its_step_is_not_a_move(ex):
    ex.set(preset="non-normal transient")
    before = ex.png
    ex.controls["r1"].value = 0.9500000000000002  # what a browser sends back after snapping 0.95 to the step
    assert ex.controls["preset"].value == "non-normal transient" and ex.png == before
    ex.controls["r1"].value = 0.96
    assert ex.controls["preset"].value == E.CUSTOM and ex.png != before


def test_recent_profiles_are_reused_and_the_cache_is_bounded(ex, monkeypatch):
    calls = []
    real = E.explorer_profile
    monkeypatch.setattr(E, "explorer_profile", lambda **s: calls.append(s) or real(**s))
    ex.set(preset="vanishing")
    ex.set(preset="exploding")
    first, computed = ex.profile, len(calls)
    ex.set(preset="vanishing")
    ex.set(preset="exploding")
    assert len(calls) == computed and ex.profile is first, "going back to recent settings recomputes nothing"
    assert ex.verdict == S.verdict(S.explorer_profile(**S.explorer_settings(**S.PRESETS["exploding"].settings)))
    one_64 = 1.5 * S.explorer_profile(kind="random", size=64, T=1000).products.nbytes
    monkeypatch.setattr(E, "CACHED_PROFILE_BYTES", one_64)  # room for one 64 x 64 profile, not two
    for r1 in (0.5, 0.6):  # two 64 x 64 profiles: only the newest stays
        ex.set(kind="random", size=64, T=1000, r1=r1)
    sizes = [p.products.nbytes for p, _, _ in ex._profiles.values()]
    assert len(sizes) == 1 and ex._profiles[next(iter(ex._profiles))][0] is ex.profile
    assert ex.profile.rho == pytest.approx(0.6)


def test_png_bytes_is_a_lossless_png():
    rgb = np.random.default_rng(0).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    rgb[5:20] = 255  # flat rows, as in a plot
    back = Image.open(io.BytesIO(E.png_bytes(rgb)))
    assert back.mode == "RGB" and back.size == (53, 37) and np.array_equal(np.asarray(back), rgb)


def test_updates_hold_blas_to_one_thread_and_restore_the_count(ex):
    """Inside an update BLAS runs one thread (threadpoolctl); before and after, the kernel's own count."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if not threadpoolctl.threadpool_info():
        pytest.skip("no BLAS that threadpoolctl can see")

    def blas_threads():
        return {lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"}

    seen, real = [], ex._update
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        ex._update = lambda: (seen.append(blas_threads()), real())[1]
        try:
            ex.controls["r1"].value = 0.5
            assert seen == [{1}], "one BLAS thread inside the update"
            assert blas_threads() == {2}, "the count before the update is restored"
            ex._update = lambda: 1 / 0
            ex.controls["r1"].value = 0.6  # an update that raises (shown in the widget) restores it too
            assert blas_threads() == {2} and ex.errors and "ZeroDivisionError" in ex.errors[-1]
        finally:
            del ex._update
            ex.errors.clear()


def _drawn(explorer):
    """Everything an update draws: the image, the title, the notes and every line's data."""
    lines = {name: (np.asarray(line.get_xdata(), dtype=float).tolist(),
                    np.asarray(line.get_ydata(), dtype=float).tolist(), line.get_visible())
             for name, line in explorer.lines.items()}
    return explorer.png, explorer.verdict, dict(explorer.texts), lines


def test_every_kind_of_control_change_draws_what_a_fresh_explorer_draws(ex):
    """The caches (profiles, per-size matrices, backgrounds, rendered texts) never show stale numbers:
    after each kind of move (every slider, the scrubber alone, the activation, the matrix kind, a
    preset, going back to earlier settings) the image, title, notes and line data equal those of an
    explorer built from scratch at the same settings."""
    moves = [dict(r1=0.7), dict(r2=-0.6), dict(shear=3.0), dict(kind="complex"), dict(angle=75.0),
             dict(activation="tanh"), dict(u=0.5), dict(h0_1=-0.3), dict(h0_2=1.1), dict(T=300), dict(t=42),
             dict(t=300), dict(kind="random", size=24), dict(size=32), dict(r1=-0.7), dict(r1=0.7),
             dict(activation="linear"), dict(h0_1=0.4), dict(t=17), dict(kind="orthogonal"), dict(kind="8x8 example"),
             dict(preset="tanh: mode-locked cycle"), dict(t=5), dict(preset="vanishing"), dict(activation="relu"),
             dict(kind="random", size=24, r1=0.7, activation="tanh", T=300, t=300)]
    for move in moves:
        ex.set(**move)
        fresh = E.eigenvalue_explorer(**ex.settings())
        assert _drawn(ex) == _drawn(fresh), move


def test_the_text_cache_is_bounded_and_a_miss_draws_the_same(ex, monkeypatch):
    monkeypatch.setattr(E, "CACHED_TEXTS", 3)
    ex.set(kind="random", size=16, T=200)
    for t in (10, 20, 30, 40, 10):
        ex.controls["t"].value = t
        assert len(ex._tiles) <= 3
    drawn = _drawn(ex)
    ex._tiles.clear()  # every text rendered again
    ex.update()
    assert _drawn(ex) == drawn
