"""rnnlib against PyTorch autograd: forward states, loss, every gradient, dh_0 and Jacobians.

An oracle written independently of rnnlib's backward code: the recurrence in torch, derivatives
by autograd (reverse mode for the gradients, torch.autograd.functional.jacobian for dh_t/dh_k).
Optional: PyTorch is not in requirements.txt (`.venv/bin/pip install torch==2.13.0` to run it).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="optional oracle: PyTorch is not installed "
                                             "(.venv/bin/pip install torch==2.13.0 to run these tests)")

import rnnlib  # noqa: E402

TORCH_F = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu, "linear": lambda a: a}


def _problem(activation, T=7, B=3, X=4, H=5, Y=6, seed=0):
    params = rnnlib.init_params(X, H, Y, seed=seed, scale=1.3)
    params = params._replace(b_h=np.linspace(-0.3, 0.4, H), b_y=np.linspace(0.2, -0.1, Y))
    rng = np.random.default_rng(seed + 1)
    xs = rng.standard_normal((T, B, X))
    targets = rng.integers(0, Y, size=(T, B))
    h0 = 0.5 * rng.standard_normal((B, H))
    return params, xs, targets, h0


def _torch_run(params, xs, h0, activation, start=1):
    """h_1..h_T and logits_1..logits_T in torch, from h_{start-1} = h0 (row t - 1 = step t)."""
    f = TORCH_F[activation]
    W_hx, W_hh, b_h, W_yh, b_y = params
    h, hs = h0, []
    for t in range(start, xs.shape[0] + 1):
        h = f(xs[t - 1] @ W_hx.T + h @ W_hh.T + b_h)
        hs.append(h)
    H = torch.stack(hs)
    return H, H @ W_yh.T + b_y


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "linear"])
def test_forward_loss_gradients_and_dh0_match_torch_autograd(activation):
    params, xs, targets, h0 = _problem(activation)
    T, B, _ = xs.shape
    tp = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in params]
    th0 = torch.tensor(h0, requires_grad=True)
    hs, logits = _torch_run(tp, torch.tensor(xs), th0, activation)
    loss = torch.nn.functional.cross_entropy(logits.reshape(T * B, -1), torch.tensor(targets).reshape(-1),
                                             reduction="sum") / B  # L = sum_t mean_b L_t
    loss.backward()
    expected_loss = loss.detach().item()

    trace = rnnlib.forward(params, xs, h0, activation)
    np.testing.assert_allclose(trace.h[1:], hs.detach().numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(trace.logits[1:], logits.detach().numpy(), rtol=1e-12, atol=1e-13)
    vectorized = rnnlib.bptt(params, xs, targets, h0, activation, return_dh0=True)
    step_loop = rnnlib.bptt_steps(params, xs, targets, h0, activation)
    for got_loss, grads, dh0 in (vectorized, step_loop):
        assert got_loss == pytest.approx(expected_loss, rel=1e-12)
        for name, g, p in zip(rnnlib.RNNParams._fields, grads, tp):
            np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(dh0, th0.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg="dh0")


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
@pytest.mark.parametrize("t, k", [(7, 0), (5, 2), (4, 3), (3, 3)])
def test_jacobian_matches_torch_autograd(activation, t, k):
    params, xs, _, h0 = _problem(activation)
    trace = rnnlib.forward(params, xs, h0, activation)
    tp = [torch.tensor(p) for p in params]
    txs = torch.tensor(xs[:t])
    for b in range(xs.shape[1]):
        def h_t_of_h_k(h_k, b=b):  # steps k+1..t for example b, from h_k
            if t == k:
                return h_k
            hs, _ = _torch_run(tp, txs[:, b : b + 1], h_k[None], activation, start=k + 1)
            return hs[-1, 0]
        J = torch.autograd.functional.jacobian(h_t_of_h_k, torch.tensor(trace.h[k, b]))
        np.testing.assert_allclose(rnnlib.jacobian(params, trace, t, k)[b], J.numpy(), rtol=1e-10, atol=1e-13)
        if t == k + 1:
            np.testing.assert_allclose(rnnlib.step_jacobian(params, trace, t)[b], J.numpy(), rtol=1e-12, atol=1e-14)
