"""rnnlib._checks: the shared argument checks (messages that notebooks and tests match)."""

import numpy as np
import pytest

from rnnlib._checks import check_int, check_positive_int


def test_check_int_accepts_python_and_numpy_integers():
    assert check_int("k", 3, 1) == 3 and type(check_int("k", np.int64(3), 1, 5)) is int
    assert check_int("t", 0, 0, 0) == 0


@pytest.mark.parametrize("value", [True, 2.0, "2", None, np.float64(2)])
def test_check_int_rejects_bools_and_non_integers(value):
    with pytest.raises(ValueError, match=r"^n: expected an integer 0 <= n <= 9, got "):
        check_int("n", value, 0, 9)


def test_check_int_messages():
    with pytest.raises(ValueError, match=r"^t: expected an integer 0 <= t <= 12, got 13$"):
        check_int("t", 13, 0, 12)
    with pytest.raises(ValueError, match=r"^t: expected an integer 0 <= t <= T = 4, got 5$"):
        check_int("t", 5, 0, 4, high_name="T")
    with pytest.raises(ValueError, match=r"^k: expected an integer >= 1, got 0$"):
        check_int("k", 0, 1)
    with pytest.raises(ValueError, match=r"^i: expected an integer step 1 <= i <= T = 4, got 0$"):
        check_int("i", 0, 1, 4, high_name="T", noun="integer step")
    with pytest.raises(ValueError, match=r"^n_hidden: expected a positive integer, got True$"):
        check_positive_int("n_hidden", True)


# ---- the validators added for "one check at the boundary" (issue 11) ---------------------------

import rnnlib  # noqa: E402
from rnnlib import analysis, jacobians, remedies, train  # noqa: E402
from rnnlib._checks import (check_choice, check_fraction, check_generator, check_int_array,  # noqa: E402
                            check_nonnegative, check_square)
from rnnlib.activations import Activation  # noqa: E402


def test_number_validators_accept_and_reject():
    assert check_nonnegative("scale", 0) == 0.0 and check_fraction("beta1", 0.9) == 0.9
    for bad in (-1.0, np.inf, np.nan, True, "1", [1.0], 1j):
        with pytest.raises(ValueError, match=r"^scale: expected a finite number >= 0, got "):
            check_nonnegative("scale", bad)
    for bad in (1.0, -0.1, np.nan, True):
        with pytest.raises(ValueError, match=r"^momentum: expected 0 <= momentum < 1, got "):
            check_fraction("momentum", bad)
    with pytest.raises(ValueError, match=r"^mode: expected one of \('full', 'window'\), got 'chunk'$"):
        check_choice("mode", "chunk", ("full", "window"))
    with pytest.raises(ValueError, match=r"^wrt: expected one of"):
        check_choice("wrt", ["unhashable"], {"W_hh": 1})
    with pytest.raises(ValueError, match=r"^rng: expected a numpy Generator"):
        check_generator("rng", np.random.RandomState(0))


def test_array_validators_accept_and_reject():
    assert check_square("W", [[1, 2], [3, 4]]).dtype == np.float64
    assert check_square("W", np.eye(2) * 1j, allow_complex=True).dtype == np.complex128
    for bad, match in (((np.zeros((2, 3))), "square matrix"), (np.eye(2) * 1j, "real matrix"),
                       (np.array([[1.0, np.nan], [0, 1]]), "finite values"), (np.array([["a"]]), "real matrix")):
        with pytest.raises(ValueError, match=r"^W: expected .*" + match):
            check_square("W", bad)
    assert check_int_array("lags", [0, 3], 0).tolist() == [0, 3]
    with pytest.raises(ValueError, match=r"^ids: expected integers in 0..4, got \[5\]$"):
        check_int_array("ids", [5], 0, 4)
    with pytest.raises(ValueError, match=r"^ids: expected integers >= 0, got dtype float64$"):
        check_int_array("ids", np.zeros(3), 0)


def _small():
    params = rnnlib.init_params(3, 4, 5, seed=0)
    xs = np.random.default_rng(0).standard_normal((6, 2, 3))
    return params, xs, np.zeros((6, 2), dtype=int), rnnlib.forward(params, xs)


@pytest.mark.parametrize("call", [
    lambda p, t: rnnlib.backward(p, t, np.zeros((6, 2), dtype=int)),
    lambda p, t: rnnlib.jacobian(p, t, 3, 1),
    lambda p, t: rnnlib.step_jacobian(p, t, 2),
    lambda p, t: jacobians.jacobian_log_norms(p, t),
    lambda p, t: jacobians.jacobian_log_norms_from(p, t),
    lambda p, t: analysis.immediate_dh_dW_hh(p, t, 2),
    lambda p, t: analysis.total_dh_dW_hh(p, t, 2),
])
@pytest.mark.parametrize("not_a_trace", ["h array", "tuple"])
def test_a_non_trace_gets_a_value_error_naming_trace(call, not_a_trace):
    params, _, _, trace = _small()
    bad = trace.h if not_a_trace == "h array" else tuple(trace)
    with pytest.raises(ValueError, match=r"^trace: expected the Trace returned by rnnlib.forward, got "):
        call(params, bad)


