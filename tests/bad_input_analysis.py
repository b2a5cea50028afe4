"""Hostile-input table (tests/hostile.py) for the analysis group of rnnlib modules; see tests/test_bad_input.py.

Modules: rnnlib.analysis, jacobians, spectra, examples, exercises, and the explorer's setter
`rnnlib.plots.explorer.EigenvalueExplorer.set`. Sizes of the valid calls: T = 4, B = 2, X = 3,
H = 5, Y = 3 (the explorer's and spectra's 2 x 2 matrices aside).

Outcome counts of this table (tests/hostile.py's outcomes), the same 2010 cases both times:

    before the fixes (the rnnlib of 4d22946, branch h14-base): named 1278, wrong-name 343,
        other-exception 113, accepted 275-276, slow 0-1 (naive_log_norms with T = 100001 takes about
        5 s: slow or accepted depending on the machine's load)
    after (branch bad-analysis, with bad-core's central validators): named 2010, all others 0;
        the whole table runs in about 1 s

What was wrong before, mostly: numpy's own errors from unchecked arrays (spectra, fade_rate,
bound_log_line), complex/bool/str/object arrays converted or accepted, profiles and traces read
before they were checked (AttributeError, IndexError), a trace of another model or with NaN states
accepted, h_t reported as h0, init_params' argument names (n_in) for lag_example's vocab, checkers
raising AssertionError for a non-function, explorer_matrix/explorer_state/explorer_controls_used
checking nothing, strings and bools taken as numbers by the explorer's settings, and a list preset
giving "unhashable type".
"""

from __future__ import annotations

import math

import numpy as np

import rnnlib
from hostile import (OPAQUE, Target, array, boolean, choice, custom, extend, int_array, integer, optional, positive,
                     real, rng, text, without)  # noqa: F401 - the kinds, for reference
from rnnlib import analysis, examples, exercises, jacobians, spectra
MAX_STEPS = 10**5  # rnnlib._checks.MAX_STEPS: the longest T of spectra and the log-norm routines
from rnnlib.activations import Activation
from rnnlib.containers import RNNParams
from rnnlib.core import forward, init_params

T, B, X, H, Y = 4, 2, 3, 5, 3
ACTIVATIONS = ("tanh", "sigmoid", "relu", "linear")


# ----------------------------------------------------------------------------------------------
# Shared valid values and kinds
# ----------------------------------------------------------------------------------------------


def _params(n_in=X, n_hidden=H, n_out=Y, seed=0):
    return init_params(n_in, n_hidden, n_out, seed=seed, scale=0.8)


def _xs(T_=T, B_=B, X_=X, seed=1):
    return np.random.default_rng(seed).standard_normal((T_, B_, X_))


def _targets(T_=T, B_=B, Y_=Y, seed=2):
    return np.random.default_rng(seed).integers(0, Y_, size=(T_, B_))


def _trace(params=None, xs=None, activation="tanh"):
    params = _params() if params is None else params
    xs = _xs(X_=params.n_in) if xs is None else xs
    return forward(params, xs, activation=activation)


def params_kind() -> object:
    """RNN parameters (X, H, Y) = (3, 5, 3): intrinsically invalid ones (never a valid model that merely
    disagrees with another argument: that mismatch is the other argument's case)."""
    p = _params()
    nan_hh = p.W_hh.copy()
    nan_hh[0, 0] = np.nan
    inf_by = p.b_y.copy()
    inf_by[-1] = np.inf
    return custom(
        "RNNParams",
        ("None", None), ("opaque", OPAQUE), ("dict", p._asdict()), ("list of 5", list(p)),
        ("4-tuple", tuple(p)[:4]), ("array", p.W_hh), ("a Trace", _trace()),
        ("swapped W_hx/W_hh", RNNParams(p.W_hh, p.W_hx, p.b_h, p.W_yh, p.b_y)),
        ("W_hh transposed W_yh", p._replace(W_yh=p.W_yh.T)),
        ("b_h of shape (H + 1,)", p._replace(b_h=np.zeros(H + 1))),
        ("b_y of shape (Y + 1,)", p._replace(b_y=np.zeros(Y + 1))),
        ("NaN in W_hh", p._replace(W_hh=nan_hh)), ("inf in b_y", p._replace(b_y=inf_by)),
        ("Y = 0", p._replace(W_yh=np.zeros((0, H)), b_y=np.zeros(0))),
        ("H = 0", RNNParams(np.zeros((0, X)), np.zeros((0, 0)), np.zeros(0), np.zeros((Y, 0)), np.zeros(Y))),
        ("X = 0", p._replace(W_hx=np.zeros((H, 0)))),
        ("complex W_hh", p._replace(W_hh=p.W_hh * (1 + 1j))), ("bool W_hh", p._replace(W_hh=p.W_hh > 0)),
        ("str W_hx", p._replace(W_hx=np.full((H, X), "a"))),
        ("object W_hx", p._replace(W_hx=np.full((H, X), OPAQUE, dtype=object))),
        ("None field", p._replace(b_h=None)), ("scalar W_hh", p._replace(W_hh=1.0)),
    )


