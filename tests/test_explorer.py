"""Tests of notebook 05's eigenvalue explorer, driven through its factory without a browser.

Setting a control's `.value` fires the observers synchronously (no kernel needed); the tests
then read what the callback drew: the lines' data, the notes, the verdict, the image bytes.
"""

import io
import math
import warnings

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from rnnlib import explorer as E
from rnnlib.spectra import VERDICT_WORDS, format_pow10

SLIDERS = ["r1", "r2", "angle", "shear", "u", "T"]


@pytest.fixture(scope="module")
def shared():
    return E.eigenvalue_explorer()  # built once: building draws the whole figure


@pytest.fixture
def ex(shared):
    """The explorer back at its default settings; fails the test if a callback raised meanwhile."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning (overflow, log of 0) is a failure
        shared.set(**E.DEFAULTS)
        yield shared
    errors, shared.errors[:] = list(shared.errors), []
    assert not errors, f"a callback raised (shown in the widget as): {errors}"


def png_pixels(ex) -> np.ndarray:
    """The image the widget shows, decoded: (height, width, 3) uint8."""
    return np.asarray(Image.open(io.BytesIO(ex.image.value)).convert("RGB"))


def test_set_moves_several_controls_and_redraws_once(ex):
    ex.set(r1=1.2, T=50)
    assert ex.settings() == {**E.DEFAULTS, "r1": 1.2, "T": 50}
    assert len(ex.lines["norm"].get_xdata()) == 51
    with pytest.raises(ValueError, match="T: expected"):
        ex.set(T=5000)


def y_log10(line):
    return np.log10(np.asarray(line.get_ydata(), dtype=float))


def test_factory_draws_the_default_setting(ex):
    assert set(ex.controls) == set(E.DEFAULTS)
    assert ex.settings() == E.DEFAULTS
    x = np.asarray(ex.lines["norm"].get_xdata())
    assert x.tolist() == list(range(101))
    # W = diag(0.9, 0.5) is normal: ||W^t|| = rho^t = sigma_max^t = 0.9^t, all three lines agree.
    for name in ("norm", "rho", "bound"):
        assert np.allclose(y_log10(ex.lines[name]), x * math.log10(0.9)), name
    assert ex.verdict == "vanishes: ‖∂h_t/∂h_0‖ = 2.7e-05 after 100 steps"
    assert "vanishes" in ex.verdict_html.value and "ρ(W) = 0.9" in ex.verdict_html.value
    assert ex.image.value == ex.png and ex.png[:8] == b"\x89PNG\r\n\x1a\n"
    assert ex.texts == {"note": "", "eig": "", "h": ""}, "nothing leaves its panel"
    assert ex.error is None and ex.axes["norm"].get_xlim() == (0, 100)


def test_r1_moves_the_eigenvalue_and_the_curve(ex):
    before = ex.png
    ex.controls["r1"].value = 1.1
    assert ex.png != before, "the image was redrawn"
    assert sorted(ex.lines["eig"].get_xdata()) == pytest.approx([0.5, 1.1])
    assert y_log10(ex.lines["norm"])[-1] == pytest.approx(100 * math.log10(1.1))
    assert ex.verdict.startswith("explodes: ‖∂h_t/∂h_0‖ = 1.4e+04")


def test_r2_and_shear_make_transient_growth(ex):
    ex.controls["r1"].value = 0.95
    ex.controls["r2"].value = 0.94  # distinct eigenvalues: diagonalizable, not a Jordan block
    ex.controls["shear"].value = 10.0
    ex.controls["T"].value = 300
    L = y_log10(ex.lines["norm"])
    assert L.max() > 1.5 and L[-1] < -3, "grows about 70x, then vanishes"
    assert np.allclose(ex.lines["eig"].get_xdata(), [0.95, 0.94]), "shear leaves the eigenvalues alone"
    sigma = np.hypot(*ex.lines["sigma"].get_data())  # the dotted circle has radius sigma_max
    assert np.allclose(sigma, ex.profile.sigma_max) and ex.profile.sigma_max > 10
    assert ex.texts["eig"] == "σ_max = 10.1 (circle off-panel)", "the circle is far beyond the panel: say so"
    assert "(transient growth)" in ex.verdict


def test_complex_pair_and_angle(ex):
    assert ex.controls["angle"].disabled and not ex.controls["r2"].disabled
    ex.controls["kind"].value = "complex"
    assert not ex.controls["angle"].disabled and ex.controls["r2"].disabled
    ex.controls["angle"].value = 60.0
    lam = np.asarray(ex.lines["eig"].get_xdata()) + 1j * np.asarray(ex.lines["eig"].get_ydata())
    assert np.allclose(np.sort(np.angle(lam)), np.radians([-60, 60]))
    assert np.allclose(np.abs(lam), 0.9)
    h = np.column_stack(ex.lines["h_points"].get_data())
    angles = np.angle(h[:, 0] + 1j * h[:, 1])
    turns = np.diff(np.unwrap(angles[:5]))
    assert np.allclose(turns, np.radians(60)), "a rotation by +60 degrees a step (counter-clockwise)"


def test_T_extends_the_curve_and_the_axis(ex):
    ex.controls["T"].value = 1000
    assert len(ex.lines["norm"].get_xdata()) == 1001
    assert ex.axes["norm"].get_xlim() == (0, 1000)
    # 0.9^1000 = 1e-45.8 is below the panel: the line is clipped and a note says so.
    assert ex.texts["note"] == "clipped below 1e-20 from t = 438"
    assert "1.7e-46" in ex.info
    full, axis = ex.full_redraws, ex.axis_redraws
    ex.controls["T"].value = 130
    assert ex.axes["norm"].get_xlim() == (0, 130), "the t axis ends at T"
    assert (ex.full_redraws, ex.axis_redraws) == (full, axis + 1), "T redraws the t axis only"
    ex.controls["r1"].value = 0.8
    assert (ex.full_redraws, ex.axis_redraws) == (full, axis + 1), "other sliders redraw neither"


def test_activation_and_input(ex):
    ex.controls["r1"].value = 1.5
    ex.controls["r2"].value = 1.2
    assert ex.verdict.startswith("explodes")
    ex.controls["activation"].value = "tanh"
    assert ex.verdict.startswith("vanishes"), "tanh saturates: rho = 1.5 and still vanishing"
    assert ex.axes["h"].get_xlim() == E.H_LIMITS["tanh"]
    ex.controls["activation"].value = "linear"
    ex.controls["shear"].value = 10.0  # a linear state that grows: the panel widens to hold it
    assert ex.axes["h"].get_xlim() == (-1000.0, 1000.0) and "leaves the plot" in ex.texts["h"]
    ex.set(r1=0.9, r2=0.9)
    assert ex.axes["h"].get_xlim() == (-50.0, 50.0)
    ex.set(activation="tanh", shear=0.0, r1=1.5, r2=1.2)
    h_before = np.asarray(ex.lines["h_points"].get_xdata())
    ex.controls["u"].value = 2.0
    assert not np.allclose(np.asarray(ex.lines["h_points"].get_xdata())[1:], h_before[1:])
    ex.controls["activation"].value = "sigmoid"
    assert ex.profile.gamma == 0.25
    assert y_log10(ex.lines["bound"])[1] == pytest.approx(math.log10(0.25 * ex.profile.sigma_max))


@pytest.mark.parametrize("kind", E.KINDS)
@pytest.mark.parametrize("settings", [dict(), dict(r1=1.5, r2=1.2, u=2.0), dict(r1=2.0, shear=10.0, u=3.0, T=1000)])
def test_sigmoid_trajectory_starts_inside_its_panel(kind, settings, ex):
    ex.set(kind=kind, activation="sigmoid", **settings)
    lo, hi = ex.axes["h"].get_xlim()
    assert ex.axes["h"].get_ylim() == (lo, hi)
    h0 = np.column_stack(ex.lines["h0"].get_data())[0]
    assert np.allclose(h0, E.H0) and np.all((lo < h0) & (h0 < hi)), "the h_0 dot is drawn"
    h = np.column_stack(ex.lines["h_points"].get_data())
    assert np.all((lo < h) & (h < hi)), "the whole trajectory is in the panel"
    assert ex.texts["h"] == "", f"no 'leaves the plot' note, got {ex.texts['h']!r}"
    square = ex._range_square
    assert square.get_visible() and (square.get_x(), square.get_y(), square.get_width()) == (0.0, 0.0, 1.0)
    assert np.all((0 < h[1:]) & (h[1:] < 1)), "from h_1 on the state is in (0, 1)^2, the dashed square"


def test_circles_for_sigma_max_and_gamma_sigma_max(ex):
    radius = lambda name: np.hypot(*ex.lines[name].get_data())  # noqa: E731
    assert not ex.lines["gsigma"].get_visible(), "gamma = 1: the gamma sigma_max circle is the sigma_max circle"
    ex.set(activation="sigmoid", shear=2.5)  # sigma_max = 2.7: the circle crosses the edges
    assert ex.lines["gsigma"].get_visible()
    assert np.allclose(radius("sigma"), ex.profile.sigma_max)
    assert np.allclose(radius("gsigma"), 0.25 * ex.profile.sigma_max)
    assert ex.texts["eig"] == f"σ_max = {ex.profile.sigma_max:.3g} (circle partly off-panel)"
    ex.set(shear=10.0)
    assert ex.texts["eig"] == "σ_max = 10.1 (circle off-panel)\nγσ_max = 2.51 (circle partly off-panel)"
    assert "γ σ_max = 2.51 (dash-dot circle)" in ex.info
    ex.set(activation="tanh")
    assert ex.texts["eig"] == "σ_max = 10.1 (circle off-panel)" and not ex.lines["gsigma"].get_visible()


def test_rho_one_grows_polynomially_not_explodes(ex):
    ex.set(kind="complex", r1=1.0, angle=180.0, shear=5.0, T=1000)  # a Jordan-type block [[-1, -5], [0, -1]]
    assert ex.verdict == "grows polynomially (ρ = 1): ‖∂h_t/∂h_0‖ = 5.0e+03 after 1000 steps"
    ex.set(kind="real", r1=1.0, r2=1.0, shear=10.0)
    assert ex.verdict.startswith("grows polynomially (ρ = 1): ‖∂h_t/∂h_0‖ = 1.0e+04")
    ex.set(r1=1.01, r2=1.01)
    assert ex.verdict.startswith("explodes"), "rho > 1: exponential growth"


def test_verdict_is_the_title_of_the_image(ex):
    top = slice(0, 2 * E.TITLE_PX)  # the title strip of the image
    before = png_pixels(ex)[top]
    assert before.min() < 100, "dark text in the title strip"
    ex.controls["r1"].value = 1.1  # "vanishes" -> "explodes"
    after = png_pixels(ex)[top]
    assert after.min() < 100 and not np.array_equal(before, after), "the title follows the verdict"


def test_a_callback_that_raises_shows_the_error_in_the_widget(ex, monkeypatch):
    def broken(**settings):
        raise RuntimeError("boom")

    monkeypatch.setattr(E, "explorer_profile", broken)
    ex.controls["r1"].value = 1.2  # the observer catches the exception: nothing propagates
    assert ex.error == "error: RuntimeError: boom"
    assert "error: RuntimeError: boom" in ex.verdict_html.value and "traceback" in ex.verdict_html.value
    monkeypatch.undo()
    ex.controls["r1"].value = 1.3
    assert ex.error is None and "error" not in ex.verdict_html.value, "the next good update clears it"
    assert ex.errors == ["error: RuntimeError: boom"]
    ex.errors.clear()  # expected here: the fixture checks for unexpected ones
    with pytest.raises(ValueError, match="r1"):
        ex.set(r1=5.0)  # set() is for code: it raises


def test_extremes_draw_with_a_note(ex):
    c = ex.controls
    c["r1"].value, c["r2"].value = 0.0, 0.0  # W = 0: the gradient is exactly zero from t = 1
    assert ex.texts["note"] == "exactly 0 from t = 1"
    assert ex.verdict == "vanishes: ‖∂h_t/∂h_0‖ = 0 after 100 steps"
    c["shear"].value = 1.0  # nilpotent: W^2 = 0
    assert ex.texts["note"] == "exactly 0 from t = 2"
    c["shear"].value, c["r1"].value, c["r2"].value, c["T"].value = 0.0, 0.3, 0.3, 1000
    assert ex.texts["note"] == "clipped below 1e-20 from t = 39"
    assert "1.3e-523, below float64's range (1e-308)" in ex.info, "0.3^1000, which float64 rounds to 0"
    c["r1"].value, c["r2"].value, c["shear"].value = 2.0, 2.0, 10.0
    assert "clipped above 1e+20" in ex.texts["note"]
    assert ex.verdict.startswith("explodes: ‖∂h_t/∂h_0‖ = " + format_pow10(ex.profile.log_norm[-1]))
    assert ex.profile.log_norm[-1] > 300
    assert "stopped" in ex.texts["h"], "the linear state is stopped before it overflows"


def _assert_sane(ex):
    for ax in ex.axes.values():
        assert np.all(np.isfinite(ax.get_xlim() + ax.get_ylim()))
    for name, line in ex.lines.items():
        y = np.asarray(line.get_ydata(), dtype=float)
        assert np.all(np.isfinite(y)), name
    assert ex.verdict.split(":")[0] in VERDICT_WORDS
    assert ex.axes["norm"].get_xlim() == (0, ex.controls["T"].value)
    assert ex.error is None, ex.error
    assert ex.png[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "base",
    [dict(kind="real", activation="linear", T=1000), dict(kind="complex", activation="tanh", u=1.0, shear=5.0),
     dict(kind="complex", activation="sigmoid", T=20)],
    ids=["real-linear", "complex-tanh", "complex-sigmoid"],
)
def test_sweep_every_slider_over_its_range(base, ex):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ex.set(**base)
        for name in SLIDERS:
            control = ex.controls[name]
            start = control.value
            for value in np.linspace(control.min, control.max, 5):
                control.value = int(value) if name == "T" else float(value)
                _assert_sane(ex)
            control.value = start


def test_toggles_at_extreme_settings(ex):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ex.set(r1=2.0, r2=0.0, shear=10.0, u=3.0, T=1000)
        for kind in E.KINDS:
            ex.controls["kind"].value = kind
            for activation in E.ACTIVATION_NAMES:
                ex.controls["activation"].value = activation
                _assert_sane(ex)


def test_bad_settings_raise():
    with pytest.raises(ValueError, match=r"r1: expected a value in \[0.0, 2.0\], got 3"):
        E.eigenvalue_explorer(r1=3)
    with pytest.raises(ValueError, match="activation"):
        E.eigenvalue_explorer(activation="relu6")
    with pytest.raises(ValueError, match="settings"):
        E.eigenvalue_explorer(rho=0.5)


def test_regimes_figure_and_gallery_entry():
    import matplotlib.pyplot as plt

    assert E.FIGURES == {"05-regimes.svg": E.regimes_figure}
    fig = E.regimes_figure()
    try:
        assert isinstance(fig, Figure) and len(fig.axes) == 2 * len(E.REGIMES)
        top = fig.axes[: len(E.REGIMES)]
        titles = [ax.get_title().split("\n") for ax in top]
        assert [t[0] for t in titles] == list(E.REGIMES)
        assert [t[2].rsplit(": ", 1)[1] for t in titles] == ["vanishes", "explodes", "vanishes", "vanishes"]
        assert [t[3:] for t in titles] == [["all three curves coincide (normal W)"]] * 2 + [
            [], [r"$\rho^t$ and $(\gamma\sigma_{max})^t$ coincide (normal W)"]]
        assert [ax.get_xlim()[1] for ax in top] == [s["T"] for s in E.REGIMES.values()], "the t axis ends at T"
    finally:
        plt.close(fig)
