"""Update latency of notebook 05's eigenvalue explorer: one control move = compute + redraw + PNG.

Run: .venv/bin/python benchmarks/bench_explorer.py
First the first draw: building the explorer right after importing it (cold font and text caches,
what a reader waits for when the cell runs), then a second build. Then every control is moved
through a sweep of values, the sliders with T = 1000 (the largest setting); every move is timed
from setting `.value` until the callback has put new PNG bytes in the image widget. That is the
kernel-side cost; the browser adds its own (tooling.md measured 0.13-0.33 s per redraw in
JupyterLab). Targets: median <= 50 ms per control, first draw <= 300 ms.

Both wall-clock and CPU time (time.process_time, all threads of the process) are printed: on the
shared project machine other jobs stretch wall time; CPU time is what this process itself used.
Each explorer update holds BLAS to one thread itself (`rnnlib.plots.explorer.one_blas_thread`,
threadpoolctl); building the explorer and everything outside an update use the process's count.
`--threads N` sets OPENBLAS_NUM_THREADS / OMP_NUM_THREADS before numpy is imported (default: as
the environment has it, which is what a notebook kernel gets).
"""

import argparse
import os
import platform
import statistics
import sys
import time

if __name__ == "__main__":
    _threads = argparse.ArgumentParser(add_help=False)
    _threads.add_argument("--threads", type=int)
    _n = _threads.parse_known_args(sys.argv[1:])[0].threads
    if _n:
        os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(_n)

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from rnnlib.plots.explorer import SLIDERS, eigenvalue_explorer  # noqa: E402
from rnnlib.spectra import EXPLORER_RANGES, PRESETS  # noqa: E402

TARGET_MS = 50.0
FIRST_DRAW_TARGET_MS = 300.0


def sweep_values(name, n=24, top=None):
    low, high, step = EXPLORER_RANGES[name]
    high = high if top is None else top
    values = np.round(np.linspace(low, high, n) / step) * step
    return [int(v) for v in values] if isinstance(step, int) else [float(v) for v in values]


def time_moves(explorer, name, values):
    """Wall-clock and CPU seconds of each move (CPU time is what a busy shared machine distorts least)."""
    control, times = explorer.controls[name], []
    for value in values:
        if control.value == value:
            continue
        wall, cpu = time.perf_counter(), time.process_time()
        control.value = value
        times.append((time.perf_counter() - wall, time.process_time() - cpu))
    return times


def main():
    load_start = os.getloadavg()[0]
    wall, cpu = time.perf_counter(), time.process_time()
    explorer = eigenvalue_explorer()
    first, first_cpu = (time.perf_counter() - wall) * 1e3, (time.process_time() - cpu) * 1e3
    wall, cpu = time.perf_counter(), time.process_time()
    eigenvalue_explorer()
    second, second_cpu = (time.perf_counter() - wall) * 1e3, (time.process_time() - cpu) * 1e3
    explorer.set(kind="real", activation="tanh", u=0.5, T=1000)  # warm up
    rows, every = [], []
    plans = {  # slider -> the other settings while it moves
        "r1": dict(kind="real", activation="linear", T=1000),
        "r2": dict(kind="real", activation="tanh", T=1000),
        "angle": dict(kind="complex", activation="tanh", T=1000),
        "shear": dict(kind="real", activation="linear", T=1000),
        "size": dict(kind="random", activation="tanh", T=1000),
        "u": dict(kind="complex", activation="sigmoid", T=1000),
        "h0_1": dict(kind="complex", activation="tanh", r1=1.5, T=1000),
        "h0_2": dict(kind="real", activation="relu", r1=1.0, r2=1.0, T=1000),
        "T": dict(kind="real", activation="tanh"),
        "t": dict(kind="complex", activation="tanh", r1=1.5, angle=90.0, T=1000),
    }
    assert set(plans) == set(SLIDERS)
    for name, base in plans.items():
        explorer.set(**base)
        times = time_moves(explorer, name, sweep_values(name, top=1000 if name == "t" else None))
        rows.append((name, base.get("activation", "-"), times))
        every += times
    explorer.set(kind="random", size=64, activation="tanh", T=1000)
    times = time_moves(explorer, "r1", sweep_values("r1", n=12))
    rows.append(("r1 (64x64)", "tanh", times))  # the largest matrix, reported on its own line
    for name, options in (("activation", ["linear", "tanh", "sigmoid", "relu"] * 4),
                          ("kind", ["real", "complex", "8x8 example", "random", "orthogonal"] * 3),
                          ("preset", list(PRESETS) * 2)):
        explorer.set(T=1000, size=16)
        times = time_moves(explorer, name, options)
        rows.append((name, "-", times))
        every += times

    assert not explorer.errors, explorer.errors  # a callback that raised would time nothing
    threads = os.environ.get("OPENBLAS_NUM_THREADS") or "default"
    print(f"Eigenvalue explorer: one update (compute + blit + PNG), {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, load average (1 min) {load_start:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end, OpenBLAS threads: {threads}")
    print(f"first draw (right after import) {first:.0f} ms wall, {first_cpu:.0f} ms CPU; a second build {second:.0f} ms "
          f"wall, {second_cpu:.0f} ms CPU; target <= {FIRST_DRAW_TARGET_MS:.0f} ms: "
          f"{'met' if first <= FIRST_DRAW_TARGET_MS else 'NOT met'} by wall time, "
          f"{'met' if first_cpu <= FIRST_DRAW_TARGET_MS else 'NOT met'} by CPU time")
    print(f"{'control':<13}{'f':<9}{'moves':>6}{'median ms':>11}{'p90 ms':>9}{'max ms':>9}{'median CPU ms':>15}"
          "  goal (wall / CPU)")
    for name, f, times in rows:
        ms = np.array(times) * 1e3
        wall, cpu = ms[:, 0], ms[:, 1]
        goal = ("met" if np.median(wall) <= TARGET_MS else "NOT met") + " / " + (
            "met" if np.median(cpu) <= TARGET_MS else "NOT met")
        print(f"{name:<13}{f:<9}{len(ms):>6}{np.median(wall):>11.1f}{np.percentile(wall, 90):>9.1f}{wall.max():>9.1f}"
              f"{np.median(cpu):>15.1f}  {goal}")
    median = statistics.median(w for w, _ in every) * 1e3
    median_cpu = statistics.median(c for _, c in every) * 1e3
    print(f"all moves but the 64x64 line: median {median:.1f} ms wall, {median_cpu:.1f} ms CPU over {len(every)} "
          f"updates ({explorer.full_redraws} full redraws of the axes, {explorer.axis_redraws} of the t axes); "
          f"target <= {TARGET_MS:.0f} ms: {'met' if median <= TARGET_MS else 'NOT met'} by wall time, "
          f"{'met' if median_cpu <= TARGET_MS else 'NOT met'} by CPU time")


if __name__ == "__main__":
    main()
