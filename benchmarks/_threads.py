"""What every benchmark script does first: parse --threads/--quick and pin the BLAS threads.

The thread counts must be set before numpy (and its BLAS) is imported, so the scripts import this
module before numpy. Not a benchmark itself (`make bench` runs only bench_*.py).
"""

from __future__ import annotations

import argparse
import os


def parse_args(doc: str, extra=()) -> argparse.Namespace:
    """Parse --threads (default 1) and --quick plus `extra` (name, help) flags; pin the threads."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="BLAS / torch threads (default 1)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    for name, help_text in extra:
        parser.add_argument(name, action="store_true", help=help_text)
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    return args
