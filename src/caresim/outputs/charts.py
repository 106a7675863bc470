"""Charts of a finished run: each takes a `RunData`, writes its files and returns the data frame it plotted.

Titles state the finding in words computed from the data; footnotes give the source."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.dates import DateFormatter, MonthLocator
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from caresim.measures import BCF, REGISTRY, reduction
from caresim.outputs.behaviour import (
    BY_AGENCY,
    BY_REASON,
    BY_SERVICE,
    BY_WEEKDAY,
    WAIT_BY_SERVICE,
    WEEKDAY_DISCHARGES,
    WEEKDAYS,
    WEEKEND,
    WEEKEND_SHARE,
    behaviour_table,
    reader_label,
    weekend_levels,
)
from caresim.outputs.chart_style import (
    BASELINE_COLOUR,
    BLACK,
    BLUE,
    BLUISH_GREEN,
    CONFIDENCE_NOTE,
    GREY,
    MIX_COLOUR,
    OKABE_ITO,
    ORANGE,
    SKY_BLUE,
    VERMILLION,
    YELLOW,
    chart_path,
    format_interval,
    format_money,
    format_number,
    format_value,
    label,
    new_figure,
    save_chart,
    styled,
    wrap,
)
from caresim.outputs.flow_diagram import flow_diagram
from caresim.outputs.run_data import BASELINE, DIFFERENCE, Estimate, RunData
from caresim.scenario.fields import DELAY_REASONS

ADMISSIONS = "emergency_admissions"
BED_SERVICES = ("acute_beds", "intermediate_care_beds")
DELAY_PREFIX = "delayed_days_"
DELAY_COLOURS = dict(zip(DELAY_REASONS, (BLUE, ORANGE, SKY_BLUE, VERMILLION, BLUISH_GREEN, YELLOW), strict=True))
COST_NHS = "cost_nhs"
COST_COUNCIL = "cost_council"
SCHEME_COST = "scheme_cost"
NET_COST = "net_cost"
ACTIVITY_SAVINGS = "activity_savings"


def _assumption_note(run: RunData) -> str:
    count = run.assumption_count
    return f"{count} model inputs are assumptions rather than evidence (listed in the report)." if count else ""


def _change_phrase(avoided: Estimate, noun: str) -> str:
    """'avoids 240 X a year (95% CI ...)', honest about sign and about intervals that include zero."""
    amount = format_value(abs(avoided.mean), avoided.unit)
    verb = "avoids" if avoided.mean >= 0 else "adds"
    phrase = f"{verb} {amount} {noun} a year ({format_interval(avoided)})"
    if not avoided.excludes_zero():
        phrase = f"may {verb.rstrip('s')} {amount} {noun} a year, but the 95% CI includes no change"
    return phrase


def _bar_labels(axes: Axes, positions: np.ndarray, values: pd.Series, texts: list[str]) -> None:
    """Value labels just above each bar (or its whisker), on white so lines do not strike through them."""
    for position, value, text in zip(positions, values, texts, strict=True):
        axes.annotate(
            text,
            (position, value),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=7,
            bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none"},
        )


@styled
def admissions_waterfall(run: RunData) -> pd.DataFrame:
    """Emergency admissions avoided by each scheme alone, the interaction remainder and the whole mix."""
    if run.attribution is None:
        raise ValueError(f"{run.run_dir} has no attribution.csv")
    rows = run.attribution[run.attribution["measure"] == ADMISSIONS]
    steps = []
    for kind, method in (("scheme", "one_at_a_time"), ("remainder", "remainder")):
        selected = rows[rows["method"] == method]
        if kind == "scheme":
            selected = selected.sort_values("mean")
        for row in selected.itertuples():
            steps.append(
                {
                    "label": (run.scheme_title(row.scheme) or label(row.scheme)) if kind == "scheme"
                    else label("interaction"),
                    "kind": kind,
                    "avoided": reduction(row.mean),
                    "ci_low": reduction(row.ci_high),
                    "ci_high": reduction(row.ci_low),
                }
            )
    total = run.estimate(DIFFERENCE, ADMISSIONS).reduction()
    data = pd.DataFrame(steps)
    data["end"] = data["avoided"].cumsum()
    data["start"] = data["end"] - data["avoided"]
    total_row = {"label": "Whole mix", "kind": "total", "avoided": total.mean, "ci_low": total.ci_low}
    total_row |= {"ci_high": total.ci_high, "start": 0.0, "end": total.mean}
    data = pd.concat([data, pd.DataFrame([total_row])], ignore_index=True)

    figure = new_figure(4.3)
    axes = figure.add_subplot()
    colours = data["kind"].map({"scheme": BLUE, "remainder": GREY, "total": BLUISH_GREEN})
    positions = np.arange(len(data))
    axes.bar(positions, data["avoided"], bottom=data["start"], color=colours, width=0.62)
    errors = [data["avoided"] - data["ci_low"], data["ci_high"] - data["avoided"]]
    axes.errorbar(positions, data["end"], yerr=errors, fmt="none", ecolor=BLACK, elinewidth=0.9, capsize=3)
    whisker_tops = np.maximum(data["start"], data["end"] + data["ci_high"] - data["avoided"])
    _bar_labels(axes, positions, whisker_tops, [format_number(v) for v in data["avoided"]])
    for position in positions[:-2]:
        axes.plot([position + 0.31, position + 0.69], [data["end"][position]] * 2, color=GREY, linewidth=0.6)
    axes.axhline(0, color=BLACK, linewidth=0.8)
    axes.set_xticks(positions, [wrap(text, max(9, 84 // len(data))) for text in data["label"]])
    axes.set_ylabel("Emergency admissions avoided per year")
    axes.set_xlabel("Each scheme added alone to the baseline, then the interaction, then all schemes together")
    axes.legend(
        handles=[
            Patch(color=BLUE, label="One scheme alone"),
            Patch(color=GREY, label="Interaction (mix minus sum of schemes)"),
            Patch(color=BLUISH_GREEN, label="Whole scheme mix"),
        ],
        loc="lower left",  # above the plot, where no bar or label can be
        bbox_to_anchor=(0, 1),
        ncols=3,
    )
    largest = data[data["kind"] == "scheme"].sort_values("avoided").iloc[-1]
    title = (
        f"The scheme mix {_change_phrase(total, 'emergency admissions')}; {largest['label'].lower()} contributes most"
    )
    described = "; ".join(
        f"{row.label}: {format_number(row.avoided)} (95% CI {format_number(row.ci_low)} to "
        f"{format_number(row.ci_high)})"
        for row in data.itertuples()
    )
    alt_text = f"Waterfall bar chart of emergency admissions avoided per year. {described}."
    save_chart(figure, run, "admissions_waterfall", title, alt_text, f"{CONFIDENCE_NOTE} {_assumption_note(run)}")
    return data


@styled
def occupancy_fan(run: RunData) -> pd.DataFrame:
    """Acute and intermediate-care bed occupancy through the year: median, 50% and 90% bands, and capacity."""
    worlds = (BASELINE, run.mix_name)
    daily = run.daily[run.daily["service"].isin(BED_SERVICES) & run.daily["world"].isin(worlds)]
    keys = ["world", "service", "day"]
    quantiles = daily.groupby(keys)["occupied"].quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack()
    quantiles.columns = ["p05", "p25", "median", "p75", "p95"]
    context = daily.groupby(keys).agg(date=("date", "first"), capacity=("capacity", "mean"))
    data = quantiles.join(context).reset_index()
    data["date"] = pd.to_datetime(data["date"])

    services = [service for service in BED_SERVICES if service in set(data["service"])]
    figure = new_figure(2.3 * len(services) + 1.0)
    panels = figure.subplots(len(services), 1, sharex=True, squeeze=False)[:, 0]
    findings = []
    for axes, service in zip(panels, services, strict=True):
        shares = {}
        for world, colour in ((BASELINE, BASELINE_COLOUR), (run.mix_name, MIX_COLOUR)):
            rows = data[(data["service"] == service) & (data["world"] == world)]
            axes.fill_between(rows["date"], rows["p05"], rows["p95"], color=colour, alpha=0.15, linewidth=0)
            axes.fill_between(rows["date"], rows["p25"], rows["p75"], color=colour, alpha=0.35, linewidth=0)
            axes.plot(rows["date"], rows["median"], color=colour, linewidth=1.2)
            shares[world] = 100 * float((rows["median"] / rows["capacity"]).mean())
        for world, style in ((BASELINE, "--"), (run.mix_name, ":")):
            rows = data[(data["service"] == service) & (data["world"] == world)]
            axes.plot(rows["date"], rows["capacity"], color=BLACK, linestyle=style, linewidth=1)
        axes.set_title(label(service), loc="left")
        axes.set_ylabel("Beds occupied (beds)")
        findings.append(
            f"{label(service).lower()} average {shares[run.mix_name]:.0f}% full with the mix "
            f"against {shares[BASELINE]:.0f}% without"
        )
    panels[-1].set_xlabel("Date (month of the simulated year)")
    panels[-1].xaxis.set_major_locator(MonthLocator())
    panels[-1].xaxis.set_major_formatter(DateFormatter("%b\n%Y"))
    figure.legend(
        handles=[
            Patch(color=BASELINE_COLOUR, alpha=0.6, label="Baseline (no schemes)"),
            Patch(color=MIX_COLOUR, alpha=0.6, label=wrap(f"Scheme mix: {run.mix_title}", 60)),
            Line2D([], [], color=BLACK, linestyle="--", label="Capacity, baseline"),
            Line2D([], [], color=BLACK, linestyle=":", label="Capacity with the mix"),
        ],
        loc="outside lower center",
        ncols=2,
    )
    title = "Median occupancy: " + "; ".join(findings)
    alt_text = (
        "Fan chart of daily beds occupied through the year for "
        + " and ".join(label(s).lower() for s in services)
        + ", baseline and scheme mix, with capacity as dashed (baseline) and dotted (scheme mix) lines. "
        + "; ".join(findings).capitalize()
        + "."
    )
    note = "Lines are medians across replications; dark bands hold the middle 50% and light bands 90% of them."
    save_chart(figure, run, "occupancy_fan", title, alt_text, note)
    return data


def _month_label(month: object) -> str:
    text = str(month)
    parsed = pd.to_datetime(text, format="%Y-%m", errors="coerce")
    return text if pd.isna(parsed) else parsed.strftime("%b")


@styled
def delays_by_month(run: RunData) -> pd.DataFrame:
    """Delayed days per month stacked by reason, baseline and scheme mix side by side."""
    worlds = (BASELINE, run.mix_name)
    rows = run.monthly[run.monthly["measure"].str.startswith(DELAY_PREFIX) & run.monthly["world"].isin(worlds)]
    data = rows.groupby(["world", "month", "measure"], as_index=False)["value"].mean()
    data["reason"] = data["measure"].str.removeprefix(DELAY_PREFIX)
    data = data.rename(columns={"value": "delayed_days"})[["world", "month", "reason", "delayed_days"]]
    reasons = [reason for reason in DELAY_REASONS if reason in set(data["reason"])]
    reasons += sorted(set(data["reason"]) - set(reasons))

    figure = new_figure(4.4)
    panels = figure.subplots(1, 2, sharey=True)
    for axes, world in zip(panels, worlds, strict=True):
        table = data[data["world"] == world].pivot(index="month", columns="reason", values="delayed_days")
        table = table.sort_index().reindex(columns=reasons, fill_value=0.0)
        positions = np.arange(len(table))
        bottom = np.zeros(len(table))
        for index, reason in enumerate(reasons):
            colour = DELAY_COLOURS.get(reason, OKABE_ITO[index % len(OKABE_ITO)])
            axes.bar(positions, table[reason], bottom=bottom, color=colour, width=0.8, label=label(reason))
            bottom += table[reason].to_numpy()
        axes.set_xticks(positions, [_month_label(month) for month in table.index], rotation=90)
        axes.set_title("Baseline (no schemes)" if world == BASELINE else wrap(f"Scheme mix: {run.mix_title}", 40),
                       loc="left")
        axes.set_xlabel("Month")
    panels[0].set_ylabel("Delayed days per month (mean of replications)")
    handles, labels = panels[0].get_legend_handles_labels()
    figure.legend(handles[::-1], labels[::-1], loc="outside right center", title="Reason for delay")

    totals = data.groupby(["world", "reason"])["delayed_days"].sum().unstack("world")
    baseline_total = float(totals[BASELINE].sum())
    mix_total = float(totals[run.mix_name].sum())
    change = baseline_total - mix_total
    falls = (totals[BASELINE] - totals[run.mix_name]).sort_values()
    share = 100 * change / baseline_total if baseline_total else math.nan
    verb = "cuts" if change >= 0 else "adds"
    title = (
        f"The scheme mix {verb} delayed days by {format_number(abs(change))} a year ({abs(share):.0f}%); "
        f"the biggest change is in '{label(falls.index[-1]).lower()}'"
    )
    alt_text = (
        f"Two stacked bar charts of mean delayed days per month by reason. Baseline total "
        f"{format_number(baseline_total)} delayed days a year, scheme mix {format_number(mix_total)}. "
        + "; ".join(f"{label(reason)}: change {format_number(-fall)}" for reason, fall in falls[::-1].items())
        + "."
    )
    save_chart(figure, run, "delays_by_month", title, alt_text, "Means across replications.")
    return data


@styled
def bcf_metrics(run: RunData) -> pd.DataFrame:
    """The four BCF metrics, baseline against scheme mix, with the plan's targets where given."""
    targets = run.manifest.get("bcf_targets") or {}
    records = []
    for measure in BCF:
        for world in (BASELINE, run.mix_name):
            estimate = run.estimate(world, measure)
            records.append(
                {
                    "measure": measure,
                    "world": world,
                    "mean": estimate.mean,
                    "ci_low": estimate.ci_low,
                    "ci_high": estimate.ci_high,
                    "unit": estimate.unit,
                    "target": float(targets.get(measure, math.nan)),
                }
            )
    data = pd.DataFrame(records)

    figure = new_figure(5.6)
    panels = figure.subplots(2, 2).ravel()
    improved = met = 0
    for axes, measure in zip(panels, BCF, strict=True):
        rows = data[data["measure"] == measure]
        positions = np.arange(len(rows))
        axes.bar(positions, rows["mean"], color=[BASELINE_COLOUR, MIX_COLOUR], width=0.6)
        errors = [rows["mean"] - rows["ci_low"], rows["ci_high"] - rows["mean"]]
        axes.errorbar(positions, rows["mean"], yerr=errors, fmt="none", ecolor=BLACK, elinewidth=0.9, capsize=3)
        target = rows["target"].iloc[0]
        heading = label(measure)
        higher = REGISTRY[measure].good == "higher"
        if math.isfinite(target):
            axes.axhline(target, color=VERMILLION, linestyle="--", linewidth=1.2)
            heading += f" (plan target {format_number(target)})"
            mix_mean = rows["mean"].iloc[1]
            met += mix_mean >= target if higher else mix_mean <= target
        difference = run.estimate(DIFFERENCE, measure)
        better = difference.ci_low > 0 if higher else difference.ci_high < 0
        improved += better
        tick_labels = [
            f"{name}\n{format_number(row.mean)} ({format_number(row.ci_low)} to {format_number(row.ci_high)})"
            for name, row in zip(("Baseline", "Scheme mix"), rows.itertuples(), strict=True)
        ]
        axes.set_xticks(positions, tick_labels)
        axes.set_title(wrap(heading, 36), loc="left")
        axes.set_ylabel(wrap(rows["unit"].iloc[0], 28))
        top = max(rows["ci_high"].max(), 0 if math.isnan(target) else target) * 1.1
        axes.set_ylim(min(0, rows["ci_low"].min() * 1.1), top)
    if targets:
        figure.legend(
            handles=[Line2D([], [], color=VERMILLION, linestyle="--", label="Target in the BCF plan")],
            loc="outside lower center",
        )
    title = f"The scheme mix clearly improves {improved} of the 4 BCF metrics"
    if targets:
        title += f" and meets {met} of the {len(targets)} {'target' if len(targets) == 1 else 'targets'} in the plan"
    alt_text = "Four bar charts, baseline against scheme mix. " + "; ".join(
        f"{label(row.measure)} ({row.unit}), {'baseline' if row.world == BASELINE else 'scheme mix'}: "
        f"{format_number(row.mean)} (95% CI {format_number(row.ci_low)} to {format_number(row.ci_high)})"
        + (f", plan target {format_number(row.target)}" if math.isfinite(row.target) else "")
        for row in data.itertuples()
    )
    note = f"{CONFIDENCE_NOTE} 'Clearly improves' means the 95% CI of the paired difference excludes no change."
    save_chart(figure, run, "bcf_metrics", title, alt_text + ".", note)
    return data


