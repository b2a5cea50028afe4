"""Checkers for the "Build it yourself" sections: your own step, loss, BPTT and clipping, and what is wrong.

Each `check_*` function runs the function you wrote on several seeded cases (several batch sizes,
non-square sizes, T >= 5, every activation where the signature has one) and compares its numbers
with rnnlib's:

    check_step_forward(my_step_forward)                       notebook 01, equations (2a), (2b), (3)
    check_softmax_cross_entropy(my_softmax_cross_entropy)     notebook 02
    check_step_backward(my_step_backward)                     notebook 03, section 3
    check_bptt(my_bptt)                                       notebook 03
    check_clip_by_norm(my_clip_by_norm)                       notebook 06, Pascanu et al.'s Algorithm 1

Right: one printed line with the worst relative error of each output (`rnnlib.rel_error`, the
largest entrywise difference relative to the largest entry), and the function returns None.
Wrong: an AssertionError that names the wrong output and its relative error and, when your numbers
are those of a classic mistake, says which one in plain words with the line that fixes it. The
mistake is recognised by computing each mistaken formula here and comparing numbers, never by
reading your code; when two mistaken formulas give your numbers, both are named. A function that
raises, returns None, the wrong type or shape, NaN, or changes its inputs in place gets a message
saying so; so do an output left at zeros and errors at float32 level. While your function is the
skeleton (it raises NotImplementedError) the checker prints "not attempted yet" and returns.

Numpy only.
"""

from __future__ import annotations

import copy
import functools
import os
import traceback
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import get_activation  # rnnlib's top level (the package is initialised before this module)
from ._checks import check_callable
from .core import RNNParams, bptt, softmax, softmax_cross_entropy, step_backward, step_forward
from .gradcheck import numerical_gradient, rel_error
from .remedies import clip_by_norm

__all__ = [
    "check_step_forward",
    "check_softmax_cross_entropy",
    "check_step_backward",
    "check_bptt",
    "check_clip_by_norm",
    "Mistake",
    "MISTAKES",
]

TOL = 1e-6  # a relative error below this counts as equal (float64 work gives ~1e-15)
FIELDS = RNNParams._fields
GRAD_NAMES = tuple("d" + f for f in FIELDS)  # dW_hx, dW_hh, db_h, dW_yh, db_y


@dataclass(frozen=True)
class Mistake:
    """A classic mistake: its key, what it is in plain words, the line that fixes it, its numbers, and
    where the notebooks explain the right line (`where`).

    outputs(case) returns the outputs the mistaken formula gives on a case, as a dict keyed like
    the checker's outputs.
    """

    key: str
    what: str
    fix: str
    outputs: Callable[[dict], dict]
    where: str = ""  # e.g. "notebook 03, section 3, the table"


class _Stop(Exception):
    """Internal: the learner's function is the skeleton (raises NotImplementedError)."""


# ----------------------------------------------------------------------------------------------
# Calling the learner's function: copies in, exceptions and in-place changes turned into messages
# ----------------------------------------------------------------------------------------------

_HERE = os.path.dirname(os.path.abspath(__file__))


def _where(exc: BaseException) -> str:
    """' (in my_bptt, line 4: `dh = ...`)' for the deepest frame of the learner's own code, or ''."""
    frames = traceback.extract_tb(exc.__traceback__)[1:]  # frame 0 is the checker's call
    own = [f for f in frames if not f.filename.startswith(_HERE) and "site-packages" not in f.filename
           and os.sep + "numpy" + os.sep not in f.filename]
    if not own:
        return ""
    f = own[-1]
    code = f": `{f.line.strip()}`" if f.line else ""
    return f" (in {f.name}, line {f.lineno}{code})"


def _hint_for(exc: BaseException) -> str:
    text = str(exc)
    if (isinstance(exc, TypeError) and "NoneType" in text) or "not have enough dimensions" in text:
        return ("\nHint: a value is None (or a plain number) where an array belongs: a variable never set, a "
                "function without `return`, or h0=None, which means a start from zeros.")
    if isinstance(exc, ValueError) and ("matmul" in text or "aligned" in text):
        return ("\nHint: a product with mismatched shapes usually means a missing or extra .T. The code keeps "
                "one example per row, so W x is written x @ W.T, and W^T g (going backwards) is g @ W.")
    if isinstance(exc, ValueError) and "broadcast" in text:
        return ("\nHint: two arrays of different shapes were combined elementwise; print the shape of each "
                "operand of that line and compare with the shapes in the skeleton's comments.")
    if "Cannot cast ufunc" in text and "int" in text:
        return ("\nHint: an integer array cannot hold the fractions written into it in place (+=, -=). Make it a "
                "float array: np.zeros(shape) and np.zeros_like(a_float_array) are floats; dtype=int, or "
                "zeros_like of an integer array such as targets, is not.")
    if "inhomogeneous" in text:
        return ("\nHint: the five arrays have different shapes, so numpy cannot make them one array (np.linalg.norm("
                "grads), np.array(grads)). Go over them: np.sqrt(sum(np.sum(g ** 2) for g in grads)).")
    if isinstance(exc, TypeError) and ("argument" in text or "unpack" in text):
        return "\nHint: compare your function's arguments and return values with the skeleton's."
    if isinstance(exc, (IndexError, AttributeError)):
        return "\nHint: compare the names and shapes you use with the skeleton's comments."
    return ""


def _call(fn, name: str, args: tuple, arg_names: tuple, label: str, index_hint: str = ""):
    """fn(*copies of args), with exceptions and in-place changes of the inputs reported clearly.

    index_hint: the checker's own hint for an IndexError, replacing the general one.
    """
    given = copy.deepcopy(args)
    try:
        result = fn(*given)
    except NotImplementedError:
        raise _Stop() from None
    except Exception as exc:  # the learner's code: any exception becomes a message, not a traceback
        hint = "\nHint: " + index_hint if index_hint and isinstance(exc, IndexError) else _hint_for(exc)
        raise AssertionError(f"{name} raised {type(exc).__name__}: {exc}{_where(exc)}\n"
                             f"on {label}.{hint}") from None
    for arg_name, before, after in zip(arg_names, args, given):
        if not _same(before, after):
            raise AssertionError(
                f"{name} changed its input `{_part(arg_name, before, after)}` in place on {label}: the caller's "
                "arrays are no longer "
                f"what it passed in. Compute into new arrays (z = logits - m, not logits -= m; g * scale, "
                f"not g *= scale).")
    return result


def _part(path: str, before, after) -> str:
    """The changed array's name inside a named tuple (cache.h_t, params.W_hh), or path itself."""
    if isinstance(before, tuple) and hasattr(before, "_fields"):
        for field, x, y in zip(before._fields, before, after):
            if not _same(x, y):
                return _part(f"{path}.{field}", x, y)
    return path


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return True  # numbers, activations, None: not arrays the function could change


# ----------------------------------------------------------------------------------------------
# Checking what came back: types, shapes, NaN
# ----------------------------------------------------------------------------------------------


def _describe(value) -> str:
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, RNNParams):
        return "an RNNParams"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"a {type(value).__name__}"


def _array(value, out: str, expected_shape: tuple, name: str, label: str, what: str = "", *,
           others: dict | None = None, order: str = "") -> np.ndarray:
    """value as a float array of the expected shape, or an AssertionError that says what is wrong.

    others: the expected shapes of the function's other outputs, to recognise results returned in the wrong
    order; order: the right order, in words, e.g. "loss, grads".
    """
    swapped = f" Are the results in the wrong order? Return {order}." if order else ""
    if value is None:
        raise AssertionError(f"{name} returned None for {out} on {label}: is a `return` missing?")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(f"{name} returned {_describe(value)} for {out} on {label}; expected {what or 'an array'} "
                             f"of shape {expected_shape}.{swapped if expected_shape == () else ''}") from None
    if arr.shape != expected_shape:
        hint = ""
        match = [o for o, shape in (others or {}).items() if o != out and shape == arr.shape]
        if match:
            hint = f" That is the shape of {match[0]}.{swapped}"
        elif expected_shape == () and out == "loss":
            hint = (" A loss is one number, the mean over the batch (.mean(), not one value per example): "
                    "return float(loss).")
        elif expected_shape == () and arr.size == 1:
            hint = f" The {out} is one number: return float({out})."
        elif len(arr.shape) == 2 and arr.shape == expected_shape[::-1]:
            hint = (" That is the transpose. A gradient has the shape of what it is the gradient of; for a weight "
                    "W (rows: outputs, columns: inputs) it is upstream.T @ input." if out.startswith("dW") else
                    " That is the transpose: the code keeps one example per row, so W x is written x @ W.T "
                    "(not W @ x.T).")
        elif len(expected_shape) == 1 and arr.ndim == 2 and arr.shape[1] == expected_shape[0]:
            hint = " A bias gradient sums over the batch: .sum(axis=0)."
        elif len(expected_shape) == 1 and arr.ndim == 1 and out.startswith("db"):
            hint = " A bias gradient has one entry per unit: sum over the batch, .sum(axis=0), not over axis 1."
        raise AssertionError(f"{name} returned {out} of shape {arr.shape} on {label}; expected shape "
                             f"{expected_shape}.{hint}")
    return arr


