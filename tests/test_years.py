"""Year by year: each year of a two-year run from its part of the record, the years adding up to the whole, one
year equal to the whole, growth in the second year, and the money of each year adding up to the running total."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from caresim.analysis.years import year_frames, year_tables
from caresim.engine.model import Model
from caresim.engine.tally import ReplicationRecord
from caresim.experiment.plan import BASELINE, make_plan
from caresim.experiment.replication import WorldResult, run_replication
from caresim.metrics import DAYS_PER_YEAR, measures, year_measures
from caresim.outputs.report import render_report
from caresim.outputs.run_data import RunData
from caresim.run_folder import CASH_RELEASING, COST, NET_CASH, write_frame
from caresim.scenario.schema import Scenario
from conftest import changed, shortened
from fake_run import write_fake_run

TWO_YEARS = 731  # 1 April 2015 to 31 March 2017: 2015/16 (366 days, with 29 February) and 2016/17 (365)
BANDS = ("18-64", "65-74", "75-84", "85+")


def small(skc: Scenario, days: int = TWO_YEARS, growth: float | None = None) -> Scenario:
    """SKC with a tenth of its people, no care homes (their crises follow occupancy, not the population) and
    a week's warm-up, so that two years run in seconds."""
    scenario = changed(skc, "population.localities", {k: v // 10 for k, v in skc.population.localities.items()})
    scenario = changed(scenario, "services.care_homes.enabled", False)
    if growth is not None:
        scenario = changed(scenario, "population.growth_per_year", dict.fromkeys(BANDS, growth))
    return shortened(scenario, days=days, warm_up_days=7)


@pytest.fixture(scope="module")
def two_years(skc: Scenario) -> tuple[Scenario, ReplicationRecord]:
    scenario = small(skc)
    return scenario, Model(scenario, BASELINE, (), 0).run()


def test_a_two_year_run_has_two_financial_years(two_years: tuple[Scenario, ReplicationRecord]) -> None:
    scenario, record = two_years
    years = year_measures(record, scenario, ())
    assert [(y.label, y.days) for y in years] == [("2015/16", 366.0), ("2016/17", 365.0)]


def test_the_years_add_up_to_the_whole_run(two_years: tuple[Scenario, ReplicationRecord]) -> None:
    scenario, record = two_years
    years = year_measures(record, scenario, ())
    whole = measures(record, scenario, ())
    window = sum(y.days for y in years)
    assert window == TWO_YEARS
    for name in ("crises", "emergency_admissions", "ae_attendances", "acute_bed_days", "delayed_days",
                 "reablement_episodes", "cost_total"):  # per 365.25 days: back to counts, summed
        in_years = sum(y.measures[name] * y.days for y in years)
        assert in_years == pytest.approx(whole[name] * window, rel=1e-9), name
    assert sum(record.years[-1].counts.values()) == sum(record.counts.values())
    assert record.delayed_by_year is not None
    assert np.allclose(record.delayed_by_year.sum(axis=0), record.delayed)
    assert all(y.measures["delayed_days"] > 0 for y in years)


def test_one_year_is_the_whole_run(skc: Scenario) -> None:
    scenario = small(skc, days=90)
    record = Model(scenario, BASELINE, (), 0).run()
    (year,) = year_measures(record, scenario, ())
    whole = measures(record, scenario, ())
    assert year.label == "2015/16" and year.days == 90
    assert year.measures.keys() == whole.keys()
    assert all(a == b or (math.isnan(a) and math.isnan(b)) for a, b in zip(year.measures.values(), whole.values(),
                                                                            strict=True))


@pytest.mark.parametrize("growth", [0.0, 0.2])
def test_growth_makes_the_second_year_busier(skc: Scenario, growth: float) -> None:
    scenario = small(skc, growth=growth)
    ratios = []
    for replication in range(2):
        first, second = year_measures(Model(scenario, BASELINE, (), replication).run(), scenario, ())
        ratios.append(second.measures["crises"] / first.measures["crises"])
    assert np.mean(ratios) == pytest.approx(1 + growth, abs=0.03)


def test_a_scheme_starting_in_the_second_year_costs_nothing_in_the_first(skc: Scenario) -> None:
    scenario = small(skc)
    name = scenario.mix_schemes[0]
    scenario = changed(scenario, f"schemes.{name}.start", "2016-04-01")
    scenario = changed(scenario, f"schemes.{name}.cost.non_recurrent", 100_000.0)
    record = Model(scenario, "mix", (name,), 0).run()
    first, second = year_measures(record, scenario, (name,))
    cost = scenario.scheme(name).cost
    assert first.measures["scheme_cost"] == 0
    assert second.measures["scheme_cost"] * second.days / DAYS_PER_YEAR == pytest.approx(
        cost.recurrent_per_year * second.days / DAYS_PER_YEAR + cost.non_recurrent)


@pytest.fixture(scope="module")
def experiment(skc: Scenario) -> tuple[Scenario, list[list[WorldResult]], dict[str, pd.DataFrame]]:
    """Three replications of the baseline, the mix and the world without the fund over two years."""
    scenario = small(skc)
    plan = make_plan(scenario, 3, mixes={scenario.mix_name: scenario.mix_schemes})
    results = [run_replication(plan, r) for r in range(3)]
    return scenario, results, year_tables(results, scenario, scenario.mix_name, (scenario.mix_name,))


def test_money_by_year_adds_up_to_its_running_total(
        experiment: tuple[Scenario, list[list[WorldResult]], dict[str, pd.DataFrame]]) -> None:
    scenario, results, tables = experiment
    years = tables["years.csv"]
    assert list(dict.fromkeys(years["year"])) == ["2015/16", "2016/17"]
    assert {"baseline", scenario.mix_name, "difference"} <= set(years["world"])
    money = tables["money_by_year.csv"]
    net = money[money["kind"] == NET_CASH].set_index(["comparison", "year", "basis"])["mean"]
    for comparison in set(money["comparison"]):
        in_year = net[comparison, "2015/16", "in_year"] + net[comparison, "2016/17", "in_year"]
        assert net[comparison, "2016/17", "cumulative"] == pytest.approx(in_year)
        assert net[comparison, "2015/16", "cumulative"] == net[comparison, "2015/16", "in_year"]
    lines = money[(money["basis"] == "in_year") & money["kind"].isin([COST, CASH_RELEASING])]
    by_year = lines.groupby(["comparison", "year"])["mean"].sum()
    assert by_year.to_numpy() == pytest.approx(net.xs("in_year", level="basis").sort_index().to_numpy())
    frames = year_frames(results, scenario.name, scenario.run.seed)
    first = frames[0][2]
    admissions = first[(first["world"] == BASELINE) & (first["measure"] == "emergency_admissions")]["value"]
    summarised = years[(years["year"] == "2015/16") & (years["world"] == BASELINE)
                       & (years["measure"] == "emergency_admissions")]["mean"]
    assert float(summarised.iloc[0]) == pytest.approx(admissions.mean())


def test_the_report_shows_the_years_of_a_run_longer_than_a_year(
        experiment: tuple[Scenario, list[list[WorldResult]], dict[str, pd.DataFrame]], tmp_path: Path) -> None:
    _, _, tables = experiment
    folder = write_fake_run(tmp_path / "run")
    for name, table in tables.items():
        write_frame(table, folder, name)
    report = render_report(RunData.load(folder), [])
    section = report[report.index("<h2>Year by year</h2>"):report.index("<h2>Money by payer</h2>")]
    assert "<th>2016/17</th>" in section and "net cash cost since the start of the run" in section
    for name, table in tables.items():  # the same run cut to its first year: no section
        write_frame(table[table["year"] == "2015/16"], folder, name)
    assert "Year by year" not in render_report(RunData.load(folder), [])
