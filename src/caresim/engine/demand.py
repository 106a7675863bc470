"""Crises as a non-homogeneous Poisson process, and each patient's draws, fixed on arrival.

Candidates are generated once per replication at the baseline rate raised by ``thinning_headroom``,
and only those some world may keep are kept.
Each carries ``accept`` (its baseline keep probability, from the rate profile at its own time) and a
row of uniforms and durations, one column per decision. A world keeps candidate ``i`` when
``draws[i, KEEP] < accept[i] * multiplier_i``, so every world sees the same people and draws.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any, cast

import numpy as np
from librt.vecs import vec
from scipy.special import ndtr, ndtri

from caresim.engine.calendar import Calendar, RateProfile
from caresim.engine.errors import RunawayError
from caresim.engine.streams import stream
from caresim.scenario.fields import AGE_BANDS, CRISIS_TYPES, capacity_value
from caresim.scenario.schema import Scenario

UNIFORM_COLUMNS = (
    "keep", "contact", "gp", "out_of_hours", "ambulance", "minor_injury", "ae_admit", "rapid_response",
    "divert", "then_admitted", "pathway", "p1_route", "assessment", "patient_choice", "readmit",
    "intermediate_care", "home_care_after_reablement", "at_home_91", "care_home_type", "council_funded",
    "enrolled", "resident",
)
DURATION_COLUMNS = (
    "acute_stay", "ae_discharged", "ae_admitted", "rapid_response_episode", "intermediate_care_stay",
    "reablement", "assessment_time", "patient_choice_time", "readmit_time", "residence_years", "leave_hazard",
)
# Columns appended after the durations, each drawn from its own child stream so that adding it changed
# no other draw: acuity is the crisis's clinical need as a quantile of all crises (0 least, 1 most acute).
APPENDED_COLUMNS = ("acuity",)
COLUMN = {name: i for i, name in enumerate(UNIFORM_COLUMNS + DURATION_COLUMNS + APPENDED_COLUMNS)}
WIDTH = len(COLUMN)
Row = vec[float]  # a patient's draws, one per column: C doubles in the compiled engine, made from numpy's buffer
LEAVE = COLUMN["leave_hazard"]  # the last duration column
ACUITY = COLUMN["acuity"]
HOURS_PER_DAY = 24.0
TINY = 1e-12  # keeps uniforms off 0 and 1 before the normal quantile function
# a candidate's next row is made draws in bulk when its readmission uniform is below this many times its
# band's readmission probability (room for schemes' multipliers); only speed hangs on it, never a number
LIKELY_READMISSION = 2.0
CHUNK = 4096  # rows drawn and made draws at a time (draw_rows)


def draw_rows(scenario: Scenario, rng: np.random.Generator, bands: np.ndarray, residence: int = 0,
              only: np.ndarray | None = None) -> np.ndarray:
    """Rows of uniforms and pre-sampled durations (days) for patients of the given age bands living at
    ``residence`` (0 own home, 1 care home); given ``only`` (a mask), just the rows it picks, in order, though
    the streams give every row's uniforms (``drawn_row`` draws any other alone).

    Drawn and made ``CHUNK`` rows at a time, as the streams give them: a chunk stays in the CPU's cache
    while each column is made, and the numbers are those of the whole at once. leave_hazard and the
    appended columns come from child streams (spawning leaves the parent's state alone), so adding them
    left every other draw as it was."""
    n = len(bands)
    rows = np.empty((n if only is None else int(np.count_nonzero(only)), WIDTH))
    chunk = np.empty((min(n, CHUNK), WIDTH))
    streams = _row_streams(rng)
    made = 0
    for start in range(0, n, CHUNK):
        part_bands = bands[start:start + CHUNK]
        part = chunk[:len(part_bands)]
        for generator, columns in streams:
            part[:, columns] = generator.random(part[:, columns].shape)
        if only is not None:
            pick = only[start:start + CHUNK]
            part, part_bands = part[pick], part_bands[pick]
        transform_rows(scenario, part, part_bands, residence)
        rows[made:made + len(part)] = part
        made += len(part)
    return rows


def drawn_row(scenario: Scenario, rng: np.random.Generator, i: int, band: int, residence: int = 0) -> np.ndarray:
    """Row ``i`` of ``draw_rows(scenario, rng, bands, residence)`` (where ``bands[i] == band``) drawn alone, from a
    stream nothing has drawn from yet: PCG64 gives one 64-bit output a uniform, so ``advance`` passes the rows
    before it."""
    row = np.empty((1, WIDTH))
    for generator, columns in _row_streams(rng):
        width = row[:, columns].size
        cast("np.random.PCG64", generator.bit_generator).advance(i * width)  # every stream is a PCG64 (streams.py)
        row[:, columns] = generator.random(row[:, columns].shape)
    transform_rows(scenario, row, np.array([band]), residence)
    return row[0]


def _row_streams(rng: np.random.Generator) -> list[tuple[np.random.Generator, slice | int]]:
    """The streams of a row's uniforms and the columns each fills: ``rng`` the columns before leave_hazard, then a
    child stream for leave_hazard and one for each appended column."""
    children = rng.spawn(1 + len(APPENDED_COLUMNS))
    columns = [LEAVE, *(COLUMN[name] for name in APPENDED_COLUMNS)]
    return [(rng, slice(0, LEAVE)), *zip(children, columns, strict=True)]


def transform_rows(scenario: Scenario, rows: np.ndarray, bands: np.ndarray, residence: int) -> None:
    """Turn rows of uniforms into draws, in place: uniform columns stay as drawn (those of the acuity copula
    correlated), each duration column is made from the uniform in its own column. Element by element, so a
    row gets the same draws transformed alone as with others (tests/test_engine.py holds numpy to that)."""
    n = len(rows)
    correlate_with_acuity(scenario, rows, bands, residence)
    u = rows[:, len(UNIFORM_COLUMNS):]
    services, discharge = scenario.services, scenario.discharge

    def put(column: str, values: np.ndarray) -> None:
        rows[:, COLUMN[column]] = values

    stay = np.empty(n)
    for b, band in enumerate(AGE_BANDS):
        mask = bands == b
        if mask.any():  # a readmission draws a single row: skip the other bands
            stay[mask] = services.acute_beds.length_of_stay[band].from_uniform(u[mask, 0])
    put("acute_stay", stay)
    put("ae_discharged", services.ae.time_discharged_hours.from_uniform(u[:, 1]) / HOURS_PER_DAY)
    put("ae_admitted", services.ae.time_admitted_hours.from_uniform(u[:, 2]) / HOURS_PER_DAY)
    put("rapid_response_episode", services.rapid_response.episode.from_uniform(u[:, 3]))
    put("intermediate_care_stay", services.intermediate_care_beds.length_of_stay.from_uniform(u[:, 4]))
    put("reablement", services.reablement.duration.from_uniform(u[:, 5]))
    put("assessment_time", discharge.assessment.from_uniform(u[:, 6]))
    put("patient_choice_time", discharge.patient_choice.from_uniform(u[:, 7]))
    put("readmit_time", u[:, 8] * discharge.readmission_window_days)
    put("residence_years", -np.log1p(-u[:, 9]))
    put("leave_hazard", -np.log1p(-u[:, 10]))  # Exp(1): the hazard to accumulate before leaving when ready


def correlate_with_acuity(scenario: Scenario, rows: np.ndarray, bands: np.ndarray, residence: int) -> None:
    """Make the A&E admission decision and the acute stay depend on acuity, keeping both marginals.

    A Gaussian copula with correlation rho (``demand.acuity.correlation``; 0 leaves the rows as drawn):
    the A&E decision's uniform becomes Phi(-rho z_acuity + s z_admit), s = sqrt(1 - rho^2), so the more
    acute are admitted first and the admitted share is unchanged. The stay's uniform is correlated the
    same way with the patient's rank of need within their A&E outcome (admitted or not), a rank that is
    uniform in each outcome and independent of every other route to admission: every admitted group
    keeps the calibrated stay distribution, and its less acute patients have the shorter stays.
    """
    rho = scenario.demand.acuity.correlation
    if rho == 0 or len(rows) == 0:
        return
    spread = np.sqrt(1 - rho * rho)

    def normal(u: np.ndarray) -> np.ndarray:
        return np.asarray(ndtri(np.clip(u, TINY, 1 - TINY)))

    ae = scenario.services.ae
    if residence:
        admit = np.full(len(rows), ae.admit_probability_care_home)
    else:
        admit = np.array([ae.admit_probability[band] for band in AGE_BANDS])[bands]
    decision = ndtr(-rho * normal(rows[:, ACUITY]) + spread * normal(rows[:, COLUMN["ae_admit"]]))
    admitted = decision < admit
    rank = np.where(admitted, (admit - decision) / np.maximum(admit, TINY),
                    (1 - decision) / np.maximum(1 - admit, TINY))
    rows[:, COLUMN["ae_admit"]] = decision
    rows[:, COLUMN["acute_stay"]] = ndtr(rho * normal(rank) + spread * normal(rows[:, COLUMN["acute_stay"]]))


# band, tier, locality, crisis type, avoidable, GP-manageable: a list each, one item per candidate
Attributes = tuple[list[int], list[int], list[int], list[int], list[bool], list[bool]]


@dataclass
class Candidates:
    """Candidate crises of one replication, sorted by time."""

    time: np.ndarray
    accept: np.ndarray
    band: np.ndarray
    tier: np.ndarray
    locality: np.ndarray
    crisis_type: np.ndarray
    avoidable: np.ndarray
    gp_manageable: np.ndarray
    rows: np.ndarray
    # each candidate's next episode (a readmission), should they have one: drawn in bulk for those whose crisis
    # may well lead to one (next_rows[next_at[i]]; next_at -1 for the others), for the others when first read
    next_rows: np.ndarray
    next_at: np.ndarray
    next_stream: Callable[[], np.random.Generator]  # the next episodes' stream, as nothing has drawn from it yet
    scenario: Scenario
    residence: int
    next_read: dict[int, np.ndarray] = field(default_factory=dict, repr=False)  # the others, drawn when first read
    later_rows: dict[tuple[object, ...], Row] = field(default_factory=dict, repr=False)
    # the warm start's draws in this replication, by the world's scenario they were drawn for (warm_start.Tape)
    warm_starts: list[tuple[Scenario, list[Any]]] = field(default_factory=list, repr=False)

    def __len__(self) -> int:
        return len(self.time)

    @cached_property
    def attributes(self) -> Attributes:
        """The candidates' attributes as Python values, made once for every world of the replication: lists of
        ints and bools, which (unlike a tuple per candidate) the garbage collector need not track."""
        return (self.band.tolist(), self.tier.tolist(), self.locality.tolist(), self.crisis_type.tolist(),
                self.avoidable.tolist(), self.gp_manageable.tolist())

    def next_row(self, i: int) -> Row:
        """Draws for candidate ``i``'s next episode, the same drawn alone when first read as drawn in bulk."""
        at = int(self.next_at[i])
        if at >= 0:
            return Row(self.next_rows[at])
        row = self.next_read.get(i)
        if row is None:
            row = self.next_read[i] = drawn_row(self.scenario, self.next_stream(), i, int(self.band[i]),
                                                self.residence)
        return Row(row)

    def warm_start_draws(self, scenario: Scenario) -> list[Any]:
        """The warm start's draws kept for a scenario equal to ``scenario`` (the no-fund world's and a compared
        one differ), or a new list to keep them in."""
        for seen, draws in self.warm_starts:
            if seen is scenario or seen == scenario:
                return draws
        self.warm_starts.append((scenario, []))
        return self.warm_starts[-1][1]

    def later_row(self, scenario: Scenario, replication: int, key: tuple[int, ...], depth: int, band: int,
                  residence: int) -> Row:
        """Draws for an episode not drawn in bulk (a second readmission, or a readmission of someone in a bed
        at the start), from that episode's own stream; kept, so the other worlds of the replication read the
        same row instead of drawing it again."""
        memo = (key, depth, band, residence)
        row = self.later_rows.get(memo)
        if row is None:
            rng = stream(scenario.run.seed, "readmission", replication, *key, depth)
            row = self.later_rows[memo] = Row(drawn_row(scenario, rng, 0, band, residence))
        return Row(row)  # the journey may change its own copy (a stay rescaled for another age band)


def community_segments(scenario: Scenario) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(locality, band, tier, crises per day) of every community segment."""
    population, demand = scenario.population, scenario.demand
    tiers = population.risk_tiers
    norm = sum(t.share * t.relative_rate for t in tiers) or 1.0
    residents = care_home_residents_by_band(scenario)
    total = population.total
    rows = []
    for li, locality_people in enumerate(population.localities.values()):
        for b, band in enumerate(AGE_BANDS):
            people = max(0.0, population.adults(band) - residents[b]) * locality_people / max(total, 1)
            for ti, tier in enumerate(tiers):
                rate = people * tier.share * tier.relative_rate / norm * demand.crisis_rate_per_person_year[band]
                rows.append((li, b, ti, rate / 365.25))
    table = np.array(rows, dtype=float).reshape(-1, 4)
    return table[:, 0].astype(int), table[:, 1].astype(int), table[:, 2].astype(int), table[:, 3]


def care_home_beds(scenario: Scenario) -> int:
    homes = scenario.services.care_homes
    if not homes.enabled:
        return 0
    return int(capacity_value(homes.residential_beds) + capacity_value(homes.nursing_beds))


def care_home_residents_by_band(scenario: Scenario) -> np.ndarray:
    homes = scenario.services.care_homes
    residents = care_home_beds(scenario) * homes.initial_occupancy_share
    return np.array([residents * homes.resident_age_shares.get(band, 0.0) for band in AGE_BANDS])


def growth_factors(scenario: Scenario, calendar: Calendar) -> np.ndarray:
    """Demand of each age band in each year of the measured period, relative to the first (rows: years).

    The scenario's population and rates describe its first year; each later year grows by
    ``growth_per_year``, compounded, as annual population projections do. Years run from the start
    date; warm-up counts as the first.
    """
    years = 1 + int(calendar.year[:int(calendar.end)].max())
    growth = np.array([scenario.population.growth_per_year.get(band, 0.0) for band in AGE_BANDS])
    return (1 + growth)[None, :] ** np.arange(years)[:, None]


def _thinned_times(rng: np.random.Generator, rate_per_day: float, profile: RateProfile, headroom: float,
                   end: float, limit: int) -> tuple[np.ndarray, np.ndarray]:
    bound = rate_per_day * profile.maximum * headroom
    if bound * end > limit / 2:
        raise RunawayError(
            f"the scenario would generate about {bound * end:,.0f} candidate crises, more than run.max_events "
            f"({limit:,}) allows; check the population and crisis rates (raise run.max_events if intended)")
    n = rng.poisson(bound * end)
    times = np.sort(rng.random(n) * end)
    return times, profile(times) / (profile.maximum * headroom)


def _attributes(scenario: Scenario, rng: np.random.Generator, bands: np.ndarray) -> tuple[np.ndarray, ...]:
    demand = scenario.demand
    n = len(bands)
    type_shares = np.array([[demand.crisis_type_shares[b][t] for t in CRISIS_TYPES] for b in AGE_BANDS])
    cumulative = np.cumsum(type_shares, axis=1)[bands]
    crisis_type = (rng.random(n)[:, None] >= cumulative[:, :-1]).sum(axis=1)
    avoidable = rng.random(n) < np.array([demand.avoidable_share[t] for t in CRISIS_TYPES])[crisis_type]
    gp_manageable = rng.random(n) < demand.gp_manageable_share
    return crisis_type, avoidable, gp_manageable


def community_candidates(scenario: Scenario, calendar: Calendar, replication: int) -> Candidates:
    """Candidate crises of people living in their own homes."""
    rng = stream(scenario.run.seed, "community_crises", replication)
    localities, bands, tiers, rates = community_segments(scenario)
    profile = RateProfile(scenario.demand.profile, calendar)
    growth = growth_factors(scenario, calendar)
    peak = max(1.0, float(growth.max()))
    times, accept = _thinned_times(rng, rates.sum() * peak, profile, scenario.demand.thinning_headroom, calendar.end,
                                   scenario.run.max_events)
    segment = rng.choice(len(rates), size=len(times), p=rates / rates.sum()) if rates.sum() > 0 else np.zeros(0, int)
    band = bands[segment]
    if len(growth) > 1:  # a multi-year run: thin each candidate again by its band's growth in its year
        accept = accept * growth[calendar.year[times.astype(int)], band] / peak
    return _candidates(scenario, rng, "community", replication, times, accept, band, tiers[segment],
                       localities[segment])


def care_home_candidates(scenario: Scenario, calendar: Calendar, replication: int) -> Candidates:
    """Candidate crises of care-home residents: one stream over all beds; an empty bed has none."""
    rng = stream(scenario.run.seed, "care_home_crises", replication)
    beds = care_home_beds(scenario)
    profile = RateProfile(scenario.demand.profile, calendar)
    rate = beds * scenario.demand.care_home_crisis_rate_per_resident_year / 365.25
    times, accept = _thinned_times(rng, rate, profile, scenario.demand.thinning_headroom, calendar.end,
                                   scenario.run.max_events)
    n = len(times)
    shares = np.array([scenario.services.care_homes.resident_age_shares.get(b, 0.0) for b in AGE_BANDS])
    band = rng.choice(len(AGE_BANDS), size=n, p=shares / shares.sum()) if n else np.zeros(0, int)
    return _candidates(scenario, rng, "care_home", replication, times, accept, band, np.full(n, -1), np.full(n, -1))


def _candidates(scenario: Scenario, rng: np.random.Generator, residence: str, replication: int, times: np.ndarray,
                accept: np.ndarray, band: np.ndarray, tier: np.ndarray, locality: np.ndarray) -> Candidates:
    """The candidates some world may keep (prevention multipliers never pass the thinning headroom),
    with their attributes, their draws and, in bulk, the draws of a next episode (a readmission)."""
    keep = rng.random(len(times))
    possible = keep < accept * scenario.demand.thinning_headroom
    band = band[possible]
    crisis_type, avoidable, gp_manageable = _attributes(scenario, rng, band)
    lives = int(residence == "care_home")
    rows = draw_rows(scenario, rng, band, lives)
    rows[:, COLUMN["keep"]] = keep[possible]
    readmission = np.array([scenario.discharge.readmission_probability[b] for b in AGE_BANDS])[band]
    likely = rows[:, COLUMN["readmit"]] < LIKELY_READMISSION * readmission
    next_stream = partial(stream, scenario.run.seed, f"next_episode_{residence}", replication)
    next_rows = draw_rows(scenario, next_stream(), band, lives, likely)
    next_at = np.where(likely, np.cumsum(likely) - 1, -1)
    return Candidates(times[possible], accept[possible], band, tier[possible], locality[possible], crisis_type,
                      avoidable, gp_manageable, rows, next_rows, next_at, next_stream, scenario, lives)
