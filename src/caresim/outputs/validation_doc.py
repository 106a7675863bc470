"""A validation document for a finished run: the baseline against its calibration targets, the scheme
effects against their evidence, and the modelled mix against the plan's claims and against what the
Better Care Fund achieved nationally in 2015/16. About 440 lines: one function per section of the
document, in reading order, each reading only the run folder."""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from caresim.measures import label_or_name, reduction
from caresim.outputs.behaviour import behaviour, behaviour_table, reader_label, shows_behaviour
from caresim.outputs.chart_style import chart_path
from caresim.outputs.run_data import RunData, reader_titles
from caresim.outputs.validation_tables import benchmark_rows, effect_evidence_rows, side_by_side_rows
from caresim.run_folder import COST, NET_CASH, TOTAL_CAPACITY, TOTAL_CASH, read_complete_run

ENGLAND_POPULATION = 54_800_000  # public: ONS mid-2015 estimate for England, about 54.8 million
NATIONAL = {  # public: NAO, Health and social care integration (2017), BCF in 2015/16 against 2014/15
    "emergency_admissions": ("Emergency admissions", -106_000, 87_000),
    "delayed_days": ("Delayed days (delayed transfers of care)", -293_000, 185_000),
}

EVIDENCE = {
    "case management": (
        ("stokes", "case management"),
        "Stokes et al (PLoS One 2015) pooled 36 studies of case management for people at high risk in "
        "primary care and found no significant change in hospital use, total cost or mortality. A prevention "
        "effect credited to proactive care or care co-ordination therefore rests on weak ground, and an "
        "interval that reaches 1 (no effect) is the honest default; high-risk groups also improve on their "
        "own as their risk falls back towards the average (Roland et al, BMJ 2005).",
    ),
    "falls exercise": (
        ("sherrington", "falls rar", "cd012424"),
        "Sherrington et al (Cochrane CD012424, 2019) found that exercise lowered the rate of falls among "
        "people aged 60 and over living in the community by about a quarter (rate ratio 0.77, 0.71 to 0.83; "
        "high-certainty evidence). That is a rate of falls, not of emergency admissions for falls, which "
        "the review did not measure; applying 0.77 to fall crises leans towards optimism.",
    ),
    "care-home support": (
        ("health foundation", "rushcliffe", "nottingham"),
        "The Health Foundation's Improvement Analytics Unit compared care homes given enhanced support with "
        "matched controls: in Rushcliffe residents had 23 % fewer emergency admissions and 29 % fewer A&E "
        "attendances, with no change in hospital bed days (2017); in Nottingham City emergency admissions "
        "fell 18 % with no change in A&E attendances.",
    ),
    "hospital at home": (
        ("cd007491", "hospital at home"),
        "The Cochrane review of admission-avoidance hospital at home (CD007491) found fewer older people "
        "living in residential care six months later (risk ratio 0.53, 0.41 to 0.69), no clear difference "
        "in deaths (0.88, 0.68 to 1.13) and possibly more later admissions (1.14, 0.97 to 1.34). These "
        "figures bound the rapid-response and step-up effects; the care-home figure is diluted when it is "
        "applied to everyone discharged rather than to those treated at home.",
    ),
}

SIZE_FIELDS = ("multiplier", "share")


# --- reading -------------------------------------------------------------------------------


def _estimates(summary: pd.DataFrame) -> dict[tuple[str, str], tuple[float, float, float]]:
    return {(row.world, row.measure): (float(row.mean), float(row.ci_low), float(row.ci_high))
            for row in summary.itertuples()}


def _source_lookup(manifest: dict[str, Any]) -> tuple[dict[str, str], str]:
    """Parameter path → source text, and a sentence saying where the sources were read: the sources the
    run recorded from the comments of its scenario file."""
    rows = manifest.get("parameters_with_sources") or []
    if rows:
        where = f"the comments in `{manifest['scenario_file']}`" if manifest.get("scenario_file") else "the run"
        return {row["path"]: row["source"] for row in rows}, f"{where}, as recorded in the run's manifest"
    return {}, "each scheme's `source` field"


