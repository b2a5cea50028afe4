"""The half of rnnlib._checks that needs no rnnlib type: numbers, choices and plain arrays.

Import these from `rnnlib._checks` (which re-exports every name here); this module exists only so
that `rnnlib.containers`, which `_checks` imports for its types, can check the arguments of its
own functions (global_norm, same_kind, RNNParams.add, RNNParams.astype) without an import cycle.
Same contract as `_checks`: return the argument normalized, or raise a ValueError
"<argument>: expected <what>, got <what>". Numpy only.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

# ----------------------------------------------------------------------------------------------
# Numbers
# ----------------------------------------------------------------------------------------------
# A *number* here is a real scalar: a Python int or float, a numpy integer or floating scalar,
# or a 0-d real array. Bools are not numbers (True is not 1 here), complex is not real, and a
# string is never converted ("0.5" is rejected, not parsed).


def is_int(value) -> bool:
    """True for Python and numpy integers; False for bools (True is not the integer 1 here)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def real_scalar(value) -> float | None:
    """value as a float if it is a real number (not a bool, complex, string or array of size > 1); else None.

    Huge Python integers beyond the float range come back as +-inf (so a finiteness check rejects them).
    """
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, np.ndarray):
        if value.ndim != 0 or value.dtype.kind not in "iuf":
            return None
        value = value[()]
    if not isinstance(value, (numbers.Real, np.integer, np.floating)) or isinstance(value, (bool, np.bool_)):
        return None
    try:
        return float(value)
    except OverflowError:  # an int beyond 1.8e308
        return math.inf if value > 0 else -math.inf


def check_int(name: str, value, low: int, high: int | None = None, *, high_name: str | None = None,
              noun: str = "integer") -> int:
    """value as an int if it is an integer (not a bool) with low <= value <= high; else ValueError.

    high=None means no upper bound. Messages:
        "{name}: expected an integer {low} <= {name} <= {high}, got {value!r}"
        "{name}: expected an integer {low} <= {name} <= {high_name} = {high}, got {value!r}"
        "{name}: expected an integer >= {low}, got {value!r}"                   (high=None)
    `noun` replaces the word "integer" (core's step_jacobian says "integer step").
    """
    if not is_int(value) or value < low or (high is not None and value > high):
        if high is None:
            expected = f">= {low}"
        else:
            bound = high if high_name is None else f"{high_name} = {high}"
            expected = f"{low} <= {name} <= {bound}"
        raise ValueError(f"{name}: expected an {noun} {expected}, got {_short(value)}")
    return int(value)


def check_positive_int(name: str, value) -> int:
    """value as an int if it is an integer >= 1 (not a bool); else "expected a positive integer"."""
    if not is_int(value) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {_short(value)}")
    return int(value)


def check_positive(name: str, value) -> float:
    """value as a float if it is a finite real scalar > 0 (not a bool); else ValueError."""
    x = real_scalar(value)
    if x is None or not math.isfinite(x) or x <= 0:
        raise ValueError(f"{name}: expected a finite number > 0, got {_short(value)}")
    return x


def check_real(name: str, value, low: float | None = None, high: float | None = None) -> float:
    """value as a float if it is a finite real number in [low, high] (None: unbounded); else ValueError."""
    x = real_scalar(value)
    if x is None:
        raise ValueError(f"{name}: expected a real number, got {_short(value)}")
    if not math.isfinite(x) or (low is not None and x < low) or (high is not None and x > high):
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise ValueError(f"{name}: expected a finite number in [{lo}, {hi}], got {_short(value)}")
    return x


def check_nonnegative(name: str, value) -> float:
    """value as a float if it is a finite real scalar >= 0 (not a bool); else ValueError."""
    x = real_scalar(value)
    if x is None or not math.isfinite(x) or x < 0:
        raise ValueError(f"{name}: expected a finite number >= 0, got {_short(value)}")
    return x


def check_fraction(name: str, value, *, low_open: bool = False, high_open: bool = True) -> float:
    """value as a float in the unit interval, [0, 1) by default (momentum, Adam's betas); else ValueError.

    low_open / high_open exclude 0 / 1. Message: "{name}: expected 0 <= {name} < 1, got {value!r}".
    """
    x = real_scalar(value)
    lo, hi = ("<" if low_open else "<="), ("<" if high_open else "<=")
    ok = x is not None and math.isfinite(x)
    ok = ok and (x > 0 if low_open else x >= 0) and (x < 1 if high_open else x <= 1)
    if not ok:
        raise ValueError(f"{name}: expected 0 {lo} {name} {hi} 1, got {_short(value)}")
    return x