@styled
def money(run: RunData) -> pd.DataFrame:
    """Scheme cost against modelled savings by payer, the net cost and the plan's claimed benefit."""
    items = [
        ("Scheme cost", "cost", run.estimate(run.mix_name, SCHEME_COST)),
        ("Saving to the NHS", "saving", run.estimate(DIFFERENCE, COST_NHS).reduction()),
        ("Saving to the council", "saving", run.estimate(DIFFERENCE, COST_COUNCIL).reduction()),
        ("Total modelled saving", "saving", run.estimate(DIFFERENCE, ACTIVITY_SAVINGS)),
        ("Net cost", "net", run.estimate(DIFFERENCE, NET_COST)),
    ]
    data = pd.DataFrame(
        [
            {"item": item, "kind": kind, "mean": e.mean, "ci_low": e.ci_low, "ci_high": e.ci_high, "unit": e.unit}
            for item, kind, e in items
        ]
    )
    claimed = run.manifest.get("claimed_benefit_per_year") or None
    if claimed is not None:
        claim_row = {"item": "Plan's claimed benefit", "kind": "claim", "mean": float(claimed)}
        data = pd.concat([data, pd.DataFrame([claim_row | {"unit": data["unit"].iloc[0]}])], ignore_index=True)

    figure = new_figure(4.3)
    axes = figure.add_subplot()
    modelled = data[data["kind"] != "claim"]
    positions = np.arange(len(modelled))
    colours = [VERMILLION, BLUISH_GREEN, SKY_BLUE, BLUE, GREY]
    axes.bar(positions, modelled["mean"] / 1e6, color=colours, width=0.62)
    errors = [(modelled["mean"] - modelled["ci_low"]) / 1e6, (modelled["ci_high"] - modelled["mean"]) / 1e6]
    axes.errorbar(positions, modelled["mean"] / 1e6, yerr=errors, fmt="none", ecolor=BLACK, elinewidth=0.9, capsize=3)
    tops = np.maximum(modelled["ci_high"], modelled["mean"]) / 1e6
    _bar_labels(axes, positions, tops, [format_money(v) for v in modelled["mean"]])
    axes.axhline(0, color=BLACK, linewidth=0.8)
    axes.set_xticks(positions, [wrap(item, 13) for item in modelled["item"]])
    axes.set_ylabel("£ million per year")
    axes.set_xlabel("Money flow (savings = baseline cost minus scheme-mix cost)")

    saving, cost, net = items[3][2], items[0][2], items[4][2]
    cover = 100 * saving.mean / cost.mean if cost.mean else math.nan
    title = (
        f"Modelled savings of {format_money(saving.mean)} a year ({format_interval(saving)}) "
        f"offset {cover:.0f}% of the {format_money(cost.mean)} scheme cost"
    )
    alt_text = "Bar chart in pounds per year. " + "; ".join(
        f"{row.item}: {format_money(row.mean)} (95% CI {format_money(row.ci_low)} to {format_money(row.ci_high)})"
        for row in modelled.itertuples()
    )
    if claimed is not None:
        axes.axhline(
            float(claimed) / 1e6,
            color=VERMILLION,
            linestyle="--",
            linewidth=1.2,
            label=f"Plan's claimed benefit: {format_money(float(claimed))} a year (a claim, not modelled)",
        )
        axes.legend(loc="upper right")
        title += f"; the plan claims {format_money(float(claimed))}"
        alt_text += f"; dashed line: the plan's claimed benefit of {format_money(float(claimed))} a year"
    top = max(tops.max(), 0 if claimed is None else float(claimed) / 1e6)
    axes.set_ylim(min(0, (modelled["ci_low"].min() / 1e6) * 1.15), top * 1.3)
    note = f"{CONFIDENCE_NOTE} Net cost = scheme cost minus NHS and council savings ({format_money(net.mean)})."
    save_chart(figure, run, "money", title, alt_text + ".", f"{note} {_assumption_note(run)}")
    return data