def _sequence(value, n: int, out: str, name: str, label: str, what: str) -> tuple:
    if value is None:
        raise AssertionError(f"{name} returned None on {label}: is a `return` missing? Expected {what}.")
    if isinstance(value, np.ndarray) or not isinstance(value, (tuple, list)) or len(value) != n:
        raise AssertionError(f"{name} returned {_describe(value)} for {out} on {label}; expected {what}.")
    return tuple(value)


def _grads(value, ref: dict, name: str, label: str) -> dict:
    what = "an RNNParams of gradients (or a tuple of 5 arrays in the order dW_hx, dW_hh, db_h, dW_yh, db_y)"
    if isinstance(value, dict):
        raise AssertionError(f"{name} returned a dict for the gradients on {label}; expected {what}.")
    parts = _sequence(value, 5, "the gradients", name, label, what)
    shapes = {g: ref[g].shape for g in GRAD_NAMES}
    return {g: _array(p, g, ref[g].shape, name, label, others=shapes, order=", ".join(GRAD_NAMES))
            for g, p in zip(GRAD_NAMES, parts)}


# ----------------------------------------------------------------------------------------------
# The engine shared by the five checkers
# ----------------------------------------------------------------------------------------------


def _public(check):
    """Re-raise the checker's AssertionError from the public function itself: a two-frame traceback."""
    @functools.wraps(check)
    def wrapper(fn) -> None:
        try:
            return check(fn)
        except AssertionError as exc:
            raise AssertionError(str(exc)) from None
    return wrapper


def _run(title: str, fn, cases: list, outputs: tuple, call: Callable, reference: Callable,
         mistakes: tuple, generic: str, oracle: Callable | None = None, against: str = "rnnlib",
         extra: Callable | None = None, diagnose: Callable | None = None) -> None:
    """extra(gots, cases): text appended to every failure; diagnose(gots, cases): a specific diagnosis (or "")
    that replaces the generic advice when no classic mistake explains the numbers."""
    name = getattr(fn, "__name__", "your function")
    check_callable("fn", fn, f"your function for {title}")
    refs, gots, kept, nonfinite = [], [], [], ""
    for i, case in enumerate(cases):
        ref = reference(case)
        try:
            got = call(fn, name, case, ref)
        except _Stop:
            if i == 0:
                print(f"{title}: not attempted yet ({name} still raises NotImplementedError: replace that line "
                      "with your code)")
                return None
            raise AssertionError(f"{title}: {name} raised NotImplementedError on {case['label']}, after running on "
                                 "the cases before it: every case must work.") from None
        except AssertionError as exc:  # every message starts with the checker's name
            raise AssertionError(f"{title}: {exc}") from None
        try:
            _finite(got, ref, case, mistakes, name)
        except AssertionError as exc:  # NaN or inf: reported, and the finite cases still compared
            nonfinite = nonfinite or str(exc)
            continue
        refs.append(ref)
        gots.append(got)
        kept.append(case)
    worst = {o: max((rel_error(g[o], r[o]) for g, r in zip(gots, refs)), default=0.0) for o in outputs}
    wrong = [o for o in outputs if worst[o] >= TOL]
    if not wrong and nonfinite:
        raise AssertionError(f"{title}: {nonfinite}")
    if wrong:
        msg = _failure(title, name, kept, outputs, refs, gots, worst, wrong, mistakes, generic, against)
        if len(kept) < len(cases):
            msg = msg.replace(f"(worst of {len(kept)} cases;",
                              f"(worst of the {len(kept)} cases with finite results;", 1)
        if nonfinite:  # its explanation only when the message does not already give it
            head, _, why = nonfinite.partition("\n")
            msg += f"\nAlso: {head if why and why.splitlines()[0] in msg else nonfinite}"
        specific = diagnose(gots, kept) if diagnose else ""
        if specific:
            msg = msg.replace(f"This is none of the classic mistakes this checker knows. {generic}", specific.lstrip())
        raise AssertionError(msg + (extra(gots, kept) if extra else "")) from None
    line = f"{title}: right on all {len(cases)} cases. Worst rel. error vs {against}: " + \
        ", ".join(f"{o} {worst[o]:.1g}" for o in outputs)
    if oracle is not None:
        fd = oracle(fn, name)
        line += f"; vs finite differences: {fd:.1g}"
        if not fd < 1e-5:  # cannot happen while rnnlib is right; its tests check it against the same oracle
            raise AssertionError(f"{title}: {name} agrees with rnnlib but not with finite differences ({fd:.2g})")
    print(line)
    return None


def _finite(got: dict, ref: dict, case: dict, mistakes, name: str) -> None:
    """NaN or inf in an output: name the mistakes whose formula gives non-finite numbers there too."""
    for o, g in got.items():
        if np.all(np.isfinite(g)):
            continue
        explain = [m for m in mistakes if _same_numbers(got, m.outputs(case))]
        bad = "NaN" if np.any(np.isnan(g)) else "inf"
        size = (f"is {float(ref[o]):.4g}" if np.ndim(ref[o]) == 0 else
                f"is finite (largest |entry| {np.max(np.abs(ref[o])):.3g})")
        msg = f"{name} returned {bad} in {o} on {case['label']}, where rnnlib's {o} {size}."
        raise AssertionError(msg + _explain(explain) if explain else msg + (
            "\nLook for exp of a large number (np.exp overflows beyond about 709), log of 0, or 0/0."))


def _same_numbers(got: dict, numbers: dict) -> bool:
    """True when every output has the same NaN and inf entries as the mistake's, and equal finite entries."""
    for o, g in got.items():
        m = numbers.get(o)
        if m is None or np.shape(m) != g.shape:
            return False
        m = np.asarray(m, dtype=np.float64)
        if not (np.array_equal(np.isnan(m), np.isnan(g)) and np.array_equal(np.isposinf(m), np.isposinf(g))
                and np.array_equal(np.isneginf(m), np.isneginf(g))):
            return False
        ok = np.isfinite(g)
        if ok.any() and rel_error(g[ok], m[ok]) >= TOL:
            return False
    return True


def _matches(m: Mistake, o: str, gots, cases) -> bool:
    """True when the learner's output o equals the mistaken formula's on every case."""
    for g, case in zip(gots, cases):
        mo = m.outputs(case).get(o)
        if mo is None or np.shape(mo) != g[o].shape or not np.all(np.isfinite(mo)) or rel_error(g[o], mo) >= TOL:
            return False
    return True


def _explain(found: list) -> str:
    if len(found) == 1:
        m = found[0]
        return f"\nThis is a classic mistake: {m.what}\n{_fix(m)}"
    head = (f"\nYour numbers are those of {len(found)} classic mistakes, which give the same numbers on these "
            "cases; one of them is in your code:")
    return head + "".join(f"\n({i}) {m.what}\n    {_fix(m)}" for i, m in enumerate(found, 1))


def _fix(m: Mistake) -> str:
    return f"Fix ({m.where}): {m.fix}" if m.where else f"Fix: {m.fix}"


