"""The speed-minded code paths of rnnlib.bptt give the step loop's answers, up to rounding.

`bptt` computes f'(a_t) a block of steps at a time (core._BLOCK_ENTRIES), writes activations in
place (Activation.into / fprime_into) and reads the loss from y_hat unless a probability
underflows. Each path is forced here on small sizes and compared with `bptt_steps`, the plain
loop over step_forward / step_backward, in float64 and float32.
"""

import numpy as np
import pytest

import rnnlib
from rnnlib import core
from rnnlib.activations import ACTIVATIONS, Activation


def _problem(T, B, X, H, Y, dtype, seed=0):
    params = rnnlib.init_params(X, H, Y, seed=seed, scale=1.5, dtype=dtype)
    rng = np.random.default_rng(seed + 7)
    xs = rng.standard_normal((T, B, X)).astype(dtype)
    targets = rng.integers(0, Y, size=(T, B))
    h0 = (0.3 * rng.standard_normal((B, H))).astype(dtype)
    return params, xs, targets, h0


def _assert_same(a, b, rtol):
    (loss_a, grads_a, dh0_a), (loss_b, grads_b, dh0_b) = a, b
    assert loss_a == pytest.approx(loss_b, rel=rtol)
    for name, x, y in zip(rnnlib.RNNParams._fields, grads_a, grads_b):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=rtol * np.max(np.abs(y)), err_msg=name)
    np.testing.assert_allclose(dh0_a, dh0_b, rtol=rtol, atol=rtol * np.max(np.abs(dh0_b)))


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("block_entries", [1, 3 * 2 * 4, 10**9])  # a step at a time, blocks of 3 (T = 7), all
def test_blocked_fprime_matches_the_step_loop(monkeypatch, dtype, rtol, activation, block_entries):
    monkeypatch.setattr(core, "_BLOCK_ENTRIES", block_entries)
    params, xs, targets, h0 = _problem(T=7, B=2, X=3, H=4, Y=5, dtype=dtype)
    fast = rnnlib.bptt(params, xs, targets, h0, activation, return_dh0=True)
    assert fast[1].W_hh.dtype == dtype and fast[2].dtype == dtype  # no silent float64 upcast
    _assert_same(fast, rnnlib.bptt_steps(params, xs, targets, h0, activation), rtol)


def test_a_custom_activation_without_in_place_derivative_takes_the_plain_path():
    softsign = Activation("softsign", lambda a: a / (1 + np.abs(a)), lambda a, h: (1 - np.abs(h)) ** 2, 1.0)
    params, xs, targets, h0 = _problem(T=6, B=3, X=2, H=5, Y=4, dtype=np.float64)
    _assert_same(rnnlib.bptt(params, xs, targets, h0, softsign, return_dh0=True),
                 rnnlib.bptt_steps(params, xs, targets, h0, softsign), 1e-12)
    errors = rnnlib.check_bptt_gradients(params, xs, targets, h0, softsign)
    assert max(errors.values()) < 1e-6, errors


def test_loss_stays_exact_where_a_target_probability_underflows():
    """A logit gap of 800 makes y^_t[y_t] = e^-800 = 0 in float64; the loss must still be 800, not inf."""
    z = np.array([[[800.0, 0.0]], [[0.0, 0.0]]])  # (T=2, B=1, Y=2)
    targets = np.array([[1], [0]])
    y_hat = rnnlib.softmax(z)
    assert y_hat[0, 0, 1] == 0.0  # underflowed: the fallback path is taken
    loss, dlogits = core._cross_entropy(z, targets, y_hat)
    assert loss == pytest.approx(800.0 + np.log(2.0), rel=1e-15)
    np.testing.assert_allclose(dlogits, y_hat - np.eye(2)[targets])