def check_bool(name: str, value) -> bool:
    """value as a bool if it is True or False (a Python or numpy bool); 1, "yes" and None are not."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}: expected True or False, got {_short(value)}")
    return bool(value)


def _same_option(value, option) -> bool:
    """value == option, and of the same kind: True is not the option 1, 2.0 is not 2, an array is no option."""
    if isinstance(value, (bool, np.bool_)) or isinstance(option, (bool, np.bool_)):
        return isinstance(value, (bool, np.bool_)) and isinstance(option, (bool, np.bool_)) and value == option
    if is_int(option):
        return is_int(value) and value == option
    if isinstance(option, str):
        return isinstance(value, str) and value == option
    if option is None:
        return value is None
    try:
        return type(value) is type(option) and bool(value == option)
    except (TypeError, ValueError):
        return False


def check_choice(name: str, value, options):
    """value if it is one of `options` (same value and kind); else "{name}: expected one of {options}, got {value!r}"."""
    if not any(_same_option(value, option) for option in options):
        raise ValueError(f"{name}: expected one of {tuple(options)}, got {_short(value)}")
    return value


def check_generator(name: str, rng) -> np.random.Generator:
    """rng if it is a numpy Generator; else "expected a numpy Generator (np.random.default_rng(seed))"."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"{name}: expected a numpy Generator (np.random.default_rng(seed)), got {_short(rng)}")
    return rng


def check_callable(name: str, value, what: str = "a function"):
    """value if it is callable (a function, a lambda, a numpy ufunc); else ValueError."""
    if not callable(value) or isinstance(value, type):
        raise ValueError(f"{name}: expected {what}, got {_short(value)}")
    return value


def check_text(name: str, text, what: str = "a non-empty string") -> str:
    """text if it is a non-empty str; else "{name}: expected {what}, got {text!r}"."""
    if not isinstance(text, str) or not text:
        raise ValueError(f"{name}: expected {what}, got {_short(text)}")
    return text


def check_nonempty(name: str, value, what: str):
    """value if it is non-empty (a dict of curves or panels, a list); else "{name}: expected {what}, got an empty dict"
    (or list, ...: the type's name)."""
    if not value:
        raise ValueError(f"{name}: expected {what}, got an empty {type(value).__name__}")
    return value


def check_truncate(truncate) -> int | None:
    """None (full BPTT) or an integer window k >= 1 (not a bool), as an int; else ValueError."""
    if truncate is None:
        return None
    if not is_int(truncate) or truncate < 1:
        raise ValueError(f"truncate: expected None (full BPTT) or an integer k >= 1, got {_short(truncate)}")
    return int(truncate)


def check_ord(ord) -> None:
    """The matrix norm of the Jacobian functions: 2 (spectral) or 'fro' (Frobenius); else ValueError."""
    if not (_same_option(ord, 2) or _same_option(ord, "fro")):
        raise ValueError(f"ord: expected 2 (spectral norm) or 'fro' (Frobenius), got {_short(ord)}")


# ----------------------------------------------------------------------------------------------
# Arrays
# ----------------------------------------------------------------------------------------------
# A *real array* has an integer or floating dtype. Bool, complex, string and object arrays are
# rejected (True is not 1.0, complex is not real), never converted with a ComplexWarning.


def _short(value, limit: int = 80) -> str:
    """repr(value), shortened: a large array becomes 'an array of shape (...), dtype ...'."""
    if isinstance(value, np.ndarray) and value.size > 8:
        return f"an array of shape {value.shape}, dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _got_dtype(value, a: np.ndarray) -> str:
    """What a rejected array argument was: its dtype if it looked like an array, else its repr."""
    if isinstance(value, (np.ndarray, list, tuple)) and a.ndim > 0:
        return f"dtype {a.dtype}"
    return _short(value)


def as_array(name: str, value) -> np.ndarray:
    """np.asarray(value), with a ValueError naming the argument when numpy cannot read it (ragged lists)."""
    try:
        return np.asarray(value)
    except (ValueError, TypeError):
        raise ValueError(f"{name}: expected an array, got a {type(value).__name__} that numpy cannot read as one "
                         f"(nested sequences of different lengths?)") from None


