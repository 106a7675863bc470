"""Charts of a finished run: PNG (300 dpi), SVG and alt text in `<run>/charts/`.

Every chart function takes a `RunData`, writes its files and returns the data frame it plotted.
Titles state the finding in words computed from the data; footnotes give the source.
"""

from __future__ import annotations

import functools
import math
import re
import textwrap
from collections.abc import Callable
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import DateFormatter, MonthLocator
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch
from matplotlib.path import Path as MatplotlibPath

from caresim.outputs.run_data import BASELINE, DIFFERENCE, Estimate, RunData
from caresim.scenario.schema import DELAY_REASONS

ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
BLACK = "#000000"
GREY = "#999999"
OKABE_ITO = (ORANGE, SKY_BLUE, BLUISH_GREEN, YELLOW, BLUE, VERMILLION, REDDISH_PURPLE, BLACK)
BASELINE_COLOUR = ORANGE
MIX_COLOUR = BLUE

ADMISSIONS = "emergency_admissions"
BED_SERVICES = ("acute_beds", "intermediate_care_beds")
DELAY_PREFIX = "delayed_days_"
DELAY_COLOURS = dict(zip(DELAY_REASONS, (BLUE, ORANGE, SKY_BLUE, VERMILLION, BLUISH_GREEN, YELLOW), strict=True))
BCF_MEASURES = (
    "bcf_care_home_admissions_per_100k_65plus",
    "bcf_still_home_91d_percent",
    "bcf_delayed_days_per_100k_per_month",
    "bcf_avoidable_admissions_per_100k",
)
HIGHER_IS_BETTER = {"bcf_still_home_91d_percent"}
COST_NHS = "cost_nhs"
COST_COUNCIL = "cost_council"
SCHEME_COST = "scheme_cost"
NET_COST = "net_cost"
ACTIVITY_SAVINGS = "activity_savings"

LABELS = {
    "emergency_admissions": "Emergency admissions",
    "acute_bed_days": "Acute bed days",
    "delayed_days": "Delayed discharge days",
    "care_home_admissions": "Care home admissions",
    "cost_nhs": "NHS cost",
    "cost_council": "Council cost",
    "scheme_cost": "Scheme cost",
    "net_cost": "Net cost (schemes plus NHS and council costs)",
    "bcf_care_home_admissions_per_100k_65plus": "Care home admissions, people aged 65+",
    "bcf_still_home_91d_percent": "Still at home 91 days after discharge into reablement",
    "bcf_delayed_days_per_100k_per_month": "Delayed discharge days",
    "bcf_avoidable_admissions_per_100k": "Avoidable emergency admissions",
    "acute_beds": "Acute beds",
    "intermediate_care_beds": "Intermediate care beds",
    "awaiting_assessment": "Awaiting assessment",
    "home_care_package": "Home care package",
    "community_bed": "Community bed",
    "care_home_placement": "Care home placement",
    "patient_choice": "Patient or family choice",
    "crisis": "Crisis",
    "gp": "GP",
    "nhs_111": "111 / out of hours",
    "111_out_of_hours": "111 / out of hours",
    "out_of_hours": "111 / out of hours",
    "ambulance": "Ambulance",
    "minor_injury_unit": "Minor injury unit",
    "a_and_e": "A&E",
    "a_e": "A&E",
    "emergency_department": "A&E",
    "rapid_response": "Rapid response",
    "reablement": "Reablement",
    "home_care": "Home care",
    "care_homes": "Care homes",
    "home": "Home",
    "death": "Death",
    "interaction": "Interaction between schemes",
    "activity_savings": "Savings from less activity (NHS and council)",
}

FLOW_RANKS = {
    "crisis": 0,
    "gp": 1,
    "nhs_111": 1,
    "111_out_of_hours": 1,
    "out_of_hours": 1,
    "ambulance": 1,
    "minor_injury_unit": 2,
    "a_and_e": 2,
    "a_e": 2,
    "emergency_department": 2,
    "rapid_response": 2,
    "acute_beds": 3,
    "intermediate_care_beds": 4,
    "reablement": 4,
    "home_care": 4,
    "care_homes": 5,
    "home": 5,
    "death": 5,
}
FLOW_COLUMN_SPACING = 1.6
FLOW_BOX_WIDTH = 1.12
FLOW_BOX_HEIGHT = 0.5
FLOW_LANE_STEP = 0.085
FLOW_COLUMN_COLOURS = (GREY, SKY_BLUE, ORANGE, VERMILLION, BLUISH_GREEN, BLUE, REDDISH_PURPLE)

STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.titlesize": 9,
    "axes.titleweight": "bold",
    "axes.labelsize": 8.5,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 7.5,
    "legend.frameon": False,
    "figure.titlesize": 10.5,
    "figure.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "axes.prop_cycle": cycler(color=OKABE_ITO),
    "svg.fonttype": "none",
    "svg.hashsalt": "caresim",
}
FIGURE_WIDTH_INCHES = 7.2
FOOTNOTE_INCHES = 0.36
CONFIDENCE_NOTE = "Bars show means; whiskers show 95% confidence intervals across paired replications."


def name_key(name: str) -> str:
    """Lower-case words joined by underscores, so 'A&E', 'acute beds' and 'acute_beds' can be looked up."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def label(name: str) -> str:
    """A reader's label for a measure, service, scheme, node or parameter name."""
    if name_key(name) in LABELS:
        return LABELS[name_key(name)]
    words = name.replace("_", " ").replace(".", ": ")
    return words[:1].upper() + words[1:]


def format_number(value: float) -> str:
    """Three significant figures with thousands separators and a true minus sign (245, 12,300, 0.15)."""
    if not math.isfinite(value):
        return "n/a"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, 2 - magnitude)
    text = f"{round(value, 2 - magnitude):,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace("-", "−")


def format_money(value: float) -> str:
    """Pounds as £2.4m, £350k or £950."""
    if not math.isfinite(value):
        return "n/a"
    sign = "−" if value < 0 else ""
    size = abs(value)
    if size >= 1e6:
        return f"{sign}£{size / 1e6:,.1f}m"
    if size >= 1e3:
        return f"{sign}£{format_number(size / 1e3)}k"
    return f"{sign}£{size:,.0f}"


def format_value(value: float, unit: str) -> str:
    """A number formatted for its unit (pounds as money, everything else to three figures)."""
    return format_money(value) if "pound" in unit.lower() else format_number(value)


def format_interval(estimate: Estimate) -> str:
    """'95% CI a to b' in the estimate's unit."""
    return f"95% CI {format_value(estimate.ci_low, estimate.unit)} to {format_value(estimate.ci_high, estimate.unit)}"


def _wrap(text: str, width: int) -> str:
    """Lines of at most `width` characters, never splitting a word."""
    return textwrap.fill(text, width, break_long_words=False)


def chart_path(run: RunData, name: str) -> Path:
    """The PNG file of a chart; the SVG and alt text sit beside it."""
    return run.charts_dir / f"{name}.png"


def _styled(chart: Callable[[RunData], pd.DataFrame]) -> Callable[[RunData], pd.DataFrame]:
    """Draw a chart inside the house style without touching global matplotlib settings."""

    @functools.wraps(chart)
    def drawn(run: RunData) -> pd.DataFrame:
        with matplotlib.rc_context(STYLE):
            return chart(run)

    return drawn


def _figure(height: float) -> SubFigure:
    """A figure of house width: the chart goes in the returned upper part, the footnote below it."""
    figure = Figure(figsize=(FIGURE_WIDTH_INCHES, height), layout="constrained")
    FigureCanvasAgg(figure)
    content, _ = figure.subfigures(2, 1, height_ratios=[height - FOOTNOTE_INCHES, FOOTNOTE_INCHES])
    return content


def _save(figure: SubFigure, run: RunData, name: str, title: str, alt_text: str, note: str = "") -> None:
    """Title, footnote, then PNG (300 dpi), SVG and alt text files."""
    figure.suptitle(_wrap(title, 72), x=0.01, ha="left")
    root = figure.get_figure(root=True)
    footnote = " ".join(part for part in (note, run.source_note + ".") if part)
    root.subfigs[1].text(0.01, 0.1, _wrap(footnote, 150), fontsize=6.5, color="#444444", va="bottom")
    png = chart_path(run, name)
    png.parent.mkdir(parents=True, exist_ok=True)
    root.savefig(png, dpi=300, facecolor="white")
    root.savefig(png.with_suffix(".svg"), facecolor="white", metadata={"Date": None})
    png.with_suffix(".txt").write_text(f"{title}. {alt_text}\n", encoding="utf-8")


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


