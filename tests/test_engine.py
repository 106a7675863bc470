"""The engine: streams, distributions, conservation, capacity limits, delays and reproducibility."""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

import numpy as np
import pytest

from caresim.engine import arrivals, demand
from caresim.engine import counters as c
from caresim.engine.calendar import Calendar
from caresim.engine.demand import WIDTH, Row, care_home_candidates, community_candidates, draw_rows
from caresim.engine.model import Model
from caresim.engine.patient import CONTACT, MINOR_INJURY, Patient
from caresim.engine.streams import stable_hash, stream
from caresim.engine.tally import ReplicationRecord
from caresim.engine.warm_start import Tape
from caresim.experiment.plan import BASELINE, Plan, make_plan
from caresim.experiment.replication import run_replication
from caresim.measures import PERCENT, unit_of
from caresim.scenario.distributions import Exponential, Lognormal, Triangular, Uniform, remaining_stays
from conftest import changed, shortened


def test_stream_names_not_order_define_draws():
    # a known constant: another hash function would silently change every stream of every run
    assert stable_hash("community_crises") == 6944931427486229860
    assert stream(7, "x", 3).random(2).tolist() == [0.10361159981574208, 0.10917028172605536]
    assert stable_hash("a") != stable_hash("b")
    first = stream(7, "x", 3).random(5)
    stream(7, "y", 3).random(100)  # drawing from another stream changes nothing
    assert np.array_equal(first, stream(7, "x", 3).random(5))
    assert not np.array_equal(first, stream(7, "x", 4).random(5))
    assert not np.array_equal(first, stream(8, "x", 3).random(5))


@pytest.mark.parametrize("dist", [
    Exponential(distribution="exponential", mean=4.0),
    Lognormal(distribution="lognormal", mean=8.5, cv=1.0),
    Lognormal(distribution="lognormal", median=2.5, sigma=0.3),
    Uniform(distribution="uniform", low=1, high=3),
    Triangular(distribution="triangular", low=5, mode=21, high=42),
])
def test_sampled_mean_matches_configured_mean(dist):
    values = dist.from_uniform(np.random.default_rng(1).random(400_000))
    assert values.min() >= 0
    assert values.mean() == pytest.approx(dist.mean, rel=0.01)


def test_length_biased_lognormal_has_mean_of_squares_over_mean():
    dist = Lognormal(distribution="lognormal", mean=10.0, cv=1.0)
    biased = dist.length_biased(np.random.default_rng(2), 400_000)
    # E[X²]/E[X] = mean · (1 + cv²)
    assert biased.mean() == pytest.approx(20.0, rel=0.02)


@pytest.mark.parametrize("closed_form", [False, True])
def test_remaining_stays_drawn_at_once_are_the_one_by_one_draws(closed_form):
    """The warm start draws every remaining stay in one batch: the same numbers, and the stream left in the
    same place, as ``rng.random() * length_biased(rng, 1)`` patient by patient, across mixed distributions."""
    same_day = Lognormal(distribution="lognormal", mean=5.5, cv=1.2, same_day_share=0.39)
    mixed = [same_day, Triangular(distribution="triangular", low=7, mode=35, high=42), same_day,
             Uniform(distribution="uniform", low=1, high=3), same_day]
    if closed_form:  # a lognormal with no same-day share draws normals: the batch falls back to one by one
        mixed.append(Lognormal(distribution="lognormal", mean=21, cv=0.6))
    batch, one_by_one = np.random.default_rng(7), np.random.default_rng(7)
    expected = [float(one_by_one.random() * d.length_biased(one_by_one, 1)[0]) for d in mixed]
    assert remaining_stays(batch, mixed) == expected
    assert batch.random() == one_by_one.random()


@pytest.fixture(scope="module")
def mixed_results(short):
    return run_replication(make_plan(short, 1), 0)