def trace_kind(activation="tanh") -> object:
    """A Trace of the model _params() (X, H, Y) = (3, 5, 3); hostile: not a Trace, or a trace of another model."""
    tr = _trace(activation=activation)
    nan_h = tr.h.copy()
    nan_h[-1, 0, 0] = np.nan
    return custom(
        "Trace",
        ("None", None), ("opaque", OPAQUE), ("tuple", tuple(tr)), ("array", tr.h), ("params", _params()),
        ("other H", _trace(_params(n_hidden=H + 1), activation=activation)),
        ("other X", _trace(_params(n_in=X + 1), activation=activation)),
        ("other Y", _trace(_params(n_out=Y + 1), activation=activation)),
        ("NaN state", tr._replace(h=nan_h)),
        ("h of shape (T + 1, B, H - 1)", tr._replace(h=tr.h[:, :, :-1])),
        ("a of another T", tr._replace(a=tr.a[:-1])),
        ("activation a str", tr._replace(activation="tanh")),
    )


def shaped_int_array(shape, low, high, *, extra=()) -> object:
    """int_array plus other sizes on every axis and complex/NaN entries: class indices that must
    match a shape set by another argument."""
    shape = tuple(shape)
    h = list(int_array(shape, low, high).hostile)
    for axis, n in enumerate(shape):
        h.append((f"axis {axis} size {n + 1}", np.full(shape[:axis] + (n + 1,) + shape[axis + 1:], low)))
    h += [("complex", np.full(shape, low) + 0j), ("nan", np.full(shape, np.nan)), *extra]
    return custom(f"int array {shape}", *h)


def targets_kind():
    return shaped_int_array((T, B), 0, Y - 1)


def activation_kind():
    return choice(*ACTIVATIONS)


def ord_kind():
    return extend(choice(2, "fro"), ("float 2.5", 2.5), ("bool", True), ("nuc", "nuc"))


def xs_kind():
    return array((T, B, X), free=(0, 1))


# ----------------------------------------------------------------------------------------------
# rnnlib.analysis
# ----------------------------------------------------------------------------------------------


def _sequence_valid(**extra):
    def valid():
        return dict(params=_params(), xs=_xs(), targets=_targets(), h0=None, activation="tanh", **extra)
    return valid


SEQUENCE_KINDS = dict(params=params_kind(), xs=xs_kind(), targets=targets_kind(),
                      h0=optional(array((B, H))), activation=activation_kind())
WRT = choice("W_hh", "W_hx", "b_h")

A_TERMS = np.ones((T + 1, T + 1, H, H))