@_styled
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
                    "label": label(row.scheme) if kind == "scheme" else label("interaction"),
                    "kind": kind,
                    "avoided": -row.mean,
                    "ci_low": -row.ci_high,
                    "ci_high": -row.ci_low,
                }
            )
    total = run.estimate(DIFFERENCE, ADMISSIONS).negated()
    data = pd.DataFrame(steps)
    data["end"] = data["avoided"].cumsum()
    data["start"] = data["end"] - data["avoided"]
    total_row = {"label": "Whole mix", "kind": "total", "avoided": total.mean, "ci_low": total.ci_low}
    total_row |= {"ci_high": total.ci_high, "start": 0.0, "end": total.mean}
    data = pd.concat([data, pd.DataFrame([total_row])], ignore_index=True)

    figure = _figure(4.3)
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
    axes.set_xticks(positions, [_wrap(text, max(9, 84 // len(data))) for text in data["label"]])
    axes.set_ylabel("Emergency admissions avoided per year")
    axes.set_xlabel("Each scheme added alone to the baseline, then the interaction, then all schemes together")
    axes.legend(
        handles=[
            Patch(color=BLUE, label="One scheme alone"),
            Patch(color=GREY, label="Interaction (mix minus sum of schemes)"),
            Patch(color=BLUISH_GREEN, label="Whole scheme mix"),
        ],
        loc="upper left",
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
    _save(figure, run, "admissions_waterfall", title, alt_text, f"{CONFIDENCE_NOTE} {_assumption_note(run)}")
    return data


@_styled
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
    figure = _figure(2.3 * len(services) + 1.0)
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
            Patch(color=MIX_COLOUR, alpha=0.6, label=f"Scheme mix ({run.mix_name})"),
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
    _save(figure, run, "occupancy_fan", title, alt_text, note)
    return data


def _month_label(month: object) -> str:
    text = str(month)
    parsed = pd.to_datetime(text, format="%Y-%m", errors="coerce")
    return text if pd.isna(parsed) else parsed.strftime("%b")


@_styled
def delays_by_month(run: RunData) -> pd.DataFrame:
    """Delayed days per month stacked by reason, baseline and scheme mix side by side."""
    worlds = (BASELINE, run.mix_name)
    rows = run.monthly[run.monthly["measure"].str.startswith(DELAY_PREFIX) & run.monthly["world"].isin(worlds)]
    data = rows.groupby(["world", "month", "measure"], as_index=False)["value"].mean()
    data["reason"] = data["measure"].str.removeprefix(DELAY_PREFIX)
    data = data.rename(columns={"value": "delayed_days"})[["world", "month", "reason", "delayed_days"]]
    reasons = [reason for reason in DELAY_REASONS if reason in set(data["reason"])]
    reasons += sorted(set(data["reason"]) - set(reasons))

    figure = _figure(4.4)
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
        axes.set_title("Baseline (no schemes)" if world == BASELINE else f"Scheme mix ({run.mix_name})", loc="left")
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
    _save(figure, run, "delays_by_month", title, alt_text, "Means across replications.")
    return data


@_styled
def bcf_metrics(run: RunData) -> pd.DataFrame:
    """The four BCF metrics, baseline against scheme mix, with the plan's targets where given."""
    targets = run.manifest.get("bcf_targets") or {}
    records = []
    for measure in BCF_MEASURES:
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

    figure = _figure(5.6)
    panels = figure.subplots(2, 2).ravel()
    improved = met = 0
    for axes, measure in zip(panels, BCF_MEASURES, strict=True):
        rows = data[data["measure"] == measure]
        positions = np.arange(len(rows))
        axes.bar(positions, rows["mean"], color=[BASELINE_COLOUR, MIX_COLOUR], width=0.6)
        errors = [rows["mean"] - rows["ci_low"], rows["ci_high"] - rows["mean"]]
        axes.errorbar(positions, rows["mean"], yerr=errors, fmt="none", ecolor=BLACK, elinewidth=0.9, capsize=3)
        target = rows["target"].iloc[0]
        heading = label(measure)
        if math.isfinite(target):
            axes.axhline(target, color=VERMILLION, linestyle="--", linewidth=1.2)
            heading += f" (plan target {format_number(target)})"
            mix_mean = rows["mean"].iloc[1]
            met += mix_mean >= target if measure in HIGHER_IS_BETTER else mix_mean <= target
        difference = run.estimate(DIFFERENCE, measure)
        better = difference.ci_low > 0 if measure in HIGHER_IS_BETTER else difference.ci_high < 0
        improved += better
        tick_labels = [
            f"{name}\n{format_number(row.mean)} ({format_number(row.ci_low)} to {format_number(row.ci_high)})"
            for name, row in zip(("Baseline", "Scheme mix"), rows.itertuples(), strict=True)
        ]
        axes.set_xticks(positions, tick_labels)
        axes.set_title(_wrap(heading, 36), loc="left")
        axes.set_ylabel(_wrap(rows["unit"].iloc[0], 28))
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
    _save(figure, run, "bcf_metrics", title, alt_text + ".", note)
    return data


@_styled
def money(run: RunData) -> pd.DataFrame:
    """Scheme cost against modelled savings by payer, the net cost and the plan's claimed benefit."""
    items = [
        ("Scheme cost", "cost", run.estimate(run.mix_name, SCHEME_COST)),
        ("Saving to the NHS", "saving", run.estimate(DIFFERENCE, COST_NHS).negated()),
        ("Saving to the council", "saving", run.estimate(DIFFERENCE, COST_COUNCIL).negated()),
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

    figure = _figure(4.3)
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
    axes.set_xticks(positions, [_wrap(item, 13) for item in modelled["item"]])
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
    _save(figure, run, "money", title, alt_text + ".", f"{note} {_assumption_note(run)}")
    return data


@_styled
def mixes_plane(run: RunData) -> pd.DataFrame:
    """Cost-effectiveness plane of the compared mixes (comparison.csv), CIs in both directions."""
    if run.comparison is None:
        raise ValueError(f"{run.run_dir} has no comparison.csv")
    wide = run.comparison.pivot(index="mix", columns="measure", values=["mean", "ci_low", "ci_high"])
    data = pd.DataFrame(
        {
            "mix": wide.index,
            "admissions_avoided": wide[("mean", "emergency_admissions_avoided")].to_numpy(),
            "admissions_ci_low": wide[("ci_low", "emergency_admissions_avoided")].to_numpy(),
            "admissions_ci_high": wide[("ci_high", "emergency_admissions_avoided")].to_numpy(),
            "net_cost": wide[("mean", NET_COST)].to_numpy(),
            "net_cost_ci_low": wide[("ci_low", NET_COST)].to_numpy(),
            "net_cost_ci_high": wide[("ci_high", NET_COST)].to_numpy(),
        }
    )

    figure = _figure(4.6)
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
            row.mix,
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
            f"{most['mix']} avoids the most admissions ({format_number(most['admissions_avoided'])} a year) "
            f"at the lowest net cost ({format_money(most['net_cost'])} a year)"
        )
    else:
        title = (
            f"{most['mix']} avoids the most admissions ({format_number(most['admissions_avoided'])} a year); "
            f"{cheapest['mix']} has the lowest net cost ({format_money(cheapest['net_cost'])} a year)"
        )
    alt_text = "Scatter plot of net cost against admissions avoided per year, one point per scheme mix. " + "; ".join(
        f"{row.mix}: {format_number(row.admissions_avoided)} admissions avoided "
        f"(95% CI {format_number(row.admissions_ci_low)} to {format_number(row.admissions_ci_high)}), net cost "
        f"{format_money(row.net_cost)} (95% CI {format_money(row.net_cost_ci_low)} to "
        f"{format_money(row.net_cost_ci_high)})"
        for row in data.itertuples()
    )
    note = f"Points are means; whiskers are 95% confidence intervals in both directions. {_assumption_note(run)}"
    _save(figure, run, "mixes_plane", title, alt_text + ".", note)
    return data


@_styled
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

    figure = _figure(1.4 + 0.42 * len(data))
    axes = figure.add_subplot()
    axes.grid(axis="x")
    axes.grid(axis="y", visible=False)
    positions = np.arange(len(data))
    axes.barh(
        positions,
        data["headline_low"] - central.mean,
        left=central.mean,
        color=SKY_BLUE,
        height=0.6,
        label="Input at its low value",
    )
    axes.barh(
        positions,
        data["headline_high"] - central.mean,
        left=central.mean,
        color=BLUE,
        height=0.6,
        label="Input at its high value",
    )
    axes.axvline(central.mean, color=BLACK, linewidth=0.9)
    tick_labels = [
        _wrap(label(row.parameter), 34)
        + f"\n({format_number(row.low_value)} to {format_number(row.high_value)}"
        + ("; an assumption)" if row.parameter in assumed else ")")
        for row in data.itertuples()
    ]
    axes.set_yticks(positions, tick_labels, fontsize=7)
    axes.set_xlabel(f"{label(measure)}: scheme mix minus baseline ({central.unit})")
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
    _save(figure, run, "tornado", title, alt_text + ".", note)
    return data


def _tint(colour: str, strength: float) -> tuple[float, float, float]:
    """An opaque lighter shade of a colour, so overlapping arrows do not darken."""
    red, green, blue = matplotlib.colors.to_rgb(colour)
    return tuple(strength * channel + (1 - strength) for channel in (red, green, blue))


def _flow_layout(nodes: list[str]) -> dict[str, tuple[int, int]]:
    """Grid (column, row) of each node: columns by FLOW_RANKS, unknown nodes in a last column."""
    last = max(FLOW_RANKS.values()) + 1
    order = {key: index for index, key in enumerate(FLOW_RANKS)}
    columns: dict[int, list[str]] = {}
    for node in sorted(nodes, key=lambda name: (order.get(name_key(name), len(order)), name)):
        columns.setdefault(FLOW_RANKS.get(name_key(node), last), []).append(node)
    tallest = max(len(members) for members in columns.values())
    grid = {}
    for column, (_, members) in enumerate(sorted(columns.items())):
        first_row = round((tallest - len(members)) / 2)
        for offset, node in enumerate(members):
            grid[node] = (column, first_row + offset)
    return grid


def _flow_lane(source: tuple[int, int], target: tuple[int, int], grid: dict[str, tuple[int, int]]) -> float:
    """The row (or half row between rows) on which a long forward arrow passes the columns in between."""
    between = {(column, row) for column, row in grid.values() if source[0] < column < target[0]}
    columns_between = {column for column, _ in between}
    for row in (source[1], target[1]):
        if all((column, row) not in between for column in columns_between):
            return float(row)
    step = 0.5 if target[1] >= source[1] else -0.5
    return source[1] + step


def _flow_kind(source: tuple[int, int], target: tuple[int, int]) -> str:
    """next: neighbouring column; long: skips columns; down: same column, next row; side: same column;
    back: to an earlier column."""
    if target[0] == source[0]:
        return "down" if abs(target[1] - source[1]) == 1 else "side"
    if target[0] < source[0]:
        return "back"
    return "next" if target[0] == source[0] + 1 else "long"


def _flow_lanes(routed: pd.DataFrame, grid: dict[str, tuple[int, int]]) -> pd.Series:
    """Height of the horizontal run of each long arrow; arrows sharing a gap are spread into lanes."""
    lane_row = pd.Series(math.nan, index=routed.index)
    for index, row in routed[routed["kind"] == "long"].iterrows():
        lane_row[index] = _flow_lane(grid[row["source"]], grid[row["target"]], grid)
    lane_y = -lane_row
    for _, edges in routed.loc[lane_row.dropna().index].groupby(lane_row.dropna()):
        ends: list[int] = []
        lanes = {}
        for index, edge in edges.sort_values(["source_column", "target_column"]).iterrows():
            lane = next((number for number, end in enumerate(ends) if end <= edge["source_column"]), len(ends))
            if lane == len(ends):
                ends.append(edge["target_column"])
            else:
                ends[lane] = edge["target_column"]
            lanes[index] = lane
        step = min(FLOW_LANE_STEP, (1 - FLOW_BOX_HEIGHT - 0.12) / max(len(ends) - 1, 1))
        for index, lane in lanes.items():
            lane_y[index] -= (lane - (len(ends) - 1) / 2) * step
    return lane_y


def _flow_ports(routed: pd.DataFrame, node_column: str, heading: pd.Series) -> pd.Series:
    """Spread the arrows leaving (or entering) each box along its edge, ordered by where they head."""
    ports = pd.Series(0.0, index=routed.index)
    for _, edges in routed.groupby(node_column):
        ordered = heading[edges.index].sort_values(ascending=False).index
        spread = np.linspace(0.3, -0.3, len(ordered)) * FLOW_BOX_HEIGHT if len(ordered) > 1 else np.zeros(1)
        ports[ordered] = spread
    return ports + routed[f"{node_column}_y"]


def _cubic_point(points: list[tuple[float, float]], share: float) -> tuple[float, float]:
    weights = ((1 - share) ** 3, 3 * (1 - share) ** 2 * share, 3 * (1 - share) * share**2, share**3)
    return (
        sum(w * x for w, (x, _) in zip(weights, points, strict=True)),
        sum(w * y for w, (_, y) in zip(weights, points, strict=True)),
    )


def _flow_route(route, gap: float) -> tuple[MatplotlibPath, tuple[float, float]]:
    """The drawn path of one arrow and where its volume label goes."""
    half_width, half_height = FLOW_BOX_WIDTH / 2, FLOW_BOX_HEIGHT / 2
    curve = [MatplotlibPath.MOVETO] + [MatplotlibPath.CURVE4] * 3
    start_x, end_x = route.source_x + half_width, route.target_x - half_width
    if route.kind == "next":
        middle = (start_x + end_x) / 2
        points = [(start_x, route.start_y), (middle, route.start_y), (middle, route.end_y), (end_x, route.end_y)]
        return MatplotlibPath(points, curve), _cubic_point(points, 0.3)
    if route.kind == "long":
        lane_start, lane_end = start_x + gap, end_x - gap
        points = [
            (start_x, route.start_y),
            (start_x + gap / 2, route.start_y),
            (lane_start - gap / 2, route.lane_y),
            (lane_start, route.lane_y),
            (lane_end, route.lane_y),
            (lane_end + gap / 2, route.lane_y),
            (end_x - gap / 2, route.end_y),
            (end_x, route.end_y),
        ]
        codes = [*curve, MatplotlibPath.LINETO, *curve[1:]]
        return MatplotlibPath(points, codes), ((lane_start + lane_end) / 2, route.lane_y)
    if route.kind == "down":
        step = half_height if route.target_y < route.source_y else -half_height
        points = [(route.source_x, route.source_y - step), (route.target_x, route.target_y + step)]
        middle = (route.source_x, (route.source_y + route.target_y) / 2)
        return MatplotlibPath(points, [MatplotlibPath.MOVETO, MatplotlibPath.LINETO]), middle
    if route.kind == "side":
        bulge = start_x + gap * 0.6
        points = [(start_x, route.start_y), (bulge, route.start_y), (bulge, route.target_y), (start_x, route.target_y)]
        return MatplotlibPath(points, curve), _cubic_point(points, 0.5)
    top = max(route.source_y, route.target_y) + half_height
    points = [
        (route.source_x, route.source_y + half_height),
        (route.source_x, top + 0.42),
        (route.target_x, top + 0.42),
        (route.target_x, route.target_y + half_height),
    ]
    return MatplotlibPath(points, curve), _cubic_point(points, 0.5)


def _flow_paths(flows: pd.DataFrame, grid: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """Positions, kinds, lanes, ports, drawn paths and label points of every arrow."""
    routed = flows.reset_index(drop=True)
    for end in ("source", "target"):
        routed[f"{end}_column"] = [grid[node][0] for node in routed[end]]
        routed[f"{end}_x"] = routed[f"{end}_column"] * FLOW_COLUMN_SPACING
        routed[f"{end}_y"] = [-float(grid[node][1]) for node in routed[end]]
    routed["kind"] = [_flow_kind(grid[r.source], grid[r.target]) for r in routed.itertuples()]
    routed["lane_y"] = _flow_lanes(routed, grid)
    right_edge = routed["kind"].isin(["next", "long", "side"])
    left_edge = routed["kind"].isin(["next", "long"])
    leaving_to = routed["lane_y"].fillna(routed["target_y"]).where(right_edge, math.inf)
    arriving_from = routed["lane_y"].fillna(routed["source_y"]).where(left_edge, math.inf)
    routed["start_y"] = _flow_ports(routed, "source", leaving_to)
    routed["end_y"] = _flow_ports(routed, "target", arriving_from)
    drawn = [_flow_route(route, FLOW_COLUMN_SPACING - FLOW_BOX_WIDTH) for route in routed.itertuples()]
    routed["path"] = [path for path, _ in drawn]
    routed["label_x"] = [x for _, (x, _) in drawn]
    routed["label_y"] = [y for _, (_, y) in drawn]
    return routed


@_styled
def flow_diagram(run: RunData) -> pd.DataFrame:
    """Patient flow between services in the baseline (flows.csv), arrow width proportional to volume."""
    flows = run.flows[["source", "target", "per_year"]]
    nodes = sorted(set(flows["source"]) | set(flows["target"]))
    grid = _flow_layout(nodes)
    routed = _flow_paths(flows, grid)
    inflow = flows.groupby("target")["per_year"].sum()
    outflow = flows.groupby("source")["per_year"].sum()

    rows = max(row for _, row in grid.values()) + 1
    loops = bool((routed["kind"] == "back").any())
    figure = _figure(1.15 * (rows + (0.4 if loops else -0.1)) + 1.4)
    axes = figure.add_subplot()
    axes.set_axis_off()
    columns = max(column for column, _ in grid.values()) + 1
    for node, (column, row) in grid.items():
        x, y = column * FLOW_COLUMN_SPACING, -float(row)
        colour = FLOW_COLUMN_COLOURS[column % len(FLOW_COLUMN_COLOURS)]
        axes.add_patch(
            FancyBboxPatch(
                (x - FLOW_BOX_WIDTH / 2, y - FLOW_BOX_HEIGHT / 2),
                FLOW_BOX_WIDTH,
                FLOW_BOX_HEIGHT,
                boxstyle="round,pad=0,rounding_size=0.06",
                facecolor=_tint(colour, 0.2),
                edgecolor=colour,
                linewidth=1.2,
                zorder=3,
            )
        )
        volume = inflow.get(node, outflow.get(node, 0.0))
        axes.text(
            x,
            y + 0.07,
            _wrap(label(node), 13),
            ha="center",
            va="center",
            fontsize=6.8,
            fontweight="bold",
            zorder=4,
            linespacing=1.0,
        )
        axes.text(
            x,
            y - 0.16,
            f"{format_number(volume)} a year",
            ha="center",
            va="center",
            fontsize=6,
            zorder=4,
            color="#333333",
        )
    largest = float(flows["per_year"].max())
    for route in routed.itertuples():
        width = 0.5 + 5.5 * route.per_year / largest
        colour = VERMILLION if route.kind == "back" else BLUE
        axes.add_patch(
            FancyArrowPatch(
                path=route.path,
                arrowstyle="-|>",
                mutation_scale=4 + width,
                linewidth=width,
                color=_tint(colour, 0.55),
                zorder=2,
            )
        )
        axes.text(
            route.label_x,
            route.label_y,
            format_number(route.per_year),
            ha="center",
            va="center",
            fontsize=5.8,
            zorder=5,
            bbox={"boxstyle": "round,pad=0.12", "facecolor": "white", "edgecolor": "none", "alpha": 0.85},
        )
    axes.set_xlim(-FLOW_BOX_WIDTH / 2 - 0.05, (columns - 1) * FLOW_COLUMN_SPACING + FLOW_BOX_WIDTH / 2 + 0.05)
    axes.set_ylim(-(rows - 1) - 0.45, 0.95 if loops else 0.45)

    starts = [node for node in nodes if node not in set(flows["target"])]
    entering = float(flows[flows["source"].isin(starts)]["per_year"].sum())
    biggest = flows.sort_values("per_year").iloc[-1]
    title = (
        f"In the baseline {format_number(entering)} people a year enter the system; the largest flow is "
        f"{label(biggest['source'])} to {label(biggest['target'])} ({format_number(biggest['per_year'])} a year)"
    )
    alt_text = "Flow diagram of patients per year between services, baseline mean. " + "; ".join(
        f"{label(row.source)} to {label(row.target)}: {format_number(row.per_year)}"
        for row in flows.sort_values("per_year", ascending=False).itertuples()
    )
    note = (
        "Arrow width is proportional to patients per year (baseline mean); labels are patients per year. "
        "Blue arrows run forward; vermillion arrows loop back to an earlier service."
    )
    _save(figure, run, "flow_diagram", title, alt_text + ".", note)
    return routed.drop(columns="path")


def make_all_charts(run: RunData) -> list[Path]:
    """Write every chart that applies to the run; return their PNG paths in reading order."""
    charts = [] if run.attribution is None else [admissions_waterfall]
    charts += [money, bcf_metrics, occupancy_fan, delays_by_month]
    if run.comparison is not None:
        charts.append(mixes_plane)
    if run.sensitivity is not None:
        charts.append(tornado)
    charts.append(flow_diagram)
    for chart in charts:
        chart(run)
    return [chart_path(run, chart.__name__) for chart in charts]
