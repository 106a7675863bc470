"""Charts for the decision: what the mix costs and saves by payer, mixes side by side, and which inputs
swing the answer most."""

from __future__ import annotations

import numpy as np
import pandas as pd

from caresim.outputs.chart_style import (
    BLACK,
    BLUE,
    BLUISH_GREEN,
    MIX_COLOUR,
    ORANGE,
    SKY_BLUE,
    VERMILLION,
    assumption_note,
    bar_labels,
    format_money,
    format_number,
    in_sentence,
    label,
    new_figure,
    save_chart,
    styled,
    wrap,
)
from caresim.outputs.run_data import DIFFERENCE, RunData
from caresim.run_folder import COST, NET_CASH, TOTAL_CAPACITY, TOTAL_CASH

NET_COST = "net_cost"


MONEY_BARS = ((COST, "Cost to the pooled fund", VERMILLION), (TOTAL_CASH, "Cash released", BLUISH_GREEN),
              (TOTAL_CAPACITY, "Capacity freed, not cash", SKY_BLUE), (NET_CASH, "Net cash cost", BLUE))
OUTCOME_RANGE_NOTE = ("Bars show means; whiskers show the range of likely outcomes (2.5 to 97.5 percentiles across "
                      "paired replications, each drawing its own effect sizes).")


@styled
def money(run: RunData) -> pd.DataFrame:
    """The money ledger's totals for each comparison (money.csv): what the fund pays, the cash it releases, the
    capacity it frees that no budget can spend, and the net cash cost; the plan's claimed benefit as a line."""
    rows = []
    for comparison in run.money_comparisons():
        for kind, item, _ in MONEY_BARS:
            estimate, below_zero = run.money_total(comparison, kind)
            rows.append({"comparison": comparison, "kind": kind, "item": item, "mean": estimate.mean,
                         "ci_low": estimate.ci_low, "ci_high": estimate.ci_high, "outcome_low": estimate.outcome_low,
                         "outcome_high": estimate.outcome_high, "share_below_zero": below_zero})
    data = pd.DataFrame(rows)
    comparisons = run.money_comparisons()
    figure = new_figure(4.6)
    axes = figure.add_subplot()
    width = 0.8 / len(MONEY_BARS)
    for i, (kind, item, colour) in enumerate(MONEY_BARS):
        bars = data[data["kind"] == kind]
        positions = np.arange(len(bars)) + (i - (len(MONEY_BARS) - 1) / 2) * width
        axes.bar(positions, bars["mean"] / 1e6, width=width * 0.92, color=colour, label=item)
        errors = np.clip([(bars["mean"] - bars["outcome_low"]) / 1e6, (bars["outcome_high"] - bars["mean"]) / 1e6],
                         0.0, None)  # a skewed spread can leave the mean just outside its 2.5-97.5 percentiles
        axes.errorbar(positions, bars["mean"] / 1e6, yerr=errors, fmt="none", ecolor=BLACK, elinewidth=0.9, capsize=2)
        bar_labels(axes, positions, np.maximum(bars["outcome_high"], bars["mean"]) / 1e6,
                   [format_money(v) for v in bars["mean"]])
    axes.axhline(0, color=BLACK, linewidth=0.8)
    axes.set_xticks(np.arange(len(comparisons)), [wrap(c[:1].upper() + c[1:], 34) for c in comparisons])
    axes.set_ylabel("£ million a year (negative: saved)")
    claimed = run.manifest.get("claimed_benefit_per_year") or None
    if claimed is not None:
        axes.axhline(-float(claimed) / 1e6, color=VERMILLION, linestyle="--", linewidth=1.1,
                     label=f"Plan's claimed benefit, as a saving: {format_money(float(claimed))} a year")
    axes.legend(loc="upper right", fontsize=7, ncols=2)
    low = min(data["outcome_low"].min(), -float(claimed or 0))
    axes.set_ylim(min(0.0, low / 1e6 * 1.2), data["outcome_high"].max() / 1e6 * 1.45)
    net = data[data["kind"] == NET_CASH]
    title = "; ".join(f"{c}: net cash cost {format_money(m)} a year" for c, m in zip(net["comparison"], net["mean"],
                                                                                     strict=True))
    title = title[:1].upper() + title[1:]
    alt_text = "Grouped bar chart in pounds a year, negative where saved. " + "; ".join(
        f"{row.comparison}, {row.item}: {format_money(row.mean)} (range of likely outcomes "
        f"{format_money(row.outcome_low)} to {format_money(row.outcome_high)})" for row in data.itertuples())
    if claimed is not None:
        title += f". The plan claims {format_money(float(claimed))}"
        alt_text += f"; dashed line: the plan's claimed benefit of {format_money(float(claimed))} a year, as a saving"
    note = (f"{OUTCOME_RANGE_NOTE} Cash released: emergency admissions at the marginal rate of the tariff, A&E at "
            "tariff, whole acute wards, care bought per person. Capacity freed is valued at average cost and is "
            "not cash. money.csv has every item by payer.")
    save_chart(figure, run, "money", title, alt_text + ".", f"{note} {assumption_note(run)}")
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
    note = f"Points are means; whiskers are 95% confidence intervals in both directions. {assumption_note(run)}"
    save_chart(figure, run, "mixes_plane", title, alt_text + ".", note)
    return data


