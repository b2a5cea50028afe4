"""Tests of rnnlib.exercises, the checkers of the "Build it yourself" sections.

- the worked solutions, taken from the notebooks' <details> blocks and executed, pass their checkers;
- every classic mistake, written the way a learner would write it (not with the checker's own
  formulas), fails with a message that names that mistake and its fix, and no other;
- a wrong function that is none of them gets the generic message;
- a function that raises, returns None, the wrong type or shape, NaN, or changes its inputs in
  place gets a clear message (never a bare traceback); the skeleton gets "not attempted yet";
- on the checkers' own cases no two mistakes give the same numbers, and none gives the right ones.
"""

import itertools
import json
import re
from pathlib import Path

import numpy as np
import pytest

import rnnlib
from rnnlib import RNNParams
from rnnlib import exercises as ex
from rnnlib.gradcheck import rel_error

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
BUILD_NOTEBOOKS = {
    "01-forward-pass.ipynb": {"my_step_forward": "check_step_forward"},
    "02-loss-over-time.ipynb": {"my_softmax_cross_entropy": "check_softmax_cross_entropy"},
    "03-bptt.ipynb": {"my_step_backward": "check_step_backward", "my_bptt": "check_bptt"},
    "06-remedies.ipynb": {"my_clip_by_norm": "check_clip_by_norm"},
}


def failure(check, fn) -> str:
    """The message of the AssertionError that check(fn) must raise, with chaining suppressed."""
    with np.errstate(all="ignore"), pytest.raises(AssertionError) as info:
        check(fn)
    assert info.value.__cause__ is None and info.value.__suppress_context__, "no chained traceback"
    return str(info.value)


# ----------------------------------------------------------------------------------------------
# Learner-style implementations: one switch per classic mistake, None = right
# ----------------------------------------------------------------------------------------------


def learner_step_forward(mistake=None):
    def my_step_forward(x_t, h_prev, params):
        W_hh = params.W_hh if mistake == "W_hh_not_transposed" else params.W_hh.T
        a_t = x_t @ params.W_hx.T + h_prev @ W_hh
        if mistake != "b_h_missing":
            a_t = a_t + params.b_h
        h_t = a_t if mistake == "tanh_missing" else np.tanh(a_t)
        z = (h_prev if mistake == "y_from_h_prev" else h_t) @ params.W_yh.T
        if mistake != "b_y_missing":
            z = z + params.b_y
        if mistake == "softmax_missing":
            return h_t, z
        if mistake == "softmax_overflow":
            return h_t, np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        if mistake == "softmax_over_batch":
            e = np.exp(z - z.max(axis=0))
            return h_t, e / e.sum(axis=0)
        if mistake == "softmax_one_sum":
            e = np.exp(z - z.max())
            return h_t, e / e.sum()
        if mistake == "softmax_shift_axis0":
            e = np.exp(z - z.max(axis=0))
            return h_t, e / e.sum(axis=1, keepdims=True)
        if mistake == "softmax_global_shift":
            e = np.exp(z - np.max(z))
            return h_t, e / e.sum(axis=1, keepdims=True)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return h_t, e / e.sum(axis=1, keepdims=True)
    return my_step_forward


def learner_softmax_cross_entropy(mistake=None):
    def my_softmax_cross_entropy(logits, targets):
        B = len(targets)
        rows = np.arange(B)
        if mistake == "naive":
            p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
            log_p = np.log(p)
        elif mistake == "shift_axis0":
            z = logits - logits.max(axis=0)
            p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
            log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        elif mistake == "axis0":
            z = logits - logits.max(axis=0)
            p = np.exp(z) / np.exp(z).sum(axis=0)
            log_p = np.log(p)
        else:
            z = logits - logits.max(axis=1, keepdims=True)
            p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
            log_p = np.log(p) if mistake == "log_of_softmax" else z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        pick = (slice(None), targets) if mistake == "block_index" else (rows, targets)
        loss = -np.mean(log_p[pick])
        d = p.copy()
        if mistake != "no_minus_one":
            d[pick] -= 1
        if mistake == "sign":
            d = -d
        if mistake == "loss_sign":
            loss = -loss
        if mistake == "no_mean":
            return loss * B, d
        if mistake == "mean_twice":
            return loss / B, d / B / B
        if mistake == "mean_over_classes":
            onehot = np.eye(logits.shape[1])[targets]
            return -np.mean(onehot * log_p), d / B
        return loss, d / B
    return my_softmax_cross_entropy


def learner_step_backward(mistake=None):
    def my_step_backward(dlogits_t, dh_next, cache):
        x_t, h_prev, a_t, h_t, params, f = cache
        B = len(x_t)
        dh_t = dlogits_t @ params.W_yh
        if mistake != "dh_next_forgotten" and mistake != "dh_next_after_fprime":
            dh_t = dh_t + dh_next
        fprime = {"fprime_at_h_prev": lambda: f.derivative(h_prev, h_prev),
                  "fprime_of_h_prev": lambda: f.derivative(h_prev, f(h_prev)),
                  "fprime_formula_on_a": lambda: f.derivative(a_t, a_t),
                  "fprime_tanh_hardcoded": lambda: 1 - h_t ** 2,
                  "fprime_tanh_of_a": lambda: 1 - np.tanh(a_t) ** 2}.get(mistake, lambda: f.derivative(a_t, h_t))()
        da_t = dh_t * fprime
        if mistake == "dh_next_after_fprime":
            da_t = da_t + dh_next
        dW_hh = h_prev.T @ da_t if mistake == "dW_hh_transposed" else \
            da_t.T @ (h_t if mistake == "dW_hh_from_h_t" else h_prev)
        mean = mistake == "bias_mean"
        db_h = da_t.mean(axis=0) if mean else da_t.sum(axis=0)
        db_y = dlogits_t.mean(axis=0) if mean else dlogits_t.sum(axis=0)
        grads = [da_t.T @ x_t, dW_hh, db_h, dlogits_t.T @ (h_prev if mistake == "dW_yh_from_h_prev" else h_t), db_y]
        back = dh_t if mistake == "carry_skips_fprime" else da_t
        dx_t = back @ params.W_hx
        dh_prev = back @ (params.W_hh.T if mistake == "W_hh_not_transposed" else params.W_hh)
        if mistake in ("grads_over_B", "all_over_B"):
            grads = [g / B for g in grads]
        if mistake == "all_over_B":
            dx_t, dh_prev = dx_t / B, dh_prev / B
        return dx_t, dh_prev, RNNParams(*grads)
    return my_step_backward