@styled
def mixes_plane(run: RunData) -> pd.DataFrame:
    """Cost-effectiveness plane of the compared mixes (comparison.csv), CIs in both directions."""
    if run.comparison is None:
        raise ValueError(f"{run.run_dir} has no comparison.csv")
    wide = run.comparison.pivot(index="mix", columns="measure", values=["mean", "ci_low", "ci_high"])
    data = pd.DataFrame(
        {
            "mix": wide.index,
            "title": [run.title_of(mix) for mix in wide.index],
            "admissions_avoided": wide[("mean", "emergency_admissions_avoided")].to_numpy(),
            "admissions_ci_low": wide[("ci_low", "emergency_admissions_avoided")].to_numpy(),
            "admissions_ci_high": wide[("ci_high", "emergency_admissions_avoided")].to_numpy(),
            "net_cost": wide[("mean", NET_COST)].to_numpy(),
            "net_cost_ci_low": wide[("ci_low", NET_COST)].to_numpy(),
            "net_cost_ci_high": wide[("ci_high", NET_COST)].to_numpy(),
        }
    )

    figure = new_figure(4.6)
    axes = figure.add_subplot()
    axes.grid(axis="x")
    for row in data.itertuples():
        colour = MIX_COLOUR if row.mix == run.mix_name else ORANGE
        axes.errorbar(
            row.admissions_avoided,
            row.net_cost / 1e6,
            xerr=[[row.admissions_avoided - row.admissions_ci_low], [row.admissions_ci_high - row.admissions_avoided]],
            yerr=[[(row.net_cost - row.net_cost_ci_low) / 1e6], [(row.net_cost_ci_high - row.net_cost) / 1e6]],
            fmt="o",
            color=colour,
            ecolor=colour,
            elinewidth=1,
            capsize=3,
            markersize=6,
        )
        axes.annotate(
            wrap(row.title, 30),
            (row.admissions_avoided, row.net_cost / 1e6),
            xytext=(6, 5),
            textcoords="offset points",
            fontsize=7.5,
        )
    axes.axhline(0, color=BLACK, linewidth=0.8)
    axes.axvline(0, color=BLACK, linewidth=0.8)
    axes.annotate(
        "Below this line the mix saves money",
        (0.01, 0),
        xycoords=("axes fraction", "data"),
        xytext=(0, -10),
        textcoords="offset points",
        fontsize=7,
        color="#444444",
    )
    axes.set_xlabel("Emergency admissions avoided per year")
    axes.set_ylabel("Net cost (£ million per year)")
    most = data.sort_values("admissions_avoided").iloc[-1]
    cheapest = data.sort_values("net_cost").iloc[0]
    if most["mix"] == cheapest["mix"]:
        title = (
            f"{most['title']} avoids the most admissions ({format_number(most['admissions_avoided'])} a year) "
            f"at the lowest net cost ({format_money(most['net_cost'])} a year)"
        )
    else:
        title = (
            f"{most['title']} avoids the most admissions ({format_number(most['admissions_avoided'])} a year); "
            f"{cheapest['title']} has the lowest net cost ({format_money(cheapest['net_cost'])} a year)"
        )
    alt_text = "Scatter plot of net cost against admissions avoided per year, one point per scheme mix. " + "; ".join(
        f"{row.title}: {format_number(row.admissions_avoided)} admissions avoided "
        f"(95% CI {format_number(row.admissions_ci_low)} to {format_number(row.admissions_ci_high)}), net cost "
        f"{format_money(row.net_cost)} (95% CI {format_money(row.net_cost_ci_low)} to "
        f"{format_money(row.net_cost_ci_high)})"
        for row in data.itertuples()
    )
    note = f"Points are means; whiskers are 95% confidence intervals in both directions. {_assumption_note(run)}"
    save_chart(figure, run, "mixes_plane", title, alt_text + ".", note)
    return data