# --- formatting ----------------------------------------------------------------------------


def _number(value: float | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:,.{digits}f}"


def _digits(value: float) -> int:
    size = abs(value)
    return 0 if size >= 100 else 1 if size >= 10 else 2 if size >= 1 else 3


def _estimate(value: tuple[float, float, float] | None) -> str:
    if value is None:
        return "not in this run"
    mean, low, high = value
    digits = _digits(mean)
    return f"{_number(mean, digits)} ({_number(low, digits)} to {_number(high, digits)})"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _size(uncertain: dict[str, Any] | None) -> tuple[str, str]:
    if not uncertain:
        return "", ""
    value, low, high = uncertain.get("value"), uncertain.get("low"), uncertain.get("high")
    interval = f"{low:g} to {high:g}" if low is not None and high is not None else "fixed"
    return f"{value:g}", interval


def _eligible(eligible: dict[str, Any] | None) -> str:
    parts = [f"{key.replace('_', ' ')} {', '.join(map(str, values))}"
             for key, values in (eligible or {}).items() if values]
    return "; ".join(parts) or "everyone"


# --- sections ------------------------------------------------------------------------------


def _tolerance(kind: object, tolerance: float) -> str:
    return f"±{tolerance * 100:g} %" if kind == "relative" else f"±{tolerance:g}"


def _behaviour_section(run_dir: Path, chart: str | None) -> list[str]:
    """How the baseline's services behave (discharges by weekday, occupancy and waits, delays by reason and
    agency) against their targets, with the chart; nothing for a run without these measures."""
    calibration = run_dir / "calibration.csv"
    table = behaviour_table(pd.read_csv(run_dir / "summary.csv"),
                            pd.read_csv(calibration) if calibration.exists() else None)
    if table.empty:
        return []
    targeted = table[table["target"].notna()]
    lines = [
        "### How the baseline's services behave", "",
        "Not only annual totals: acute discharges by day of the week, occupancy and waits by service, and delayed "
        "days by reason and by agency, each against the scenario's target where it sets one "
        f"({int(targeted['within'].astype(bool).sum())} of {len(targeted)} inside). A measure without a target is "
        "listed for the reader to judge against local knowledge.", "",
    ]
    if chart:
        alt_text = (run_dir / "charts" / "behaviour.txt").read_text(encoding="utf-8").strip()
        alt_text = re.sub(r"[\[\]\n]", " ", alt_text)
        lines += [f"![{alt_text}]({chart})", ""]
    lines += ["| measure | unit | baseline mean (95 % CI) | target | tolerance | allowed range | within | source |",
              "|---|---|---|---|---|---|---|---|"]
    for row in table.to_dict("records"):
        estimate = _estimate((row["mean"], row["ci_low"], row["ci_high"]))
        if math.isnan(row["target"]):
            lines.append(f"| {reader_label(row['measure'])} | {row['unit']} | {estimate} | – | | | no target | |")
            continue
        digits = _digits(row["target"])
        allowed = f"{_number(row['low'], digits)} to {_number(row['high'], digits)}"
        lines.append(f"| {reader_label(row['measure'])} | {row['unit']} | {estimate} | "
                     f"{_number(row['target'], digits)} | {_tolerance(row['tolerance_kind'], row['tolerance'])} | "
                     f"{allowed} | {'yes' if row['within'] else '**no**'} | {_cell(row['source'])} |")
    return [*lines, ""]