def learner_bptt(mistake=None):
    def my_bptt(params, xs, targets, h0=None):
        T, B, _ = xs.shape
        H = params.n_hidden
        h = np.zeros((B, H)) if h0 is None or mistake == "h0_ignored" else h0
        hs, dls, loss = [h], [None], 0.0
        if mistake == "h_aliased":
            h = h.copy()
        for t in range(1, T + 1):
            if mistake == "h_aliased":  # one buffer, overwritten in place and stored T times
                np.tanh(xs[t - 1] @ params.W_hx.T + h @ params.W_hh.T + params.b_h, out=h)
            else:
                h = np.tanh(xs[t - 1] @ params.W_hx.T + h @ params.W_hh.T + params.b_h)
            hs.append(h)
        for t in range(1, T + 1):
            h = hs[t]
            z = h @ params.W_yh.T + params.b_y
            p = np.exp(z - z.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            loss += -np.log(p[np.arange(B), targets[t - 1]]).sum()  # summed over the batch ...
            p[np.arange(B), targets[t - 1]] -= 1
            dls.append(p)  # ... and dlogits not yet divided by B
        dW_hx, dW_hh, db_h, dW_yh, db_y = (np.zeros_like(a) for a in params)
        dh_next = np.zeros((B, H))
        for t in (range(1, T + 1) if mistake == "backward_loop_forward" else range(T, 0, -1)):
            dz = dls[t] if mistake == "batch_sum" else dls[t] / B
            if mistake == "batch_mean_twice":
                dz = dz / B
            dh = dz @ params.W_yh
            if mistake not in ("dh_next_forgotten", "dh_next_after_fprime"):
                dh += dh_next
            fprime = {"fprime_at_h_prev": 1 - hs[t - 1] ** 2, "fprime_of_h_prev": 1 - np.tanh(hs[t - 1]) ** 2,
                      "fprime_formula_on_a": 1 - np.arctanh(hs[t]) ** 2}.get(mistake, 1 - hs[t] ** 2)
            da = dh * fprime
            if mistake == "dh_next_after_fprime":
                da = da + dh_next
            step_W_hh = hs[t - 1].T @ da if mistake == "dW_hh_transposed" else \
                da.T @ (hs[t] if mistake == "dW_hh_from_h_t" else hs[t - 1])
            if mistake == "grads_overwritten":
                dW_hx, dW_hh, db_h = da.T @ xs[t - 1], step_W_hh, da.sum(axis=0)
                dW_yh, db_y = dz.T @ hs[t], dz.sum(axis=0)
            else:
                dW_hx += da.T @ xs[t - 1]
                dW_hh += step_W_hh
                db_h += da.sum(axis=0)
                dW_yh += dz.T @ hs[t - 1 if mistake == "dW_yh_from_h_prev" else t]
                db_y += dz.sum(axis=0)
            dh_next = (dh if mistake == "carry_skips_fprime" else da) @ \
                (params.W_hh.T if mistake == "W_hh_not_transposed" else params.W_hh)
        grads = [dW_hx, dW_hh, db_h, dW_yh, db_y]
        if mistake != "batch_sum":
            loss /= B
        if mistake == "batch_mean_twice":
            loss /= B
        if mistake in ("time_mean", "time_mean_loss_only"):
            loss /= T
        if mistake == "time_mean":
            grads = [g / T for g in grads]
        return loss, RNNParams(*grads)
    return my_bptt


def learner_clip_by_norm(mistake=None):
    def my_clip_by_norm(grads, theta):
        total = sum(float(np.sum(g * g)) for g in grads)
        norm = total if mistake == "no_sqrt" else np.sqrt(total)
        if mistake == "sum_of_norms":
            norm = sum(np.linalg.norm(g) for g in grads)
        if mistake == "per_array":
            return RNNParams(*(g * min(1.0, theta / np.linalg.norm(g)) for g in grads)), norm
        if mistake == "elementwise":
            return RNNParams(*(np.clip(g, -theta, theta) for g in grads)), norm
        if mistake == "always":
            scale = theta / norm
        elif mistake == "inverted":
            scale = norm / theta if norm >= theta else 1.0
        elif mistake == "reversed":
            scale = theta / norm if norm < theta else 1.0
        else:
            scale = theta / norm if norm >= theta else 1.0
        clipped = RNNParams(*(g * scale for g in grads))
        return clipped, (norm * scale if mistake == "norm_after" else norm)
    return my_clip_by_norm


LEARNERS = {
    "step_forward": (ex.check_step_forward, learner_step_forward),
    "softmax_cross_entropy": (ex.check_softmax_cross_entropy, learner_softmax_cross_entropy),
    "step_backward": (ex.check_step_backward, learner_step_backward),
    "bptt": (ex.check_bptt, learner_bptt),
    "clip_by_norm": (ex.check_clip_by_norm, learner_clip_by_norm),
}
ALL_MISTAKES = [(kind, m) for kind, ms in ex.MISTAKES.items() for m in ms]


# ----------------------------------------------------------------------------------------------
# Right answers pass; every classic mistake is named
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", LEARNERS)
def test_the_learner_style_reference_passes_with_one_line(kind, capsys):
    check, learner = LEARNERS[kind]
    assert check(learner(None)) is None
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "right on all" in out[0], out
    for name in {"step_forward": ["h_t", "y_hat_t"], "softmax_cross_entropy": ["loss", "dlogits"],
                 "step_backward": ["dx_t", "dh_prev", "dW_hh"], "bptt": ["loss", "dW_hh", "db_y"],
                 "clip_by_norm": ["norm", "dW_hx"]}[kind]:
        assert f" {name} " in out[0], (name, out[0])


@pytest.mark.parametrize("kind,mistake", ALL_MISTAKES, ids=[f"{k}-{m.key}" for k, m in ALL_MISTAKES])
def test_every_classic_mistake_is_named_with_its_fix(kind, mistake):
    check, learner = LEARNERS[kind]
    msg = failure(check, learner(mistake.key))
    assert "This is a classic mistake" in msg, msg
    assert mistake.what in msg and mistake.fix in msg, msg
    others = [m.key for m in ex.MISTAKES[kind] if m is not mistake and m.what in msg]
    assert not others, f"{mistake.key}: the message also names {others}:\n{msg}"


def test_the_stuck_learner_with_a_large_error_in_dW_hh_learns_the_mistake_and_the_line():
    msg = failure(ex.check_bptt, learner_bptt("fprime_at_h_prev"))
    first, second = msg.splitlines()[:2]
    assert re.match(r"check_bptt: dW_hx, dW_hh, db_h are wrong: relative error [\d.]+, [\d.]+, [\d.]+ against "
                    r"rnnlib\.bptt", first), first
    assert second == "Right: loss, dW_yh, db_y (relative error below 1e-06).", second
    assert "source note's slip" in msg
    assert "Fix (notebook 03, section 3): da = dh * (1 - h[t]**2)" in msg


def test_two_mistakes_in_different_outputs_are_both_named():
    def two_mistakes(dlogits_t, dh_next, cache):
        dx, dh_prev, g = learner_step_backward("W_hh_not_transposed")(dlogits_t, dh_next, cache)
        B = len(dlogits_t)
        return dx, dh_prev, g._replace(b_h=g.b_h / B, b_y=g.b_y / B)  # and biases averaged over the batch
    msg = failure(ex.check_step_backward, two_mistakes)
    assert "Some of your outputs are those of classic mistakes" in msg, msg
    by_key = {m.key: m for m in ex.STEP_BACKWARD_MISTAKES}
    assert by_key["W_hh_not_transposed"].what in msg and by_key["bias_mean"].what in msg, msg


def test_an_output_matching_several_mistaken_formulas_names_each_of_them():
    # db_h alone divided by B: averaging the biases over the batch, dividing the weight gradients by B
    # again and dividing every output by B again all give these db_h numbers; db_y is right.
    def only_db_h_over_B(dlogits_t, dh_next, cache):
        dx, dh_prev, g = learner_step_backward(None)(dlogits_t, dh_next, cache)
        return dx, dh_prev, g._replace(b_h=g.b_h / len(dlogits_t))
    msg = failure(ex.check_step_backward, only_db_h_over_B)
    assert msg.startswith("check_step_backward: db_h is wrong"), msg
    assert "- db_h:\n  Your numbers are those of 3 classic mistakes" in msg, msg
    by_key = {m.key: m for m in ex.STEP_BACKWARD_MISTAKES}
    for key in ("bias_mean", "grads_over_B", "all_over_B"):
        assert by_key[key].what in msg, (key, msg)


def test_when_two_mistaken_formulas_give_all_the_learners_numbers_both_are_named():
    cases = [{"label": "case 1", "x": np.arange(1.0, 4.0)}]
    twice = (ex.Mistake("a", "the factor 2 applied twice.", "y = 2 * x", lambda c: {"y": 4 * c["x"]}),
             ex.Mistake("b", "the 2 squared.", "y = 2 * x", lambda c: {"y": c["x"] * 2 ** 2}))
    with pytest.raises(AssertionError) as info:
        ex._run("check_demo", lambda x: 4 * x, cases, ("y",),
                lambda fn, name, c, ref: {"y": np.asarray(fn(c["x"]), dtype=float)},
                lambda c: {"y": 2 * c["x"]}, twice, "generic hint")
    msg = str(info.value)
    assert "Your numbers are those of 2 classic mistakes, which give the same numbers on these cases" in msg, msg
    assert "(1) the factor 2 applied twice." in msg and "(2) the 2 squared." in msg, msg


@pytest.mark.parametrize("kind", LEARNERS)
def test_an_unknown_mistake_gets_the_generic_message(kind):
    check, learner = LEARNERS[kind]
    right = learner(None)

    def off(*args):
        out = right(*args)
        if kind == "step_forward":
            return 0.9 * out[0], out[1]
        if kind == "clip_by_norm":
            return RNNParams(*(0.7 * g for g in out[0])), out[1]
        if kind == "step_backward":
            return out[0], 1.1 * out[1], out[2]
        if kind == "bptt":
            return out[0], out[1]._replace(W_hh=out[1].W_hh + 0.3)
        return out[0], out[1] * 1.2
    msg = failure(check, off)
    assert "none of the classic mistakes this checker knows" in msg, msg
    assert "wrong: relative error" in msg and "Right: " in msg, msg


# ----------------------------------------------------------------------------------------------
# Functions that break: clear messages
# ----------------------------------------------------------------------------------------------

ARG_COUNTS = {"step_forward": 3, "softmax_cross_entropy": 2, "step_backward": 3, "bptt": 3, "clip_by_norm": 2}


@pytest.mark.parametrize("kind", LEARNERS)
def test_a_function_that_raises_gets_the_exception_type_and_text(kind):
    def boom(*args):
        return 1 / 0
    msg = failure(LEARNERS[kind][0], boom)
    assert "boom raised ZeroDivisionError: division by zero" in msg and "line" in msg and "case 1" in msg, msg


def test_a_shape_error_in_a_product_gets_the_transpose_hint():
    def no_T(x_t, h_prev, params):
        return np.tanh(x_t @ params.W_hx + h_prev @ params.W_hh.T + params.b_h), None
    msg = failure(ex.check_step_forward, no_T)
    assert msg.startswith("check_step_forward: no_T raised ValueError: matmul") and "x @ W.T" in msg, msg


@pytest.mark.parametrize("kind", LEARNERS)
def test_a_function_that_returns_none_is_told_so(kind):
    msg = failure(LEARNERS[kind][0], lambda *args: None)
    assert "returned None" in msg and "return" in msg, msg


@pytest.mark.parametrize("kind", LEARNERS)
def test_a_wrong_shape_says_expected_and_got(kind):
    check, learner = LEARNERS[kind]
    right = learner(None)

    def wrong_shape(*args):
        out = list(right(*args))
        if kind in ("step_forward", "softmax_cross_entropy"):
            out[-1] = out[-1][:, :-1]  # one class short
        elif kind == "step_backward":
            out[2] = out[2]._replace(W_hh=out[2].W_hh[:-1])
        else:
            i = 1 if kind == "bptt" else 0
            out[i] = out[i]._replace(W_yh=out[i].W_yh.T)  # transposed
        return tuple(out)
    msg = failure(check, wrong_shape)
    assert re.search(r"of shape \(\d+(, \d+)*\) on case \d .*; expected shape \(\d+(, \d+)*\)", msg), msg
    if kind in ("bptt", "clip_by_norm"):
        assert "That is the transpose" in msg, msg


@pytest.mark.parametrize("kind", LEARNERS)
def test_wrong_types_are_told_what_was_expected(kind):
    msg = failure(LEARNERS[kind][0], lambda *args: "hello")
    assert "returned a str" in msg and "expected" in msg, msg


def test_a_scalar_loss_returned_as_an_array_and_a_dict_of_gradients_are_explained():
    right = learner_bptt(None)
    msg = failure(ex.check_bptt, lambda *a: (np.array([right(*a)[0]]), right(*a)[1]))
    assert "A loss is one number, the mean over the batch" in msg and "return float(loss)" in msg, msg
    msg = failure(ex.check_bptt, lambda *a: (right(*a)[0], right(*a)[1]._asdict()))
    assert "returned a dict for the gradients" in msg, msg
    msg = failure(ex.check_clip_by_norm, lambda g, theta: learner_clip_by_norm(None)(g, theta)[0])
    assert "returned only the clipped gradients" in msg and "return clipped, norm" in msg, msg


@pytest.mark.parametrize("kind", LEARNERS)
def test_nan_is_reported_with_where_it_appeared(kind):
    check, learner = LEARNERS[kind]
    right = learner(None)

    def with_nan(*args):
        out = list(right(*args))
        out[0] = np.full_like(np.asarray(out[0], dtype=float), np.nan) if kind != "clip_by_norm" else \
            RNNParams(*(np.full_like(g, np.nan) for g in out[0]))
        return tuple(out)
    msg = failure(check, with_nan)
    assert "returned NaN in" in msg and "case 1" in msg and "where rnnlib's" in msg, msg


@pytest.mark.parametrize("kind", LEARNERS)
def test_changing_an_input_in_place_is_reported(kind):
    check, learner = LEARNERS[kind]
    right = learner(None)

    def in_place(*args):
        out = right(*args)
        first = args[0]
        (first[0] if isinstance(first, tuple) else first)[...] *= 2.0  # params.W_hx, grads.W_hx, or an array
        return out
    msg = failure(check, in_place)
    assert "changed its input" in msg and "in place" in msg, msg


@pytest.mark.parametrize("kind", LEARNERS)
def test_the_skeleton_is_not_attempted_yet(kind, capsys):
    def skeleton(*args):
        raise NotImplementedError
    assert LEARNERS[kind][0](skeleton) is None
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "not attempted yet" in out, out


def test_not_a_function_is_rejected_clearly():
    with pytest.raises(ValueError, match="fn: expected your function for check_bptt, got None"):
        ex.check_bptt(None)


# ----------------------------------------------------------------------------------------------
# The cases separate the mistakes
# ----------------------------------------------------------------------------------------------


def _cases_and_reference(kind):
    """The checker's own cases and rnnlib's outputs on them, keyed like the mistakes' outputs."""
    G = ex.GRAD_NAMES
    if kind == "step_forward":
        cases = ex._forward_cases()
        refs = [dict(zip(("h_t", "y_hat_t"), rnnlib.step_forward(c["x_t"], c["h_prev"], c["params"])[:2]))
                for c in cases]
    elif kind == "softmax_cross_entropy":
        cases = ex._ce_cases()
        refs = [dict(zip(("loss", "dlogits"), rnnlib.softmax_cross_entropy(c["logits"], c["targets"])))
                for c in cases]
    elif kind == "step_backward":
        cases = ex._step_backward_cases()
        refs = []
        for c in cases:
            dx, dh_prev, g = rnnlib.step_backward(c["dlogits_t"], c["dh_next"], c["cache"])
            refs.append({"dx_t": dx, "dh_prev": dh_prev, **dict(zip(G, g))})
    elif kind == "bptt":
        cases = ex._bptt_cases()
        refs = []
        for c in cases:
            loss, g = rnnlib.bptt(c["params"], c["xs"], c["targets"], c["h0"])
            refs.append({"loss": loss, **dict(zip(G, g))})
    else:
        cases = ex._clip_cases()
        refs = []
        for c in cases:
            g, norm = rnnlib.remedies.clip_by_norm(c["grads"], c["theta"])
            refs.append({"norm": norm, **dict(zip(G, g))})
    return cases, refs


def _equal(a: dict, b: dict) -> bool:
    for o in a:
        x, y = np.asarray(a[o], dtype=float), np.asarray(b[o], dtype=float)
        if x.shape != y.shape or not np.array_equal(np.isfinite(x), np.isfinite(y)):
            return False
        ok = np.isfinite(x)
        if ok.any() and rel_error(x[ok], y[ok]) >= ex.TOL:
            return False
    return True


@pytest.mark.parametrize("kind", LEARNERS)
def test_no_two_mistakes_give_the_same_numbers_and_none_gives_the_right_ones(kind):
    cases, refs = _cases_and_reference(kind)
    numbers = {m.key: [m.outputs(c) for c in cases] for m in ex.MISTAKES[kind]}
    for key, outs in numbers.items():
        assert not all(_equal(o, r) for o, r in zip(outs, refs)), f"{kind}: {key} gives the right numbers"
    for a, b in itertools.combinations(numbers, 2):
        assert not all(_equal(x, y) for x, y in zip(numbers[a], numbers[b])), f"{kind}: {a} and {b} coincide"


def test_the_cases_contain_what_separates_the_mistakes():
    for c in ex._forward_cases() + ex._bptt_cases():
        W = c["params"].W_hh
        assert not np.allclose(W, W.T), "a symmetric W_hh would hide the missing transpose"
    assert {c["cache"].f.name for c in ex._step_backward_cases()} == {"tanh", "sigmoid", "relu", "linear"}
    assert {c["dlogits_t"].shape[0] for c in ex._step_backward_cases()} >= {1, 3}
    bptt_cases = ex._bptt_cases()
    assert min(c["xs"].shape[0] for c in bptt_cases) >= 5
    assert any(c["h0"] is None for c in bptt_cases) and any(c["h0"] is not None for c in bptt_cases)
    assert all(c["xs"].shape[0] != c["xs"].shape[1] for c in bptt_cases), "T = B would confuse 1/T with 1/B"
    big = ex._ce_cases()[-1]
    assert np.abs(big["logits"]).max() > 1000 and not np.any(big["logits"].argmax(axis=1) == big["targets"])
    big_forward = ex._forward_cases()[-2]  # case 5; case 6 has close logits near 1000
    z = np.tanh(big_forward["x_t"] @ big_forward["params"].W_hx.T + big_forward["h_prev"] @ big_forward["params"].W_hh.T
                + big_forward["params"].b_h) @ big_forward["params"].W_yh.T + big_forward["params"].b_y
    assert z.max() > 710, "the large-logit case must overflow a naive softmax"
    clip = [(c["theta"], [np.linalg.norm(a) for a in c["grads"]], max(np.abs(a).max() for a in c["grads"]))
            for c in ex._clip_cases()]
    norm = [np.sqrt(sum(n ** 2 for n in norms)) for _, norms, _ in clip]
    (t1, n1, _), (t2, _, _), (t3, n3, _), (t4, _, e4) = clip[:4]
    assert max(n1) > 5 * sorted(n1)[-2] and norm[0] > t1, "case 1: one array dominates a gradient to be clipped"
    assert norm[1] < t2, "case 2: a gradient shorter than theta"
    assert max(n3) < t3 < norm[2], "case 3: every array shorter than theta, the whole longer"
    assert e4 > t4 and norm[3] > t4, "case 4: theta below the largest entries"


def test_mistaken_step_backward_formulas_differ_from_finite_differences():
    """The reference the mistakes are compared with is itself right: step_backward vs central differences."""
    for c in ex._step_backward_cases():
        num = ex._step_backward_fd(c)
        dx, dh_prev, g = rnnlib.step_backward(c["dlogits_t"], c["dh_next"], c["cache"])
        got = {"dx_t": dx, "dh_prev": dh_prev, **dict(zip(ex.GRAD_NAMES, g))}
        assert max(rel_error(got[o], num[o]) for o in ex.STEP_OUTPUTS) < 1e-6


# ----------------------------------------------------------------------------------------------
# The notebooks: sections in place, skeletons say "not attempted yet", solutions pass
# ----------------------------------------------------------------------------------------------


def _cells(name):
    return json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))["cells"]


