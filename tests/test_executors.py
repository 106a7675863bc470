"""Executors: identical results on every executor, failures that name their replication, flat memory."""

from __future__ import annotations

import gc
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

from caresim.engine.errors import UnstableSystemError
from caresim.experiment import executors
from caresim.experiment.executors import execute
from caresim.experiment.plan import BASELINE, Plan, make_plan
from caresim.experiment.replication import ReplicationFailed, WorldResult
from caresim.scenario.schema import Scenario
from conftest import ROOT, shortened

RUNS = {"serial": ("serial", None), "processes": ("processes", None), "dask": ("dask", "local")}


@pytest.fixture(scope="module")
def small(skc: Scenario) -> Scenario:
    return shortened(skc, days=21, warm_up_days=7)


@pytest.fixture(scope="module")
def overloaded(small: Scenario) -> Scenario:
    """Five acute beds for the whole SKC flow: the bed queue passes run.max_queue within a day or two."""
    data = small.model_dump(by_alias=True)
    data["services"]["acute_beds"].update(capacity=5, initial_occupancy=0)
    data["run"]["max_queue"] = 10
    return Scenario.model_validate(data)


def _same(a: WorldResult, b: WorldResult) -> bool:
    arrays = all(np.array_equal(a.daily[k], b.daily[k]) for k in a.daily) and np.array_equal(
        a.monthly_delays, b.monthly_delays)
    measures = a.measures.keys() == b.measures.keys() and np.array_equal(  # NaN: a service with no places
        list(a.measures.values()), list(b.measures.values()), equal_nan=True)
    return ((a.world, a.replication, a.sampled, a.little, a.conservation, a.events)
            == (b.world, b.replication, b.sampled, b.little, b.conservation, b.events)) and arrays and measures


def test_every_executor_gives_bit_for_bit_the_same_results(small: Scenario) -> None:
    plan = make_plan(small, 3)
    results = {name: execute(plan, executor, workers=2, scheduler=scheduler, progress=False)
               for name, (executor, scheduler) in RUNS.items()}
    serial = results.pop("serial")
    assert [w.replication for worlds in serial for w in worlds] == [r for r in range(3) for _ in plan.worlds]
    for name, other in results.items():
        assert len(other) == len(serial), name
        assert all(_same(a, b) for worlds_a, worlds_b in zip(serial, other, strict=True)
                   for a, b in zip(worlds_a, worlds_b, strict=True)), name


@pytest.mark.parametrize("name", list(RUNS))
def test_a_failing_replication_names_itself_its_seed_and_the_error(name: str, overloaded: Scenario) -> None:
    executor, scheduler = RUNS[name]
    with pytest.raises(ReplicationFailed, match=rf"replication \d+ \(seed {overloaded.run.seed}\) failed: "
                                                r"UnstableSystemError: .*queue for acute_beds") as failure:
        execute(make_plan(overloaded, 6), executor, workers=2, scheduler=scheduler, progress=False)
    assert isinstance(failure.value.__cause__, UnstableSystemError)  # the CLI reads the cause on every executor


