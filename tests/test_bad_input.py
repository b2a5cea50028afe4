"""README's promise, measured: bad input raises a ValueError or TypeError naming the argument.

The walker (tests/hostile.py) tries every hostile value of every argument of every target in the
tables tests/bad_input_*.py, one argument at a time, and counts the outcomes. The goal: every
case `named` (see hostile.py for the outcomes), every public callable of every rnnlib module
(each name in its `__all__`, the optimizers' `step`, the explorer's setters) covered by a table or
exempt with a reason, at least 3,000 cases, and every valid call returning cleanly.

Counts per outcome, the final tables run against the code before issue 14's fixes (commit 4d22946)
and after (each table's docstring has its own line):

| tables            | cases | named | wrong-name | other-exception | accepted | slow |
|-------------------|-------|-------|------------|-----------------|----------|------|
| core, before      | 1,553 |   841 |        396 |              91 |      225 |    0 |
| analysis, before  | 2,010 | 1,278 |        343 |             113 |      276 |    0 |
| training, before  | 2,932 | 1,764 |        645 |             138 |      384 |    1 |
| all three, after  | 6,503 | 6,503 |          0 |               0 |        0 |    0 |

(The after line counts eight more cases: the `activation` argument of tasks.run_remember_first
and an all-NaN row of logits for the softmax family, added later.) The whole walk takes about 2 s.
"""

from __future__ import annotations

import collections
import importlib
import pkgutil
from pathlib import Path

import pytest

import hostile
import rnnlib

TABLES = sorted(p.stem for p in Path(__file__).parent.glob("bad_input_*.py"))
MIN_CASES = 3000


def _tables():
    return [importlib.import_module(name) for name in TABLES]


def _targets():
    return [t for table in _tables() for t in table.TARGETS]


def _exempt():
    out = {}
    for table in _tables():
        out.update(getattr(table, "EXEMPT", {}))
    return out


def _public_callables():
    """Qualified names of every callable in the __all__ of each rnnlib math module."""
    names = set()
    for info in pkgutil.iter_modules(rnnlib.__path__):
        if info.name.startswith("_") or info.name == "plots":
            continue
        module = importlib.import_module(f"rnnlib.{info.name}")
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if callable(obj):
                home = getattr(obj, "__module__", module.__name__)
                names.add(f"{home}.{getattr(obj, '__qualname__', name)}" if home.startswith("rnnlib") else
                          f"{module.__name__}.{name}")
    return names


@pytest.fixture(scope="module")
def walked():
    return [case for t in _targets() for case in hostile.cases(t)]


def test_tables_exist():
    assert TABLES, "no tests/bad_input_*.py tables"


def test_every_public_callable_is_walked_or_exempt():
    covered = {t.name for t in _targets()} | set(_exempt())
    # a method target ("rnnlib.train.SGD.step") covers its class as well
    covered |= {name.rsplit(".", 1)[0] for name in covered}
    missing = sorted(_public_callables() - covered)
    assert not missing, "public callables in no table of tests/bad_input_*.py:\n" + "\n".join(missing)


def test_valid_calls_return_cleanly():
    problems = [p for p in map(hostile.check_valid, _targets()) if p]
    assert not problems, "\n".join(problems)


def test_enough_cases(walked):
    assert len(walked) >= MIN_CASES, f"{len(walked)} hostile cases, fewer than {MIN_CASES}"


def test_every_hostile_case_is_named(walked):
    """Every case ends `named`."""
    counts = collections.Counter(c.outcome for c in walked)
    bad = [c for c in walked if c.outcome != "named"]
    lines = [f"{c.outcome:16} {c.target}({c.arg}={c.label}): {c.detail[:160]}" for c in bad[:200]]
    summary = ", ".join(f"{o}: {counts.get(o, 0)}" for o in hostile.OUTCOMES)
    assert not bad, f"{len(bad)} of {len(walked)} cases outside the goal ({summary}):\n" + "\n".join(lines)


def test_the_walker_can_fail():
    """Controls: a function that checks nothing, one that names the wrong argument, one that
    raises IndexError, and one that answers with the argument's name all get their outcome."""
    import numpy as np

    def lax(x):
        return np.asarray(x, dtype=float) * 2

    def wrong(x):
        raise ValueError("y: expected something, got something else")

    def index(x):
        return [][1]

    def good(x):
        raise ValueError(f"x: expected a float array of shape (3,), got {x!r}")

    kind = hostile.array((3,))
    got = {f.__name__: {c.outcome for c in hostile.cases(hostile.Target(f.__name__, f, lambda: {"x": np.ones(3)},
                                                                      {"x": kind}))}
           for f in (lax, wrong, index, good)}
    assert "accepted" in got["lax"]
    assert got["wrong"] == {"wrong-name"}
    assert got["index"] == {"other-exception"}
    assert got["good"] == {"named"}