def _src(cell):
    return "".join(cell["source"])


def solution_code(name) -> str:
    """The python code of every <details> block of the notebook that defines one of its my_* functions."""
    blocks = []
    for cell in _cells(name):
        text = _src(cell)
        if cell["cell_type"] == "markdown" and "<details>" in text:
            blocks += [b for b in re.findall(r"```python\n(.*?)```", text, re.S)
                       if re.search(r"^def my_\w+\(", b, re.M)]
    return "\n".join(blocks)


@pytest.mark.parametrize("name", BUILD_NOTEBOOKS)
def test_notebook_solutions_pass_their_checkers(name, capsys):
    code = solution_code(name)
    namespace = {"np": np, "rnnlib": rnnlib}
    exec(compile(code, f"{name} solutions", "exec"), namespace)
    for fn, check in BUILD_NOTEBOOKS[name].items():
        assert fn in namespace, f"{name}: no solution defines {fn}"
        getattr(ex, check)(namespace[fn])
        out = capsys.readouterr().out
        assert "right on all" in out, out


@pytest.mark.parametrize("name", BUILD_NOTEBOOKS)
def test_notebook_build_section_sits_before_the_summary_with_skeleton_and_check(name, capsys):
    cells = _cells(name)
    def starting(text):
        return [i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and _src(c).startswith(text)]
    heads, summary = starting("## Build it yourself"), starting("## Summary")
    assert len(heads) == 1 and len(summary) == 1 and heads[0] < summary[0], (heads, summary)
    section = cells[heads[0]:summary[0]]
    for fn, check in BUILD_NOTEBOOKS[name].items():
        skeleton = [c for c in section if c["cell_type"] == "code" and _src(c).startswith(f"def {fn}(")]
        assert len(skeleton) == 1 and "raise NotImplementedError" in _src(skeleton[0]), f"{name}: skeleton of {fn}"
        checks = [c for c in section if c["cell_type"] == "code" and f"rnnlib.exercises.{check}({fn})" in _src(c)]
        assert len(checks) == 1, f"{name}: check cell of {fn}"
        stored = "".join("".join(o.get("text", "")) for o in checks[0]["outputs"])
        assert stored == f"{check}: not attempted yet ({fn} still raises NotImplementedError: replace that line " \
                         "with your code)\n", stored
        # the skeleton, executed, is what the checker calls not attempted
        namespace = {"np": np, "rnnlib": rnnlib}
        exec(_src(skeleton[0]), namespace)
        assert getattr(ex, check)(namespace[fn]) is None


