"""Tests of rnnlib.train (optimizers, data helpers, training loops, sampling) and rnnlib.tasks."""

import numpy as np
import pytest

import rnnlib
from rnnlib import remedies, tasks, train


# ---- optimizers ----------------------------------------------------------------------------


def _quadratic():
    """f(theta) = 1/2 sum_i a_i (theta_i - c_i)^2 over two arrays; minimum at c."""
    a = (np.array([1.0, 4.0, 0.5]), np.array([[2.0, 1.0], [3.0, 0.25]]))
    c = (np.array([1.0, -2.0, 3.0]), np.array([[0.5, -1.0], [2.0, 4.0]]))
    grad = lambda th: tuple(ai * (t - ci) for ai, t, ci in zip(a, th, c))
    return grad, c, (np.zeros(3), np.zeros((2, 2)))


@pytest.mark.parametrize("opt", [train.SGD(0.2), train.SGD(0.1, momentum=0.9), train.Adagrad(0.5),
                                 train.Adam(0.05)], ids=["sgd", "momentum", "adagrad", "adam"])
def test_optimizer_converges_on_quadratic(opt):
    grad, c, theta = _quadratic()
    for _ in range(2000):
        theta = opt.step(theta, grad(theta))
    for t, ci in zip(theta, c):
        np.testing.assert_allclose(t, ci, atol=1e-3)


def test_sgd_step_exact():
    new = train.SGD(0.5).step((np.array([1.0]),), (np.array([4.0]),))
    assert new[0][0] == -1.0


def test_adam_first_step_is_lr_times_sign():
    """With bias correction, Adam's first step is lr * g / (|g| + eps) = lr * sign(g)."""
    new = train.Adam(0.1).step((np.zeros(3),), (np.array([2.0, -0.5, 1e3]),))
    np.testing.assert_allclose(new[0], [-0.1, 0.1, -0.1], rtol=1e-6)


def test_adagrad_first_step():
    new = train.Adagrad(0.1).step((np.zeros(2),), (np.array([3.0, -4.0]),))
    np.testing.assert_allclose(new[0], [-0.1, 0.1], rtol=1e-6)


def test_optimizer_keeps_type_and_checks_shapes():
    p = rnnlib.init_params(2, 3, 2)
    new = train.Adam().step(p, p.zeros_like())
    assert isinstance(new, rnnlib.RNNParams)
    with pytest.raises(ValueError, match="grads"):
        train.SGD().step(p, p[:4])
    with pytest.raises(ValueError, match="lr"):
        train.Adam(lr=-1.0)


# ---- data helpers --------------------------------------------------------------------------


def test_vocab_encode_decode_roundtrip():
    text = "hello world\n"
    vocab = train.build_vocab(text)
    assert vocab == sorted(set(text))
    assert train.decode(train.encode(text, vocab), vocab) == text
    with pytest.raises(ValueError, match="text"):
        train.encode("xyz", vocab)


def test_one_hot():
    x = train.one_hot(np.array([[0, 2], [1, 1]]), 3)
    assert x.shape == (2, 2, 3)
    np.testing.assert_array_equal(x[0, 1], [0, 0, 1])
    with pytest.raises(ValueError, match="ids"):
        train.one_hot(np.array([3]), 3)


def test_batch_streams_and_chunks_cover_the_text_in_order():
    ids = np.arange(23)
    streams = train.batch_streams(ids, 3)
    assert streams.shape == (7, 3)
    np.testing.assert_array_equal(streams[:, 1], np.arange(7, 14))  # contiguous stream
    chunks = list(train.chunk_batches(streams, 4))
    assert [c[0].shape[0] for c in chunks] == [4, 2]
    inputs = np.concatenate([c[0] for c in chunks])
    targets = np.concatenate([c[1] for c in chunks])
    np.testing.assert_array_equal(targets, inputs + 1)  # target = next character
    np.testing.assert_array_equal(inputs, streams[:-1])
    with pytest.raises(ValueError, match="B"):
        train.batch_streams(ids, 0)


# ---- training loops and sampling -----------------------------------------------------------


