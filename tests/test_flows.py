"""The flow diagram's table on a real SKC year: every box balances, every box but the ends has exits.

A box's inflow minus its outflow over the measured window is the change in the number of patients in it
between the window's edges. Boxes where patients only decide (GP, 111 / out of hours, ambulance, minor
injury unit) hold nobody, so they balance exactly. Services hold patients for hours (A&E) to weeks
(reablement); over a year the change in what they hold is a few percent of the year's flow at most (the
largest is reablement, which fills from its warm start of 45 towards about 70: ~3.5 %), so they must balance
within STOCK_TOLERANCE of their inflow.
"""

from __future__ import annotations

import pandas as pd
import pytest

from caresim.analysis.tables import FLOW_ENDS, FLOW_SOURCES, FLOWS, flows_of
from caresim.engine.model import Model
from caresim.metrics import DAYS_PER_YEAR, measures

DECISIONS = ("GP", "111 / out of hours", "ambulance", "minor injury unit")
STOCK_TOLERANCE = 0.05


@pytest.fixture(scope="module")
def year(skc):
    """The SKC baseline over its full year: the raw counts, the measures and the flows."""
    record = Model(skc, "baseline", (), 0).run()
    values = measures(record, skc, ())
    return record, values, flows_of(values)


def balances(flows: pd.DataFrame) -> pd.DataFrame:
    inflow = flows.groupby("target")["per_year"].sum().rename("inflow")
    outflow = flows.groupby("source")["per_year"].sum().rename("outflow")
    return pd.concat([inflow, outflow], axis=1).fillna(0.0)


def test_every_box_but_the_ends_has_exits_and_the_ends_have_none():
    nodes = {node for source, target, _ in FLOWS for node in (source, target)}
    with_exits = {source for source, _, _ in FLOWS}
    assert nodes - with_exits == set(FLOW_ENDS)
    assert nodes - {target for _, target, _ in FLOWS} == set(FLOW_SOURCES)


def test_every_box_balances_on_a_year_of_skc(year):
    _, _, flows = year
    table = balances(flows)
    nobody_turned_away = {"turned away"}  # SKC's acute beds queue when full
    assert set(table.index) == {node for source, target, _ in FLOWS for node in (source, target)} - nobody_turned_away
    middle = table.drop(index=[*FLOW_SOURCES, *FLOW_ENDS], errors="ignore")
    assert (middle["outflow"] > 0).all(), middle
    for box in DECISIONS:
        assert middle.loc[box, "inflow"] == pytest.approx(middle.loc[box, "outflow"], rel=1e-9), box
    services = middle.drop(index=list(DECISIONS))
    gap = (services["inflow"] - services["outflow"]).abs() / services["inflow"]
    assert (gap <= STOCK_TOLERANCE).all(), gap.sort_values()


def test_what_enters_is_every_crisis_and_what_reaches_home_is_every_episode_ended_at_home(year):
    record, values, flows = year
    entering = flows[flows["source"] == "crisis"]["per_year"].sum()
    assert entering == pytest.approx(values["crises"], rel=1e-9)
    per_year = DAYS_PER_YEAR / record.services["acute_beds"].window_days
    ended_at_home = sum(count for name, count in record.counts.items()
                        if name.startswith("ended_") and name.endswith("_home"))
    back_to_a_care_home = record.counts["acute_to_care_home_return"]  # a resident's home is the care home
    reaching_home = flows[flows["target"] == "home"]["per_year"].sum()
    assert reaching_home == pytest.approx((ended_at_home - back_to_a_care_home) * per_year, rel=1e-9)
