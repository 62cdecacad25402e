"""Timing for the few budget checks kept in the test suite (import as `timing`).

Budgets are measured properly in perf/; these checks only catch an order-of-magnitude slip.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def median_seconds(call: Callable[[int], object], runs: int) -> float:
    """Median wall time of ``call(run_index)`` over ``runs`` calls."""
    times = []
    for run in range(runs):
        start = time.perf_counter()
        call(run)
        times.append(time.perf_counter() - start)
    return float(np.median(times))
