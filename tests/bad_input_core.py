"""Hostile-input table (tests/hostile.py) for the core group of rnnlib modules; see tests/test_bad_input.py.

Modules: rnnlib.containers, core, activations, gradcheck (and the validators of rnnlib._checks
they call). Sizes of the valid calls: T = 4, B = 2, X = 3, H = 5, Y = 3.

Outcome counts of this table (tests/hostile.py's outcomes):

    before the fixes (this table run against h14-base, 4d22946): 1553 cases: named 841,
        wrong-name 396, other-exception 91, accepted 225, slow 0
    after the fixes (branch bad-core): 1553 cases: named 1553, wrong-name 0, other-exception 0,
        accepted 0, slow 0 (about 1 s)

Cross-argument mismatches (xs of another X than W_hx, targets of another T than xs) are cases of
the argument that must match (xs, targets), never of params. The exploding network is not a bad
argument: its named RNNOverflowError is tested in tests/test_core.py.
"""

from __future__ import annotations

import numpy as np

from hostile import (OPAQUE, Target, array, boolean, choice, custom, extend, int_array, integer, optional, positive,
                     real, text, without)
from rnnlib import activations, containers, core, gradcheck, lstm
from rnnlib.activations import Activation
from rnnlib.containers import RNNParams
from rnnlib.core import StepCache, forward, init_params

T, B, X, H, Y = 4, 2, 3, 5, 3
ACTIVATIONS = ("tanh", "sigmoid", "relu", "linear")


# ----------------------------------------------------------------------------------------------
# Valid values
# ----------------------------------------------------------------------------------------------


def _params(n_in=X, n_hidden=H, n_out=Y, seed=0):
    p = init_params(n_in, n_hidden, n_out, seed=seed, scale=0.8)
    return p._replace(b_h=np.full(n_hidden, 0.1), b_y=np.full(n_out, -0.1))


def _xs(T_=T, B_=B, X_=X, seed=1):
    return np.random.default_rng(seed).standard_normal((T_, B_, X_))


def _targets(T_=T, B_=B, Y_=Y, seed=2):
    return np.random.default_rng(seed).integers(0, Y_, size=(T_, B_))


def _h0(B_=B, H_=H, seed=3):
    return 0.5 * np.random.default_rng(seed).standard_normal((B_, H_))


def _trace(params=None, xs=None, activation="tanh"):
    params = _params() if params is None else params
    xs = _xs(X_=params.n_in) if xs is None else xs
    return forward(params, xs, activation=activation)


def _cache(params=None):
    params = _params() if params is None else params
    return core.step_forward(_xs()[0], _h0(), params, "tanh")[2]


def _steps_1_to_T(trace):
    """The rows of a trace that hold numbers (row 0 of a, logits, y_hat is NaN by convention: no step 0)."""
    return trace.h, trace.a[1:], trace.logits[1:], trace.y_hat[1:], trace.xs


SOFTSIGN = Activation("softsign", lambda a: a / (1 + np.abs(a)), lambda a, h: (1 - np.abs(h)) ** 2, 1.0)


# ----------------------------------------------------------------------------------------------
# Kinds
# ----------------------------------------------------------------------------------------------


def _field_cases(p: RNNParams, *, skip=()):
    """Every hostile array of hostile.array(shape) put into one field of p at a time."""
    out = []
    for name in RNNParams._fields:
        value = getattr(p, name)
        for label, bad in array(value.shape).hostile:
            if (name, label) in skip:
                continue
            out.append((f"{name}: {label}", p._replace(**{name: bad})))
    return out


