"""Time forward + backward of rnnlib against a loop over its step functions and torch.nn.RNN.

Prints two tables of median times and ratios:
1. BPTT (forward + backward + loss) on the sizes of issues 2 and 11, float64 and float32:
   rnnlib.bptt vs rnnlib.bptt_steps (the readable loop over step_forward / step_backward)
   and, when PyTorch is installed, torch.nn.RNN + nn.Linear + cross-entropy with .backward(),
   with issue 11's goal for rnnlib / torch and whether it is met.
2. The full profile log10 ||dh_T/dh_k|| for every k (rnnlib.jacobians) at T = 1000, H = 64.

Usage: python benchmarks/bench_bptt.py [--threads N] [--quick] [--wall]
Both libraries run in this one process with the same number of BLAS / intra-op threads
(default 1). Times are medians of CPU time (time.process_time; --wall for wall-clock time), and
rnnlib and torch repetitions alternate, so that a machine shared with other jobs slows both
alike. PyTorch is optional: nothing else in the project needs it. Speed is only measured here,
never asserted.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

from _threads import parse_args  # benchmarks/_threads.py, next to this script

args = parse_args(__doc__, [("--wall", "wall-clock time instead of CPU time"),  # before numpy: pins the BLAS threads
                            ("--profile", "only the profile table: matrix products against the rest")])

import numpy as np  # noqa: E402

import rnnlib  # noqa: E402
from rnnlib.jacobians import jacobian_log_norms  # noqa: E402

try:
    import torch
except ImportError:  # optional
    torch = None

SIZES = [(1, 25, 65, 100), (32, 100, 64, 128), (64, 200, 128, 256), (1, 1000, 16, 32)]  # (B, T, X=Y, H)
# Issue 11's goals for rnnlib.bptt time / torch time, by (dtype, B, T, X, H).
GOALS = {("float64", 1, 25, 65, 100): 0.35, ("float64", 32, 100, 64, 128): 0.8, ("float64", 64, 200, 128, 256): 0.8,
         ("float32", 1, 25, 65, 100): 0.3, ("float32", 32, 100, 64, 128): 0.7, ("float32", 64, 200, 128, 256): 0.75}
BUDGET = 0.5 if args.quick else 2.0  # seconds of repetitions per measurement (all functions together)
clock = time.perf_counter if args.wall else time.process_time


def median_times(*fns, budget=BUDGET, min_reps=3, max_reps=300):
    """Median time of each fn() over repetitions filling about `budget` seconds, taken in turns.

    One warm-up call each; then fns[0](), fns[1](), ... again and again, so that a change in the
    machine's load during the measurement reaches every function alike.
    """
    for fn in fns:
        fn()
    times = [[] for _ in fns]
    start = time.perf_counter()
    while len(times[0]) < min_reps or (time.perf_counter() - start < budget and len(times[0]) < max_reps):
        for fn, ts in zip(fns, times):
            t0 = clock()
            fn()
            ts.append(clock() - t0)
    return [statistics.median(ts) for ts in times]


def median_time(fn, **kwargs):
    return median_times(fn, **kwargs)[0]


def problem(B, T, X, H, dtype):
    rng = np.random.default_rng(0)
    params = rnnlib.init_params(X, H, X, seed=0, dtype=dtype)
    xs = rng.standard_normal((T, B, X)).astype(dtype)
    targets = rng.integers(0, X, size=(T, B))
    return params, xs, targets


def torch_step(params, xs, targets, dtype):
    """torch.nn.RNN + nn.Linear + cross-entropy (sum over time, mean over batch), backward."""
    tdtype = {np.float64: torch.float64, np.float32: torch.float32}[dtype]
    X, H, Y = params.n_in, params.n_hidden, params.n_out
    rnn = torch.nn.RNN(X, H, nonlinearity="tanh", bias=True, dtype=tdtype)
    out = torch.nn.Linear(H, Y, dtype=tdtype)
    with torch.no_grad():  # the same parameters as rnnlib (one bias suffices; b_hh stays 0)
        rnn.weight_ih_l0.copy_(torch.from_numpy(params.W_hx))
        rnn.weight_hh_l0.copy_(torch.from_numpy(params.W_hh))
        rnn.bias_ih_l0.copy_(torch.from_numpy(params.b_h))
        rnn.bias_hh_l0.zero_()
        out.weight.copy_(torch.from_numpy(params.W_yh))
        out.bias.copy_(torch.from_numpy(params.b_y))
    x = torch.from_numpy(xs)
    y = torch.from_numpy(targets).reshape(-1)
    T, B = targets.shape

    def step():
        rnn.zero_grad(set_to_none=True)
        out.zero_grad(set_to_none=True)
        hs, _ = rnn(x)
        logits = out(hs).reshape(T * B, Y)
        loss = torch.nn.functional.cross_entropy(logits, y, reduction="sum") / B
        loss.backward()
        return loss

    # Same loss as rnnlib: a check that the comparison is like for like.
    loss_torch = step().item()
    loss_np, _ = rnnlib.bptt(params, xs, targets)
    assert abs(loss_torch - loss_np) <= 1e-4 * abs(loss_np), (loss_torch, loss_np)
    return step


def bptt_table():
    kind = "wall-clock" if args.wall else "CPU"
    print(f"BPTT forward + backward, median {kind} time, {args.threads} thread(s)"
          + ("" if torch else "  (PyTorch not installed: torch column skipped)"))
    header = f"{'dtype':8} {'B':>3} {'T':>5} {'X=Y':>4} {'H':>4} | {'rnnlib':>9} {'step loop':>10} {'loop/rnnlib':>11}"
    if torch:
        torch.set_num_threads(args.threads)
        header += f" | {'torch':>9} {'rnnlib/torch':>12} {'goal':>6}"
    print(header)
    print("-" * len(header))
    for dtype in (np.float64, np.float32):
        for B, T, X, H in SIZES:
            params, xs, targets = problem(B, T, X, H, dtype)
            t_loop = median_time(lambda: rnnlib.bptt_steps(params, xs, targets), min_reps=2, budget=BUDGET / 2)
            lib = lambda: rnnlib.bptt(params, xs, targets)  # noqa: E731
            if torch:
                t_lib, t_torch = median_times(lib, torch_step(params, xs, targets, dtype))
            else:
                t_lib = median_time(lib)
            name = np.dtype(dtype).name
            row = (f"{name:8} {B:>3} {T:>5} {X:>4} {H:>4} | {t_lib * 1e3:>7.2f}ms "
                   f"{t_loop * 1e3:>8.2f}ms {t_loop / t_lib:>10.2f}x")
            if torch:
                goal = GOALS.get((name, B, T, X, H))
                verdict = "" if goal is None else f"<={goal:g} " + ("met" if t_lib / t_torch <= goal else "NOT met")
                row += f" | {t_torch * 1e3:>7.2f}ms {t_lib / t_torch:>11.2f}x  {verdict}"
            print(row, flush=True)


def gemm_only(params, xs, targets):
    """The matrix products of one rnnlib.bptt call (full BPTT) and nothing else, on the same shapes.

    Forward: the input projection (T B, X) x (X, H), T recurrent products (B, H) x (H, H), the
    output layer (T B, H) x (H, Y). Backward: dL/dh through the output layer, T recurrent
    products, and the three weight gradients. What is left of bptt's time is elementwise work
    (tanh, softmax, f', the loss), memory traffic and per-call overhead.
    """
    T, B, X = xs.shape
    W_hx, W_hh, _, W_yh, _ = params
    H, Y = W_hh.shape[0], W_yh.shape[0]
    x2 = xs.reshape(T * B, X)
    h = np.full((T + 1, B, H), 0.1, dtype=xs.dtype)
    a2 = np.empty((T * B, H), dtype=xs.dtype)
    z2 = np.empty((T * B, Y), dtype=xs.dtype)
    r = np.empty((B, H), dtype=xs.dtype)

    def run():
        np.matmul(x2, W_hx.T, out=a2)
        for t in range(1, T + 1):
            np.matmul(h[t - 1], W_hh.T, out=r)
        np.matmul(h[1:].reshape(T * B, H), W_yh.T, out=z2)
        d2 = z2 @ W_yh
        for t in range(T, 0, -1):
            np.matmul(d2[(t - 1) * B : t * B], W_hh, out=r)
        return d2.T @ x2, d2.T @ h[:-1].reshape(T * B, H), z2.T @ h[1:].reshape(T * B, H)

    return run


def profile_table():
    kind = "wall-clock" if args.wall else "CPU"
    print(f"\nWhere rnnlib.bptt's time goes (median {kind} time): its matrix products alone (same shapes,"
          " BLAS) against the whole call" + (" and torch's whole forward + backward" if torch else ""))
    header = f"{'dtype':8} {'B':>3} {'T':>5} {'X=Y':>4} {'H':>4} | {'bptt':>9} {'products':>9} {'share':>6}"
    if torch:
        header += f" | {'torch':>9} {'products/torch':>14}"
    print(header)
    print("-" * len(header))
    for dtype in (np.float64, np.float32):
        for B, T, X, H in SIZES[:3]:
            params, xs, targets = problem(B, T, X, H, dtype)
            fns = [lambda: rnnlib.bptt(params, xs, targets), gemm_only(params, xs, targets)]
            if torch:
                fns.append(torch_step(params, xs, targets, dtype))
            times = median_times(*fns)
            row = (f"{np.dtype(dtype).name:8} {B:>3} {T:>5} {X:>4} {H:>4} | {times[0] * 1e3:>7.2f}ms "
                   f"{times[1] * 1e3:>7.2f}ms {times[1] / times[0]:>6.0%}")
            if torch:
                row += f" | {times[2] * 1e3:>7.2f}ms {times[1] / times[2]:>13.2f}x"
            print(row, flush=True)


def jacobian_table():
    print("\nFull profile log10 ||dh_T/dh_k|| for k = 0..T (rnnlib.jacobians.jacobian_log_norms), B = 1")
    header = f"{'T':>5} {'H':>4} | {'ord=fro':>9} {'ord=2':>9}"
    print(header)
    print("-" * len(header))
    for T, H in [(1000, 64), (1000, 32), (200, 128)]:
        params = rnnlib.init_params(16, H, 16, seed=0)
        trace = rnnlib.forward(params, np.random.default_rng(0).standard_normal((T, 1, 16)))
        t_fro = median_time(lambda: jacobian_log_norms(params, trace, ord="fro"))
        t_two = median_time(lambda: jacobian_log_norms(params, trace, ord=2))
        print(f"{T:>5} {H:>4} | {t_fro * 1e3:>7.1f}ms {t_two * 1e3:>7.1f}ms", flush=True)


if __name__ == "__main__":
    print(f"numpy {np.__version__}" + (f", torch {torch.__version__}" if torch else "") + f", Python {sys.version.split()[0]}"
          + f", load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the start")
    if not args.profile:
        bptt_table()
    profile_table()
    if not args.profile:
        jacobian_table()