@styled
def tornado(run: RunData) -> pd.DataFrame:
    """Which scheme assumptions move the headline most (sensitivity.csv)."""
    if run.sensitivity is None:
        raise ValueError(f"{run.run_dir} has no sensitivity.csv")
    data = run.sensitivity.copy()
    data["swing"] = (data["headline_high"] - data["headline_low"]).abs()
    data = data.sort_values("swing").reset_index(drop=True)
    measure = str(data["headline_measure"].iloc[0])
    central = run.estimate(DIFFERENCE, measure)
    data["central"] = central.mean
    assumed = {
        parameter["path"]
        for parameter in run.manifest.get("parameters_with_sources", [])
        if parameter.get("flag") == "assumption"
    }

    figure = new_figure(1.4 + 0.42 * len(data))
    axes = figure.add_subplot()
    axes.grid(axis="x")
    axes.grid(axis="y", visible=False)
    positions = np.arange(len(data))
    for end, colour in (("low", SKY_BLUE), ("high", BLUE)):
        axes.barh(positions, data[f"headline_{end}"] - central.mean, left=central.mean, color=colour, height=0.6,
                  label=f"Input at its {end} value")
    axes.axvline(central.mean, color=BLACK, linewidth=0.9)
    tick_labels = [
        wrap(label(row.parameter), 34)
        + f"\n({format_number(row.low_value)} to {format_number(row.high_value)}"
        + ("; an assumption)" if row.parameter in assumed else ")")
        for row in data.itertuples()
    ]
    axes.set_yticks(positions, tick_labels, fontsize=7)
    axes.set_xlabel(f"{label(measure)} ({central.unit})")
    axes.set_ylabel("Input varied (low to high value)")
    axes.legend(loc="lower right", bbox_to_anchor=(1, 1), ncols=2)
    top = data.iloc[-1]
    title = (
        f"The result is most sensitive to '{label(top['parameter']).lower()}': the change in "
        f"{label(measure).lower()} ranges from {format_number(top['headline_low'])} "
        f"to {format_number(top['headline_high'])} a year (central {format_number(central.mean)})"
    )
    alt_text = "Tornado chart, largest swing first. " + "; ".join(
        f"{label(row.parameter)} from {format_number(row.low_value)} to {format_number(row.high_value)}: "
        f"{format_number(row.headline_low)} to {format_number(row.headline_high)}"
        + (" (an assumption)" if row.parameter in assumed else "")
        for row in data[::-1].itertuples()
    )
    note = "Each bar varies one input, others held at their central values."
    save_chart(figure, run, "tornado", title, alt_text + ".", note)
    return data


