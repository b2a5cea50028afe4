"""Tests of rnnlib.diagrams: every diagram builds a Figure for several T; memory_fade's numbers
come from the model (checked against finite differences) and decrease for a contracting model.
Assertions are on data, never on pixels."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

import rnnlib
from rnnlib import diagrams
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
    for fn in diagrams.FIGURES.values():
        assert callable(fn)


def test_contracting_params_singular_values():
    p = diagrams.contracting_params(sigma=0.8, seed=3)
    s = np.linalg.svd(p.W_hh, compute_uv=False)
    np.testing.assert_allclose(s, 0.8, rtol=1e-12)
    with pytest.raises(ValueError, match="sigma"):
        diagrams.contracting_params(sigma=-1.0)


def test_memory_norms_match_finite_differences():
    # ||dh_t/dx_1|| against a central-difference Jacobian of h_t with respect to x_1.
    rng = np.random.default_rng(0)
    p = rnnlib.init_params(3, 5, 2, seed=1)
    xs = rng.standard_normal((4, 1, 3))
    norms = diagrams.memory_norms(p, xs)
    for t in range(1, 5):
        J = np.zeros((5, 3))
        for m in range(5):
            J[m] = numerical_gradient(lambda: rnnlib.forward(p, xs).h[t, 0, m], xs[0, 0])
        assert rel_error(np.array(norms[t - 1]), np.array(np.linalg.norm(J, 2))) < 1e-7


def test_memory_fade_decreases_for_contracting_model():
    fig = diagrams.memory_fade(T=15)
    line = fig.axes[1].get_lines()[0]
    norms = np.asarray(line.get_ydata())
    assert norms.shape == (15,)
    assert np.all(np.diff(norms) < 0), "||dh_t/dx_1|| must decrease strictly when sigma(W_hh) < 1 with tanh"
    bound = norms[0] * 0.9 ** np.arange(15)
    assert np.all(norms <= bound * (1 + 1e-12)), "the (gamma sigma_max)^(t-1) bound must hold"


def test_memory_fade_given_xs_and_params():
    p = diagrams.contracting_params(n_in=2, n_hidden=6, n_out=2, sigma=0.5)
    xs = np.zeros((5, 1, 2))
    fig = diagrams.memory_fade(p, xs=xs)
    norms = np.asarray(fig.axes[1].get_lines()[0].get_ydata())
    # Zero inputs, zero biases: h stays 0, f' = 1, so dh_t/dx_1 = W_hh^(t-1) W_hx exactly.
    exact = [np.linalg.norm(np.linalg.matrix_power(p.W_hh, t - 1) @ p.W_hx, 2) for t in range(1, 6)]
    np.testing.assert_allclose(norms, exact, rtol=1e-12)
    with pytest.raises(ValueError, match="xs"):
        diagrams.memory_norms(p, np.zeros((5, 2, 2)))