TARGETS = [
    Target("rnnlib.analysis.bptt_deltas", analysis.bptt_deltas, _sequence_valid(), dict(SEQUENCE_KINDS)),
    Target("rnnlib.analysis.bptt_contributions", analysis.bptt_contributions, _sequence_valid(wrt="W_hx"),
           dict(SEQUENCE_KINDS, wrt=WRT)),
    Target("rnnlib.analysis.bptt_contribution_norms", analysis.bptt_contribution_norms, _sequence_valid(wrt="b_h"),
           dict(SEQUENCE_KINDS, wrt=WRT)),
    Target("rnnlib.analysis.carried_gradients", analysis.carried_gradients, _sequence_valid(), dict(SEQUENCE_KINDS)),
    Target("rnnlib.analysis.lag_diagonals", analysis.lag_diagonals, lambda: dict(A=A_TERMS.copy()),
           dict(A=without(array((T + 1, T + 1)), "extra axis", "nan", "inf"))),
    Target("rnnlib.analysis.loss_from", analysis.loss_from,
           lambda: dict(params=_params(), xs=_xs(), targets=_targets(), t=2, h_t=np.zeros((B, H)), activation="tanh"),
           dict({k: v for k, v in SEQUENCE_KINDS.items() if k != "h0"}, t=integer(0, T), h_t=optional(array((B, H))))),
    Target("rnnlib.analysis.immediate_dh_dW_hh", analysis.immediate_dh_dW_hh,
           lambda: dict(params=_params(), trace=_trace(), k=2),
           dict(params=params_kind(), trace=trace_kind(), k=integer(0, T))),
    Target("rnnlib.analysis.total_dh_dW_hh", analysis.total_dh_dW_hh,
           lambda: dict(params=_params(), trace=_trace(), k=3),
           dict(params=params_kind(), trace=trace_kind(), k=integer(0, T))),
    Target("rnnlib.analysis.jacobian_log_norm_bound", analysis.jacobian_log_norm_bound,
           lambda: dict(W_hh=_params().W_hh, activation="tanh", lags=np.arange(5)),
           dict(W_hh=array((H, H)), activation=activation_kind(),
                lags=custom("integers >= 0, any shape", ("None", None), ("str", "abc"), ("opaque", OPAQUE),
                            ("float-array", np.array([0.5, 1.5])), ("bool-array", np.ones(3, dtype=bool)),
                            ("bool", True), ("entry -1", np.array([0, -1])), ("complex", np.array([1j])),
                            ("object-array", np.array([OPAQUE], dtype=object)), ("str-array", np.array(["1"]))))),
    Target("rnnlib.analysis.bound_log_line", analysis.bound_log_line,
           lambda: dict(rate=0.9, lags=np.arange(5.0)),
           dict(rate=real(0.0, None),
                lags=custom("numbers >= 0, any shape", ("None", None), ("str", "abc"), ("opaque", OPAQUE),
                            ("bool-array", np.ones(3, dtype=bool)), ("bool", True), ("entry -1", np.array([0.0, -1.0])),
                            ("nan", np.array([1.0, np.nan])), ("inf", np.array([1.0, np.inf])),
                            ("complex", np.array([1j])), ("object-array", np.array([OPAQUE], dtype=object)),
                            ("str-array", np.array(["1"]))))),
]

# ----------------------------------------------------------------------------------------------
# rnnlib.jacobians
# ----------------------------------------------------------------------------------------------

JACOBIAN_KINDS = dict(params=params_kind(), trace=trace_kind())

TARGETS += [
    Target("rnnlib.jacobians.jacobian_log_norms", jacobians.jacobian_log_norms,
           lambda: dict(params=_params(), trace=_trace(), t=3, ord=2),
           dict(JACOBIAN_KINDS, t=optional(integer(0, T)), ord=ord_kind())),
    Target("rnnlib.jacobians.jacobian_log_singular_values", jacobians.jacobian_log_singular_values,
           lambda: dict(params=_params(), trace=_trace(), t=None),
           dict(JACOBIAN_KINDS, t=optional(integer(0, T)))),
    Target("rnnlib.jacobians.jacobian_log_norms_from", jacobians.jacobian_log_norms_from,
           lambda: dict(params=_params(), trace=_trace(), k=1, ord="fro"),
           dict(JACOBIAN_KINDS, k=integer(0, T), ord=ord_kind()), finite=False),  # NaN for t < k, documented
    Target("rnnlib.jacobians.matrix_power_log_norms", jacobians.matrix_power_log_norms,
           lambda: dict(W=np.array([[0.9, 1.0], [0.0, 0.5]]), T=20, ord=2),
           dict(W=without(array((2, 2)), "complex"), T=integer(0, MAX_STEPS, huge=True), ord=ord_kind())),
    Target("rnnlib.jacobians.naive_log_norms", jacobians.naive_log_norms,
           lambda: dict(W_hh=np.array([[0.9, 1.0], [0.0, 0.5]]), T=20),
           dict(W_hh=array((2, 2)), T=integer(0, MAX_STEPS, huge=True))),
    Target("rnnlib.jacobians.memory_norms", jacobians.memory_norms,
           lambda: dict(params=_params(), xs=_xs(B_=1), h0=None, activation="tanh"),
           dict(params=params_kind(), xs=array((T, 1, X), free=(0,)), h0=optional(array((1, H))),
                activation=activation_kind())),
    Target("rnnlib.jacobians.fade_rate", jacobians.fade_rate,
           lambda: dict(share=np.array([1.0, 0.5, 0.25, 0.125])),
           dict(share=extend(array((4,), free=(0,)), ("zero entry", np.array([1.0, 0.0])),
                             ("negative entry", np.array([1.0, -0.5])), ("length 1", np.ones(1)),
                             ("empty", np.ones(0))))),
]