def test_train_step_on_consecutive_chunks_is_chunked_truncation():
    params = rnnlib.init_params(3, 4, 3, seed=0)
    rng = np.random.default_rng(0)
    xs, ys = rng.standard_normal((6, 2, 3)), rng.integers(0, 3, (6, 2))
    new, loss, norm, h = train.train_step(params, xs, ys, train.SGD(0.1))
    np.testing.assert_array_equal(h, rnnlib.forward(params, xs).h[-1])
    _, g = rnnlib.bptt(params, xs, ys)
    assert np.isclose(loss, rnnlib.bptt(params, xs, ys)[0])
    np.testing.assert_allclose(new.W_hh, params.W_hh - 0.1 * g.W_hh)
    assert np.isclose(norm, remedies.global_norm(g))
    # Two chunks of 3 with the state carried: the gradients sum to bptt_chunked's with k = 3.
    opt = train.SGD(1.0)
    p1, _, _, h3 = train.train_step(params, xs[:3], ys[:3], opt)
    _, g_chunked, _ = remedies.bptt_chunked(params, xs, ys, k=3)
    _, g_second = rnnlib.bptt(params, xs[3:], ys[3:], h3)
    _, g_first = rnnlib.bptt(params, xs[:3], ys[:3])
    np.testing.assert_allclose(g_first.W_hh + g_second.W_hh, g_chunked.W_hh, rtol=1e-12)
    np.testing.assert_allclose(p1.W_hh, params.W_hh - g_first.W_hh)


def test_train_on_batches_learns_short_memory_task():
    rng = np.random.default_rng(0)
    params = remedies.init_rnn(7, 12, 3, "gaussian", spectral_radius=1.0, seed=0)
    params, hist = train.train_on_batches(params, lambda i: tasks.remember_first(3, 16, rng)[:2], 150,
                                          train.Adam(0.02), clip_norm=5.0)
    assert hist["loss"][-10:].mean() < 0.2 * hist["loss"][:10].mean()
    xs, ys, _ = tasks.remember_first(3, 200, np.random.default_rng(1))
    assert tasks.last_step_accuracy(params, xs, ys) > 0.95


def test_train_char_rnn_lowers_loss():
    text = "abcabcabd" * 30
    vocab = train.build_vocab(text)
    streams = train.batch_streams(train.encode(text, vocab), 4)
    params = rnnlib.init_params(len(vocab), 16, len(vocab), seed=0)
    params, hist = train.train_char_rnn(params, streams, 120, train.Adam(0.02), k=10)
    assert hist["loss"].shape == (120,)
    assert hist["loss"][-10:].mean() < 0.6 * np.log(len(vocab))


