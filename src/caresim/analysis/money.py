"""The money ledger: two comparisons a commissioner recognises, by payer, cash-releasing or not, and the
share of the pooled fund paid for performance with the chance of missing each target.

Values are changes in spending per year (the comparison world minus its counterfactual; negative: saved).
Cash-releasing: money that leaves a budget (emergency admissions at the marginal rate of the tariff, A&E at
tariff, spot-purchased care, whole acute wards). Not cash-releasing: capacity freed, at average cost. Places
that a budget pays for (rapid response, intermediate care, reablement) cost their budget, not their activity:
only the use of places beyond or below those paid for is valued, so scheme-funded activity appears once.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from caresim.analysis.summary import confidence_interval, wide
from caresim.experiment.plan import BASELINE, NO_FUND
from caresim.metrics import DAYS_PER_YEAR
from caresim.run_folder import (
    CASH_RELEASING,
    COST,
    NET_ALL,
    NET_CASH,
    NOT_CASH_RELEASING,
    TOTAL_CAPACITY,
    TOTAL_CASH,
)
from caresim.scenario.schema import Scenario

PLAN_AGAINST_2014_15 = "the 2015/16 plan against 2014/15 services"
FUND_AGAINST_NO_FUND = "the pooled fund against no fund"
HIGHER_IS_BETTER = {"bcf_still_home_91d_percent"}
CAPACITY_SERVICES = {"rapid_response": "rapid_response", "intermediate_care": "intermediate_care_beds",
                     "reablement": "reablement"}


def financial_years(scenario: Scenario) -> str:
    """The financial year(s) the measured window covers, e.g. 2015/16 (April to March)."""
    def year(day: dt.date) -> int:
        return day.year if day.month >= 4 else day.year - 1

    first, last = year(scenario.run.start), year(scenario.run_end - dt.timedelta(days=1))  # the measured window
    label = f"{first}/{(first + 1) % 100:02d}"
    return label if first == last else f"{label} to {last}/{(last + 1) % 100:02d} (mean year)"


def _place_days(world: pd.DataFrame, name: str) -> tuple[pd.Series, pd.Series]:
    """Occupied and available place-days per year of one capacity-funded service."""
    occupied = world[f"{name}_bed_days"]
    capacity = (occupied / world[f"{name}_occupancy_percent"] * 100).fillna(0.0)
    return occupied, capacity


def ledger_changes(world: pd.DataFrame, reference: pd.DataFrame, scenario: Scenario) -> list[tuple[str, str, str,
                                                                                                      pd.Series]]:
    """(payer, item, kind, change in spending per replication) of ``world`` against ``reference``."""
    k = scenario.costs
    d = world - reference
    wards = np.trunc(d["acute_bed_days"] / DAYS_PER_YEAR / k.ward_beds)
    ward_days = wards * k.ward_beds * DAYS_PER_YEAR
    home_care = scenario.services.home_care
    rows = [
        ("ccg_acute", "emergency admissions at the marginal rate of the tariff", CASH_RELEASING,
         d["emergency_admissions"] * k.non_elective_tariff * k.marginal_rate_share),
        ("ccg_acute", "A&E attendances at tariff", CASH_RELEASING,
         d["ae_admitted"] * k.ae_attendance_admitted + d["ae_discharged_home"] * k.ae_attendance_discharged),
        ("ccg_acute", "ambulance incidents", NOT_CASH_RELEASING, d["ambulance_incidents"] * k.ambulance_incident),
        ("acute_trust", "acute beds in whole wards", CASH_RELEASING, ward_days * k.acute_bed_day),
        ("acute_trust", "acute bed days short of a ward", NOT_CASH_RELEASING,
         (d["acute_bed_days"] - ward_days) * k.acute_bed_day),
        ("ccg_community", "GP urgent contacts", NOT_CASH_RELEASING, d["gp_urgent_contacts"] * k.gp_consultation),
        ("ccg_community", "out-of-hours contacts", NOT_CASH_RELEASING,
         d["out_of_hours_contacts"] * k.out_of_hours_contact),
        ("ccg_community", "minor injury attendances", NOT_CASH_RELEASING,
         d["minor_injury_attendances"] * k.minor_injury_attendance),
        ("kcc_adult_social_care", "care-home placements (council-funded)", CASH_RELEASING,
         d["cost_council_care_homes"]),
        ("kcc_adult_social_care", "home care packages", CASH_RELEASING,
         d["home_care_packages"] * home_care.hours_per_week * home_care.package_weeks * k.home_care_hour),
    ]
    per_place_day = {
        "rapid_response": k.rapid_response_episode * reference["rapid_response_episodes"].mean()
        / reference["rapid_response_bed_days"].mean() if reference["rapid_response_bed_days"].mean() else 0.0,
        "intermediate_care": k.intermediate_care_bed_day,
        "reablement": k.reablement_episode * reference["reablement_episodes"].mean()
        / reference["reablement_bed_days"].mean() if reference["reablement_bed_days"].mean() else 0.0,
    }
    for name in CAPACITY_SERVICES:
        occupied, capacity = _place_days(world, name)
        occupied_ref, capacity_ref = _place_days(reference, name)
        beyond_paid = ((occupied - capacity) - (occupied_ref - capacity_ref)) * per_place_day[name]
        label = f"{name.replace('_', ' ')} places used beyond (+) or below (-) those paid for"
        if name == "intermediate_care":
            share = k.intermediate_care_council_share
            rows.append(("ccg_community", label, NOT_CASH_RELEASING, beyond_paid * (1 - share)))
            rows.append(("kcc_adult_social_care", label, NOT_CASH_RELEASING, beyond_paid * share))
        else:
            payer = "kcc_adult_social_care" if name == "reablement" else "ccg_community"
            rows.append((payer, label, NOT_CASH_RELEASING, beyond_paid))
    return rows


def scheme_spend_before(scenario: Scenario, schemes: tuple[str, ...]) -> float:
    """What the schemes cost a year before the plan (for SKC 2014/15): the services the baseline already has."""
    return sum(scenario.scheme(name).cost.spend_before for name in schemes)


Change = tuple[str, str, str, str, str, pd.Series]  # comparison, counterfactual, payer, item, kind, values


def _changes(frame: pd.DataFrame, scenario: Scenario, main_mix: str) -> list[Change]:
    """Every ledger line of both comparisons, per replication: the plan against the baseline (cost: the increment
    over the schemes' spend before the plan) and, with a no-fund world, the plan against no fund (the whole cost)."""
    mix = wide(frame, main_mix)
    schemes = scenario.mix_schemes
    comparisons = [(PLAN_AGAINST_2014_15, BASELINE, "schemes' cost less what they cost in 2014/15",
                    scheme_spend_before(scenario, schemes))]
    if NO_FUND in set(frame["world"]):
        comparisons.append((FUND_AGAINST_NO_FUND, NO_FUND, "schemes' cost (the whole fund)", 0.0))
    out = []
    for comparison, reference, cost_item, spent_before in comparisons:
        changes = ledger_changes(mix, wide(frame, reference), scenario)
        changes.append(("pooled_fund", cost_item, COST, mix["scheme_cost"] - spent_before))
        out += [(comparison, reference, payer, item, kind, values) for payer, item, kind, values in changes]
    return out


def totals(changes: list[Change]) -> list[Change]:
    """Per comparison, across payers, replication by replication: the cash released and the capacity freed (changes
    in spending, negative when saved), the net cash cost (the cost less the cash released) and the net cost
    counting capacity freed at average cost as if it were cash."""
    out: list[Change] = []
    for comparison, reference in dict.fromkeys((c[0], c[1]) for c in changes):
        def total(kind: str, comparison: str = comparison) -> pd.Series:
            return sum((c[5] for c in changes if c[0] == comparison and c[4] == kind), start=changes[0][5] * 0.0)

        cost, cash, capacity = total(COST), total(CASH_RELEASING), total(NOT_CASH_RELEASING)
        out += [(comparison, reference, "all", "cash released", TOTAL_CASH, cash),
                (comparison, reference, "all", "capacity freed, not cash", TOTAL_CAPACITY, capacity),
                (comparison, reference, "all", "net cash cost", NET_CASH, cost + cash),
                (comparison, reference, "all", "net cost, capacity freed valued as cash", NET_ALL,
                 cost + cash + capacity)]
    return out


def _statistics(values: pd.Series) -> tuple[float, ...]:
    """Mean, 95 % CI of the mean, 2.5 and 97.5 percentiles across replications, n."""
    array = values.to_numpy(dtype=float)
    mean, low, high, n = confidence_interval(array)
    spread = np.percentile(array[~np.isnan(array)], [2.5, 97.5]) if n else (np.nan, np.nan)
    return mean, low, high, *spread, n


STATISTICS = ["mean", "ci_low", "ci_high", "p2_5", "p97_5", "n"]


def money_frame(frame: pd.DataFrame, scenario: Scenario, main_mix: str) -> pd.DataFrame:
    """The ledger: comparison, counterfactual, year, payer, item, kind, mean, ci_low, ci_high (of the mean), p2_5,
    p97_5 (across replications), n, and the share of replications below zero; per year of the measured window (the
    mean year of a longer run); each comparison's items, then its totals."""
    year = financial_years(scenario)
    changes = _changes(frame, scenario, main_mix)
    rows = [(comparison, reference, year, payer, item, kind, *_statistics(values), float((values < 0).mean()))
            for comparison, reference, payer, item, kind, values in changes + totals(changes)]
    return pd.DataFrame(rows, columns=["comparison", "counterfactual", "year", "payer", "item", "kind", *STATISTICS,
                                       "share_below_zero"])


def money_by_year_frame(years: list[tuple[str, float, pd.DataFrame]], scenario: Scenario,
                        main_mix: str) -> pd.DataFrame:
    """The ledger of each year (label, days, its replications' measures) in pounds spent in that year (a year's
    measures are per 365.25 days), with the totals of ``totals``, and each line's running total from the first year
    (basis ``in_year`` or ``cumulative``): comparison, counterfactual, year, days, payer, item, kind, basis,
    mean, ci_low, ci_high, p2_5, p97_5, n."""
    rows = []
    running: dict[tuple[str, ...], pd.Series] = {}
    for label, days, frame in years:
        changes = _changes(frame, scenario, main_mix)
        for comparison, reference, payer, item, kind, values in changes + totals(changes):
            in_year = values * days / DAYS_PER_YEAR
            key = (comparison, payer, item, kind)
            running[key] = running[key] + in_year if key in running else in_year
            for basis, amount in (("in_year", in_year), ("cumulative", running[key])):
                rows.append((comparison, reference, label, days, payer, item, kind, basis, *_statistics(amount)))
    return pd.DataFrame(rows, columns=["comparison", "counterfactual", "year", "days", "payer", "item", "kind",
                                       "basis", *STATISTICS])


def performance_frame(frame: pd.DataFrame, scenario: Scenario, main_mix: str) -> pd.DataFrame:
    """Per metric of the performance payment: the share and pounds of the fund at risk, its target and the share
    of replications in which the mix misses it (blank where the metric is not modelled or has no target)."""
    fund = scenario.fund
    metrics = fund.performance_metrics
    if not metrics:
        return pd.DataFrame(columns=["metric", "share_of_fund", "at_risk", "target", "p_miss", "expected_loss"])
    total = sum(scenario.scheme(name).cost.recurrent_per_year for name in scenario.mix_schemes)
    share = fund.performance_share / len(metrics)
    mix = wide(frame, main_mix)
    rows = []
    for metric in metrics:
        target = scenario.bcf_targets.get(metric)
        p_miss = float("nan")
        if target is not None and metric in mix:
            values = mix[metric].dropna()
            missed = values < target if metric in HIGHER_IS_BETTER else values > target
            p_miss = float(missed.mean()) if len(values) else float("nan")
        rows.append((metric, share, share * total, target, p_miss, share * total * p_miss))
    return pd.DataFrame(rows, columns=["metric", "share_of_fund", "at_risk", "target", "p_miss", "expected_loss"])