# ----------------------------------------------------------------------------------------------
# rnnlib.spectra
# ----------------------------------------------------------------------------------------------

W2 = np.array([[0.9, 0.5], [0.0, 0.5]])
SOFTPLUS = Activation("softplus", lambda a: np.logaddexp(0.0, a), lambda a, h: 1.0 / (1.0 + np.exp(-a)), 1.0)


def _profile(activation="tanh"):
    return spectra.gradient_profile(W2, T, activation, u=np.array([0.1, 0.2]), h0=np.array([0.3, -0.2]))


def profile_kind():
    p = _profile()
    return custom(
        "GradientProfile",
        ("None", None), ("opaque", OPAQUE), ("tuple", tuple(p)), ("array", p.log_norm), ("a Verdict", spectra.verdict(p)),
        ("params", _params()), ("all-NaN log_norm", p._replace(log_norm=np.full(T + 1, np.nan))),
        ("empty log_norm", p._replace(log_norm=np.zeros(0))), ("W not square", p._replace(W=np.ones((2, 3)))),
    )


EXPLORER_SETTING_KINDS = dict(
    kind=choice(*spectra.EXPLORER_KINDS), r1=real(-2.0, 2.0), r2=real(-2.0, 2.0), angle=real(0.0, 180.0),
    shear=real(0.0, 10.0), size=integer(4, 64), activation=choice(*spectra.EXPLORER_ACTIVATIONS),
    u=real(0.0, 3.0), h0_1=real(-1.5, 1.5), h0_2=real(-1.5, 1.5),
    T=extend(integer(10, 1000), ("T = 50.5", 50.5)), t=integer(0, 1000),
)


def _explorer_valid(**over):
    def valid():
        return dict(spectra.EXPLORER_DEFAULTS, T=20, t=20, **over)
    return valid