TORNADO_MEASURES = {"emergency_admissions_avoided": "Admissions avoided", "net_cost": "Net cost"}


@styled
def tornado(run: RunData) -> pd.DataFrame:
    """Which effects' drawn sizes move admissions avoided and net cost most (tornado.csv): signed rank
    correlations across replications, strongest on admissions at the top."""
    if run.tornado is None or run.tornado.empty:
        raise ValueError(f"{run.run_dir} has no tornado.csv with varying effect sizes")
    data = run.tornado.copy()
    data["input"] = [f"{run.scheme_title(s) or s}: {label(e)}" for s, e in zip(data["scheme"], data["effect"],
                                                                                strict=True)]
    wide = data.pivot_table(index="input", columns="measure", values="correlation", sort=False)
    order = wide["emergency_admissions_avoided"].abs().sort_values(na_position="first").index
    wide = wide.reindex(order)
    method = str(data["method"].iloc[0])
    replications = int(data["n"].iloc[0])

    figure = new_figure(1.4 + 0.42 * len(wide))
    axes = figure.add_subplot()
    axes.grid(axis="x")
    axes.grid(axis="y", visible=False)
    positions = np.arange(len(wide))
    height = 0.38
    for offset, (measure, colour) in zip((height / 2, -height / 2), zip(TORNADO_MEASURES, (BLUE, VERMILLION),
                                                                        strict=True), strict=True):
        axes.barh(positions + offset, wide[measure].fillna(0), height=height, color=colour,
                  label=TORNADO_MEASURES[measure])
    axes.axvline(0, color=BLACK, linewidth=0.9)
    axes.set_xlim(-1, 1)
    axes.set_yticks(positions, [wrap(name, 40) for name in wide.index], fontsize=7)
    axes.set_xlabel(f"{method.capitalize()} with the result across {replications} replications (−1 to 1)")
    axes.legend(loc="lower right", bbox_to_anchor=(1, 1), ncols=2)
    top = wide.index[-1]
    strongest = wide.loc[top, "emergency_admissions_avoided"]
    title = (f"Of the effects' evidence, '{top}' moves admissions avoided most ({method} "
             f"{strongest:+.2f}; a positive value: a larger size, more admissions avoided)")
    alt_text = "Tornado chart of signed rank correlations, strongest on admissions avoided first. " + "; ".join(
        f"{name}: admissions avoided {row.emergency_admissions_avoided:+.2f}, net cost {row.net_cost:+.2f}"
        for name, row in wide[::-1].iterrows())
    note = (f"Each replication draws every effect size from its evidence; bars are the {method} of a size with "
            f"the mix's result across the {replications} replications"
            + (", the other sizes' ranks partialled out." if method.startswith("partial") else
               " (too few replications to partial out the other sizes: indicative).")
            + " Sizes that never vary are left out.")
    save_chart(figure, run, "tornado", title, alt_text + ".", note)
    return wide.reset_index()


@styled
def sensitivity_tornado(run: RunData) -> pd.DataFrame:
    """Which scheme assumptions move the headline most, one at a time (sensitivity.csv, from --sensitivity)."""
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
        f"The result is most sensitive to '{in_sentence(label(top['parameter']))}': the change in "
        f"{in_sentence(label(measure))} ranges from {format_number(top['headline_low'])} "
        f"to {format_number(top['headline_high'])} a year (central {format_number(central.mean)})"
    )
    alt_text = "Tornado chart, largest swing first. " + "; ".join(
        f"{label(row.parameter)} from {format_number(row.low_value)} to {format_number(row.high_value)}: "
        f"{format_number(row.headline_low)} to {format_number(row.headline_high)}"
        + (" (an assumption)" if row.parameter in assumed else "")
        for row in data[::-1].itertuples()
    )
    note = "Each bar varies one input, others held at their central values."
    save_chart(figure, run, "sensitivity_tornado", title, alt_text + ".", note)
    return data