def test_sample_is_seeded_and_temperature_sharpens():
    params = rnnlib.init_params(5, 8, 5, seed=2, scale=3.0)
    a = train.sample(params, np.array([0, 1]), 50, rng=np.random.default_rng(0))
    b = train.sample(params, np.array([0, 1]), 50, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (50,) and a.min() >= 0 and a.max() < 5
    ids, hs = train.sample(params, np.array([0, 1]), 5, rng=np.random.default_rng(0), return_states=True)
    assert hs.shape == (6, 8)
    # Very low temperature: always the argmax of the logits.
    cold = train.sample(params, np.array([3]), 1, temperature=1e-6, rng=np.random.default_rng(5))
    h = rnnlib.forward(params, train.one_hot(np.array([[3]]), 5)).h[1, 0]
    assert cold[0] == np.argmax(h @ params.W_yh.T + params.b_y)
    with pytest.raises(ValueError, match="temperature"):
        train.sample(params, np.array([0]), 3, temperature=0.0, rng=np.random.default_rng(0))


def test_sample_frequencies_match_softmax():
    """Oracle: the empirical frequency of the first sampled id is softmax(logits / tau)."""
    params = rnnlib.init_params(3, 4, 3, seed=1, scale=2.0)
    h = rnnlib.forward(params, train.one_hot(np.array([[1]]), 3)).h[1, 0]
    z = (h @ params.W_yh.T + params.b_y) / 0.7
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    rng = np.random.default_rng(0)
    counts = np.bincount([train.sample(params, np.array([1]), 1, temperature=0.7, rng=rng)[0]
                          for _ in range(3000)], minlength=3)
    assert np.all(np.abs(counts / 3000 - p) < 5 * np.sqrt(p * (1 - p) / 3000) + 1e-9)


# ---- tasks ---------------------------------------------------------------------------------


def test_remember_first_layout():
    xs, ys, first = tasks.remember_first(6, 5, np.random.default_rng(0), n_symbols=2, n_distractors=3)
    assert xs.shape == (6, 5, 6) and ys.shape == (6, 5)
    np.testing.assert_array_equal(np.argmax(xs[0], axis=-1), first)
    assert np.all(np.argmax(xs[1:-1], axis=-1) >= 2) and np.all(np.argmax(xs[-1], axis=-1) == 5)
    assert np.all(ys[:-1] == 0)
    np.testing.assert_array_equal(ys[-1], first + 1)
    with pytest.raises(ValueError, match="T"):
        tasks.remember_first(1, 5, np.random.default_rng(0))


def test_figures_dict_functions_return_figures():
    """Each FIGURES entry builds a Figure (the slow char-RNN one is checked by name only)."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from rnnlib.plots import diagrams, remedies as remedy_plots, training

    assert set(remedy_plots.FIGURES) == {"06-cliff.svg", "06-clipping-curves.svg"}
    assert set(training.FIGURES) == {"07-char-rnn-loss.svg"}
    fig = remedy_plots.FIGURES["06-cliff.svg"]()
    assert isinstance(fig, Figure) and len(fig.axes) == 6  # 3 panels, 2 colour bars, 1 twin axis
    assert "step 33" in fig.axes[0].get_title()  # the title states where the unclipped path jumps
    plt.close(fig)
    fig = training.text_activation_figure("ab\ncd", np.array([[0.5, -0.5, 0.0, 1.0, -1.0]]), ["u"], width=3)
    assert isinstance(fig, Figure)
    # text colour follows the background: white on the saturated ends (+1, -1), ink on the pale middle (0)
    colors = {t.get_text(): t.get_color() for t in fig.axes[0].texts}
    assert colors["c"] == "white" and colors["d"] == "white" and colors["⏎"] == diagrams.INK
    bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(bars) == 1 and bars[0].get_ylim() == (-1.0, 1.0), "one colour bar from -1 to +1"
    plt.close(fig)


def test_clipping_experiment_small():
    """theta is the percentile of the control runs' norms; the clipped run's steps are capped by it."""
    from rnnlib import examples

    res = examples.clipping_experiment(T=4, seeds=[0], n_steps=15, percentile=50)
    control = res["runs"]["control"][0][1]["grad_norm"]
    assert np.isclose(res["theta"], np.percentile(control, 50))
    assert set(res["runs"]) == {"control", "large", "clipped"}
    # the clipped and unclipped large-step runs see the same first gradient (same seed, same batch)
    assert res["runs"]["clipped"][0][1]["grad_norm"][0] == res["runs"]["large"][0][1]["grad_norm"][0]


# ---- evaluation helpers (notebook 07) ------------------------------------------------------


def test_char_loss_equals_bptt_loss_per_character():
    params = rnnlib.init_params(4, 5, 4, seed=3)
    ids = np.random.default_rng(0).integers(0, 4, size=30)
    loss, _, _ = rnnlib.bptt_steps(params, train.one_hot(ids[:-1, None], 4), ids[1:, None])
    assert np.isclose(train.char_loss(params, ids), loss / 29, rtol=1e-12)
    with pytest.raises(ValueError, match="ids"):
        train.char_loss(params, ids[:1])


def test_bigram_loss_exact():
    # "abab": a -> b twice, b -> a once. Add-one: P(b|a) = 3/4, P(a|b) = 2/3.
    train_ids, test_ids = np.array([0, 1, 0, 1]), np.array([0, 1, 0])
    expected = -(np.log(3 / 4) + np.log(2 / 3)) / 2
    assert np.isclose(train.bigram_loss(train_ids, test_ids, 2, alpha=1.0), expected, rtol=1e-12)
    assert train.bigram_loss(train_ids, test_ids, 2, alpha=0.0) == 0.0  # every test pair was always seen
    with pytest.raises(ValueError, match="test_ids"):
        train.bigram_loss(train_ids, np.array([0, 2]), 2)
    with pytest.raises(ValueError, match="alpha"):
        train.bigram_loss(train_ids, test_ids, 2, alpha=-1.0)


def test_probe_r2_against_least_squares():
    rng = np.random.default_rng(0)
    S = rng.standard_normal((200, 5))
    beta = np.array([1.0, -2.0, 0.5, 0.0, 3.0])
    y = S @ beta + 0.7  # exactly linear (with an intercept): R^2 = 1 up to the tiny ridge
    assert train.probe_r2(S[:150], y[:150], S[150:], y[150:], ridge=1e-9) > 1 - 1e-9
    y_noisy = y + rng.standard_normal(200)
    A = np.column_stack([S[:150], np.ones(150)])
    coef = np.linalg.lstsq(A, y_noisy[:150], rcond=None)[0]  # oracle: ordinary least squares
    pred = np.column_stack([S[150:], np.ones(50)]) @ coef
    r2 = 1 - np.sum((y_noisy[150:] - pred) ** 2) / np.sum((y_noisy[150:] - y_noisy[150:].mean()) ** 2)
    assert np.isclose(train.probe_r2(S[:150], y_noisy[:150], S[150:], y_noisy[150:], ridge=0.0), r2, rtol=1e-10)
    with pytest.raises(ValueError, match="y_fit"):
        train.probe_r2(S, y[:10], S, y)


def test_train_char_rnn_evaluate_hook():
    text = "abcabcabd" * 10
    vocab = train.build_vocab(text)
    ids = train.encode(text, vocab)
    streams = train.batch_streams(ids, 2)
    params = rnnlib.init_params(len(vocab), 6, len(vocab), seed=0)
    seen = []
    final, hist = train.train_char_rnn(params, streams, 5, train.Adam(0.02), k=4,
                                       evaluate=lambda p: seen.append(p) or float(len(seen)), eval_every=2)
    np.testing.assert_array_equal(hist["eval_step"], [2, 4, 5])
    np.testing.assert_array_equal(hist["eval"], [1.0, 2.0, 3.0])
    for a, b in zip(seen[-1], final):
        np.testing.assert_array_equal(a, b)  # the last evaluation sees the final parameters
    _, plain = train.train_char_rnn(params, streams, 5, train.Adam(0.02), k=4)
    np.testing.assert_array_equal(plain["loss"], hist["loss"])  # evaluating does not change training
    with pytest.raises(ValueError, match="eval_every"):
        train.train_char_rnn(params, streams, 5, train.Adam(0.02), evaluate=lambda p: 0.0, eval_every=0)


# ---- notebook 07's shared setup ------------------------------------------------------------


def test_char_rnn_setup_is_the_recipe_of_notebook_07():
    s = train.char_rnn_setup()
    text = train.load_text()
    assert s.text == text and s.vocab == train.build_vocab(text)
    assert np.array_equal(s.ids, train.encode(text, s.vocab))
    assert s.n_train == int(0.9 * len(s.ids))
    assert np.array_equal(np.concatenate([s.train_ids, s.heldout_ids]), s.ids)
    assert (s.B, s.k, s.H, s.theta, s.lr) == (32, 25, 64, 25.0, 0.01)
    assert train.char_rnn_setup(train_fraction=0.5, k=10).n_train == len(s.ids) // 2


# ---- bad input (issue 14): the cases a learner meets first ----------------------------------


def test_chunk_batches_checks_its_arguments_when_called_not_at_the_first_next():
    with pytest.raises(ValueError, match="^k: expected an integer >= 1, got 0$"):
        train.chunk_batches(np.zeros((6, 2), dtype=int), 0)  # no next(): the call itself raises
    with pytest.raises(ValueError, match="^streams: expected"):
        train.chunk_batches(np.zeros(6, dtype=int), 2)
    chunks = list(train.chunk_batches(np.arange(12).reshape(6, 2), 2))  # the valid call still yields chunks
    assert [c[0].shape[0] for c in chunks] == [2, 2, 1]


@pytest.mark.parametrize("make", [lambda: train.Adagrad(eps=np.nan), lambda: train.Adam(eps=-1e-8),
                                  lambda: train.Adam(eps=np.inf), lambda: train.SGD(lr=True)])
def test_optimizers_reject_nan_negative_infinite_or_bool_settings(make):
    with pytest.raises(ValueError, match=r"^(eps|lr): expected a finite number > 0"):
        make()


@pytest.mark.parametrize("opt", [train.SGD(0.1), train.Adagrad(0.1), train.Adam(0.1)], ids=["sgd", "adagrad", "adam"])
def test_optimizer_step_rejects_nan_gradients_and_a_model_change(opt):
    p, g = rnnlib.init_params(3, 5, 3), rnnlib.init_params(3, 5, 3, seed=1)
    with pytest.raises(ValueError, match=r"^grads\.W_hh: expected finite values"):
        opt.step(p, g._replace(W_hh=g.W_hh * np.nan))
    opt.step(p, g)  # the first step fixes the shapes of the running statistics
    with pytest.raises(ValueError, match=r"^params\.W_hx: expected shape \(5, 3\) like the parameters of the "
                                         r"optimizer's first step"):
        opt.step(rnnlib.init_params(4, 5, 3), rnnlib.init_params(4, 5, 3))


@pytest.mark.parametrize("loop", ["train_step", "train_on_batches", "train_char_rnn"])
def test_a_string_optimizer_is_named_before_any_training(loop):
    p = rnnlib.init_params(3, 4, 3)
    xs, targets = np.eye(3)[[[0, 1], [2, 0]]], np.array([[1, 2], [0, 1]])
    calls = {"train_step": lambda: train.train_step(p, xs, targets, "adam"),
             "train_on_batches": lambda: train.train_on_batches(p, lambda i: (xs, targets), 2, "adam"),
             "train_char_rnn": lambda: train.train_char_rnn(p, np.zeros((6, 2), dtype=int), 2, "adam", k=2)}
    with pytest.raises(ValueError, match=r"^optimizer: expected an optimizer object with a step\(params, grads\) "
                                         r"method, e\.g\. rnnlib\.train\.Adam\(0\.01\), got 'adam'$"):
        calls[loop]()


def test_decode_rejects_ids_outside_the_vocabulary_instead_of_wrapping():
    assert train.decode([0, 2], ["a", "b", "c"]) == "ac"
    for bad in ([-1], [3], [0.0], [True]):
        with pytest.raises(ValueError, match="^ids: expected an integer array of at least 0 ids in 0..2"):
            train.decode(bad, ["a", "b", "c"])


def test_last_step_accuracy_checks_its_targets():
    p = rnnlib.init_params(7, 4, 3)
    xs, targets, _ = tasks.remember_first(4, 2, np.random.default_rng(0))
    assert 0.0 <= tasks.last_step_accuracy(p, xs, targets) <= 1.0
    for bad in ("abc", targets.astype(float), targets + 3, targets[:, :1]):
        with pytest.raises(ValueError, match="^targets: expected"):
            tasks.last_step_accuracy(p, xs, bad)


def test_make_batch_errors_name_make_batch_and_the_step():
    p = rnnlib.init_params(3, 4, 3)
    xs, targets = np.eye(3)[[[0, 1], [2, 0]]], np.array([[1, 2], [0, 1]])
    with pytest.raises(ValueError, match=r"^make_batch: expected a valid batch from make_batch\(0\), got targets: "):
        train.train_on_batches(p, lambda i: (xs, targets + 5), 1, train.SGD(0.1))
    with pytest.raises(ValueError, match=r"^make_batch: expected a function returning a pair"):
        train.train_on_batches(p, lambda i: xs, 1, train.SGD(0.1))


def test_sample_with_an_absurd_length_is_a_memory_error_not_an_endless_loop():
    p = rnnlib.init_params(3, 4, 3)
    with pytest.raises(MemoryError):
        train.sample(p, np.array([0]), 10**12, rng=np.random.default_rng(0))


def test_probe_r2_of_a_constant_target_is_named_not_nan():
    S = np.random.default_rng(0).standard_normal((8, 3))
    with pytest.raises(ValueError, match="^y_test: expected values that vary"):
        train.probe_r2(S, np.arange(8.0), S[:4], np.ones(4))
