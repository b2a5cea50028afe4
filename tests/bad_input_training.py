"""Hostile-input table (tests/hostile.py) for the training group of rnnlib modules; see tests/test_bad_input.py.

Modules: rnnlib.train (optimizers and their `step`, text helpers, training loops, sampling),
rnnlib.remedies (truncated BPTT, clipping, initialization, the cliff, Omega), rnnlib.tasks,
rnnlib.ngram and rnnlib.lstm. Sizes are tiny (T = 4, B = 2, X = 3, H = 5, Y = 3; training loops
take 1-2 steps) so that the whole table runs in a few seconds.

Outcome counts of this table (named / wrong-name / other-exception / accepted / slow), the same
2932 cases run against the code of each branch:
    before the fixes (h14-base):  1764 / 645 / 138 / 384 / 1
    after the fixes (bad-training, with bad-core's central validators merged):  2932 / 0 / 0 / 0 / 0
"""

from __future__ import annotations

import numpy as np

import rnnlib
from hostile import (OPAQUE, Target, array, boolean, choice, custom, int_array, integer, optional, positive, real,
                     rng, text, without)
from rnnlib import lstm, ngram, remedies, tasks, train
from rnnlib.containers import RNNParams

T, B, X, H, Y = 4, 2, 3, 5, 3
ACTIVATION = choice("tanh", "sigmoid", "relu", "linear")


# ----------------------------------------------------------------------------------------------
# Valid values, built afresh
# ----------------------------------------------------------------------------------------------


def _rnn(X=X, H=H, Y=Y, seed=0):
    return rnnlib.init_params(X, H, Y, seed=seed)


def _lstm(X=X, H=H, Y=Y, seed=0):
    return lstm.init_lstm_params(X, H, Y, seed=seed)


def _xs(T=T, B=B, X=X, seed=1):
    return np.random.default_rng(seed).standard_normal((T, B, X))


def _targets(T=T, B=B, Y=Y, seed=2):
    return np.random.default_rng(seed).integers(0, Y, size=(T, B))


def _trace(X=X, H=H, Y=Y, T=T, B=B):
    return rnnlib.forward(_rnn(X, H, Y), _xs(T, B, X))


def _lstm_trace(X=X, H=H, Y=Y, T=T, B=B):
    return lstm.forward(_lstm(X, H, Y), _xs(T, B, X))


def _grads():
    return _rnn(seed=3)


def _nan_in(p, field, value=np.nan):
    a = getattr(p, field).copy()
    a.flat[-1] = value
    return p._replace(**{field: a})


# ----------------------------------------------------------------------------------------------
# Kinds of this group
# ----------------------------------------------------------------------------------------------


def rnn_params() -> "custom":
    p = _rnn()
    lp = _lstm()
    return custom(
        "RNNParams",
        ("None", None), ("str", "params"), ("opaque", OPAQUE), ("4-tuple", tuple(p)[:4]), ("list", list(p)),
        ("swapped W_hx, W_hh", RNNParams(p.W_hh, p.W_hx, p.b_h, p.W_yh, p.b_y)),
        ("nan W_hh", _nan_in(p, "W_hh")), ("inf b_y", _nan_in(p, "b_y", np.inf)),
        ("Y = 0", p._replace(W_yh=np.ones((0, H)), b_y=np.ones(0))),
        ("H = 0", RNNParams(np.ones((0, X)), np.ones((0, 0)), np.ones(0), np.ones((Y, 0)), np.ones(Y))),
        ("complex W_hh", p._replace(W_hh=p.W_hh + 1j)), ("object W_hx", p._replace(W_hx=p.W_hx.astype(object))),
        ("str b_h", p._replace(b_h=np.full(H, "a"))), ("bool W_hh", p._replace(W_hh=np.ones((H, H), dtype=bool))),
        ("LSTMParams", lp),
    )


def lstm_params() -> "custom":
    p = _lstm()
    return custom(
        "LSTMParams",
        ("None", None), ("str", "params"), ("opaque", OPAQUE), ("4-tuple", tuple(p)[:4]), ("list", list(p)),
        ("swapped W_x, W_h", p._replace(W_x=p.W_h, W_h=p.W_x)),
        ("nan W_h", _nan_in(p, "W_h")), ("inf b_y", _nan_in(p, "b_y", np.inf)),
        ("Y = 0", p._replace(W_yh=np.ones((0, H)), b_y=np.ones(0))),
        ("H = 0", lstm.LSTMParams(np.ones((0, X)), np.ones((0, 0)), np.ones(0), np.ones((Y, 0)), np.ones(Y))),
        ("complex W_h", p._replace(W_h=p.W_h + 1j)), ("object W_x", p._replace(W_x=p.W_x.astype(object))),
        ("str b", p._replace(b=np.full(4 * H, "a"))), ("bool W_h", p._replace(W_h=np.ones((4 * H, H), dtype=bool))),
        ("RNNParams", _rnn()),
    )