TARGET_ALPHA = 0.18
BEHAVIOUR_AXES = {  # group → panel heading and axis label
    BY_WEEKDAY: ("Acute discharges by day of the week", "Discharges a year on that day"),
    BY_SERVICE: ("Occupancy by service", "Share of capacity in use (%)"),
    WAIT_BY_SERVICE: ("Mean wait by service", "Days waited for a place (mean)"),
    BY_REASON: ("Delayed days by reason", "Share of all delayed days (%)"),
    BY_AGENCY: ("Delayed days by agency", "Share of all delayed days (%)"),
}


def _target_text(row: pd.Series) -> str:
    """'target 88.5 (85 to 92), inside' or '' where the measure has no target."""
    if not math.isfinite(row["target"]):
        return ""
    where = "inside" if row["within"] else "outside"
    accepted = f"{format_number(row['low'])} to {format_number(row['high'])}"
    return f"target {format_number(row['target'])} ({accepted}), {where}"


def _behaviour_rows(table: pd.DataFrame) -> list[list[str]]:
    """The panels to draw, row by row: the weekday discharges (all seven days needed), then occupancy and waits,
    then delays by reason and by agency; a panel whose measures the run lacks is left out."""
    present = set(table["group"])
    weekdays = [BY_WEEKDAY] if set(WEEKDAY_DISCHARGES) <= set(table["measure"]) else []
    rows = [weekdays, [g for g in (BY_SERVICE, WAIT_BY_SERVICE) if g in present],
            [g for g in (BY_REASON, BY_AGENCY) if g in present]]
    return [row for row in rows if row]