TARGETS += [
    Target("rnnlib.spectra.triangular_2x2", spectra.triangular_2x2, lambda: dict(lam1=0.9, lam2=0.5, shear=1.0),
           dict(lam1=real(), lam2=real(), shear=real())),
    Target("rnnlib.spectra.complex_pair_2x2", spectra.complex_pair_2x2, lambda: dict(r=0.9, theta=0.5, shear=1.0),
           dict(r=real(0.0, None), theta=real(0.0, math.pi), shear=real())),
    Target("rnnlib.spectra.departure_from_normality", spectra.departure_from_normality,
           lambda: dict(W=np.array([[0.9, 2.0], [0.0, 0.5]])), dict(W=without(array((2, 2), free=(0, 1)), "complex",
                                                                               "extra axis"))),
    Target("rnnlib.spectra.prefix_log_norms", spectra.prefix_log_norms,
           lambda: dict(J=np.stack([W2] * T), ord=2), dict(J=array((T, 2, 2), free=(0,)), ord=ord_kind())),
    Target("rnnlib.spectra.hidden_trajectory", spectra.hidden_trajectory,
           lambda: dict(W=W2, h0=np.array([0.3, -0.2]), T=T, activation="tanh", u=None, escape=1e100),
           dict(W=array((2, 2)), h0=array((2,)), T=integer(0, MAX_STEPS, huge=True),
                activation=extend(activation_kind(), ("custom Activation", SOFTPLUS)),
                u=optional(array((2,))), escape=positive()), finite=False),  # a[0] is NaN: no a_0
    Target("rnnlib.spectra.gradient_profile", spectra.gradient_profile,
           lambda: dict(W=np.eye(H) * 0.5 + np.eye(H, k=1), T=T, activation="tanh", u=np.full(H, 0.1),
                        h0=np.full(H, 0.2), escape=1e100),
           dict(W=array((H, H)), T=integer(0, MAX_STEPS, huge=True), activation=activation_kind(),
                u=optional(array((H,))), h0=optional(array((H,))), escape=positive()), finite=False),
    Target("rnnlib.spectra.format_pow10", spectra.format_pow10, lambda: dict(log10_value=-460.3, digits=2),
           dict(log10_value=custom("a real number (inf, -inf and NaN allowed)", ("str", "0.5"), ("None", None),
                                   ("bool", True), ("complex", 0.5 + 1j), ("array", np.array([0.5, 0.5])),
                                   ("opaque", OPAQUE)),
                digits=integer(1, 17))),
    Target("rnnlib.spectra.grows_exponentially", spectra.grows_exponentially, lambda: dict(profile=_profile()),
           dict(profile=profile_kind()), finite=False),
    Target("rnnlib.spectra.verdict", spectra.verdict, lambda: dict(profile=_profile()), dict(profile=profile_kind())),
    Target("rnnlib.spectra.product_at", spectra.product_at, lambda: dict(profile=_profile(), t=3),
           dict(profile=profile_kind(), t=integer(0, T))),
    Target("rnnlib.spectra.log_singular_values_at", spectra.log_singular_values_at, lambda: dict(profile=_profile(), t=3),
           dict(profile=profile_kind(), t=integer(0, T))),
    Target("rnnlib.spectra.unit_circle_image", spectra.unit_circle_image, lambda: dict(profile=_profile(), t=3, n=9),
           dict(profile=profile_kind(), t=integer(0, T), n=integer(2, 10**6, huge=True))),
    Target("rnnlib.spectra.explorer_settings", spectra.explorer_settings, _explorer_valid(),
           dict(EXPLORER_SETTING_KINDS)),
    Target("rnnlib.spectra.explorer_profile", spectra.explorer_profile, _explorer_valid(kind="complex"),
           dict(EXPLORER_SETTING_KINDS), finite=False),
    Target("rnnlib.spectra.explorer_matrix", spectra.explorer_matrix,
           lambda: dict(kind="random", r1=0.9, r2=0.5, angle=30.0, shear=1.0, size=8),
           {name: EXPLORER_SETTING_KINDS[name] for name in ("kind", "r1", "r2", "angle", "shear", "size")}),
    Target("rnnlib.spectra.explorer_state", spectra.explorer_state,
           lambda: dict(kind="random", size=8, u=0.5, h0_1=0.8, h0_2=-0.4),
           {name: EXPLORER_SETTING_KINDS[name] for name in ("kind", "size", "u", "h0_1", "h0_2")}),
    Target("rnnlib.spectra.explorer_controls_used", spectra.explorer_controls_used, lambda: dict(kind="complex"),
           dict(kind=choice(*spectra.EXPLORER_KINDS))),
    Target("rnnlib.spectra.principal_components", spectra.principal_components,
           lambda: dict(h=np.random.default_rng(0).standard_normal((T + 1, H))),
           dict(h=extend(without(array((T + 1, H), free=(0, 1)), "nan"), ("H = 1", np.ones((T + 1, 1))),
                         ("no rows", np.ones((0, H))), ("all rows NaN", np.full((T + 1, H), np.nan))))),
]

# ----------------------------------------------------------------------------------------------
# rnnlib.examples (tiny sizes: each valid call well under a second)
# ----------------------------------------------------------------------------------------------

SEED = integer(0, None)