def _failure(title, name, cases, outputs, refs, gots, worst, wrong, mistakes, generic, against) -> str:
    first = wrong[0]
    where = next(c["label"] for c, g, r in zip(cases, gots, refs) if rel_error(g[first], r[first]) >= TOL)
    right = [o for o in outputs if o not in wrong]
    verb = "is" if len(wrong) == 1 else "are"
    msg = (f"{title}: {', '.join(wrong)} {verb} wrong: relative error {', '.join(f'{worst[o]:.3g}' for o in wrong)} "
           f"against {against} (worst of {len(cases)} cases; {first} first wrong on {where}).\n"
           f"Right: {', '.join(right) if right else 'none'} (relative error below {TOL:g}).")
    # A mistake explains everything when it gives the learner's numbers in every output (it then differs
    # from the right answer where the learner does); else name, per wrong output, the mistakes that give it.
    full = [m for m in mistakes if all(_matches(m, o, gots, cases) for o in outputs)]
    if full:
        return msg + _explain(full)
    partial = {o: [m for m in mistakes if _matches(m, o, gots, cases)] for o in wrong}
    partial = {o: ms for o, ms in partial.items() if ms}
    zero = [o for o in wrong if o not in partial and all(not np.any(g[o]) for g in gots)]
    if zero:  # an output left at its starting zeros: say so before anything else
        msg += (f"\n{', '.join(zero)} {'is' if len(zero) == 1 else 'are'} all zeros on every case: never computed, "
                "or never added to after starting from zeros?")
        if len(zero) == len(wrong):
            return msg
    if partial:
        msg += "\nSome of your outputs are those of classic mistakes:"
        groups: dict[tuple, list] = {}
        for o, ms in partial.items():  # outputs explained by the same mistakes share one explanation
            groups.setdefault(tuple(m.key for m in ms), [o, ms])
            if groups[tuple(m.key for m in ms)][0] != o:
                groups[tuple(m.key for m in ms)][0] += f", {o}"
        for os_, ms in groups.values():
            msg += f"\n- {os_}:" + _explain(ms).replace("\n", "\n  ")
        rest = [o for o in wrong if o not in partial]
        if rest:
            msg += f"\n- {', '.join(rest)}: none of the classic mistakes this checker knows. {generic}"
        return msg
    if max(worst[o] for o in wrong) < 1e-4:  # right formulas, wrong precision
        return msg + ("\nThe errors are small but above rounding: float32 arithmetic (the check works in float64), "
                      "or a small constant (an eps) added somewhere?")
    return msg + f"\nThis is none of the classic mistakes this checker knows. {generic}"


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _params(rng, X, H, Y, scale=0.8, W_yh_scale=1.0) -> RNNParams:
    """Gaussian weights and NONZERO biases (a forgotten bias must show), W_hh not symmetric."""
    return RNNParams(scale * rng.standard_normal((H, X)) / np.sqrt(X),
                     scale * rng.standard_normal((H, H)) / np.sqrt(H),
                     0.3 * rng.standard_normal(H),
                     W_yh_scale * rng.standard_normal((Y, H)) / np.sqrt(H),
                     0.5 * rng.standard_normal(Y))


def _naive_softmax(z):
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)


# ----------------------------------------------------------------------------------------------
# 01 · my_step_forward(x_t, h_prev, params) -> (h_t, y_hat_t)
# ----------------------------------------------------------------------------------------------