def test_a_forgotten_h0_default_gets_the_none_hint():
    def uses_h0_as_given(params, xs, targets, h0=None):
        return learner_bptt(None)(params, xs, targets, h0) if h0 is not None else h0 @ params.W_hh
    msg = failure(ex.check_bptt, uses_h0_as_given)
    assert "raised" in msg and "h0=None, which means a start from zeros" in msg, msg


def test_clipping_failures_report_the_angle_to_the_original_gradient():
    msg = failure(ex.check_clip_by_norm, learner_clip_by_norm("elementwise"))
    angle = float(re.search(r"Direction: your clipped gradient is up to ([\d.]+) degrees away from g", msg).group(1))
    assert angle > 1, msg
    msg = failure(ex.check_clip_by_norm, learner_clip_by_norm("always"))
    assert "up to 0 degrees away from g" in msg, msg  # rescaled, wrongly, but not turned


def test_not_implemented_after_the_first_case_is_an_error_not_a_skeleton():
    right = learner_step_backward(None)

    def tanh_only(dlogits_t, dh_next, cache):
        if cache.f.name != "tanh":
            raise NotImplementedError("only tanh")
        return right(dlogits_t, dh_next, cache)
    msg = failure(ex.check_step_backward, tanh_only)
    assert "tanh_only raised NotImplementedError on case 3" in msg and "activation sigmoid" in msg, msg


