"""Unit tests of rnnlib.lstm: gradients and Jacobians against finite differences, step loop vs
vectorized, exact log-norms, bad input, random sizes (hypothesis), and torch.nn.LSTM as an
independent oracle when torch is installed."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnnlib import lstm, tasks
from rnnlib.gradcheck import numerical_gradient, numerical_jacobian, rel_error


def make_problem(T, B, X, H, Y, seed=0, forget_bias=1.0):
    """A random problem with nonzero biases, h0 and c0, so that every gradient is exercised."""
    rng = np.random.default_rng(seed)
    p = lstm.init_lstm_params(X, H, Y, seed=seed, forget_bias=forget_bias)
    p = p._replace(b=p.b + 0.3 * rng.standard_normal(4 * H), b_y=rng.standard_normal(Y))
    xs = rng.standard_normal((T, B, X))
    targets = rng.integers(0, Y, size=(T, B))
    h0, c0 = 0.5 * rng.standard_normal((B, H)), rng.standard_normal((B, H))
    return p, xs, targets, h0, c0


# ---------------------------------------------------------------------------------------------
# Gradients against central finite differences (the oracle)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sizes", [(1, 1, 1, 1, 2), (5, 3, 4, 6, 3), (9, 2, 3, 5, 4)])
def test_bptt_gradients_match_finite_differences(sizes):
    p, xs, targets, h0, c0 = make_problem(*sizes, seed=sum(sizes))
    loss, grads = lstm.bptt(p, xs, targets, h0, c0)
    for name, w, g in zip(lstm.LSTMParams._fields, p, grads):
        num = numerical_gradient(lambda: lstm.bptt(p, xs, targets, h0, c0)[0], w)
        assert rel_error(g, num) < 1e-6, f"d{name}: rel. error {rel_error(g, num):.2e}"
    _, _, dh0, dc0 = lstm.backward(p, lstm.forward(p, xs, h0, c0), targets)
    assert rel_error(dh0, numerical_gradient(lambda: lstm.bptt(p, xs, targets, h0, c0)[0], h0)) < 1e-6
    assert rel_error(dc0, numerical_gradient(lambda: lstm.bptt(p, xs, targets, h0, c0)[0], c0)) < 1e-6


def test_forget_gate_blocks_are_where_pytorch_puts_them():
    # Raising only rows H..2H of b (the f block) must raise trace.f and nothing else.
    p, xs, _, h0, c0 = make_problem(4, 2, 3, 5, 3)
    H = p.n_hidden
    up = p._replace(b=p.b + np.r_[np.zeros(H), 3 * np.ones(H), np.zeros(2 * H)])
    a, b = lstm.forward(p, xs[:1], h0, c0), lstm.forward(up, xs[:1], h0, c0)
    assert np.all(b.f[1] > a.f[1])
    for gate in "igo":
        np.testing.assert_array_equal(getattr(a, gate)[1], getattr(b, gate)[1])
    assert p.block("f") == slice(H, 2 * H)


# ---------------------------------------------------------------------------------------------
# Step functions vs vectorized sequence functions
# ---------------------------------------------------------------------------------------------


def test_step_loop_equals_vectorized_forward_and_bptt():
    p, xs, targets, h0, c0 = make_problem(7, 3, 4, 5, 3, seed=3)
    trace = lstm.forward(p, xs, h0, c0)
    h, c = h0, c0
    for t in range(1, 8):
        h, c, y_hat, cache = lstm.step_forward(xs[t - 1], h, c, p)
        np.testing.assert_allclose(trace.h[t], h, rtol=0, atol=1e-14)
        np.testing.assert_allclose(trace.c[t], c, rtol=0, atol=1e-14)
        np.testing.assert_allclose(trace.y_hat[t], y_hat, rtol=0, atol=1e-14)
        for gate in "ifgo":
            np.testing.assert_allclose(getattr(trace, gate)[t], getattr(cache, gate + "_t"), rtol=0, atol=1e-14)
    loss_v, g_v = lstm.bptt(p, xs, targets, h0, c0)
    loss_s, g_s = lstm.bptt_steps(p, xs, targets, h0, c0)
    assert loss_v == pytest.approx(loss_s, rel=1e-13)
    for name, a, b in zip(lstm.LSTMParams._fields, g_v, g_s):
        assert rel_error(a, b) < 1e-12, name


def test_row_zero_is_the_initial_state_and_gates_are_nan_there():
    p, xs, _, h0, c0 = make_problem(3, 2, 2, 4, 3)
    tr = lstm.forward(p, xs, h0, c0)
    assert tr.h.shape == tr.c.shape == (4, 2, 4) and tr.T == 3
    np.testing.assert_array_equal(tr.h[0], h0)
    np.testing.assert_array_equal(tr.c[0], c0)
    assert np.all(np.isnan(tr.gates[0])) and np.all(np.isnan(tr.logits[0]))
    zeros = lstm.forward(p, xs)
    np.testing.assert_array_equal(zeros.h[0], 0.0)
    np.testing.assert_array_equal(zeros.c[0], 0.0)


def test_extreme_preactivations_saturate_without_nan_or_warning():
    p, xs, _, _, _ = make_problem(3, 2, 2, 4, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's default overflow / invalid warnings become errors
        tr = lstm.forward(p._replace(W_x=1e4 * p.W_x), xs)
    assert np.all(np.isfinite(tr.h)) and np.all(np.abs(tr.h) <= 1)
    g = tr.gates[1:]
    assert np.all((g >= -1) & (g <= 1))


@given(T=st.integers(1, 6), B=st.integers(1, 4), X=st.integers(1, 4), H=st.integers(1, 5), Y=st.integers(2, 4),
       seed=st.integers(0, 1000))
def test_random_sizes_shapes_and_step_equals_vectorized(T, B, X, H, Y, seed):
    p, xs, targets, h0, c0 = make_problem(T, B, X, H, Y, seed=seed)
    loss_v, g_v = lstm.bptt(p, xs, targets, h0, c0)
    loss_s, g_s = lstm.bptt_steps(p, xs, targets, h0, c0)
    assert np.isfinite(loss_v) and loss_v == pytest.approx(loss_s, rel=1e-12)
    for a, b, w in zip(g_v, g_s, p):
        assert a.shape == w.shape
        assert rel_error(a, b) < 1e-11
    assert p.count() == 4 * H * (X + H + 1) + Y * (H + 1)


# ---------------------------------------------------------------------------------------------
# Jacobians: the state (h, c), the carousel, long products as exact log-norms
# ---------------------------------------------------------------------------------------------


def _one_step(p, x_t, s):
    H = p.n_hidden
    h, c, _, _ = lstm.step_forward(x_t[None], s[None, :H], s[None, H:], p)
    return np.concatenate([h[0], c[0]])


def test_step_jacobian_matches_finite_differences():
    p, xs, _, h0, c0 = make_problem(5, 2, 3, 4, 3, seed=7)
    tr = lstm.forward(p, xs, h0, c0)
    for t in (1, 3, 5):
        for b in range(2):
            s = np.concatenate([tr.h[t - 1, b], tr.c[t - 1, b]])
            num = numerical_jacobian(lambda: _one_step(p, xs[t - 1, b], s), s)
            assert rel_error(lstm.step_jacobian(p, tr, t)[b], num) < 1e-8


def test_cell_jacobian_is_forget_gate_plus_paths_through_the_gates():
    p, xs, _, h0, c0 = make_problem(6, 2, 3, 4, 3, seed=8)
    tr = lstm.forward(p, xs, h0, c0)
    H = p.n_hidden
    for t in (2, 4, 6):
        total, carousel = lstm.cell_jacobian(p, tr, t)
        for b in range(2):
            c_prev = tr.c[t - 1, b].copy()
            o_prev = tr.o[t - 1, b]

            def c_t():  # h_{t-1} = o_{t-1} tanh(c_{t-1}) is recomputed from the perturbed c_{t-1}
                return _one_step(p, xs[t - 1, b], np.concatenate([o_prev * np.tanh(c_prev), c_prev]))[H:]

            num = numerical_jacobian(c_t, c_prev)
            assert rel_error(total[b], num) < 1e-8
            np.testing.assert_array_equal(carousel[b], np.diag(tr.f[t, b]))
            assert rel_error(carousel[b], num) > 1e-3  # the gate paths are not negligible here


def test_product_jacobian_is_the_chain_and_log_norms_match_it():
    p, xs, targets, h0, c0 = make_problem(6, 2, 3, 4, 3, seed=9)
    tr = lstm.forward(p, xs, h0, c0)
    H = p.n_hidden
    J = lstm.jacobian(p, tr, 6, 2)
    chain = lstm.step_jacobian(p, tr, 6)
    for j in (5, 4, 3):
        chain = chain @ lstm.step_jacobian(p, tr, j)
    np.testing.assert_allclose(J, chain, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(lstm.jacobian(p, tr, 3, 3)[0], np.eye(2 * H))
    for ord in (2, "fro"):
        ln = lstm.jacobian_log_norms(p, tr, ord=ord)
        for k in range(7):
            Jk = lstm.jacobian(p, tr, 6, k)
            np.testing.assert_allclose(ln["h"][k], np.log10(np.linalg.norm(Jk[:, :H, :H], ord=ord, axis=(1, 2))),
                                       atol=1e-10)
            np.testing.assert_allclose(ln["c"][k], np.log10(np.linalg.norm(Jk[:, H:, H:], ord=ord, axis=(1, 2))),
                                       atol=1e-10)


def test_loss_gradient_log_norms_match_finite_differences_of_the_last_loss_term():
    p, xs, targets, h0, c0 = make_problem(5, 2, 3, 4, 3, seed=11)
    tr = lstm.forward(p, xs, h0, c0)
    prof = lstm.loss_gradient_log_norms(p, tr, targets)
    k = 2
    for b in range(2):
        s = np.concatenate([tr.h[k, b], tr.c[k, b]])

        def last_loss():  # L_T of example b as a function of the state s_k
            trk = lstm.forward(p, xs[k:, b:b + 1], s[None, :4], s[None, 4:])
            return -np.log(trk.y_hat[-1, 0, targets[-1, b]])

        g = numerical_gradient(last_loss, s)
        assert prof["h"][k, b] == pytest.approx(np.log10(np.linalg.norm(g[:4])), abs=1e-7)
        assert prof["c"][k, b] == pytest.approx(np.log10(np.linalg.norm(g[4:])), abs=1e-7)


def test_log_norms_do_not_underflow_at_T_1000():
    rng = np.random.default_rng(0)
    p = lstm.init_lstm_params(3, 4, 2, seed=0, forget_bias=-3.0)  # f ~ 0.05: the carousel leaks fast
    xs = rng.standard_normal((1000, 1, 3))
    tr = lstm.forward(p, xs)
    ln = lstm.jacobian_log_norms(p, tr, ord="fro")
    assert np.all(np.isfinite(ln["c"])) and ln["c"][0, 0] < -400  # far below float64's 1e-308
    # the log-norm falls about linearly in the lag: the first and second halves decay alike
    assert (ln["c"][500, 0] - ln["c"][0, 0]) == pytest.approx(ln["c"][1000, 0] - ln["c"][500, 0], rel=0.2)


def test_vanilla_loss_gradient_log_norms_match_finite_differences():
    from rnnlib import forward, init_params

    rng = np.random.default_rng(1)
    p = init_params(3, 4, 3, seed=1)
    xs, targets = rng.standard_normal((5, 2, 3)), rng.integers(0, 3, (5, 2))
    tr = forward(p, xs)
    prof = lstm.rnn_loss_gradient_log_norms(p, tr, targets)
    k, b = 2, 1
    h = tr.h[k, b].copy()
    g = numerical_gradient(lambda: -np.log(forward(p, xs[k:, b:b + 1], h[None]).y_hat[-1, 0, targets[-1, b]]), h)
    assert prof[k, b] == pytest.approx(np.log10(np.linalg.norm(g)), abs=1e-7)


# ---------------------------------------------------------------------------------------------
# Bad input: ValueErrors that name the argument
# ---------------------------------------------------------------------------------------------


def test_bad_input_raises_value_errors_naming_the_argument():
    p, xs, targets, h0, c0 = make_problem(4, 2, 3, 5, 3)
    with pytest.raises(ValueError, match=r"params.W_h: expected shape \(4H, H\)"):
        lstm.forward(p._replace(W_h=np.zeros((15, 5))), xs)
    with pytest.raises(ValueError, match=r"params.W_x: expected shape \(20, X\)"):
        lstm.forward(p._replace(W_x=np.zeros((5, 3))), xs)
    with pytest.raises(ValueError, match=r"params.b: expected shape \(20,\)"):
        lstm.forward(p._replace(b=np.zeros(5)), xs)
    with pytest.raises(ValueError, match=r"params.W_yh: expected shape \(Y, 5\)"):
        lstm.forward(p._replace(W_yh=np.zeros((3, 4))), xs)
    with pytest.raises(ValueError, match="params.W_x: expected finite"):
        lstm.forward(p._replace(W_x=np.full_like(p.W_x, np.nan)), xs)
    with pytest.raises(ValueError, match="params: expected an LSTMParams"):
        lstm.forward(np.zeros(3), xs)
    with pytest.raises(ValueError, match="xs: expected a time-major"):
        lstm.forward(p, xs[0])
    with pytest.raises(ValueError, match="xs: expected last dimension X = 3"):
        lstm.forward(p, xs[..., :2])
    with pytest.raises(ValueError, match="xs: expected finite"):
        lstm.forward(p, np.full_like(xs, np.inf))
    with pytest.raises(ValueError, match=r"h0: expected shape \(B, H\) = \(2, 5\)"):
        lstm.forward(p, xs, h0=np.zeros((2, 4)))
    with pytest.raises(ValueError, match="c0: expected finite"):
        lstm.forward(p, xs, c0=np.full((2, 5), np.nan))
    with pytest.raises(ValueError, match=r"targets: expected shape \(T, B\)"):
        lstm.bptt(p, xs, targets[:2])
    with pytest.raises(ValueError, match="targets: expected classes in 0..2"):
        lstm.bptt(p, xs, targets + 5)
    tr = lstm.forward(p, xs)
    with pytest.raises(ValueError, match="t: expected an integer step"):
        lstm.step_jacobian(p, tr, 0)
    with pytest.raises(ValueError, match="t: expected an integer step"):
        lstm.cell_jacobian(p, tr, 1)
    with pytest.raises(ValueError, match="k: expected"):
        lstm.jacobian(p, tr, 2, 3)
    with pytest.raises(ValueError, match="ord: expected"):
        lstm.jacobian_log_norms(p, tr, ord=1)
    with pytest.raises(ValueError, match="trace: expected the LSTMTrace"):
        lstm.jacobian_log_norms(p, tr._asdict())
    with pytest.raises(ValueError, match="forget_bias: expected a finite number"):
        lstm.init_lstm_params(3, 4, 2, forget_bias=np.nan)
    with pytest.raises(ValueError, match="n_hidden: expected a positive integer"):
        lstm.init_lstm_params(3, 0, 2)
    with pytest.raises(ValueError, match="name: expected one of"):
        p.block("x")
    with pytest.raises(ValueError, match="model: expected 'lstm' or 'rnn'"):
        lstm.flops_per_step(3, 4, 2, model="gru")


# ---------------------------------------------------------------------------------------------
# Counting, and the long-range task
# ---------------------------------------------------------------------------------------------


def test_counts():
    p = lstm.init_lstm_params(7, 16, 3)
    assert p.count() == 4 * 16 * (7 + 16 + 1) + 3 * 17
    assert lstm.flops_per_step(7, 16, 3) == 4 * 16 * 23 + 48
    assert lstm.flops_per_step(7, 16, 3, "rnn") == 16 * 23 + 48


def test_forget_bias_sets_the_initial_forget_gate():
    for fb in (0.0, 1.0):
        p = lstm.init_lstm_params(3, 4, 2, forget_bias=fb)
        np.testing.assert_array_equal(p.b[4:8], fb)
        assert np.all(np.delete(p.b, np.s_[4:8]) == 0)


def test_run_remember_first_is_deterministic_and_learns_a_short_span():
    acc1, hist1, _ = lstm.run_remember_first(5, 0, n_steps=60)
    acc2, hist2, _ = lstm.run_remember_first(5, 0, n_steps=60)
    assert acc1 == acc2 and np.array_equal(hist1["loss"], hist2["loss"])
    assert acc1 >= 0.9, acc1  # a span of 5 is easy
    assert hist1["loss"][-10:].mean() < 0.5 * hist1["loss"][:10].mean()


# ---------------------------------------------------------------------------------------------
# An independent oracle: torch.nn.LSTM with copied weights (skipped without torch)
# ---------------------------------------------------------------------------------------------


def test_matches_torch_lstm_with_copied_weights():
    torch = pytest.importorskip("torch")
    p, xs, targets, h0, c0 = make_problem(6, 3, 4, 5, 3, seed=12)
    H = p.n_hidden
    m = torch.nn.LSTM(4, H).double()
    with torch.no_grad():
        m.weight_ih_l0.copy_(torch.from_numpy(p.W_x))
        m.weight_hh_l0.copy_(torch.from_numpy(p.W_h))
        m.bias_ih_l0.copy_(torch.from_numpy(p.b))
        m.bias_hh_l0.zero_()
    W_yh = torch.tensor(p.W_yh, requires_grad=True)
    b_y = torch.tensor(p.b_y, requires_grad=True)
    out, (hT, cT) = m(torch.from_numpy(xs), (torch.from_numpy(h0)[None], torch.from_numpy(c0)[None]))
    logits = out @ W_yh.T + b_y
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 3), torch.from_numpy(targets).reshape(-1),
                                             reduction="sum") / 3
    loss.backward()
    tr = lstm.forward(p, xs, h0, c0)
    np.testing.assert_allclose(tr.h[1:], out.detach().numpy(), rtol=0, atol=1e-13)
    np.testing.assert_allclose(tr.c[-1], cT[0].detach().numpy(), rtol=0, atol=1e-13)
    ours_loss, g = lstm.bptt(p, xs, targets, h0, c0)
    assert ours_loss == pytest.approx(loss.item(), rel=1e-12)
    theirs = [m.weight_ih_l0.grad, m.weight_hh_l0.grad, m.bias_ih_l0.grad, W_yh.grad, b_y.grad]
    for name, a, b in zip(lstm.LSTMParams._fields, g, theirs):
        assert rel_error(a, b.numpy()) < 1e-11, name


# ---------------------------------------------------------------------------------------------
# The numbers behind notebook 08's figures and widget
# ---------------------------------------------------------------------------------------------


def test_gradient_profiles_follow_the_forget_bias():
    prof = {fb: lstm.gradient_profiles(60, forget_bias=fb) for fb in (0.0, 1.0, 2.0)}
    for fb, pr in prof.items():
        assert set(pr) == {"rnn", "lstm_h", "lstm_c"} and all(v.shape == (61,) for v in pr.values())
        np.testing.assert_array_equal(pr["rnn"], prof[0.0]["rnn"])  # the vanilla RNN does not have the gate
    # a larger forget bias keeps more of the gradient at long lags
    assert prof[0.0]["lstm_c"][60] < prof[1.0]["lstm_c"][60] < prof[2.0]["lstm_c"][60]


def test_gate_explorer_redraws_what_gradient_profiles_computes():
    from rnnlib.plots import lstm as lp

    ex = lp.gate_explorer(T=40)
    assert ex.image.value[:4] == b"\x89PNG"
    ex.sliders["forget_bias"].value = 2.0
    ex.sliders["input_scale"].value = 2.0
    expected = lstm.gradient_profiles(40, forget_bias=2.0, input_scale=2.0)
    lines = ex.figure.axes[0].get_lines()
    assert len(lines) == 3
    for line, key in zip(lines, ("rnn", "lstm_h", "lstm_c")):
        np.testing.assert_array_equal(line.get_ydata(), expected[key])
    assert "forget bias 2" in ex.figure.axes[0].get_title()


def test_measured_decay_is_slower_than_the_most_open_unit_which_is_slower_than_the_mean_gate():
    # Notebook 08's explanation of why dL_T/dc_k decays more slowly than log10(mean f_t) per step:
    # the diagonal product follows its most open unit, and the gate paths slow the decay further.
    T, H = 60, 16
    xs, _, _ = tasks.remember_first(T, 8, np.random.default_rng(0))

    def per_step(y):
        return (y[T] - y[10]) / (T - 10)

    for fb in (0.0, 1.0, 2.0):
        measured = per_step(lstm.gradient_profiles(T, H, 8, forget_bias=fb, seed=0)["lstm_c"])
        f = lstm.forward(lstm.init_lstm_params(7, H, 3, seed=0, forget_bias=fb), xs).f[1:]
        logs = np.concatenate([np.zeros((1, 8, H)), np.cumsum(np.log10(f[::-1]), axis=0)])
        most_open = per_step(np.median(logs.max(axis=2), axis=1))
        assert np.log10(f.mean()) < most_open < measured, (fb, np.log10(f.mean()), most_open, measured)


# ---- foreign traces, caches and the caller's arrays (issue 14) -------------------------------


@pytest.mark.parametrize("other", [dict(X=4), dict(Y=4), dict(H=6)], ids=["other X", "other Y", "other H"])
def test_a_trace_of_another_model_is_named_not_used(other):
    """Before: another X gave W_x gradients of the wrong shape silently, another Y an IndexError."""
    sizes = dict(X=3, H=5, Y=3) | other
    p = lstm.init_lstm_params(3, 5, 3)
    foreign = lstm.init_lstm_params(sizes["X"], sizes["H"], sizes["Y"], seed=1)
    trace = lstm.forward(foreign, np.ones((4, 2, sizes["X"])))
    targets = np.zeros((4, 2), dtype=int)
    for call in (lambda: lstm.backward(p, trace, targets), lambda: lstm.jacobian(p, trace, 3, 1),
                 lambda: lstm.jacobian_log_norms(p, trace), lambda: lstm.loss_gradient_log_norms(p, trace, targets)):
        with pytest.raises(ValueError, match="^trace: expected"):
            call()


def test_forward_keeps_its_own_copy_of_xs():
    """Editing xs in place after forward must not change what backward computes from the trace."""
    p = lstm.init_lstm_params(3, 5, 3)
    xs = np.random.default_rng(0).standard_normal((4, 2, 3))
    targets = np.zeros((4, 2), dtype=int)
    trace = lstm.forward(p, xs)
    before = lstm.backward(p, trace, targets)[1]
    xs[:] = 100.0
    after = lstm.backward(p, trace, targets)[1]
    assert all(np.array_equal(a, b) for a, b in zip(before, after))


def test_step_functions_check_their_arguments():
    p = lstm.init_lstm_params(3, 5, 3)
    x, h, c = np.ones((2, 3)), np.zeros((2, 5)), np.zeros((2, 5))
    with pytest.raises(ValueError, match=r"^params: expected an LSTMParams"):
        lstm.step_forward(x, h, c, tuple(p)[:4])
    with pytest.raises(ValueError, match=r"^h_prev: expected finite values"):
        lstm.step_forward(x, h * np.nan, c, p)
    with pytest.raises(ValueError, match=r"^x_t: expected last dimension X = 3"):
        lstm.step_forward(np.ones((2, 4)), h, c, p)
    cache = lstm.step_forward(x, h, c, p)[3]
    with pytest.raises(ValueError, match=r"^dlogits_t: expected shape \(B, Y\) = \(2, 3\)"):
        lstm.step_backward(np.ones((2, 4)), h, c, cache)
    with pytest.raises(ValueError, match=r"^cache: expected the LSTMStepCache"):
        lstm.step_backward(np.ones((2, 3)), h, c, tuple(cache))