def arrays_like(name="RNNParams-like gradients") -> "custom":
    """A tuple of arrays with the shapes of the valid params (optimizer steps, clipping)."""
    g = _grads()
    return custom(
        name,
        ("None", None), ("str", "grads"), ("opaque", OPAQUE), ("4 arrays", tuple(g)[:4]),
        ("other shape", g._replace(b_h=np.ones(H + 1))), ("nan", _nan_in(g, "W_hh")), ("inf", _nan_in(g, "b_y", np.inf)),
        ("complex", g._replace(W_hh=g.W_hh + 1j)), ("str array", g._replace(b_h=np.full(H, "a"))),
        ("object array", g._replace(b_h=g.b_h.astype(object))), ("bool array", g._replace(W_hh=np.ones((H, H), bool))),
        ("one array", g.W_hh), ("int", 3),
    )


def trace_kind() -> "custom":
    t = _trace()
    return custom(
        "Trace of params", ("None", None), ("tuple", tuple(t)), ("array", t.h), ("opaque", OPAQUE), ("str", "trace"),
        ("other X", _trace(X=X + 1)), ("other Y", _trace(Y=Y + 1)), ("other H", _trace(H=H + 1)),
        ("LSTMTrace", _lstm_trace()), ("cut h", t._replace(h=t.h[:-1])),
    )


def lstm_trace_kind(other_T=True) -> "custom":
    t = _lstm_trace()
    return custom(
        "LSTMTrace of params", ("None", None), ("tuple", tuple(t)), ("array", t.h), ("opaque", OPAQUE), ("str", "trace"),
        ("other X", _lstm_trace(X=X + 1)), ("other Y", _lstm_trace(Y=Y + 1)), ("other H", _lstm_trace(H=H + 1)),
        ("RNN Trace", _trace()), ("cut h", t._replace(h=t.h[:-1])), ("cut gates", t._replace(gates=t.gates[:, :, :-1])),
    )


def optimizer_kind() -> "custom":
    return custom("optimizer with step(params, grads)", ("str", "adam"), ("None", None), ("opaque", OPAQUE),
                  ("class", train.Adam), ("int", 3))


def ids_kind(n, V, *, min_size=1, free=False) -> "custom":
    """A 1-D integer array of n ids in 0..V-1 (at least min_size)."""
    h = [("None", None), ("str", "abc"), ("opaque", OPAQUE), ("float", np.zeros(n) + 0.5),
         ("bool", np.ones(n, dtype=bool)), ("2-D", np.zeros((n, 2), dtype=int)), ("negative", np.full(n, -1)),
         ("entry V", np.full(n, V)), ("complex", np.zeros(n) + 1j), ("scalar", 1),
         (f"{min_size - 1} ids", np.zeros(min_size - 1, dtype=int))]
    return custom(f"1-D int ids in 0..{V - 1}", *h)


def vocab_kind() -> "custom":
    return custom("list of distinct characters", ("None", None), ("int", 3), ("opaque", OPAQUE),
                  ("duplicates", ["a", "a", "b"]), ("ints", [0, 1, 2]), ("multi-char", ["ab", "c", "d"]),
                  ("empty", []))


def dtype_kind() -> "custom":
    return custom("float dtype", ("str", "no-such-dtype"), ("opaque", OPAQUE), ("complex", np.complex128),
                  ("object", object), ("int", np.int64), ("bool", bool))


def callable_kind(name) -> "custom":
    return custom(name, ("None", None), ("str", "f"), ("opaque", OPAQUE), ("int", 3))


SEED = integer(0, None)
PAIRED = ("4 arrays", "other shape")  # invalid only against another argument, whose case they are
FRACTION_OPEN1 = real(0.0, 1.0, high_open=True)


# ----------------------------------------------------------------------------------------------
# rnnlib.train
# ----------------------------------------------------------------------------------------------


def _warm(opt_cls, **kw):
    """An optimizer after one valid step: `step` must then check its arguments against params too."""

    def call(params, grads):
        opt = opt_cls(**kw)
        opt.step(_rnn(), _grads())
        return opt.step(params, grads)

    return call


def _fresh(opt_cls):
    def call(params, grads):
        return opt_cls().step(params, grads)

    return call


# on a fresh optimizer params sets the shapes: a mismatch between the two is a case of grads
STEP_KINDS = {"params": without(arrays_like("RNNParams-like parameters"), "4 arrays", "other shape"),
              "grads": arrays_like()}

V = 3  # vocabulary of the character-level targets
VOCAB = ["a", "b", "c"]


def _streams():
    return np.random.default_rng(4).integers(0, V, size=(6, 2))


def _char_params():
    return _rnn(X=V, H=H, Y=V)


def _make_batch(i):
    return _xs(seed=i), _targets(seed=i)


def _bad_batch(what):
    def make_batch(i):
        xs, targets = _make_batch(i)
        return {"xs nan": (xs * np.nan, targets), "targets 3": (xs, targets + 3), "None": None,
                "one": xs, "xs 2-D": (xs[0], targets)}[what]

    return make_batch


