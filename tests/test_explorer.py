"""Tests of notebook 05's eigenvalue explorer, driven through its factory without a browser.

Setting a control's `.value` fires the observers synchronously (no kernel needed); the tests
then read what the callback drew: the lines' data, the notes, the verdict, the image bytes.
"""

import math
import warnings

import numpy as np
import pytest
from matplotlib.figure import Figure

from rnnlib import explorer as E
from rnnlib.spectra import format_pow10

SLIDERS = ["r1", "r2", "angle", "shear", "u", "T"]


@pytest.fixture(scope="module")
def shared():
    return E.eigenvalue_explorer()  # built once: building draws the whole figure


@pytest.fixture
def ex(shared):
    """The explorer back at its default settings."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning (overflow, log of 0) is a failure
        shared.set(**E.DEFAULTS)
        yield shared


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
    assert not ex.texts["note"].get_visible(), "nothing leaves the panel"


def test_r1_moves_the_eigenvalue_and_the_curve(ex):
    before = ex.png
    ex.controls["r1"].value = 1.1
    assert ex.png != before, "the image was redrawn"
    assert sorted(ex.lines["eig"].get_xdata()) == pytest.approx([0.5, 1.1])
    assert y_log10(ex.lines["norm"])[-1] == pytest.approx(100 * math.log10(1.1))
    assert ex.verdict.startswith("explodes: ‖∂h_t/∂h_0‖ = 1.4e+04")


def test_r2_and_shear_make_transient_growth(ex):
    ex.controls["r1"].value = 0.95
    ex.controls["r2"].value = 0.95
    ex.controls["shear"].value = 10.0
    ex.controls["T"].value = 300
    L = y_log10(ex.lines["norm"])
    assert L.max() > 1.5 and L[-1] < -3, "grows about 50x, then vanishes"
    assert np.allclose(ex.lines["eig"].get_xdata(), [0.95, 0.95]), "shear leaves the eigenvalues alone"
    sigma = np.hypot(*ex.lines["sigma"].get_data())  # the dotted circle has radius sigma_max
    assert np.allclose(sigma, ex.profile.sigma_max) and ex.profile.sigma_max > 10
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
    assert np.allclose(np.abs(np.diff(np.unwrap(angles[:5]))), np.radians(60)), "a rotation by 60 degrees a step"


def test_T_extends_the_curve_and_the_axis(ex):
    ex.controls["T"].value = 1000
    assert len(ex.lines["norm"].get_xdata()) == 1001
    assert ex.axes["norm"].get_xlim() == (0, 1000)
    # 0.9^1000 = 1e-45.8 is below the panel: the line is clipped and a note says so.
    assert ex.texts["note"].get_visible() and "clipped below 1e-20 from t = 438" in ex.texts["note"].get_text()
    assert "1.7e-46" in ex.info
    ex.controls["T"].value = 130
    assert ex.axes["norm"].get_xlim() == (0, 200), "the t axis ends at 10, 20, 50, 100, 200, 500 or 1000"


def test_activation_and_input(ex):
    ex.controls["r1"].value = 1.5
    ex.controls["r2"].value = 1.2
    assert ex.verdict.startswith("explodes")
    ex.controls["activation"].value = "tanh"
    assert ex.verdict.startswith("vanishes"), "tanh saturates: rho = 1.5 and still vanishing"
    assert ex.axes["h"].get_xlim() == E.H_LIMITS["tanh"]
    ex.controls["activation"].value = "linear"
    ex.controls["shear"].value = 10.0  # a linear state that grows: the panel widens to hold it
    assert ex.axes["h"].get_xlim() == (-1000.0, 1000.0) and "leaves the plot" in ex.texts["h"].get_text()
    ex.set(r1=0.9, r2=0.9)
    assert ex.axes["h"].get_xlim() == (-50.0, 50.0)
    ex.set(activation="tanh", shear=0.0, r1=1.5, r2=1.2)
    h_before = np.asarray(ex.lines["h_points"].get_xdata())
    ex.controls["u"].value = 2.0
    assert not np.allclose(np.asarray(ex.lines["h_points"].get_xdata())[1:], h_before[1:])
    ex.controls["activation"].value = "sigmoid"
    assert ex.profile.gamma == 0.25
    assert y_log10(ex.lines["bound"])[1] == pytest.approx(math.log10(0.25 * ex.profile.sigma_max))


def test_extremes_draw_with_a_note(ex):
    c = ex.controls
    c["r1"].value, c["r2"].value = 0.0, 0.0  # W = 0: the gradient is exactly zero from t = 1
    assert ex.texts["note"].get_text() == "exactly 0 from t = 1"
    assert ex.verdict == "vanishes: ‖∂h_t/∂h_0‖ = 0 after 100 steps"
    c["shear"].value = 1.0  # nilpotent: W^2 = 0
    assert ex.texts["note"].get_text() == "exactly 0 from t = 2"
    c["shear"].value, c["r1"].value, c["r2"].value, c["T"].value = 0.0, 0.3, 0.3, 1000
    assert ex.texts["note"].get_text() == "clipped below 1e-20 from t = 39"
    assert "1.3e-523, below float64's range (1e-308)" in ex.info, "0.3^1000, which float64 rounds to 0"
    c["r1"].value, c["r2"].value, c["shear"].value = 2.0, 2.0, 10.0
    assert "clipped above 1e+20" in ex.texts["note"].get_text()
    assert ex.verdict.startswith("explodes: ‖∂h_t/∂h_0‖ = " + format_pow10(ex.profile.log_norm[-1]))
    assert ex.profile.log_norm[-1] > 300
    assert "stopped" in ex.texts["h"].get_text(), "the linear state is stopped before it overflows"


def _assert_sane(ex):
    for ax in ex.axes.values():
        assert np.all(np.isfinite(ax.get_xlim() + ax.get_ylim()))
    for name, line in ex.lines.items():
        y = np.asarray(line.get_ydata(), dtype=float)
        assert np.all(np.isfinite(y)), name
    assert ex.verdict.split(":")[0] in ("vanishes", "explodes", "survives")
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
        assert [ax.get_title().split("\n")[0] for ax in top] == list(E.REGIMES)
        words = [ax.get_title().rsplit(": ", 1)[1] for ax in top]
        assert words == ["vanishes", "explodes", "vanishes", "vanishes"]
    finally:
        plt.close(fig)
