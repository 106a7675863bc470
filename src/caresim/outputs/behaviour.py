"""The baseline's behaviour against the real system: discharges by weekday, occupancy and waits by service,
delayed days by reason and by agency, each beside its calibration target where the scenario gives one.

The chart (`behaviour`, below), the report and the validation document all read `behaviour_table`."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from caresim.measures import AGENCIES, AGENCY_LABELS, OCCUPANCY_GROUPS, REGISTRY
from caresim.outputs.chart_style import (
    BASELINE_COLOUR,
    BLACK,
    CONFIDENCE_NOTE,
    GREY,
    VERMILLION,
    bar_labels,
    format_number,
    in_sentence,
    label,
    new_figure,
    save_chart,
    styled,
    wrap,
)
from caresim.outputs.run_data import RunData

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKEND = ("saturday", "sunday")
WEEKDAY_DISCHARGES = tuple(f"discharges_{day}" for day in WEEKDAYS)
WEEKEND_SHARE = "weekend_discharge_percent"
OCCUPANCY = tuple(f"{group}_occupancy_percent" for group in OCCUPANCY_GROUPS)
WAITED_SERVICES = ("intermediate_care", "reablement", "home_care", "care_home")
WAITS = tuple(f"{service}_wait_days" for service in WAITED_SERVICES)
REASONS = ("awaiting_assessment", "community_bed", "care_at_home", "care_home_placement", "patient_choice")  # as the
# national statistics group them: waits for home care and for reablement are both "a care package in own home"
REASON_DAYS = tuple(f"delayed_days_{reason}" for reason in REASONS)
AGENCY_SHARES = tuple(f"delayed_days_{agency}_percent" for agency in AGENCIES)
BY_WEEKDAY = "Discharges by day of the week"
BY_SERVICE = "Occupancy by service"
WAIT_BY_SERVICE = "Mean wait by service"
BY_REASON = "Delayed days by reason"
BY_AGENCY = "Delayed days by agency"
GROUPS = {  # heading → measures, in reading order
    BY_WEEKDAY: (*WEEKDAY_DISCHARGES, WEEKEND_SHARE),
    BY_SERVICE: OCCUPANCY,
    WAIT_BY_SERVICE: WAITS,
    BY_REASON: REASON_DAYS,
    BY_AGENCY: AGENCY_SHARES,
}
PARTS = {  # measure → the short name of its part within its group (a day, a service, a reason, an agency)
    **{measure: day.capitalize() for measure, day in zip(WEEKDAY_DISCHARGES, WEEKDAYS, strict=True)},
    WEEKEND_SHARE: "Weekend share",
    **{measure: name for measure, name in zip(OCCUPANCY, OCCUPANCY_GROUPS.values(), strict=True)},
    **{measure: label(service) for measure, service in zip(WAITS, WAITED_SERVICES, strict=True)},
    **{measure: label(reason) for measure, reason in zip(REASON_DAYS, REASONS, strict=True)},
    **{measure: AGENCY_LABELS[agency][:1].upper() + AGENCY_LABELS[agency][1:]
       for measure, agency in zip(AGENCY_SHARES, AGENCIES, strict=True)},
}
COLUMNS = ["group", "measure", "part", "unit", "mean", "ci_low", "ci_high", "target", "tolerance", "tolerance_kind",
           "low", "high", "within", "source"]


def reader_label(measure: str) -> str:
    """The registry's label of a behaviour measure, or its heading and part while it is not registered."""
    if measure in REGISTRY:
        return REGISTRY[measure].label
    group = next(heading for heading, measures in GROUPS.items() if measure in measures)
    return f"{group}: {PARTS[measure]}"


def _is_true(value: object) -> bool:
    """A `within` cell read back from CSV as bool, number or text."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "yes", "1", "y"}
    return bool(value) and not (isinstance(value, float) and math.isnan(value))


def _text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def behaviour_table(summary: pd.DataFrame, calibration: pd.DataFrame | None) -> pd.DataFrame:
    """Each behaviour measure the run reports: the baseline mean and 95% CI, and its target, tolerance, accepted
    range, whether the baseline lies inside it, and the target's source (NaN and None where there is no target)."""
    baseline = summary[summary["world"] == "baseline"].drop_duplicates("measure").set_index("measure")
    targets = (pd.DataFrame(columns=COLUMNS) if calibration is None else calibration).drop_duplicates("measure")
    targets = targets.set_index("measure")
    rows = []
    for group, measures in GROUPS.items():
        for measure in (m for m in measures if m in baseline.index):
            estimate = baseline.loc[measure]
            row = {"group": group, "measure": measure, "part": PARTS[measure],
                   "unit": REGISTRY[measure].unit if measure in REGISTRY else str(estimate["unit"]),
                   "mean": float(estimate["mean"]), "ci_low": float(estimate["ci_low"]),
                   "ci_high": float(estimate["ci_high"]), "target": math.nan, "tolerance": math.nan,
                   "tolerance_kind": "", "low": math.nan, "high": math.nan, "within": None, "source": ""}
            if measure in targets.index:
                target = targets.loc[measure]
                row |= {"target": float(target["target"]), "tolerance": float(target["tolerance"]),
                        "tolerance_kind": _text(target.get("tolerance_kind", "relative")) or "relative",
                        "low": float(target["low"]), "high": float(target["high"]),
                        "within": _is_true(target["within"]), "source": _text(target.get("source", ""))}
            rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def weekend_levels(table: pd.DataFrame) -> dict[str, tuple[float, float, float]] | None:
    """The discharges a year on each weekend day and on each weekday that the weekend-share target implies,
    given the modelled total over the week: {"weekend" | "weekday": (target, low, high)}; None without it."""
    rows = table.set_index("measure")
    if WEEKEND_SHARE not in rows.index or not all(day in rows.index for day in WEEKDAY_DISCHARGES):
        return None
    share = rows.loc[WEEKEND_SHARE]
    if math.isnan(share["target"]):
        return None
    week = float(rows.loc[list(WEEKDAY_DISCHARGES), "mean"].sum())
    weekdays = len(WEEKDAYS) - len(WEEKEND)
    target, low, high = (float(share[key]) / 100 for key in ("target", "low", "high"))
    weekend_day, weekday = week / len(WEEKEND), week / weekdays
    return {  # a higher weekend share means fewer discharges on each weekday
        "weekend": (weekend_day * target, weekend_day * low, weekend_day * high),
        "weekday": (weekday * (1 - target), weekday * (1 - high), weekday * (1 - low)),
    }


TARGET_ALPHA = 0.18
BEHAVIOUR_AXES = {  # group → panel heading and axis label
    BY_WEEKDAY: ("Acute discharges by day of the week", "Discharges a year on that day"),
    BY_SERVICE: ("Occupancy by service", "Share of capacity in use (%)"),
    WAIT_BY_SERVICE: ("Mean wait by service", "Days waited for a place (mean)"),
    BY_REASON: ("Delayed days by reason", "Delayed days a year"),
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
    bar_labels(axes, positions, days["ci_high"], [format_number(v) for v in days["mean"]])
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
            title += "; outside: " + ", ".join(in_sentence(reader_label(m)) for m in outside["measure"])
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