def params_kind(*, bound_x=True) -> object:
    """RNN parameters (X, H, Y) = (3, 5, 3): intrinsically invalid ones. bound_x: another argument (xs,
    a trace, a cache) fixes X, so a W_hx of another width is that argument's mismatch, not a case here."""
    p = _params()
    nan_hh = p.W_hh.copy()
    nan_hh[0, 0] = np.nan
    skip = {("W_hx", f"axis 1 size {X + 1}")} if bound_x else set()
    return custom(
        "RNNParams",
        ("None", None), ("opaque", OPAQUE), ("dict", p._asdict()), ("list of 5", list(p)),
        ("4-tuple", tuple(p)[:4]), ("6-tuple", tuple(p) + (p.b_y,)), ("array", p.W_hh), ("a Trace", _trace()),
        ("an LSTMParams", lstm.init_lstm_params(X, H, Y)), ("a StepCache", _cache()),
        ("swapped W_hx/W_hh", RNNParams(p.W_hh, p.W_hx, p.b_h, p.W_yh, p.b_y)),
        ("swapped b_h/b_y", p._replace(b_h=p.b_y, b_y=p.b_h)),
        ("W_yh transposed", p._replace(W_yh=p.W_yh.T)),
        ("NaN in W_hh", p._replace(W_hh=nan_hh)),
        ("Y = 0", p._replace(W_yh=np.zeros((0, H)), b_y=np.zeros(0))),
        ("H = 0", RNNParams(np.zeros((0, X)), np.zeros((0, 0)), np.zeros(0), np.zeros((Y, 0)), np.zeros(Y))),
        ("X = 0", p._replace(W_hx=np.zeros((H, 0)))),
        ("ragged W_hh", p._replace(W_hh=[[1.0, 2.0], [3.0]])),
        *_field_cases(p, skip=skip),
    )


def trace_kind() -> object:
    """A Trace of the model _params() (X, H, Y) = (3, 5, 3); hostile: not a Trace, or a trace of another model."""
    tr = _trace()
    nan_h = tr.h.copy()
    nan_h[0, 0, 0] = np.nan
    return custom(
        "Trace",
        ("None", None), ("opaque", OPAQUE), ("tuple", tuple(tr)), ("array", tr.h), ("params", _params()),
        ("other H", _trace(_params(n_hidden=H + 1))),
        ("other X", _trace(_params(n_in=X + 1))),
        ("other Y", _trace(_params(n_out=Y + 1))),
        ("other weights, same shapes", _trace(_params(seed=7))),
        ("xs edited after forward", tr._replace(xs=tr.xs + 1.0)),
        ("NaN in h_0", tr._replace(h=nan_h)),
        ("h of shape (T + 1, B, H - 1)", tr._replace(h=tr.h[:, :, :-1])),
        ("a of another T", tr._replace(a=tr.a[:-1])),
        ("logits of another Y", tr._replace(logits=tr.logits[:, :, :-1])),
        ("xs a list", tr._replace(xs=tr.xs.tolist())),
        ("activation a str", tr._replace(activation="tanh")),
        ("an LSTMTrace", lstm.forward(lstm.init_lstm_params(X, H, Y), _xs())),
    )


def cache_kind() -> object:
    c = _cache()
    return custom(
        "StepCache",
        ("None", None), ("opaque", OPAQUE), ("list", list(c)), ("5-tuple", tuple(c)[:5]), ("a Trace", _trace()),
        ("params None", c._replace(params=None)), ("params a 4-tuple", c._replace(params=tuple(c.params)[:4])),
        ("NaN in W_hh", c._replace(params=c.params._replace(W_hh=np.full((H, H), np.nan)))),
        ("f a str", c._replace(f="tanh")), ("f None", c._replace(f=None)),
        ("x_t of another X", c._replace(x_t=np.ones((B, X + 1)))), ("h_t None", c._replace(h_t=None)),
        ("a_t of another B", c._replace(a_t=np.ones((B + 1, H)))), ("h_prev NaN", c._replace(h_prev=np.full((B, H), np.nan))),
        ("h_t complex", c._replace(h_t=c.h_t + 1j)),
    )


def activation_kind() -> object:
    return extend(choice(*ACTIVATIONS), ("bytes", b"tanh"), ("Tanh", "Tanh"), ("function", np.tanh),
                  ("dict", {"name": "tanh"}))


def targets_kind(shape=(T, B), high=Y - 1) -> object:
    """Class indices of this shape, 0..high, shape fixed by another argument."""
    shape = tuple(shape)
    h = list(int_array(shape, 0, high).hostile)
    for axis, n in enumerate(shape):
        h.append((f"axis {axis} size {n + 1}", np.zeros(shape[:axis] + (n + 1,) + shape[axis + 1:], dtype=int)))
    h += [("one axis fewer", np.zeros(shape[1:], dtype=int)), ("complex", np.zeros(shape) + 0j),
          ("nan", np.full(shape, np.nan)), ("list of floats", np.full(shape, 0.0).tolist()),
          ("uint too large", np.full(shape, high + 1, dtype=np.uint8)), ("object", np.full(shape, 0, dtype=object))]
    return custom(f"int array {shape} in [0, {high}]", *h)