def test_the_traceback_of_a_failure_ends_in_the_public_checker():
    with pytest.raises(AssertionError) as info:
        ex.check_bptt(learner_bptt("dh_next_forgotten"))
    frames = [entry.name for entry in info.traceback]
    assert frames[-1] == "wrapper" and "_run" not in frames, frames


# ----------------------------------------------------------------------------------------------
# A stuck learner's attempts (issue 9 review): right ones written differently pass; wrong ones that are
# none of the listed mistakes get a message that points at the actual slip, and none blames another
# ----------------------------------------------------------------------------------------------


def _softmax_rows(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def right_forward_einsum(x_t, h_prev, params):
    a = np.einsum("hx,bx->bh", params.W_hx, x_t) + np.einsum("hk,bk->bh", params.W_hh, h_prev) + params.b_h
    h = np.tanh(a)
    return h, _softmax_rows(np.einsum("yh,bh->by", params.W_yh, h) + params.b_y)


def right_forward_column_loop(x_t, h_prev, params):
    hs, ys = [], []
    for x, hp in zip(x_t, h_prev):  # one example at a time, column vectors as in the equations
        h = np.tanh(params.W_hx @ x + params.W_hh @ hp + params.b_h)
        z = params.W_yh @ h + params.b_y
        lse = z.max() + np.log(np.exp(z - z.max()).sum())  # softmax as exp(z - logsumexp(z))
        hs.append(h)
        ys.append(np.exp(z - lse))
    return np.array(hs), np.array(ys)


def right_ce_onehot_matrix(logits, targets):
    B, Y = logits.shape
    onehot = np.eye(Y)[targets]
    m = logits.max(axis=1, keepdims=True)
    log_p = logits - m - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))
    return -(onehot * log_p).sum() / B, (np.exp(log_p) - onehot) / B


