"""Update latency of notebook 05's eigenvalue explorer: one slider move = compute + redraw + PNG.

Run: .venv/bin/python benchmarks/bench_explorer.py
Each control is moved through a sweep of values (with T = 1000, the largest setting, for the
sliders); every move is timed from setting `.value` until the callback has put new PNG bytes in
the image widget. That is the kernel-side cost; the browser adds its own (tooling.md measured
0.13-0.33 s per redraw in JupyterLab). Target: median <= 50 ms.
"""

import os
import platform
import statistics
import time

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from rnnlib.explorer import RANGES, eigenvalue_explorer  # noqa: E402

TARGET_MS = 50.0


def sweep_values(name, n=24):
    low, high, step = RANGES[name]
    values = np.linspace(low, high, n)
    values = np.round(values / step) * step
    return [int(v) for v in values] if name == "T" else [float(v) for v in values]


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
    explorer = eigenvalue_explorer(T=1000)
    explorer.set(kind="real", activation="tanh", u=0.5)  # warm up caches and fonts
    rows, every = [], []
    plans = [
        ("r1", dict(kind="real", activation="linear", T=1000)),
        ("r2", dict(kind="real", activation="tanh", T=1000)),
        ("angle", dict(kind="complex", activation="tanh", T=1000)),
        ("shear", dict(kind="real", activation="linear", T=1000)),
        ("u", dict(kind="complex", activation="sigmoid", T=1000)),
        ("T", dict(kind="real", activation="tanh")),
    ]
    for name, base in plans:
        explorer.set(**base)
        times = time_moves(explorer, name, sweep_values(name))
        rows.append((name, base.get("activation"), times))
        every += times
    for name, options in (("activation", ["linear", "tanh", "sigmoid"] * 4), ("kind", ["real", "complex"] * 6)):
        explorer.set(T=1000)
        times = time_moves(explorer, name, options)
        rows.append((name, "-", times))
        every += times

    assert not explorer.errors, explorer.errors  # a callback that raised would time nothing
    print(f"Eigenvalue explorer: one update (compute + blit + PNG), {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"{'control':<12}{'f':<9}{'moves':>6}{'median ms':>11}{'p90 ms':>9}{'max ms':>9}{'median CPU ms':>15}")
    for name, f, times in rows:
        ms = np.array(times) * 1e3
        wall, cpu = ms[:, 0], ms[:, 1]
        print(f"{name:<12}{f:<9}{len(ms):>6}{np.median(wall):>11.1f}{np.percentile(wall, 90):>9.1f}{wall.max():>9.1f}"
              f"{np.median(cpu):>15.1f}")
    median = statistics.median(w for w, _ in every) * 1e3
    median_cpu = statistics.median(c for _, c in every) * 1e3
    print(f"all moves: median {median:.1f} ms wall, {median_cpu:.1f} ms CPU over {len(every)} updates "
          f"({explorer.full_redraws} full redraws of the axes, {explorer.axis_redraws} of the t axis); "
          f"target <= {TARGET_MS:.0f} ms: "
          f"{'met' if median <= TARGET_MS else 'NOT met'}")


if __name__ == "__main__":
    main()