def xs_kind() -> object:
    """xs (T, B, X): T and B are set by xs itself (targets and h0, when given, must match them: their cases)."""
    kind = array((T, B, X), free=(0, 1))
    return extend(kind, ("T = 0", np.ones((0, B, X))), ("B = 0", np.ones((T, 0, X))),
                  ("2-d (T, X)", np.ones((T, X))), ("ragged", [[[1.0, 2.0, 3.0]], [[1.0]]]),
                  ("list of str", [[["a"] * X] * B] * T))


def h0_kind() -> object:
    return optional(extend(array((B, H)), ("ragged", [[1.0] * H, [1.0]])))


def truncate_kind() -> object:
    return optional(integer(1))


def dtype_kind() -> object:
    return custom("floating dtype", ("None", None), ("int", np.int64), ("complex", np.complex128), ("bool", bool),
                  ("str", "abc"), ("opaque", OPAQUE), ("object", object), ("float-value", 1.0), ("int-str", "int32"))


def logits_kind(shape, *, free=()) -> object:
    """Logits (..., Y): any leading shape is valid for the softmax family (free), Y >= 1 entries."""
    return without(array(shape, free=free + (len(shape) - 1,)), "one axis fewer", "extra axis")


def fn_kind(what="function") -> object:
    return custom(what, ("None", None), ("int", 3), ("str", "f"), ("opaque", OPAQUE), ("array", np.ones(3)),
                  ("a class", float))


# ----------------------------------------------------------------------------------------------
# Targets
# ----------------------------------------------------------------------------------------------


