"""Every measure of one world in one replication, computed from its record.

Each name, unit and label is declared in `caresim.measures` (listed in docs/measures.md). Counts are
annualised (per 365.25 days of the measured window); the four BCF metrics follow their national definitions.
A run longer than a year also gives every measure for each of its years (`year_measures`), computed by the same
function from the part of the record that falls in that year.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import numpy as np

from caresim.engine.tally import ReplicationRecord, ServiceRecord, YearMark
from caresim.measures import AGENCIES, TALLY_COUNTS, WAIT_GROUPS
from caresim.scenario.fields import AGE_BANDS, BAND_SUFFIX, DELAY_REASONS, SETTINGS, WEEKDAY_NAMES
from caresim.scenario.schema import Scenario

DAYS_PER_YEAR = 365.25


def _ratio(numerator: float, denominator: float, scale: float = 1.0) -> float:
    return numerator / denominator * scale if denominator else float("nan")


def measures(record: ReplicationRecord, scenario: Scenario, scheme_names: tuple[str, ...], offset_days: float = 0.0,
             year: int = 0) -> dict[str, float]:
    """All measures of one world in one replication, or of the part of its record (a year) that starts
    ``offset_days`` after the measured window and ``year`` whole years after it (its population grown)."""
    c = record.counts
    window = record.services["acute_beds"].window_days
    per_year = DAYS_PER_YEAR / window
    population = scenario.population
    grown = {b: population.adults(b) * (1 + population.growth_per_year.get(b, 0.0)) ** year for b in AGE_BANDS}
    adults = sum(grown[b] for b in AGE_BANDS)
    older = sum(grown[b] for b in AGE_BANDS[1:])
    everyone = population.total + (adults - sum(population.adults(b) for b in AGE_BANDS))  # children not grown
    out = {count.name: c.get(count.name, 0.0) * per_year for count in TALLY_COUNTS}
    out["direct_admissions"] = out["emergency_admissions"] - out["emergency_admissions_via_ae"]
    out["ae_attendances_not_conveyed"] = (c.get("ae_attendances", 0) - c.get("ae_attendances_conveyed", 0)) * per_year
    out["ae_discharged_home"] = out["ae_attendances"] - out["ae_admitted"]
    out["ae_4h_percent"] = _ratio(c.get("ae_within_4h", 0), c.get("ae_departures", 0), 100)
    out["ae_conversion_percent"] = _ratio(c.get("ae_admitted", 0), c.get("ae_attendances", 0), 100)
    out["ae_conversion_65plus_percent"] = _ratio(c.get("ae_admitted_65plus", 0), c.get("ae_attendances_65plus", 0), 100)
    out["emergency_admissions_via_ae_percent"] = _ratio(c.get("emergency_admissions_via_ae", 0),
                                                        c.get("emergency_admissions", 0), 100)
    for suffix in BAND_SUFFIX:
        out[f"mean_length_of_stay_{suffix}"] = _ratio(c.get(f"acute_stay_days_{suffix}", 0),
                                                      c.get(f"acute_stays_{suffix}", 0))
    stays = sum(c.get(f"acute_stays_{suffix}", 0) for suffix in BAND_SUFFIX)
    out["short_stay_under_1d_percent"] = _ratio(c.get("acute_stays_under_1d", 0), stays, 100)
    out["short_stay_under_2d_percent"] = _ratio(c.get("acute_stays_under_2d", 0), stays, 100)
    out["diverted_own_stay_days"] = c.get("diverted_own_stay_days", 0) * per_year
    out["readmission_30d_percent"] = _ratio(c.get("readmissions_30d", 0), c.get("discharges_home_alive", 0), 100)

    services = record.services
    intermediate = [services[n] for n in ("intermediate_care_beds", "step_down_beds", "step_up_beds") if n in services]
    for name, group in (("acute", [services["acute_beds"]]), ("intermediate_care", intermediate),
                        ("reablement", [services["reablement"]]), ("rapid_response", [services["rapid_response"]]),
                        ("care_home", [services["residential_care"], services["nursing_care"]])):
        occupied = sum(s.mean_occupied for s in group)
        capacity = sum(float(np.mean(record.daily_capacity[s.name])) for s in group)
        out[f"{name}_bed_days"] = occupied * DAYS_PER_YEAR
        out[f"{name}_occupancy_percent"] = _ratio(occupied, capacity, 100)

    delayed = record.delayed * per_year
    by_reason = delayed.sum(axis=(1, 2))
    for r, reason in enumerate(DELAY_REASONS):
        out[f"delayed_days_{reason}"] = float(by_reason[r])
    out["delayed_days_care_at_home"] = out["delayed_days_home_care_package"] + out["delayed_days_reablement"]
    for s_index, setting in enumerate(SETTINGS):
        out[f"delayed_days_{setting}"] = float(delayed[:, s_index, :].sum())
    total_delayed = float(by_reason.sum())
    out["delayed_days"] = total_delayed
    out["delayed_days_per_month"] = total_delayed / 12
    for agency in AGENCIES:
        days = sum(by_reason[r] * scenario.discharge.delay_agency[reason].get(agency, 0.0)
                   for r, reason in enumerate(DELAY_REASONS))
        out[f"delayed_days_{agency}"] = float(days)
        out[f"delayed_days_{agency}_percent"] = _ratio(days, total_delayed, 100)

    out["bcf_care_home_admissions_per_100k_65plus"] = _ratio(out["care_home_admissions_65plus_council_funded"],
                                                             older, 1e5)
    out["bcf_still_home_91d_percent"] = _ratio(c.get("still_home_91d_65plus", 0),
                                               c.get("rehabilitation_65plus_followed", 0), 100)
    out["bcf_delayed_days_per_100k_per_month"] = _ratio(out["delayed_days_per_month"], adults, 1e5)
    out["bcf_delayed_patients_per_100k"] = _ratio(float(np.mean(record.daily["delayed_patients"])), adults, 1e5)
    out["bcf_avoidable_admissions_per_100k"] = _ratio(out["avoidable_emergency_admissions"], everyone, 1e5)

    residents = services["residential_care"].mean_occupied + services["nursing_care"].mean_occupied
    out["care_home_ae_per_resident_year"] = _ratio(c.get("care_home_ae_attendances", 0) * per_year, residents)
    out["care_home_admissions_per_resident_year"] = _ratio(c.get("care_home_emergency_admissions", 0) * per_year,
                                                           residents)
    out.update(_downstream(record))
    out.update(_costs(out, record, scenario, scheme_names, window, offset_days))
    out.update(_discharge_rhythm(c, per_year))
    return out


def _discharge_rhythm(c: dict[str, float], per_year: float) -> dict[str, float]:
    """Live acute discharges by weekday and time of day, and the wait for a discharge assessment."""
    by_day = [c.get(f"discharges_{day}", 0.0) for day in WEEKDAY_NAMES]
    total = sum(by_day)
    out = {f"discharges_{day}": n * per_year for day, n in zip(WEEKDAY_NAMES, by_day, strict=True)}
    out["weekend_discharge_percent"] = _ratio(by_day[5] + by_day[6], total, 100)
    out["discharges_before_noon_percent"] = _ratio(c.get("discharges_before_noon", 0.0), total, 100)
    out["discharges_at_night_percent"] = _ratio(c.get("discharges_at_night", 0.0), total, 100)
    out["assessment_wait_days"] = _ratio(c.get("assessment_wait_days_total", 0.0), c.get("assessments_completed", 0.0))
    return out


def _downstream(record: ReplicationRecord) -> dict[str, float]:
    """Waits for downstream services, care-home balance and the reasons for delayed days as shares."""
    out: dict[str, float] = {}
    waits = record.waits
    for group, services in WAIT_GROUPS.items():
        granted = sum(waits[s][0] for s in services if s in waits)
        out[f"{group}_wait_days"] = _ratio(sum(waits[s][1] for s in services if s in waits), granted)
        out[f"{group}_waited_percent"] = _ratio(sum(waits[s][2] for s in services if s in waits), granted, 100)
    homes = ("residential_care", "nursing_care")
    occupied = sum(record.daily[s] for s in homes)
    capacity = sum(record.daily_capacity[s] for s in homes)
    if len(occupied):
        out["care_home_occupancy_start_percent"] = _ratio(float(occupied[0]), float(capacity[0]), 100)
        out["care_home_occupancy_end_percent"] = _ratio(float(occupied[-1]), float(capacity[-1]), 100)
    else:
        out["care_home_occupancy_start_percent"] = out["care_home_occupancy_end_percent"] = float("nan")
    out["care_home_occupancy_change_percent"] = (out["care_home_occupancy_end_percent"]
                                                 - out["care_home_occupancy_start_percent"])
    c = record.counts
    in_hospital = c.get("care_home_resident_deaths_in_hospital", 0)
    deaths = in_hospital + c.get("deaths_care_home", 0)
    out["care_home_deaths_in_hospital_percent"] = _ratio(in_hospital, deaths, 100)
    residents = sum(record.services[s].mean_occupied for s in homes)
    window_years = record.services["acute_beds"].window_days / DAYS_PER_YEAR
    out["care_home_mean_residence_years"] = _ratio(residents * window_years, deaths)  # Little's law: L / λ
    by_reason = record.delayed.sum(axis=(1, 2))
    for r, reason in enumerate(DELAY_REASONS):
        out[f"delayed_days_{reason}_percent"] = _ratio(float(by_reason[r]), float(by_reason.sum()), 100)
    return out


def _costs(m: dict[str, float], record: ReplicationRecord, scenario: Scenario, scheme_names: tuple[str, ...],
           window: float, offset_days: float) -> dict[str, float]:
    k = scenario.costs
    per_year = DAYS_PER_YEAR / window
    c = record.counts
    ae_admitted = c.get("ae_admitted", 0) * per_year
    intermediate = m["intermediate_care_bed_days"] * k.intermediate_care_bed_day
    nhs = (m["acute_bed_days"] * k.acute_bed_day + ae_admitted * k.ae_attendance_admitted
           + (m["ae_attendances"] - ae_admitted) * k.ae_attendance_discharged
           + m["minor_injury_attendances"] * k.minor_injury_attendance + m["ambulance_incidents"] * k.ambulance_incident
           + m["gp_urgent_contacts"] * k.gp_consultation + m["out_of_hours_contacts"] * k.out_of_hours_contact
           + m["rapid_response_episodes"] * k.rapid_response_episode
           + intermediate * (1 - k.intermediate_care_council_share))
    homes = scenario.services.care_homes
    home_care = scenario.services.home_care
    care_home_weeks = {kind: record.services[f"{kind}_care"].mean_occupied * DAYS_PER_YEAR / 7
                       for kind in ("residential", "nursing")}
    reablement = m["reablement_episodes"] * k.reablement_episode
    care_homes = homes.council_funded_share * (care_home_weeks["residential"] * k.residential_home_week
                                               + care_home_weeks["nursing"] * k.nursing_home_week)
    council = (reablement
               + m["home_care_packages"] * home_care.hours_per_week * home_care.package_weeks * k.home_care_hour
               + care_homes + intermediate * k.intermediate_care_council_share)
    scheme = {"nhs": 0.0, "council": 0.0}  # per year of the window, like every other measure
    start = scenario.run.start
    for name in scheme_names:
        item = scenario.scheme(name)
        from_start = ((item.start or start) - start).days
        starts = from_start - offset_days  # from the start of this part of the window
        active_days = min(window, max(0.0, window - starts))
        outside_run = from_start < 0 or from_start >= scenario.run.days  # paid in the first year
        paid_now = 0 <= starts < window or (offset_days == 0 and outside_run)  # once, in the year it starts
        once = item.cost.non_recurrent if paid_now else 0.0
        scheme[item.cost.payer] += (item.cost.recurrent_per_year * active_days + once * DAYS_PER_YEAR) / window
    return {"cost_nhs": nhs, "cost_council": council, "cost_total": nhs + council,
            "cost_council_care_homes": care_homes, "cost_council_reablement": reablement,
            "scheme_cost": scheme["nhs"] + scheme["council"], "scheme_cost_nhs": scheme["nhs"],
            "scheme_cost_council": scheme["council"], "net_cost": nhs + council + scheme["nhs"] + scheme["council"],
            "claimed_benefit": sum(scenario.scheme(n).claimed_benefit_per_year for n in scheme_names)}


class YearMeasures(NamedTuple):
    """Every measure of one year of the measured window (the last may be part of a year)."""

    label: str
    days: float
    measures: dict[str, float]


def year_label(start: dt.date, first: dt.date) -> str:
    """A financial year (2015/16) when the window starts on 1 April, else the year's first date."""
    if (first.month, first.day) == (4, 1):
        return f"{start.year}/{(start.year + 1) % 100:02d}"
    return f"year from {start.isoformat()}"


