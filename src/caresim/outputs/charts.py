"""Charts of a finished run: each takes a `RunData`, writes its files and returns the data frame it plotted.

Titles state the finding in words computed from the data; footnotes give the source."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.dates import DateFormatter, MonthLocator
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from caresim.measures import BCF, REGISTRY, reduction
from caresim.outputs.behaviour import (
    behaviour,
    shows_behaviour,
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
    assumption_note,
    bar_labels,
    chart_path,
    format_interval,
    format_number,
    format_value,
    in_sentence,
    label,
    new_figure,
    save_chart,
    styled,
    wrap,
)
from caresim.outputs.decision_charts import mixes_plane, money, sensitivity_tornado, tornado
from caresim.outputs.flow_diagram import flow_diagram
from caresim.outputs.run_data import BASELINE, DIFFERENCE, Estimate, RunData
from caresim.scenario.fields import DELAY_REASONS

ADMISSIONS = "emergency_admissions"
BED_SERVICES = ("acute_beds", "intermediate_care_beds")
DELAY_PREFIX = "delayed_days_"
DELAY_COLOURS = dict(zip(DELAY_REASONS, (BLUE, ORANGE, SKY_BLUE, VERMILLION, BLUISH_GREEN, YELLOW), strict=True))


def _change_phrase(avoided: Estimate, noun: str) -> str:
    """'avoids 240 X a year (95% CI ...)', honest about sign and about intervals that include zero."""
    amount = format_value(abs(avoided.mean), avoided.unit)
    verb = "avoids" if avoided.mean >= 0 else "adds"
    phrase = f"{verb} {amount} {noun} a year ({format_interval(avoided)})"
    if not avoided.excludes_zero():
        phrase = f"may {verb.rstrip('s')} {amount} {noun} a year, but the 95% CI includes no change"
    return phrase


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
    bar_labels(axes, positions, whisker_tops, [format_number(v) for v in data["avoided"]])
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
        f"The scheme mix {_change_phrase(total, 'emergency admissions')}; {largest['label']} contributes most"
    )
    described = "; ".join(
        f"{row.label}: {format_number(row.avoided)} (95% CI {format_number(row.ci_low)} to "
        f"{format_number(row.ci_high)})"
        for row in data.itertuples()
    )
    alt_text = f"Waterfall bar chart of emergency admissions avoided per year. {described}."
    save_chart(figure, run, "admissions_waterfall", title, alt_text, f"{CONFIDENCE_NOTE} {assumption_note(run)}")
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
            f"{in_sentence(label(service))} average {shares[run.mix_name]:.0f}% full with the mix "
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
        + " and ".join(in_sentence(label(s)) for s in services)
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
        f"the biggest change is in '{in_sentence(label(falls.index[-1]))}'"
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


def make_all_charts(run: RunData) -> list[Path]:
    """Write every chart that applies to the run; return their PNG paths in reading order."""
    charts = [] if run.attribution is None else [admissions_waterfall]
    charts += [money, bcf_metrics, occupancy_fan, delays_by_month]
    if run.comparison is not None:
        charts.append(mixes_plane)
    if run.tornado is not None and not run.tornado.empty:
        charts.append(tornado)
    if run.sensitivity is not None:
        charts.append(sensitivity_tornado)
    charts.append(flow_diagram)
    if shows_behaviour(run):
        charts.append(behaviour)
    for chart in charts:
        chart(run)
    return [chart_path(run, chart.__name__) for chart in charts]