TARGETS = [
    # containers
    Target("rnnlib.containers.global_norm", containers.global_norm, lambda: {"arrays": _params()},
           {"arrays": custom("tuple of arrays", ("None", None), ("str", "abc"), ("opaque", OPAQUE), ("int", 3),
                             ("array", np.ones((2, 3))), ("dict", {"a": np.ones(2)}), ("nan entry", (np.ones(2), np.array([np.nan]))),
                             ("inf entry", [np.array([np.inf])]), ("complex entry", [np.ones(2) + 1j]),
                             ("bool entry", [np.ones(2, dtype=bool)]), ("str entry", ["abc"]), ("None entry", [None]),
                             ("object entry", [np.full(2, OPAQUE, dtype=object)]), ("ragged entry", [[[1.0], [1.0, 2.0]]]),
                             ("NaN params", _params()._replace(W_hh=np.full((H, H), np.nan))))}),
    Target("rnnlib.containers.same_kind", containers.same_kind,
           lambda: {"template": _params(), "arrays": list(_params())},
           {"template": custom("container", ("None", None), ("str", "abc"), ("opaque", OPAQUE), ("int", 3),
                               ("array", np.ones(3)), ("dict", {}), ("a Trace", _trace())),
            "arrays": custom("arrays", ("None", None), ("str", "abc"), ("opaque", OPAQUE), ("int", 3),
                             ("4 arrays", list(_params())[:4]), ("6 arrays", list(_params()) + [np.ones(2)]))}),
    Target("rnnlib.containers.RNNParams.add", lambda other, scale=1.0: _params().add(other, scale),
           lambda: {"other": _params(seed=1), "scale": 0.5},
           {"other": extend(without(params_kind(bound_x=False), "Y = 0", "H = 0", "X = 0", "swapped b_h/b_y"),
                            ("Y = 0", _params()._replace(W_yh=np.zeros((0, H)), b_y=np.zeros(0))),
                            ("other shapes", _params(n_hidden=H + 1))),
            "scale": real()}),
    Target("rnnlib.containers.RNNParams.astype", lambda dtype: _params().astype(dtype), lambda: {"dtype": np.float32},
           {"dtype": dtype_kind()}),
    # activations
    Target("rnnlib.activations.get_activation", activations.get_activation, lambda: {"activation": "relu"},
           {"activation": activation_kind()}),
    Target("rnnlib.activations.Activation", Activation,
           lambda: {"name": "softsign", "f": SOFTSIGN.f, "derivative": SOFTSIGN.derivative, "gamma": 1.0,
                    "derivative_into": None},
           {"name": extend(text(), ("empty", "")),
            "f": fn_kind(), "derivative": fn_kind(), "gamma": real(0.0, None),
            "derivative_into": without(fn_kind(), "None")}),
    # core: parameters and the softmax family
    Target("rnnlib.core.init_params", init_params,
           lambda: {"n_in": X, "n_hidden": H, "n_out": Y, "seed": 0, "scale": 1.0, "spectral_radius": 0.9,
                    "dtype": np.float64},
           {"n_in": integer(1, huge=True), "n_hidden": integer(1, huge=True), "n_out": integer(1, huge=True),
            "seed": integer(0), "scale": real(0.0, None), "spectral_radius": optional(real(0.0, None)),
            "dtype": dtype_kind()}),
    Target("rnnlib.core.softmax", core.softmax, lambda: {"z": np.ones((B, Y))},
           {"z": extend(logits_kind((B, Y), free=(0,)), ("scalar", 1.0), ("0-d", np.float64(2.0)),
                        ("-inf entry", np.array([0.0, -np.inf])),
                        ("all-NaN row", np.array([[np.nan] * Y, [0.0] * Y])))}),
    Target("rnnlib.core.logsumexp", core.logsumexp, lambda: {"z": np.ones((B, Y))},
           {"z": extend(logits_kind((B, Y), free=(0,)), ("scalar", 1.0), ("-inf entry", np.array([0.0, -np.inf])),
                        ("all-NaN row", np.array([[np.nan] * Y, [0.0] * Y])))}),
    Target("rnnlib.core.log_softmax", core.log_softmax, lambda: {"z": np.ones((B, Y))},
           {"z": extend(logits_kind((B, Y), free=(0,)), ("scalar", 1.0), ("-inf entry", np.array([0.0, -np.inf])),
                        ("all-NaN row", np.array([[np.nan] * Y, [0.0] * Y])))}),
    Target("rnnlib.core.softmax_cross_entropy", core.softmax_cross_entropy,
           lambda: {"logits": np.ones((B, Y)), "targets": np.array([0, 2])},
           {"logits": extend(array((B, Y), free=(0, 1)), ("B = 0", np.ones((0, Y))), ("Y = 0", np.ones((B, 0))),
                             ("all-NaN row", np.full((B, Y), np.nan))),
            "targets": targets_kind((B,))}),
    # core: step functions
    Target("rnnlib.core.step_forward", core.step_forward,
           lambda: {"x_t": _xs()[0], "h_prev": _h0(), "params": _params(), "activation": "tanh"},
           {"x_t": extend(array((B, X), free=(0,)), ("B = 0", np.ones((0, X)))),
            "h_prev": extend(array((B, H)), ("ragged", [[1.0] * H, [1.0]])),
            "params": params_kind(), "activation": activation_kind()}),
    Target("rnnlib.core.step_backward", core.step_backward,
           lambda: {"dlogits_t": np.ones((B, Y)), "dh_next": np.ones((B, H)), "cache": _cache()},
           {"dlogits_t": array((B, Y)), "dh_next": array((B, H)), "cache": cache_kind()}),
    # core: sequence functions
    Target("rnnlib.core.forward", lambda **kw: _steps_1_to_T(forward(**kw)),
           lambda: {"params": _params(), "xs": _xs(), "h0": None, "activation": "tanh"},
           {"params": params_kind(), "xs": xs_kind(), "h0": h0_kind(), "activation": activation_kind()}),
    Target("rnnlib.core.bptt", core.bptt,
           lambda: {"params": _params(), "xs": _xs(), "targets": _targets(), "h0": _h0(), "activation": "tanh",
                    "truncate": None, "return_dh0": True},
           {"params": params_kind(), "xs": xs_kind(), "targets": targets_kind(), "h0": h0_kind(),
            "activation": activation_kind(), "truncate": truncate_kind(), "return_dh0": boolean()}),
    Target("rnnlib.core.bptt_steps", core.bptt_steps,
           lambda: {"params": _params(), "xs": _xs(), "targets": _targets(), "h0": _h0(), "activation": "tanh"},
           {"params": params_kind(), "xs": xs_kind(), "targets": targets_kind(), "h0": h0_kind(),
            "activation": activation_kind()}),
    Target("rnnlib.core.backward", core.backward,
           lambda: {"params": _params(), "trace": _trace(), "targets": _targets(), "truncate": 2},
           {"params": params_kind(), "trace": trace_kind(), "targets": targets_kind(), "truncate": truncate_kind()}),
    Target("rnnlib.core.jacobian", core.jacobian, lambda: {"params": _params(), "trace": _trace(), "t": 3, "k": 1},
           {"params": params_kind(), "trace": trace_kind(), "t": integer(0, T), "k": integer(0, 3)}),
    Target("rnnlib.core.step_jacobian", core.step_jacobian, lambda: {"params": _params(), "trace": _trace(), "i": 2},
           {"params": params_kind(), "trace": trace_kind(), "i": integer(1, T)}),
    # gradcheck
    Target("rnnlib.gradcheck.numerical_jacobian", gradcheck.numerical_jacobian,
           lambda: (lambda x: {"f": lambda: np.tanh(2 * x), "x": x, "eps": 1e-6})(np.linspace(-1, 1, 3)),
           {"f": extend(fn_kind(), ("needs an argument", lambda y: y), ("returns str", lambda: "abc"),
                        ("returns None", lambda: None), ("returns NaN", lambda: np.array([np.nan])),
                        ("returns complex", lambda: np.ones(2) + 1j)),
            "x": extend(without(array((3,)), "one axis fewer", "extra axis", "axis 0 size 4", "axis 0 size 0"),
                        ("list", [1.0, 2.0, 3.0]), ("float32", np.ones(3, dtype=np.float32)),
                        ("int", np.arange(3)), ("read-only", np.lib.stride_tricks.as_strided(np.ones(3), writeable=False))),
            "eps": positive()}),
    Target("rnnlib.gradcheck.numerical_gradient", gradcheck.numerical_gradient,
           lambda: (lambda x: {"f": lambda: float(np.sum(x ** 2)), "x": x, "eps": 1e-6})(np.linspace(-1, 1, 3)),
           {"f": extend(fn_kind(), ("needs an argument", lambda y: y), ("returns str", lambda: "abc"),
                        ("returns NaN", lambda: float("nan")), ("returns bool", lambda: True)),
            "x": extend(without(array((3,)), "one axis fewer", "extra axis", "axis 0 size 4", "axis 0 size 0"),
                        ("list", [1.0, 2.0, 3.0]), ("float32", np.ones(3, dtype=np.float32))),
            "eps": positive()}),
    Target("rnnlib.gradcheck.rel_error", gradcheck.rel_error, lambda: {"a": np.ones((2, 3)), "b": np.ones((2, 3)) * 1.1},
           {"a": without(array((2, 3)), "one axis fewer", "extra axis", "axis 0 size 3", "axis 1 size 4",
                         "axis 0 size 0", "axis 1 size 0"),
            "b": array((2, 3), nonempty=False)}),
    Target("rnnlib.gradcheck.check_bptt_gradients", gradcheck.check_bptt_gradients,
           lambda: {"params": _params(), "xs": _xs(T_=2, B_=1), "targets": _targets(T_=2, B_=1), "h0": None,
                    "activation": "tanh", "truncate": None, "eps": 1e-6},
           {"params": params_kind(), "xs": without(xs_kind(), "T = 0"), "targets": targets_kind((2, 1)),
            "h0": optional(array((1, H))), "activation": activation_kind(), "truncate": truncate_kind(),
            "eps": positive()}),
]

EXEMPT = {
    "rnnlib.containers.Trace": "a data container (NamedTuple) that forward builds; every function taking one checks "
                               "it with _checks.check_trace (walked as the trace argument of backward, jacobian, ...)",
    "rnnlib.core.StepCache": "a data container (NamedTuple) that step_forward builds; walked as the cache argument "
                             "of step_backward",
    "rnnlib.core.RNNOverflowError": "an exception class (raised for an exploding network; tests/test_core.py)",
}
