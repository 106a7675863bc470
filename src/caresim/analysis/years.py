"""Year by year: every measure of each year of the measured window, summarised as the whole run is (mean, CI of
the mean, range of likely outcomes, paired differences), and the money ledger of each year with its running total.

Years are successive 365- or 366-day periods from the start of the measured window (financial years when it
starts on 1 April); the last may be part of a year. A year's measures are per 365.25 days, like the whole run's.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from caresim.analysis.money import money_by_year_frame
from caresim.analysis.summary import replications_frame, summary_frame
from caresim.experiment.replication import WorldResult
from caresim.scenario.schema import Scenario


def year_frames(results: list[list[WorldResult]], scenario: str, seed: int) -> list[tuple[str, float, pd.DataFrame]]:
    """Per year of the window: its label, its days and its replications' measures (as replications_frame)."""
    first = results[0][0].years
    out = []
    for index, (label, days, _) in enumerate(first):
        year = [[replace(w, measures=w.years[index].measures) for w in replication] for replication in results]
        out.append((label, days, replications_frame(year, scenario, seed)))
    return out


def years_frame(years: list[tuple[str, float, pd.DataFrame]], scenario: Scenario, main_mix: str | None,
                mixes: tuple[str, ...]) -> pd.DataFrame:
    """summary.csv for each year, tidy and long: scenario, year, days, world, measure, unit, the statistics."""
    tables = []
    for label, days, frame in years:
        table = summary_frame(frame, scenario.name, main_mix, mixes, scenario.bcf_targets)
        table.insert(1, "year", label)
        table.insert(2, "days", days)
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def year_tables(results: list[list[WorldResult]], scenario: Scenario, main_mix: str | None,
                mixes: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    """The run folder's year-by-year tables: years.csv and, with a mix, money_by_year.csv."""
    years = year_frames(results, scenario.name, scenario.run.seed)
    tables = {"years.csv": years_frame(years, scenario, main_mix, mixes)}
    if main_mix is not None:
        tables["money_by_year.csv"] = money_by_year_frame(years, scenario, main_mix)
    return tables