@pytest.mark.skipif(multiprocessing.get_start_method() != "fork", reason="the patch reaches workers only by fork")
def test_a_worker_that_dies_is_reported_not_waited_for(small: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    real = executors.run_replication

    def dies_on_one(plan: Plan, replication: int) -> list[WorldResult]:
        if replication == 1:
            os._exit(3)
        return real(plan, replication)

    monkeypatch.setattr(executors, "run_replication", dies_on_one)
    with pytest.raises(ReplicationFailed, match=rf"replication \d+ \(seed {small.run.seed}\) did not finish"):
        execute(make_plan(small, 4), "processes", workers=2, progress=False)


@pytest.mark.skipif(multiprocessing.get_start_method() != "fork", reason="the patch reaches workers only by fork")
def test_a_worker_stops_on_sigterm_and_never_walks_what_it_inherited_again(small: Scenario,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def reports(plan: Plan, replication: int) -> list[WorldResult]:
        stops = signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
        raise ReplicationFailed(f"stops on SIGTERM: {stops}; frozen: {gc.get_freeze_count()}")

    monkeypatch.setattr(executors, "run_replication", reports)
    with pytest.raises(ReplicationFailed, match=r"stops on SIGTERM: True; frozen: (\d+)") as failure:
        execute(make_plan(small, 2), "processes", workers=2, progress=False)
    assert int(re.search(r"frozen: (\d+)", str(failure.value))[1]) > 10_000  # modules, the schema: all inherited


def _peak(plan: Plan) -> int:
    tracemalloc.reset_peak()
    execute(plan, "serial", progress=False)
    return tracemalloc.get_traced_memory()[1]


@pytest.mark.slow
def test_memory_does_not_grow_with_replications(small: Scenario) -> None:
    tracemalloc.start()
    try:
        few, many = (_peak(Plan(small, {BASELINE: ()}, n, ())) for n in (4, 16))
    finally:
        tracemalloc.stop()
    assert many < 1.5 * few


COUNTS = re.compile(r"(capacity|beds|cubicles|initial_occupancy|initial_queue|appointments_per_week(end_)?day|"
                    r"assessments_per_week(end_)?day|packages_per_week|admissions_per_year|referrals_from_home_per_year)$")


def test_a_scaled_scenario_multiplies_every_count_of_places_and_starts(skc: Scenario, monkeypatch) -> None:
    """The scaling benchmarks need the same system, bigger: a count left as it was becomes a bottleneck."""
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.suite import scaled

    def counts(data: object, path: str = "") -> dict[str, float]:
        if isinstance(data, dict):
            return {k: v for key, value in data.items() for k, v in counts(value, f"{path}.{key}").items()}
        number = isinstance(data, int | float) and not isinstance(data, bool)
        return {path: data} if number and COUNTS.search(path) else {}

    sections = ("services", "discharge")
    before = counts({key: skc.model_dump()[key] for key in sections})
    after = counts({key: scaled(skc, 4).model_dump()[key] for key in sections})
    assert len(before) > 20 and ".discharge.assessments_per_weekday" in before
    for path, value in before.items():
        assert after[path] == pytest.approx(4 * value, abs=1), path


def test_the_floor_at_skc_scales_the_heapq_loop_to_the_attendances_asked(monkeypatch) -> None:
    """The targets are judged against the heapq loop taken to SKC's A&E attendances: twice the small network's
    arrivals, with twice its places, is about twice its patient events (the same occupancy, so no more queueing)."""
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.network import load_network
    from benchmarks.reference_heapq import run
    from benchmarks.suite import DAYS_PER_YEAR, _floor_row

    _scenario, net = load_network()
    small = run(net, 0).patient_events
    row, per_year = _floor_row(2 * net.arrivals_per_day * DAYS_PER_YEAR, one=1.0, repeats=1)
    events = int(row[4].replace(",", ""))
    assert events == pytest.approx(2 * small, rel=0.05)
    assert f"{2 * net.arrivals_per_day * DAYS_PER_YEAR:,.0f} A&E attendances" in row[0]
    assert per_year > 0 and row[6] == f"{per_year:.2f}"


@pytest.mark.slow
def test_quick_benchmarks_run_and_print_every_row() -> None:
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--quick"], cwd=ROOT, capture_output=True,
                          text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    for row in ("heapq (hand-written loop)", "SimPy (idiomatic processes)", "caresim engine",
                "SKC experiment, 2 replications", "SKC experiment, 4 replications",
                "SKC ×1, baseline world", "SKC ×4, baseline world", "SKC ×8, baseline world",
                "heapq loop, A&E → ward → step-down at SKC's",
                "SKC ×1, baseline + mix", "Kent-sized, baseline + mix",
                "Targets", "caresim ≥ 3× as fast as SimPy", "caresim within 2× of heapq", "SKC world-year ≤ 10×",
                "1,000 paired draws", "Kent-sized baseline + mix replication-year ≤ 8 CPU s", "peak memory < 1 GB",
                "cost linear in population"):
        assert row in done.stdout, row
