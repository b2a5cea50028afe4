"""Interpolated Witten-Bell n-grams (rnnlib.ngram): a case computed by hand, normalisation, errors."""

import numpy as np
import pytest

from rnnlib import ngram

# Training text "abab" over the alphabet {a, b, c} (ids 0, 1, 2; c never occurs), order 2.
#   unigram: c(a) = c(b) = 2, c(c) = 0, total 4, u = 2 distinct characters, so
#            P(w) = (c(w) + 2 * 1/3) / (4 + 2) = (4/9, 4/9, 1/9)
#   after a: b twice; total 2, u = 1: P(w | a) = (c(a, w) + 1 * P(w)) / 3 = (4/27, 22/27, 1/27)
#   after b: a once (the last b has no follower); total 1, u = 1: P(w | b) = (c(b, w) + P(w)) / 2
#            = (13/18, 4/18, 1/18)
ABAB = [0, 1, 0, 1]
P_UNI = np.array([4, 4, 1]) / 9
P_A = np.array([4, 22, 1]) / 27
P_B = np.array([13, 4, 1]) / 18


def test_counts_by_hand():
    counts = ngram.ngram_counts(ABAB, 3, 2)
    assert len(counts) == 2
    assert set(counts[0]) == {()} and np.array_equal(counts[0][()], [2, 2, 0])
    assert set(counts[1]) == {(0,), (1,)}
    assert np.array_equal(counts[1][(0,)], [0, 2, 0]) and np.array_equal(counts[1][(1,)], [1, 0, 0])


def test_witten_bell_by_hand():
    counts = ngram.ngram_counts(ABAB, 3, 2)
    assert np.allclose(ngram.witten_bell(counts, []), P_UNI, rtol=0, atol=1e-15)
    assert np.allclose(ngram.witten_bell(counts, [0]), P_A, rtol=0, atol=1e-15)
    assert np.allclose(ngram.witten_bell(counts, [1]), P_B, rtol=0, atol=1e-15)
    # only the last order - 1 = 1 character of a longer context is used
    assert np.allclose(ngram.witten_bell(counts, [1, 1, 0]), P_A, rtol=0, atol=1e-15)
    # a context never seen in training (c) falls back to the shorter one (the unigram)
    assert np.allclose(ngram.witten_bell(counts, [2]), P_UNI, rtol=0, atol=1e-15)


def test_order_3_backs_off_through_unseen_contexts():
    counts = ngram.ngram_counts(ABAB, 3, 3)
    # (1, 0) = "ba" was followed by b once: total 1, u = 1, so P(w | ba) = (c + P(w | a)) / 2
    expected = (np.array([0, 1, 0]) + P_A) / 2
    assert np.allclose(ngram.witten_bell(counts, [1, 0]), expected, rtol=0, atol=1e-15)
    # "aa" never occurred: the order-3 estimate is the order-2 one for context "a"
    assert np.allclose(ngram.witten_bell(counts, [0, 0]), P_A, rtol=0, atol=1e-15)


def test_loss_by_hand():
    # test text "abc": predict b after a, then c after b (the first character is not predicted)
    expected = -(np.log(22 / 27) + np.log(1 / 18)) / 2
    assert np.isclose(ngram.ngram_loss(ABAB, [0, 1, 2], 3, 2), expected, rtol=1e-14)
    # order 1 ignores the context: the smoothed unigram
    expected1 = -(np.log(4 / 9) + np.log(1 / 9)) / 2
    assert np.isclose(ngram.ngram_loss(ABAB, [0, 1, 2], 3, 1), expected1, rtol=1e-14)
    assert np.allclose(ngram.ngram_log_probs(ABAB, [0, 1, 2], 3, 2), np.log([22 / 27, 1 / 18]), rtol=1e-14)


@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_every_context_sums_to_one(order):
    rng = np.random.default_rng(order)
    V = 7
    ids = rng.integers(0, V - 1, size=300)        # the last id never occurs in training
    counts = ngram.ngram_counts(ids, V, order)
    contexts = [c for level in counts for c in level] + [tuple(rng.integers(0, V, size=4)) for _ in range(50)]
    for ctx in contexts:
        p = ngram.witten_bell(counts, list(ctx))
        assert p.shape == (V,) and np.all(p > 0), f"context {ctx}: every character keeps a probability > 0"
        assert abs(p.sum() - 1) < 1e-12, f"context {ctx}: probabilities sum to {p.sum()!r}"


def test_counting_more_context_helps_on_repetitive_text():
    # a period-5 text: a 5-gram (4 characters of context) predicts it almost surely, a unigram cannot
    train_ids = np.tile([0, 1, 2, 3, 1], 200)
    test_ids = np.tile([0, 1, 2, 3, 1], 10)
    losses = [ngram.ngram_loss(train_ids, test_ids, 4, n) for n in (1, 2, 5)]
    assert losses[0] > 1.0 and losses[2] < 0.05 and losses[0] > losses[1] > losses[2], losses


@pytest.mark.parametrize("kwargs, match", [
    (dict(train_ids=[0, 1], test_ids=[0, 1], V=2, order=0), "order: expected an integer >= 1"),
    (dict(train_ids=[0, 3], test_ids=[0, 1], V=2, order=2), "train_ids: expected a 1-D integer array"),
    (dict(train_ids=[0, 1], test_ids=[1], V=2, order=2), "test_ids: expected a 1-D integer array of at least 2"),
    (dict(train_ids=[0.0, 1.0], test_ids=[0, 1], V=2, order=2), "train_ids: expected .* integer array"),
    (dict(train_ids=[0, 1], test_ids=[0, 1], V=0, order=2), "V: expected an integer >= 1"),
])
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ngram.ngram_loss(**kwargs)


def test_witten_bell_rejects_non_counts():
    with pytest.raises(ValueError, match="counts: expected the list returned by ngram_counts"):
        ngram.witten_bell({(): np.ones(3)}, [0])


def test_witten_bell_checks_context_ids_and_the_rows_it_uses():
    counts = ngram.ngram_counts(np.array([0, 1, 2, 1, 0]), 3, 2)
    assert np.isclose(ngram.witten_bell(counts, []).sum(), 1.0)  # an empty context is the unigram estimate
    for bad in ([-1], [3], [0.5], ["a"]):
        with pytest.raises(ValueError, match="^context: expected"):
            ngram.witten_bell(counts, bad)
    broken = [counts[0], {**counts[1], (1,): np.array([1.0, -1.0, 0.0])}]
    with pytest.raises(ValueError, match=r"^counts\[1\]\[\(1,\)\]: expected 3 counts >= 0"):
        ngram.witten_bell(broken, [1])