def test_targets_messages_give_the_real_expected_shape():
    params, xs, targets, _ = _small()
    with pytest.raises(ValueError, match=r"^targets: expected shape \(T, B\) = \(6, 2\), got \(2, 6\)$"):
        rnnlib.bptt(params, xs, targets.T)
    with pytest.raises(ValueError, match=r"^targets: expected shape \(B,\) = \(2,\), got \(1, 2\)$"):
        rnnlib.softmax_cross_entropy(np.zeros((2, 5)), np.zeros((1, 2), dtype=int))


def test_custom_activation_objects_are_accepted_wherever_an_activation_is():
    """A custom Activation (not one of the four names) works in every function that takes one."""
    softsign = Activation("softsign", lambda a: a / (1 + np.abs(a)), lambda a, h: (1 - np.abs(h)) ** 2, 1.0)
    params, xs, targets, _ = _small()
    h0 = np.zeros((2, 4))
    trace = rnnlib.forward(params, xs, activation=softsign)
    assert trace.activation is softsign
    loss, _ = rnnlib.bptt(params, xs, targets, activation=softsign)
    assert np.isclose(loss, rnnlib.bptt_steps(params, xs, targets, activation=softsign)[0])
    rnnlib.step_forward(xs[0], h0, params, softsign)
    C = analysis.bptt_contributions(params, xs, targets, activation=softsign)
    assert np.allclose(C.sum(axis=(0, 1)), rnnlib.bptt(params, xs, targets, activation=softsign)[1].W_hh)
    analysis.carried_gradients(params, xs, targets, activation=softsign)
    analysis.loss_from(params, xs, targets, 2, h0, activation=softsign)
    analysis.jacobian_log_norm_bound(params.W_hh, softsign, [0, 1])
    remedies.bptt_chunked(params, xs, targets, activation=softsign, k=2)
    jacobians.memory_norms(params, xs[:, :1], activation=softsign)
    train.train_step(params, xs, targets, train.SGD(0.1), activation=softsign)
    train.sample(params, np.array([0, 1]), 3, rng=np.random.default_rng(0), activation=softsign)


# ---- issue 14: kinds are checked, not only values -------------------------------------------------

from rnnlib._checks import check_array_list, check_bool, check_ord, check_real_array  # noqa: E402


def test_choices_compare_kind_as_well_as_value():
    assert check_choice("lag", 1, (1, 2)) == 1 and check_choice("lag", np.int64(2), (1, 2)) == 2
    for bad in (True, 1.0, np.array([1]), "1"):
        with pytest.raises(ValueError, match=r"^lag: expected one of \(1, 2\), got "):
            check_choice("lag", bad, (1, 2))
    for bad in (2.0, True, np.array(2), "nuc"):
        with pytest.raises(ValueError, match=r"^ord: expected 2 \(spectral norm\) or 'fro'"):
            check_ord(bad)


@pytest.mark.parametrize("bad", [np.ones(3, dtype=bool), np.ones(3) + 1j, np.array(["a"] * 3), np.array([None] * 3),
                                 None, "abc", [[1.0], [1.0, 2.0]]])
def test_real_arrays_reject_bool_complex_text_object_and_ragged(bad):
    with pytest.raises(ValueError, match=r"^w: expected (a real|an array)"):
        check_real_array("w", bad)


def test_real_arrays_convert_integers_and_keep_float32():
    assert check_real_array("w", [1, 2]).dtype == np.float64
    assert check_real_array("w", np.ones(2, dtype=np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match=r"^w: expected finite values, got NaN or inf$"):
        check_real_array("w", [1.0, np.inf])
    assert np.isnan(check_real_array("w", [np.nan], finite=False)).all()


def test_array_lists_name_the_entry_and_flags_are_bools():
    with pytest.raises(ValueError, match=r"^grads\.W_hh: expected finite values"):
        check_array_list("grads", rnnlib.init_params(2, 3, 2)._replace(W_hh=np.full((3, 3), np.nan)))
    with pytest.raises(ValueError, match=r"^grads\[1\]: expected a real"):
        check_array_list("grads", [np.ones(2), np.ones(2) + 1j])
    assert check_bool("flag", np.bool_(True)) is True
    for bad in (1, "yes", None, 0.0):
        with pytest.raises(ValueError, match=r"^flag: expected True or False, got "):
            check_bool("flag", bad)