def right_step_backward_outer_products(dlogits_t, dh_next, cache):
    x, hp, a, h, p, f = cache
    G = [np.zeros_like(w) for w in p]
    dxs, dhs = [], []
    for b in range(len(x)):
        dab = (p.W_yh.T @ dlogits_t[b] + dh_next[b]) * f.derivative(a[b], h[b])
        for i, g in enumerate((np.outer(dab, x[b]), np.outer(dab, hp[b]), dab,
                               np.outer(dlogits_t[b], h[b]), dlogits_t[b])):
            G[i] += g
        dxs.append(p.W_hx.T @ dab)
        dhs.append(p.W_hh.T @ dab)
    return np.array(dxs), np.array(dhs), G  # a plain list of the five gradients is accepted


def right_clip_strict_greater(grads, theta):
    norm = np.linalg.norm(np.concatenate([g.ravel() for g in grads]))
    scale = theta / norm if norm > theta else 1.0  # > or >=: at norm == theta the scale is 1 either way
    return [g * scale for g in grads], norm


@pytest.mark.parametrize("check,fn", [
    (ex.check_step_forward, right_forward_einsum), (ex.check_step_forward, right_forward_column_loop),
    (ex.check_softmax_cross_entropy, right_ce_onehot_matrix),
    (ex.check_step_backward, right_step_backward_outer_products), (ex.check_clip_by_norm, right_clip_strict_greater),
], ids=["forward-einsum", "forward-column-loop", "ce-onehot", "step-backward-outer", "clip-greater"])
def test_right_implementations_written_differently_pass(check, fn, capsys):
    assert check(fn) is None
    assert "right on all" in capsys.readouterr().out