def _calibration_section(run_dir: Path) -> list[str]:
    lines = ["## 1. The baseline against the calibration targets", ""]
    path = run_dir / "calibration.csv"
    if not path.exists():
        return [*lines, "This run has no `calibration.csv`, so there is nothing to compare.", ""]
    table = pd.read_csv(path)
    if table.empty:
        return [*lines, "The scenario declares no calibration targets.", ""]
    within = table["within"].astype(str).str.lower().isin(["true", "1", "yes"])
    lines += [
        f"The do-nothing baseline meets {int(within.sum())} of {len(table)} targets: its mean lies within "
        "the tolerance around the target. The interval is the 95 % confidence interval of the mean over "
        "replications.", "",
        "| measure | unit | target | tolerance | allowed range | baseline mean (95 % CI) | within | source |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row, ok in zip(table.to_dict("records"), within, strict=True):
        tolerance = _tolerance(row.get("tolerance_kind", "relative"), float(row["tolerance"]))
        digits = _digits(float(row["target"]))
        allowed = f"{_number(row['low'], digits)} to {_number(row['high'], digits)}"
        baseline = _estimate((row["baseline_mean"], row["ci_low"], row["ci_high"]))
        source = row.get("source", "")
        source = "" if isinstance(source, float) and math.isnan(source) else source
        lines.append(f"| {label_or_name(row['measure'])} | {row.get('unit', '')} | "
                     f"{_number(float(row['target']), digits)} | "
                     f"{tolerance} | {allowed} | {baseline} | {'yes' if ok else '**no**'} | {_cell(source)} |")
    missed = [label_or_name(measure) for measure in table.loc[~within, "measure"]]
    if missed:
        lines += ["", f"Outside tolerance: {', '.join(missed)}. Results that depend on these flows deserve "
                  "more caution than the rest."]
    return [*lines, ""]


def _profile_size(effect: dict[str, Any]) -> str:
    """A discharge-profile effect in words, e.g. "weekday rates 1, 1, 1, 1, 1, 1, 1; hourly 1 from 8:00 to 20:00"."""
    parts = []
    if effect.get("weekday"):
        parts.append("weekday rates " + ", ".join(f"{r:g}" for r in effect["weekday"]))
    hourly = effect.get("hourly")
    if hourly:
        open_hours = [h for h, rate in enumerate(hourly) if rate > 0]
        top = max(hourly)
        parts.append(f"hourly up to {top:g} from {open_hours[0]}:00 to {open_hours[-1] + 1}:00" if open_hours
                     else "hourly 0")
    return "; ".join(parts)


def _effect_row(name: str, index: int, effect: dict[str, Any], sources: dict[str, str],
                scheme_source: str) -> tuple[list[str], str]:
    kind = effect.get("kind", "")
    base = f"schemes.{name}.effects[{index}]"
    what, size, interval, size_path = "", "", "", base
    if kind == "capacity":
        what = effect.get("service", "")
        size, interval, size_path = f"+{effect.get('add')}", "fixed", f"{base}.add"
    elif kind == "discharge_profile":
        size = _profile_size(effect)
        interval, size_path = "fixed", f"{base}.{'weekday' if effect.get('weekday') else 'hourly'}"
    else:
        field = next((f for f in SIZE_FIELDS if f in effect), None)
        size, interval = _size(effect.get(field)) if field else ("", "")
        size_path = f"{base}.{field}.value" if field else base
        if kind == "diversion":
            what = f"{effect.get('at')} → {effect.get('to')}"
            then = effect.get("then_admitted") or {}
            if then.get("value"):
                size += f" (then admitted {then['value']:g})"
        elif kind == "pathway_shift":
            what = f"{effect.get('from')} → {effect.get('to')}"
        elif kind == "length_of_stay":
            what = effect.get("service", "")
    inside = [path for path in sources if path.startswith((base + ".", base + "["))]
    candidates = [sources.get(path) for path in (size_path, base, *inside)]
    source = next((text for text in candidates if text and text != scheme_source), scheme_source)
    family = _family(source)
    cells = [name, effect.get("name", str(index)), kind, what, size, interval, _eligible(effect.get("eligible")),
             source, family]
    return cells, family


def _family(source: str) -> str:
    lowered = source.lower()
    return next((family for family, (keys, _) in EVIDENCE.items() if any(key in lowered for key in keys)), "")


def _effects_section(manifest: dict[str, Any], scenario: dict[str, Any]) -> list[str]:
    lines = ["## 2. The scheme effects against their evidence", ""]
    schemes = scenario.get("schemes") or {}
    if not schemes:
        return [*lines, "The run's `scenario.yaml` lists no schemes.", ""]
    mix = scenario.get("mix") or list(schemes)
    sources, where = _source_lookup(manifest)
    lines += [
        f"The {len(mix)} schemes of the main mix (`{scenario.get('mix_name', manifest.get('main_mix', ''))}`), "
        f"as run (from the run's `scenario.yaml`). Each effect's size is a point value and an interval drawn "
        f"once per replication; its source is taken from {where}. A multiplier below 1 lowers a rate; a share "
        "is the chance a patient is diverted or moved.", "",
        "| scheme | effect | kind | where | size | interval | who | source | evidence |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    used: dict[str, list[str]] = {}
    unmatched = 0
    for name in mix:
        scheme = schemes.get(name) or {}
        effects = scheme.get("effects") or []
        if not effects:
            lines.append(f"| {name} | – | none | | | | | {_cell(scheme.get('source', ''))} | |")
            continue
        for index, effect in enumerate(effects):
            cells, family = _effect_row(name, index, effect, sources, scheme.get("source", ""))
            lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
            if family:
                used.setdefault(family, []).append(f"{name}.{effect.get('name', index)}")
            else:
                unmatched += 1
    lines += ["", "### What the evidence says", ""]
    for family, (_, sentence) in EVIDENCE.items():
        users = used.get(family)
        note = f" Used here by {', '.join(users)}." if users else " No effect of this mix cites it."
        lines += [f"- **{family.capitalize()}.** {sentence}{note}"]
    if unmatched:
        lines += ["", f"{unmatched} of the effects cite none of these four families; their source column says "
                  "whether they rest on the plan, on other published figures or on an assumption."]
    return [*lines, ""]


def _per_scheme_claims(run_dir: Path, scenario: dict[str, Any]) -> list[str]:
    """Each scheme's own claimed benefit beside what it does alone in the model (from attribution.csv, if present)."""
    path = run_dir / "attribution.csv"
    if not path.exists():
        return []
    table = pd.read_csv(path)
    alone = table[table["method"] == "one_at_a_time"]
    if alone.empty:
        return []
    schemes = scenario.get("schemes") or {}
    lines = ["", "Scheme by scheme, each scheme simulated alone against the baseline (one at a time; the parts "
             "need not add up to the mix, and the interaction remainder is in `attribution.csv`). The cost avoided "
             "is NHS and council activity at average unit cost, cash or not:", "",
             "| scheme | claimed benefit a year, pounds | NHS and council cost avoided alone (95 % CI) | "
             "admissions avoided alone (95 % CI) |", "|---|---|---|---|"]
    for scheme in dict.fromkeys(alone["scheme"]):
        rows = alone[alone["scheme"] == scheme].set_index("measure")

        def avoided(measure: str, rows: pd.DataFrame = rows) -> tuple[float, float, float] | None:
            if measure not in rows.index:
                return None
            row = rows.loc[measure]
            return reduction(float(row["mean"])), reduction(float(row["ci_high"])), reduction(float(row["ci_low"]))

        claim = float((schemes.get(scheme) or {}).get("claimed_benefit_per_year") or 0.0)
        lines.append(f"| {scheme} | {_number(claim) if claim else 'none stated'} | "
                     f"{_estimate(avoided('cost_total'))} | {_estimate(avoided('emergency_admissions'))} |")
    return lines


def _money_claims(run_dir: Path, claimed: float) -> list[str]:
    """The plan's claimed benefit beside the money ledger's first comparison (money.csv): cash and not cash."""
    path = run_dir / "money.csv"
    if not path.exists():
        return []
    money = pd.read_csv(path)
    comparison = money["comparison"].iloc[0]
    totals = money[money["comparison"] == comparison].set_index("kind")

    def cell(kind: str, sign: float = 1.0) -> str:
        row = totals.loc[kind]
        low, high = sorted((sign * float(row["p2_5"]), sign * float(row["p97_5"])))
        ci_low, ci_high = sorted((sign * float(row["ci_low"]), sign * float(row["ci_high"])))
        return (f"{_number(sign * float(row['mean']))} (range {_number(low)} to {_number(high)}; "
                f"95 % CI {_number(ci_low)} to {_number(ci_high)})")

    claim = _number(claimed) if claimed else "none stated"
    return ["| money a year, pounds | the plan | modelled (mean; range of likely outcomes; 95 % CI) |", "|---|---|---|",
            f"| Benefits: cash released | {claim} | {cell(TOTAL_CASH, -1.0)} |",
            f"| Capacity freed at average cost, not cash | | {cell(TOTAL_CAPACITY, -1.0)} |",
            f"| Cost to the pooled fund | | {cell(COST)} |",
            f"| Net cash cost | | {cell(NET_CASH)} |", "",
            f"The modelled money is {comparison} (money.csv, by payer, has the other comparison and every item). "
            "The plan states its benefits in money, so they are compared with money, not with an admission count."]


def _claims_section(run_dir: Path, manifest: dict[str, Any], scenario: dict[str, Any],
                    estimates: dict[tuple[str, str], tuple[float, float, float]]) -> list[str]:
    lines = ["## 3. The modelled mix against the plan's claims and the national programme", ""]
    difference = lambda measure: estimates.get(("difference", measure))  # noqa: E731
    claimed = float(manifest.get("claimed_benefit_per_year") or 0.0)
    source = manifest.get("claimed_benefit_source") or "the schemes' claimed_benefit_per_year"
    lines += ["### Against the plan's own claims and metrics", "", f"The claimed benefits come from {source}.", "",
              *_money_claims(run_dir, claimed)]
    lines += _per_scheme_claims(run_dir, scenario)
    targets = manifest.get("bcf_targets") or {}
    if targets:
        lines += ["", "| BCF plan target | target | baseline (95 % CI) | with the mix (95 % CI) |", "|---|---|---|---|"]
        mix = manifest.get("main_mix") or scenario.get("mix_name", "")
        for measure, target in targets.items():
            lines.append(f"| {label_or_name(measure)} | {_number(float(target), _digits(float(target)))} | "
                         f"{_estimate(estimates.get(('baseline', measure)))} | "
                         f"{_estimate(estimates.get((mix, measure)))} |")
    population = sum((scenario.get("population") or {}).get("localities", {}).values()) or None
    lines += ["", "### Against what the Better Care Fund achieved nationally in 2015/16", ""]
    if not population:
        return [*lines, "The run's `scenario.yaml` gives no population, so the national figures cannot be scaled.",
                ""]
    share = population / ENGLAND_POPULATION
    lines += [
        f"Local plans together promised fewer emergency admissions and fewer delayed days in 2015/16; "
        f"instead both rose on 2014/15 (National Audit Office, *Health and social care integration*, 2017). "
        f"Scaled to this scenario's population ({population:,} of England's about "
        f"{ENGLAND_POPULATION / 1e6:.1f} million, a share of {share * 100:.3f} %), the national figures sit "
        "beside the modelled change:", "",
        "| measure | national plan | national outcome | plan, scaled | outcome, scaled | modelled (mix − baseline, "
        "95 % CI) |", "|---|---|---|---|---|---|",
    ]
    for measure, (label, planned, actual) in NATIONAL.items():
        lines.append(f"| {label} a year | {planned:+,} | {actual:+,} | {planned * share:+,.0f} | "
                     f"{actual * share:+,.0f} | {_estimate(difference(measure))} |")
    lines += ["", "The national figures are changes from one year to the next across every area's schemes; the "
              "modelled figure is the difference the mix makes against a do-nothing baseline in the same year. "
              "A modelled reduction well beyond the scaled national plan, when the national outcome was a "
              "rise, needs its effect sizes checked against section 2 before it is believed.", ""]
    return lines


def _markdown_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers),
            *("| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows), ""]


def _side_by_side_section(run_dir: Path, manifest: dict[str, Any]) -> list[str]:
    """Section 4: the evidence defaults and the planners' assumptions side by side, each effect's drawn size
    against its evidence, and each mix against external benchmarks (as in the report)."""
    titles = reader_titles(manifest)
    headers, rows = side_by_side_rows(run_dir, titles)
    if not rows:
        return []
    lines = ["## 4. Evidence defaults and the planners' assumptions", "",
             "Both mixes on the same baseline (the same people and draws); positive numbers are reductions.", "",
             *_markdown_table(headers, rows)]
    headers, rows = effect_evidence_rows(run_dir, titles)
    if rows:
        lines += ["### Each effect against its evidence", "",
                  "The size drawn for each effect is an input of the model. The realised size is measured in the "
                  "simulation, on the people the effect acted on, in the world where its scheme acts alone: for a "
                  "diversion, the share of the patients it could take who were actually diverted (a full or closed "
                  "service makes it smaller than drawn); for a ratio, the outcome with the effect over the outcome "
                  "without it on the same draws. 'Acted on' counts decisions (for prevention, the crises of the "
                  "people it protected).", "",
                  *_markdown_table(headers, rows)]
    headers, rows = benchmark_rows(run_dir, titles)
    if rows:
        lines += ["### The whole mix against external benchmarks", "", *_markdown_table(headers, rows)]
    return lines


def validation_markdown(run_dir: Path, behaviour_chart: str | None = None) -> str:
    """The validation document of the complete run in `run_dir`, as Markdown; `behaviour_chart` is the link to the
    behaviour chart from the document, if it was drawn."""
    run_dir = Path(run_dir)
    manifest = read_complete_run(run_dir)
    scenario_path = run_dir / "scenario.yaml"
    scenario = yaml.safe_load(scenario_path.read_text(encoding="utf-8")) if scenario_path.exists() else {}
    scenario = scenario if isinstance(scenario, dict) else {}
    estimates = _estimates(pd.read_csv(run_dir / "summary.csv"))
    title = manifest.get("title") or scenario.get("title") or manifest.get("scenario", "")
    commit = str(manifest.get("git_commit") or "unknown")[:12]
    header = [
        f"# Validation: {title}", "",
        f"Run `{manifest.get('run_id', run_dir.name)}` of scenario `{manifest.get('scenario', '')}` "
        f"({manifest.get('replications', '?')} paired replications, caresim {manifest.get('caresim_version', '?')}, "
        f"commit {commit}). Generated by `caresim.outputs.validation_doc.write_validation_doc` from the run "
        "folder; nothing was re-run.", "",
    ]
    body = (_calibration_section(run_dir) + _behaviour_section(run_dir, behaviour_chart)
            + _effects_section(manifest, scenario)
            + _claims_section(run_dir, manifest, scenario, estimates) + _side_by_side_section(run_dir, manifest))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(header + body)).rstrip() + "\n"


def _copy_behaviour_chart(run_dir: Path, out_path: Path) -> str | None:
    """Draw the run's behaviour chart and copy its PNG beside the document (a run folder is not kept with the
    docs); its file name, or None for a run without the behaviour measures."""
    run = RunData.load(run_dir)
    if not shows_behaviour(run):
        return None
    behaviour(run)
    name = f"{out_path.stem}-behaviour.png"
    shutil.copyfile(chart_path(run, "behaviour"), out_path.parent / name)
    return name


def write_validation_doc(run_dir: Path, out_path: Path) -> Path:
    """Write the validation document of the complete run in `run_dir` to `out_path`, with the behaviour chart
    beside it, and return it."""
    run_dir, out_path = Path(run_dir), Path(out_path)
    read_complete_run(run_dir)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    chart = _copy_behaviour_chart(run_dir, out_path)
    out_path.write_text(validation_markdown(run_dir, chart), encoding="utf-8")
    return out_path