def _target_band(axes: Axes, row: pd.Series, position: float, across: str, half: float = 0.42) -> None:
    """A target's tolerance band and its dashed line over one bar, vertical bars (across='x') or horizontal."""
    span = [position - half, position + half]
    if across == "x":
        axes.fill_between(span, row["low"], row["high"], color=VERMILLION, alpha=TARGET_ALPHA, linewidth=0)
        axes.plot(span, [row["target"]] * 2, color=VERMILLION, linestyle="--", linewidth=1.6)
    else:
        axes.fill_betweenx(span, row["low"], row["high"], color=VERMILLION, alpha=TARGET_ALPHA, linewidth=0)
        axes.plot([row["target"]] * 2, span, color=VERMILLION, linestyle="--", linewidth=1.6)


def _weekday_panel(axes: Axes, rows: pd.DataFrame, levels: dict[str, tuple[float, float, float]] | None) -> None:
    days = rows[rows["measure"].isin(WEEKDAY_DISCHARGES)]
    positions = np.arange(len(days))
    axes.bar(positions, days["mean"], color=BASELINE_COLOUR, width=0.62)
    errors = [days["mean"] - days["ci_low"], days["ci_high"] - days["mean"]]
    axes.errorbar(positions, days["mean"], yerr=errors, fmt="none", ecolor=BLACK, elinewidth=0.9, capsize=3)
    _bar_labels(axes, positions, days["ci_high"], [format_number(v) for v in days["mean"]])
    for position, (_, row) in zip(positions, days.iterrows(), strict=True):
        if math.isfinite(row["target"]):
            _target_band(axes, row, float(position), "x")
    weekend_start = len(WEEKDAYS) - len(WEEKEND)
    if levels:
        for part, (start, end) in (("weekday", (-0.45, weekend_start - 0.55)),
                                   ("weekend", (weekend_start - 0.45, len(WEEKDAYS) - 0.55))):
            target, low, high = levels[part]
            axes.fill_between([start, end], low, high, color=VERMILLION, alpha=TARGET_ALPHA, linewidth=0)
            axes.plot([start, end], [target] * 2, color=VERMILLION, linestyle="--", linewidth=1.6)
        axes.annotate("Level the weekend-share\ntarget implies", ((weekend_start + len(WEEKDAYS) - 1) / 2,
                      levels["weekend"][2]), xytext=(0, 3), textcoords="offset points", ha="center", va="bottom",
                      fontsize=7, color=BLACK)
    axes.axvline(weekend_start - 0.5, color=GREY, linewidth=0.8, linestyle=":")
    axes.set_xticks(positions, list(days["part"]))
    tops = [days["ci_high"].max(), *(level[2] for level in (levels or {}).values())]
    axes.set_ylim(0, max(tops) * 1.18)


