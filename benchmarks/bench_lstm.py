"""Time rnnlib.lstm's BPTT against its step-function loop and torch.nn.LSTM (notebook 08).

Prints a table of median times and ratios: forward + backward + loss, float64,
rnnlib.lstm.bptt vs rnnlib.lstm.bptt_steps and, when PyTorch is installed, torch.nn.LSTM +
nn.Linear + cross-entropy with .backward(), the same parameters copied in (the losses are checked
equal first). The goal of issue 10 is rnnlib <= 1.2x torch at B = 32, T = 100, H = 128.
The two libraries are timed in alternation, call after call, so that a load that comes and
goes on a shared machine hits both alike; the ratio is the median of the per-pair ratios.
Then a split of rnnlib's time into forward and backward at the goal's size.

Usage: python benchmarks/bench_lstm.py [--threads N] [--quick]
Both libraries run with the same number of BLAS / intra-op threads (default 1). PyTorch is
optional. Speed is only measured here, never asserted.
"""

from __future__ import annotations

import statistics
import time

from _threads import parse_args  # benchmarks/_threads.py, next to this script

args = parse_args(__doc__)  # before numpy: pins the BLAS threads

import numpy as np  # noqa: E402

from rnnlib import lstm  # noqa: E402

try:
    import torch
except ImportError:  # optional
    torch = None

SIZES = [(1, 100, 16, 16), (32, 20, 7, 16), (32, 100, 128, 128), (64, 100, 128, 256)]  # (B, T, X=Y, H)
GOAL = (32, 100, 128, 128)
REPS = 7 if args.quick else 21


def problem(B, T, X, H):
    rng = np.random.default_rng(0)
    p = lstm.init_lstm_params(X, H, X, seed=0)
    xs = rng.standard_normal((T, B, X))
    targets = rng.integers(0, X, size=(T, B))
    return p, xs, targets


def torch_step(p, xs, targets):
    """torch.nn.LSTM + nn.Linear + cross-entropy (sum over time, mean over batch), backward."""
    X, H, Y = p.n_in, p.n_hidden, p.n_out
    m = torch.nn.LSTM(X, H, dtype=torch.float64)
    out = torch.nn.Linear(H, Y, dtype=torch.float64)
    with torch.no_grad():  # the same parameters (one bias suffices; bias_hh stays 0)
        m.weight_ih_l0.copy_(torch.from_numpy(p.W_x))
        m.weight_hh_l0.copy_(torch.from_numpy(p.W_h))
        m.bias_ih_l0.copy_(torch.from_numpy(p.b))
        m.bias_hh_l0.zero_()
        out.weight.copy_(torch.from_numpy(p.W_yh))
        out.bias.copy_(torch.from_numpy(p.b_y))
    x = torch.from_numpy(xs)
    y = torch.from_numpy(targets).reshape(-1)
    T, B = targets.shape

    def step():
        m.zero_grad(set_to_none=True)
        out.zero_grad(set_to_none=True)
        hs, _ = m(x)
        loss = torch.nn.functional.cross_entropy(out(hs).reshape(T * B, Y), y, reduction="sum") / B
        loss.backward()
        return loss

    loss_torch = float(step().detach())
    loss_np, _ = lstm.bptt(p, xs, targets)
    assert abs(loss_torch - loss_np) <= 1e-9 * abs(loss_np), (loss_torch, loss_np)  # like for like
    return step


def alternating(fns, reps):
    """Median time of each fn, calling them in turn `reps` times (after one warm-up each),
    and the median over rounds of each one's time divided by the first one's."""
    for fn in fns:
        fn()
    times = [[] for _ in fns]
    for _ in range(reps):
        for j, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            times[j].append(time.perf_counter() - t0)
    ratios = [statistics.median(a / b for a, b in zip(times[0], t)) for t in times]
    return [statistics.median(t) for t in times], ratios


def main():
    print(f"LSTM BPTT forward + backward + loss, float64, median wall time, {args.threads} thread(s)"
          + ("" if torch else "  (PyTorch not installed: torch column skipped)"))
    header = f"{'B':>3} {'T':>4} {'X=Y':>4} {'H':>4} | {'rnnlib':>9} {'step loop':>10} {'loop/rnnlib':>11}"
    if torch:
        torch.set_num_threads(args.threads)
        header += f" | {'torch':>9} {'rnnlib/torch':>12}"
    print(header)
    print("-" * len(header))
    for B, T, X, H in SIZES:
        p, xs, targets = problem(B, T, X, H)
        fns = [lambda: lstm.bptt(p, xs, targets), lambda: lstm.bptt_steps(p, xs, targets)]
        if torch:
            fns.append(torch_step(p, xs, targets))
        (t_lib, t_loop, *t_torch), ratios = alternating(fns, REPS)
        row = f"{B:>3} {T:>4} {X:>4} {H:>4} | {t_lib * 1e3:>7.2f}ms {t_loop * 1e3:>8.2f}ms {1 / ratios[1]:>10.2f}x"
        if torch:
            row += f" | {t_torch[0] * 1e3:>7.2f}ms {ratios[2]:>11.2f}x"
        print(row, flush=True)

    B, T, X, H = GOAL
    p, xs, targets = problem(B, T, X, H)
    trace = lstm.forward(p, xs)
    (t_f, t_b), _ = alternating([lambda: lstm.forward(p, xs), lambda: lstm.backward(p, trace, targets)], REPS)
    print(f"\nrnnlib at B={B}, T={T}, H={H}: forward {t_f * 1e3:.1f} ms, backward {t_b * 1e3:.1f} ms "
          f"({t_b / (t_f + t_b):.0%} of the total)")


if __name__ == "__main__":
    main()
