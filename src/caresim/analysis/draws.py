"""How many effect draws: the stated rule that stops adding them once the range of likely outcomes is stable.

The range of likely outcomes is the 2.5 and 97.5 percentiles of the headline outcomes across draws. Each end
has a distribution-free 95 % confidence interval between two order statistics (the ranks a binomial with the
percentile's probability puts 95 % of its mass between); it is unbounded below 146 draws for these two
percentiles. The draws are enough when, for admissions avoided and net cost, each end's interval half-width is
within the stated share of the range's width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from caresim.analysis.summary import paired_differences
from caresim.scenario.schema import Draws

STABILISED = ("emergency_admissions_avoided", "net_cost")  # the headline outcomes whose range must be stable
STABILISED_WORDS = "emergency admissions avoided and net cost"
ENDS = (0.025, 0.975)
CONFIDENCE = 0.95


def percentile_interval(values: np.ndarray, probability: float) -> tuple[float, float]:
    """The distribution-free 95 % confidence interval of the ``probability`` quantile: two order statistics of
    ``values`` (NaNs dropped); infinite ends when the draws are too few to bound it."""
    ordered = np.sort(values[~np.isnan(values)])
    n = len(ordered)
    tail = (1 - CONFIDENCE) / 2
    lower = int(stats.binom.ppf(tail, n, probability)) if n else 0  # a 1-based rank; 0: no lower bound
    upper = int(stats.binom.ppf(1 - tail, n, probability)) + 1 if n else 1  # n + 1: no upper bound
    return (float(ordered[lower - 1]) if lower >= 1 else -math.inf,
            float(ordered[upper - 1]) if upper <= n else math.inf)


def percentile_half_width(values: np.ndarray, probability: float) -> float:
    """Half the width of the ``probability`` quantile's 95 % confidence interval (infinite when unbounded)."""
    low, high = percentile_interval(values, probability)
    return (high - low) / 2


def relative_precision(values: np.ndarray) -> float:
    """The larger half-width of the two ends' confidence intervals as a share of the range's width (0 when the
    values never vary)."""
    values = values[~np.isnan(values)]
    if len(values) < 2:
        return math.inf
    low, high = np.percentile(values, [100 * p for p in ENDS])
    half = max(percentile_half_width(values, p) for p in ENDS)
    if high == low:
        return 0.0 if half == 0 else math.inf
    return half / (high - low)


def headline_precision(frame: pd.DataFrame, mix: str) -> dict[str, float]:
    """Relative precision of the range of each stabilised outcome of ``mix`` against the baseline (replications
    frame)."""
    difference = paired_differences(frame, mix)
    return {measure: relative_precision(difference[measure].to_numpy(dtype=float)) for measure in STABILISED}


@dataclass(frozen=True)
class DrawsDecision:
    """After a batch: how many draws there are, the precision reached, and whether and why to stop."""

    draws: int
    precision: dict[str, float]
    next_batch: range | None  # the replication numbers to run next, or None to stop
    stopped: str  # why the draws stopped ("" while running)


def decide(rule: Draws, draws: int, precision: dict[str, float]) -> DrawsDecision:
    """Stop when every outcome's precision is within the rule's, or at the cap; else the next batch of numbers."""
    if all(value <= rule.precision for value in precision.values()):
        return DrawsDecision(draws, precision, None, "precision reached")
    if draws >= rule.max:
        return DrawsDecision(draws, precision, None, "cap reached before the precision")
    return DrawsDecision(draws, precision, range(draws, min(draws + rule.batch, rule.max)), "")


def rule_text(rule: Draws | None, draws: int, attribution_draws: int | None) -> str:
    """The draws rule in words, for the manifest, the report and the command's table caption."""
    if rule is None:
        text = f"a fixed {draws} draws"
    else:
        text = (f"batches of draws ({rule.min} first, then {rule.batch} at a time, at most {rule.max}) until the 95 % "
                f"confidence interval of each end of the range of likely outcomes of {STABILISED_WORDS} is "
                f"within {rule.precision:.0%} of the range's width (half-width; distribution-free, from order "
                "statistics)")
    if attribution_draws is not None and attribution_draws < draws:
        text += (f"; attribution worlds on the first {attribution_draws} draws only, paired on those draws "
                 "(attribution.csv gives each scheme's 95 % CI half-width)")
    return text


def draws_frame(rule: Draws | None, decision: DrawsDecision) -> pd.DataFrame:
    """draws.csv: per stabilised outcome, the draws run, the precision reached (half-width of the ends' CI as a
    share of the range's width; blank: not yet bounded), the precision asked for (blank: a fixed number of draws)
    and why the draws stopped."""
    rows = [(measure, decision.draws, value if math.isfinite(value) else np.nan,
             rule.precision if rule is not None else np.nan, decision.stopped)
            for measure, value in decision.precision.items()]
    return pd.DataFrame(rows, columns=["measure", "draws", "precision_reached", "precision_asked", "stopped"])