def _share_panel(axes: Axes, rows: pd.DataFrame) -> None:
    """Horizontal bars, first measure at the top, with a value label beyond each whisker or target band."""
    positions = np.arange(len(rows))[::-1]
    axes.grid(axis="y", visible=False)
    axes.grid(axis="x")
    axes.set_ylim(-0.6, len(rows) - 0.4)
    axes.barh(positions, rows["mean"], color=BASELINE_COLOUR, height=0.5)
    errors = [rows["mean"] - rows["ci_low"], rows["ci_high"] - rows["mean"]]
    axes.errorbar(rows["mean"], positions, xerr=errors, fmt="none", ecolor=BLACK, elinewidth=0.9, capsize=2.5)
    ends = []
    for position, (_, row) in zip(positions, rows.iterrows(), strict=True):
        end = row["ci_high"]
        if math.isfinite(row["target"]):
            _target_band(axes, row, float(position), "y")
            end = max(end, row["high"])
        ends.append(end)
        axes.annotate(format_number(row["mean"]), (end, position), xytext=(3, 0), textcoords="offset points",
                      va="center", fontsize=7)
    tick_labels = [row["part"] + ("\n(outside target)" if row["within"] is False else "") for _, row in rows.iterrows()]
    axes.set_yticks(positions, tick_labels)
    axes.set_xlim(0, max(ends) * 1.2)