TARGETS += [
    Target("rnnlib.examples.contracting_params", examples.contracting_params,
           lambda: dict(n_in=X, n_hidden=H, n_out=Y, sigma=0.9, seed=0),
           dict(n_in=integer(1), n_hidden=integer(1), n_out=integer(1), sigma=positive(), seed=SEED)),
    Target("rnnlib.examples.lag_example", examples.lag_example,
           lambda: dict(T=T, n_hidden=H, vocab=Y, scale=0.5, seed=3),
           dict(T=integer(1), n_hidden=integer(1), vocab=integer(1), scale=real(0.0, None), seed=SEED)),
    Target("rnnlib.examples.norm_example_params", examples.norm_example_params,
           lambda: dict(sigma_max=1.5, n_in=X, n_hidden=H, seed=4),
           dict(sigma_max=positive(), n_in=integer(1), n_hidden=integer(1), seed=SEED)),
    Target("rnnlib.examples.jacobian_norm_curves", examples.jacobian_norm_curves,
           lambda: dict(T=T, sigmas=(0.5, 2.0), activations=("tanh", "linear"), seed=4),
           dict(T=integer(1), seed=SEED,
                sigmas=custom("positive numbers", ("None", None), ("str", "0.5"), ("opaque", OPAQUE), ("empty", ()),
                              ("nan", (0.5, float("nan"))), ("zero", (0.0,)), ("negative", (-1.0,)), ("bool", (True,)),
                              ("complex", (1j,)), ("number", 0.5)),
                activations=custom("activation names", ("None", None), ("str", "tanh"), ("opaque", OPAQUE),
                                   ("empty", ()), ("unknown", ("tanh", "no-such")), ("int", (3,))))),
    Target("rnnlib.examples.underflow_example", examples.underflow_example,
           lambda: dict(c_log10=-0.7, T=T, n_hidden=H, seed=0),
           dict(c_log10=real(-300.0, 300.0), T=integer(1), n_hidden=integer(1), seed=SEED)),
    Target("rnnlib.examples.clipping_experiment", examples.clipping_experiment,
           lambda: dict(T=3, seeds=[0], lr=0.3, lr_small=0.03, spectral_radius=1.5, percentile=90, n_steps=2),
           dict(T=integer(2), lr=positive(), lr_small=positive(), spectral_radius=positive(),
                percentile=real(0.0, 100.0), n_steps=integer(1),
                seeds=custom("seeds", ("None", None), ("str", "0"), ("opaque", OPAQUE), ("empty", []),
                             ("float", [1.5]), ("negative", [-1]), ("bool", [True]), ("int", 3)))),
    Target("rnnlib.examples.char_rnn_experiment", examples.char_rnn_experiment,
           lambda: dict(n_updates=2, seed=0, eval_every=1, H=4, k=5, B=2),
           dict(n_updates=integer(1), seed=SEED, eval_every=integer(1))),
]

# ----------------------------------------------------------------------------------------------
# rnnlib.exercises: the checkers take the learner's function
# ----------------------------------------------------------------------------------------------


def _solutions():
    import test_exercises as te  # the learner-style right answers of the checkers' own tests

    return {"check_step_forward": te.learner_step_forward(), "check_softmax_cross_entropy":
            te.learner_softmax_cross_entropy(), "check_step_backward": te.learner_step_backward(),
            "check_bptt": te.learner_bptt(), "check_clip_by_norm": te.learner_clip_by_norm()}


FN = custom("the learner's function", ("None", None), ("str", "my_step_forward"), ("int", 3), ("opaque", OPAQUE),
            ("array", np.ones(3)), ("list", [len]))

for _name, _fn in _solutions().items():
    TARGETS.append(Target(f"rnnlib.exercises.{_name}", getattr(exercises, _name), lambda fn=_fn: dict(fn=fn),
                          dict(fn=FN)))

# ----------------------------------------------------------------------------------------------
# The explorer's setter (notebook 05): one explorer, built once
# ----------------------------------------------------------------------------------------------


def _explorer():
    from rnnlib.plots.explorer import eigenvalue_explorer

    return eigenvalue_explorer(T=20, t=20)


EXPLORER = _explorer()

TARGETS.append(Target(
    "rnnlib.plots.explorer.EigenvalueExplorer.set", EXPLORER.set, _explorer_valid(kind="complex"),
    dict(EXPLORER_SETTING_KINDS, preset=choice(*spectra.PRESETS)), finite=False))

EXEMPT = {
    "rnnlib.exercises.Mistake": "a frozen dataclass of a mistake's texts and formula: data, no checks to walk",
    "rnnlib.spectra.GradientProfile": "a NamedTuple of gradient_profile's results: data",
    "rnnlib.spectra.Preset": "a NamedTuple of a preset's settings and story: data",
    "rnnlib.spectra.Verdict": "a NamedTuple (word, line): data",
}

del _name, _fn