TRAIN = [
    Target("rnnlib.train.SGD", train.SGD, lambda: {"lr": 0.1, "momentum": 0.5},
           {"lr": positive(), "momentum": FRACTION_OPEN1}),
    Target("rnnlib.train.Adagrad", train.Adagrad, lambda: {"lr": 0.1, "eps": 1e-8},
           {"lr": positive(), "eps": positive()}),
    Target("rnnlib.train.Adam", train.Adam, lambda: {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
           {"lr": positive(), "beta1": FRACTION_OPEN1, "beta2": FRACTION_OPEN1, "eps": positive()}),
    Target("rnnlib.train.SGD.step", _fresh(train.SGD), lambda: {"params": _rnn(), "grads": _grads()}, STEP_KINDS),
    Target("rnnlib.train.Adagrad.step", _fresh(train.Adagrad), lambda: {"params": _rnn(), "grads": _grads()},
           STEP_KINDS),
    Target("rnnlib.train.Adam.step", _fresh(train.Adam), lambda: {"params": _rnn(), "grads": _grads()}, STEP_KINDS),
    Target("rnnlib.train.SGD.step (after a step)", _warm(train.SGD, momentum=0.5),
           lambda: {"params": _rnn(), "grads": _grads()},
           {"params": custom("params like the first step's", ("other model", _rnn(H=H + 1)), ("3 arrays", tuple(_rnn())[:3])),
            "grads": custom("grads like the first step's", ("other model", _rnn(H=H + 1)))}),
    Target("rnnlib.train.Adam.step (after a step)", _warm(train.Adam), lambda: {"params": _rnn(), "grads": _grads()},
           {"params": custom("params like the first step's", ("other model", _rnn(H=H + 1)), ("3 arrays", tuple(_rnn())[:3])),
            "grads": custom("grads like the first step's", ("other model", _rnn(H=H + 1)))}),
    Target("rnnlib.train.Adagrad.step (after a step)", _warm(train.Adagrad), lambda: {"params": _rnn(), "grads": _grads()},
           {"params": custom("params like the first step's", ("other model", _rnn(H=H + 1)))}),
    Target("rnnlib.train.build_vocab", train.build_vocab, lambda: {"text": "abcab"},
           {"text": custom("non-empty str", *text().hostile, ("empty", ""))}),
    Target("rnnlib.train.encode", train.encode, lambda: {"text": "abca", "vocab": list(VOCAB)},
           {"text": custom("str of vocab's characters", *text().hostile, ("unknown character", "abz")),
            "vocab": vocab_kind()}),
    Target("rnnlib.train.decode", train.decode, lambda: {"ids": np.array([0, 2, 1]), "vocab": list(VOCAB)},
           {"ids": without(int_array((3,), 0, V - 1), "extra axis"), "vocab": vocab_kind()}),
    Target("rnnlib.train.one_hot", train.one_hot, lambda: {"ids": np.array([[0, 2], [1, 1]]), "n": V, "dtype": np.float64},
           {"ids": without(int_array((2, 2), 0, V - 1), "extra axis"), "n": integer(1, None, huge=True),
            "dtype": dtype_kind()}),
    Target("rnnlib.train.batch_streams", train.batch_streams, lambda: {"ids": np.arange(12) % V, "B": 2},
           {"ids": without(ids_kind(12, 10**9, min_size=2), "entry V"), "B": integer(1, 6)}),
    Target("rnnlib.train.chunk_batches", train.chunk_batches, lambda: {"streams": _streams(), "k": 2},
           {"streams": custom("(L, B) int ids, L >= 2", ("None", None), ("str", "ab"), ("opaque", OPAQUE),
                              ("1-D", np.zeros(6, dtype=int)), ("L = 1", np.zeros((1, 2), dtype=int)),
                              ("float", np.zeros((6, 2)) + 0.5), ("negative", np.full((6, 2), -1)),
                              ("B = 0", np.zeros((6, 0), dtype=int)), ("bool", np.ones((6, 2), dtype=bool))),
            "k": integer(1, None)}),
    Target("rnnlib.train.char_rnn_setup", train.char_rnn_setup,
           lambda: {"train_fraction": 0.9, "B": 4, "k": 5, "H": 8, "theta": 5.0, "lr": 0.01},
           {"train_fraction": real(0.0, 1.0, low_open=True, high_open=True), "B": integer(1, None),
            "k": integer(1, None), "H": integer(1, None), "theta": positive(), "lr": positive()}),
    Target("rnnlib.train.train_step", train.train_step,
           lambda: {"params": _rnn(), "xs": _xs(), "targets": _targets(), "optimizer": train.SGD(0.1), "h0": None,
                    "clip_norm": None, "activation": "tanh"},
           {"params": rnn_params(), "xs": array((T, B, X), free=(0, 1)), "targets": int_array((T, B), 0, Y - 1),
            "optimizer": optimizer_kind(), "h0": optional(array((B, H))), "clip_norm": optional(positive()),
            "activation": ACTIVATION}),
    Target("rnnlib.train.train_on_batches", train.train_on_batches,
           lambda: {"params": _rnn(), "make_batch": _make_batch, "n_steps": 2, "optimizer": train.Adam(0.01),
                    "clip_norm": 1.0, "activation": "tanh"},
           {"params": rnn_params(), "n_steps": integer(0, None, huge=True), "optimizer": optimizer_kind(),
            "clip_norm": optional(positive()), "activation": ACTIVATION,
            "make_batch": custom("function i -> (xs, targets)", *callable_kind("").hostile,
                                 *((f"returns {w}", _bad_batch(w)) for w in ("xs nan", "targets 3", "None", "one",
                                                                              "xs 2-D")))}),
    Target("rnnlib.train.train_char_rnn", train.train_char_rnn,
           lambda: {"params": _char_params(), "streams": _streams(), "n_steps": 3, "optimizer": train.Adam(0.01),
                    "k": 2, "clip_norm": 5.0, "activation": "tanh", "evaluate": None, "eval_every": 2},
           {"params": rnn_params(), "n_steps": integer(0, None, huge=True), "optimizer": optimizer_kind(),
            "k": integer(1, None), "clip_norm": optional(positive()), "activation": ACTIVATION,
            "eval_every": integer(1, None),
            "streams": custom("(L, B) ids in 0..V-1, L >= 2", ("None", None), ("str", "ab"), ("opaque", OPAQUE),
                              ("1-D", np.zeros(6, dtype=int)), ("L = 1", np.zeros((1, 2), dtype=int)),
                              ("float", np.zeros((6, 2)) + 0.5), ("negative", np.full((6, 2), -1)),
                              ("entry V", np.full((6, 2), V)), ("bool", np.ones((6, 2), dtype=bool))),
            "evaluate": custom("None or params -> float", ("str", "f"), ("opaque", OPAQUE),
                               ("returns str", lambda p: "x"), ("returns None", lambda p: None))}),
    Target("rnnlib.train.char_loss", train.char_loss,
           lambda: {"params": _char_params(), "ids": np.array([0, 1, 2, 1, 0]), "activation": "tanh"},
           {"params": rnn_params(), "ids": ids_kind(5, V, min_size=2), "activation": ACTIVATION}),
    Target("rnnlib.train.bigram_loss", train.bigram_loss,
           lambda: {"train_ids": np.array([0, 1, 2, 1, 0]), "test_ids": np.array([1, 2, 0]), "n": V, "alpha": 0.1},
           {"train_ids": ids_kind(5, V, min_size=2), "test_ids": ids_kind(3, V, min_size=2),
            "n": integer(1, None, huge=True), "alpha": real(0.0, None)}),
    Target("rnnlib.train.probe_r2", train.probe_r2,
           lambda: {"states_fit": np.random.default_rng(0).standard_normal((8, H)),
                    "y_fit": np.random.default_rng(1).standard_normal(8),
                    "states_test": np.random.default_rng(2).standard_normal((6, H)),
                    "y_test": np.random.default_rng(3).standard_normal(6), "ridge": 1e-3},
           {"states_fit": array((8, H), free=(0, 1)), "y_fit": array((8,)),
            "states_test": array((6, H), free=(0,)),
            "y_test": custom("(M,) not constant", *array((6,)).hostile, ("constant", np.ones(6))),
            "ridge": real(0.0, None)}),
    Target("rnnlib.train.sample", train.sample,
           lambda: {"params": _char_params(), "prefix_ids": np.array([0, 1]), "n": 3, "temperature": 0.5,
                    "rng": np.random.default_rng(0), "activation": "tanh", "return_states": True},
           {"params": rnn_params(), "prefix_ids": ids_kind(2, V, min_size=1), "n": integer(0, None, huge=True),
            "temperature": positive(), "rng": rng(), "activation": ACTIVATION, "return_states": boolean()}),
]


# ----------------------------------------------------------------------------------------------
# rnnlib.remedies
# ----------------------------------------------------------------------------------------------


def _seq(**extra):
    def valid():
        return {"params": _rnn(), "xs": _xs(), "targets": _targets(), "h0": None, "activation": "tanh", **extra}

    return valid


SEQ_KINDS = {"params": rnn_params(), "xs": array((T, B, X), free=(0, 1)), "targets": int_array((T, B), 0, Y - 1),
             "h0": optional(array((B, H))), "activation": ACTIVATION}

KS = custom("strictly increasing int windows >= 1", ("None", None), ("str", "ab"), ("opaque", OPAQUE),
            ("zero", (0, 3)), ("decreasing", (3, 2)), ("2-D", [[2, 3]]), ("float", (2.5, 4.0)), ("empty", ()),
            ("complex", (2 + 1j, 3)))
PROBS = custom("probabilities summing to 1", ("None", None), ("str", "ab"), ("opaque", OPAQUE),
               ("sum 0.9", (0.5, 0.4)), ("negative", (-0.5, 1.5)), ("nan", (np.nan, 0.5)), ("length 3", (0.2, 0.3, 0.5)),
               ("complex", (0.5 + 1j, 0.5)), ("inf", (np.inf, 0.5)))


def _signals():
    return remedies.omega_signals(_rnn(), _xs(), _targets())


W_ARRAY = custom("real array", ("None", None), ("str", "w"), ("opaque", OPAQUE), ("complex", np.ones(3) + 1j),
                 ("bool", np.ones(3, dtype=bool)), ("str-array", np.full(3, "a")),
                 ("object-array", np.full(3, OPAQUE, dtype=object)), ("nan", np.array([1.0, np.nan, 2.0])),
                 ("inf", np.array([1.0, np.inf, 2.0])))

REMEDIES = [
    Target("rnnlib.remedies.bptt_chunked", remedies.bptt_chunked, _seq(k=2), {**SEQ_KINDS, "k": integer(1, None)}),
    Target("rnnlib.remedies.bptt_randomized", remedies.bptt_randomized,
           _seq(ks=(2, 10**9), probs=(0.5, 0.5), rng=np.random.default_rng(0)),
           {**SEQ_KINDS, "ks": KS, "probs": PROBS, "rng": rng()}),
    Target("rnnlib.remedies.randomized_expectation", remedies.randomized_expectation,
           _seq(ks=(2, 10**9), probs=(0.5, 0.5)), {**SEQ_KINDS, "ks": KS, "probs": PROBS}),
    Target("rnnlib.remedies.backward_cost", remedies.backward_cost, lambda: {"T": 10, "k": 3, "mode": "window"},
           {"T": integer(1, None, huge=True), "k": integer(1, None), "mode": choice("full", "window", "chunked")}),
    Target("rnnlib.remedies.randomized_cost", remedies.randomized_cost,
           lambda: {"T": 10, "ks": (2, 10**9), "probs": (0.5, 0.5)},
           {"T": integer(1, None, huge=True), "ks": KS, "probs": PROBS}),
    Target("rnnlib.remedies.gradient_errors", remedies.gradient_errors, lambda: {"g": _grads(), "g_full": _rnn(seed=5)},
           {"g": custom("nonzero gradients", *without(arrays_like(), *PAIRED).hostile, ("zero", _rnn().zeros_like())), "g_full": custom("nonzero gradients", *arrays_like().hostile,
                                                 ("zero", _rnn().zeros_like()))}),
    Target("rnnlib.remedies.clip_by_norm", remedies.clip_by_norm, lambda: {"grads": _grads(), "theta": 1.0},
           {"grads": without(arrays_like(), *PAIRED), "theta": positive()}),
    Target("rnnlib.remedies.clip_elementwise", remedies.clip_elementwise, lambda: {"grads": _grads(), "limit": 0.5},
           {"grads": without(arrays_like(), *PAIRED), "limit": positive()}),
    Target("rnnlib.remedies.cosine", remedies.cosine, lambda: {"a": _grads(), "b": _rnn(seed=5)},
           {"a": custom("nonzero gradients", *without(arrays_like(), *PAIRED).hostile, ("zero", _rnn().zeros_like())),
            "b": custom("nonzero gradients", *arrays_like().hostile, ("zero", _rnn().zeros_like()))}),
    Target("rnnlib.remedies.init_recurrent", remedies.init_recurrent,
           lambda: {"n_hidden": H, "kind": "orthogonal", "spectral_radius": 0.9, "seed": 0},
           {"n_hidden": integer(1, None, huge=True), "kind": choice(*remedies.INIT_KINDS),
            "spectral_radius": optional(real(0.0, None)), "seed": SEED}),
    Target("rnnlib.remedies.init_rnn", remedies.init_rnn,
           lambda: {"n_in": X, "n_hidden": H, "n_out": Y, "kind": "gaussian", "spectral_radius": 1.0,
                    "input_scale": 0.5, "seed": 0},
           {"n_in": integer(1, None, huge=True), "n_hidden": integer(1, None, huge=True),
            "n_out": integer(1, None, huge=True), "kind": choice(*remedies.INIT_KINDS),
            "spectral_radius": optional(real(0.0, None)), "input_scale": real(0.0, None), "seed": SEED}),
    Target("rnnlib.remedies.cliff_loss", remedies.cliff_loss,
           lambda: {"w": np.array([1.0, 2.0, 3.0]), "b": -1.0, "x0": 0.5, "T": 5, "target": 0.7, "return_grad": True},
           {"w": W_ARRAY, "b": custom("real array broadcastable with w", *W_ARRAY.hostile, ("shape (2,)", np.ones(2))),
            "x0": real(), "T": integer(1, None, huge=True), "target": real(), "return_grad": boolean()}),
    Target("rnnlib.remedies.gradient_descent_path", remedies.gradient_descent_path,
           lambda: {"w0": 1.0, "b0": -1.0, "lr": 0.1, "n_steps": 3, "clip": 1.0, "T": 5},
           {"w0": real(), "b0": real(), "lr": positive(), "n_steps": integer(0, None, huge=True),
            "clip": optional(positive()), "T": integer(1, None)}),
    Target("rnnlib.remedies.omega_signals", remedies.omega_signals, _seq(), SEQ_KINDS),
    Target("rnnlib.remedies.omega_from_signals", remedies.omega_from_signals,
           lambda: {"W_hh": _rnn().W_hh, "signals": _signals(), "bound": 1e-20},
           {"W_hh": array((H, H)), "bound": positive(),
            "signals": custom("OmegaSignals", ("None", None), ("str", "s"), ("opaque", OPAQUE),
                              ("array", np.ones((T, B, H))), ("1 array", (np.ones((T, B, H)),)),
                              ("nan", remedies.OmegaSignals(np.full((T, B, H), np.nan), np.ones((T, B, H)))),
                              ("mismatched", remedies.OmegaSignals(np.ones((T, B, H)), np.ones((T, B + 1, H)))),
                              ("2-D", remedies.OmegaSignals(np.ones((T, H)), np.ones((T, H)))),
                              ("complex", remedies.OmegaSignals(np.ones((T, B, H)) + 1j, np.ones((T, B, H)))))}),
    Target("rnnlib.remedies.omega", remedies.omega, _seq(bound=1e-20), {**SEQ_KINDS, "bound": positive()}),
    Target("rnnlib.remedies.bptt_omega", remedies.bptt_omega, _seq(alpha=0.5), {**SEQ_KINDS, "alpha": real(0.0, None)}),
]


# ----------------------------------------------------------------------------------------------
# rnnlib.tasks
# ----------------------------------------------------------------------------------------------

TASK_XS = tasks.remember_first(T, B, np.random.default_rng(0))

RUN_KINDS = {"T": integer(2, None, huge=True), "seed": SEED, "n_hidden": integer(1, None),
             "n_steps": integer(0, None, huge=True), "batch": integer(1, None, huge=True),
             "clip_norm": optional(positive()), "n_test": integer(1, None, huge=True)}
RUN_VALID = {"T": 3, "seed": 0, "n_hidden": 4, "n_steps": 2, "batch": 2, "clip_norm": 1.0, "n_test": 4}

TASKS = [
    Target("rnnlib.tasks.remember_first", tasks.remember_first,
           lambda: {"T": T, "B": B, "rng": np.random.default_rng(0), "n_symbols": 2, "n_distractors": 4},
           {"T": integer(2, None, huge=True), "B": integer(1, None, huge=True), "rng": rng(),
            "n_symbols": integer(2, None), "n_distractors": integer(1, None)}),
    Target("rnnlib.tasks.last_step_accuracy", tasks.last_step_accuracy,
           lambda: {"params": _rnn(X=7, Y=3), "xs": TASK_XS[0], "targets": TASK_XS[1], "activation": "tanh"},
           {"params": rnn_params(), "xs": array((T, B, 7), free=(0, 1)), "targets": int_array((T, B), 0, 2),
            "activation": ACTIVATION}),
    Target("rnnlib.tasks.run_remember_first", tasks.run_remember_first,
           lambda: {**RUN_VALID, "optimizer": None, "kind": "gaussian", "spectral_radius": 1.0, "activation": "tanh"},
           {**RUN_KINDS, "optimizer": optional(optimizer_kind()), "kind": choice(*remedies.INIT_KINDS),
            "spectral_radius": optional(real(0.0, None)), "activation": ACTIVATION}),
    Target("rnnlib.tasks.run_remember_first_omega", tasks.run_remember_first_omega,
           lambda: {**RUN_VALID, "alpha": 0.5, "lr": 0.01, "kind": "gaussian", "spectral_radius": 1.0},
           {**RUN_KINDS, "alpha": real(0.0, None), "lr": positive(), "kind": choice(*remedies.INIT_KINDS),
            "spectral_radius": optional(real(0.0, None))}),
    Target("rnnlib.tasks.wilson_interval", tasks.wilson_interval, lambda: {"successes": np.array([0, 3, 10]), "n": 10, "z": 1.96},
           {"successes": custom("ints in 0..n", ("None", None), ("str", "3"), ("opaque", OPAQUE), ("float", 2.5),
                                ("bool", True), ("nan", np.nan), ("-1", -1), ("n + 1", 11), ("float array", np.array([1.5])),
                                ("complex", 1 + 1j)),
            "n": integer(1, None), "z": positive()}),
]


# ----------------------------------------------------------------------------------------------
# rnnlib.ngram
# ----------------------------------------------------------------------------------------------

NG_TRAIN, NG_TEST = np.array([0, 1, 2, 1, 0, 2, 2, 1]), np.array([1, 2, 0, 1])


def _counts():
    return ngram.ngram_counts(NG_TRAIN, V, 3)


NGRAM_KINDS = {"train_ids": ids_kind(8, V, min_size=1), "test_ids": ids_kind(4, V, min_size=2),
               "V": integer(1, None), "order": integer(1, None)}

NGRAM = [
    Target("rnnlib.ngram.ngram_counts", ngram.ngram_counts, lambda: {"ids": NG_TRAIN, "V": V, "order": 3},
           {"ids": ids_kind(8, V, min_size=1), "V": integer(1, None, huge=True), "order": integer(1, None)}),
    Target("rnnlib.ngram.witten_bell", ngram.witten_bell, lambda: {"counts": _counts(), "context": [0, 1]},
           {"counts": custom("ngram_counts' list", ("None", None), ("str", "c"), ("opaque", OPAQUE), ("empty", []),
                             ("no unigram", [{}]), ("dict", {(): np.ones(3)}),
                             ("nan counts", [{(): np.array([1.0, np.nan, 1.0])}]),
                             ("negative counts", [{(): np.array([1.0, -1.0, 1.0])}]),
                             ("2-D counts", [{(): np.ones((3, 2))}]),
                             ("mixed V", [{(): np.ones(3)}, {(1,): np.ones(4)}])),
            "context": custom("ids in 0..V-1", ("str", "ab"), ("opaque", OPAQUE), ("float", [0.5, 1.0]),
                              ("negative", [-1]), ("entry V", [0, V]), ("None", None), ("2-D", [[0, 1]]),
                              ("bool", [True, False]))}),
    Target("rnnlib.ngram.ngram_log_probs", ngram.ngram_log_probs,
           lambda: {"train_ids": NG_TRAIN, "test_ids": NG_TEST, "V": V, "order": 2}, NGRAM_KINDS),
    Target("rnnlib.ngram.ngram_loss", ngram.ngram_loss,
           lambda: {"train_ids": NG_TRAIN, "test_ids": NG_TEST, "V": V, "order": 2}, NGRAM_KINDS),
]


# ----------------------------------------------------------------------------------------------
# rnnlib.lstm
# ----------------------------------------------------------------------------------------------


def _lstm_seq(**extra):
    def valid():
        return {"params": _lstm(), "xs": _xs(), "targets": _targets(), "h0": None, "c0": None, **extra}

    return valid


LSTM_SEQ_KINDS = {"params": lstm_params(), "xs": array((T, B, X), free=(0, 1)),
                  "targets": int_array((T, B), 0, Y - 1), "h0": optional(array((B, H))), "c0": optional(array((B, H)))}


def _block(name):
    return _lstm().block(name)


def _cache(B=B, H=H):
    p = _lstm(H=H)
    return lstm.step_forward(np.ones((B, X)), np.zeros((B, H)), np.zeros((B, H)), p)[3]


def _trace_fn(fn):
    def call(**kw):
        return fn(**kw)

    return call


LSTM_TRACE = {"params": lstm_params(), "trace": lstm_trace_kind()}

LSTM = [
    Target("rnnlib.lstm.LSTMParams.block", _block, lambda: {"name": "f"}, {"name": choice(*lstm.GATES)}),
    Target("rnnlib.lstm.init_lstm_params", lstm.init_lstm_params,
           lambda: {"n_in": X, "n_hidden": H, "n_out": Y, "seed": 0, "forget_bias": 1.0, "scale": 1.0,
                    "dtype": np.float64},
           {"n_in": integer(1, None, huge=True), "n_hidden": integer(1, None, huge=True),
            "n_out": integer(1, None, huge=True), "seed": SEED, "forget_bias": real(), "scale": real(0.0, None),
            "dtype": dtype_kind()}),
    Target("rnnlib.lstm.gates", lstm.gates, lambda: {"z_t": np.ones((B, 4 * H))},
           {"z_t": without(array((B, 4 * H), free=(0,)), "one axis fewer")}),
    Target("rnnlib.lstm.step_forward", lstm.step_forward,
           lambda: {"x_t": np.ones((B, X)), "h_prev": np.zeros((B, H)), "c_prev": np.zeros((B, H)), "params": _lstm()},
           {"x_t": array((B, X), free=(0,)), "h_prev": array((B, H)), "c_prev": array((B, H)),
            "params": lstm_params()}),
    Target("rnnlib.lstm.step_backward", lstm.step_backward,
           lambda: {"dlogits_t": np.ones((B, Y)), "dh_next": np.zeros((B, H)), "dc_next": np.zeros((B, H)),
                    "cache": _cache()},
           {"dlogits_t": array((B, Y)), "dh_next": array((B, H)), "dc_next": array((B, H)),
            "cache": custom("LSTMStepCache", ("None", None), ("str", "c"), ("opaque", OPAQUE),
                            ("tuple", tuple(_cache())[:10]),
                            ("RNN StepCache", rnnlib.step_forward(np.ones((B, X)), np.zeros((B, H)), _rnn())[2]),
                            ("nan", _cache()._replace(c_t=np.full((B, H), np.nan))),
                            ("cut c_t", _cache()._replace(c_t=np.ones((B, H - 1)))),
                            ("params None", _cache()._replace(params=None)))}),
    Target("rnnlib.lstm.bptt_steps", lstm.bptt_steps, _lstm_seq(), LSTM_SEQ_KINDS),
    Target("rnnlib.lstm.bptt", lstm.bptt, _lstm_seq(), LSTM_SEQ_KINDS),
    Target("rnnlib.lstm.forward", lstm.forward, lambda: {"params": _lstm(), "xs": _xs(), "h0": None, "c0": None},
           {k: v for k, v in LSTM_SEQ_KINDS.items() if k != "targets"}, finite=False),  # row 0 of the gates is NaN
    Target("rnnlib.lstm.backward", lstm.backward,
           lambda: {"params": _lstm(), "trace": _lstm_trace(), "targets": _targets()},
           {**LSTM_TRACE, "targets": int_array((T, B), 0, Y - 1)}),
    Target("rnnlib.lstm.step_jacobian", lstm.step_jacobian,
           lambda: {"params": _lstm(), "trace": _lstm_trace(), "t": 2}, {**LSTM_TRACE, "t": integer(1, T)}),
    Target("rnnlib.lstm.cell_jacobian", lstm.cell_jacobian,
           lambda: {"params": _lstm(), "trace": _lstm_trace(), "t": 2}, {**LSTM_TRACE, "t": integer(2, T)}),
    Target("rnnlib.lstm.jacobian", lstm.jacobian,
           lambda: {"params": _lstm(), "trace": _lstm_trace(), "t": 3, "k": 1},
           {**LSTM_TRACE, "t": integer(0, T), "k": integer(0, 3)}),
    Target("rnnlib.lstm.jacobian_log_norms", lstm.jacobian_log_norms,
           lambda: {"params": _lstm(), "trace": _lstm_trace(), "t": 3, "ord": 2},
           {**LSTM_TRACE, "t": optional(integer(0, T)), "ord": custom("2 or 'fro'", ("str", "nuc"), ("None", None),
                                                                       ("1", 1), ("bool", True), ("opaque", OPAQUE))}),
    Target("rnnlib.lstm.loss_gradient_log_norms", lstm.loss_gradient_log_norms,
           lambda: {"params": _lstm(), "trace": _lstm_trace(), "targets": _targets()},
           {**LSTM_TRACE, "targets": int_array((T, B), 0, Y - 1)}, finite=False),
    Target("rnnlib.lstm.rnn_loss_gradient_log_norms", lstm.rnn_loss_gradient_log_norms,
           lambda: {"params": _rnn(), "trace": _trace(), "targets": _targets()},
           {"params": rnn_params(), "trace": trace_kind(), "targets": int_array((T, B), 0, Y - 1)}),
    Target("rnnlib.lstm.flops_per_step", lstm.flops_per_step,
           lambda: {"n_in": X, "n_hidden": H, "n_out": Y, "model": "lstm"},
           {"n_in": integer(1, None), "n_hidden": integer(1, None), "n_out": integer(1, None),
            "model": choice("lstm", "rnn")}),
    Target("rnnlib.lstm.last_step_accuracy", lstm.last_step_accuracy,
           lambda: {"params": _lstm(), "xs": _xs(), "targets": _targets()},
           {"params": lstm_params(), "xs": array((T, B, X), free=(0, 1)), "targets": int_array((T, B), 0, Y - 1)}),
    Target("rnnlib.lstm.run_remember_first", lstm.run_remember_first,
           lambda: {**RUN_VALID, "forget_bias": 1.0, "lr": 0.01},
           {**RUN_KINDS, "forget_bias": real(), "lr": positive()}),
    Target("rnnlib.lstm.gradient_profiles", lstm.gradient_profiles,
           lambda: {"T": 5, "n_hidden": 4, "batch": 2, "forget_bias": 1.0, "input_scale": 1.0, "seed": 0},
           {"T": integer(2, None, huge=True), "n_hidden": integer(1, None, huge=True), "batch": integer(1, None, huge=True),
            "forget_bias": real(), "input_scale": real(0.0, None), "seed": SEED}, finite=False),
]

TARGETS = TRAIN + REMEDIES + TASKS + NGRAM + LSTM

EXEMPT = {
    "rnnlib.train.load_text": "takes no arguments",
    "rnnlib.train.CharRNNSetup": "a NamedTuple of data built by char_rnn_setup (walked there)",
    "rnnlib.remedies.OmegaSignals": "a NamedTuple of two arrays; omega_from_signals checks it (walked there)",
    "rnnlib.lstm.LSTMTrace": "a NamedTuple built by lstm.forward; every function taking one checks it (walked)",
    "rnnlib.lstm.LSTMStepCache": "a NamedTuple built by lstm.step_forward; step_backward checks it (walked)",
}