def check_real_array(name: str, value, *, finite: bool = True) -> np.ndarray:
    """value as a float array if it is a real (integer or float) array, finite if asked; else ValueError.

    Integer arrays become float64; float16/32/64 stay. Messages:
        "{name}: expected a real (integer or float) array, got dtype complex128"
        "{name}: expected finite values, got NaN or inf"
    """
    a = as_array(name, value)
    if a.dtype.kind not in "iuf":
        raise ValueError(f"{name}: expected a real (integer or float) array, got {_got_dtype(value, a)}")
    if a.dtype.kind != "f":
        a = a.astype(np.float64)
    if finite and not np.isfinite(a).all():
        raise ValueError(f"{name}: expected finite values, got NaN or inf")
    return a


def check_array_list(name: str, arrays, *, finite: bool = True) -> list:
    """arrays (an RNNParams, tuple or list of real arrays) -> a list of float arrays; else ValueError.

    Messages name the entry: "{name}[2]: expected finite values, got NaN or inf".
    """
    if isinstance(arrays, (np.ndarray, str, bytes)) or not isinstance(arrays, (tuple, list)):
        raise ValueError(f"{name}: expected a tuple or list of arrays (e.g. an RNNParams), got {_short(arrays)}")
    fields = getattr(arrays, "_fields", None)
    return [check_real_array(f"{name}.{fields[i]}" if fields else f"{name}[{i}]", a, finite=finite)
            for i, a in enumerate(arrays)]


def check_float_dtype(name: str, dtype) -> np.dtype:
    """A numpy floating dtype (np.float32, "float64", ...) as np.dtype; None, ints, complex and junk are not."""
    try:
        dt = None if dtype is None else np.dtype(dtype)
    except (TypeError, ValueError):
        dt = None
    if dt is None or dt.kind != "f":
        raise ValueError(f"{name}: expected a floating dtype such as np.float64 or np.float32, got {_short(dtype)}")
    return dt


def _cast(name: str, x: np.ndarray, dtype) -> np.ndarray:
    """x (a real array) finite and in `dtype`: a value beyond the range of dtype (1e300 in float32) is rejected, not inf."""
    if not np.isfinite(x).all():
        raise ValueError(f"{name}: expected finite values, got NaN or inf")
    if x.dtype == dtype:
        return x
    with np.errstate(over="ignore"):
        y = x.astype(dtype)
    if not np.isfinite(y).all():
        raise ValueError(f"{name}: expected finite values within the range of {np.dtype(dtype).name} (the dtype of "
                         f"the parameters), got values too large for it")
    return y


def check_finite(name: str, a: np.ndarray) -> np.ndarray:
    """a (a real array) if every entry is finite; else "{name}: expected finite values, got NaN or inf"."""
    if not np.isfinite(a).all():
        raise ValueError(f"{name}: expected finite values, got NaN or inf")
    return a


def check_shape(name: str, a: np.ndarray, shape: tuple, like: str = "", *, symbols: str | None = None) -> np.ndarray:
    """a if a.shape == shape, the shape another argument (or the model) fixes; else ValueError:
        "{name}: expected shape {shape} {like}, got {a.shape}"    e.g. like="like signals.delta"
    symbols names the dimensions: symbols="(B, Y)" gives "expected shape (B, Y) = (4, 3) like the cache".
    """
    shape = tuple(shape)
    if np.shape(a) != shape:
        sym = f"{symbols} = " if symbols else ""
        raise ValueError(f"{name}: expected shape {sym}{shape}{' ' + like if like else ''}, got {np.shape(a)}")
    return a


def check_dims(name: str, a: np.ndarray, dims: tuple, low: tuple | None = None, like: str = "") -> np.ndarray:
    """a if it has len(dims) dimensions, each a fixed size (an int in dims) or a named one (a str) of
    at least the matching entry of low (None: any size); else ValueError (the bounds are named when
    the number of dimensions is right):
        "{name}: expected shape (B, Y), got (5,)"
        "{name}: expected shape (L, B) with L >= 2 and B >= 1, got (1, 4)"
        "{name}: expected shape (M, 4) with M >= 2 like states_fit, got (3, 5)"
    """
    shape, low = np.shape(a), low if low is not None else (None,) * len(dims)
    ok = len(shape) == len(dims) and all(
        n == d if not isinstance(d, str) else (m is None or n >= m) for n, d, m in zip(shape, dims, low))
    if not ok:
        bounds = " and ".join(f"{d} >= {m}" for d, m in zip(dims, low) if isinstance(d, str) and m is not None)
        bounds = bounds if len(shape) == len(dims) else ""
        raise ValueError(f"{name}: expected shape ({', '.join(map(str, dims))})" + (f" with {bounds}" if bounds else "")
                         + (f" {like}" if like else "") + f", got {shape}")
    return a
