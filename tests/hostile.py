"""The hostile-argument walker behind tests/test_bad_input.py (README's bad-input promise).

A *target* is one public callable with a valid call (keyword arguments built afresh for every
case) and, per argument, a *kind* that says what the argument must be. The walker replaces one
argument at a time by each hostile value of its kind and classifies what the callable does:

    named            ValueError/TypeError whose message starts with the argument's name
                     ("W_hh: expected ..., got ..." or "params.W_hh: ..."), then says what was
                     expected and what was got; or a MemoryError for an absurd size
    wrong-name       ValueError/TypeError that names no argument or another one
    other-exception  any other exception (IndexError, KeyError, AttributeError, LinAlgError,
                     numpy's RuntimeWarning, which the walker turns into an error, ...)
    accepted         the call returned: an invalid value was accepted silently
    slow             no answer within SLOW_SECONDS

Only `named` keeps the promise. The valid call itself must return without a warning and,
where the target says so, with finite numbers: a control that fails when a table is wrong.

Tables live in tests/bad_input_*.py (one per group of modules); each defines TARGETS, a list of
`Target`, and EXEMPT, a dict {qualified name: reason} for public names that take no arguments
worth walking (constants, data containers).
"""

from __future__ import annotations

import copy
import math
import signal
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

SLOW_SECONDS = 5.0
OUTCOMES = ("named", "wrong-name", "other-exception", "accepted", "slow")


# ----------------------------------------------------------------------------------------------
# Kinds of argument: each lists the hostile values for an argument of that kind
# ----------------------------------------------------------------------------------------------


class _Opaque:
    """An object of no kind rnnlib knows."""

    def __repr__(self):
        return "<opaque object>"


OPAQUE = _Opaque()
NOT_A_NUMBER = ("3", None, OPAQUE, [1.0], 1 + 1j, np.array([1.0, 2.0]))


@dataclass
class Kind:
    """What an argument must be, and the hostile values that break it (label, value)."""

    name: str
    hostile: list = field(default_factory=list)


def integer(low: int | None = None, high: int | None = None, *, huge: bool = False) -> Kind:
    """An integer in [low, high] (None: unbounded). Floats, bools and strings are hostile.

    huge=True adds 10**12 (an absurd size: a clear error or a MemoryError, never a hang).
    """
    h = [("str", "3"), ("None", None), ("bool", True), ("float", 2.5), ("float-int", 2.0),
         ("nan", float("nan")), ("complex", 1 + 1j), ("array", np.array([1, 2])), ("opaque", OPAQUE)]
    if low is not None:
        h.append((f"below {low}", low - 1))
        h.append((f"far below {low}", low - 10**6))
    if high is not None:
        h.append((f"above {high}", high + 1))
    if huge:
        h.append(("10**12", 10**12))
    return Kind(f"integer[{low}, {high}]", h)


def real(low: float | None = None, high: float | None = None, *, low_open: bool = False,
         high_open: bool = False) -> Kind:
    """A finite real number in the interval. NaN, inf, bools, complex, strings are hostile."""
    h = [("str", "0.5"), ("None", None), ("bool", True), ("nan", float("nan")), ("inf", float("inf")),
         ("-inf", float("-inf")), ("complex", 0.5 + 1j), ("array", np.array([0.5, 0.5])), ("opaque", OPAQUE)]
    if low is not None:
        h.append((f"below {low}", low - 1.0))
        if low_open:
            h.append((f"= {low}", low))
    if high is not None:
        h.append((f"above {high}", high + 1.0))
        if high_open:
            h.append((f"= {high}", high))
    return Kind(f"real[{low}, {high}]", h)


def positive() -> Kind:
    return real(0.0, None, low_open=True)


def boolean() -> Kind:
    return Kind("bool", [("str", "yes"), ("int", 1), ("None", None), ("float", 0.0), ("opaque", OPAQUE)])


def choice(*options) -> Kind:
    return Kind(f"one of {options}", [("unknown", "no-such-option"), ("None", None), ("int", 3),
                                     ("opaque", OPAQUE), ("list", list(options[:1]))])


def text() -> Kind:
    return Kind("str", [("None", None), ("int", 3), ("bytes", b"abc"), ("list", ["a", "b"]), ("opaque", OPAQUE)])


def array(shape: tuple, *, free: tuple = (), finite: bool = True, nonempty: bool = True) -> Kind:
    """A real float array of this shape (as valid). Hostile: other ndim, other sizes (except on
    the `free` axes, whose size the caller chooses), zero sizes, NaN/inf (when finite), complex,
    bool, str and object dtypes, None, scalars."""
    shape = tuple(shape)
    ones = np.ones(shape)
    h = [("None", None), ("str", "abc"), ("opaque", OPAQUE), ("complex", ones * (1 + 1j)),
         ("bool", np.ones(shape, dtype=bool)), ("str-array", np.full(shape, "a")),
         ("object-array", np.full(shape, OPAQUE, dtype=object)),
         ("extra axis", np.ones(shape + (2,))), ]
    if shape:
        h.append(("one axis fewer", np.ones(shape[1:])))
        for axis, n in enumerate(shape):
            if axis in free:
                continue
            bigger = shape[:axis] + (n + 1,) + shape[axis + 1:]
            h.append((f"axis {axis} size {n + 1}", np.ones(bigger)))
            if nonempty:
                empty = shape[:axis] + (0,) + shape[axis + 1:]
                h.append((f"axis {axis} size 0", np.ones(empty)))
    else:
        h.append(("1-d", np.ones(2)))
    if finite and ones.size:
        for label, bad in (("nan", np.nan), ("inf", np.inf)):
            a = ones.copy()
            a.flat[-1] = bad
            h.append((label, a))
    return Kind(f"float array {shape}", h)