def _forward_variant(c, *, W_hh_T=True, b_h=True, f=True, b_y=True, softmax_kind="stable", y_from="h_t"):
    x_t, h_prev, p = c["x_t"], c["h_prev"], c["params"]
    a_t = x_t @ p.W_hx.T + h_prev @ (p.W_hh.T if W_hh_T else p.W_hh) + (p.b_h if b_h else 0.0)
    h_t = np.tanh(a_t) if f else a_t
    z = (h_t if y_from == "h_t" else h_prev) @ p.W_yh.T + (p.b_y if b_y else 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        if softmax_kind == "stable":
            y = softmax(z)
        elif softmax_kind == "naive":
            y = _naive_softmax(z)
        elif softmax_kind == "shift_axis0":  # each column shifted by its own max, then per-row sums
            e = np.exp(z - z.max(axis=0))
            y = e / e.sum(axis=1, keepdims=True)
        elif softmax_kind == "global_shift":  # one max for the whole batch, then per-row sums
            e = np.exp(z - z.max())
            y = e / e.sum(axis=1, keepdims=True)
        elif softmax_kind == "none":
            y = z
        elif softmax_kind == "axis0":
            e = np.exp(z - z.max(axis=0, keepdims=True))
            y = e / e.sum(axis=0, keepdims=True)
        else:  # "total": one sum over the whole batch
            e = np.exp(z - z.max())
            y = e / e.sum()
    return {"h_t": h_t, "y_hat_t": y}


def _fwd_mistake(key, what, fix, **kw):
    return Mistake(key, what, fix, lambda c: _forward_variant(c, **kw), "notebook 01, sections 1 and 2")


FORWARD_MISTAKES = (
    _fwd_mistake("W_hh_not_transposed",
                 "W_hh is not transposed in the row-vector code: h_prev @ W_hh computes W_hh^T h_{t-1}, not "
                 "W_hh h_{t-1}. (The shapes fit because W_hh is square, and a symmetric W_hh would even hide it.)",
                 "a_t = x_t @ W_hx.T + h_prev @ W_hh.T + b_h      # (2a), one example per row", W_hh_T=False),
    _fwd_mistake("b_h_missing", "the bias b_h is missing from the pre-activation.",
                 "a_t = x_t @ W_hx.T + h_prev @ W_hh.T + b_h      # (2a)", b_h=False),
    _fwd_mistake("tanh_missing", "h_t is the pre-activation a_t: tanh is never applied.",
                 "h_t = np.tanh(a_t)      # (2b)", f=False),
    _fwd_mistake("b_y_missing", "the output bias b_y is missing from the logits.",
                 "z_t = h_t @ W_yh.T + b_y      # the argument of softmax in (3)", b_y=False),
    _fwd_mistake("softmax_missing", "y_hat_t is the logits W_yh h_t + b_y: the softmax of (3) is missing.",
                 "y_hat_t = softmax(z_t), with softmax(z) = exp(z - max z) / sum(exp(z - max z)) along axis=1",
                 softmax_kind="none"),
    _fwd_mistake("softmax_over_batch",
                 "the softmax normalises over the batch (axis=0), so each column sums to 1 instead of each row.",
                 "e = np.exp(z - z.max(axis=1, keepdims=True)); y_hat_t = e / e.sum(axis=1, keepdims=True)",
                 softmax_kind="axis0"),
    _fwd_mistake("softmax_one_sum",
                 "the softmax divides by one sum over the whole batch, so the rows do not each sum to 1.",
                 "y_hat_t = e / e.sum(axis=1, keepdims=True)      # one sum per example (row)",
                 softmax_kind="total"),
    _fwd_mistake("y_from_h_prev", "the prediction is read off h_{t-1} instead of the new state h_t.",
                 "y_hat_t = softmax(h_t @ W_yh.T + b_y)      # (3) uses h_t", y_from="h_prev"),
    _fwd_mistake("softmax_global_shift",
                 "the softmax subtracts one max over the whole batch (z.max()) instead of each row's max: a row "
                 "far below the batch's largest logit underflows to all zeros, and 0/0 is NaN.",
                 "e = np.exp(z - z.max(axis=1, keepdims=True))      # each row shifted by its own max",
                 softmax_kind="global_shift"),
    _fwd_mistake("softmax_shift_axis0",
                 "the softmax shifts each column by its max (z.max(axis=0), or max without axis=1): softmax is "
                 "unchanged only when one number is subtracted from a whole row.",
                 "e = np.exp(z - z.max(axis=1, keepdims=True))      # each row shifted by its own max",
                 softmax_kind="shift_axis0"),
    _fwd_mistake("softmax_overflow",
                 "the softmax overflows on large logits: np.exp(z) is inf beyond z of about 709, and inf/inf "
                 "is NaN (notebook 02, section 4).",
                 "e = np.exp(z - z.max(axis=1, keepdims=True)); y_hat_t = e / e.sum(axis=1, keepdims=True)",
                 softmax_kind="naive"),
)


def _forward_cases():
    cases = []
    for i, (B, X, H, Y, big) in enumerate([(1, 3, 5, 4, False), (3, 3, 5, 4, False), (4, 6, 2, 3, False),
                                           (2, 1, 4, 7, False), (3, 3, 5, 4, True)]):
        rng = _rng(100 + i)
        p = _params(rng, X, H, Y, W_yh_scale=2000.0 if big else 1.0)
        x_t = rng.standard_normal((B, X))
        h_prev = np.tanh(rng.standard_normal((B, H)))
        size = f"B = {B}, X = {X}, H = {H}, Y = {Y}"
        label = f"case {i + 1} ({size}{', logits up to about 2000' if big else ''})"
        cases.append({"label": label, "x_t": x_t, "h_prev": h_prev, "params": p})
    # Large but close logits (about 1000 +- 2): a softmax that clips the logits instead of shifting them is wrong here.
    rng = _rng(105)
    p = _params(rng, 4, 6, 5)
    p = p._replace(b_y=p.b_y + 1000.0)
    cases.append({"label": "case 6 (B = 2, X = 4, H = 6, Y = 5, logits near 1000, close together)",
                  "x_t": rng.standard_normal((2, 4)), "h_prev": np.tanh(rng.standard_normal((2, 6))), "params": p})
    return cases


@_public
def check_step_forward(fn) -> None:
    """Check my_step_forward(x_t, h_prev, params) -> (h_t, y_hat_t) against rnnlib.step_forward (tanh).

    x_t (B, X), h_prev (B, H), params an RNNParams -> h_t (B, H), y_hat_t (B, Y). Six seeded cases:
    B = 1..4, X, H, Y all different, nonzero biases, one case with logits up to about 2000, one with
    logits near 1000 that differ by a few units (a clipped softmax fails it). Prints one line
    when right; raises AssertionError naming the wrong output and the mistake otherwise.
    Equations (2a), (2b), (3); notebook 01.
    """
    def call(fn, name, c, ref):
        res = _call(fn, name, (c["x_t"], c["h_prev"], c["params"]), ("x_t", "h_prev", "params"), c["label"])
        what = "a pair (h_t, y_hat_t)"
        if isinstance(res, tuple) and len(res) == 3:
            res = res[:2]  # rnnlib's (h_t, y_hat_t, cache) is fine too
        h, y = _sequence(res, 2, "its result", name, c["label"], what)
        shapes, order = {o: ref[o].shape for o in ref}, "h_t, y_hat_t"
        return {"h_t": _array(h, "h_t", ref["h_t"].shape, name, c["label"], others=shapes, order=order),
                "y_hat_t": _array(y, "y_hat_t", ref["y_hat_t"].shape, name, c["label"], others=shapes, order=order)}

    def reference(c):
        h, y, _ = step_forward(c["x_t"], c["h_prev"], c["params"], "tanh")
        return {"h_t": h, "y_hat_t": y}

    _run("check_step_forward", fn, _forward_cases(), ("h_t", "y_hat_t"), call, reference, FORWARD_MISTAKES,
         "Compare each line with (2a), (2b) and (3) in notebook 01, section 1, and with section 2's step by hand; "
         "if h_t is right, the error is in the output layer.",
         against="rnnlib.step_forward")


# ----------------------------------------------------------------------------------------------
# 02 · my_softmax_cross_entropy(logits, targets) -> (loss, dlogits)
# ----------------------------------------------------------------------------------------------


def _ce_variant(c, kind):
    z, y = c["logits"], c["targets"]
    B = z.shape[0]
    rows = np.arange(B)
    loss, d = softmax_cross_entropy(z, y)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if kind == "naive":
            p = _naive_softmax(z)
            loss, d = -np.mean(np.log(p[rows, y])), p.copy()
            d[rows, y] -= 1
            d = d / B
        elif kind == "log_of_softmax":
            p = softmax(z)
            loss = -np.mean(np.log(p[rows, y]))
        elif kind == "shift_axis0":
            s0 = z - z.max(axis=0)
            log_p = s0 - np.log(np.exp(s0).sum(axis=1, keepdims=True))
            loss, d = -np.mean(log_p[rows, y]), np.exp(log_p)
            d[rows, y] -= 1
            d = d / B
        elif kind == "mean_over_classes":
            loss = loss / z.shape[1]
        elif kind == "no_mean":
            loss, d = loss * B, d * B
        elif kind == "mean_twice":
            loss, d = loss / B, d / B
        elif kind == "sign":
            d = -d
        elif kind == "no_minus_one":
            d = softmax(z) / B
        elif kind == "loss_sign":
            loss = -loss
        elif kind == "axis0":
            e = np.exp(z - z.max(axis=0, keepdims=True))
            p = e / e.sum(axis=0, keepdims=True)
            loss, d = -np.mean(np.log(p[rows, y])), p.copy()
            d[rows, y] -= 1
            d = d / B
        elif kind == "block_index":
            p = softmax(z)
            loss, d = -np.mean(np.log(p[:, y])), p.copy()
            d[:, y] -= 1
            d = d / B
    return {"loss": np.asarray(loss, dtype=np.float64), "dlogits": d}


def _ce_mistake(key, what, fix):
    return Mistake(key, what, fix, lambda c: _ce_variant(c, key), "notebook 02, sections 2 and 4, exercise 3")


CE_MISTAKES = (
    _ce_mistake("naive",
                "the softmax overflows on large logits: np.exp(1e4) is inf, and inf/inf is NaN (notebook 02, "
                "section 4).",
                "shift first: z = logits - logits.max(axis=1, keepdims=True), then exp(z) cannot overflow"),
    _ce_mistake("log_of_softmax",
                "the loss takes the log of a probability that has underflowed to 0 (log 0 = -inf), although "
                "the softmax itself is shifted. With logits of 1e4 the true loss is finite and large.",
                "log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True)) with z = logits - max: log-sum-exp, "
                "never log(softmax); loss = -log_p[np.arange(B), targets].mean()"),
    _ce_mistake("no_mean",
                "the 1/B of the batch mean is missing: summed over the batch instead of averaged, B times too "
                "large.",
                "loss = -log_p[np.arange(B), targets].mean();  dlogits = (y_hat - onehot) / B"),
    _ce_mistake("mean_twice",
                "the 1/B of the batch mean is applied twice: B times too small.",
                "divide by B once: loss = (sum over the batch) / B, dlogits = (y_hat - onehot) / B"),
    _ce_mistake("shift_axis0",
                "each column is shifted by its max (logits.max(axis=0), or max without axis=1): the shift leaves "
                "softmax unchanged only when one number is subtracted from a whole row.",
                "z = logits - logits.max(axis=1, keepdims=True)      # each row shifted by its own max"),
    _ce_mistake("mean_over_classes",
                "the loss is a mean over all B * Y entries (np.mean of onehot * log_p, say), Y times too small: "
                "only the target entry of each row counts, so average over the B examples only.",
                "loss = -(onehot * log_p).sum() / B, or -log_p[np.arange(B), targets].mean()"),
    _ce_mistake("sign", "dlogits has the wrong sign: the gradient is y_hat - onehot(y), not onehot(y) - y_hat.",
                "dlogits = y_hat.copy(); dlogits[np.arange(B), targets] -= 1; dlogits /= B"),
    _ce_mistake("no_minus_one", "dlogits is the softmax without the -1 at the target class.",
                "dlogits[np.arange(B), targets] -= 1      # y_hat - onehot(y), then / B"),
    _ce_mistake("loss_sign", "the loss has the wrong sign: cross-entropy is MINUS the log-probability of the target.",
                "loss = -log_p[np.arange(B), targets].mean()"),
    _ce_mistake("axis0", "the softmax normalises over the batch (axis=0) instead of over the classes (axis=1).",
                "z = logits - logits.max(axis=1, keepdims=True); ... .sum(axis=1, keepdims=True)"),
    _ce_mistake("block_index",
                "p[:, targets] picks a (B, B) block (every example at every target), not one entry per example.",
                "rows = np.arange(B); use p[rows, targets] and dlogits[rows, targets] -= 1"),
)


def _ce_cases():
    cases = []
    for i, (B, Y, scale) in enumerate([(1, 3, 1.0), (4, 5, 2.0), (3, 2, 1.0), (5, 4, 3.0), (4, 6, 1e4)]):
        rng = _rng(200 + i)
        logits = scale * rng.standard_normal((B, Y))
        targets = rng.integers(0, Y, size=B)
        if scale > 100:  # make sure no target is the largest logit: its probability underflows to 0
            targets = (np.argmax(logits, axis=1) + 1 + rng.integers(0, Y - 1, size=B)) % Y
        label = f"case {i + 1} (B = {B}, Y = {Y}{', logits of about 1e4' if scale > 100 else ''})"
        cases.append({"label": label, "logits": logits, "targets": targets, "large": scale > 100})
    return cases


@_public
def check_softmax_cross_entropy(fn) -> None:
    """Check my_softmax_cross_entropy(logits, targets) -> (loss, dlogits) against rnnlib.softmax_cross_entropy.

    logits (B, Y) floats, targets (B,) integer classes -> loss (a float, the mean over the batch of
    -log softmax(logits)[target]) and dlogits (B, Y) = (softmax - onehot) / B. Five seeded cases,
    B = 1..5, one with logits of about 1e4; dlogits is also checked against finite differences of
    the loss. Notebook 02.
    """
    def call(fn, name, c, ref):
        res = _call(fn, name, (c["logits"], c["targets"]), ("logits", "targets"), c["label"],
                    index_hint="targets holds one class number per example, not a one-hot matrix: the target "
                    "entries are p[np.arange(B), targets] (onehot[targets] = 1 would set whole rows).")
        loss, d = _sequence(res, 2, "its result", name, c["label"], "a pair (loss, dlogits)")
        shapes, order = {o: np.shape(ref[o]) for o in ref}, "loss, dlogits"
        return {"loss": _array(loss, "loss", (), name, c["label"], "a number", others=shapes, order=order),
                "dlogits": _array(d, "dlogits", ref["dlogits"].shape, name, c["label"], others=shapes, order=order)}

    def reference(c):
        loss, d = softmax_cross_entropy(c["logits"], c["targets"])
        return {"loss": np.asarray(loss), "dlogits": d}

    def oracle(fn, name):
        worst = 0.0
        for c in _ce_cases()[:4]:
            z = c["logits"].copy()
            num = numerical_gradient(lambda: softmax_cross_entropy(z, c["targets"])[0], z)
            worst = max(worst, rel_error(np.asarray(fn(c["logits"].copy(), c["targets"].copy())[1]), num))
        return worst

    def large_only(gots, cases):
        """A loss wrong only where the target's probability underflows: log(p + eps), np.clip(p, eps, 1), ..."""
        bad = [c for g, c in zip(gots, cases)
               if rel_error(g["loss"], softmax_cross_entropy(c["logits"], c["targets"])[0]) >= TOL]
        if not bad or not all(c["large"] for c in bad):
            return ""
        return ("\nYour loss is right on ordinary logits and wrong only with logits of about 1e4, where the "
                "target's probability underflows to 0 and its true -log is about 1e4: a log(p + eps) or a clipped p "
                "caps it near -log(eps). Never take the log of p: log_p = z - np.log(np.exp(z).sum(axis=1, "
                "keepdims=True)) with z = logits - logits.max(axis=1, keepdims=True) (section 4).")

    _run("check_softmax_cross_entropy", fn, _ce_cases(), ("loss", "dlogits"), call, reference, CE_MISTAKES,
         "Notebook 02: L = -(1/B) sum_b log softmax(z_b)[y_b] with the max-shift and log-sum-exp (section 4), "
         "and dL/dz = (softmax(z) - onehot(y)) / B (exercise 3).",
         oracle, against="rnnlib.softmax_cross_entropy", diagnose=large_only)


# ----------------------------------------------------------------------------------------------
# 03 · my_step_backward(dlogits_t, dh_next, cache) -> (dx_t, dh_prev, grads)
# ----------------------------------------------------------------------------------------------

STEP_OUTPUTS = ("dx_t", "dh_prev") + GRAD_NAMES


def _fprime(kind, f, a_t, h_t, h_prev):
    """f'(a_t) and its classic wrong versions. kind: 'a_t' (right), 'h_prev' (the formula in h with h_{t-1},
    i.e. f'(a_{t-1})), 'of_h_prev' (f' evaluated AT h_{t-1}, the note's slip read literally), 'of_a_in_h'
    (the formula in h fed a_t, e.g. 1 - a_t^2), 'tanh' (tanh's 1 - h_t^2 whatever f is)."""
    if kind == "a_t":
        return f.derivative(a_t, h_t)
    if kind == "h_prev":
        return f.derivative(h_prev, h_prev)
    if kind == "of_h_prev":
        return f.derivative(h_prev, f(h_prev))
    if kind == "of_a_in_h":
        return f.derivative(a_t, a_t)
    if kind == "tanh_of_a":
        return 1.0 - np.tanh(a_t) ** 2
    return 1.0 - h_t * h_t  # "tanh"


def _step_backward_variant(c, *, fprime="a_t", carry_T=False, dh_next="before", dW_hh_from="h_prev",
                           dW_hh_T=False, weights_over_B=False, all_over_B=False, bias_mean=False, carry_from="da",
                           dW_yh_from="h_t"):
    dlogits, dhn, cache = c["dlogits_t"], c["dh_next"], c["cache"]
    x_t, h_prev, a_t, h_t, p, f = cache
    B = dlogits.shape[0]
    dh_t = dlogits @ p.W_yh + (dhn if dh_next == "before" else 0.0)
    da_t = dh_t * _fprime(fprime, f, a_t, h_t, h_prev) + (dhn if dh_next == "after" else 0.0)
    src = h_prev if dW_hh_from == "h_prev" else h_t
    dW_hh = src.T @ da_t if dW_hh_T else da_t.T @ src
    sumB = (lambda v: v.mean(axis=0)) if bias_mean else (lambda v: v.sum(axis=0))
    back = da_t if carry_from == "da" else dh_t  # what is carried to x_t and h_{t-1}
    out = {"dx_t": back @ p.W_hx, "dh_prev": back @ (p.W_hh.T if carry_T else p.W_hh),
           "dW_hx": da_t.T @ x_t, "dW_hh": dW_hh, "db_h": sumB(da_t),
           "dW_yh": dlogits.T @ (h_t if dW_yh_from == "h_t" else h_prev),
           "db_y": sumB(dlogits)}
    if weights_over_B or all_over_B:
        out = {k: (v / B if all_over_B or k in GRAD_NAMES else v) for k, v in out.items()}
    return out


def _sb_mistake(key, what, fix, **kw):
    return Mistake(key, what, fix, lambda c: _step_backward_variant(c, **kw), "notebook 03, section 3, the table")


_FPRIME_FIX = "da_t = dh_t * f.derivative(a_t, h_t)   # f'(a_t) of THIS step; for tanh 1 - h_t**2 (h_t, not h_prev)"

STEP_BACKWARD_MISTAKES = (
    _sb_mistake("fprime_at_h_prev",
                "f' is taken with h_{t-1} where h_t belongs (for tanh: 1 - h_prev**2, which is f'(a_{t-1})). "
                "This is the source note's slip, diag[f'(h_{i-1})]: the derivative belongs to the pre-activation "
                "a_t of this step (notebook 04, erratum 1).", _FPRIME_FIX, fprime="h_prev"),
    _sb_mistake("fprime_of_h_prev",
                "f' is evaluated AT h_{t-1} (for tanh: 1 - tanh(h_prev)**2), the source note's slip "
                "diag[f'(h_{i-1})] read literally; the derivative belongs to the pre-activation a_t of this step "
                "(notebook 04, erratum 1).", _FPRIME_FIX, fprime="of_h_prev"),
    _sb_mistake("fprime_formula_on_a",
                "f'(a_t) is written with a_t where the formula needs h_t = f(a_t) (for tanh: 1 - a_t**2 "
                "instead of 1 - h_t**2).", _FPRIME_FIX, fprime="of_a_in_h"),
    _sb_mistake("fprime_tanh_hardcoded",
                "f' is tanh's 1 - h_t**2 even when the cache's activation is another one (sigmoid, relu, linear).",
                "da_t = dh_t * cache.f.derivative(cache.a_t, cache.h_t)   # the f that step_forward used",
                fprime="tanh"),
    _sb_mistake("fprime_tanh_of_a",
                "f' is tanh's 1 - tanh(a_t)**2 whatever the activation; the check also runs sigmoid, relu and "
                "linear steps, each with its own f'.",
                "da_t = dh_t * f.derivative(a_t, h_t)   # f from the cache: the activation this step used",
                fprime="tanh_of_a"),
    _sb_mistake("carry_skips_fprime",
                "what goes back to x_t and h_{t-1} is computed from dh_t, skipping f': x_t and h_{t-1} enter "
                "only through a_t, so they get da_t, the gradient after f'.",
                "dx_t = da_t @ W_hx;  dh_prev = da_t @ W_hh      # da_t, not dh_t", carry_from="dh"),
    _sb_mistake("W_hh_not_transposed",
                "W_hh is not transposed (or transposed twice) when the gradient is carried back to h_{t-1}: "
                "with one example per row, dh_prev = da_t @ W_hh.T computes W_hh da_t, but the chain rule needs "
                "W_hh^T da_t. (Invisible when W_hh is symmetric.)",
                "dh_prev = da_t @ W_hh      # = (W_hh^T da_t)^T: (dh_t/dh_{t-1})^T applied to the gradient",
                carry_T=True),
    _sb_mistake("dh_next_forgotten",
                "the carried gradient dh_next is forgotten: h_t is reached by two paths, its own output and "
                "step t + 1.", "dh_t = dlogits_t @ W_yh + dh_next", dh_next="forgotten"),
    _sb_mistake("dh_next_after_fprime",
                "dh_next is added after the nonlinearity (to da_t); it is a gradient at h_t and must pass "
                "through f' like the output path.",
                "dh_t = dlogits_t @ W_yh + dh_next;  da_t = dh_t * f'(a_t)", dh_next="after"),
    _sb_mistake("dW_hh_from_h_t",
                "dW_hh is built from h_t; W_hh multiplies h_{t-1} in a_t = W_hx x_t + W_hh h_{t-1} + b_h.",
                "dW_hh = da_t.T @ h_prev", dW_hh_from="h_t"),
    _sb_mistake("dW_yh_from_h_prev",
                "dW_yh is built from h_{t-1}; the output layer reads the new state: logits_t = W_yh h_t + b_y.",
                "dW_yh = dlogits_t.T @ h_t", dW_yh_from="h_prev"),
    _sb_mistake("dW_hh_transposed", "dW_hh is transposed: h_prev.T @ da_t is (dL/dW_hh)^T.",
                "dW_hh = da_t.T @ h_prev      # rows index h_t's units, like W_hh", dW_hh_T=True),
    _sb_mistake("grads_over_B",
                "the 1/B of the batch mean is applied twice: dlogits_t already carries it, and the weight "
                "gradients are divided by B again.",
                "no / B in step_backward: dW_hh = da_t.T @ h_prev (sums over the batch)", weights_over_B=True),
    _sb_mistake("all_over_B",
                "the 1/B of the batch mean is applied twice: dlogits_t already carries it, and every output is "
                "divided by B again.", "no / B in step_backward: dlogits_t is already divided by B",
                all_over_B=True),
    _sb_mistake("bias_mean",
                "the bias gradients average over the batch instead of summing; the 1/B is already in dlogits_t.",
                "db_h = da_t.sum(axis=0);  db_y = dlogits_t.sum(axis=0)", bias_mean=True),
)


def _step_backward_cases():
    cases = []
    specs = [(1, 3, 5, 4, "tanh"), (3, 3, 5, 4, "tanh"), (4, 2, 6, 3, "sigmoid"), (2, 4, 3, 5, "relu"),
             (3, 3, 4, 2, "linear"), (5, 2, 4, 3, "tanh")]
    for i, (B, X, H, Y, act) in enumerate(specs):
        rng = _rng(300 + i)
        p = _params(rng, X, H, Y, scale=1.2)
        f = get_activation(act)
        x_t = rng.standard_normal((B, X))
        h_prev = f(rng.standard_normal((B, H)))  # a state this activation can produce
        _, _, cache = step_forward(x_t, h_prev, p, act)
        logits = cache.h_t @ p.W_yh.T + p.b_y
        _, dlogits = softmax_cross_entropy(logits, rng.integers(0, Y, size=B))
        dh_next = 0.5 * rng.standard_normal((B, H))
        label = f"case {i + 1} (B = {B}, X = {X}, H = {H}, Y = {Y}, activation {act})"
        cases.append({"label": label, "dlogits_t": dlogits, "dh_next": dh_next, "cache": cache})
    return cases


def _step_backward_fd(c):
    """Central differences of S = sum(dlogits_t * z_t) + sum(dh_next * h_t), whose gradient is step_backward's."""
    cache = c["cache"]
    f = cache.f
    x = cache.x_t.copy()
    hp = cache.h_prev.copy()
    p = RNNParams(*(a.copy() for a in cache.params))

    def S():
        h = f(x @ p.W_hx.T + hp @ p.W_hh.T + p.b_h)
        return float(np.sum(c["dlogits_t"] * (h @ p.W_yh.T + p.b_y)) + np.sum(c["dh_next"] * h))

    out = {"dx_t": numerical_gradient(S, x), "dh_prev": numerical_gradient(S, hp)}
    out.update({g: numerical_gradient(S, a) for g, a in zip(GRAD_NAMES, p)})
    return out


@_public
def check_step_backward(fn) -> None:
    """Check my_step_backward(dlogits_t, dh_next, cache) -> (dx_t, dh_prev, grads) against rnnlib.step_backward.

    dlogits_t (B, Y), dh_next (B, H), cache a StepCache from rnnlib.step_forward -> dx_t (B, X),
    dh_prev (B, H), grads an RNNParams of this step's dW_hx, dW_hh, db_h, dW_yh, db_y. Six seeded
    cases: B = 1..5, X, H, Y different, activations tanh, sigmoid, relu, linear; also checked against
    finite differences. Notebook 03, section 3.
    """
    def call(fn, name, c, ref):
        res = _call(fn, name, (c["dlogits_t"], c["dh_next"], c["cache"]), ("dlogits_t", "dh_next", "cache"),
                    c["label"])
        dx, dhp, grads = _sequence(res, 3, "its result", name, c["label"], "a triple (dx_t, dh_prev, grads)")
        shapes, order = {o: ref[o].shape for o in ("dx_t", "dh_prev")}, "dx_t, dh_prev, grads"
        out = {"dx_t": _array(dx, "dx_t", ref["dx_t"].shape, name, c["label"], others=shapes, order=order),
               "dh_prev": _array(dhp, "dh_prev", ref["dh_prev"].shape, name, c["label"], others=shapes, order=order)}
        out.update(_grads(grads, ref, name, c["label"]))
        return out

    def reference(c):
        dx, dhp, g = step_backward(c["dlogits_t"], c["dh_next"], c["cache"])
        return {"dx_t": dx, "dh_prev": dhp, **dict(zip(GRAD_NAMES, g))}

    def oracle(fn, name):
        c = _step_backward_cases()[2]  # sigmoid, B = 4
        dx, dhp, g = fn(c["dlogits_t"], c["dh_next"], c["cache"])
        got = {"dx_t": dx, "dh_prev": dhp, **dict(zip(GRAD_NAMES, g))}
        num = _step_backward_fd(c)
        return max(rel_error(np.asarray(got[o]), num[o]) for o in STEP_OUTPUTS)

    _run("check_step_backward", fn, _step_backward_cases(), STEP_OUTPUTS, call, reference, STEP_BACKWARD_MISTAKES,
         "Go through notebook 03's table in section 3 line by line: dh_t = dlogits_t @ W_yh + dh_next; "
         "da_t = dh_t * f'(a_t); dW_hx = da_t.T @ x_t; dW_hh = da_t.T @ h_prev; db_h = da_t.sum(axis=0); "
         "dW_yh = dlogits_t.T @ h_t; db_y = dlogits_t.sum(axis=0); dx_t = da_t @ W_hx; dh_prev = da_t @ W_hh. "
         "The outputs marked ok narrow down where.", oracle, against="rnnlib.step_backward")


# ----------------------------------------------------------------------------------------------
# 03 · my_bptt(params, xs, targets, h0=None) -> (loss, grads)
# ----------------------------------------------------------------------------------------------

BPTT_OUTPUTS = ("loss",) + GRAD_NAMES


def _bptt_variant(c, *, fprime="a_t", carry_T=False, dh_next="before", dW_hh_from="h_prev", dW_hh_T=False,
                  accumulate="sum", scale=1.0, loss_scale=None, ignore_h0=False, order="backward", carry_from="da",
                  alias=False, dW_yh_from="h_t"):
    """BPTT for tanh written as the plain loop, with switches for the classic mistakes."""
    p, xs, targets = c["params"], c["xs"], c["targets"]
    T, B, _ = xs.shape
    h0 = c["h0"] if c["h0"] is not None and not ignore_h0 else np.zeros((B, p.n_hidden))
    hs, as_, loss, dls = [h0], [None], 0.0, [None]
    for t in range(1, T + 1):
        a = xs[t - 1] @ p.W_hx.T + hs[-1] @ p.W_hh.T + p.b_h
        as_.append(a)
        hs.append(np.tanh(a))
    if alias:  # every stored h_t is one array, overwritten in place: after the loop all of them hold h_T
        hs = [h0] + [hs[-1]] * T
    for t in range(1, T + 1):
        l_t, d_t = softmax_cross_entropy(hs[t] @ p.W_yh.T + p.b_y, targets[t - 1])
        loss += l_t
        dls.append(d_t)
    f = get_activation("tanh")
    grads = {g: np.zeros_like(a) for g, a in zip(GRAD_NAMES, p)}
    dhn = np.zeros_like(h0)
    for t in (range(T, 0, -1) if order == "backward" else range(1, T + 1)):
        dh = dls[t] @ p.W_yh + (dhn if dh_next == "before" else 0.0)
        da = dh * _fprime(fprime, f, as_[t], hs[t], hs[t - 1]) + (dhn if dh_next == "after" else 0.0)
        src = hs[t - 1] if dW_hh_from == "h_prev" else hs[t]
        step = {"dW_hx": da.T @ xs[t - 1], "dW_hh": src.T @ da if dW_hh_T else da.T @ src,
                "db_h": da.sum(axis=0), "dW_yh": dls[t].T @ hs[t if dW_yh_from == "h_t" else t - 1],
                "db_y": dls[t].sum(axis=0)}
        grads = {g: (grads[g] + step[g] if accumulate == "sum" else step[g]) for g in GRAD_NAMES}
        dhn = (da if carry_from == "da" else dh) @ (p.W_hh.T if carry_T else p.W_hh)
    ls = scale if loss_scale is None else loss_scale
    out = {"loss": np.asarray(loss * (ls(T, B) if callable(ls) else ls))}
    out.update({g: v * (scale(T, B) if callable(scale) else scale) for g, v in grads.items()})
    return out


def _bp_mistake(key, what, fix, **kw):
    return Mistake(key, what, fix, lambda c: _bptt_variant(c, **kw), "notebook 03, section 3")


_TANH_FIX = "da = dh * (1 - h[t]**2)      # tanh'(a_t) with h_t of the same step t, not h[t - 1]"

BPTT_MISTAKES = (
    _bp_mistake("fprime_at_h_prev",
                "f' is taken with h_{t-1} where h_t belongs (1 - h_{t-1}**2, which is f'(a_{t-1})). This is "
                "the source note's slip, diag[f'(h_{i-1})]: the derivative belongs to the pre-activation a_t of "
                "the same step (notebook 04, erratum 1).", _TANH_FIX, fprime="h_prev"),
    _bp_mistake("fprime_of_h_prev",
                "f' is evaluated AT h_{t-1} (1 - tanh(h_{t-1})**2), the source note's slip diag[f'(h_{i-1})] read "
                "literally; the derivative belongs to the pre-activation a_t (notebook 04, erratum 1).",
                _TANH_FIX, fprime="of_h_prev"),
    _bp_mistake("fprime_formula_on_a", "tanh'(a_t) is written 1 - a_t**2; it is 1 - tanh(a_t)**2 = 1 - h_t**2.",
                _TANH_FIX, fprime="of_a_in_h"),
    _bp_mistake("W_hh_not_transposed",
                "W_hh is not transposed (or transposed twice) when the gradient is carried back to h_{t-1}: "
                "with one example per row, dh_next = da @ W_hh.T computes W_hh da, but the chain rule needs "
                "W_hh^T da. (Invisible when W_hh is symmetric.)",
                "dh_next = da @ W_hh      # = (W_hh^T da)^T, handed to step t - 1", carry_T=True),
    _bp_mistake("dh_next_forgotten",
                "the carried gradient dh_next is forgotten: each L_t reaches only its own step, as if truncated "
                "to k = 1; h_t also gets gradient from every later loss through h_{t+1}.",
                "dh = dlogits[t] @ W_yh + dh_next   and, at the end of the step, dh_next = da @ W_hh",
                dh_next="forgotten"),
    _bp_mistake("dh_next_after_fprime",
                "dh_next is added after the nonlinearity (to da); it is a gradient at h_t and must pass through "
                "f' like the output path.", "dh = dlogits[t] @ W_yh + dh_next;  da = dh * (1 - h[t]**2)",
                dh_next="after"),
    _bp_mistake("dW_hh_from_h_t",
                "dW_hh is built from h_t; W_hh multiplies h_{t-1} in a_t = W_hx x_t + W_hh h_{t-1} + b_h.",
                "dW_hh += da.T @ h[t - 1]", dW_hh_from="h_t"),
    _bp_mistake("dW_yh_from_h_prev",
                "dW_yh is built from h_{t-1}; the output layer reads the new state: logits_t = W_yh h_t + b_y.",
                "dW_yh += dlogits[t].T @ h[t]", dW_yh_from="h_prev"),
    _bp_mistake("dW_hh_transposed", "dW_hh is transposed: h[t - 1].T @ da is (dL/dW_hh)^T.",
                "dW_hh += da.T @ h[t - 1]      # rows index h_t's units, like W_hh", dW_hh_T=True),
    _bp_mistake("grads_overwritten",
                "the shared-weight gradients are overwritten at every step instead of summed over t: only the "
                "last step processed (t = 1) is left. The same W is used at every step, so its gradient is the "
                "sum of every step's share (notebook 03, 'Why the gradients of shared weights add up').",
                "start from zeros and add every step's share: grads = RNNParams(*(g + s for g, s in zip(grads, "
                "step_grads))), or dW_hh += da.T @ h[t - 1] and the same for dW_hx, db_h, dW_yh, db_y",
                accumulate="overwrite"),
    _bp_mistake("backward_loop_forward",
                "the backward loop runs forward in time (t = 1, 2, ..., T): dh_next must come from step t + 1, "
                "so step T goes first, with dh_next = zeros.",
                "for t in range(T, 0, -1):      # newest step first", order="forward"),
    _bp_mistake("carry_skips_fprime",
                "dh_next is computed from dh, skipping f': h_{t-1} enters step t only through a_t, so it gets da.",
                "dh_next = da @ W_hh      # da = dh * (1 - h[t]**2), not dh", carry_from="dh"),
    _bp_mistake("h_aliased",
                "every stored h_t is the same array, overwritten in place (h[:] = ..., np.tanh(..., out=h)), so "
                "after the forward loop all of them hold h_T.",
                "h = np.tanh(...) makes a new array each step; store that (or append h.copy())", alias=True),
    _bp_mistake("h0_ignored",
                "the given h0 is ignored: the loop starts from zeros.",
                "h = np.zeros((B, H)) if h0 is None else h0", ignore_h0=True),
    _bp_mistake("batch_sum",
                "the 1/B of the batch mean is missing: summed over the batch instead of averaged, B times too "
                "large.",
                "loss += L_t with L_t the batch MEAN at step t; dlogits = (y_hat - onehot) / B",
                scale=lambda T, B: B),
    _bp_mistake("batch_mean_twice",
                "the 1/B of the batch mean is applied twice: B times too small.",
                "divide by B once: dlogits = (y_hat - onehot) / B and no further / B", scale=lambda T, B: 1.0 / B),
    _bp_mistake("time_mean",
                "averaged over time instead of summed: L = sum_t L_t, so no / T (notebook 02, "
                "'Why sum over time, not average?').", "loss = sum over t of L_t, and no / T in the gradients",
                scale=lambda T, B: 1.0 / T),
    _bp_mistake("time_mean_loss_only",
                "the loss is divided by T (averaged over time) while the gradients are those of the sum: "
                "L = sum_t L_t, no / T.", "loss = sum over t of L_t", loss_scale=lambda T, B: 1.0 / T),
)


def _bptt_cases():
    cases = []
    specs = [(5, 1, 3, 5, 4, False), (6, 3, 3, 5, 4, True), (7, 2, 2, 4, 3, True), (5, 4, 4, 3, 6, False),
             (6, 5, 3, 4, 2, True)]
    for i, (T, B, X, H, Y, with_h0) in enumerate(specs):
        rng = _rng(400 + i)
        p = _params(rng, X, H, Y, scale=1.0)
        xs = rng.standard_normal((T, B, X))
        targets = rng.integers(0, Y, size=(T, B))
        h0 = np.tanh(rng.standard_normal((B, H))) if with_h0 else None
        label = (f"case {i + 1} (T = {T}, B = {B}, X = {X}, H = {H}, Y = {Y}, "
                 f"{'h0 given' if with_h0 else 'h0 not passed: zeros'})")
        cases.append({"label": label, "params": p, "xs": xs, "targets": targets, "h0": h0})
    return cases


@_public
def check_bptt(fn) -> None:
    """Check my_bptt(params, xs, targets, h0=None) -> (loss, grads) against rnnlib.bptt (tanh) and finite differences.

    params an RNNParams, xs (T, B, X), targets (T, B) integers, h0 (B, H) or None for zeros -> loss
    (sum over t of the batch-mean cross-entropy) and grads (an RNNParams of dL/dW_hx ... dL/db_y).
    Five seeded cases, T = 5..7, B = 1..5, with and without h0 (without it, h0 is not passed at all).
    Notebook 03.
    """
    def call(fn, name, c, ref):
        args = (c["params"], c["xs"], c["targets"]) + (() if c["h0"] is None else (c["h0"],))
        res = _call(fn, name, args, ("params", "xs", "targets", "h0"), c["label"],
                    index_hint="xs and targets have T rows, 0 .. T - 1: step t, counted from 1 as in the "
                    "equations, reads xs[t - 1] and targets[t - 1]; a loop over range(T) reads xs[t].")
        if isinstance(res, tuple) and len(res) == 3 and not isinstance(res, RNNParams):
            res = res[:2]  # (loss, grads, dh0) like rnnlib.bptt(..., return_dh0=True) is fine too
        loss, grads = _sequence(res, 2, "its result", name, c["label"], "a pair (loss, grads)")
        return {"loss": _array(loss, "loss", (), name, c["label"], "a number", order="loss, grads"),
                **_grads(grads, ref, name, c["label"])}

    def reference(c):
        loss, g = bptt(c["params"], c["xs"], c["targets"], c["h0"])
        return {"loss": np.asarray(loss), **dict(zip(GRAD_NAMES, g))}

    def oracle(fn, name):
        c = _bptt_cases()[2]
        p = RNNParams(*(a.copy() for a in c["params"]))
        _, g = fn(c["params"], c["xs"], c["targets"], c["h0"])
        loss = lambda: bptt(p, c["xs"], c["targets"], c["h0"])[0]  # noqa: E731
        return max(rel_error(np.asarray(gi), numerical_gradient(loss, pi)) for gi, pi in zip(g, p))

    _run("check_bptt", fn, _bptt_cases(), BPTT_OUTPUTS, call, reference, BPTT_MISTAKES,
         "Check the pieces one by one: the forward loop from h0, L = sum_t L_t with each L_t a batch mean, "
         "then the backward loop from t = T down to 1 with dh_next = zeros at the start (notebook 03, section 3). "
         "If check_step_backward passes for your step, call it inside the loop. If only the loss is wrong, the "
         "error is in the forward pass or the loss; if only dW_yh, db_y are right, it is in what reaches h_t.",
         oracle, against="rnnlib.bptt")


# ----------------------------------------------------------------------------------------------
# 06 · my_clip_by_norm(grads, theta) -> (clipped, norm)
# ----------------------------------------------------------------------------------------------

CLIP_OUTPUTS = ("norm",) + GRAD_NAMES


def _clip_variant(c, kind):
    g, theta = c["grads"], c["theta"]
    norm = float(np.sqrt(sum(np.sum(a * a) for a in g)))
    if kind == "per_array":
        out = [a * (theta / np.linalg.norm(a) if np.linalg.norm(a) >= theta else 1.0) for a in g]
    elif kind == "elementwise":
        out = [np.clip(a, -theta, theta) for a in g]
    elif kind == "always":
        out = [a * (theta / norm) for a in g]
    elif kind == "inverted":
        out = [a * (norm / theta if norm >= theta else 1.0) for a in g]
    elif kind == "no_sqrt":
        norm = norm ** 2
        out = [a * (theta / norm if norm >= theta else 1.0) for a in g]
    elif kind == "sum_of_norms":
        norm = float(sum(np.linalg.norm(a) for a in g))
        out = [a * (theta / norm if norm >= theta else 1.0) for a in g]
    elif kind == "reversed":
        out = [a * (theta / norm if norm < theta else 1.0) for a in g]
    else:  # "norm_after": right clipping, but the norm reported after it
        out, norm = list(clip_by_norm(g, theta)[0]), min(norm, theta)
    return {"norm": np.asarray(norm), **dict(zip(GRAD_NAMES, out))}


def _clip_mistake(key, what, fix):
    return Mistake(key, what, fix, lambda c: _clip_variant(c, key), "notebook 06, section 2")


_CLIP_FIX = ("norm = np.sqrt(sum(np.sum(g**2) for g in grads));  scale = theta / norm if norm >= theta else 1.0;  "
             "clipped = RNNParams(*(g * scale for g in grads))")

CLIP_MISTAKES = (
    _clip_mistake("per_array",
                  "each array is clipped by its own norm instead of one global norm over all five: the arrays are "
                  "scaled by different factors, so the direction of the whole gradient changes.", _CLIP_FIX),
    _clip_mistake("elementwise",
                  "the entries are clipped one by one (np.clip, min-char-rnn's way): large entries are cut, small "
                  "ones kept, so the direction changes. Norm clipping scales everything by one factor.", _CLIP_FIX),
    _clip_mistake("always",
                  "the gradient is always rescaled to norm theta, even when its norm is already below theta "
                  "(that is normalising, not clipping).", _CLIP_FIX),
    _clip_mistake("inverted", "the scale factor is upside down: norm / theta instead of theta / norm.", _CLIP_FIX),
    _clip_mistake("sum_of_norms",
                  "the norm is the sum of the five arrays' norms; the global norm is the square root of the sum of "
                  "their squares (one norm over every entry), which is smaller.", _CLIP_FIX),
    _clip_mistake("no_sqrt", "the norm is the sum of squares without the square root.", _CLIP_FIX),
    _clip_mistake("reversed", "the condition is reversed: it rescales when the norm is below theta and leaves "
                  "large gradients alone.", _CLIP_FIX),
    _clip_mistake("norm_after",
                  "the norm returned is the one after clipping; like rnnlib.remedies.clip_by_norm, return the norm "
                  "of the gradient before clipping (it is what you log and choose theta from).",
                  "return clipped, norm      # norm measured before scaling"),
)


def _clip_cases():
    cases = []
    shapes = [(4, 3), (4, 4), (4,), (2, 4), (2,)]
    # (scales of the five arrays, theta): one array dominating; no clipping needed; every array under theta
    # but the whole over it; theta below the largest entries.
    specs = [((1.0, 6.0, 0.5, 1.0, 0.3), 5.0), ((0.3, 0.5, 0.2, 0.4, 0.1), 5.0),
             ((0.8, 0.7, 1.0, 1.0, 2.0), 4.0), ((0.5, 2.0, 1.0, 3.0, 2.0), 1.0), ((2.0, 2.0, 2.0, 2.0, 2.0), 50.0)]
    for i, (scales, theta) in enumerate(specs):
        rng = _rng(600 + i)
        grads = RNNParams(*(s * rng.standard_normal(shape) for s, shape in zip(scales, shapes)))
        norm = float(np.sqrt(sum(np.sum(a * a) for a in grads)))
        label = f"case {i + 1} (||g|| = {norm:.3g}, theta = {theta:g})"
        cases.append({"label": label, "grads": grads, "theta": theta})
    return cases


@_public
def check_clip_by_norm(fn) -> None:
    """Check my_clip_by_norm(grads, theta) -> (clipped, norm) against rnnlib.remedies.clip_by_norm.

    grads an RNNParams, theta > 0 -> clipped (an RNNParams: every array times theta / ||g|| if
    ||g|| >= theta, else unchanged) and norm = ||g|| before clipping, one norm over all five arrays.
    Five seeded cases: one array dominating, no clipping needed, every array below theta but the
    whole above it, theta below the largest entries. Notebook 06, section 2.
    """
    def call(fn, name, c, ref):
        res = _call(fn, name, (c["grads"], c["theta"]), ("grads", "theta"), c["label"])
        what = "a pair (clipped, norm), like rnnlib.remedies.clip_by_norm"
        if isinstance(res, RNNParams):
            raise AssertionError(f"{name} returned only the clipped gradients on {c['label']}; expected {what}: "
                                 "return clipped, norm")
        clipped, norm = _sequence(res, 2, "its result", name, c["label"], what)
        return {"norm": _array(norm, "norm", (), name, c["label"], "a number", order="clipped, norm"),
                **_grads(clipped, ref, name, c["label"])}

    def reference(c):
        clipped, norm = clip_by_norm(c["grads"], c["theta"])
        return {"norm": np.asarray(norm), **dict(zip(GRAD_NAMES, clipped))}

    def angles(gots, cases):
        """How far the learner's clipped gradient turned away from g: norm clipping keeps the angle at 0."""
        worst = 0.0
        for got, c in zip(gots, cases):
            a = np.concatenate([np.ravel(got[g]) for g in GRAD_NAMES])
            b = np.concatenate([np.ravel(x) for x in c["grads"]])
            na = np.linalg.norm(a)
            if na > 0:
                worst = max(worst, float(np.degrees(np.arccos(np.clip(a @ b / (na * np.linalg.norm(b)), -1, 1)))))
        shown = f"{worst:.3g}" if worst > 1e-4 else "0"  # arccos of a cosine that rounds to 1 is ~1e-6, not 0
        if shown == "0":
            return ("\nDirection: your clipped gradient is up to 0 degrees away from g, as norm clipping keeps it: "
                    "its length is what is wrong (the norm, or when and by how much you scale).")
        return (f"\nDirection: your clipped gradient is up to {shown} degrees away from g "
                "(norm clipping keeps the direction: 0 degrees).")

    _run("check_clip_by_norm", fn, _clip_cases(), CLIP_OUTPUTS, call, reference, CLIP_MISTAKES,
         "Pascanu et al.'s Algorithm 1: one norm ||g|| over all five arrays together; if ||g|| >= theta, "
         "multiply every array by theta / ||g||; return the clipped arrays and ||g|| before clipping.",
         against="rnnlib.remedies.clip_by_norm", extra=angles)


MISTAKES: dict[str, tuple[Mistake, ...]] = {
    "step_forward": FORWARD_MISTAKES,
    "softmax_cross_entropy": CE_MISTAKES,
    "step_backward": STEP_BACKWARD_MISTAKES,
    "bptt": BPTT_MISTAKES,
    "clip_by_norm": CLIP_MISTAKES,
}