def year_record(record: ReplicationRecord, before: YearMark, mark: YearMark, window_start: float,
                year: int) -> ReplicationRecord:
    """The part of ``record`` between two year marks, ``year`` whole years after the window's start."""
    days = mark.day - before.day
    counts = {k: v - before.counts.get(k, 0.0) for k, v in mark.counts.items()}
    services = {}
    for name, (area, arrivals, stays, stay_total) in mark.services.items():
        area0, arrivals0, stays0, stay_total0 = before.services.get(name, (0.0, 0, 0, 0.0))
        stays -= stays0
        stay_total -= stay_total0
        services[name] = ServiceRecord(name, record.services[name].capacity, (area - area0) / max(days, 1e-12),
                                       arrivals - arrivals0, stays, stay_total / stays if stays else 0.0, days)
    waits = {}
    for name, (granted, total, waited) in mark.waits.items():
        granted0, total0, waited0 = before.waits.get(name, (0, 0.0, 0))
        waits[name] = (granted - granted0, total - total0, waited - waited0)
    days_in = slice(int(round(before.day - window_start)), int(round(mark.day - window_start)))
    delayed = record.delayed if record.delayed_by_year is None else record.delayed_by_year[year]
    return ReplicationRecord(
        world=record.world, replication=record.replication, seed=record.seed, counts=counts, services=services,
        delayed=delayed, daily={k: v[days_in] for k, v in record.daily.items()},
        daily_capacity={k: v[days_in] for k, v in record.daily_capacity.items()}, sampled={}, waits=waits)


def year_measures(record: ReplicationRecord, scenario: Scenario,
                  scheme_names: tuple[str, ...]) -> list[YearMeasures]:
    """Every measure of each year of the measured window, computed as ``measures`` computes the whole."""
    run = scenario.run
    window_start = float(run.warm_up_days)
    before = YearMark(window_start, {}, {}, {})  # nothing counted yet
    out = []
    for year, mark in enumerate(record.years):
        offset = before.day - window_start
        part = year_record(record, before, mark, window_start, year)
        label = year_label(run.start + dt.timedelta(days=round(offset)), run.start)
        out.append(YearMeasures(label, mark.day - before.day, measures(part, scenario, scheme_names, offset, year)))
        before = mark
    return out
