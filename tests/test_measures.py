"""The registry of measures: every reported measure is declared once, and readers see labels, not ids."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from caresim.analysis.summary import paired_differences
from caresim.cli import app
from caresim.measures import (
    ATTRIBUTED,
    HEADLINE,
    HEADLINE_DIFFERENCES,
    RANKED,
    REDUCTIONS,
    REGISTRY,
    WORLD_MEASURES,
    UnknownMeasureError,
    measure,
    measures_markdown,
)
from conftest import ROOT

IDENTIFIER = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    tmp = tmp_path_factory.mktemp("measures")
    scenario = tmp / "short.yaml"
    scenario.write_text(f"extends: {ROOT / 'scenarios' / 'skc_2015.yaml'}\nname: short\n"
                        "run: {days: 30, warm_up_days: 5, replications: 2}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(scenario), "--serial", "--no-report", "--out", str(tmp / "out")])
    assert result.exit_code == 0, result.output
    (folder,) = (tmp / "out" / "short").iterdir()
    return folder, result.output


def test_every_measure_of_a_run_is_registered_and_every_registered_measure_is_reported(cli_run) -> None:
    folder, _ = cli_run
    summary = pd.read_csv(folder / "summary.csv")
    reported = set(summary["measure"])
    assert reported <= set(REGISTRY), reported - set(REGISTRY)
    assert set(REGISTRY) <= reported, set(REGISTRY) - reported
    units = summary.drop_duplicates("measure").set_index("measure")["unit"]
    assert all(units[name] == REGISTRY[name].unit for name in units.index)


def test_world_and_difference_measures_are_where_the_registry_says(cli_run) -> None:
    folder, _ = cli_run
    summary = pd.read_csv(folder / "summary.csv")
    baseline = set(summary.loc[summary["world"] == "baseline", "measure"])
    assert baseline == {m.name for m in WORLD_MEASURES}
    assert not {name for name in baseline if REGISTRY[name].difference_only}


def test_named_lists_hold_registered_measures_only() -> None:
    for names in (HEADLINE, HEADLINE_DIFFERENCES, ATTRIBUTED, RANKED):
        assert all(name in REGISTRY for name in names)
    assert all(REGISTRY[reduced].difference_only for reduced in REDUCTIONS.values())


def test_an_unknown_measure_raises_a_key_error_that_says_where_measures_live() -> None:
    with pytest.raises(KeyError) as raised:
        measure("emergency_admisions")
    assert isinstance(raised.value, UnknownMeasureError)
    assert "caresim.measures" in str(raised.value) and "emergency_admisions" in str(raised.value)
    assert measure("emergency_admissions").label == "Emergency admissions"


def test_a_reduction_is_baseline_minus_mix() -> None:
    values = {name: 1.0 for name in (m.name for m in WORLD_MEASURES)}
    baseline = values | {"emergency_admissions": 100.0, "cost_total": 5000.0, "scheme_cost": 0.0}
    mix = values | {"emergency_admissions": 90.0, "cost_total": 4000.0, "scheme_cost": 600.0}
    frame = pd.DataFrame([(world, 0, name, value) for world, world_values in (("baseline", baseline), ("mix", mix))
                          for name, value in world_values.items()],
                         columns=["world", "replication", "measure", "value"])
    difference = paired_differences(frame, "mix").iloc[0]
    assert difference["emergency_admissions"] == -10
    assert difference["emergency_admissions_avoided"] == 10
    assert difference["activity_savings"] == 1000
    assert difference["net_cost"] == -400
    assert difference["probability_saves_money"] == 1


def test_terminal_tables_show_labels_not_identifiers_within_80_columns(cli_run) -> None:
    _, output = cli_run
    tables = output[: output.index(" worlds in ")]
    assert "Scheme cost" in tables and "Falls prevention" in tables
    assert not IDENTIFIER.findall(tables), sorted(set(IDENTIFIER.findall(tables)))
    assert max(len(line) for line in tables.splitlines()) <= 80


def test_docs_measures_md_is_rendered_from_the_registry() -> None:
    committed = (ROOT / "docs" / "measures.md").read_text(encoding="utf-8")
    assert committed == measures_markdown(), "regenerate: python -m caresim.measures > docs/measures.md"
