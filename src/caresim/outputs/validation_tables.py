"""The evidence defaults and the planners' assumptions side by side, each effect's drawn size against its evidence,
and each mix against external benchmarks: rows read from the run folder, for the report and validation.md."""

from __future__ import annotations

import math
from pathlib import Path

from caresim.measures import label_or_name, reduction
from caresim.outputs.chart_style import label
from caresim.outputs.run_data import read_optional_csv

SIDE_BY_SIDE_MEASURES = ("emergency_admissions", "acute_bed_days", "delayed_days", "care_home_admissions", "cost_total")
ALL_SCHEMES = "all schemes"


def _interval(mean: float, low: float, high: float, digits: int = 0) -> str:
    return f"{mean:,.{digits}f} ({low:,.{digits}f} to {high:,.{digits}f})"


def side_by_side_rows(run_dir: Path, titles: dict[str, str]) -> tuple[list[str], list[list[str]]]:
    """Headers and rows: each measure (the mix) and each scheme alone's admissions avoided, one column per mix
    (`titles`: mixes' and schemes' titles by name); reductions are positive (baseline − mix, 95 % CI)."""
    table = read_optional_csv(run_dir, "side_by_side.csv")
    if table is None or table.empty:
        return [], []
    mixes = list(dict.fromkeys(table["mix"]))

    def cell(mix: str, scheme: str, measure: str) -> str:
        row = table[(table["mix"] == mix) & (table["scheme"] == scheme) & (table["measure"] == measure)]
        if row.empty:
            return "–"
        first = row.iloc[0]
        return _interval(reduction(first["mean"]), reduction(first["ci_high"]), reduction(first["ci_low"]))

    rows = [[f"{label_or_name(m)} avoided, whole mix", *(cell(mix, ALL_SCHEMES, m) for mix in mixes)]
            for m in SIDE_BY_SIDE_MEASURES if (table["measure"] == m).any()]
    schemes = [s for s in dict.fromkeys(table["scheme"]) if s != ALL_SCHEMES]
    rows += [[f"Emergency admissions avoided, {titles.get(scheme) or label(scheme)} alone",
              *(cell(mix, scheme, "emergency_admissions") for mix in mixes)] for scheme in schemes]
    return ["Per year (95 % CI)", *(titles.get(mix, mix) for mix in mixes)], rows


def _realised(r: object) -> str:
    mean, low, high = (getattr(r, f"realised_{part}") for part in ("mean", "ci_low", "ci_high"))
    return "not measured" if math.isnan(mean) else f"{mean:.3g} ({low:.3g} to {high:.3g})"


def effect_evidence_rows(run_dir: Path, titles: dict[str, str]) -> tuple[list[str], list[list[str]]]:
    """Each sized effect with a ledger entry: the ledger's estimate and CI beside the size drawn (an input) and the
    size realised on the people the effect acted on (measured), each inside or outside the ledger's CI; mixes and
    schemes by their `titles`."""
    table = read_optional_csv(run_dir, "effect_evidence.csv")
    if table is None or table.empty:
        return [], []
    headers = ["Mix", "Scheme", "Effect", "Ledger outcome", "Ledger estimate (95 % CI)", "Evidence kind",
               "Size drawn, an input (mean; min to max)", "Drawn inside?", "Acted on a year",
               "Realised on those acted on, measured (95 % CI)", "Realised inside?"]
    rows = [[titles.get(r.mix, r.mix), titles.get(r.scheme) or label(r.scheme), label(r.effect), r.outcome,
             f"{r.estimate:g} ({r.ci_low:g} to {r.ci_high:g})", r.evidence_kind,
             f"{r.drawn_mean:.3g}; {r.drawn_min:.3g} to {r.drawn_max:.3g}", "inside" if r.inside else "outside",
             f"{r.acted_on_per_year:,.0f}", _realised(r),
             "–" if math.isnan(r.realised_mean) else ("inside" if r.realised_inside else "outside")]
            for r in table.itertuples()]
    return headers, rows


def _end(value: float) -> str:
    return "" if math.isinf(value) else f"{value:+,.1f}"


def benchmark_rows(run_dir: Path, titles: dict[str, str]) -> tuple[list[str], list[list[str]]]:
    """Each benchmark and mix: the range, the modelled change (mix − baseline, 95 % CI), inside or outside, source."""
    table = read_optional_csv(run_dir, "benchmarks.csv")
    if table is None or table.empty:
        return [], []
    headers = ["Benchmark", "Mix", "Measure", "Range", "Modelled change (95 % CI)", "Inside?", "Source"]
    rows = []
    for r in table.itertuples():
        unit = "%" if r.change == "percent" else " a year"
        low, high = _end(float(r.low)), _end(float(r.high))
        span = f"{low} to {high}" if low and high else (f"at most {high}" if high else f"at least {low}")
        rows.append([r.title, titles.get(r.mix, r.mix), label_or_name(r.measure), span + unit,
                     _interval(r.mean, r.ci_low, r.ci_high, 1) + unit, "inside" if r.inside else "outside", r.source])
    return headers, rows
