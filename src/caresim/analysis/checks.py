"""Checks of a finished experiment: the baseline against its calibration targets, sampled against
configured means, and Little's law on every service."""

from __future__ import annotations

import numpy as np
import pandas as pd

from caresim.analysis.summary import confidence_interval
from caresim.experiment.plan import BASELINE
from caresim.experiment.replication import WorldResult
from caresim.scenario.schema import Scenario

SAMPLED_Z_FLAG = 4.0
LITTLE_TOLERANCE = 0.05
LITTLE_LONGEST_STAY = 36.5  # days: a year's window cannot check Little's law on stays of years (care homes)


def calibration_frame(scenario: Scenario, summary: pd.DataFrame) -> pd.DataFrame:
    baseline = summary[summary["world"] == BASELINE].set_index("measure")
    rows = []
    for target in scenario.targets:
        low, high = target.bounds
        if target.measure in baseline.index:
            row = baseline.loc[target.measure]
            mean, ci_low, ci_high, unit = row["mean"], row["ci_low"], row["ci_high"], row["unit"]
        else:
            mean = ci_low = ci_high = float("nan")
            unit = ""
        rows.append((target.measure, unit, target.target, target.tolerance, target.tolerance_kind, low, high,
                     mean, ci_low, ci_high, bool(low <= mean <= high), target.source))
    return pd.DataFrame(rows, columns=["measure", "unit", "target", "tolerance", "tolerance_kind", "low", "high",
                                       "baseline_mean", "ci_low", "ci_high", "within", "source"])


def configured_mean(scenario: Scenario, name: str) -> float:
    """The configured mean of a distribution named by its dotted scenario path (services are implied)."""
    node = scenario.discharge if name.startswith("discharge.") else scenario.services
    for part in name.removeprefix("discharge.").split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return float(node.mean)


def sampled_frame(results: list[list[WorldResult]], scenario: Scenario) -> pd.DataFrame:
    """Configured against sampled means of every distribution the baseline drew from, flagged beyond noise."""
    totals: dict[str, np.ndarray] = {}
    for replication in results:
        for w in replication:
            if w.world == BASELINE:
                for name, stats in w.sampled.items():
                    totals[name] = totals.get(name, np.zeros(3)) + np.array(stats)
    rows = []
    for name, (n, total, squares) in sorted(totals.items()):
        mean = total / n
        variance = max(squares / n - mean * mean, 0.0)
        se = np.sqrt(variance / n) if n > 1 else float("nan")
        expected = configured_mean(scenario, name)
        z = (mean - expected) / se if se and se > 0 else 0.0
        rows.append((name, expected, mean, int(n), se, z, bool(abs(z) > SAMPLED_Z_FLAG)))
    return pd.DataFrame(rows, columns=["distribution", "configured_mean", "sampled_mean", "n", "standard_error", "z",
                                       "flag"])


def little_frame(results: list[list[WorldResult]]) -> pd.DataFrame:
    """Little's law, L = λW, for every service of the baseline: time-average occupancy against arrivals × stay."""
    by_service: dict[str, list[tuple[float, float]]] = {}
    for replication in results:
        for w in replication:
            if w.world == BASELINE:
                for service, (occupied, rate, stay) in w.little.items():
                    by_service.setdefault(service, []).append((occupied, rate * stay, stay))
    rows = []
    for service, triples in by_service.items():
        occupied, product, stay = np.array(triples).T
        if occupied.mean() <= 0:
            continue
        mean, low, high, n = confidence_interval(product - occupied)
        relative = abs(product.mean() - occupied.mean()) / occupied.mean()
        applies = bool(occupied.mean() / max(product.mean() / max(stay.mean(), 1e-9), 1e-9) <= LITTLE_LONGEST_STAY)
        rows.append((service, float(occupied.mean()), float(product.mean()), low, high, n,
                     bool(relative <= LITTLE_TOLERANCE), applies))
    return pd.DataFrame(rows, columns=["service", "time_average_occupied", "arrival_rate_times_stay",
                                       "difference_ci_low", "difference_ci_high", "n", "within_5_percent",
                                       "stays_short_against_the_window"])