def test_a_next_row_made_when_first_read_is_the_one_made_in_bulk(short):
    """Only the next rows of crises likely to lead to a readmission are drawn in bulk; any other, drawn alone when
    first read (its streams advanced past the rows before it), is the row bulk would have made (numpy's functions
    work element by element on this machine)."""
    calendar = Calendar(short.run.start, short.run.warm_up_days, short.run.days)
    candidates = community_candidates(short, calendar, 0)
    bulk = draw_rows(short, stream(short.run.seed, "next_episode_community", 0), candidates.band)
    likely = candidates.next_at >= 0
    assert 0.1 < likely.mean() < 0.5
    assert np.array_equal(candidates.next_rows, bulk[likely])
    later = [*np.flatnonzero(~likely)[::97].tolist(), int(np.flatnonzero(~likely)[-1])]
    assert [list(candidates.next_row(i)) for i in later] == bulk[later].tolist()
    assert sorted(candidates.next_read) == later


def test_rows_drawn_chunk_by_chunk_are_the_rows_drawn_at_once(short, monkeypatch):
    bands = np.arange(10_000) % 4
    in_chunks = draw_rows(short, stream(1, "rows", 0), bands)
    monkeypatch.setattr(demand, "CHUNK", len(bands))
    assert np.array_equal(in_chunks, draw_rows(short, stream(1, "rows", 0), bands))


def test_every_patient_is_in_one_place_or_has_left(mixed_results):
    for world in mixed_results:
        c = world.conservation
        assert c["violations"] == 0, world.world
        assert c["created"] == c["ended"] + c["in_system"] > 10_000


def test_occupancy_never_above_capacity(mixed_results):
    for world in mixed_results:
        for service, occupied in world.daily.items():
            if service != "delayed_patients":
                assert np.all(occupied <= world.daily_capacity[service]), (world.world, service)


def test_measures_are_in_range(mixed_results):
    for world in mixed_results:
        m = world.measures
        for name, value in m.items():
            if unit_of(name) == PERCENT and value == value:
                assert 0 <= value <= 100, name
        assert m["emergency_admissions"] > 0
        assert m["acute_bed_days"] > 0


def test_same_seed_same_results_different_seed_different(short):
    plan = Plan(short, {"baseline": ()}, 1, ())
    once = run_replication(plan, 0)[0].measures
    again = run_replication(plan, 0)[0].measures
    assert once == again
    other = run_replication(Plan(shortened(short, seed=99), {"baseline": ()}, 1, ()), 0)[0].measures
    assert other["emergency_admissions"] != once["emergency_admissions"]


def assert_same_run(record: ReplicationRecord, other: ReplicationRecord) -> None:
    assert record.counts == other.counts
    assert {name: s.mean_occupied for name, s in record.services.items()} == {
        name: s.mean_occupied for name, s in other.services.items()}


def test_a_world_reads_later_episodes_and_the_warm_start_drawn_by_another_world_as_if_it_drew_them_itself(short):
    plan = make_plan(short, 1)
    mix = plan.mixes[0]
    calendar = Calendar(short.run.start, short.run.warm_up_days, short.run.days)
    candidates = (community_candidates(short, calendar, 0), care_home_candidates(short, calendar, 0))
    bulk = [(c.rows.copy(), c.next_rows.copy()) for c in candidates]
    Model(short, BASELINE, (), 0, candidates).run()
    drawn = {key: list(row) for key, row in candidates[0].later_rows.items()}
    assert len(drawn) > 10  # second readmissions and readmissions of people in a bed at the start
    (scenario, tape), = candidates[0].warm_starts  # the warm start's draws, by the scenario they were drawn for
    recorded = list(tape)
    shared = Model(short, mix, plan.worlds[mix], 0, candidates).run()
    assert candidates[0].warm_starts == [(short, recorded)]  # the same scenario: read back, nothing drawn again
    alone = Model(short, mix, plan.worlds[mix], 0).run()  # its own candidates: every later row drawn afresh
    assert_same_run(shared, alone)
    # kept rows are never redrawn or changed, and no patient's row writes into the bulk draws (a stay rescaled)
    assert {key: list(row) for key, row in candidates[0].later_rows.items()}.items() >= drawn.items()
    assert all(np.array_equal(c.rows, rows) and np.array_equal(c.next_rows, next_rows)
               for c, (rows, next_rows) in zip(candidates, bulk, strict=True))