def int_array(shape: tuple, low: int, high: int) -> Kind:
    """An integer array of this shape with entries in [low, high]."""
    shape = tuple(shape)
    z = np.full(shape, low, dtype=int)
    h = [("None", None), ("str", "abc"), ("float-array", z + 0.5), ("bool-array", np.ones(shape, dtype=bool)),
         ("extra axis", np.zeros(shape + (2,), dtype=int)), ("opaque", OPAQUE)]
    if z.size:
        for label, bad in ((f"entry {low - 1}", low - 1), (f"entry {high + 1}", high + 1)):
            a = z.copy()
            a.flat[-1] = bad
            h.append((label, a))
    return Kind(f"int array {shape} in [{low}, {high}]", h)


def rng() -> Kind:
    """A numpy Generator (no seed, no legacy RandomState)."""
    return Kind("Generator", [("int seed", 0), ("None", None), ("RandomState", np.random.RandomState(0)),
                              ("str", "rng"), ("opaque", OPAQUE)])


def custom(name: str, *hostile) -> Kind:
    """A kind of its own: hostile given as (label, value) pairs."""
    return Kind(name, list(hostile))


def optional(kind: Kind) -> Kind:
    """kind where None is valid (the default): the None case is dropped."""
    return Kind(kind.name + " or None", [(label, v) for label, v in kind.hostile if v is not None])


def without(kind: Kind, *labels) -> Kind:
    """kind without the hostile cases of these labels (values that are valid here)."""
    return Kind(kind.name, [(label, v) for label, v in kind.hostile if label not in labels])


def extend(kind: Kind, *hostile) -> Kind:
    """kind with more hostile (label, value) pairs."""
    return Kind(kind.name, kind.hostile + list(hostile))


# ----------------------------------------------------------------------------------------------
# Targets and cases
# ----------------------------------------------------------------------------------------------


@dataclass
class Target:
    """One public callable.

    name   qualified name, e.g. "rnnlib.core.forward" or "rnnlib.train.SGD.step"
    call   the callable (a bound method's target is made by `call`)
    valid  a function returning the valid keyword arguments, built afresh for every case
    kinds  {argument name: Kind}
    finite whether the valid call's numeric results must be finite
    """

    name: str
    call: Callable
    valid: Callable[[], dict]
    kinds: dict
    finite: bool = True


@dataclass
class Case:
    target: str
    arg: str
    label: str
    outcome: str = ""
    detail: str = ""


class _Slow(Exception):
    pass


def _alarm(signum, frame):
    raise _Slow()


def _run(fn: Callable[[], Any]):
    """fn() with warnings as errors and a SLOW_SECONDS alarm."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, SLOW_SECONDS)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def names_argument(message: str, arg: str) -> bool:
    """True when the message starts with the argument's name ("arg:", "arg.field", "arg[...]",
    "arg ...") and then says what was expected and what it got."""
    if not message.startswith(arg) or len(message) == len(arg):
        return False
    if message[len(arg)] not in ":.[ ":
        return False
    lower = message.lower()
    return "expected" in lower and "got" in lower


def classify(fn: Callable[[], Any], arg: str) -> tuple[str, str]:
    try:
        _run(fn)
    except _Slow:
        return "slow", f"no answer within {SLOW_SECONDS} s"
    except MemoryError:
        return "named", "MemoryError"
    except (ValueError, TypeError) as e:
        message = str(e)
        if names_argument(message, arg):
            return "named", message
        return "wrong-name", f"{type(e).__name__}: {message}"
    except Exception as e:  # noqa: BLE001 - the walker reports every other exception
        return "other-exception", f"{type(e).__name__}: {e}"
    return "accepted", "returned without an error"


def _finite(result) -> bool:
    """True when every float/complex number found in result (arrays, tuples, NamedTuples,
    dataclasses, dicts, lists) is finite."""
    if isinstance(result, (float, np.floating, complex, np.complexfloating)):
        return bool(np.isfinite(result))
    if isinstance(result, np.ndarray):
        return not np.issubdtype(result.dtype, np.inexact) or bool(np.isfinite(result).all())
    if isinstance(result, dict):
        return all(_finite(v) for v in result.values())
    if isinstance(result, (tuple, list)):
        return all(_finite(v) for v in result)
    if hasattr(result, "__dataclass_fields__"):
        return all(_finite(getattr(result, f)) for f in result.__dataclass_fields__)
    return True


def check_valid(target: Target) -> str | None:
    """None when the valid call returns (no warning, finite where asked); else what went wrong."""
    try:
        result = _run(lambda: target.call(**target.valid()))
    except _Slow:
        return f"{target.name}: the valid call took more than {SLOW_SECONDS} s"
    except Exception as e:  # noqa: BLE001
        return f"{target.name}: the valid call raised {type(e).__name__}: {e}"
    if target.finite and not _finite(result):
        return f"{target.name}: the valid call returned non-finite numbers"
    return None


def cases(target: Target) -> list[Case]:
    """Every hostile case of a target, classified."""
    out = []
    for arg, kind in target.kinds.items():
        for label, value in kind.hostile:
            def call(arg=arg, value=value):
                kwargs = target.valid()
                kwargs[arg] = copy.copy(value) if isinstance(value, (list, dict)) else value
                return target.call(**kwargs)

            outcome, detail = classify(call, arg)
            out.append(Case(target.name, arg, label, outcome, detail))
    return out


def is_finite_number(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)
