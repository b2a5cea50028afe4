"""Tests of rnnlib.plots.diagrams (and the numbers it draws, from rnnlib.jacobians / rnnlib.examples): every diagram builds a Figure for several T; memory_fade's numbers
come from the model (checked against finite differences), decrease for a contracting model, are the
same ratios in the nodes and the curve, the title states their measured rate, and node labels
contrast with their fill.
Assertions are on data, never on pixels."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

import rnnlib
from rnnlib import examples, jacobians
from rnnlib.plots import diagrams
from rnnlib.gradcheck import numerical_gradient, rel_error


@pytest.fixture(autouse=True)
def _close_figures():
    # The diagrams are pyplot figures (so notebooks can plt.show() them): close them after each test.
    yield
    plt.close("all")


@pytest.mark.parametrize("T", [1, 3, 6])
@pytest.mark.parametrize("fn", [diagrams.unrolled_graph, diagrams.loss_graph, diagrams.bptt_graph])
def test_graphs_return_figures(fn, T):
    fig = fn(T=T, t=min(T, 3)) if fn is diagrams.bptt_graph else fn(T=T)
    assert isinstance(fig, Figure)
    assert len(fig.axes) >= 1
    assert fig.axes[0].patches, "a diagram draws nodes and arrows as patches"


@pytest.mark.parametrize("T,t", [(1, 1), (4, 1), (4, 4), (5, 3)])
def test_bptt_graph_any_t(T, t):
    assert isinstance(diagrams.bptt_graph(T=T, t=t), Figure)


def test_node_count_grows_with_T():
    # One circle per node: h_0 plus (x_t, h_t, y^_t) per step, plus 3 for the rolled cell.
    from matplotlib.patches import Circle
    for T in (2, 5):
        n = sum(isinstance(p, Circle) for p in diagrams.unrolled_graph(T).axes[0].patches)
        assert n == 1 + 3 * T + 3


@pytest.mark.parametrize("bad", [0, -1, 2.5, "4", True, 100])
def test_bad_T(bad):
    with pytest.raises(ValueError, match="T"):
        diagrams.unrolled_graph(bad)


def test_bad_t():
    with pytest.raises(ValueError, match="t: expected"):
        diagrams.bptt_graph(T=3, t=4)


def test_figures_dict():
    assert set(diagrams.FIGURES) == {"01-unrolled-graph.svg", "01-memory-fade.svg", "02-loss-graph.svg",
                                     "03-bptt-graph.svg"}
    for name, fn in diagrams.FIGURES.items():
        fig = fn()   # each entry builds its figure without arguments (what `make figures` calls)
        assert isinstance(fig, Figure) and fig.axes and fig.axes[0].has_data(), f"{name}: an empty figure"
        plt.close(fig)


def test_contracting_params_singular_values():
    p = examples.contracting_params(sigma=0.8, seed=3)
    s = np.linalg.svd(p.W_hh, compute_uv=False)
    np.testing.assert_allclose(s, 0.8, rtol=1e-12)
    with pytest.raises(ValueError, match="sigma"):
        examples.contracting_params(sigma=-1.0)


def test_memory_norms_match_finite_differences():
    # ||dh_t/dx_1|| against a central-difference Jacobian of h_t with respect to x_1.
    rng = np.random.default_rng(0)
    p = rnnlib.init_params(3, 5, 2, seed=1)
    xs = rng.standard_normal((4, 1, 3))
    norms = jacobians.memory_norms(p, xs)
    for t in range(1, 5):
        J = np.zeros((5, 3))
        for m in range(5):
            J[m] = numerical_gradient(lambda: rnnlib.forward(p, xs).h[t, 0, m], xs[0, 0])
        assert rel_error(np.array(norms[t - 1]), np.array(np.linalg.norm(J, 2))) < 1e-7


def test_memory_fade_decreases_for_contracting_model():
    fig = diagrams.memory_fade(T=15)
    line, bound_line = fig.axes[1].get_lines()[:2]
    share = np.asarray(line.get_ydata())
    assert share.shape == (15,)
    assert share[0] == 1.0, "the curve is normalized by ||dh_1/dx_1||"
    assert np.all(np.diff(share) < 0), "||dh_t/dx_1|| must decrease strictly when sigma(W_hh) < 1 with tanh"
    bound = 0.9 ** np.arange(15)
    np.testing.assert_allclose(bound_line.get_ydata(), bound, rtol=1e-12)
    assert np.all(share <= bound * (1 + 1e-12)), "the (gamma sigma_max)^(t-1) bound must hold"
    assert np.all(share[1:] <= 0.9 * share[:-1] * (1 + 1e-12)), "each step shrinks by at least 0.9"


def test_memory_fade_nodes_and_curve_show_the_same_ratios():
    p = examples.contracting_params(seed=2)
    xs = 0.5 * np.random.default_rng(5).standard_normal((9, 1, 4))
    fig = diagrams.memory_fade(p, xs=xs)
    norms = jacobians.memory_norms(p, xs)
    share = np.asarray(fig.axes[1].get_lines()[0].get_ydata())
    np.testing.assert_allclose(share, norms / norms[0], rtol=1e-12)
    numbers = [float(t.get_text()) for t in fig.axes[0].texts if t.get_text().replace(".", "").isdigit()]
    np.testing.assert_allclose(numbers, np.round(share, 2), atol=1e-12)


def test_memory_fade_title_states_measured_rate():
    p = examples.contracting_params()
    xs = 0.5 * np.random.default_rng(0).standard_normal((12, 1, 4))
    norms = jacobians.memory_norms(p, xs)
    rate = (norms[-1] / norms[0]) ** (1 / 11)
    assert rate < 0.85, "tanh' < 1 makes this chain shrink faster than the 0.9 bound"
    title = diagrams.memory_fade(p, xs=xs).texts[0].get_text()
    assert f"{rate:.2f}" in title and "faster than the 0.9 bound" in title, title


def test_memory_fade_title_at_the_bound():
    # Zero inputs, zero biases: f' = 1 throughout, so the rate equals sigma_max exactly.
    p = examples.contracting_params(n_in=2, n_hidden=6, n_out=2, sigma=0.5)
    title = diagrams.memory_fade(p, xs=np.zeros((5, 1, 2))).texts[0].get_text()
    assert "0.50" in title and "as fast as the 0.5 bound" in title, title


def test_fade_rate():
    assert jacobians.fade_rate(np.array([1.0, 0.5, 0.25, 0.125])) == pytest.approx(0.5, rel=1e-12)
    with pytest.raises(ValueError, match="share"):
        jacobians.fade_rate(np.array([1.0]))
    with pytest.raises(ValueError, match="share"):
        jacobians.fade_rate(np.array([1.0, 0.0]))


def test_node_labels_contrast_with_their_fill():
    # Every node label is white or ink, whichever reads better on that node's shade (WCAG ratio >= 3).
    from matplotlib.patches import Circle
    fig = diagrams.memory_fade(T=12)
    ax = fig.axes[0]
    labels = {tuple(np.round(t.get_position(), 6)): t for t in ax.texts}
    circles = [c for c in ax.patches if isinstance(c, Circle)]
    assert len(circles) == 13
    colours = set()
    for c in circles:
        text = labels[tuple(np.round(c.center, 6))]
        ratio = diagrams.contrast_ratio(text.get_color(), c.get_facecolor())
        assert ratio >= 3.0, (text.get_text(), ratio)
        assert text.get_color() == diagrams.text_color_on(c.get_facecolor())
        colours.add(text.get_color())
    assert colours == {"white", diagrams.INK}, "dark nodes get white labels, light nodes ink ones"


def test_contrast_ratio_extremes():
    assert diagrams.contrast_ratio("black", "white") == pytest.approx(21.0)
    assert diagrams.contrast_ratio("white", "white") == pytest.approx(1.0)
    assert diagrams.text_color_on("white") == diagrams.INK
    assert diagrams.text_color_on("black") == "white"


def test_memory_fade_given_xs_and_params():
    p = examples.contracting_params(n_in=2, n_hidden=6, n_out=2, sigma=0.5)
    xs = np.zeros((5, 1, 2))
    fig = diagrams.memory_fade(p, xs=xs)
    share = np.asarray(fig.axes[1].get_lines()[0].get_ydata())
    # Zero inputs, zero biases: h stays 0, f' = 1, so dh_t/dx_1 = W_hh^(t-1) W_hx exactly.
    exact = np.array([np.linalg.norm(np.linalg.matrix_power(p.W_hh, t - 1) @ p.W_hx, 2) for t in range(1, 6)])
    np.testing.assert_allclose(share, exact / exact[0], rtol=1e-12)
    with pytest.raises(ValueError, match="xs"):
        jacobians.memory_norms(p, np.zeros((5, 2, 2)))
