"""Interpolated Witten-Bell character n-gram models: the counting baseline of notebook 07.

An n-gram model predicts the next character from the n - 1 characters before it, by counting
in the training text. Longer contexts are sharper but seen less often, so the estimate for a
context h (its last n - 1 characters) is mixed with the estimate for the shorter context h'
(h without its oldest character), recursively down to the uniform distribution over V:

    P(w | h) = (c(h, w) + u(h) P(w | h')) / (c(h) + u(h))              (Witten-Bell)

c(h, w): how often w followed h in the training text; c(h) = sum_w c(h, w); u(h): how many
*different* characters followed h. A context seen often with few different followers trusts its
own counts; a context seen rarely, or followed by many different characters, leans on h'.
The recursion starts from P(w | one step below the unigram) = 1/V, so every character keeps a
probability > 0 and every distribution sums to 1. A context never seen in training
(c(h) = 0) gives P(w | h) = P(w | h').
Core math: numpy only.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_ids, check_int, check_real_nd, describe

__all__ = ["ngram_counts", "witten_bell", "ngram_log_probs", "ngram_loss"]


def _check_ids(name: str, ids, V: int, min_size: int) -> np.ndarray:
    return check_ids(name, ids, V, ndim=1, min_size=min_size)


def _check_counts(counts) -> int:
    """The structure of `ngram_counts`' result (a list of dicts with the unigram row counts[0][()]); returns V.
    The rows a lookup uses are checked where they are used (`_checked_row`), not all of them on every call."""
    if not isinstance(counts, list) or not counts or not all(isinstance(level, dict) for level in counts) \
            or () not in counts[0]:
        raise ValueError(f"counts: expected the list returned by ngram_counts, got {describe(counts)}")
    return _checked_row(counts[0][()], None, ()).size


def _checked_row(row, V, context) -> np.ndarray:
    a = check_real_nd(f"counts[{len(context)}][{context}]", row, 1)
    if (V is not None and a.shape != (V,)) or np.any(a < 0) or a.size < 1:
        raise ValueError(f"counts[{len(context)}][{context}]: expected {'V' if V is None else V} counts >= 0, "
                         f"got {describe(a)}")
    return a


def ngram_counts(ids, V: int, order: int) -> list[dict]:
    """Next-character counts for every context of length 0 .. order - 1 in a text.

    ids (N,) integer ids in 0..V-1; order n >= 1 (n = 1: unigram, n = 2: bigram, ...).
    Returns counts, a list of n dicts: counts[m] maps a context, the tuple of the m ids before a
    position, to a (V,) float array whose entry w is how often w followed that context.
    counts[0][()] holds the plain character counts. Contexts do not run past the text's start.
    """
    V = check_int("V", V, 1)
    order = check_int("order", order, 1)
    ids = _check_ids("ids", ids, V, 1)
    seq = ids.tolist()
    counts = [dict() for _ in range(order)]
    for t, w in enumerate(seq):
        for m in range(min(order, t + 1)):           # the m characters before position t
            row = counts[m].setdefault(tuple(seq[t - m:t]), np.zeros(V))
            row[w] += 1.0
    return counts


def witten_bell(counts: list[dict], context) -> np.ndarray:
    """P(. | context) of the interpolated Witten-Bell model: a (V,) distribution that sums to 1.

    counts from `ngram_counts` (order n = len(counts)); context: the ids before the position
    to predict (any length; only the last n - 1 are used, fewer at a text's start).
    Starts from the uniform 1/V and applies P(w|h) = (c(h,w) + u(h) P(w|h')) / (c(h) + u(h))
    for h = the last 0, 1, ..., n - 1 characters of the context.
    """
    V = _check_counts(counts)
    context = check_ids("context", context, V, ndim=1, min_size=0).tolist()
    return _witten_bell(counts, context, V, check=True)


def _witten_bell(counts: list[dict], context: list, V: int, check: bool = False) -> np.ndarray:
    """`witten_bell` for checked arguments (check=True: the rows used are checked on the way)."""
    p = np.full(V, 1.0 / V)
    for m in range(min(len(counts), len(context) + 1)):
        key = tuple(context[len(context) - m:])
        c = counts[m].get(key)
        if c is None:   # never seen: then no longer context ending here was seen either
            break
        if check:
            c = _checked_row(c, V, key)
        u = np.count_nonzero(c)   # distinct followers
        p = (c + u * p) / (c.sum() + u)
    return p


def ngram_log_probs(train_ids, test_ids, V: int, order: int) -> np.ndarray:
    """ln P(test[t] | the up to n - 1 test characters before it), t = 1 .. M - 1: (M - 1,) log-probabilities.

    train_ids (N,), test_ids (M,) ids in 0..V-1, M >= 2; order n >= 1. The model is counted on
    train_ids (`ngram_counts`) and evaluated with `witten_bell`. The targets are those of
    `train.char_loss`: every character of the test text but the first, read from its start, so
    the first positions see shorter contexts.
    """
    V = check_int("V", V, 1)
    order = check_int("order", order, 1)
    train_ids = _check_ids("train_ids", train_ids, V, 1)
    test = _check_ids("test_ids", test_ids, V, 2).tolist()
    counts = ngram_counts(train_ids, V, order)
    return np.log([_witten_bell(counts, test[max(0, t - order + 1):t], V)[test[t]] for t in range(1, len(test))])


def ngram_loss(train_ids, test_ids, V: int, order: int) -> float:
    """Loss per character (nats) on test_ids of a Witten-Bell n-gram model counted on train_ids.

    -(1/(M-1)) sum_t ln P(test[t] | test[t-n+1 .. t-1]), the mean of `ngram_log_probs`; comparable
    with `train.char_loss` on the same test text. order=1 is the smoothed unigram model.
    """
    return -float(np.mean(ngram_log_probs(train_ids, test_ids, V, order)))
