"""Charts read a finished run folder and plot the numbers in it."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.image
import pandas as pd
import pytest

import fake_run
from caresim.measures import BCF
from caresim.outputs import behaviour, chart_style, charts
from caresim.outputs.flow_diagram import flow_diagram
from caresim.outputs.run_data import RunData
from fake_run import write_fake_run


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> RunData:
    return RunData.load(write_fake_run(tmp_path_factory.mktemp("charts") / "run"))


@pytest.fixture(scope="module")
def written(run: RunData) -> list[Path]:
    return charts.make_all_charts(run)


def test_every_chart_is_written_as_png_svg_and_alt_text(written: list[Path]) -> None:
    names = [path.stem for path in written]
    assert names == [
        "admissions_waterfall",
        "money",
        "bcf_metrics",
        "occupancy_fan",
        "delays_by_month",
        "mixes_plane",
        "tornado",
        "sensitivity_tornado",
        "flow_diagram",
        "behaviour",
    ]
    for png in written:
        assert png.parent.name == "charts"
        image = matplotlib.image.imread(png)
        assert image.shape[1] == round(chart_style.FIGURE_WIDTH_INCHES * 300), "PNG should be 300 dpi at house width"
        assert png.with_suffix(".svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
        alt_text = png.with_suffix(".txt").read_text(encoding="utf-8")
        assert len(alt_text) > 60


@pytest.mark.slow
def test_optional_charts_are_left_out_when_their_files_are_missing(tmp_path: Path) -> None:
    folder = write_fake_run(tmp_path / "run", with_optional_files=False)
    (folder / "attribution.csv").unlink()
    run = RunData.load(folder)
    names = [path.stem for path in charts.make_all_charts(run)]
    assert names == ["money", "bcf_metrics", "occupancy_fan", "delays_by_month", "flow_diagram", "behaviour"]


def test_behaviour_chart_draws_each_target_the_scenario_sets_and_no_other(run: RunData) -> None:
    data = charts.behaviour(run)
    targets = {measure: target for measure, target, *_ in fake_run.BEHAVIOUR_TARGETS}
    assert list(data["measure"]) == [m for measures in behaviour.GROUPS.values() for m in measures]
    assert data.set_index("measure")["target"].dropna().to_dict() == targets
    reablement = data.set_index("measure").loc["reablement_wait_days"]
    assert reablement["within"] is False and reablement["mean"] > reablement["high"]
    alt_text = (run.charts_dir / "behaviour.txt").read_text(encoding="utf-8")
    assert alt_text.startswith("The baseline meets 4 of 5 targets for how services behave; outside: ")
    assert "Reablement 4.64 (95% CI 4.49 to 4.79), target 3 (2 to 4), outside" in alt_text
    assert "Social care 35.1 (95% CI 34.8 to 35.5);" in alt_text
    assert len(re.findall(r", target \d", alt_text)) == len(targets)
    for identifier in ("_percent", "_days", "discharges_"):
        assert identifier not in alt_text


def test_behaviour_chart_marks_the_weekday_and_weekend_levels_the_weekend_share_implies(run: RunData) -> None:
    data = charts.behaviour(run).set_index("measure")
    days = data.loc[list(behaviour.WEEKDAY_DISCHARGES)]
    week = days["mean"].sum()
    weekend = days.loc[["discharges_saturday", "discharges_sunday"], "implied_target"]
    weekdays = days.drop(weekend.index)["implied_target"]
    assert weekend.nunique() == 1 and weekdays.nunique() == 1
    assert 2 * weekend.iloc[0] == pytest.approx(0.20 * week)
    assert 5 * weekdays.iloc[0] + 2 * weekend.iloc[0] == pytest.approx(week)
    assert days["implied_low"].loc["discharges_sunday"] == pytest.approx(0.15 * week / 2)
    assert days["implied_low"].loc["discharges_monday"] == pytest.approx(0.75 * week / 5)
    assert days["target"].isna().all()
    assert "the weekend-share target implies" in (run.charts_dir / "behaviour.txt").read_text(encoding="utf-8")


def test_behaviour_chart_of_an_older_run_leaves_out_the_panels_it_cannot_draw(tmp_path: Path) -> None:
    run = RunData.load(write_fake_run(tmp_path / "run", with_behaviour_measures=False))
    data = charts.behaviour(run)
    assert list(dict.fromkeys(data["group"])) == [behaviour.BY_SERVICE, behaviour.BY_AGENCY]
    assert data["implied_target"].isna().all()
    alt_text = (run.charts_dir / "behaviour.txt").read_text(encoding="utf-8")
    assert "by day of the week" not in alt_text and "Mean wait" not in alt_text
    assert charts.shows_behaviour(run)


def test_behaviour_chart_is_left_out_of_a_run_without_any_behaviour_measure(tmp_path: Path) -> None:
    folder = write_fake_run(tmp_path / "run", with_behaviour_measures=False)
    summary = pd.read_csv(folder / "summary.csv")
    kept = ~summary["measure"].isin(behaviour.OCCUPANCY + behaviour.AGENCY_SHARES)
    summary[kept].to_csv(folder / "summary.csv", index=False)
    run = RunData.load(folder)
    assert not charts.shows_behaviour(run)
    with pytest.raises(ValueError, match="none of the behaviour measures"):
        charts.behaviour(run)


def test_waterfall_plots_each_scheme_alone_the_remainder_and_the_whole_mix(run: RunData) -> None:
    data = charts.admissions_waterfall(run)
    schemes = data[data["kind"] == "scheme"].set_index("label")["avoided"]
    expected = dict(zip(fake_run.SCHEMES, fake_run.SCHEME_ADMISSIONS_AVOIDED, strict=True))
    assert {run.scheme_title(name): value for name, value in expected.items()} == schemes.to_dict()
    assert data.loc[data["kind"] == "remainder", "avoided"].item() == pytest.approx(fake_run.REMAINDER_ADMISSIONS)
    total = data[data["kind"] == "total"].iloc[0]
    assert total["avoided"] == pytest.approx(-run.estimate("difference", "emergency_admissions").mean)
    assert total["ci_low"] < total["avoided"] < total["ci_high"]
    steps = data[data["kind"] != "total"]
    assert steps["end"].iloc[-1] == pytest.approx(
        sum(fake_run.SCHEME_ADMISSIONS_AVOIDED) + fake_run.REMAINDER_ADMISSIONS
    )
    title = (run.charts_dir / "admissions_waterfall.txt").read_text(encoding="utf-8")
    assert title.startswith(f"The scheme mix avoids {chart_style.format_number(total['avoided'])} emergency admissions")


def test_occupancy_fan_holds_ordered_bands_for_both_worlds_and_services(run: RunData) -> None:
    data = charts.occupancy_fan(run)
    assert set(data["world"]) == {"baseline", fake_run.MIX}
    assert set(data["service"]) == {"acute_beds", "intermediate_care_beds"}
    assert len(data) == 2 * 2 * 365
    ordered = ["p05", "p25", "median", "p75", "p95"]
    assert (data[ordered].diff(axis=1).iloc[:, 1:] >= 0).all().all()
    acute = data[data["service"] == "acute_beds"]
    assert set(acute["capacity"]) == {fake_run.BED_CAPACITY["acute_beds"]}
    daily = run.daily
    first_day = daily[(daily["world"] == "baseline") & (daily["service"] == "acute_beds") & (daily["day"] == 0)]
    row = acute[(acute["world"] == "baseline") & (acute["day"] == 0)].iloc[0]
    assert row["median"] == pytest.approx(first_day["occupied"].median())


def test_delays_by_month_are_means_across_replications_by_reason(run: RunData) -> None:
    data = charts.delays_by_month(run)
    assert set(data["reason"]) == set(fake_run.DELAY_REASONS)
    assert set(data["world"]) == {"baseline", fake_run.MIX}
    assert data["month"].nunique() == 12
    monthly = run.monthly
    source = monthly[
        (monthly["world"] == fake_run.MIX)
        & (monthly["month"] == "2025-12")
        & (monthly["measure"] == "delayed_days_home_care_package")
    ]
    plotted = data[
        (data["world"] == fake_run.MIX) & (data["month"] == "2025-12") & (data["reason"] == "home_care_package")
    ]
    assert plotted["delayed_days"].item() == pytest.approx(source["value"].mean())


def test_bcf_metrics_show_baseline_mix_and_the_plan_targets(run: RunData) -> None:
    data = charts.bcf_metrics(run)
    assert list(data["measure"].unique()) == list(BCF)
    assert len(data) == 8
    targets = data.drop_duplicates("measure").set_index("measure")["target"]
    for measure, target in fake_run.BCF_TARGETS.items():
        assert targets[measure] == target
    assert pd.isna(targets["bcf_avoidable_admissions_per_100k"])
    mix = data[(data["world"] == fake_run.MIX) & (data["measure"] == "bcf_still_home_91d_percent")].iloc[0]
    assert mix["mean"] == pytest.approx(run.estimate(fake_run.MIX, "bcf_still_home_91d_percent").mean)


def test_money_shows_each_comparisons_cost_cash_released_capacity_and_net_cash_with_the_claim(run: RunData) -> None:
    data = charts.money(run).set_index(["comparison", "kind"])
    assert list(dict.fromkeys(data.index.get_level_values(0))) == list(fake_run.MONEY)
    for comparison, (cost, _, _) in fake_run.MONEY.items():
        bars = data.loc[comparison]
        assert list(bars.index) == ["cost", "total_cash", "total_capacity", "net_cash"]
        assert bars.loc["cost", "mean"] == pytest.approx(cost)
        assert bars.loc["net_cash", "mean"] == pytest.approx(bars.loc["cost", "mean"] + bars.loc["total_cash", "mean"])
        assert (bars["outcome_low"] <= bars["mean"]).all() and (bars["mean"] <= bars["outcome_high"]).all()
    text = (run.charts_dir / "money.txt").read_text(encoding="utf-8")
    first_net = chart_style.format_money(data.loc[(next(iter(fake_run.MONEY)), "net_cash"), "mean"])
    assert f"net cash cost {first_net} a year" in text and "the plan claims £3.0m" in text.lower()


def test_mixes_plane_plots_every_compared_mix(run: RunData) -> None:
    data = charts.mixes_plane(run).set_index("mix")
    comparison = run.comparison.set_index(["mix", "measure"])
    assert set(data.index) == set(run.comparison["mix"])
    for mix in data.index:
        assert data.loc[mix, "admissions_avoided"] == comparison.loc[(mix, "emergency_admissions_avoided"), "mean"]
        assert data.loc[mix, "net_cost_ci_high"] == comparison.loc[(mix, "net_cost"), "ci_high"]


def test_sensitivity_tornado_orders_inputs_by_swing_and_marks_assumptions(run: RunData) -> None:
    data = charts.sensitivity_tornado(run)
    assert data["swing"].is_monotonic_increasing
    assert data.iloc[-1]["parameter"] == "schemes.rapid_response.admissions_avoided_share"
    assert data["central"].iloc[0] == pytest.approx(run.estimate("difference", "emergency_admissions").mean)
    assert "(an assumption)" in (run.charts_dir / "sensitivity_tornado.txt").read_text(encoding="utf-8")


def test_tornado_shows_signed_rank_correlations_strongest_on_admissions_at_the_top(run: RunData) -> None:
    data = charts.tornado(run)
    assert data["emergency_admissions_avoided"].abs().is_monotonic_increasing
    assert data.iloc[-1]["net_cost"] == pytest.approx(-0.55)
    text = (run.charts_dir / "tornado.txt").read_text(encoding="utf-8")
    assert "admissions avoided +0.82, net cost -0.55" in text


def test_flow_diagram_lays_nodes_out_left_to_right_with_unknown_nodes_last(run: RunData) -> None:
    data = flow_diagram(run)
    assert len(data) == len(fake_run.FLOWS)
    assert data["per_year"].sum() == sum(volume for _, _, volume in fake_run.FLOWS)
    column = dict(zip(data["source"], data["source_column"], strict=False))
    column |= dict(zip(data["target"], data["target_column"], strict=False))
    assert column["crisis"] == 0
    assert column["crisis"] < column["GP"] < column["A&E"] < column["acute beds"] < column["reablement"]
    assert column["reablement"] < column["home"]
    assert column["hospice"] == max(column.values())
    assert set(data["kind"]) >= {"next", "long", "back"}


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0"), (245.4, "245"), (12_345, "12,300"), (0.15, "0.15"), (5.0, "5"), (-42.16, "−42.2")],
)
def test_numbers_are_rounded_to_three_significant_figures(value: float, text: str) -> None:
    assert chart_style.format_number(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(2_400_000, "£2.4m"), (350_400, "£350k"), (950, "£950"), (-1_250_000, "−£1.2m")],
)
def test_money_is_written_for_readers(value: float, text: str) -> None:
    assert chart_style.format_money(value) == text


def test_money_draws_a_constant_cost_whose_mean_rounds_outside_its_percentiles(tmp_path: Path) -> None:
    folder = write_fake_run(tmp_path / "run")
    money = pd.read_csv(folder / "money.csv")
    money.loc[money["kind"] == "cost", "p97_5"] = money.loc[money["kind"] == "cost", "mean"] - 1e-6
    money.to_csv(folder / "money.csv", index=False)
    data = charts.money(RunData.load(folder))
    assert (folder / "charts" / "money.png").exists() and len(data) == 8
