"""How many replications, and how long a warm-up: the two run-length questions every DES answers.

Replications use the confidence-interval method (Hoad, Robinson and Davies 2010): run a pilot,
and find the smallest n whose 95 % CI half-width is within the asked precision of the mean.
Warm-up uses MSER-5 (White 1997): batch the daily series in fives and choose the truncation that
minimises the standard error of what is left.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def half_widths(values: np.ndarray) -> pd.DataFrame:
    """Mean and 95 % CI half-width of the first n values, for every n from 2."""
    rows = []
    for n in range(2, len(values) + 1):
        sample = values[:n]
        mean = float(sample.mean())
        half = float(stats.t.ppf(0.975, n - 1) * sample.std(ddof=1) / np.sqrt(n))
        rows.append((n, mean, half, abs(half / mean) if mean else float("inf")))
    return pd.DataFrame(rows, columns=["replications", "mean", "half_width", "relative_half_width"])


def replications_needed(values: np.ndarray, precision: float) -> int | None:
    """Smallest n with relative half-width ≤ precision, projected from the pilot's spread when beyond it."""
    table = half_widths(values)
    reached = table[table["relative_half_width"] <= precision]
    if len(reached):
        return int(reached["replications"].iloc[0])
    sd, mean = values.std(ddof=1), abs(values.mean())
    if mean == 0:
        return None
    n = len(values)
    while n < 100_000:
        n += 1
        if stats.t.ppf(0.975, n - 1) * sd / np.sqrt(n) <= precision * mean:
            return n
    return None


def mser5(series: np.ndarray) -> int:
    """The warm-up, in days, that MSER-5 would cut from a daily series (at most ``mser5_limit`` days)."""
    batches = len(series) // 5
    means = series[: batches * 5].reshape(batches, 5).mean(axis=1)
    best, cut = np.inf, 0
    for d in range(batches // 2):
        rest = means[d:]
        score = rest.var() / len(rest)
        if score < best:
            best, cut = score, d
    return cut * 5


def mser5_limit(days: int) -> int:
    """The longest cut MSER-5 considers in a daily series of ``days`` values: a cut this long means unsettled."""
    return (days // 5 // 2 - 1) * 5