def test_results_in_the_wrong_order_are_recognised():
    def swapped_forward(x_t, h_prev, params):
        h, y = right_forward_einsum(x_t, h_prev, params)
        return y, h
    msg = failure(ex.check_step_forward, swapped_forward)
    assert "That is the shape of y_hat_t. Are the results in the wrong order? Return h_t, y_hat_t." in msg, msg

    msg = failure(ex.check_bptt, lambda *a: learner_bptt(None)(*a)[::-1])
    assert "returned an RNNParams for loss" in msg and "wrong order? Return loss, grads." in msg, msg

    def grads_misordered(dlogits_t, dh_next, cache):
        dx, dh_prev, g = learner_step_backward(None)(dlogits_t, dh_next, cache)
        return dx, dh_prev, (g.W_hh, g.W_hx, g.b_h, g.W_yh, g.b_y)
    msg = failure(ex.check_step_backward, grads_misordered)
    assert "returned dW_hx of shape (5, 5)" in msg and "That is the shape of dW_hh" in msg, msg
    assert "dW_hx, dW_hh, db_h, dW_yh, db_y" in msg, msg


def test_a_transposed_state_gets_the_row_convention_hint_not_the_gradient_one():
    def column_code(x_t, h_prev, params):
        h = np.tanh(params.W_hx @ x_t.T + params.W_hh @ h_prev.T + params.b_h[:, None])
        return h, None
    msg = failure(ex.check_step_forward, column_code)
    assert "returned h_t of shape (5, 1)" in msg and "That is the transpose: the code keeps one example per row" in msg
    assert "gradient" not in msg, msg


def test_a_bias_gradient_summed_over_the_wrong_axis_is_told_which_axis():
    def db_h_axis1(dlogits_t, dh_next, cache):
        dx, dh_prev, g = learner_step_backward(None)(dlogits_t, dh_next, cache)
        x_t, h_prev, a_t, h_t, params, f = cache
        da_t = (dlogits_t @ params.W_yh + dh_next) * f.derivative(a_t, h_t)
        return dx, dh_prev, g._replace(b_h=da_t.sum(axis=1))
    msg = failure(ex.check_step_backward, db_h_axis1)
    assert "returned db_h of shape (1,)" in msg and ".sum(axis=0), not over axis 1" in msg, msg


def test_exceptions_from_integer_arrays_ragged_norms_and_one_hot_indexing_get_their_own_hint():
    def int_onehot(logits, targets):
        B, Y = logits.shape
        onehot = np.zeros((B, Y), dtype=int)
        onehot[np.arange(B), targets] = 1
        onehot -= right_ce_onehot_matrix(logits, targets)[1]  # UFuncTypeError: float into int
        return 0.0, onehot
    msg = failure(ex.check_softmax_cross_entropy, int_onehot)
    assert "raised UFuncTypeError" in msg and "an integer array cannot hold the fractions" in msg, msg

    def ragged_norm(grads, theta):
        return grads, np.linalg.norm(grads)
    msg = failure(ex.check_clip_by_norm, ragged_norm)
    assert "raised ValueError" in msg and "np.sqrt(sum(np.sum(g ** 2) for g in grads))" in msg, msg

    def rows_as_onehot(logits, targets):
        onehot = np.zeros_like(logits)
        onehot[targets] = 1  # sets whole rows, or runs past the last row
        return 0.0, onehot
    msg = failure(ex.check_softmax_cross_entropy, rows_as_onehot)
    assert "raised IndexError" in msg and "p[np.arange(B), targets]" in msg, msg
    assert "compare the names and shapes" not in msg, msg


def test_an_output_left_at_zeros_is_told_so_without_the_generic_advice():
    def no_db_y(*args):
        loss, g = learner_bptt(None)(*args)
        return loss, g._replace(b_y=np.zeros_like(g.b_y))
    msg = failure(ex.check_bptt, no_db_y)
    assert "db_y is all zeros on every case: never computed, or never added to" in msg, msg
    assert "none of the classic mistakes" not in msg, msg
    assert msg.splitlines()[1].startswith("Right: loss, dW_hx, dW_hh, db_h, dW_yh"), msg


def test_a_loss_capped_by_log_eps_is_diagnosed_from_the_large_logit_case():
    def log_eps(logits, targets):
        B = len(targets)
        p = _softmax_rows(logits)
        loss = -np.mean(np.log(p[np.arange(B), targets] + 1e-12))
        d = p.copy()
        d[np.arange(B), targets] -= 1
        return loss, d / B
    msg = failure(ex.check_softmax_cross_entropy, log_eps)
    assert msg.startswith("check_softmax_cross_entropy: loss is wrong") and "Right: dlogits" in msg, msg
    assert "wrong only with logits of about 1e4" in msg and "log(p + eps)" in msg, msg
    assert "none of the classic mistakes" not in msg, msg


