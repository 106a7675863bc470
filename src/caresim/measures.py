"""The registry of measures: each measure a run reports, declared once with its unit, label and meaning.

`caresim.metrics` computes the measures of one world, `caresim.analysis.summary` their paired
differences; tables, charts and the report read names, units and labels from here. docs/measures.md is
rendered from this module (`measures_markdown`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeVar

from caresim.scenario.fields import AGE_BANDS, BAND_SUFFIX, DELAY_REASONS, SETTINGS, WEEKDAY_NAMES

Good = Literal["lower", "higher", "neither"]
Aggregation = Literal["adds", "ratio"]
Change = TypeVar("Change")

AGENCIES = ("nhs", "social_care", "both")
AGENCY_LABELS = {"nhs": "the NHS", "social_care": "social care", "both": "both NHS and social care"}
SETTING_LABELS = {"acute": "in acute beds", "non_acute": "outside acute beds"}
OCCUPANCY_GROUPS = {"acute": "Acute", "intermediate_care": "Intermediate care", "reablement": "Reablement",
                    "rapid_response": "Rapid response", "care_home": "Care home"}

PER_YEAR = "per year"
POUNDS_PER_YEAR = "pounds per year"
PERCENT = "percent"
POINTS = "percentage points"  # a change of a percentage: may be negative
BED_DAYS = "bed days per year"
DELAYED_DAYS = "delayed days per year"
SHARE_OF_REPLICATIONS = "share of replications"  # a chance: the share of replications in which something holds


@dataclass(frozen=True)
class Measure:
    """One measure: its machine name (a summary.csv id), a reader's label, unit, good direction and aggregation.

    `aggregation` says how values of several localities or years combine: "adds" for counts and money,
    "ratio" for percentages, rates, means and shares, which must be recomputed from their parts.
    `reduction` names the difference-only measure baseline − mix, where the measure has one."""

    name: str
    label: str
    unit: str = PER_YEAR
    good: Good = "neither"
    aggregation: Aggregation = "adds"
    reduction: str | None = None
    difference_only: bool = False


class UnknownMeasureError(KeyError):
    """A measure name that the registry does not declare."""

    def __str__(self) -> str:
        return (f"unknown measure {self.args[0]!r}; every measure is declared in caresim.measures "
                "(listed in docs/measures.md)")


def _count(name: str, label: str, good: Good = "neither", reduction: str | None = None) -> Measure:
    return Measure(name, label, PER_YEAR, good, "adds", reduction)


def _percent(name: str, label: str, good: Good = "neither") -> Measure:
    return Measure(name, label, PERCENT, good, "ratio")


def _money(name: str, label: str, good: Good = "lower", reduction: str | None = None) -> Measure:
    return Measure(name, label, POUNDS_PER_YEAR, good, "adds", reduction)


def _band_label(suffix: str) -> str:
    return dict(zip(BAND_SUFFIX, AGE_BANDS, strict=True))[suffix].replace("85+", "85 and over")


# Patients moving between services, counted by the engine for the flow diagram (caresim.analysis.tables.FLOWS):
# routing decisions by where they were made, and the moves and endings that no other counter records.
ROUTED = {(via, outcome): f"routed_{via}_to_{outcome}" for via, outcomes in (
    ("gp", ("home", "rapid_response", "ae", "admit")),
    ("out_of_hours", ("home", "rapid_response", "ambulance", "ae", "admit")),
    ("ambulance", ("home", "rapid_response")), ("minor_injury", ("home", "ae"))) for outcome in outcomes}
MOVED = {(origin, to): f"moved_{origin}_to_{to}" for origin, to in (
    ("at_home_before_readmission", "ae_waiting"), ("ae", "acute"), ("rapid_response", "waiting_acute"),
    ("rapid_response", "intermediate_care"), ("rapid_response", "reablement"), ("intermediate_care", "reablement"),
    ("intermediate_care", "care_home"), ("reablement", "waiting_home_care"), ("referred_from_home", "reablement"))}
ENDED = {(location, how): f"ended_{location}_{how}" for location, how in (
    ("crisis", "home"), ("ae", "home"), ("ae", "elsewhere"), ("waiting_acute", "elsewhere"), ("rapid_response", "home"),
    ("acute", "home"), ("intermediate_care", "home"), ("intermediate_care", "readmitted"), ("reablement", "home"),
    ("waiting_home_care", "home"))}

_PLACES = {"crisis": "first contact", "gp": "GP", "out_of_hours": "111 / out of hours", "ambulance": "ambulance",
           "minor_injury": "minor injury unit", "home": "home", "rapid_response": "rapid response", "ae": "A&E",
           "admit": "acute admission", "at_home_before_readmission": "home (readmitted)", "ae_waiting": "A&E",
           "acute": "an acute bed", "waiting_acute": "acute admission", "intermediate_care": "intermediate care",
           "reablement": "reablement", "care_home": "a care home", "waiting_home_care": "home care",
           "elsewhere": "another hospital (no bed)", "readmitted": "readmission",
           "referred_from_home": "a referral from home"}
FLOW_LABELS = {name: f"{_PLACES[origin]} to {_PLACES[to]}"
               for table in (ROUTED, MOVED, ENDED) for (origin, to), name in table.items()}

# Counts of the tally, annualised by `caresim.metrics`.
TALLY_COUNTS: tuple[Measure, ...] = (
    _count("crises", "Crises", "lower"),
    _count("gp_urgent_contacts", "GP urgent contacts"),
    _count("gp_no_appointment", "Crises finding no GP appointment", "lower"),
    _count("out_of_hours_contacts", "111 and out-of-hours contacts"),
    _count("rapid_response_episodes", "Rapid response episodes"),
    _count("ambulance_incidents", "Ambulance incidents", "lower"),
    _count("ambulance_conveyances", "Ambulance conveyances to A&E", "lower"),
    _count("minor_injury_attendances", "Minor injury unit attendances"),
    _count("ae_attendances", "A&E attendances", "lower", "ae_attendances_avoided"),
    _count("ae_attendances_65plus", "A&E attendances, people aged 65+", "lower"),
    _count("emergency_admissions", "Emergency admissions", "lower", "emergency_admissions_avoided"),
    *(_count(f"emergency_admissions_{suffix}", f"Emergency admissions, people aged {_band_label(suffix)}", "lower")
      for suffix in BAND_SUFFIX),
    _count("emergency_admissions_65plus", "Emergency admissions, people aged 65+", "lower",
           "emergency_admissions_65plus_avoided"),
    _count("emergency_admissions_via_ae", "Emergency admissions through A&E", "lower"),
    _count("avoidable_emergency_admissions", "Avoidable emergency admissions", "lower",
           "avoidable_emergency_admissions_avoided"),
    _count("readmissions_30d", "Readmissions within 30 days", "lower"),
    _count("step_up_admissions", "Step-up admissions to intermediate care"),
    _count("step_down_admissions", "Step-down admissions to intermediate care"),
    _count("reablement_episodes", "Reablement episodes"),
    _count("home_care_packages", "Home care packages started"),
    _count("care_home_admissions", "Care home admissions", "lower", "care_home_admissions_avoided"),
    _count("care_home_admissions_65plus", "Care home admissions, people aged 65+", "lower"),
    _count("care_home_admissions_65plus_council_funded", "Council-funded care home admissions, aged 65+", "lower"),
    _count("deaths_hospital", "Deaths in hospital", "lower"),
    _count("deaths_intermediate_care", "Deaths in intermediate care", "lower"),
    _count("deaths_care_home", "Deaths in care homes", "lower"),
    _count("diversions", "Crises diverted by a scheme"),
    _count("diversions_self_presentation", "Diversions of self-presentations"),
    _count("diversions_ambulance_conveyance", "Diversions of ambulance conveyances"),
    _count("diversions_admission", "Diversions of admissions"),
    _count("failed_diversions", "Failed diversions (later admitted)", "lower"),
    _count("diverted_then_admitted", "Diverted patients admitted after the diverted episode", "lower"),
    _count("failed_diversions_self_presentation", "Failed diversions of self-presentations", "lower"),
    _count("failed_diversions_ambulance_conveyance", "Failed diversions of ambulance conveyances", "lower"),
    _count("failed_diversions_admission", "Failed diversions of admissions", "lower"),
    _count("rapid_response_no_room", "Rapid response referrals turned away (no room)", "lower"),
    _count("acute_turned_away", "Acute admissions turned away (no bed)", "lower"),
    _count("ae_admitted", "A&E attendances admitted"),
    _count("acute_to_home", "Acute discharges home"),
    _count("acute_to_reablement", "Acute discharges to reablement"),
    _count("acute_to_home_care", "Acute discharges to home care"),
    _count("acute_to_step_down", "Acute discharges to step-down beds"),
    _count("acute_to_care_home", "Acute discharges to a care home"),
    _count("acute_to_care_home_return", "Acute discharges of care-home residents back to their home"),
    *(_count(name, f"Flow: {label}") for name, label in FLOW_LABELS.items()),
)

# --- discharge rhythm: when patients leave hospital, and the wait for a discharge assessment
DISCHARGE_RHYTHM_MEASURES: tuple[Measure, ...] = (
    *(_count(f"discharges_{day}", f"Acute discharges alive on a {day.capitalize()}") for day in WEEKDAY_NAMES),
    _percent("weekend_discharge_percent", "Acute discharges alive on a Saturday or Sunday (share)", "higher"),
    _percent("discharges_before_noon_percent", "Acute discharges alive before noon (share)", "higher"),
    _percent("discharges_at_night_percent", "Acute discharges alive between 23:00 and 06:00 (share)", "lower"),
    Measure("assessment_wait_days", "Mean wait for a discharge assessment to start", "days", "lower", "ratio"),
)

# --- downstream services: waits, care-home balance, delay reasons as shares, council spend by item
WAIT_GROUPS = {  # measure prefix → the services patients queue for (record names), like OCCUPANCY_GROUPS
    "intermediate_care": ("intermediate_care_beds", "step_down_beds", "step_up_beds"),
    "reablement": ("reablement",), "home_care": ("home_care",), "care_home": ("residential_care", "nursing_care")}
_WAIT_LABELS = {"intermediate_care": "an intermediate-care bed", "reablement": "reablement",
                "home_care": "a home-care package to start", "care_home": "a care-home bed"}
DOWNSTREAM_MEASURES: tuple[Measure, ...] = (
    *(Measure(f"{group}_wait_days", f"Mean wait for {label} (request to start, granted requests)", "days",
              "lower", "ratio") for group, label in _WAIT_LABELS.items()),
    *(_percent(f"{group}_waited_percent", f"Requests for {label} that had to wait (share)", "lower")
      for group, label in _WAIT_LABELS.items()),
    _percent("care_home_occupancy_start_percent", "Care home occupancy on the first day of the period"),
    _percent("care_home_occupancy_end_percent", "Care home occupancy on the last day of the period"),
    Measure("care_home_occupancy_change_percent", "Change in care home occupancy over the period",
            POINTS, "neither", "ratio"),
    _percent("care_home_deaths_in_hospital_percent", "Care home residents' deaths that happen in hospital (share)",
             "lower"),
    Measure("care_home_mean_residence_years", "Mean care home residence until death (residents over deaths a year)",
            "years", "neither", "ratio"),
    *(_percent(f"delayed_days_{reason}_percent", f"Delayed days: {reason.replace('_', ' ')} (share)")
      for reason in DELAY_REASONS),
    _money("cost_council_care_homes", "Council cost of care home placements"),
    _money("cost_council_reablement", "Council cost of reablement"),
)

WORLD_MEASURES: tuple[Measure, ...] = (
    *TALLY_COUNTS,
    _count("direct_admissions", "Emergency admissions not through A&E", "lower"),
    _count("ae_attendances_not_conveyed", "A&E attendances not by ambulance"),
    _count("ae_discharged_home", "A&E attendances discharged home"),
    _percent("ae_4h_percent", "A&E patients leaving within 4 hours", "higher"),
    _percent("ae_conversion_percent", "A&E attendances admitted (share)"),
    _percent("ae_conversion_65plus_percent", "A&E attendances admitted, aged 65+ (share)"),
    _percent("emergency_admissions_via_ae_percent", "Emergency admissions through A&E (share)"),
    *(Measure(f"mean_length_of_stay_{suffix}", f"Mean acute length of stay, aged {_band_label(suffix)}", "days",
              "lower", "ratio") for suffix in BAND_SUFFIX),
    _percent("short_stay_under_1d_percent", "Completed acute stays shorter than one day (share)"),
    _percent("short_stay_under_2d_percent", "Completed acute stays shorter than two days (share)"),
    Measure("diverted_own_stay_days", "Acute bed days the diverted patients' own stays would have taken", BED_DAYS,
            "neither", "adds"),
    _percent("readmission_30d_percent", "Readmitted within 30 days of going home", "lower"),
    *(Measure(f"{group}_bed_days", f"{label} bed days", BED_DAYS, "lower", "adds",
              "acute_bed_days_saved" if group == "acute" else None) for group, label in OCCUPANCY_GROUPS.items()),
    *(_percent(f"{group}_occupancy_percent", f"{label} occupancy") for group, label in OCCUPANCY_GROUPS.items()),
    *(Measure(f"delayed_days_{reason}", f"Delayed days: {reason.replace('_', ' ')}", DELAYED_DAYS, "lower")
      for reason in DELAY_REASONS),
    Measure("delayed_days_care_at_home", "Delayed days: a care package at home (home care or reablement)",
            DELAYED_DAYS, "lower"),
    *(Measure(f"delayed_days_{setting}", f"Delayed days {SETTING_LABELS[setting]}", DELAYED_DAYS, "lower")
      for setting in SETTINGS),
    Measure("delayed_days", "Delayed discharge days", DELAYED_DAYS, "lower", reduction="delayed_days_saved"),
    Measure("delayed_days_per_month", "Delayed discharge days a month", "delayed days per month", "lower"),
    *(Measure(f"delayed_days_{agency}", f"Delayed days attributed to {AGENCY_LABELS[agency]}", DELAYED_DAYS,
              "lower") for agency in AGENCIES),
    *(_percent(f"delayed_days_{agency}_percent", f"Delayed days attributed to {AGENCY_LABELS[agency]} (share)")
      for agency in AGENCIES),
    Measure("bcf_care_home_admissions_per_100k_65plus", "Care home admissions of people aged 65+ (BCF)",
            "per 100,000 aged 65+ per year", "lower", "ratio"),
    _percent("bcf_still_home_91d_percent", "Still at home 91 days after reablement (BCF)", "higher"),
    Measure("bcf_delayed_days_per_100k_per_month", "Delayed discharge days (BCF)", "per 100,000 adults per month",
            "lower", "ratio"),
    Measure("bcf_delayed_patients_per_100k", "Patients delayed on a day (BCF)", "per 100,000 adults on a day",
            "lower", "ratio"),
    Measure("bcf_avoidable_admissions_per_100k", "Avoidable emergency admissions (BCF)", "per 100,000 per year",
            "lower", "ratio"),
    Measure("care_home_ae_per_resident_year", "A&E attendances per care home resident", "per resident per year",
            "lower", "ratio"),
    Measure("care_home_admissions_per_resident_year", "Emergency admissions per care home resident",
            "per resident per year", "lower", "ratio"),
    _money("cost_nhs", "NHS cost"),
    _money("cost_council", "Council cost"),
    _money("cost_total", "NHS and council cost", reduction="activity_savings"),
    _money("scheme_cost", "Scheme cost"),
    _money("scheme_cost_nhs", "Scheme cost paid by the NHS"),
    _money("scheme_cost_council", "Scheme cost paid by the council"),
    _money("net_cost", "Net cost at average unit costs (whole scheme cost; savings cash or not)"),
    _money("claimed_benefit", "Benefit claimed by the plan", "neither"),
    *DISCHARGE_RHYTHM_MEASURES,
    *DOWNSTREAM_MEASURES,
)


def _reduction_measure(measure: Measure) -> Measure:
    """The difference-only measure baseline − mix of a measure with a reduction form."""
    assert measure.reduction is not None
    verb = "saved" if measure.reduction.endswith("_saved") else "avoided"
    label = "Savings from less activity (NHS and council)" if measure.name == "cost_total" else (
        f"{measure.label} {verb}")
    return Measure(measure.reduction, label, measure.unit, "higher", measure.aggregation, difference_only=True)


TARGETED = tuple(m.name for m in WORLD_MEASURES if m.name.startswith("bcf_"))  # metrics a BCF plan may target


def meets_target(metric: str) -> tuple[str, bool]:
    """The measure 'chance the mix meets the plan target' of a BCF metric, and whether higher meets it."""
    return f"probability_meets_target_{metric}", REGISTRY[metric].good == "higher"


def _meets_target_measure(measure: Measure) -> Measure:
    return Measure(f"probability_meets_target_{measure.name}", f"Chance the mix meets its plan target: "
                   f"{measure.label}", SHARE_OF_REPLICATIONS, "higher", "ratio", difference_only=True)


DIFFERENCE_MEASURES: tuple[Measure, ...] = (
    *(_reduction_measure(m) for m in WORLD_MEASURES if m.reduction),
    Measure("probability_saves_money", "Chance the mix saves money at average unit costs", SHARE_OF_REPLICATIONS,
            "higher", "ratio", difference_only=True),
    *(_meets_target_measure(m) for m in WORLD_MEASURES if m.name in TARGETED),
    Measure("return_on_investment", "Savings per pound spent on schemes", "pounds saved per pound spent", "higher",
            "ratio", difference_only=True),
    Measure("cost_per_admission_avoided", "Net cost per admission avoided", "pounds per admission", "lower", "ratio",
            difference_only=True),
)
REGISTRY: dict[str, Measure] = {m.name: m for m in (*WORLD_MEASURES, *DIFFERENCE_MEASURES)}
REDUCTIONS: dict[str, str] = {m.name: m.reduction for m in WORLD_MEASURES if m.reduction}

HEADLINE = (
    "emergency_admissions", "emergency_admissions_65plus", "avoidable_emergency_admissions", "ae_attendances",
    "ae_4h_percent", "acute_bed_days", "acute_occupancy_percent", "intermediate_care_bed_days", "delayed_days",
    "delayed_days_nhs", "delayed_days_social_care", "delayed_days_both", "care_home_admissions",
    "bcf_care_home_admissions_per_100k_65plus", "bcf_still_home_91d_percent", "bcf_delayed_days_per_100k_per_month",
    "bcf_avoidable_admissions_per_100k", "failed_diversions", "cost_nhs", "cost_council", "scheme_cost", "net_cost",
)
HEADLINE_DIFFERENCES = (
    *REDUCTIONS.values(), "failed_diversions", "cost_nhs", "cost_council", "scheme_cost", "net_cost",
    "cost_per_admission_avoided", "return_on_investment", "probability_saves_money", "claimed_benefit",
)
ATTRIBUTED = ("emergency_admissions", "acute_bed_days", "delayed_days", "care_home_admissions", "cost_total",
              "net_cost")
BCF = ("bcf_care_home_admissions_per_100k_65plus", "bcf_still_home_91d_percent",
       "bcf_delayed_days_per_100k_per_month", "bcf_avoidable_admissions_per_100k")
RANKED = ("emergency_admissions_avoided", "acute_bed_days_saved", "delayed_days_saved", "care_home_admissions_avoided",
          "activity_savings", "scheme_cost", "net_cost", "probability_saves_money", "return_on_investment",
          "cost_per_admission_avoided")


def measure(name: str) -> Measure:
    """The registered measure of this name; raises `UnknownMeasureError` (a KeyError) for any other name."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownMeasureError(name) from None


