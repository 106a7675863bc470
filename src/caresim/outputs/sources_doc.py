"""docs/sources.md: every number of a scenario with its value, flag and source, generated from the
comments beside the numbers (``caresim.scenario.sources.parameter_sources``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from caresim.scenario.loading import resolve
from caresim.scenario.sources import parameter_rows

PREAMBLE = """\
# Sources of the parameters of {title}

Generated from `{scenario}` by `caresim.outputs.sources_doc.write_sources_doc`; do not edit by hand.
Change the comment beside a number in the scenario file and generate this page again.

{count} numbers: {counts}.

## What the flags mean

Each number's comment in the scenario file starts with one of these words.

- **seed**: taken from, or worked out from, the area's own plans and papers (the seed files).
  "001 L1545" means seed file 001, line 1545; the seed digest lists the files.
- **public**: a published national or local statistic, or a published study; the list below gives
  their full names.
- **assumption**: a planning judgement made where no local or published figure was found. These are
  the numbers an area analyst should replace with local data first; results depend on them.
- **calibrated**: fitted by `caresim calibrate`, so that the do-nothing baseline meets the
  calibration targets (themselves listed under `targets`, each with its own source).
- **target**: a figure the baseline must reproduce, not an input to the model.
- **unsourced**: a number with no comment. A finished scenario should have none.

## The public sources behind "public"

Unit costs and prices:

- Curtis L, Burns A. *Unit Costs of Health and Social Care 2015*. PSSRU, University of Kent (and the
  2013 edition for GP consultations and home visits).
- Department of Health. *NHS Reference Costs 2013-14*, as tabulated in NICE guideline NG94 (2018),
  chapter 41, for A&E and minor injury attendances.
- New Economy. *Unit Cost Database* (ambulance see-and-treat and conveyance, Reference Costs 2013-14).
- UK Homecare Association. *The Homecare Deficit* (March 2015), average hourly price paid by councils.
- LaingBuisson. *Care Homes for Older People UK Market Report* (weekly fees 2014/15 and 2015/16).
- Glendinning C, Jones K, Baxter K, Rabiee P, Curtis L, Wilde A, Forder J. *Home Care Re-ablement
  Services: Investigating the Longer-Term Impacts*. SPRU, University of York and PSSRU, 2010.

Activity, flows and outcomes:

- Health and Social Care Information Centre. *Focus on Accident and Emergency* (December 2013) and
  *Hospital Episode Statistics* (A&E conversion to admission, all ages and aged 65 and over).
- National Audit Office. *Emergency admissions to hospital: managing the demand* (HC 739, 2013).
- The King's Fund. *Older people and emergency bed use* (Imison C, et al., 2012).
- Nuffield Trust QualityWatch indicators: emergency readmissions; admissions to care homes; older
  people still at home 91 days after reablement.
- Health and Social Care Information Centre. *Adult Social Care Outcomes Framework 2014-15*
  (delayed transfers of care per 100,000 adults).
- Association of Directors of Adult Social Services. *Delayed transfers of care, September 2015*
  (delayed days by responsible agency).
- The Health Foundation, Improvement Analytics Unit. *Emergency admissions to hospital from care
  homes* (2019).
- Social Care Institute for Excellence. *Intermediate care* guide (2017), reporting the National
  Audit of Intermediate Care.
- NHS Choices. Falls indicator 8135 (falls among people aged 65 and over).
- Department of Health and Social Care. *Hospital discharge service guidance* (discharge to assess
  pathways 0-3).

Effects of schemes:

- Stokes J, et al. *Effectiveness of case management for "at risk" patients in primary care: a
  systematic review and meta-analysis*. PLoS One 2015;10(7):e0132340.
- Sherrington C, et al. *Exercise for preventing falls in older people living in the community*.
  Cochrane Database of Systematic Reviews 2019, CD012424.
- Gillespie LD, et al. *Interventions for preventing falls in older people living in the community*.
  Cochrane Database of Systematic Reviews 2012, CD007146.
- The Health Foundation, Improvement Analytics Unit. *The impact of providing enhanced support for
  care home residents in Rushcliffe* (2017), and the same unit's evaluation of enhanced support for
  Nottingham City care home residents.
- *Admission avoidance hospital at home*. Cochrane Database of Systematic Reviews, CD007491 (2024
  update).
- Nuffield Trust. Evaluations of integrated care programmes (response to the National Audit Office on
  the Better Care Fund, 2014) and the Nuffield Trust/NIHR evaluation of virtual wards (2013).
- Roland M, et al. *Follow up of people aged 65 and over with a history of emergency admissions:
  analysis of routine admission data*. BMJ 2005;330:289 (regression to the mean).
- National Audit Office. *Planning for the Better Care Fund* (HC 781, 2014) and *Health and social
  care integration* (2017).
"""

SECTION_TITLES = {
    "run": "Run", "population": "Population", "demand": "Demand", "first_contact": "First contact",
    "routing": "Routing", "services": "Services", "discharge": "Discharge", "costs": "Unit costs",
    "targets": "Calibration targets", "bcf_targets": "BCF plan targets", "calibration": "Calibration settings",
    "schemes": "Schemes", "variants": "Variants",
    "evidence": "Evidence ledger",
}


def _section(path: str) -> str:
    return re.split(r"[.\[]", path, maxsplit=1)[0]


def _number(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_number(item) for item in value) + "]"
    if isinstance(value, float):
        return f"{value:,.6g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _display(path: Path) -> str:
    """The scenario file as a reader would type it: relative to the working folder, never absolute."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return Path(path).name


def sources_markdown(scenario_file: Path) -> str:
    """The Markdown of the sources page for `scenario_file` (read once, not validated)."""
    data, source_map = resolve(Path(scenario_file))
    rows = parameter_rows(data, source_map)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["flag"]] = counts.get(row["flag"], 0) + 1
    title = data.get("title") or Path(scenario_file).stem
    text = PREAMBLE.format(
        title=title, scenario=_display(scenario_file), count=len(rows),
        counts=", ".join(f"{flag} {number}" for flag, number in sorted(counts.items(), key=lambda i: -i[1])),
    )
    sections: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        sections.setdefault(_section(row["path"]), []).append(row)
    for section, members in sections.items():
        text += f"\n## {SECTION_TITLES.get(section, section)} (`{section}`)\n\n"
        text += "| parameter | value | flag | source |\n|---|---|---|---|\n"
        for row in members:
            source = row["source"] or "(no comment)"
            value = str(row["value"]) if row["path"].endswith("seed") else _number(row["value"])
            text += f"| `{row['path']}` | {value} | {row['flag']} | {_cell(source)} |\n"
    unsourced = [row["path"] for row in rows if row["flag"] == "unsourced"]
    if unsourced:
        text += "\n## Numbers without a source\n\n" + "".join(f"- `{path}`\n" for path in unsourced)
    return text


def write_sources_doc(scenario_file: Path, out_path: Path) -> Path:
    """Write the sources page of `scenario_file` (every number, grouped by section) to `out_path`."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(sources_markdown(Path(scenario_file)), encoding="utf-8")
    return out_path