def test_half_of_a_batch_mean_mistake_does_not_blame_the_right_half():
    def loss_summed_only(logits, targets):
        loss, d = right_ce_onehot_matrix(logits, targets)
        return loss * len(targets), d  # dlogits is right
    msg = failure(ex.check_softmax_cross_entropy, loss_summed_only)
    assert "Right: dlogits" in msg and "- loss:" in msg, msg
    assert "dlogits is not" not in msg and "the loss and dlogits" not in msg, msg


def test_a_clipping_with_the_right_direction_is_told_its_length_is_wrong():
    msg = failure(ex.check_clip_by_norm, learner_clip_by_norm("sum_of_norms"))
    assert "up to 0 degrees away from g, as norm clipping keeps it: its length is what is wrong" in msg, msg


def test_errors_at_float32_level_are_blamed_on_precision_not_on_an_unknown_mistake():
    def eps_in_softmax(x_t, h_prev, params):
        h = np.tanh(x_t @ params.W_hx.T + h_prev @ params.W_hh.T + params.b_h)
        z = h @ params.W_yh.T + params.b_y
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return h, e / (e.sum(axis=1, keepdims=True) + 1e-5)
    msg = failure(ex.check_step_forward, eps_in_softmax)
    assert msg.startswith("check_step_forward: y_hat_t is wrong") and "float32 arithmetic" in msg, msg
    assert "none of the classic mistakes" not in msg, msg


def test_a_softmax_that_clips_the_logits_is_rejected_and_the_shifted_one_accepted():
    def step(softmax_of):
        def my_step_forward(x_t, h_prev, params):
            h = np.tanh(x_t @ params.W_hx.T + h_prev @ params.W_hh.T + params.b_h)
            return h, softmax_of(h @ params.W_yh.T + params.b_y)
        return my_step_forward

    def clipped(z):  # keeps exp finite, but changes the differences between large logits
        e = np.exp(np.clip(z, -500, 500))
        return e / e.sum(axis=1, keepdims=True)

    def shifted(z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    msg = failure(ex.check_step_forward, step(clipped))
    assert msg.startswith("check_step_forward: y_hat_t is wrong") and "logits near 1000, close together" in msg, msg
    ex.check_step_forward(step(shifted))


def test_an_off_by_one_time_index_and_a_per_example_loss_get_their_hints():
    def steps_from_one(params, xs, targets, h0=None):
        T = xs.shape[0]
        h = np.zeros((xs.shape[1], params.n_hidden)) if h0 is None else h0
        for t in range(1, T + 1):
            h = np.tanh(xs[t] @ params.W_hx.T + h @ params.W_hh.T + params.b_h)  # xs[T] does not exist
        return 0.0, params.zeros_like()
    msg = failure(ex.check_bptt, steps_from_one)
    assert "raised IndexError" in msg and "reads xs[t - 1] and targets[t - 1]" in msg, msg

    def per_example_loss(*args):
        loss, g = learner_bptt(None)(*args)
        B = args[1].shape[1]
        return np.full(B, loss), g
    msg = failure(ex.check_bptt, per_example_loss)
    assert "the mean over the batch (.mean(), not one value per example): return float(loss)" in msg, msg


def test_outputs_explained_by_the_same_mistake_share_one_explanation_that_blames_only_them():
    def grads_summed_over_batch(params, xs, targets, h0=None):
        loss, g = learner_bptt(None)(params, xs, targets, h0)
        return loss, RNNParams(*(a * xs.shape[1] for a in g))  # the loss is right
    msg = failure(ex.check_bptt, grads_summed_over_batch)
    by_key = {m.key: m for m in ex.BPTT_MISTAKES}
    assert "- dW_hx, dW_hh, db_h, dW_yh, db_y:\n  This is a classic mistake" in msg, msg
    assert msg.count(by_key["batch_sum"].what) == 1 and "Right: loss" in msg, msg
    assert "the loss and gradients" not in msg, msg


def test_nan_on_one_case_does_not_hide_wrong_numbers_on_the_others():
    def shift_by_column_max(logits, targets):  # wrong on every case, and inf with logits of 1e4
        B = len(targets)
        z = logits - logits.max(axis=0)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        d = np.exp(log_p)
        d[np.arange(B), targets] -= 1
        return -log_p[np.arange(B), targets].mean(), d / B
    msg = failure(ex.check_softmax_cross_entropy, shift_by_column_max)
    assert msg.startswith("check_softmax_cross_entropy: loss, dlogits are wrong") and "case 1" in msg, msg
    assert "worst of the 4 cases with finite results" in msg, msg
    assert "\nAlso: shift_by_column_max returned inf in loss on case 5" in msg, msg
    what = {m.key: m for m in ex.CE_MISTAKES}["shift_axis0"].what
    assert msg.count(what) == 1, msg  # named once, not again under "Also"


def test_an_in_place_change_inside_the_cache_names_the_field():
    def squares_h_in_place(dlogits_t, dh_next, cache):
        x_t, h_prev, a_t, h_t, params, f = cache
        h_t **= 2  # meant as h_t**2 for tanh', but it overwrites the caller's cache
        return learner_step_backward(None)(dlogits_t, dh_next, cache)
    msg = failure(ex.check_step_backward, squares_h_in_place)
    assert "changed its input `cache.h_t` in place on case 1" in msg, msg