def test_a_world_of_another_scenario_with_the_same_places_draws_its_own_warm_start(short):
    """Fewer patients in acute beds at the start, every service's places the same: reading the first scenario's
    draws would seed the wrong patients, so the second draws its own and gets what it gets alone."""
    fewer = changed(short, "services.acute_beds.initial_occupancy", short.services.acute_beds.initial_occupancy // 2)
    first = Model(short, BASELINE, (), 0)
    first.run()
    shared = Model(fewer, BASELINE, (), 0, first.candidates).run()
    assert [scenario for scenario, _ in first.candidates[0].warm_starts] == [short, fewer]
    alone = Model(fewer, BASELINE, (), 0).run()
    assert_same_run(shared, alone)


def test_the_warm_start_never_draws_past_the_draws_another_world_made(short):
    """A world reading another's warm start that asks for more than it drew would otherwise draw from the start of
    the stream, silently giving other numbers than drawing them itself."""
    tape = Tape([(np.zeros(0, dtype=int), np.zeros((0, WIDTH)))], short, 0)
    tape.seeded(0, np.ones(4))
    with pytest.raises(RuntimeError, match="the world's scenario"):
        tape.seeded(0, np.ones(4))


def test_a_world_frees_every_patient_and_every_row_of_draws_it_made(short):
    """Memory after a second world on the same candidates is what it was after the first: nothing a world makes
    outlives it (in the compiled engine, a row handed to compiled code through a Python-level call would leak)."""
    opening = Model(short, BASELINE, (), 0)
    candidates = opening.candidates
    opening.run()  # the later episodes' rows, kept with the candidates, drawn once

    def world() -> int:
        Model(short, BASELINE, (), 0, candidates).run()
        gc.collect()
        return tracemalloc.get_traced_memory()[0]

    tracemalloc.start()
    try:
        first, second = world(), world()
    finally:
        tracemalloc.stop()
    assert second - first < 50_000, f"{second - first:,} bytes more after a second world"


def test_unlimited_downstream_capacity_has_no_capacity_delays(short):
    scenario = short
    for path in ("services.intermediate_care_beds.capacity", "services.reablement.capacity",
                 "services.home_care.new_packages_per_week", "services.acute_beds.capacity"):
        scenario = changed(scenario, path, "unlimited")
    for path, value in (("services.care_homes.residential_beds", 13_000), ("services.care_homes.nursing_beds", 7_000),
                        ("services.care_homes.initial_occupancy_share", 0.092)):
        scenario = changed(scenario, path, value)  # the same residents with ample room
    scenario = changed(scenario, "services.intermediate_care_beds.step_down_share", None)
    m = run_replication(Plan(scenario, {"baseline": ()}, 1, ()), 0)[0].measures
    for reason in ("community_bed", "reablement", "home_care_package", "care_home_placement"):
        assert m[f"delayed_days_{reason}"] == 0, reason
    assert m["delayed_days_awaiting_assessment"] > 0  # assessments still take time


def test_scarce_downstream_capacity_creates_delays(short):
    base = run_replication(Plan(short, {"baseline": ()}, 1, ()), 0)[0].measures
    tight = changed(changed(short, "services.intermediate_care_beds.initial_occupancy", 20),
                    "services.intermediate_care_beds.capacity", 20)
    m = run_replication(Plan(tight, {"baseline": ()}, 1, ()), 0)[0].measures
    assert m["delayed_days_community_bed"] > base["delayed_days_community_bed"]
    assert m["acute_bed_days"] > base["acute_bed_days"]


def test_one_segment_feeding_one_bed_pool(short):
    """The smallest scenario: everything off but crises straight to acute beds."""
    s = short
    for path, value in (("first_contact.home_in_hours", {"ambulance": 1.0}),
                        ("first_contact.home_out_of_hours", {"ambulance": 1.0}),
                        ("routing.ambulance", {"ae": 1.0}), ("services.ae.enabled", False),
                        ("services.gp.enabled", False), ("services.rapid_response.enabled", False),
                        ("services.intermediate_care_beds.enabled", False), ("services.reablement.enabled", False),
                        ("services.care_homes.enabled", False), ("services.home_care.enabled", False)):
        s = changed(s, path, value)
    world = run_replication(Plan(s, {"baseline": ()}, 1, ()), 0)[0]
    assert world.conservation["violations"] == 0
    assert world.measures["emergency_admissions"] > 0
    assert world.measures["ae_attendances"] == 0
    assert world.measures["gp_urgent_contacts"] == 0


def test_demand_grows_by_band_in_each_later_year(skc):
    """Rates describe the first year; a multi-year run grows each band's crises by its growth, compounded."""
    from caresim.engine.calendar import Calendar
    from caresim.engine.demand import COLUMN, community_candidates, growth_factors

    one_year = Calendar(skc.run.start, skc.run.warm_up_days, skc.run.days)
    assert growth_factors(skc, one_year).shape == (1, 4)  # SKC's 2015/16 year: no growth, so no change
    growing = changed(skc, "population.growth_per_year", {"18-64": 0.0, "65-74": 0.0, "75-84": 0.0, "85+": 0.5})
    growing = changed(changed(growing, "population.localities", {"Town": 40_000}), "services.care_homes.enabled", False)
    growing = shortened(growing, days=3 * 365 + 1, warm_up_days=0)
    calendar = Calendar(growing.run.start, 0, growing.run.days)
    candidates = community_candidates(growing, calendar, 0)
    kept = candidates.rows[:, COLUMN["keep"]] < candidates.accept
    year = calendar.year[candidates.time.astype(int)]
    per_year = np.array([[np.sum(kept & (year == y) & (candidates.band == b)) for b in (0, 3)] for y in range(3)])
    assert per_year[:, 1] / per_year[0, 1] == pytest.approx([1.0, 1.5, 2.25], rel=0.06)
    assert per_year[:, 0] / per_year[0, 0] == pytest.approx([1.0, 1.0, 1.0], rel=0.05)  # about 11,000 a year: 5 sd


@pytest.mark.pure_engine
def test_a_crisis_ended_at_first_contact_is_counted_in_and_out_and_never_made_a_patient(skc, monkeypatch):
    """Sent home by a minor injury unit, a crisis is counted (created, ended at home, its contact and routing) but
    never becomes a Patient nor enters the register of who is in the system; routed on to A&E, it does."""
    model = Model(shortened(skc), BASELINE, (), 0)
    kernel, candidates = model.kernel, model.candidates[0]
    made: list[Patient] = []
    real = arrivals.candidate_patient

    def patient(*made_of: Any) -> Patient:
        made.append(real(*made_of))
        return made[-1]

    def minor_injury(i: int, routing: float) -> Row:
        row = Row(candidates.rows[i])
        row[CONTACT], row[MINOR_INJURY] = 0.999, routing  # the last first contact in every table
        return row

    monkeypatch.setattr(arrivals, "candidate_patient", patient)
    model.arrivals._crisis(candidates.attributes, 0, minor_injury(0, 0.1))  # the unit sends 92 % home
    assert made == [] and not kernel.live
    assert kernel.created == 1 and kernel.ended == {"home": 1}
    counts = kernel.counts
    for counter in (c.CRISES, c.MINOR_INJURY_ATTENDANCES, c.ROUTED["minor_injury"]["home"], c.ENDED["crisis"]["home"]):
        assert counts[counter] == 1
    model.arrivals._crisis(candidates.attributes, 1, minor_injury(1, 0.95))  # and 8 % on to A&E
    (p,) = made
    assert list(kernel.live) == [p] and p.location in ("ae_waiting", "ae") and p.key == (0, 1)
    assert kernel.created == 2 and kernel.ended == {"home": 1} and counts[c.ROUTED["minor_injury"]["ae"]] == 1