def unit_of(name: str) -> str:
    return measure(name).unit


def label_or_name(name: str) -> str:
    """A registered measure's label; any other name (a service, a scheme) as it is."""
    return REGISTRY[name].label if name in REGISTRY else name


def reduction(change: Change) -> Change:
    """A reduction (baseline − mix) from a change (mix − baseline): the one place the sign turns round."""
    return -change  # type: ignore[operator]


def measures_markdown() -> str:
    """docs/measures.md: every registered measure as a Markdown table."""
    lines = [
        "# Measures", "",
        "Every measure a run reports, rendered from `caresim.measures` (do not edit by hand: run "
        "`python -m caresim.measures > docs/measures.md`).", "",
        "Counts are annualised (per 365.25 days of the measured window). *Adds*: values of several localities "
        "or years can be added. *Ratio*: a percentage, rate, mean or share, to be recomputed from its parts. "
        "A difference form is reported only for paired differences, as baseline minus mix, so a positive "
        "value is a reduction.", "",
        "| name | label | unit | better when | difference form | aggregation |",
        "|---|---|---|---|---|---|",
    ]
    for m in REGISTRY.values():
        difference = f"`{m.reduction}`" if m.reduction else ("difference only" if m.difference_only else "")
        lines.append(f"| `{m.name}` | {m.label} | {m.unit} | {m.good} | {difference} | {m.aggregation} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(measures_markdown(), end="")
