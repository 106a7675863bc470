"""The money ledger by payer and the fund paid for performance, as rows read from the run folder (money.csv,
performance.csv), for the report."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from caresim.outputs.chart_style import format_money, label
from caresim.outputs.run_data import read_optional_csv
from caresim.run_folder import CASH_RELEASING, COST, NET_ALL, NET_CASH, NOT_CASH_RELEASING, TOTAL_CASH

PAYERS = {"ccg_acute": "CCG, acute", "ccg_community": "CCG, community", "kcc_adult_social_care":
          "KCC adult social care", "acute_trust": "Acute trust", "pooled_fund": "Pooled fund"}


def _likely(row: pd.Series, sign: float = 1.0) -> str:
    low, high = sorted((sign * float(row["p2_5"]), sign * float(row["p97_5"])))
    return f"{format_money(sign * float(row['mean']))} ({format_money(low)} to {format_money(high)})"


def ledger_rows(run_dir: Path) -> tuple[list[str], list[list[str]]]:
    """Per comparison and payer: cash released, capacity freed (saved: positive) and cost; then the comparison's
    totals across payers with their range of likely outcomes and the chance the cash released exceeds the cost."""
    money = read_optional_csv(run_dir, "money.csv")
    if money is None or money.empty:
        return [], []
    headers = ["Comparison", "Payer", "Cash released", "Capacity freed, not cash", "Cost"]
    rows = []
    for comparison, lines in money.groupby("comparison", sort=False):
        items = lines[lines["payer"] != "all"]
        for payer, own in items.groupby("payer", sort=False):
            def total(kind: str, own: pd.DataFrame = own) -> str:
                values = own[own["kind"] == kind]["mean"]
                return format_money(-values.sum() if kind != COST else values.sum()) if len(values) else "–"

            rows.append([str(comparison), PAYERS.get(str(payer), str(payer)), total(CASH_RELEASING),
                         total(NOT_CASH_RELEASING), total(COST)])
        totals = lines[lines["payer"] == "all"].set_index("kind")
        if NET_CASH in totals.index:
            net = totals.loc[NET_CASH]
            rows.append([str(comparison), "All payers (range of likely outcomes)",
                         _likely(totals.loc[TOTAL_CASH], -1.0),
                         f"net cost counting capacity as cash {_likely(totals.loc[NET_ALL])}",
                         f"net cash cost {_likely(net)}; cash released exceeds the cost in "
                         f"{float(net['share_below_zero']):.0%} of replications"])
    return headers, rows


def performance_rows(run_dir: Path) -> tuple[list[str], list[list[str]]]:
    """Per metric paid for performance: the share and pounds of the fund at risk, the plan's target and the chance
    the mix misses it (blank where the plan sets no target or the model does not hold the metric)."""
    table = read_optional_csv(run_dir, "performance.csv")
    if table is None or table.empty:
        return [], []
    headers = ["Metric", "Share of the fund", "At risk a year", "The plan's target", "Chance of missing it",
               "Expected loss"]
    rows = []
    for r in table.itertuples():
        missing = math.isnan(float(r.p_miss))
        rows.append([label(str(r.metric)), f"{float(r.share_of_fund):.1%}", format_money(float(r.at_risk)),
                     "none set in the plan" if pd.isna(r.target) else f"{float(r.target):,.1f}",
                     "–" if missing else f"{float(r.p_miss):.0%}",
                     "–" if missing else format_money(float(r.expected_loss))])
    return headers, rows