@styled
def behaviour(run: RunData) -> pd.DataFrame:
    """The baseline against the real system: discharges by weekday, occupancy and waits by service, delayed days
    by reason and agency, each against its calibration target where the scenario sets one."""
    table = behaviour_table(run.summary, run.calibration)
    layout = _behaviour_rows(table)
    if not layout:
        raise ValueError(f"{run.run_dir} reports none of the behaviour measures (an older run folder)")
    drawn = [group for row in layout for group in row]
    data = table[table["group"].isin(drawn)].reset_index(drop=True)
    levels = weekend_levels(data) if BY_WEEKDAY in drawn else None
    for index, part in enumerate(("target", "low", "high")):
        data[f"implied_{part}"] = [
            levels["weekend" if measure.removeprefix("discharges_") in WEEKEND else "weekday"][index]
            if levels and measure in WEEKDAY_DISCHARGES else math.nan
            for measure in data["measure"]
        ]

    heights = [2.5 if row == [BY_WEEKDAY] else 0.42 * max(len(data[data["group"] == g]) for g in row) + 0.9
               for row in layout]
    figure = new_figure(sum(heights) + 0.9)
    for subfigure, row in zip(figure.subfigures(len(layout), 1, height_ratios=heights, squeeze=False)[:, 0], layout,
                              strict=True):
        sizes = [len(data[data["group"] == group]) for group in row]
        shortest, longest = min(sizes), max(sizes)
        grid = subfigure.add_gridspec(2, len(row), height_ratios=[shortest, longest - shortest + 0.001])
        for column, (group, size) in enumerate(zip(row, sizes, strict=True)):
            axes = subfigure.add_subplot(grid[:, column] if size == longest else grid[0, column])  # same bar thickness
            rows = data[data["group"] == group]
            heading, axis_label = BEHAVIOUR_AXES[group]
            if group == BY_WEEKDAY:
                _weekday_panel(axes, rows, levels)
                axes.set_ylabel(axis_label)
                share = rows[rows["measure"] == WEEKEND_SHARE]
                if not share.empty:
                    heading += f": {format_number(share['mean'].iloc[0])}% at weekends"
                    if levels:
                        heading += f" against a target of {format_number(share['target'].iloc[0])}%"
            else:
                _share_panel(axes, rows)
                axes.set_xlabel(axis_label)
            axes.set_title(wrap(heading, 44 if len(row) > 1 else 90), loc="left")
    targeted = data[data["target"].notna()]
    handles: list[Artist] = [Patch(color=BASELINE_COLOUR, label="Baseline: mean, whiskers 95% CI")]
    if len(targeted):
        handles += [Line2D([], [], color=VERMILLION, linestyle="--", label="Target"),
                    Patch(color=VERMILLION, alpha=TARGET_ALPHA, label="Accepted range around the target")]
    figure.legend(handles=handles, loc="outside lower center", ncols=len(handles))

    outside = targeted[~targeted["within"].astype(bool)]
    if len(targeted):
        title = f"The baseline meets {len(targeted) - len(outside)} of {len(targeted)} targets for how services behave"
        if len(outside):
            title += "; outside: " + ", ".join(reader_label(m).lower() for m in outside["measure"])
    else:
        title = "How the baseline's services behave (the scenario sets no targets for these measures)"
    described = []
    for group in drawn:
        rows = data[data["group"] == group]
        parts = "; ".join(
            f"{row['part']} {format_number(row['mean'])} (95% CI {format_number(row['ci_low'])} to "
            f"{format_number(row['ci_high'])})" + (f", {_target_text(row)}" if _target_text(row) else "")
            for _, row in rows.iterrows()
        )
        described.append(f"{BEHAVIOUR_AXES[group][0]}, {BEHAVIOUR_AXES[group][1].lower()}: {parts}")
    if levels:
        described.append(
            "The dashed lines over the weekday and weekend bars are the discharges a year on each day that the "
            f"weekend-share target implies: {format_number(levels['weekday'][0])} on each weekday and "
            f"{format_number(levels['weekend'][0])} on each weekend day"
        )
    alt_text = "Bar charts of the do-nothing baseline against the scenario's targets. " + ". ".join(described) + "."
    note = (f"{CONFIDENCE_NOTE.replace('paired ', '')} Targets and accepted ranges from the scenario's calibration "
            "targets (calibration.csv), drawn only where the scenario sets one.")
    save_chart(figure, run, "behaviour", title, alt_text, note)
    return data


def shows_behaviour(run: RunData) -> bool:
    """True when the run reports the measures of at least one panel of the behaviour chart."""
    return bool(_behaviour_rows(behaviour_table(run.summary, run.calibration)))


def make_all_charts(run: RunData) -> list[Path]:
    """Write every chart that applies to the run; return their PNG paths in reading order."""
    charts = [] if run.attribution is None else [admissions_waterfall]
    charts += [money, bcf_metrics, occupancy_fan, delays_by_month]
    if run.comparison is not None:
        charts.append(mixes_plane)
    if run.sensitivity is not None:
        charts.append(tornado)
    charts.append(flow_diagram)
    if shows_behaviour(run):
        charts.append(behaviour)
    for chart in charts:
        chart(run)
    return [chart_path(run, chart.__name__) for chart in charts]
